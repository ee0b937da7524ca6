import ClusterUp
import Testing

@Suite struct UpPlanTests {
    @Test func namesAddressesAndFilesFollowTheRunAndTheStateDir() throws {
        let plan = try UpPlan(runID: "ab12", stateDir: "/var/lib/kproxy/up/", nodes: 3, proxyMode: .userspace)
        #expect(plan.stateDir == "/var/lib/kproxy/up")
        #expect(plan.namespaces == ["kpup-ab12-cp", "kpup-ab12-node-a", "kpup-ab12-node-b", "kpup-ab12-node-c", "kpup-ab12-ext", "kpup-ab12-seg"])
        #expect(plan.nodes.map(\.address.description) == ["192.168.50.11", "192.168.50.12", "192.168.50.13"])
        #expect(Set(plan.members.map(\.address)).count == plan.members.count)
        #expect(Set(plan.members.map(\.segmentPort)).count == plan.members.count)
        #expect(plan.members.allSatisfy { $0.segmentPort.utf8.count <= 15 })  // IFNAMSIZ
        #expect(plan.logFile("node-b/proxy") == "/var/lib/kproxy/up/logs/node-b.proxy.log")
        #expect(plan.pidFile("controlplane") == "/var/lib/kproxy/up/run/controlplane.pid")
        #expect(plan.nodeServer == "https://192.168.50.2:6443")
    }

    @Test func processesStartWithTheControlPlaneAndGiveEachNodeAnAgentAndAProxy() throws {
        let plan = try UpPlan(runID: "z9", stateDir: "/s", nodes: 2, proxyMode: .nftables)
        let processes = plan.processes(kproxy: "/bin/kproxy")
        #expect(processes.map(\.name) == ["controlplane", "node-a/node", "node-a/proxy", "node-b/node", "node-b/proxy"])
        #expect(processes.map(\.netns) == ["kpup-z9-cp", "kpup-z9-node-a", "kpup-z9-node-a", "kpup-z9-node-b", "kpup-z9-node-b"])
        let cp = processes[0].argv
        #expect(Array(cp.prefix(2)) == ["/bin/kproxy", "controlplane"])
        #expect(cp.contains("--advertise-address") && cp.contains("192.168.50.2"))
        let agent = processes[3].argv
        #expect(value(agent, "--node") == "node-b")
        #expect(value(agent, "--node-ip") == "192.168.50.12")
        #expect(value(agent, "--kubeconfig") == "/s/node-kubeconfig")
        #expect(value(agent, "--cni-bin-dir") == "/s/nodes/node-b/cni-bin")
        let proxy = processes[4].argv
        #expect(value(proxy, "--mode") == "nftables")
        #expect(proxy.contains("--node-routes"))
    }

    @Test func theRoutedNetworkGivesEachMemberItsSubnetAndADefaultRouteViaTheRouter() throws {
        let plan = try UpPlan(runID: "r1", stateDir: "/s", nodes: 2, proxyMode: .nftables, network: .vxlan)
        #expect(plan.members.map(\.address.description) == ["192.168.50.2", "192.168.51.11", "192.168.52.12", "192.168.49.100"])
        #expect(plan.members.map { $0.gateway?.description } == ["192.168.50.1", "192.168.51.1", "192.168.52.1", "192.168.49.1"])
        #expect(plan.routes(of: plan.nodes[1]).map(\.dst.description) == ["0.0.0.0/0"])
        let proxy = plan.processes(kproxy: "/k")[2].argv
        #expect(value(proxy, "--node-routes-mode") == "vxlan")
        let shared = try UpPlan(runID: "r1", stateDir: "/s", nodes: 2, proxyMode: .nftables)
        #expect(shared.routes(of: shared.nodes[0]).map(\.dst.description) == ["10.96.0.0/12"] && shared.routes(of: shared.controlPlane).isEmpty)
        #expect(shared.members.allSatisfy { $0.gateway == nil })
    }

    @Test(arguments: [(0, "ab"), (27, "ab"), (2, ""), (2, "AB"), (2, "abcdefghi")])
    func badSettingsAreRefused(nodes: Int, runID: String) {
        #expect(throws: UpError.self) { try UpPlan(runID: runID, stateDir: "/s", nodes: nodes, proxyMode: .nftables) }
    }

    @Test func aRelativeStateDirIsRefused() {
        #expect(throws: UpError.usage("--state-dir must be an absolute path")) {
            try UpPlan(runID: "a1", stateDir: "state", nodes: 2, proxyMode: .nftables)
        }
    }

    private func value(_ argv: [String], _ flag: String) -> String? {
        argv.firstIndex(of: flag).flatMap { argv.indices.contains($0 + 1) ? argv[$0 + 1] : nil }
    }
}
