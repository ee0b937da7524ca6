import KubeAPI

/// What upstream's Endpoints controller would write for a Service, computed from the EndpointSlices this
/// control plane's slice controller keeps for it (they hold the same pods, readiness and resolved ports).
/// Pure: the EndpointsController feeds it and writes the difference.
enum EndpointsMirror {
    /// The Endpoints for `service` from its `slices`, or nil when the Service has no selector (upstream
    /// leaves those Endpoints to whoever writes them).
    static func desired(for service: Service, slices: [EndpointSlice]) -> Endpoints? {
        guard service.spec.selector != nil else { return nil }
        var meta = ObjectMeta(name: service.name, namespace: service.metadata.namespace)
        var labels = service.metadata.labels ?? [:]
        if service.spec.clusterIP == "None" { labels[Endpoints.headlessLabel] = "" }
        meta.labels = labels.isEmpty ? nil : labels

        // Group addresses by port set; every address of a slice serves the slice's ports.
        struct Group { var ports: [EndpointPort]; var ready: Set<EndpointAddress> = []; var notReady: Set<EndpointAddress> = [] }
        var groups: [String: Group] = [:]
        let publishNotReady = service.spec.publishNotReadyAddresses ?? false
        for slice in slices where slice.addressType == .ipv4 || slice.addressType == .ipv6 {
            let ports = (slice.ports ?? []).map { p in
                EndpointPort(name: (p.name ?? "").isEmpty ? nil : p.name, protocol: p.protocol ?? .tcp, port: p.port, appProtocol: p.appProtocol)
            }.sorted { ($0.name ?? "", $0.port ?? 0, $0.protocol?.rawValue ?? "") < ($1.name ?? "", $1.port ?? 0, $1.protocol?.rawValue ?? "") }
            let key = ports.map { "\($0.name ?? "")/\($0.port ?? 0)/\($0.protocol?.rawValue ?? "")/\($0.appProtocol ?? "")" }.joined(separator: ",")
            var group = groups[key] ?? Group(ports: ports)
            for endpoint in slice.endpoints {
                let ready = publishNotReady || endpoint.conditions.isReady
                // Terminating pods leave Endpoints (upstream's ShouldPodBeInEndpoints) unless they are still ready.
                if !ready && endpoint.conditions.isTerminating { continue }
                for ip in endpoint.addresses {
                    let address = EndpointAddress(ip: ip, hostname: endpoint.hostname, nodeName: endpoint.nodeName, targetRef: endpoint.targetRef)
                    if ready { group.ready.insert(address) } else { group.notReady.insert(address) }
                }
            }
            groups[key] = group
        }

        // At most `maxAddresses` addresses, ready ones first, as upstream truncates.
        let ordered = groups.sorted { $0.key < $1.key }.map(\.value)
        func sorted(_ addresses: Set<EndpointAddress>) -> [EndpointAddress] {
            addresses.sorted { ($0.ip, $0.targetRef?.name ?? "") < ($1.ip, $1.targetRef?.name ?? "") }
        }
        var budget = Endpoints.maxAddresses
        var kept: [(ready: [EndpointAddress], notReady: [EndpointAddress])] = ordered.map { group in
            let ready = Array(sorted(group.ready).prefix(budget))
            budget -= ready.count
            return (ready, [])
        }
        for (i, group) in ordered.enumerated() {
            kept[i].notReady = Array(sorted(group.notReady).prefix(budget))
            budget -= kept[i].notReady.count
        }
        let total = ordered.reduce(0) { $0 + $1.ready.count + $1.notReady.count }
        var subsets: [EndpointSubset] = []
        for (group, addresses) in zip(ordered, kept) where !addresses.ready.isEmpty || !addresses.notReady.isEmpty {
            subsets.append(EndpointSubset(addresses: addresses.ready.isEmpty ? nil : addresses.ready,
                                          notReadyAddresses: addresses.notReady.isEmpty ? nil : addresses.notReady,
                                          ports: group.ports.isEmpty ? nil : group.ports))
        }
        if total > Endpoints.maxAddresses { meta.annotations = [Endpoints.overCapacityAnnotation: "truncated"] }
        return Endpoints(metadata: meta, subsets: subsets.isEmpty ? nil : subsets)
    }

    /// Whether `current` already says what `desired` says (the fields the mirror owns).
    static func matches(_ current: Endpoints, _ desired: Endpoints) -> Bool {
        current.subsets == desired.subsets && (current.metadata.labels ?? [:]) == (desired.metadata.labels ?? [:])
            && current.metadata.annotations?[Endpoints.overCapacityAnnotation] == desired.metadata.annotations?[Endpoints.overCapacityAnnotation]
    }
}
