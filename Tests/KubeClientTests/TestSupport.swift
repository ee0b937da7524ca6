import Foundation
import KubeAPI
@testable import KubeClient

/// A small namespaced kind in a named group, independent of KubeAPI's real objects.
struct Widget: KubeObject {
    static let resourceInfo = ResourceInfo(group: "example.com", version: "v1", kind: "Widget", resource: "widgets",
                                           singular: "widget", namespaced: true)
    var apiVersion: String?
    var kind: String?
    var metadata: ObjectMeta
    var color: String?

    init(_ name: String, namespace: String = "default", rv: String, color: String? = nil) {
        apiVersion = Self.resourceInfo.apiVersion
        kind = Self.resourceInfo.kind
        metadata = ObjectMeta(name: name, namespace: namespace)
        metadata.resourceVersion = rv
        self.color = color
    }
}

/// A cluster-scoped kind in the core group.
struct Gadget: KubeObject {
    static let resourceInfo = ResourceInfo(group: "", version: "v1", kind: "Gadget", resource: "gadgets",
                                           singular: "gadget", namespaced: false)
    var apiVersion: String?
    var kind: String?
    var metadata: ObjectMeta
}

/// A temporary directory removed by `cleanup()`.
struct TempDir {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "kubeclient-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}
