import KubeAPI

/// What the DNS informers keep of EndpointSlices and Pods: the fields `ServiceIndex.build` reads, nothing
/// else (no status, annotations, managed fields or unknown fields); Services are kept as `DNSServiceView`.
/// CoreDNS converts to slim objects the same way.
public enum DNSObjectTrim {
    static func metadata(_ m: ObjectMeta, keepingLabel label: String? = nil) -> ObjectMeta {
        var out = ObjectMeta()
        out.name = m.name
        out.namespace = m.namespace
        out.resourceVersion = m.resourceVersion
        if let label, let value = m.labels?[label] { out.labels = [label: value] }
        return out
    }

    @Sendable public static func endpointSlice(_ s: EndpointSlice) -> EndpointSlice {
        let endpoints = s.endpoints.map { e in
            Endpoint(addresses: e.addresses,
                     conditions: EndpointConditions(ready: e.conditions.ready, serving: e.conditions.serving, terminating: e.conditions.terminating),
                     hostname: e.hostname,
                     targetRef: e.targetRef.map { ref in
                         var r = ObjectReference()
                         r.kind = ref.kind
                         r.name = ref.name
                         return r
                     })
        }
        return EndpointSlice(metadata: metadata(s.metadata, keepingLabel: EndpointSlice.serviceNameLabel), addressType: s.addressType,
                             endpoints: endpoints, ports: s.ports?.map { EndpointPort(name: $0.name, protocol: $0.protocol, port: $0.port) })
    }

    @Sendable public static func pod(_ p: Pod) -> Pod {
        var status = PodStatus()
        status.podIP = p.status.podIP
        status.podIPs = p.status.podIPs?.map { ip in var out = PodIP(); out.ip = ip.ip; return out }
        return Pod(metadata: metadata(p.metadata), status: status)
    }
}
