import KubeAPI
import Values

/// The first packet of a connection, for `PacketTracer`.
public struct TracePacket: Hashable, Sendable {
    /// Where the packet enters the stack.
    public enum Origin: Hashable, Sendable {
        /// Sent by a process on this node (output hook).
        case local
        /// Received on an interface (prerouting hook): from a pod on this node or from another host.
        case inbound(interface: String)
    }

    public var source: IPAddress
    public var destination: IPAddress
    public var proto: NFTL4Proto
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var origin: Origin
    public var mark: UInt32

    public init(from source: IPAddress, to destination: IPAddress, _ proto: NFTL4Proto = .tcp, port: UInt16,
                sourcePort: UInt16 = 40000, origin: Origin = .inbound(interface: "eth0"), mark: UInt32 = 0) {
        self.source = source; self.destination = destination; self.proto = proto; self.sourcePort = sourcePort
        self.destinationPort = port; self.origin = origin; self.mark = mark
    }
}

/// What happened to the packet on one path through the ruleset (`numgen` makes several paths).
public struct TraceOutcome: Hashable, Sendable {
    public enum Verdict: Hashable, Sendable {
        case accept
        case drop
        case reject(NFTRejectKind)
    }

    public var verdict: Verdict
    /// The DNAT destination (`ip:port`, `[ip]:port` for IPv6), if the packet was DNATed.
    public var dnat: String?
    /// Whether the packet was masqueraded in postrouting.
    public var masquerade: Bool
    /// Affinity (dynamic) sets the packet's source was added to.
    public var updatedSets: [String]
    /// Regular chains entered, in order.
    public var chains: [String]
    /// The listener port the packet was handed to by `tproxy` (userspace mode), if any.
    public var listenerPort: UInt16? = nil
}

/// Every path of one packet.
public struct TraceResult: Hashable, Sendable {
    public var outcomes: [TraceOutcome]

    /// DNAT destinations over all paths.
    public var endpoints: Set<String> { Set(outcomes.compactMap(\.dnat)) }
    /// Listener ports the packet was handed to, over all paths (userspace mode).
    public var listenerPorts: Set<UInt16> { Set(outcomes.compactMap(\.listenerPort)) }
    /// The verdicts over all paths.
    public var verdicts: Set<TraceOutcome.Verdict> { Set(outcomes.map(\.verdict)) }
    /// Accepted without DNAT on every path (the ruleset let it through untouched).
    public var isUntouched: Bool { outcomes.allSatisfy { $0.verdict == .accept && $0.dnat == nil && $0.listenerPort == nil && !$0.masquerade } }
    /// Rejected on every path.
    public var isRejected: Bool { outcomes.allSatisfy { if case .reject = $0.verdict { true } else { false } } }
    /// Dropped on every path.
    public var isDropped: Bool { outcomes.allSatisfy { $0.verdict == .drop } }
    /// Masqueraded on every path.
    public var isMasqueraded: Bool { !outcomes.isEmpty && outcomes.allSatisfy(\.masquerade) }
    /// Masqueraded on no path.
    public var isNeverMasqueraded: Bool { outcomes.allSatisfy { !$0.masquerade } }
}

/// An interpreter of the ruleset model: runs a packet through the base chains of each hook it crosses, in
/// priority order, evaluating the rules' expressions (matches, set and map lookups, verdict maps, numgen,
/// jump/goto/return, marks, fib, NAT). Tests use it to check behaviour, not rule shapes.
public struct PacketTracer {
    public let table: NFTTable
    /// Whether an address is assigned to this node (for `fib … type local` and routing to input vs forward).
    public let isLocalAddress: (IPAddress) -> Bool
    /// Contents of dynamic sets (affinity), by set name.
    public var dynamicSetMembers: [String: Set<IPAddress>]
    /// Userspace mode: a packet carrying any of these mark bits is routed to this host (kproxy's policy
    /// route), and a locally sent packet delivered here loops through prerouting, as it does over `lo`.
    public var localRouteMark: UInt32?
    /// Whether a transparent socket of this host owns the traced flow (`socket transparent 1`): a reply to
    /// one of the userspace mode's source-preserving connections.
    public var transparentSocket = false

    let chains: [String: NFTChain]
    let sets: [String: NFTSet]

    public init(table: NFTTable, isLocalAddress: @escaping (IPAddress) -> Bool, dynamicSetMembers: [String: Set<IPAddress>] = [:],
                localRouteMark: UInt32? = nil) {
        self.table = table; self.isLocalAddress = isLocalAddress; self.dynamicSetMembers = dynamicSetMembers
        self.localRouteMark = localRouteMark
        chains = Dictionary(table.chains.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        sets = Dictionary(table.sets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Traces `packet` through the table of its family in `ruleset` (an untouched accept when there is none).
    public static func trace(_ packet: TracePacket, in ruleset: NFTRuleset, isLocalAddress: @escaping (IPAddress) -> Bool,
                             dynamicSetMembers: [String: Set<IPAddress>] = [:], localRouteMark: UInt32? = nil) -> TraceResult {
        guard let table = ruleset.table(NFTFamily(packet.destination.family)) else {
            return TraceResult(outcomes: [TraceOutcome(verdict: .accept, masquerade: false, updatedSets: [], chains: [])])
        }
        return PacketTracer(table: table, isLocalAddress: isLocalAddress, dynamicSetMembers: dynamicSetMembers,
                            localRouteMark: localRouteMark).trace(packet)
    }

    /// Runs the packet through prerouting → input/forward (→ postrouting), or output → postrouting (→ input).
    public func trace(_ packet: TracePacket) -> TraceResult {
        var states = [PacketState(packet)]
        var done: [PacketState] = []
        let first: [NFTBaseChain.Hook] = packet.origin == .local ? [.output] : [.prerouting]
        states = runHooks(first, states, &done)
        var routed: [PacketState] = []
        for s in states {
            let local = routesHere(s)
            if packet.origin == .local && local && localRouteMark != nil {
                var looped = runHooks([.postrouting], [s], &done)
                for i in looped.indices { looped[i].iifname = "lo" }
                for p in runHooks([.prerouting], looped, &done) {
                    routed += runHooks(routesHere(p) ? [.input] : [.forward, .postrouting], [p], &done)
                }
                continue
            }
            let hooks: [NFTBaseChain.Hook] = packet.origin == .local
                ? (local ? [.postrouting, .input] : [.postrouting])
                : (local ? [.input] : [.forward, .postrouting])
            routed += runHooks(hooks, [s], &done)
        }
        return TraceResult(outcomes: (done + routed).map(\.outcome))
    }

    /// Whether routing delivers the packet to this host: a local destination, or kproxy's steering mark.
    private func routesHere(_ s: PacketState) -> Bool {
        isLocalAddress(s.dst) || localRouteMark.map { s.mark & $0 != 0 } == true
    }

    private func runHooks(_ hooks: [NFTBaseChain.Hook], _ start: [PacketState], _ done: inout [PacketState]) -> [PacketState] {
        var states = start
        for hook in hooks {
            let bases = table.chains.filter { $0.base?.hook == hook }.sorted { ($0.base?.priority ?? 0) < ($1.base?.priority ?? 0) }
            for chain in bases {
                var next: [PacketState] = []
                for s in states {
                    for (flow, out) in run(chain, from: 0, s, depth: 0) {
                        switch flow {
                        case .final(.drop), .final(.reject):
                            var o = out; o.verdict = flow.verdict; done.append(o)
                        case .final(.accept), .ended:
                            next.append(out)
                        }
                    }
                }
                states = next
            }
        }
        return states
    }
}
