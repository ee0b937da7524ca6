import Foundation
import Testing
@testable import KubeAPI
import Values

/// Bodies captured from kubectl v1.32 (`kubectl create … --server=http://127.0.0.1:…` against a recording loopback
/// server), each with the JSON `kubectl create … --dry-run=client -o json` prints for the same command.
struct KubectlVector: Sendable, CustomStringConvertible {
    let command: String
    let hex: String
    let json: String
    var description: String { command }

    static let all: [KubectlVector] = [
        KubectlVector(
            command: "create namespace demo",
            hex: "6b3873000a0f0a02763112094e616d657370616365121c0a140a0464656d6f12001a0022002a003200380042001200"
                + "1a020a001a002200",
            json: #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"demo","creationTimestamp":null},"spec":{},"status":{}}"#),
        KubectlVector(
            command: "create service clusterip web --tcp=80:8080 --tcp=443:https",
            hex: "6b3873000a0d0a027631120753657276696365128d010a1f0a0377656212001a0022002a003200380042005a0a0a0361"
                + "7070120377656212660a1b0a0738302d38303830120354435018502207080010903f1a0028000a220a093434332d6874"
                + "747073120354435018bb03220b080110001a0568747470732800120a0a0361707012037765621a002209436c75737465"
                + "7249503a00420052005a00600068001a020a001a002200",
            json: #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"ports":[{"name":"80-8080","protocol":"TCP","port":80,"targetPort":8080},{"name":"443-https","protocol":"TCP","port":443,"targetPort":"https"}],"selector":{"app":"web"},"type":"ClusterIP"},"status":{"loadBalancer":{}}}"#),
        KubectlVector(
            command: "create service nodeport np --tcp=8080:80 --node-port=30080",
            hex: "6b3873000a0d0a02763112075365727669636512670a1d0a026e7012001a0022002a003200380042005a090a03617070"
                + "12026e7012420a1d0a07383038302d3830120354435018903f2206080010501a002880eb0112090a0361707012026e70"
                + "1a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
            json: #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"np","creationTimestamp":null,"labels":{"app":"np"}},"spec":{"ports":[{"name":"8080-80","protocol":"TCP","port":8080,"targetPort":80,"nodePort":30080}],"selector":{"app":"np"},"type":"NodePort"},"status":{"loadBalancer":{}}}"#),
        KubectlVector(
            command: "create service clusterip headless --clusterip=None",
            hex: "6b3873000a0d0a027631120753657276696365125f0a290a08686561646c65737312001a0022002a003200380042005a"
                + "0f0a036170701208686561646c657373122e120f0a036170701208686561646c6573731a044e6f6e652209436c757374"
                + "657249503a00420052005a00600068001a020a001a002200",
            json: #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"headless","creationTimestamp":null,"labels":{"app":"headless"}},"spec":{"selector":{"app":"headless"},"clusterIP":"None","type":"ClusterIP"},"status":{"loadBalancer":{}}}"#),
    ]

    /// `kubectl create deployment web --image=nginx:1.27 --port=80 --replicas=2 -- /bin/sh -c "sleep 1"`: an
    /// apps/v1 Deployment (not served), used for its embedded PodTemplateSpec (`spec` field 3 → `template`).
    static let deploymentHex = "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412d4010a1f0a0377656212001a0022002a0032"
        + "00380042005a0a0a03617070120377656212a2010802120c0a0a0a0361707012037765621a87010a1c0a0012001a0022002a"
        + "003200380042005a0a0a036170701203776562126712490a056e67696e78120a6e67696e783a312e32371a072f62696e2f73"
        + "681a022d631a07736c65657020312a00320a0a001000185022002a0042006a007200800100880100900100a201001a003200"
        + "42004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200"
    static let deploymentTemplateJSON = #"{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","command":["/bin/sh","-c","sleep 1"],"ports":[{"containerPort":80}],"resources":{}}]}}"#
}

@Suite struct ProtobufKubectlTests {
    @Test(arguments: KubectlVector.all)
    func decodesLikeKubectlsJSON(_ vector: KubectlVector) throws {
        let bytes = hexBytes(vector.hex)
        #expect(bytes.count == vector.hex.count / 2)
        #expect(try KubeProtobuf.decode(bytes) == jsonDocument(vector.json))
    }

    @Test func serviceDecodesAsTypedService() throws {
        let document = try KubeProtobuf.decode(hexBytes(KubectlVector.all[1].hex))
        let service = try KubeJSON.fromJSONValue(Service.self, document)
        #expect(service.metadata.name == "web")
        #expect(service.spec.ports?.map(\.port) == [80, 443])
        #expect(service.spec.ports?.map(\.targetPort) == [.int(8080), .string("https")])
        #expect(service.spec.selector == ["app": "web"])
        #expect(service.spec.clusterIP == nil)
        #expect(service.type == .clusterIP)
    }

    @Test func namespaceDecodesAsTypedNamespace() throws {
        let namespace = try KubeJSON.fromJSONValue(Namespace.self, try KubeProtobuf.decode(hexBytes(KubectlVector.all[0].hex)))
        #expect(namespace.metadata.name == "demo")
        #expect(namespace.kind == "Namespace")
    }

    /// The Pod tables against a real encoder: the PodTemplateSpec inside kubectl's Deployment body.
    @Test func podTemplateInsideADeploymentMatchesKubectlsJSON() throws {
        let body = hexBytes(KubectlVector.deploymentHex)
        let envelope = try KubeProtobuf.Envelope(body[4...])
        #expect(envelope.kind == "Deployment")
        let spec = try ProtobufFields(envelope.raw, path: "").bytes(2)
        let template = try ProtobufFields(spec, path: "spec").bytes(3)
        let podTemplateSpec: ProtoMessage = [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "PodSpec")]
        let decoded = try ProtobufObjectDecoder.decode(template, schema: podTemplateSpec, path: "", depth: 0)
        #expect(JSONValue.object(decoded) == (try jsonDocument(KubectlVector.deploymentTemplateJSON)))
    }

    /// `kubectl create deployment` sends protobuf: the whole object decodes, its template as above.
    @Test func deploymentDecodes() throws {
        let decoded = try KubeProtobuf.decode(hexBytes(KubectlVector.deploymentHex))
        #expect(decoded["apiVersion"] == "apps/v1" && decoded["kind"] == "Deployment")
        #expect(decoded["spec"]?["replicas"] == .int(2))
        #expect(decoded["spec"]?["selector"] == ["matchLabels": ["app": "web"]])
        #expect(decoded["spec"]?["strategy"] == .object([:]))
        #expect(decoded["spec"]?["template"] == (try jsonDocument(KubectlVector.deploymentTemplateJSON)))
    }

    @Test(arguments: [
        ("application/vnd.kubernetes.protobuf", true),
        ("application/vnd.kubernetes.protobuf; charset=utf-8", true),
        ("Application/VND.Kubernetes.Protobuf", true),
        ("application/vnd.kubernetes.protobuf;stream=watch", true),
        ("application/json", false),
        ("application/vnd.kubernetes.protobuf.x", false),
    ])
    func recognisesTheMediaType(_ contentType: String, _ expected: Bool) {
        #expect(KubeProtobuf.isProtobuf(contentType: contentType) == expected)
    }
}
