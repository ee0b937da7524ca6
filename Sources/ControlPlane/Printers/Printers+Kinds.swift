import Foundation
import KubeAPI
import Values

extension Service: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Type", "The type of the service."),
        .column("Cluster-IP", "The IP address of the service."),
        .column("External-IP", "The external IP address of the service."),
        .column("Port(s)", "The port(s) of the service."),
        .ageColumn,
        .column("Selector", priority: 1, "Label selector of the service."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        let ports = (spec.ports ?? []).map { p in
            let proto = (p.protocol ?? .tcp).rawValue
            if let node = p.nodePort, node > 0 { return "\(p.port):\(node)/\(proto)" }
            return "\(p.port)/\(proto)"
        }
        let selector = (spec.selector ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [.string(type.rawValue), .string(spec.clusterIP.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"),
                .string(externalIPCell), .string(ports.isEmpty ? "<none>" : ports.joined(separator: ",")),
                age(metadata, now: now), .string(selector.isEmpty ? "<none>" : selector)]
    }

    /// Upstream's `getServiceExternalIP`.
    var externalIPCell: String {
        let external = spec.externalIPs ?? []
        let ingress = (status.loadBalancer.ingress ?? []).compactMap { $0.ip ?? $0.hostname }
        switch type {
        case .clusterIP, .nodePort:
            return external.isEmpty ? "<none>" : external.joined(separator: ",")
        case .loadBalancer:
            let all = ingress + external
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case .externalName:
            return spec.externalName ?? "<none>"
        default:
            return "<unknown>"
        }
    }
}

extension Pod: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        .column("Status", "The aggregate status of the containers in this pod."),
        .column("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
        .ageColumn,
        .column("IP", priority: 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
        .column("Node", priority: 1, "NodeName is a request to schedule this pod onto a specific node."),
        .column("Nominated Node", priority: 1, "nominatedNodeName is set when this pod preempts other pods on the node."),
        .column("Readiness Gates", priority: 1, "If specified, all readiness gates will be evaluated for pod readiness."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        // READY and RESTARTS come from containerStatuses when a kubelet reports them; otherwise from pod
        // readiness. STATUS is, as kubectl's printer has it, a container's waiting or terminated reason
        // (CrashLoopBackOff, ContainerCreating, Error) over the phase.
        let total = spec.containers.count
        let statuses = status.containerStatuses
        let ready = statuses.map { $0.filter(\.ready).count } ?? (isReady ? total : 0)
        let restarts = Int64(statuses?.reduce(0) { $0 + $1.restartCount } ?? 0)
        var reason = status.reason ?? status.phase?.rawValue ?? "Pending"
        for s in statuses ?? [] {
            if let r = s.state?.waiting?.reason, !r.isEmpty { reason = r } else if let t = s.state?.terminated {
                reason = t.reason ?? (t.signal.map { "Signal:\($0)" } ?? "ExitCode:\(t.exitCode)")
            }
        }
        if metadata.deletionTimestamp != nil { reason = "Terminating" }
        return [.string("\(ready)/\(total)"), .string(reason), .int(restarts), age(metadata, now: now),
                .string(status.podIP.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"),
                .string(spec.nodeName.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"), "<none>", "<none>"]
    }
}

extension Node: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Status", "The status of the node"),
        .column("Roles", "The roles of the node"),
        .ageColumn,
        .column("Version", "Kubelet Version reported by the node."),
        .column("Internal-IP", priority: 1, "List of internal IPs in the node."),
        .column("External-IP", priority: 1, "List of external IPs in the node."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        var state = isReady ? "Ready" : ((status.conditions ?? []).contains { $0.type == .ready } ? "NotReady" : "Unknown")
        if spec.unschedulable == true { state += ",SchedulingDisabled" }
        let roles = (metadata.labels ?? [:]).keys.compactMap { key -> String? in
            key.hasPrefix("node-role.kubernetes.io/") ? String(key.dropFirst("node-role.kubernetes.io/".count)) : nil
        }.sorted()
        let version = status.nodeInfo?["kubeletVersion"]?.stringValue ?? ""
        func addresses(_ type: NodeAddressType) -> String {
            let list = (status.addresses ?? []).filter { $0.type == type }.map(\.address)
            return list.isEmpty ? "<none>" : list.joined(separator: ",")
        }
        return [.string(state), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")), age(metadata, now: now),
                .string(version), .string(addresses(.internalIP)), .string(addresses(.externalIP))]
    }
}

extension Namespace: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Status", "The status of the namespace"),
        .ageColumn,
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        [.string(status.phase?.rawValue ?? "Active"), age(metadata, now: now)]
    }
}

extension EndpointSlice: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("AddressType", "The IP protocol for this slice."),
        .column("Ports", "The ports contained in this slice."),
        .column("Endpoints", "The endpoints contained in this slice."),
        .ageColumn,
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        let ports = (self.ports ?? []).compactMap { $0.port.map(String.init) }
        let addresses = endpoints.flatMap(\.addresses)
        var shown = addresses.prefix(3).joined(separator: ",")
        if addresses.count > 3 { shown += " + \(addresses.count - 3) more..." }
        return [.string(addressType.rawValue), .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                .string(addresses.isEmpty ? "<unset>" : shown), age(metadata, now: now)]
    }
}

extension Event: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Last Seen", "Time when last event occurred"),
        .column("Type", "Type of this event (Normal, Warning), new types could be added in the future."),
        .column("Reason", "This should be a short, machine understandable string that gives the reason for this event being generated."),
        .column("Object", "The object this Event is about."),
        .column("Message", "A human-readable description of the status of this operation."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        let last = (lastTimestamp ?? firstTimestamp).flatMap(KubeTime.parse).map { humanDuration(now.timeIntervalSince($0)) } ?? "<unknown>"
        let object = "\((involvedObject.kind ?? "").lowercased())/\(involvedObject.name ?? "")"
        return [.string(last), .string(type ?? ""), .string(reason ?? ""), .string(object), .string(message ?? "")]
    }
}

extension Endpoints: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Endpoints", "Endpoints of the service."),
        .ageColumn,
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        [.string(endpointsCell), age(metadata, now: now)]
    }

    /// Upstream's `formatEndpoints`: ready `ip:port` pairs, the first three, then `+ N more...`.
    var endpointsCell: String {
        var pairs: [String] = []
        for subset in subsets ?? [] {
            let ports = subset.ports ?? []
            for address in subset.addresses ?? [] {
                let host = address.ip.contains(":") ? "[\(address.ip)]" : address.ip
                if ports.isEmpty { pairs.append(address.ip) } else { pairs += ports.map { "\(host):\($0.port ?? 0)" } }
            }
        }
        guard !pairs.isEmpty else { return "<none>" }
        let shown = pairs.prefix(3).joined(separator: ",")
        return pairs.count > 3 ? "\(shown) + \(pairs.count - 3) more..." : shown
    }
}
