import KubeAPI
import Values

/// What to do with a query after looking at the cluster zone.
public enum ZoneAnswer: Sendable, Hashable {
    /// A complete response.
    case response(DNSMessage)
    /// The name is outside the zone (and not a known reverse name): forward it upstream.
    case forward
    /// The response so far ends in a CNAME (an ExternalName Service) pointing outside the zone:
    /// resolve `target`/`type` upstream and append its answers; send `partial` alone if that fails.
    case chase(partial: DNSMessage, target: DNSName, type: DNSType)
}

/// Answers queries for the cluster zone from a `ServiceIndex` snapshot, as CoreDNS's kubernetes
/// plugin does: NOERROR/NODATA with the SOA for names that exist without the asked type (and for
/// empty non-terminals), NXDOMAIN with the SOA otherwise, SERVFAIL while the index is unsynced.
public enum ZoneAnswerer {
    /// TTL of the `dns-version` TXT record (CoreDNS uses 28800).
    public static let versionTTL: UInt32 = 28800
    static let maxCNAMEChain = 8

    public static func answer(_ query: DNSMessage, index: ServiceIndex) -> ZoneAnswer {
        guard query.header.opcode == 0 else { return .response(.response(to: query, rcode: .notImp)) }
        guard query.questions.count == 1, let q = query.questions.first else {
            return .response(.response(to: query, rcode: .formErr))
        }
        if let edns = query.edns, edns.version > 0 {
            var r = DNSMessage.response(to: query, rcode: .badVers)
            r.questions = []
            return .response(r)
        }
        let zone = index.options.zone
        let inZone = q.name.isSubdomain(of: zone)
        let key = q.name.key
        if !inZone {
            // Reverse names of ClusterIPs and endpoints are ours; everything else goes upstream.
            guard index.synced, let node = index.node(key) else { return .forward }
            var r = authoritative(query)
            add(node, for: q, owner: q.name, index: index, to: &r)
            if r.answers.isEmpty { r.authority = [index.soa] }
            return .response(r)
        }
        guard index.synced else { return .response(.response(to: query, rcode: .servFail)) }
        var r = authoritative(query)
        guard q.class == .in || q.class == .any else {
            r.rcode = .refused
            return .response(r)
        }
        let relative = q.name.labelCount - zone.labelCount
        if relative == 0 {
            switch q.type {
            case .soa: r.answers = [index.soa]
            case .ns:
                r.answers = [DNSRecord(name: q.name, ttl: index.options.ttl, data: .ns(index.nameserverName))]
                if let ns = index.node(index.nameserverName.key) {
                    r.additional = addresses(ns, owner: index.nameserverName, ttl: index.options.ttl)
                }
            default: r.authority = [index.soa]
            }
            return .response(r)
        }
        if let podAnswer = podRecord(q, relative: relative, index: index, response: r) { return .response(podAnswer) }
        guard let node = index.node(key) else {
            r.rcode = .nxDomain
            r.authority = [index.soa]
            return .response(r)
        }
        if let target = node.cname, q.type != .cname {
            r.answers.append(DNSRecord(name: q.name, ttl: index.options.ttl, data: .cname(target)))
            return follow(target, query: q, index: index, response: r)
        }
        add(node, for: q, owner: q.name, index: index, to: &r)
        if r.answers.isEmpty { r.authority = [index.soa] }
        return .response(r)
    }

    static func authoritative(_ query: DNSMessage) -> DNSMessage {
        var r = DNSMessage.response(to: query)
        r.header.authoritative = true
        return r
    }

