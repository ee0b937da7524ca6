import KubeAPI
import Testing
@testable import KubeClient

@Suite struct RequestPathTests {
    typealias Path = KubeClient.RequestPath
    static let services = Service.resourceInfo
    static let slices = EndpointSlice.resourceInfo
    static let nodes = Node.resourceInfo

    static let cases: [(Path, String)] = [
        (Path(info: services), "/api/v1/services"),
        (Path(info: services, namespace: ""), "/api/v1/services"),
        (Path(info: services, namespace: "default"), "/api/v1/namespaces/default/services"),
        (Path(info: services, namespace: "default", name: "web"), "/api/v1/namespaces/default/services/web"),
        (Path(info: services, namespace: "default", name: "web", subresource: "status"),
         "/api/v1/namespaces/default/services/web/status"),
        (Path(info: slices, namespace: "kube-system"), "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices"),
        (Path(info: slices, namespace: "ns", name: "web-abc12"), "/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices/web-abc12"),
        (Path(info: slices), "/apis/discovery.k8s.io/v1/endpointslices"),
        (Path(info: nodes), "/api/v1/nodes"),
        (Path(info: nodes, namespace: "ignored", name: "n1"), "/api/v1/nodes/n1"),
        (Path(info: nodes, name: "n1", subresource: "status"), "/api/v1/nodes/n1/status"),
        (Path(info: nodes, subresource: "status"), "/api/v1/nodes"),
        (Path(info: services, namespace: "a b", name: "x/y"), "/api/v1/namespaces/a%20b/services/x%2Fy"),
    ]

    @Test(arguments: cases)
    func paths(path: Path, expected: String) {
        #expect(path.path == expected)
        #expect(path.pathAndQuery == expected)
    }

    static let queries: [(KubeClient.ListOptions, Bool, String)] = [
        (.init(), false, ""),
        (.init(), true, "watch=true"),
        (.init(labelSelector: "app=web,tier in (a,b)"), false, "labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29"),
        (.init(fieldSelector: "metadata.name=web"), false, "fieldSelector=metadata.name%3Dweb"),
        (.init(resourceVersion: "0", limit: 500), false, "resourceVersion=0&limit=500"),
        (.init(resourceVersion: "12", resourceVersionMatch: "NotOlderThan"), false, "resourceVersion=12&resourceVersionMatch=NotOlderThan"),
        (.init(limit: 10, continueToken: "eyJ2Ijo+/="), false, "limit=10&continue=eyJ2Ijo%2B%2F%3D"),
        (.init(resourceVersion: "42", limit: 10, continueToken: "c", timeoutSeconds: 300, allowWatchBookmarks: true), true,
         "resourceVersion=42&timeoutSeconds=300&watch=true&allowWatchBookmarks=true"),
        (.init(labelSelector: "a", fieldSelector: "b", resourceVersion: "", timeoutSeconds: 5), true,
         "labelSelector=a&fieldSelector=b&resourceVersion=&timeoutSeconds=5&watch=true"),
        (.init(limit: 0), false, ""),
    ]

    @Test(arguments: queries)
    func query(options: KubeClient.ListOptions, watch: Bool, expected: String) {
        let path = Path(info: Self.services, namespace: "default", query: options.queryItems(watch: watch))
        #expect(path.pathAndQuery == "/api/v1/namespaces/default/services" + (expected.isEmpty ? "" : "?" + expected))
    }

    @Test func patchContentTypes() {
        #expect(KubeClient.PatchType.merge.rawValue == "application/merge-patch+json")
        #expect(KubeClient.PatchType.strategicMerge.rawValue == "application/strategic-merge-patch+json")
        #expect(KubeClient.PatchType.json.rawValue == "application/json-patch+json")
    }
}
