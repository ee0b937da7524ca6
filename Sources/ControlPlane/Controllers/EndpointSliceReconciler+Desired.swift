import KubeAPI
import Values

/// The identity of an endpoint within a port group (upstream hashes the sorted addresses, the
/// hostname and the target's namespace/name); ordered by first address so output is stable.
struct EndpointKey: Hashable, Comparable {
    var addresses: [String]
    var hostname: String
    var namespace: String
    var name: String

    init(_ endpoint: Endpoint) {
        addresses = endpoint.addresses.sorted()
        hostname = endpoint.hostname ?? ""
        namespace = endpoint.targetRef?.namespace ?? ""
        name = endpoint.targetRef?.name ?? ""
    }

    static func < (a: EndpointKey, b: EndpointKey) -> Bool {
        let ipA = a.addresses.first.flatMap { IPAddress($0) }, ipB = b.addresses.first.flatMap { IPAddress($0) }
        if ipA != ipB, let ipA, let ipB { return ipA < ipB }
        return (a.addresses.joined(separator: ","), a.namespace, a.name, a.hostname)
            < (b.addresses.joined(separator: ","), b.namespace, b.name, b.hostname)
    }
}

/// A distinct resolved port list: slices group endpoints whose ports resolve identically. Order of
/// the ports does not matter; the slice's ports are written in this canonical order.
struct PortKey: Hashable, Comparable {
    var ports: [EndpointPort]
    private var text: String

    init(_ ports: [EndpointPort]) {
        func describe(_ p: EndpointPort) -> String {
            "\(p.name ?? "")/\(p.protocol?.rawValue ?? "")/\(p.port.map(String.init) ?? "")/\(p.appProtocol ?? "")"
        }
        let sorted = ports.sorted { describe($0) < describe($1) }
        self.ports = sorted
        text = sorted.map(describe).joined(separator: ",")
    }

    static func == (a: PortKey, b: PortKey) -> Bool { a.text == b.text }
    func hash(into hasher: inout Hasher) { hasher.combine(text) }
    static func < (a: PortKey, b: PortKey) -> Bool { a.text < b.text }
}

extension EndpointSliceReconciler {
    /// Whether the Service has a non-empty selector (only those get managed slices).
    public static func hasSelector(_ service: Service) -> Bool {
        !(service.spec.selector ?? [:]).isEmpty
    }

