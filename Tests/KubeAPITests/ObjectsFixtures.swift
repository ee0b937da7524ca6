/// Upstream-shaped JSON documents (as kube-apiserver v1.32 writes them), each with members kproxy
/// does not model at the top level and in nested objects, to prove they survive decode → encode.
enum ObjectsFixtures {
    static let service = #"""
    {"apiVersion":"v1","kind":"Service","futureTopLevel":[1,2.5,"x",null],
     "metadata":{"name":"web","namespace":"default","uid":"0b6f2c1e-4d0a-4a7e-9a43-3c8b8f2f1c11","resourceVersion":"812",
       "creationTimestamp":"2026-11-24T04:19:52Z","labels":{"app":"web"},"annotations":{"a.example.com/x":"1"}},
     "spec":{"type":"LoadBalancer","selector":{"app":"web"},"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10","fd00::a"],
       "ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"PreferDualStack",
       "ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":"http","nodePort":30080,"futurePortField":"x"},
                {"name":"https","protocol":"TCP","appProtocol":"https","port":443,"targetPort":8443,"nodePort":30443}],
       "sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600,"futureCIP":1}},
       "externalIPs":["192.0.2.10"],"loadBalancerIP":"192.0.2.20","loadBalancerSourceRanges":["10.0.0.0/8"],
       "loadBalancerClass":"example.com/lb","allocateLoadBalancerNodePorts":true,"externalTrafficPolicy":"Local",
       "internalTrafficPolicy":"Cluster","healthCheckNodePort":32000,"publishNotReadyAddresses":false,
       "trafficDistribution":"PreferClose","futureField":{"nested":true}},
     "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.20","ipMode":"VIP","ports":[{"port":80,"protocol":"TCP","error":"x","futurePS":0}],"futureIngress":"y"}]},
       "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-11-24T04:19:52Z","reason":"r","message":"m"}]}}
    """#

    static let pod = #"""
    {"apiVersion":"v1","kind":"Pod",
     "metadata":{"name":"web-0","namespace":"default","generateName":"web-","creationTimestamp":"2026-11-24T04:19:52Z",
       "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"web","uid":"u1","controller":true,"blockOwnerDeletion":true}]},
     "spec":{"volumes":[{"name":"data","emptyDir":{}}],
       "containers":[{"name":"nginx","image":"nginx:1.27","command":["nginx"],"args":["-g","daemon off;"],
         "ports":[{"name":"http","containerPort":80,"protocol":"TCP","futureCP":1},{"containerPort":53,"protocol":"UDP","hostPort":53,"hostIP":"0.0.0.0"}],
         "resources":{},"terminationMessagePath":"/dev/termination-log","imagePullPolicy":"IfNotPresent"}],
       "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","nodeSelector":{"kubernetes.io/os":"linux"},
       "serviceAccountName":"default","serviceAccount":"default","nodeName":"node-1","hostNetwork":false,"hostname":"web-0",
       "subdomain":"web","securityContext":{},"schedulerName":"default-scheduler",
       "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
     "status":{"phase":"Running",
       "conditions":[{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-24T04:19:55Z"},
                     {"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-24T04:19:52Z","reason":"r","message":"m"}],
       "hostIP":"192.168.1.10","hostIPs":[{"ip":"192.168.1.10"}],"podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5","futurePodIP":true}],
       "startTime":"2026-11-24T04:19:52Z","qosClass":"BestEffort",
       "containerStatuses":[{"name":"nginx","ready":true,"restartCount":0,"image":"nginx:1.27","imageID":"","state":{"running":{"startedAt":"2026-11-24T04:19:54Z"}}}]}}
    """#

    static let node = #"""
    {"apiVersion":"v1","kind":"Node",
     "metadata":{"name":"node-1","creationTimestamp":"2026-11-24T04:19:52Z","labels":{"kubernetes.io/hostname":"node-1"}},
     "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24","fd00:10:244:1::/64"],"providerID":"kproxy://node-1",
       "unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule","timeAdded":"2026-11-24T04:19:52Z","futureTaint":1},
                                      {"key":"k","value":"v","effect":"NoExecute"}],"externalID":"legacy"},
     "status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},"allocatable":{"cpu":"4","memory":"7Gi","pods":"110"},
       "conditions":[{"type":"Ready","status":"True","lastHeartbeatTime":"2026-11-24T04:20:52Z","lastTransitionTime":"2026-11-24T04:19:52Z",
                      "reason":"KubeletReady","message":"kubelet is posting ready status","futureCond":null}],
       "addresses":[{"type":"InternalIP","address":"192.168.1.10"},{"type":"Hostname","address":"node-1","futureAddr":"z"}],
       "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
       "nodeInfo":{"machineID":"m","kubeletVersion":"v1.32.0","architecture":"amd64","operatingSystem":"linux"},
       "images":[]}}
    """#

    static let namespace = #"""
    {"apiVersion":"v1","kind":"Namespace",
     "metadata":{"name":"kube-system","creationTimestamp":"2026-11-24T04:19:52Z","labels":{"kubernetes.io/metadata.name":"kube-system"}},
     "spec":{"finalizers":["kubernetes"],"futureSpec":"s"},"status":{"phase":"Active","futureStatus":{"a":[]}}}
    """#

    static let endpointSlice = #"""
    {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
     "metadata":{"name":"web-abc12","namespace":"default","generateName":"web-","creationTimestamp":"2026-11-24T04:19:52Z",
       "labels":{"kubernetes.io/service-name":"web","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"},
       "ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"web","uid":"u2","controller":true,"blockOwnerDeletion":true}]},
     "addressType":"IPv4",
     "endpoints":[{"addresses":["10.244.1.5"],"conditions":{"ready":true,"serving":true,"terminating":false,"futureCondition":1},
                   "hostname":"web-0","nodeName":"node-1","zone":"z1",
                   "targetRef":{"kind":"Pod","namespace":"default","name":"web-0","uid":"u3","resourceVersion":"9","futureRef":"r"},
                   "hints":{"forZones":[{"name":"z1","futureZone":1}],"forNodes":[{"name":"node-1"}]},"deprecatedTopology":{"a":"b"}},
                  {"addresses":["10.244.2.7"],"conditions":{"ready":false,"serving":true,"terminating":true}}],
     "ports":[{"name":"http","protocol":"TCP","port":8080,"appProtocol":"http","futurePort":[]},{"name":"","protocol":"UDP","port":53}],
     "futureTop":{"x":1}}
    """#

    static let event = #"""
    {"apiVersion":"v1","kind":"Event",
     "metadata":{"name":"web-0.17f","namespace":"default","creationTimestamp":"2026-11-24T04:19:52Z"},
     "involvedObject":{"kind":"Pod","namespace":"default","name":"web-0","uid":"u3","apiVersion":"v1","resourceVersion":"9","fieldPath":"spec.containers{nginx}"},
     "reason":"Started","message":"Started container nginx","source":{"component":"kubelet","host":"node-1"},
     "firstTimestamp":"2026-11-24T04:19:52Z","lastTimestamp":"2026-11-24T04:19:54Z","count":2,"type":"Normal",
     "eventTime":null,"reportingComponent":"kubelet","reportingInstance":"node-1"}
    """#

    static let deleteOptions = #"""
    {"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1","gracePeriodSeconds":0,"propagationPolicy":"Background",
     "preconditions":{"uid":"u1","resourceVersion":"12"},"dryRun":["All"],"orphanDependents":false,"futureOpt":1}
    """#

    static let table = #"""
    {"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"812"},
     "columnDefinitions":[{"name":"Name","type":"string","format":"name","description":"Name must be unique","priority":0},
                          {"name":"Selector","type":"string","format":"","description":"Route to pods","priority":1}],
     "rows":[{"cells":["web",null,3,true,1.5],"object":{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"web"}}}]}
    """#

    static let apiVersions = #"""
    {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}
    """#

    static let apiGroupList = #"""
    {"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"discovery.k8s.io",
      "versions":[{"groupVersion":"discovery.k8s.io/v1","version":"v1"}],"preferredVersion":{"groupVersion":"discovery.k8s.io/v1","version":"v1"}}]}
    """#

    static let apiResourceList = #"""
    {"kind":"APIResourceList","apiVersion":"v1","groupVersion":"v1","resources":[
      {"name":"services","singularName":"service","namespaced":true,"kind":"Service",
       "verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["svc"],"categories":["all"],
       "storageVersionHash":"0/CO1lhkEBI="},
      {"name":"services/status","singularName":"","namespaced":true,"kind":"Service","verbs":["get","patch","update"]}]}
    """#
}