    /// Adds the node's records of the asked type (SRV targets' addresses go to Additional).
    static func add(_ node: ZoneNode, for q: DNSQuestion, owner: DNSName, index: ServiceIndex, to r: inout DNSMessage) {
        let ttl = index.options.ttl
        let any = q.type == .any
        if q.type == .a || any { r.answers += node.a.map { DNSRecord(name: owner, ttl: ttl, data: .a($0)) } }
        if q.type == .aaaa || any { r.answers += node.aaaa.map { DNSRecord(name: owner, ttl: ttl, data: .aaaa($0)) } }
        if q.type == .cname || any, let c = node.cname { r.answers.append(DNSRecord(name: owner, ttl: ttl, data: .cname(c))) }
        if q.type == .ptr || any { r.answers += node.ptr.map { DNSRecord(name: owner, ttl: ttl, data: .ptr($0)) } }
        if q.type == .txt || any { r.answers += node.txt.map { DNSRecord(name: owner, ttl: versionTTL, data: .txt([$0])) } }
        if q.type == .srv || any {
            r.answers += node.srv.map { DNSRecord(name: owner, ttl: ttl, data: .srv($0)) }
            var seen: Set<DNSName> = []
            for srv in node.srv where seen.insert(srv.target).inserted {
                if let target = index.node(srv.target.key) { r.additional += addresses(target, owner: srv.target, ttl: ttl) }
            }
        }
    }

    static func addresses(_ node: ZoneNode, owner: DNSName, ttl: UInt32) -> [DNSRecord] {
        node.a.map { DNSRecord(name: owner, ttl: ttl, data: .a($0)) } + node.aaaa.map { DNSRecord(name: owner, ttl: ttl, data: .aaaa($0)) }
    }

    /// Follows a CNAME chain inside the zone; hands an out-of-zone target back to be chased upstream.
    static func follow(_ start: DNSName, query q: DNSQuestion, index: ServiceIndex, response: DNSMessage) -> ZoneAnswer {
        var r = response
        var target = start
        for _ in 0..<maxCNAMEChain {
            guard target.isSubdomain(of: index.options.zone) else { return .chase(partial: r, target: target, type: q.type) }
            guard let node = index.node(target.key) else { return .response(r) }
            if let next = node.cname {
                r.answers.append(DNSRecord(name: target, ttl: index.options.ttl, data: .cname(next)))
                target = next
                continue
            }
            add(node, for: DNSQuestion(name: target, type: q.type), owner: target, index: index, to: &r)
            return .response(r)
        }
        return .response(r)
    }

    /// Names under `pod.<zone>`; nil for other names.
    static func podRecord(_ q: DNSQuestion, relative: Int, index: ServiceIndex, response: DNSMessage) -> DNSMessage? {
        let labels = q.name.labels
        guard relative >= 2, DNSName.equalFolded(labels[relative - 1], Array("pod".utf8)) else { return nil }
        var r = response
        let mode = index.options.pods
        let namespace = String(decoding: labels[relative - 2], as: UTF8.self).lowercased()
        var ip: IPAddress?
        if relative == 3, mode != .disabled {
            ip = parseDashed(String(decoding: labels[0], as: UTF8.self))
            if mode == .verified, let found = ip, !index.hasPod(found, in: namespace) { ip = nil }
        }
        if let ip {
            if (q.type == .a || q.type == .any) && ip.isIPv4 || (q.type == .aaaa || q.type == .any) && ip.isIPv6 {
                r.answers = [DNSRecord(name: q.name, ttl: index.options.ttl, data: ip.isIPv4 ? .a(ip) : .aaaa(ip))]
            } else {
                r.authority = [index.soa]
            }
        } else if relative == 2, mode != .disabled {
            r.authority = [index.soa]  // the namespace level is an empty non-terminal
        } else {
            r.rcode = .nxDomain
            r.authority = [index.soa]
        }
        return r
    }

    /// `10-244-1-5` → 10.244.1.5; `fd00--5` → fd00::5.
    public static func parseDashed(_ label: String) -> IPAddress? {
        let parts = label.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 4, let v4 = IPAddress(parts.joined(separator: ".")), v4.isIPv4 { return v4 }
        guard let v6 = IPAddress(String(label.map { $0 == "-" ? ":" : $0 })), v6.isIPv6 else { return nil }
        return v6
    }
}
