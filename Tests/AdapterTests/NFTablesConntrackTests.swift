import Foundation
import KubeAPI
import NFTables
import ProxyCore
import Testing
import Values

/// Stale UDP conntrack cleanup through ctnetlink, in test namespaces.
@Suite("NFTables conntrack", .enabled(if: NetnsSupport.isAvailable, "needs root and ip"), .serialized)
struct NFTablesConntrackTests {
    static func dnsState() -> ProxyState {
        let dns = ServicePort(name: "dns", protocol: .udp, port: 53, targetPort: 5353)
        return ProxyState(services: [NFTablesApplierTests.service("dns", ["10.96.0.53"], [dns])],
                          endpointSlices: [NFTablesApplierTests.slice("dns", "1", port: 5353, protocol: .udp, name: "dns",
                                                                      addresses: [NFTablesTrafficTests.podIP])])
    }

    @Test func deletesUDPEntriesDNATedToARemovedEndpoint() throws {
        let node = try TestNetns("ct")
        defer { node.destroy() }
        let pod = try VethPod.create(host: node, hostAddress: NFTablesTrafficTests.hostIP,
                                     podAddress: NFTablesTrafficTests.podIP, prefix: 24)
        defer { pod.pod.destroy() }
        try node.exec(["ip", "route", "add", "10.96.0.0/16", "dev", pod.hostInterface])
        try NetlinkRulesetApplier(namespace: .named(node.name)).applyFull(NFTablesApplierTests.compile(Self.dnsState()))

        // One UDP datagram to the service creates a DNATed conntrack entry (no server needed).
        try node.exec(["/usr/bin/python3", "-c",
                       "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('10.96.0.53', 53))"])
        let cleaner = try ConntrackCleaner(namespace: .named(node.name))
        let service = try #require(IPAddress("10.96.0.53"))
        let endpoint = try #require(IPAddress(NFTablesTrafficTests.podIP))
        let entries = try cleaner.entries(family: .ipv4).filter { $0.destination == service }
        #expect(entries.count == 1)
        #expect(entries.first?.replySource == endpoint)
        #expect(entries.first?.destinationPort == 53)

        // A filter for another endpoint deletes nothing; the right one deletes the entry.
        let other = try #require(IPAddress("10.244.9.9"))
        #expect(try cleaner.delete(matching: [.udpToEndpoint(service: service, endpoint: other)]) == 0)
        #expect(try cleaner.delete(matching: [.udpToEndpoint(service: service, port: 53, endpoint: endpoint)]) == 1)
        #expect(try cleaner.entries(family: .ipv4).filter { $0.destination == service }.isEmpty)
        // The other namespace's (and the root's) tables are untouched: deleting again finds nothing.
        #expect(try cleaner.delete(matching: [.udpToService(service)]) == 0)
    }
}
