import Foundation
import Testing
@testable import KubeAPI

/// Hand-built bodies (field numbers from the 1.32 .proto files, every value field written as Go writes it)
/// decoded and compared with the JSON the same object has.
enum ProtobufVectors {
    /// 2023-11-14T22:13:20Z.
    static let t0: Int64 = 1_700_000_000

    static let pod = PB.body(apiVersion: "v1", kind: "Pod") {
        $0.message(1) { m in
            m.string(1, "web-0"); m.string(2, ""); m.string(3, "default"); m.string(5, ""); m.int(7, 0)
            m.time(8, seconds: t0, nanos: 999)  // Time drops nanoseconds
            m.entry(11, "app", "web"); m.entry(11, "tier", "fe")
        }
        $0.message(2) { s in
            s.message(1) { v in
                v.string(1, "cfg")
                v.message(2) { $0.message(19) { cm in cm.message(1) { $0.string(1, "web-config") }; cm.int(3, 420) } }
            }
            s.message(2) { c in
                c.string(1, "nginx"); c.string(2, "nginx:1.27"); c.string(3, "nginx"); c.string(3, "-g")
                c.string(4, "daemon off;"); c.string(5, "/srv")
                c.message(6) { $0.string(1, "http"); $0.int(2, 0); $0.int(3, 80); $0.string(4, "TCP"); $0.string(5, "") }
                c.message(6) { $0.string(1, ""); $0.int(2, -1); $0.int(3, 9090); $0.string(4, "UDP"); $0.string(5, "") }
                c.message(7) { $0.string(1, "MODE"); $0.string(2, "prod") }
                c.message(7) { e in
                    e.string(1, "POD_NAME"); e.string(2, "")
                    e.message(3) { $0.message(1) { $0.string(1, "v1"); $0.string(2, "metadata.name") } }
                }
                c.message(8) { $0.quantityEntry(1, "cpu", "500m"); $0.quantityEntry(2, "memory", "64Mi") }
                c.message(10) { p in
                    p.message(1) { $0.message(2) { $0.string(1, "/healthz"); $0.intOrString(2, "http"); $0.string(3, "") } }
                    p.int(2, 3); p.int(3, 1); p.int(4, 0)
                }
                c.string(14, "IfNotPresent"); c.bool(16, false); c.bool(18, false)
            }
            s.string(3, "Always"); s.int(4, 0); s.string(6, "ClusterFirst"); s.entry(7, "disk", "ssd")
            s.string(8, "default"); s.string(10, "node-1"); s.bool(11, false); s.string(16, "web-0"); s.string(17, "web")
            s.string(19, "default-scheduler")
            s.message(22) { t in
                t.string(1, "node.kubernetes.io/not-ready"); t.string(2, "Exists"); t.string(3, "")
                t.string(4, "NoExecute"); t.int(5, 300)
            }
        }
        $0.message(3) { st in
            st.string(1, "Running")
            st.message(2) { $0.string(1, "Ready"); $0.string(2, "True"); $0.message(3) { _ in }; $0.time(4, seconds: t0 + 100) }
            st.string(5, "192.168.1.10"); st.string(6, "10.244.1.5"); st.time(7, seconds: t0 + 50)
            st.message(12) { $0.string(1, "10.244.1.5") }
            st.message(12) { $0.string(1, "fd00::5") }
        }
    }
    static let podJSON = #"""
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"web-0","namespace":"default","creationTimestamp":"2023-11-14T22:13:20Z","labels":{"app":"web","tier":"fe"}},
         "spec":{"volumes":[{"name":"cfg","configMap":{"name":"web-config","defaultMode":420}}],
           "containers":[{"name":"nginx","image":"nginx:1.27","command":["nginx","-g"],"args":["daemon off;"],"workingDir":"/srv",
             "ports":[{"name":"http","containerPort":80,"protocol":"TCP"},{"hostPort":-1,"containerPort":9090,"protocol":"UDP"}],
             "env":[{"name":"MODE","value":"prod"},{"name":"POD_NAME","valueFrom":{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}}],
             "resources":{"limits":{"cpu":"500m"},"requests":{"memory":"64Mi"}},
             "livenessProbe":{"httpGet":{"path":"/healthz","port":"http"},"initialDelaySeconds":3,"timeoutSeconds":1},
             "imagePullPolicy":"IfNotPresent"}],
           "restartPolicy":"Always","terminationGracePeriodSeconds":0,"dnsPolicy":"ClusterFirst","nodeSelector":{"disk":"ssd"},
           "serviceAccountName":"default","nodeName":"node-1","hostname":"web-0","subdomain":"web","schedulerName":"default-scheduler",
           "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
         "status":{"phase":"Running",
           "conditions":[{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2023-11-14T22:15:00Z"}],
           "hostIP":"192.168.1.10","podIP":"10.244.1.5","startTime":"2023-11-14T22:14:10Z",
           "podIPs":[{"ip":"10.244.1.5"},{"ip":"fd00::5"}]}}
        """#

    static let endpointSlice = PB.body(apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice") {
        $0.message(1) { $0.string(1, "web-abc"); $0.string(3, "default"); $0.entry(11, "kubernetes.io/service-name", "web") }
        $0.message(2) { e in
            e.string(1, "10.244.1.5")
            e.message(2) { $0.bool(1, true); $0.bool(2, true); $0.bool(3, false) }
            e.message(4) { $0.string(1, "Pod"); $0.string(2, "default"); $0.string(3, "web-0"); $0.string(4, "uid-1") }
            e.string(6, "node-1"); e.string(7, "zone-a")
        }
        $0.message(2) { e in
            e.string(1, "10.244.2.7")
            e.message(2) { $0.bool(1, false); $0.bool(2, false); $0.bool(3, true) }
            e.message(8) { $0.message(1) { $0.string(1, "zone-a") } }
        }
        $0.message(3) { $0.string(1, ""); $0.string(2, "TCP"); $0.int(3, 8080) }
        $0.string(4, "IPv4")
    }
    static let endpointSliceJSON = #"""
        {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
         "metadata":{"name":"web-abc","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},
         "addressType":"IPv4",
         "endpoints":[{"addresses":["10.244.1.5"],"conditions":{"ready":true,"serving":true,"terminating":false},
                       "targetRef":{"kind":"Pod","namespace":"default","name":"web-0","uid":"uid-1"},"nodeName":"node-1","zone":"zone-a"},
                      {"addresses":["10.244.2.7"],"conditions":{"ready":false,"serving":false,"terminating":true},
                       "hints":{"forZones":[{"name":"zone-a"}]}}],
         "ports":[{"name":"","protocol":"TCP","port":8080}]}
        """#

    /// Every ServiceSpec and ServiceStatus field.
    static let service = PB.body(apiVersion: "v1", kind: "Service") {
        $0.message(1) { $0.string(1, "lb"); $0.string(3, "prod") }
        $0.message(2) { s in
            s.message(1) { p in
                p.string(1, "http"); p.string(2, "TCP"); p.int(3, 80); p.intOrString(4, 8080); p.int(5, 30080)
                p.string(6, "kubernetes.io/h2c")
            }
            s.message(1) { p in p.string(1, "dns"); p.string(2, "UDP"); p.int(3, 53); p.intOrString(4, "dns"); p.int(5, 0) }
            s.entry(2, "app", "lb"); s.string(3, "10.96.0.10"); s.string(4, "LoadBalancer"); s.string(5, "203.0.113.7")
            s.string(7, "ClientIP"); s.string(8, "198.51.100.1"); s.string(9, "10.0.0.0/8"); s.string(10, "")
            s.string(11, "Local"); s.int(12, 31000); s.bool(13, true)
            s.message(14) { $0.message(1) { $0.int(1, 10800) } }
            s.string(17, "PreferDualStack"); s.string(18, "10.96.0.10"); s.string(18, "fd00::10")
            s.string(19, "IPv4"); s.string(19, "IPv6"); s.bool(20, false); s.string(21, "example.com/lb")
            s.string(22, "Cluster"); s.string(23, "PreferClose")
        }
        $0.message(3) { st in
            st.message(1) { lb in
                lb.message(1) { i in
                    i.string(1, "198.51.100.1"); i.string(2, ""); i.string(3, "VIP")
                    i.message(4) { $0.int(1, 80); $0.string(2, "TCP") }
                }
            }
            st.message(2) { c in
                c.string(1, "Ready"); c.string(2, "True"); c.int(3, 2); c.time(4, seconds: t0); c.string(5, "Done"); c.string(6, "")
            }
        }
    }
    static let serviceJSON = #"""
        {"apiVersion":"v1","kind":"Service","metadata":{"name":"lb","namespace":"prod"},
         "spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080,"appProtocol":"kubernetes.io/h2c"},
                          {"name":"dns","protocol":"UDP","port":53,"targetPort":"dns"}],
           "selector":{"app":"lb"},"clusterIP":"10.96.0.10","type":"LoadBalancer","externalIPs":["203.0.113.7"],
           "sessionAffinity":"ClientIP","loadBalancerIP":"198.51.100.1","loadBalancerSourceRanges":["10.0.0.0/8"],
           "externalTrafficPolicy":"Local","healthCheckNodePort":31000,"publishNotReadyAddresses":true,
           "sessionAffinityConfig":{"clientIP":{"timeoutSeconds":10800}},"ipFamilyPolicy":"PreferDualStack",
           "clusterIPs":["10.96.0.10","fd00::10"],"ipFamilies":["IPv4","IPv6"],"allocateLoadBalancerNodePorts":false,
           "loadBalancerClass":"example.com/lb","internalTrafficPolicy":"Cluster","trafficDistribution":"PreferClose"},
         "status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.1","ipMode":"VIP","ports":[{"port":80,"protocol":"TCP"}]}]},
           "conditions":[{"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2023-11-14T22:13:20Z",
                          "reason":"Done","message":""}]}}
        """#

    static let node = PB.body(apiVersion: "v1", kind: "Node") {
        $0.message(1) { $0.string(1, "node-1") }
        $0.message(2) { s in
            s.string(1, "10.244.1.0/24"); s.string(7, "10.244.1.0/24"); s.bool(4, true)
            s.message(5) { $0.string(1, "dedicated"); $0.string(2, ""); $0.string(3, "NoSchedule"); $0.time(4, seconds: t0) }
        }
        $0.message(3) { st in
            st.quantityEntry(1, "cpu", "4"); st.quantityEntry(1, "memory", "8Gi"); st.quantityEntry(2, "pods", "110")
            st.message(4) { c in
                c.string(1, "Ready"); c.string(2, "True"); c.time(3, seconds: t0); c.time(4, seconds: t0)
                c.string(5, "KubeletReady"); c.string(6, "")
            }
            st.message(5) { $0.string(1, "InternalIP"); $0.string(2, "192.168.1.10") }
            st.message(5) { $0.string(1, "Hostname"); $0.string(2, "node-1") }
            st.message(6) { $0.message(1) { $0.int(1, 10250) } }
        }
    }
    static let nodeJSON = #"""
        {"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"},
         "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24"],"unschedulable":true,
                 "taints":[{"key":"dedicated","effect":"NoSchedule","timeAdded":"2023-11-14T22:13:20Z"}]},
         "status":{"capacity":{"cpu":"4","memory":"8Gi"},"allocatable":{"pods":"110"},
           "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2023-11-14T22:13:20Z",
                          "lastTransitionTime":"2023-11-14T22:13:20Z","reason":"KubeletReady"}],
           "addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"node-1"}],
           "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}}}}
        """#

    static let event = PB.body(apiVersion: "v1", kind: "Event") {
        $0.message(1) { $0.string(1, "web-0.1"); $0.string(3, "default") }
        $0.message(2) { $0.string(1, "Pod"); $0.string(2, "default"); $0.string(3, "web-0"); $0.string(7, "") }
        $0.string(3, "Started"); $0.string(4, "Started container nginx")
        $0.message(5) { $0.string(1, "kubelet"); $0.string(2, "node-1") }
        $0.time(6, seconds: t0); $0.time(7, seconds: t0 + 60); $0.int(8, 3); $0.string(9, "Normal")
        $0.time(10, seconds: t0, nanos: 123_456_789)
    }
    static let eventJSON = #"""
        {"apiVersion":"v1","kind":"Event","metadata":{"name":"web-0.1","namespace":"default"},
         "involvedObject":{"kind":"Pod","namespace":"default","name":"web-0"},"reason":"Started","message":"Started container nginx",
         "source":{"component":"kubelet","host":"node-1"},"firstTimestamp":"2023-11-14T22:13:20Z","lastTimestamp":"2023-11-14T22:14:20Z",
         "count":3,"type":"Normal","eventTime":"2023-11-14T22:13:20.123456Z","reportingComponent":"","reportingInstance":""}
        """#

    static let deleteOptions = PB.body(apiVersion: "v1", kind: "DeleteOptions") {
        $0.int(1, 0); $0.message(2) { $0.string(1, "uid-1") }; $0.string(4, "Foreground"); $0.string(5, "All")
    }
    static let deleteOptionsJSON = #"""
        {"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0,"preconditions":{"uid":"uid-1"},
         "propagationPolicy":"Foreground","dryRun":["All"]}
        """#

    static let all: [(name: String, body: [UInt8], json: String)] = [
        ("Pod", pod, podJSON), ("EndpointSlice", endpointSlice, endpointSliceJSON), ("Service", service, serviceJSON),
        ("Node", node, nodeJSON), ("Event", event, eventJSON), ("DeleteOptions", deleteOptions, deleteOptionsJSON),
    ]
}

@Suite struct ProtobufObjectTests {
    @Test(arguments: ProtobufVectors.all.map(\.name))
    func decodesToTheObjectsJSON(_ name: String) throws {
        let vector = try #require(ProtobufVectors.all.first { $0.name == name })
        #expect(try KubeProtobuf.decode(vector.body) == jsonDocument(vector.json))
    }

    @Test func podDecodesAsTypedPod() throws {
        let pod = try KubeJSON.fromJSONValue(Pod.self, try KubeProtobuf.decode(ProtobufVectors.pod))
        #expect(pod.metadata.labels == ["app": "web", "tier": "fe"])
        #expect(pod.metadata.creationTimestamp == "2023-11-14T22:13:20Z")
        #expect(pod.spec.containers.map(\.name) == ["nginx"])
        #expect(pod.spec.containers.first?.ports?.map(\.containerPort) == [80, 9090])
        #expect(pod.spec.terminationGracePeriodSeconds == 0)
        #expect(pod.spec.hostNetwork == nil)
        #expect(pod.status.podIP == "10.244.1.5")
    }

    @Test func endpointSliceDecodesAsTypedEndpointSlice() throws {
        let slice = try KubeJSON.fromJSONValue(EndpointSlice.self, try KubeProtobuf.decode(ProtobufVectors.endpointSlice))
        #expect(slice.endpoints.map(\.conditions.isReady) == [true, false])
        #expect(slice.endpoints.map(\.conditions.isTerminating) == [false, true])
        #expect(slice.ports?.first?.name == "")
        #expect(slice.ports?.first?.port == 8080)
    }

    @Test func deleteOptionsDecodeAsTyped() throws {
        let options = try KubeJSON.fromJSONValue(DeleteOptions.self, try KubeProtobuf.decode(ProtobufVectors.deleteOptions))
        #expect(options.gracePeriodSeconds == 0)
        #expect(options.propagationPolicy == .foreground)
        #expect(options.isDryRun)
    }

    @Test func deleteOptionsAreAcceptedInAnyGroupVersion() throws {
        let body = PB.body(apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions") { $0.int(1, 30) }
        #expect(try KubeProtobuf.decode(body) == jsonDocument(#"{"apiVersion":"meta.k8s.io/v1","kind":"DeleteOptions","gracePeriodSeconds":30}"#))
    }
}
