import KubeAPI
import Logging
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport
import Values

/// The proxy's sync loop against an in-memory kernel: when a sync is full or partial, what a failed apply
/// does to the next one, and which UDP conntrack entries are deleted.
@Suite struct ProxySyncerTests {
    static let logger: Logger = { var l = Logger(label: "syncer-test"); l.logLevel = .critical; return l }()
    static let node = NodeInfo(name: "node-a", nodeIPs: [IPAddress("192.168.0.10")].compactMap { $0 })
    static let config = ProxyConfig(families: [.ip], clusterCIDRs: [CIDR("10.244.0.0/16")].compactMap { $0 },
                                    serviceCIDRs: [CIDR("10.96.0.0/16")].compactMap { $0 })

    static func service(_ name: String, ip: String, protocol proto: ServiceProtocol = .tcp, port: Int = 80) -> Service {
        Service(metadata: ObjectMeta(name: name, namespace: "default"),
                spec: ServiceSpec(ports: [ServicePort(name: "p", protocol: proto, port: port, targetPort: .int(8080))],
                                  clusterIP: ip, clusterIPs: [ip]))
    }

    static func slice(_ service: String, _ ips: [String], protocol proto: ServiceProtocol = .tcp) -> EndpointSlice {
        EndpointSlice(metadata: ObjectMeta(name: "\(service)-1", namespace: "default", labels: [EndpointSlice.serviceNameLabel: service]),
                      addressType: .ipv4, endpoints: ips.map { Endpoint(addresses: [$0], conditions: EndpointConditions(ready: true), nodeName: "node-a") },
                      ports: [EndpointPort(name: "p", protocol: proto, port: 8080)])
    }

    func makeSyncer(_ target: FakeRulesetTarget, _ conntrack: FakeConntrack? = nil) -> ProxySyncer {
        ProxySyncer(config: Self.config, node: Self.node, target: target, conntrack: conntrack, logger: Self.logger)
    }

    @Test func firstSyncIsFullLaterOnesPartialAndTheKernelMatchesTheCompile() async throws {
        let target = FakeRulesetTarget()
        let syncer = makeSyncer(target)
        await syncer.setService(Self.service("web", ip: "10.96.0.10"), key: "default/web")
        await syncer.setSlice(Self.slice("web", ["10.244.1.2"]), key: "default/web-1")
        let first = await syncer.sync(full: false)
        #expect(first.error == nil && first.full, "nothing applied yet: full whatever was asked")
        #expect(target.existingCalls == 1, "a full sync reads what the kernel holds")
        #expect(target.kernel == first.ruleset, "the kernel holds exactly the compiled ruleset")

        await syncer.setSlice(Self.slice("web", ["10.244.1.2", "10.244.2.2"]), key: "default/web-1")
        let second = await syncer.sync(full: false)
        #expect(second.error == nil && !second.full)
        #expect(target.existingCalls == 1, "a partial sync does not read the kernel")
        #expect(target.kernel == second.ruleset)
        #expect(second.operations > 0 && second.operations < first.operations, "only what changed: \(second.operations) of \(first.operations)")

        let idle = await syncer.sync(full: false)
        #expect(idle.operations == 0 && target.applied.count == 2, "nothing changed: nothing applied")
        let periodic = await syncer.sync(full: true)
        #expect(periodic.full && target.existingCalls == 2 && target.kernel == periodic.ruleset)
    }

