import KubeAPI
import Testing
@testable import ProxyCore

/// Compiling with a cache of per-Service fragments gives exactly what a compile from scratch gives, through
/// changes of endpoints, Services, the configuration and the node; and reuses what did not change.
struct CompileCacheTests {
    typealias F = Fixtures

    @Test func cachedCompilesEqualFreshOnes() throws {
        let cache = CompileCache()
        var c = F.cluster()
        func check(_ note: String, config: ProxyConfig = F.config, node: NodeInfo = F.node) {
            let state = ProxyState(services: c.services, endpointSlices: c.slices)
            let cached = RulesetCompiler(config: config, node: node, cache: cache).compile(state)
            let fresh = RulesetCompiler(config: config, node: node).compile(state)
            #expect(cached == fresh, "\(note)")
            #expect(cached.nftText() == fresh.nftText(), "\(note)")
        }
        check("first compile")
        let fragments = cache.count
        #expect(fragments > 10)
        check("unchanged")
        c.slices.append(F.slice("default", "web", "3", ports: [("http", 8080, .tcp)], endpoints: [F.EP(ip: "10.244.3.5", node: "node-d")]))
        check("an endpoint added")
        c.slices.removeAll { $0.metadata.name == "sticky-1" }
        check("a Service lost its endpoints")
        c.services.removeAll { $0.metadata.name == "lb" }
        check("a Service removed")
        #expect(cache.count < fragments, "the removed Service's fragments are dropped")
        check("configuration changed", config: ProxyConfig(clusterCIDRs: [F.cidr("10.244.0.0/16")], masqueradeAll: true))
        check("another node (local endpoints differ)", node: NodeInfo(name: "node-b", nodeIPs: [F.ip("192.168.0.11")]))
        check("back to the first configuration and node")
    }

    @Test func unchangedServicesShareTheirChains() throws {
        let cache = CompileCache()
        let compiler = RulesetCompiler(config: F.config, node: F.node, cache: cache)
        let first = compiler.compile(F.clusterState())
        let second = compiler.compile(F.clusterState())
        // Same fragments: the partial diff is empty, and equal rule arrays are the same storage.
        #expect(RulesetDiff.partialSync(from: first, to: second).isEmpty)
        let a = try #require(first.table(.ip)?.chains.first { $0.name.hasPrefix("service-") && NFTNames.isServiceChain($0.name) })
        let b = try #require(second.table(.ip)?.chains.first { $0.name == a.name })
        #expect(a.rules.withUnsafeBufferPointer { $0.baseAddress } == b.rules.withUnsafeBufferPointer { $0.baseAddress })
    }
}
