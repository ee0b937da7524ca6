import ControlPlane
import Foundation
import Testing
import TestSupport
import Values

/// The real kubectl on this machine against the embedded control plane, as a user would drive it.
@Suite(.serialized) struct KubectlTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../hack/examples/demo.yaml").standardized.path

    @Test func applyGetDescribePatchDelete() async throws {
        try await withControlPlane { cp in

            // apply creates, a second apply changes nothing
            var r = try await cp.kubectl("apply", "-f", Self.demo)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("service/web created"))
            r = try await cp.kubectl("apply", "-f", Self.demo)
            #expect(r.stdout.contains("service/web unchanged"), "\(r.stdout)\(r.stderr)")

            // get -o json: allocated ClusterIP in the service CIDR, defaults filled in
            r = try await cp.kubectl("-n", "demo", "get", "svc", "web", "-o", "json")
            let svc = json(r.stdout)
            let spec = svc["spec"] as? [String: Any] ?? [:]
            let clusterIP = spec["clusterIP"] as? String ?? ""
            #expect(clusterIP.hasPrefix("10.9") || clusterIP.hasPrefix("10.10") || clusterIP.hasPrefix("10.11"), "clusterIP \(clusterIP)")
            #expect(spec["sessionAffinity"] as? String == "None")
            #expect((svc["metadata"] as? [String: Any])?["uid"] is String)

            // NodePort allocated in range
            r = try await cp.kubectl("-n", "demo", "get", "svc", "web-nodeport", "-o", "jsonpath={.spec.ports[0].nodePort}")
            let nodePort = Int(r.stdout) ?? 0
            #expect((30000...32767).contains(nodePort))

            // table output with upstream's columns
            r = try await cp.kubectl("-n", "demo", "get", "svc")
            let header = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
            #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"])
            #expect(r.stdout.contains("80:\(nodePort)/TCP"))
            #expect(r.stdout.contains("None"))

            // the node gets a pod CIDR; pods report ready; slices follow
            #expect(try await waitUntil(within: .seconds(10)) { try await cp.kubectl("get", "node", "node-a", "-o", "jsonpath={.spec.podCIDR}").stdout.hasPrefix("10.244.") })
            for (pod, ip) in [("web-1", "10.244.0.10"), ("web-2", "10.244.0.11")] {
                r = try await cp.kubectl("-n", "demo", "patch", "pod", pod, "--subresource=status", "--type=merge", "-p",
                                   #"{"status":{"phase":"Running","podIP":"\#(ip)","podIPs":[{"ip":"\#(ip)"}],"conditions":[{"type":"Ready","status":"True"}]}}"#)
                #expect(r.status == 0, "\(r.stderr)")
            }
            #expect(try await waitUntil(within: .seconds(10)) {
                try await cp.kubectl("-n", "demo", "describe", "svc", "web").stdout.contains("10.244.0.10:8080,10.244.0.11:8080")
            })
            // core/v1 Endpoints are mirrored from the slices, as upstream's controller keeps them
            #expect(try await waitUntil(within: .seconds(10)) {
                try await cp.kubectl("-n", "demo", "get", "endpoints", "web").stdout.contains("10.244.0.10:8080,10.244.0.11:8080")
            })
            r = try await cp.kubectl("-n", "demo", "get", "ep", "web", "-o", "jsonpath={.subsets[0].addresses[*].targetRef.name}")
            #expect(r.stdout == "web-1 web-2", "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("-n", "demo", "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json")
            let slices = json(r.stdout)["items"] as? [[String: Any]] ?? []
            #expect(slices.count == 1)
            #expect((slices.first?["metadata"] as? [String: Any])?["ownerReferences"] != nil)

            // status subresource: status changes, spec untouched
            r = try await cp.kubectl("-n", "demo", "patch", "svc", "web", "--subresource=status", "--type=merge", "-p",
                               #"{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.7"}]}},"spec":{"clusterIP":"10.96.0.99"}}"#)
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("-n", "demo", "get", "svc", "web", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip} {.spec.clusterIP}")
            #expect(r.stdout == "192.0.2.7 \(clusterIP)")

            // validation errors come back as 422 with field causes
            r = try await cp.kubectl("-n", "demo", "create", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"bad"},"spec":{"ports":[{"port":70000}]}}"#)
            #expect(r.status != 0)
            #expect(r.stderr.contains("spec.ports[0].port"), "\(r.stderr)")

            // delete: the Service and its slices go
            r = try await cp.kubectl("-n", "demo", "delete", "svc", "web")
            #expect(r.stdout.contains("service \"web\" deleted"), "\(r.stdout)\(r.stderr)")
            #expect(try await cp.kubectl("-n", "demo", "get", "svc", "web").status != 0)
            #expect(try await waitUntil(within: .seconds(10)) {
                try await cp.kubectl("-n", "demo", "get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name").stdout.isEmpty
            })
            #expect(try await waitUntil(within: .seconds(10)) { try await cp.kubectl("-n", "demo", "get", "endpoints", "web").status != 0 }, "Endpoints go with the Service")

            // a deleted pod bound to a node terminates gracefully: Terminating first, gone after the grace period
            // (5 s of grace, so a slow kubectl start on a loaded machine still sees the Terminating state)
            r = try await cp.kubectl("-n", "demo", "delete", "pod", "web-1", "--wait=false", "--grace-period=5")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try await cp.kubectl("-n", "demo", "get", "pod", "web-1").stdout.contains("Terminating"))
            #expect(try await waitUntil(within: .seconds(20)) { try await cp.kubectl("-n", "demo", "get", "pod", "web-1").status != 0 })

            // deleting the namespace removes everything in it
            r = try await cp.kubectl("delete", "namespace", "demo", "--timeout=20s")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try await cp.kubectl("get", "namespace", "demo").status != 0)
            #expect(try await cp.kubectl("get", "svc", "-A", "-o", "name").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "service/kubernetes")
        }
    }

    @Test func watchStreamsChanges() async throws {
        try await withControlPlane { cp in
            _ = try await cp.kubectl("apply", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"w"}}"#)
            let watchersBefore = cp.server.store.watcherCount()
            let watcher = Task {
                try await cp.kubectl("-n", "w", "get", "svc", "-w", "--output-watch-events", "-o", "custom-columns=EVENT:.type,NAME:.object.metadata.name,PORT:.object.spec.ports[0].port",
                               "--request-timeout=6s")
            }
            // Changes start once kubectl's watch is open in the store; the request timeout bounds the test.
            #expect(await waitUntil(within: .seconds(10)) { cp.server.store.watcherCount() > watchersBefore }, "kubectl's watch open")
            let created = try await cp.kubectl("-n", "w", "apply", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"a"},"spec":{"ports":[{"port":80,"targetPort":8080}]}}"#)
            #expect(created.status == 0, "\(created.stderr)")
            _ = try await cp.kubectl("-n", "w", "patch", "svc", "a", "--type=json", "-p", #"[{"op":"replace","path":"/spec/ports/0/port","value":81}]"#)
            _ = try await cp.kubectl("-n", "w", "delete", "svc", "a")
            let out = try await watcher.value.stdout
            let lines = out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(lines.contains(["ADDED", "a", "80"]), "\(out)")
            #expect(lines.contains(["MODIFIED", "a", "81"]), "\(out)")
            #expect(lines.contains(["DELETED", "a", "81"]), "\(out)")
        }
    }

    /// `kubectl get all` lists the kinds in the `all` discovery category (pods and services here).
    @Test func getAllListsPodsAndServices() async throws {
        try await withControlPlane { cp in
            let r = try await cp.kubectl("get", "all", "-n", "default", "-o", "name")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("service/kubernetes"), "\(r.stdout)\(r.stderr)")
            _ = try await cp.kubectl("apply", "-f", Self.demo)
            let demo = try await cp.kubectl("get", "all", "-n", "demo")
            #expect(demo.status == 0, "\(demo.stderr)")
            #expect(demo.stdout.contains("pod/web-1") && demo.stdout.contains("service/web "), "\(demo.stdout)")
        }
    }

    /// `kubectl auth can-i`, `can-i --list` and `whoami`: the token is the administrator's.
    @Test func authCanIAndWhoami() async throws {
        try await withControlPlane { cp in
            var r = try await cp.kubectl("auth", "can-i", "create", "pods", "-n", "default")
            #expect(r.status == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "yes", "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("auth", "can-i", "get", "/healthz")
            #expect(r.status == 0 && r.stdout.contains("yes"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("auth", "can-i", "--list")
            #expect(r.status == 0 && r.stdout.contains("*.*"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
            #expect(r.status == 0 && r.stdout == "kproxy-admin", "\(r.stdout)\(r.stderr)")
            // A review without attributes is invalid, as upstream says.
            r = try await cp.kubectl("create", "--raw", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "-f", "-",
                                     stdin: #"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{}}"#)
            #expect(r.status != 0 && r.stderr.contains("exactly one of nonResourceAttributes or resourceAttributes"), "\(r.stderr)")
        }
    }

    /// kubectl's typed subcommands send protobuf bodies.
    @Test func typedCreateSubcommandsSendProtobuf() async throws {
        try await withControlPlane { cp in
            var r = try await cp.kubectl("create", "namespace", "typed")
            #expect(r.status == 0 && r.stdout.contains("namespace/typed created"), "\(r.stdout)\(r.stderr)")
            r = try await cp.kubectl("-n", "typed", "create", "service", "nodeport", "np", "--tcp=80:8080")
            #expect(r.status == 0, "\(r.stderr)")
            r = try await cp.kubectl("-n", "typed", "get", "svc", "np", "-o", "jsonpath={.spec.type} {.spec.ports[0].targetPort} {.spec.selector.app}")
            #expect(r.stdout == "NodePort 8080 np", "\(r.stdout) \(r.stderr)")
        }
    }
}
