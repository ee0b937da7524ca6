import Foundation
import Testing
@testable import KubeAPI

struct StrategicMergePatchTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: String
        var original: String
        var patch: String
        var expected: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "maps merge, null deletes", kind: "Service",
             original: #"{"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"type":"ClusterIP"}}"#,
             patch: #"{"metadata":{"labels":{"a":null,"c":"3"}},"spec":{"type":"NodePort"}}"#,
             expected: #"{"metadata":{"labels":{"b":"2","c":"3"}},"spec":{"type":"NodePort"}}"#),
        Case(name: "service ports merge by port", kind: "Service",
             original: #"{"spec":{"ports":[{"port":80,"name":"http","targetPort":8080},{"port":443,"name":"https"}]}}"#,
             patch: #"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#,
             expected: #"{"spec":{"ports":[{"port":80,"name":"http","targetPort":9090},{"port":443,"name":"https"}]}}"#),
        Case(name: "service port added goes before server-only items", kind: "Service",
             original: #"{"spec":{"ports":[{"port":80}]}}"#,
             patch: #"{"spec":{"ports":[{"port":8080}]}}"#,
             expected: #"{"spec":{"ports":[{"port":8080},{"port":80}]}}"#),
        Case(name: "$patch delete in a keyed list", kind: "Service",
             original: #"{"spec":{"ports":[{"port":80},{"port":443}]}}"#,
             patch: #"{"spec":{"ports":[{"port":443,"$patch":"delete"}]}}"#,
             expected: #"{"spec":{"ports":[{"port":80}]}}"#),
        Case(name: "$setElementOrder as kubectl apply sends it", kind: "Service",
             original: #"{"spec":{"ports":[{"port":80,"targetPort":80},{"port":443},{"port":9000}]}}"#,
             patch: #"{"spec":{"$setElementOrder/ports":[{"port":443},{"port":80}],"ports":[{"port":80,"targetPort":8080}]}}"#,
             expected: #"{"spec":{"ports":[{"port":443},{"port":80,"targetPort":8080},{"port":9000}]}}"#),
        Case(name: "$setElementOrder alone reorders", kind: "Pod",
             original: #"{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}"#,
             patch: #"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}"#,
             expected: #"{"spec":{"containers":[{"name":"b"},{"name":"a"}]}}"#),
        Case(name: "$patch replace on a list", kind: "Service",
             original: #"{"spec":{"ports":[{"port":80},{"port":443}]}}"#,
             patch: #"{"spec":{"ports":[{"$patch":"replace"},{"port":53}]}}"#,
             expected: #"{"spec":{"ports":[{"port":53}]}}"#),
        Case(name: "$patch replace on a map", kind: "Service",
             original: #"{"spec":{"selector":{"a":"1","b":"2"}}}"#,
             patch: #"{"spec":{"selector":{"$patch":"replace","c":"3"}}}"#,
             expected: #"{"spec":{"selector":{"c":"3"}}}"#),
        Case(name: "$patch delete on a map", kind: "Service",
             original: #"{"spec":{"selector":{"a":"1"},"type":"ClusterIP"}}"#,
             patch: #"{"spec":{"selector":{"$patch":"delete"}}}"#,
             expected: #"{"spec":{"selector":{},"type":"ClusterIP"}}"#),
        Case(name: "finalizers merge as a set", kind: "Service",
             original: #"{"metadata":{"finalizers":["a","b"]}}"#,
             patch: #"{"metadata":{"finalizers":["b","c"]}}"#,
             expected: #"{"metadata":{"finalizers":["a","b","c"]}}"#),
        Case(name: "$deleteFromPrimitiveList", kind: "Node",
             original: #"{"spec":{"podCIDRs":["10.244.0.0/24","fd00::/64"]},"metadata":{"finalizers":["x","y"]}}"#,
             patch: #"{"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}}"#,
             expected: #"{"spec":{"podCIDRs":["10.244.0.0/24","fd00::/64"]},"metadata":{"finalizers":["y"]}}"#),
        Case(name: "$deleteFromPrimitiveList with additions and order", kind: "Node",
             original: #"{"spec":{"podCIDRs":["a","b","c"]}}"#,
             patch: #"{"spec":{"$setElementOrder/podCIDRs":["d","c","a"],"$deleteFromPrimitiveList/podCIDRs":["b"],"podCIDRs":["d"]}}"#,
             expected: #"{"spec":{"podCIDRs":["d","c","a"]}}"#),
        Case(name: "ownerReferences merge by uid", kind: "Pod",
             original: #"{"metadata":{"ownerReferences":[{"uid":"1","name":"rs"}]}}"#,
             patch: #"{"metadata":{"ownerReferences":[{"uid":"1","controller":true},{"uid":"2","name":"x"}]}}"#,
             expected: #"{"metadata":{"ownerReferences":[{"uid":"1","name":"rs","controller":true},{"uid":"2","name":"x"}]}}"#),
        Case(name: "nested container env merges by name", kind: "Pod",
             original: #"{"spec":{"containers":[{"name":"app","image":"x","env":[{"name":"A","value":"1"}]},{"name":"side","image":"y"}]}}"#,
             patch: #"{"spec":{"containers":[{"name":"app","image":"x2","env":[{"name":"A","value":"9"},{"name":"B","value":"2"}]}]}}"#,
             expected: #"{"spec":{"containers":[{"name":"app","image":"x2","env":[{"name":"A","value":"9"},{"name":"B","value":"2"}]},{"name":"side","image":"y"}]}}"#),
        Case(name: "container ports merge by containerPort", kind: "Pod",
             original: #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]}}"#,
             patch: #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}"#,
             expected: #"{"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}]}}"#),
        Case(name: "pod status conditions by type", kind: "Pod",
             original: #"{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}]}}"#,
             patch: #"{"status":{"conditions":[{"type":"Ready","status":"True"}],"podIPs":[{"ip":"10.0.0.5"}]}}"#,
             expected: #"{"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}],"podIPs":[{"ip":"10.0.0.5"}]}}"#),
        Case(name: "atomic lists are replaced", kind: "EndpointSlice",
             original: #"{"endpoints":[{"addresses":["10.0.0.1"]},{"addresses":["10.0.0.2"]}],"ports":[{"port":80}]}"#,
             patch: #"{"endpoints":[{"addresses":["10.0.0.3"]}]}"#,
             expected: #"{"endpoints":[{"addresses":["10.0.0.3"]}],"ports":[{"port":80}]}"#),
        Case(name: "node taints are atomic upstream", kind: "Node",
             original: #"{"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}}"#,
             patch: #"{"spec":{"taints":[{"key":"b","effect":"NoExecute"}]}}"#,
             expected: #"{"spec":{"taints":[{"key":"b","effect":"NoExecute"}]}}"#),
        Case(name: "$retainKeys drops unlisted fields", kind: "Pod",
             original: #"{"spec":{"volumes":[{"name":"v","emptyDir":{},"hostPath":{"path":"/x"}}]}}"#,
             patch: #"{"spec":{"volumes":[{"name":"v","$retainKeys":["name","configMap"],"configMap":{"name":"cm"}}]}}"#,
             expected: #"{"spec":{"volumes":[{"name":"v","configMap":{"name":"cm"}}]}}"#),
        Case(name: "new keys are added without nulls or directives", kind: "Service",
             original: #"{"spec":{}}"#,
             patch: #"{"spec":{"ports":[{"port":80,"name":null},{"port":81,"$patch":"delete"}],"selector":{"a":"1","b":null}}}"#,
             expected: #"{"spec":{"ports":[{"port":80}],"selector":{"a":"1"}}}"#),
        Case(name: "node addresses by type", kind: "Node",
             original: #"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"}]}}"#,
             patch: #"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}]}}"#,
             expected: #"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"},{"type":"Hostname","address":"n1"}]}}"#),
    ]

    @Test(arguments: cases)
    func applies(_ c: Case) throws {
        let result = try StrategicMergePatch.apply(json(c.patch), to: json(c.original), schema: .forKind(c.kind))
        #expect(result == json(c.expected))
    }

    @Test(arguments: [
        #"{"spec":{"ports":[{"name":"x"}]}}"#,
        #"{"spec":{"selector":{"$patch":"explode"}}}"#,
        #"{"metadata":{"finalizers":[{"a":1}]}}"#,
        #"{"spec":{"$setElementOrder/ports":"x"}}"#,
        #"["not","an","object"]"#,
        #"{"spec":{"volumes":[{"name":"v","$retainKeys":["name"],"emptyDir":{}}]}}"#,
    ])
    func rejects(patch: String) {
        let original = json(#"{"metadata":{"finalizers":["a"]},"spec":{"ports":[{"port":80}],"volumes":[{"name":"v"}]}}"#)
        #expect(throws: StrategicMergePatchError.self) {
            _ = try StrategicMergePatch.apply(json(patch), to: original, schema: .forKind("Service").merging(.forKind("Pod")))
        }
    }

    @Test func schemaLookups() {
        let pod = PatchSchema.forKind("Pod")
        #expect(pod.listStrategy(at: ["spec", "initContainers", "env"]) == .mergeByKey("name"))
        #expect(pod.listStrategy(at: ["spec", "containers", "ports"]) == .mergeByKey("containerPort"))
        #expect(pod.listStrategy(at: ["metadata", "finalizers"]) == .mergeSet)
        #expect(pod.listStrategy(at: ["spec", "tolerations"]) == .atomic)
        #expect(PatchSchema.forKind("Node").listStrategy(at: ["spec", "podCIDRs"]) == .mergeSet)
        #expect(PatchSchema.forKind("Widget").listStrategy(at: ["metadata", "ownerReferences"]) == .mergeByKey("uid"))
    }
}
