import KubeAPI
import Values

/// Mutable packet state along one path.
struct PacketState {
    var src: IPAddress
    var dst: IPAddress
    var proto: NFTL4Proto
    var sport: UInt16
    var dport: UInt16
    var mark: UInt32
    var iifname: String
    var dnat: String?
    var masquerade = false
    var listenerPort: UInt16?
    var updates: [String] = []
    var path: [String] = []
    var verdict: TraceOutcome.Verdict = .accept

    init(_ p: TracePacket) {
        src = p.source; dst = p.destination; proto = p.proto; sport = p.sourcePort; dport = p.destinationPort
        mark = p.mark
        if case .inbound(let i) = p.origin { iifname = i } else { iifname = "" }
    }

    var outcome: TraceOutcome {
        TraceOutcome(verdict: verdict, dnat: dnat, masquerade: masquerade, updatedSets: updates, chains: path, listenerPort: listenerPort)
    }

    func value(_ field: NFTField) -> NFTValue {
        switch field {
        case .saddr: .address(src)
        case .daddr: .address(dst)
        case .sport: .port(sport)
        case .dport: .port(dport)
        case .l4proto: .l4proto(proto)
        case .mark: .mark(mark)
        case .iifname: .ifname(iifname)
        case .oifname: .ifname("")
        }
    }
}

/// How a chain (or rule) ended.
enum ChainFlow {
    case ended
    case final(TraceOutcome.Verdict)

    var verdict: TraceOutcome.Verdict {
        if case .final(let v) = self { return v }
        return .accept
    }
}

/// How one rule ended.
private enum RuleFlow {
    case noMatch, next, `return`
    case jump(String), goto(String)
    case final(TraceOutcome.Verdict)
}

extension PacketTracer {
    /// Runs `chain` from rule `index`; one result per path.
    func run(_ chain: NFTChain, from index: Int, _ state: PacketState, depth: Int) -> [(ChainFlow, PacketState)] {
        guard depth < 64 else { return [(.final(.drop), state)] }
        guard index < chain.rules.count else { return [(.ended, state)] }
        var results: [(ChainFlow, PacketState)] = []
        for (flow, s) in evaluate(chain.rules[index].expressions, 0, state) {
            switch flow {
            case .noMatch, .next:
                results += run(chain, from: index + 1, s, depth: depth)
            case .return:
                results.append((.ended, s))
            case .final(let v):
                results.append((.final(v), s))
            case .jump(let target), .goto(let target):
                guard let callee = chains[target] else { results.append((.final(.drop), s)); continue }
                var entered = s
                entered.path.append(target)
                for (calleeFlow, after) in run(callee, from: 0, entered, depth: depth + 1) {
                    if case .final = calleeFlow {
                        results.append((calleeFlow, after))
                    } else if case .jump = flow {
                        results += run(chain, from: index + 1, after, depth: depth)
                    } else {
                        results.append((.ended, after))
                    }
                }
            }
        }
        return results
    }

    private func evaluate(_ exprs: [NFTExpression], _ i: Int, _ state: PacketState) -> [(RuleFlow, PacketState)] {
        guard i < exprs.count else { return [(.next, state)] }
        var s = state
        let proceed = { (ok: Bool, s: PacketState) -> [(RuleFlow, PacketState)] in
            ok ? evaluate(exprs, i + 1, s) : [(.noMatch, s)]
        }
        switch exprs[i] {
        case .match(let field, let value, let negated):
            return proceed(Self.matches(s.value(field), value) != negated, s)
        case .maskedMatch(let field, let mask, let value, let negated):
            guard case .mark(let m) = s.value(field) else { return [(.noMatch, s)] }
            return proceed((m & mask == value) != negated, s)
        case .lookup(let fields, let set, let negated):
            return proceed(contains(set, fields.map(s.value)) != negated, s)
        case .vmap(let fields, let map):
            guard case .verdict(let v)? = element(map, fields.map(s.value))?.data else { return [(.noMatch, s)] }
            return [(Self.flow(v), s)]
        case .numgenVmap(let modulus, let map):
            // Every value numgen can draw is a path; a value missing from the map makes the rule not match.
            return (0..<UInt32(max(modulus, 0))).map { i in
                guard case .verdict(let v)? = element(map, [.integer(i)])?.data else { return (.noMatch, s) }
                return (Self.flow(v), s)
            }
        case .dnatMap(let fields, let modulus, let map):
            // Every value numgen can draw is a path; a key missing from the map ends the rule.
            let key = fields.map(s.value)
            return (0..<UInt32(max(modulus, 0))).map { i in
                guard case .values(let data)? = element(map, key + [.integer(i)])?.data,
                      case .address(let address)? = data.first, case .port(let port)? = data.last else { return (.noMatch, s) }
                var d = s
                d.dst = address
                d.dport = port
                d.dnat = address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
                return (.final(.accept), d)
            }
        case .numgenIs(let modulus, let value):
            // Both outcomes are paths when the draw can go either way.
            let hit = value < UInt32(max(modulus, 0))
            let miss = modulus > 1 || !hit
            return (hit ? evaluate(exprs, i + 1, s) : []) + (miss ? [(.noMatch, s)] : [])
        case .fibLocal(let address, let negated):
            return proceed(isLocalAddress(address == .saddr ? s.src : s.dst) != negated, s)
        case .ctState(let states, let negated):
            return proceed(states.contains(.new) != negated, s)
        case .ctStatus(let statuses, let negated):
            let has = statuses.contains(.dnat) && s.dnat != nil || statuses.contains(.snat) && s.masquerade
            return proceed(has != negated, s)
        case .socketTransparent:
            return proceed(transparentSocket, s)
        case .counter:
            return proceed(true, s)
        case .setMark(let op):
            switch op {
            case .set(let v): s.mark = v
            case .or(let v): s.mark |= v
            case .xor(let v): s.mark ^= v
            }
            return proceed(true, s)
        case .updateSet(let set, _):
            s.updates.append(set)
            return proceed(true, s)
        case .dnat(let address, let port):
            s.dst = address
            if let port { s.dport = port }
            s.dnat = address.isIPv6 ? "[\(address)]:\(s.dport)" : "\(address):\(s.dport)"
            return [(.final(.accept), s)]
        case .tproxy(_, let port):
            // Non-terminal, as in the kernel: the rule goes on (a mark, a verdict).
            s.listenerPort = port
            return proceed(true, s)
        case .masquerade:
            s.masquerade = true
            return [(.final(.accept), s)]
        case .reject(let kind):
            return [(.final(.reject(kind)), s)]
        case .verdict(let v):
            return [(Self.flow(v), s)]
        }
    }

    private static func flow(_ v: NFTVerdict) -> RuleFlow {
        switch v {
        case .accept: .final(.accept)
        case .drop: .final(.drop)
        case .continue: .next
        case .return: .return
        case .jump(let c): .jump(c)
        case .goto(let c): .goto(c)
        }
    }

    static func matches(_ actual: NFTValue, _ pattern: NFTValue) -> Bool {
        if case .prefix(let cidr) = pattern, case .address(let ip) = actual { return cidr.contains(ip) }
        return actual == pattern
    }

    private func element(_ set: String, _ key: [NFTValue]) -> NFTElement? {
        sets[set]?.elements.first { e in
            e.key.count == key.count && zip(key, e.key).allSatisfy { Self.matches($0, $1) }
        }
    }

    private func contains(_ set: String, _ key: [NFTValue]) -> Bool {
        if key.count == 1, case .address(let ip) = key[0], dynamicSetMembers[set]?.contains(ip) == true { return true }
        return element(set, key) != nil
    }
}
