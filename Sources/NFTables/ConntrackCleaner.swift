import CNftnl
import KubeAPI
import Values
#if canImport(Glibc)
import Glibc
#endif

/// One connection-tracking entry's original direction and the source of its reply direction (the endpoint
/// a DNATed flow really talks to).
public struct ConntrackEntry: Hashable, Sendable {
    public var proto: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The reply direction's source: the endpoint after DNAT, else `destination`.
    public var replySource: IPAddress
}

/// Which entries to delete; nil fields match anything.
public struct ConntrackFilter: Hashable, Sendable {
    public var proto: UInt8
    public var originalDestination: IPAddress?
    public var originalDestinationPort: UInt16?
    public var replySource: IPAddress?

    /// Defaults to UDP, the protocol kube-proxy cleans up (TCP and SCTP recover on their own).
    public init(proto: UInt8 = 17, originalDestination: IPAddress? = nil, originalDestinationPort: UInt16? = nil,
                replySource: IPAddress? = nil) {
        self.proto = proto
        self.originalDestination = originalDestination
        self.originalDestinationPort = originalDestinationPort
        self.replySource = replySource
    }

    /// Flows to a service IP (and port) that was DNATed to `endpoint`: stale once the endpoint is gone.
    public static func udpToEndpoint(service: IPAddress, port: UInt16? = nil, endpoint: IPAddress) -> ConntrackFilter {
        ConntrackFilter(originalDestination: service, originalDestinationPort: port, replySource: endpoint)
    }

    /// Every UDP flow to a service IP (a service that gained endpoints after rejecting traffic).
    public static func udpToService(_ service: IPAddress, port: UInt16? = nil) -> ConntrackFilter {
        ConntrackFilter(originalDestination: service, originalDestinationPort: port)
    }

    func matches(_ entry: ConntrackEntry) -> Bool {
        entry.proto == proto
            && originalDestination.map { $0 == entry.destination } ?? true
            && originalDestinationPort.map { $0 == entry.destinationPort } ?? true
            && replySource.map { $0 == entry.replySource } ?? true
    }
}

/// Deletes conntrack entries through ctnetlink (`NETLINK_NETFILTER`, subsystem `CTNETLINK`), not the
/// `conntrack` binary: one dump per family, then one delete message per matching entry, sent together.
public final class ConntrackCleaner {
    let socket: NetfilterSocket

    /// Opens a netfilter socket in `namespace`.
    public init(namespace: NetnsReference = .current) throws {
        socket = try NetfilterSocket(namespace: namespace)
    }

    /// Conntrack entries of one IP family.
    public func entries(family: IPAddress.Family) throws -> [ConntrackEntry] {
        let protocolFamily = family == .ipv4 ? UInt8(AF_INET) : UInt8(AF_INET6)
        var result: [ConntrackEntry] = []
        try socket.dump({ buffer, sequence in
            Conntrack.header(buffer, type: Conntrack.get, flags: UInt16(NLM_F_REQUEST | NLM_F_DUMP), family: protocolFamily,
                             sequence: sequence)
        }, operation: "dump conntrack") { header in
            if let entry = Conntrack.decode(header) { result.append(entry) }
        }
        return result
    }

    /// Deletes entries matching any filter in both families; returns how many the kernel deleted.
    @discardableResult
    public func delete(matching filters: [ConntrackFilter]) throws -> Int {
        guard !filters.isEmpty else { return 0 }
        var victims: [ConntrackEntry] = []
        for family in [IPAddress.Family.ipv4, .ipv6] {
            victims += try entries(family: family).filter { entry in filters.contains { $0.matches(entry) } }
        }
        return try delete(victims)
    }

    /// Deletes the given entries (by original tuple). Entries already gone are not errors.
    @discardableResult
    public func delete(_ entries: [ConntrackEntry]) throws -> Int {
        var deleted = 0
        // Netlink messages of one sendto are processed in order; chunks keep the buffer small.
        var index = 0
        while index < entries.count {
            let chunk = entries[index..<min(index + 256, entries.count)]
            index += chunk.count
            deleted += try socket.sendRequests(chunk.map { entry in
                { buffer, sequence in Conntrack.deleteMessage(buffer, entry, sequence: sequence) }
            }, operation: "delete conntrack entry", ignoring: [ENOENT])
        }
        return deleted
    }
}
