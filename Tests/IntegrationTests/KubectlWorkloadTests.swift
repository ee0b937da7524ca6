import ControlPlane
import Foundation
import KubeAPI
import Testing
import TestSupport
import Values

/// Deployments as users drive them with the real kubectl: create, rollout status, scale, restart, undo,
/// history, and delete with each cascade. A stand-in kubelet (in process) marks bound pods Running and
/// Ready, so rollouts advance on readiness as they would with node agents.
@Suite(.serialized) struct KubectlWorkloadTests {
    static func readyNode(_ name: String) -> Node {
        var node = Node(metadata: ObjectMeta(name: name))
        var ready = NodeCondition()
        ready.type = .ready; ready.status = .true
        node.status.conditions = [ready]
        return node
    }

    /// Marks every bound, unready pod ready until cancelled; counts the pods per node it saw.
    static func fakeKubelet(_ pods: ResourceRegistry<Pod>) async {
        while !Task.isCancelled {
            for pod in (try? await pods.list(namespace: nil).items) ?? [] where !(pod.spec.nodeName ?? "").isEmpty && !pod.isReady && !pod.isTerminating {
                _ = try? await pods.guaranteedUpdate(namespace: pod.metadata.namespace, name: pod.name, subresource: .status) { current in
                    var copy = current
                    copy.status.phase = .running
                    copy.status.podIP = "10.244.0.9"
                    copy.status.conditions = (copy.status.conditions ?? []).filter { $0.type != .ready }
                        + [PodCondition(type: .ready, status: .true, lastTransitionTime: KubeTime.format(Date()))]
                    return copy
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func createScaleRestartUndoDelete() async throws {
        try await withControlPlane { cp in
            let server = cp.server
            for name in ["node-a", "node-b"] {
                _ = try await server.nodes.create(Self.readyNode(name), namespace: nil)
                // The node IPAM controller may write the node meanwhile (its pod CIDR): update what is there now.
                _ = try await server.nodes.guaranteedUpdate(namespace: nil, name: name, subresource: .status) { current in
                    var copy = current
                    copy.status = Self.readyNode(name).status
                    return copy
                }
            }
            let kubelet = Task { await Self.fakeKubelet(server.pods) }
            defer { kubelet.cancel() }

            var r = try await cp.kubectl("create", "deployment", "web", "--image=python:3", "--replicas=3", "--port=8080", "--",
                                         "python3", "-m", "http.server", "8080")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stderr.contains("unknown field"), "\(r.stderr)")
            r = try await cp.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.stdout.contains("successfully rolled out"), "\(r.stdout)\(r.stderr)")

            // The scheduler spread the pods over both nodes (fewest pods first) through pods/binding.
            r = try await cp.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.nodeName}")
            let placed = r.stdout.split(separator: " ").map(String.init)
            #expect(placed.count == 3 && Set(placed) == ["node-a", "node-b"], "\(r.stdout)")
            r = try await cp.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.ownerReferences[0].kind} {.items[0].metadata.labels.pod-template-hash}")
            #expect(r.stdout.hasPrefix("ReplicaSet ") && r.stdout.count > "ReplicaSet ".count, "\(r.stdout)")

            // kubectl scale goes through deployments/scale.
            r = try await cp.kubectl("scale", "deployment", "web", "--replicas=5")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.stdout.contains("successfully rolled out"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}/{.status.updatedReplicas}")
            #expect(r.stdout == "5/5", "\(r.stdout)")

            // A restart is a strategic merge patch of the template: a second ReplicaSet, revision 2.
            r = try await cp.kubectl("rollout", "restart", "deployment", "web")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("rollout", "status", "deployment/web", "--timeout=90s")
            #expect(r.stdout.contains("successfully rolled out"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}")
            #expect(r.stdout.split(separator: " ").sorted() == ["0", "5"], "\(r.stdout)")
            r = try await cp.kubectl("rollout", "history", "deployment", "web")
            #expect(r.stdout.contains("1 ") && r.stdout.contains("2 "), "\(r.stdout)")

            // Undo makes the first ReplicaSet current again, as revision 3.
            r = try await cp.kubectl("rollout", "undo", "deployment", "web")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("rollout", "status", "deployment/web", "--timeout=90s")
            #expect(r.stdout.contains("successfully rolled out"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("get", "deployment", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}")
            #expect(r.stdout == "3", "\(r.stdout)")

            // Paused: a template change waits, a scale still applies (to the current ReplicaSet); resumed, it rolls out.
            r = try await cp.kubectl("rollout", "pause", "deployment/web")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("set", "image", "deployment/web", "python=python:3.12")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("scale", "deployment", "web", "--replicas=4")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try await waitUntil(within: .seconds(20)) {
                try await cp.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}")
                    .stdout.split(separator: " ").sorted() == ["0", "4"]
            }, "scaled while paused, no new ReplicaSet")
            r = try await cp.kubectl("rollout", "resume", "deployment/web")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("rollout", "status", "deployment/web", "--timeout=90s")
            #expect(r.stdout.contains("successfully rolled out"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={range .items[*]}{.spec.replicas}{\" \"}{end}")
            #expect(r.stdout.split(separator: " ").sorted() == ["0", "0", "4"], "\(r.stdout)")

            // Orphan keeps the ReplicaSets and pods; background (the default) removes them.
            r = try await cp.kubectl("delete", "deployment", "web", "--cascade=orphan")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("get", "rs", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.ownerReferences}")
            #expect(r.status == 0 && r.stdout.isEmpty, "orphans keep no owner: \(r.stdout)")
            r = try await cp.kubectl("get", "rs", "-l", "app=web", "-o", "name")
            #expect(r.stdout.split(separator: "\n").count == 3)

            r = try await cp.kubectl("create", "deployment", "gone", "--image=x", "--replicas=2")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try await waitUntil(within: .seconds(20)) {
                try await cp.kubectl("get", "pods", "-l", "app=gone", "-o", "name").stdout.split(separator: "\n").count == 2
            })
            r = try await cp.kubectl("delete", "deployment", "gone")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try await waitUntil(within: .seconds(20)) {
                try await cp.kubectl("get", "rs", "-l", "app=gone", "-o", "name").stdout.isEmpty
            })
            // Its pods are deleted gracefully: terminating first (no kubelet here removes them sooner).
            #expect(try await waitUntil(within: .seconds(20)) {
                let pods = try await server.pods.list(namespace: "default").items.filter { $0.metadata.labels?["app"] == "gone" }
                return pods.allSatisfy(\.isTerminating)
            })
        }
    }
}
