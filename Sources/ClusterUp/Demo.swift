import Foundation
import KubeAPI
import KubeClient
import Logging

/// `kproxy up --demo`: what a user would try first, through the API as kubectl sends it, checked at each
/// step. A Deployment of web servers that name their pod, its Service, a client pod on every node that
/// resolves the Service by name and calls it (so answers cross nodes), and a scale up and down with the
/// endpoints following. Throws at the first step whose outcome is wrong.
public struct Demo: Sendable {
    let cluster: ClusterUp
    let logger: Logger
    let say: @Sendable (String) -> Void

    public init(cluster: ClusterUp, logger: Logger, say: @escaping @Sendable (String) -> Void) {
        self.cluster = cluster; self.logger = logger; self.say = say
    }

    public func run() async throws {
        let plan = cluster.plan
        let client = try KubeClient(config: ClientConfig.load(kubeconfig: plan.kubeconfig), logger: logger)
        defer { Task { try? await client.shutdown() } }
        func post(_ info: ResourceInfo, _ namespace: String?, _ object: [String: Any]) async throws {
            _ = try await client.rawRequest("POST", KubeClient.RequestPath(info: info, namespace: namespace), body: try JSONSerialization.data(withJSONObject: object))
        }
        say("\n==> kubectl create namespace demo; kubectl -n demo create deployment web --replicas=3 --port=8080 -- <web server naming its pod>; kubectl -n demo expose deployment web --port 80 --target-port 8080")
        try await post(Namespace.resourceInfo, nil, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "demo"]])
        let labels = ["app": "web"]
        let server = "mkdir -p /tmp/www-$(hostname) && echo \"hello from $(hostname)\" >/tmp/www-$(hostname)/index.html && exec python3 -m http.server 8080 --directory /tmp/www-$(hostname)"
        try await post(Deployment.resourceInfo, "demo", [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": labels],
            "spec": ["replicas": 3, "selector": ["matchLabels": labels], "template": [
                "metadata": ["labels": labels],
                "spec": ["containers": [[
                    "name": "web", "image": "python", "command": ["sh", "-c", server], "ports": [["containerPort": 8080]],
                    "readinessProbe": ["tcpSocket": ["port": 8080], "periodSeconds": 1],
                ] as [String: Any]]],
            ] as [String: Any]] as [String: Any],
        ])
        try await post(Service.resourceInfo, "demo", [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web"],
            "spec": ["selector": labels, "ports": [["port": 80, "targetPort": 8080, "protocol": "TCP"]]] as [String: Any],
        ])
        try await waitReadyEndpoints(client, 3)
        let pods = try await client.list(Pod.self, namespace: "demo", labelSelector: "app=web").items
        say(pods.map { "    \($0.name)  \($0.status.podIP ?? "-")  \($0.spec.nodeName ?? "-")" }.sorted().joined(separator: "\n"))

        say("\n==> a client pod on each node resolves web by name (the cluster DNS through its resolv.conf) and calls it 6 times")
        for node in plan.nodes {
            try await post(Pod.resourceInfo, "demo", [
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "client-\(node.role)"],
                "spec": ["nodeSelector": ["kubernetes.io/hostname": node.role], "restartPolicy": "Never", "containers": [[
                    "name": "client", "image": "busybox", "command": ["sh", "-c",
                        "getent hosts web; for i in 1 2 3 4 5 6; do curl -s --max-time 2 http://web/ || echo '(failed)'; done; echo done"],
                ] as [String: Any]]] as [String: Any],
            ])
        }
        var answeredBy = Set<String>()
        for node in plan.nodes {
            let name = "client-\(node.role)"
            var log = ""
            try await cluster.poll("\(name) to finish", timeout: .seconds(30)) {
                log = String(decoding: try await client.rawRequest("GET", KubeClient.RequestPath(info: Pod.resourceInfo, namespace: "demo", name: name, subresource: "log")), as: UTF8.self)
                return log.split(separator: "\n").contains("done")
            }
            say("--- kubectl -n demo logs \(name)\n" + log.trimmingCharacters(in: .newlines))
            let answers = log.split(separator: "\n").filter { $0.hasPrefix("hello from web-") }
            guard answers.count == 6 else { throw UpError.failed("\(name): \(answers.count) of 6 requests answered") }
            answeredBy.formUnion(answers.map { String($0.dropFirst("hello from ".count)) })
        }
        let nodesServing = Set(pods.filter { answeredBy.contains($0.name) }.compactMap(\.spec.nodeName))
        say("answered by \(answeredBy.count) pod(s) on \(nodesServing.sorted().joined(separator: ", "))")

        for replicas in [5, 3] {
            say("\n==> kubectl -n demo scale deployment web --replicas=\(replicas): the endpoints follow")
            _ = try await client.patch(Deployment.self, name: "web", namespace: "demo", patchType: .merge,
                                       body: .object(["spec": .object(["replicas": .int(Int64(replicas))])]))
            try await waitReadyEndpoints(client, replicas)
        }
    }

    private func waitReadyEndpoints(_ client: KubeClient, _ count: Int) async throws {
        var last = 0
        try await cluster.poll("\(count) ready endpoints of demo/web", timeout: .seconds(60)) {
            let slices = try await client.list(EndpointSlice.self, namespace: "demo", labelSelector: "kubernetes.io/service-name=web").items
            last = slices.flatMap(\.endpoints).filter(\.conditions.isReady).count
            return last == count
        }
        say("    \(last) ready endpoints")
    }
}