    /// Whether `service`'s selector picks `pod`: same namespace and every selector label matches.
    public static func selects(_ service: Service, _ pod: Pod) -> Bool {
        guard let selector = service.spec.selector, !selector.isEmpty,
              (pod.metadata.namespace ?? "") == (service.metadata.namespace ?? "") else { return false }
        let labels = pod.metadata.labels ?? [:]
        return selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// Upstream `ShouldPodBeInEndpoints` with terminating pods included: has an IP, not finished.
    static func shouldBeEndpoint(_ pod: Pod) -> Bool {
        if pod.status.phase == .succeeded || pod.status.phase == .failed { return false }
        return !podIPs(pod).isEmpty
    }

    static func podIPs(_ pod: Pod) -> [String] {
        let listed = (pod.status.podIPs ?? []).map(\.ip).filter { !$0.isEmpty }
        if !listed.isEmpty { return listed }
        return pod.status.podIP.flatMap { $0.isEmpty ? nil : [$0] } ?? []
    }

    /// The address types a Service's slices use: `spec.ipFamilies`, else the family of `clusterIP`,
    /// else IPv4.
    static func addressTypes(of service: Service) -> [AddressType] {
        var types: [AddressType] = []
        for family in service.spec.ipFamilies ?? [] {
            let type: AddressType? = family == .ipv4 ? .ipv4 : family == .ipv6 ? .ipv6 : nil
            if let type, !types.contains(type) { types.append(type) }
        }
        if !types.isEmpty { return types }
        if let ip = service.spec.clusterIP.flatMap({ IPAddress($0) }) { return [ip.family == .ipv6 && !ip.isIPv4Mapped ? .ipv6 : .ipv4] }
        return [.ipv4]
    }

    /// The pod's addresses of one family, in canonical text (as upstream re-stringifies them).
    static func addresses(of pod: Pod, addressType: AddressType) -> [String] {
        podIPs(pod).compactMap { text -> String? in
            guard var ip = IPAddress(text) else { return nil }
            if ip.isIPv4Mapped, let v4 = IPAddress(bytes: Array(ip.bytes.suffix(4))) { ip = v4 }
            let type: AddressType = ip.isIPv6 ? .ipv6 : .ipv4
            return type == addressType ? ip.description : nil
        }
    }

    /// The Service's ports resolved against one pod; ports whose named target the pod lacks are left out.
    static func endpointPorts(service: Service, pod: Pod) -> [EndpointPort] {
        (service.spec.ports ?? []).compactMap { servicePort in
            guard let number = resolve(servicePort, in: pod) else { return nil }
            return EndpointPort(name: servicePort.name ?? "", protocol: servicePort.protocol ?? .tcp,
                                port: number, appProtocol: servicePort.appProtocol)
        }
    }

    /// Upstream `FindPort`: a number is used as is; a name is looked up among the pod's container
    /// ports of the same protocol; an unset target (defaulted by the API server) means `port`.
    static func resolve(_ servicePort: ServicePort, in pod: Pod) -> Int? {
        switch servicePort.targetPort {
        case nil, .int(0), .string(""):
            return servicePort.port
        case .int(let number):
            return number
        case .string(let name):
            let wanted = servicePort.protocol ?? .tcp
            for container in pod.spec.containers {
                for port in container.ports ?? [] where port.name == name && (port.protocol ?? .tcp) == wanted {
                    return port.containerPort
                }
            }
            return nil
        }
    }

    /// Upstream `podToEndpoint`. Nil when the pod has no address of this family.
    static func endpoint(for pod: Pod, service: Service, addressType: AddressType) -> Endpoint? {
        let addresses = addresses(of: pod, addressType: addressType)
        guard !addresses.isEmpty else { return nil }
        let serving = pod.isReady
        let terminating = pod.isTerminating
        let ready = (service.spec.publishNotReadyAddresses ?? false) || (serving && !terminating)
        var endpoint = Endpoint(
            addresses: addresses,
            conditions: EndpointConditions(ready: ready, serving: serving, terminating: terminating),
            targetRef: ObjectReference(kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name,
                                       uid: pod.metadata.uid))
        if let node = pod.spec.nodeName, !node.isEmpty { endpoint.nodeName = node }
        if let hostname = pod.spec.hostname, !hostname.isEmpty, pod.spec.subdomain == service.name,
           (pod.metadata.namespace ?? "") == (service.metadata.namespace ?? "") {
            endpoint.hostname = hostname
        }
        return endpoint
    }

    /// Endpoints each port group should hold, keyed by identity.
    func desiredEndpoints(service: Service, pods: [Pod], addressType: AddressType) -> [PortKey: [EndpointKey: Endpoint]] {
        var groups: [PortKey: [EndpointKey: Endpoint]] = [:]
        for pod in pods {
            let key = PortKey(Self.endpointPorts(service: service, pod: pod))
            var group = groups[key] ?? [:]
            if let endpoint = Self.endpoint(for: pod, service: service, addressType: addressType) {
                group[EndpointKey(endpoint)] = endpoint
            }
            groups[key] = group
        }
        return groups
    }

    // MARK: slice metadata

    /// Labels of a slice: the Service's own labels except the reserved ones, plus service-name,
    /// managed-by and (for headless Services) the headless label.
    func labels(for service: Service) -> [String: String] {
        let reserved = [EndpointSlice.serviceNameLabel, EndpointSlice.managedByLabel, Self.headlessLabel]
        var labels = (service.metadata.labels ?? [:]).filter { !reserved.contains($0.key) }
        if service.isHeadless { labels[Self.headlessLabel] = "" }
        labels[EndpointSlice.serviceNameLabel] = service.name
        labels[EndpointSlice.managedByLabel] = controllerName
        return labels
    }

    /// The controller reference upstream puts on every slice.
    static func ownerReference(of service: Service) -> OwnerReference {
        OwnerReference(apiVersion: "v1", kind: "Service", name: service.name, uid: service.metadata.uid ?? "",
                       controller: true, blockOwnerDeletion: true)
    }

    /// Upstream `ownedBy`: a `v1 Service` owner reference with the Service's uid.
    static func isOwned(_ slice: EndpointSlice, by service: Service) -> Bool {
        (slice.metadata.ownerReferences ?? []).contains {
            $0.uid == (service.metadata.uid ?? "") && $0.kind == "Service" && $0.apiVersion == "v1"
        }
    }

    /// `<service>-`, or the bare name when the dash would make an invalid (over-long) prefix.
    /// The API server truncates the prefix further when it generates the name.
    static func generateName(for service: Service) -> String {
        service.name.utf8.count + 1 > 253 ? service.name : service.name + "-"
    }

    /// A new, empty, unnamed slice for one port group.
    func newSlice(service: Service, ports: [EndpointPort], addressType: AddressType) -> EndpointSlice {
        var meta = ObjectMeta(namespace: service.metadata.namespace, labels: labels(for: service))
        meta.generateName = Self.generateName(for: service)
        meta.ownerReferences = [Self.ownerReference(of: service)]
        return EndpointSlice(metadata: meta, addressType: addressType, endpoints: [], ports: ports)
    }
}