    /// Events change Services and slices one at a time; the syncer rebuilds only the touched Services, yet
    /// its state always equals one built from every object, and the kernel (fed partial syncs only) holds
    /// exactly what was compiled.
    @Test func incrementalStateEqualsOneBuiltFromEverything() async throws {
        var rng = SeededGenerator.forTest("incrementalStateEqualsOneBuiltFromEverything")
        let target = FakeRulesetTarget()
        let syncer = makeSyncer(target)
        var services: [String: Service] = [:]
        var slices: [String: EndpointSlice] = [:]
        for round in 0..<200 {
            let n = Int.random(in: 0..<6, using: &rng)
            let name = "s\(n)"
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                let svc = Self.service(name, ip: "10.96.0.\(10 + n)", protocol: Bool.random(using: &rng) ? .tcp : .udp)
                services["default/" + name] = svc
                await syncer.setService(svc, key: "default/" + name)
            case 1:
                services["default/" + name] = nil
                await syncer.setService(nil, key: "default/" + name)
            case 2:
                let ips = (0..<Int.random(in: 0..<2, using: &rng)).map { _ in "10.244.\(n).\(Int.random(in: 1..<40, using: &rng))" }
                var slice = Self.slice(name, ips)
                let key = "default/\(name)-1"
                slice.metadata.name = String(key.dropFirst("default/".count))
                slices[key] = slice
                await syncer.setSlice(slice, key: key)
            default:
                let key = "default/\(name)-1"
                slices[key] = nil
                await syncer.setSlice(nil, key: key)
            }
            // The health servers read the state between syncs; what that refresh saw must still reach the kernel.
            if Bool.random(using: &rng) { _ = await syncer.state }
            let result = await syncer.sync(full: false)
            #expect(result.error == nil)
            let expected = ProxyState(services: Array(services.values), endpointSlices: Array(slices.values))
            #expect(await syncer.state == expected, "round \(round)")
            #expect(target.kernel.nftText() == result.ruleset?.nftText(), "round \(round)")
            // And what was compiled is what a compile from scratch makes of that state (slot order aside:
            // at most one endpoint per Service here).
            let fresh = RulesetCompiler(config: Self.config, node: Self.node).compile(expected)
            #expect(target.kernel.nftText() == fresh.nftText(), "round \(round)")
        }
        #expect(target.existingCalls == 1, "one full sync, then partial ones only")
    }

    @Test func aFailedApplyMakesTheNextSyncFull() async throws {
        let target = FakeRulesetTarget()
        let syncer = makeSyncer(target)
        await syncer.setService(Self.service("web", ip: "10.96.0.10"), key: "default/web")
        _ = await syncer.sync(full: true)
        await syncer.setSlice(Self.slice("web", ["10.244.1.2"]), key: "default/web-1")
        target.failNextApply()
        let failed = await syncer.sync(full: false)
        #expect(failed.error != nil && failed.ruleset == nil)
        let retry = await syncer.sync(full: false)
        #expect(retry.error == nil && retry.full, "the kernel's state is unknown after a failure: the retry is full")
        #expect(target.kernel == retry.ruleset)
    }

    @Test func udpConntrackIsClearedForRemovedEndpointsAndForServicesThatGainEndpoints() async throws {
        let target = FakeRulesetTarget()
        let conntrack = FakeConntrack()
        let syncer = makeSyncer(target, conntrack)
        await syncer.setService(Self.service("dns", ip: "10.96.0.53", protocol: .udp, port: 53), key: "default/dns")
        await syncer.setService(Self.service("web", ip: "10.96.0.10"), key: "default/web")
        await syncer.setSlice(Self.slice("web", ["10.244.1.2", "10.244.1.3"]), key: "default/web-1")
        _ = await syncer.sync(full: true)
        #expect(conntrack.calls.isEmpty, "no UDP Service had endpoints, none gained any")

        // The UDP Service goes from no endpoints (rejected) to two: flows to its address are stale.
        await syncer.setSlice(Self.slice("dns", ["10.244.1.5", "10.244.1.6"], protocol: .udp), key: "default/dns-1")
        _ = await syncer.sync(full: false)
        #expect(conntrack.calls == [.service("10.96.0.53", 53)])
        conntrack.reset()

        // One UDP endpoint goes: flows DNATed to it are deleted. A TCP endpoint going deletes nothing.
        await syncer.setSlice(Self.slice("dns", ["10.244.1.6"], protocol: .udp), key: "default/dns-1")
        await syncer.setSlice(Self.slice("web", ["10.244.1.2"]), key: "default/web-1")
        _ = await syncer.sync(full: false)
        #expect(conntrack.calls == [.endpoint("10.244.1.5", 8080)])
    }
}
