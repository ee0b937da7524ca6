import KubeAPI
import Values

/// ClusterIPs and NodePorts of every Service, rebuilt from the store at start.
/// NodePorts are unique per (port, protocol): 30080/TCP and 30080/UDP may belong to different Services.
actor ServiceAllocations {
    private var clusterIPs: ServiceIPAllocator
    private var nodePorts: [ServiceProtocol: PortAllocator]
    private let nodePortRange: ClosedRange<Int>

    init(serviceCIDR: CIDR, nodePortRange: ClosedRange<Int>) throws {
        guard serviceCIDR.size >= 4 else { throw ControlPlaneError.invalidConfig("--service-cidr \(serviceCIDR) is too small") }
        clusterIPs = ServiceIPAllocator(cidr: serviceCIDR)
        self.nodePortRange = nodePortRange
        nodePorts = [:]
        for p in [ServiceProtocol.tcp, .udp, .sctp] { nodePorts[p] = PortAllocator(range: nodePortRange) }
    }

    /// The address the `kubernetes` Service gets: the first usable one of the range.
    var firstAddress: IPAddress? { clusterIPs.firstAddress }

    func occupy(_ service: Service) {
        for ip in service.allocatedClusterIPs { if let address = IPAddress(ip) { try? clusterIPs.allocate(specific: address) } }
        for p in Self.heldPorts(of: service) { try? nodePorts[p.proto]?.allocate(specific: p.port) }
    }

    func release(_ service: Service) {
        for ip in service.allocatedClusterIPs { if let address = IPAddress(ip) { clusterIPs.release(address) } }
        for p in Self.heldPorts(of: service) { nodePorts[p.proto]?.release(p.port) }
    }

    /// Every (nodePort, protocol) a Service holds, health-check port included (as TCP).
    static func heldPorts(of service: Service) -> Set<PortKey> {
        var result = Set<PortKey>()
        for p in service.spec.ports ?? [] {
            if let n = p.nodePort, n > 0 { result.insert(PortKey(port: n, proto: p.protocol ?? .tcp)) }
        }
        if let hc = service.spec.healthCheckNodePort, hc > 0 { result.insert(PortKey(port: hc, proto: .tcp)) }
        return result
    }

    struct PortKey: Hashable { var port: Int; var proto: ServiceProtocol }

    /// Fills in clusterIP(s) and nodePorts of a new or changed Service, allocating what `old` did not
    /// hold; returns the allocations made, so a failed write can give them back.
    func allocate(_ service: inout Service, old: Service?) throws -> Allocated {
        var made = Allocated()
        do {
            try allocateClusterIP(&service, old: old, made: &made)
            try allocateNodePorts(&service, old: old, made: &made)
            return made
        } catch {
            undo(made)
            throw error
        }
    }

    struct Allocated: Sendable {
        var ips: [IPAddress] = []
        var ports: [PortKey] = []
    }

    func undo(_ made: Allocated) {
        for ip in made.ips { clusterIPs.release(ip) }
        for p in made.ports { nodePorts[p.proto]?.release(p.port) }
    }

    /// After an update: gives back what the old Service held and the new one does not.
    func releaseDropped(old: Service, new: Service) {
        let kept = Set(new.allocatedClusterIPs)
        for ip in old.allocatedClusterIPs where !kept.contains(ip) { if let a = IPAddress(ip) { clusterIPs.release(a) } }
        let keptPorts = Self.heldPorts(of: new)
        for p in Self.heldPorts(of: old).subtracting(keptPorts) { nodePorts[p.proto]?.release(p.port) }
    }

    private func allocateClusterIP(_ service: inout Service, old: Service?, made: inout Allocated) throws {
        if service.type == .externalName {
            service.spec.clusterIP = nil; service.spec.clusterIPs = nil; service.spec.ipFamilies = nil; service.spec.ipFamilyPolicy = nil
            return
        }
        // An update that omits allocated values keeps them (upstream's patchAllocatedValues).
        if let old, old.type != .externalName, (service.spec.clusterIP ?? "").isEmpty {
            service.spec.clusterIP = old.spec.clusterIP
            service.spec.clusterIPs = old.spec.clusterIPs
        }
        let family: IPFamily = clusterIPs.cidr.network.isIPv4 ? .ipv4 : .ipv6
        if service.spec.clusterIP == ServiceSpec.clusterIPNone {
            service.spec.clusterIPs = [ServiceSpec.clusterIPNone]
        } else if let requested = service.spec.clusterIP, !requested.isEmpty {
            if old?.allocatedClusterIPs.contains(requested) != true {
                guard let address = IPAddress(requested) else { throw invalidIP(requested, "must be a valid IP address") }
                do { try clusterIPs.allocate(specific: address) } catch { throw invalidIP(requested, "\(error)") }
                made.ips.append(address)
            }
            service.spec.clusterIPs = [requested]
        } else {
            guard let address = try? clusterIPs.allocateNext() else {
                throw Status(message: "Internal error occurred: failed to allocate a serviceIP: range is full", reason: "InternalError", code: 500)
            }
            made.ips.append(address)
            service.spec.clusterIP = address.description
            service.spec.clusterIPs = [address.description]
        }
        service.spec.ipFamilies = service.spec.ipFamilies ?? [family]
        service.spec.ipFamilyPolicy = service.spec.ipFamilyPolicy ?? .singleStack
    }

    private func allocateNodePorts(_ service: inout Service, old: Service?, made: inout Allocated) throws {
        let wantsNodePorts = service.type == .nodePort || (service.type == .loadBalancer && service.spec.allocateLoadBalancerNodePorts != false)
        var ports = service.spec.ports ?? []
        let held = old.map(Self.heldPorts(of:)) ?? []
        let oldByPort = Dictionary((old?.spec.ports ?? []).map { (PortKey(port: $0.port, proto: $0.protocol ?? .tcp), $0.nodePort) }, uniquingKeysWith: { a, _ in a })
        var usedHere = Set<PortKey>()
        for i in ports.indices {
            let proto = ports[i].protocol ?? .tcp
            // ClusterIP Services hold no nodePorts; a LoadBalancer without allocation keeps only requested ones.
            guard service.type == .nodePort || service.type == .loadBalancer, wantsNodePorts || (ports[i].nodePort ?? 0) > 0 else {
                ports[i].nodePort = nil
                continue
            }
            if (ports[i].nodePort ?? 0) == 0, let previous = oldByPort[PortKey(port: ports[i].port, proto: proto)] ?? nil {
                ports[i].nodePort = previous
            }
            if let requested = ports[i].nodePort, requested > 0 {
                let key = PortKey(port: requested, proto: proto)
                if !held.contains(key) && !usedHere.contains(key) {
                    do { _ = try takePort(proto, requested) } catch {
                        throw Status.invalid(Service.resourceInfo, name: service.name, causes: [StatusCause(
                            reason: "FieldValueInvalid", message: "Invalid value: \(requested): \(error)", field: "spec.ports[\(i)].nodePort")])
                    }
                    made.ports.append(key)
                }
                usedHere.insert(key)
            } else {
                let port = try takePort(proto, nil)
                ports[i].nodePort = port
                made.ports.append(PortKey(port: port, proto: proto))
                usedHere.insert(PortKey(port: port, proto: proto))
            }
        }
        if service.spec.ports != nil { service.spec.ports = ports }
        try allocateHealthCheckPort(&service, old: old, made: &made, usedHere: usedHere)
    }

    /// Takes `port` (or the next free one) for `proto`; errors as the allocator words them.
    private func takePort(_ proto: ServiceProtocol, _ port: Int?) throws -> Int {
        guard var allocator = nodePorts[proto] else { throw Status.internalError("no nodePort allocator for \(proto.rawValue)") }
        defer { nodePorts[proto] = allocator }
        if let port {
            try allocator.allocate(specific: port)
            return port
        }
        guard let next = try? allocator.allocateNext() else {
            throw Status(message: "Internal error occurred: failed to allocate a nodePort: range is full", reason: "InternalError", code: 500)
        }
        return next
    }

    private func allocateHealthCheckPort(_ service: inout Service, old: Service?, made: inout Allocated, usedHere: Set<PortKey>) throws {
        guard service.type == .loadBalancer, service.spec.externalTrafficPolicy == .local else {
            service.spec.healthCheckNodePort = nil
            return
        }
        if (service.spec.healthCheckNodePort ?? 0) == 0, let previous = old?.spec.healthCheckNodePort, previous > 0 {
            service.spec.healthCheckNodePort = previous
            return
        }
        if let requested = service.spec.healthCheckNodePort, requested > 0 {
            if old?.spec.healthCheckNodePort == requested { return }
            do { _ = try takePort(.tcp, requested) } catch {
                throw Status.invalid(Service.resourceInfo, name: service.name, causes: [StatusCause(
                    reason: "FieldValueInvalid", message: "Invalid value: \(requested): \(error)", field: "spec.healthCheckNodePort")])
            }
            made.ports.append(PortKey(port: requested, proto: .tcp))
        } else {
            let port = try takePort(.tcp, nil)
            service.spec.healthCheckNodePort = port
            made.ports.append(PortKey(port: port, proto: .tcp))
        }
    }

    private func invalidIP(_ ip: String, _ why: String) -> Status {
        Status.invalid(Service.resourceInfo, name: "", causes: [StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"\(ip)\": \(why)", field: "spec.clusterIPs[0]")])
    }
}
