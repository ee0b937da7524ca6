import KubeAPI

// Canonical `nft -f` text: sets, maps and chains sorted by name, elements sorted, one per line. Used by golden
// tests, debugging and the benchmark's `nft -f` comparison; valid input for nft 1.0.6.

extension NFTRuleset {
    /// `nft -f` input creating every table (tables sorted by family and name).
    public func nftText() -> String {
        tables.sorted { $0.id < $1.id }.map { $0.nftText() }.joined(separator: "\n")
    }
}

extension NFTTable {
    /// `nft -f` input creating this table with its sets, maps and chains.
    public func nftText() -> String {
        var out = "table \(family.rawValue) \(NFTText.name(name)) {\n"
        if let comment { out += "\tcomment \(NFTText.quoted(comment))\n" }
        for set in sets.sorted(by: { $0.name < $1.name }) { out += set.nftText(family: family) }
        for chain in chains.sorted(by: { $0.name < $1.name }) { out += chain.nftText(family: family) }
        return out + "}\n"
    }
}

extension NFTSet {
    func nftText(family: NFTFamily) -> String {
        var out = "\t\(isMap ? "map" : "set") \(NFTText.name(name)) {\n"
        // A numgen value has no type name: nft declares such maps by expressions (`typeof`), key and data.
        var type: String
        if declaredByTypeof {
            type = "\t\ttypeof " + keyType.map { $0.typeofExpression(family) }.joined(separator: " . ")
            if !dataTypes.isEmpty { type += " : " + dataTypes.map { $0.typeofExpression(family) }.joined(separator: " . ") }
        } else {
            type = "\t\ttype " + keyType.map(\.nftName).joined(separator: " . ")
            if !dataTypes.isEmpty { type += " : " + dataTypes.map(\.nftName).joined(separator: " . ") }
        }
        out += type + "\n"
        if !flags.isEmpty { out += "\t\tflags " + flags.map(\.rawValue).joined(separator: ",") + "\n" }
        if let timeoutSeconds { out += "\t\ttimeout \(timeoutSeconds)s\n" }
        if let comment { out += "\t\tcomment \(NFTText.quoted(comment))\n" }
        if !elements.isEmpty {
            // Numgen keys in numeric order, as nft lists them; everything else by text.
            func number(_ e: NFTElement) -> UInt32 { if case .integer(let i)? = e.key.first { i } else { 0 } }
            let lines = keyType == [.integer]
                ? elements.sorted { number($0) < number($1) }.map { $0.nftText() }
                : elements.map { $0.nftText() }.sorted()
            out += "\t\telements = {\n" + lines.map { "\t\t\t" + $0 }.joined(separator: ",\n") + "\n\t\t}\n"
        }
        return out + "\t}\n"
    }
}

extension NFTElement {
    /// `KEY [comment "…"] [: DATA]`.
    public func nftText() -> String {
        var out = key.map { $0.nftText() }.joined(separator: " . ")
        if let comment { out += " comment " + NFTText.quoted(comment) }
        switch data {
        case .verdict(let v)?: out += " : " + v.nftText()
        case .value(let v)?: out += " : " + v.nftText()
        case .values(let vs)?: out += " : " + vs.map { $0.nftText() }.joined(separator: " . ")
        case nil: break
        }
        return out
    }
}

extension NFTChain {
    func nftText(family: NFTFamily) -> String {
        var out = "\tchain \(NFTText.name(name)) {\n"
        if let comment { out += "\t\tcomment \(NFTText.quoted(comment))\n" }
        if let base {
            out += "\t\ttype \(base.type.rawValue) hook \(base.hook.rawValue) priority \(base.priority); "
                + "policy \(base.policy.rawValue);\n"
        }
        for rule in rules { out += "\t\t" + rule.nftText(family: family) + "\n" }
        return out + "\t}\n"
    }
}

extension NFTRule {
    /// The rule as one line of nft syntax.
    public func nftText(family: NFTFamily) -> String {
        var out = expressions.map { $0.nftText(family: family) }.joined(separator: " ")
        if let comment { out += " comment " + NFTText.quoted(comment) }
        return out
    }
}

extension NFTExpression {
    /// The statement in nft syntax.
    public func nftText(family: NFTFamily) -> String {
        switch self {
        case .match(let field, let value, let negated):
            return field.nftText(family) + (negated ? " != " : " ") + value.nftText()
        case .maskedMatch(let field, let mask, let value, let negated):
            return field.nftText(family) + " & " + NFTText.hex(mask) + (negated ? " != " : " == ") + NFTText.hex(value)
        case .lookup(let fields, let set, let negated):
            return NFTText.concat(fields, family) + (negated ? " != @" : " @") + NFTText.name(set)
        case .vmap(let fields, let map):
            return NFTText.concat(fields, family) + " vmap @" + NFTText.name(map)
        case .numgenVmap(let modulus, let map):
            return "numgen random mod \(modulus) vmap @" + NFTText.name(map)
        case .numgenIs(let modulus, let value):
            return "numgen random mod \(modulus) == \(value)"
        case .dnatMap(let fields, let modulus, let map):
            return "dnat \(family.rawValue) to " + NFTText.concat(fields, family) + (fields.isEmpty ? "" : " . ")
                + "numgen random mod \(modulus) map @" + NFTText.name(map)
        case .fibLocal(let address, let negated):
            return "fib \(address.rawValue) type " + (negated ? "!= local" : "local")
        case .ctState(let states, let negated):
            return "ct state " + (negated ? "!= " : "") + states.map(\.rawValue).joined(separator: ",")
        case .ctStatus(let statuses, let negated):
            return "ct status " + (negated ? "!= " : "") + statuses.map(\.rawValue).joined(separator: ",")
        case .socketTransparent:
            return "socket transparent 1"
        case .counter:
            return "counter"
        case .setMark(let op):
            switch op {
            case .set(let v): return "meta mark set " + NFTText.hex(v)
            case .or(let v): return "meta mark set meta mark or " + NFTText.hex(v)
            case .xor(let v): return "meta mark set meta mark xor " + NFTText.hex(v)
            }
        case .updateSet(let set, let key):
            return "update @\(NFTText.name(set)) { " + NFTText.concat(key, family) + " }"
        case .dnat(let address, let port):
            guard let port else { return "dnat to \(address)" }
            return address.isIPv6 ? "dnat to [\(address)]:\(port)" : "dnat to \(address):\(port)"
        case .tproxy(let address, let port):
            return address.isIPv6 ? "tproxy to [\(address)]:\(port)" : "tproxy to \(address):\(port)"
        case .masquerade(let fullyRandom):
            return fullyRandom ? "masquerade fully-random" : "masquerade"
        case .reject(let kind):
            switch kind {
            case .portUnreachable: return "reject"
            case .tcpReset: return "reject with tcp reset"
            case .icmpxPortUnreachable: return "reject with icmpx type port-unreachable"
            }
        case .verdict(let verdict):
            return verdict.nftText()
        }
    }
}

extension NFTDataType {
    /// The expression nft's `typeof` declarations name for a value of this type (the fields kproxy keys on).
    func typeofExpression(_ family: NFTFamily) -> String {
        switch self {
        case .ipv4Address, .ipv6Address: "\(family.rawValue) daddr"
        case .inetProto: "meta l4proto"
        case .inetService: "th dport"
        case .mark: "meta mark"
        case .ifname: "iifname"
        case .verdict: "verdict"
        case .integer: "numgen random mod 1"
        }
    }
}

extension NFTField {
    /// `ip saddr`, `th dport`, `meta l4proto`, … in a table of `family`.
    public func nftText(_ family: NFTFamily) -> String {
        switch self {
        case .saddr: "\(family.rawValue) saddr"
        case .daddr: "\(family.rawValue) daddr"
        case .sport: "th sport"
        case .dport: "th dport"
        case .l4proto: "meta l4proto"
        case .mark: "meta mark"
        case .iifname: "iifname"
        case .oifname: "oifname"
        }
    }
}

extension NFTValue {
    /// The constant in nft syntax.
    public func nftText() -> String {
        switch self {
        case .address(let ip): ip.description
        case .prefix(let cidr): cidr.description
        case .l4proto(let p): p.name
        case .port(let p): String(p)
        case .mark(let m): NFTText.hex(m)
        case .ifname(let s): NFTText.quoted(s)
        case .integer(let i): String(i)
        }
    }
}

extension NFTVerdict {
    /// `accept`, `goto NAME`, …
    public func nftText() -> String {
        switch self {
        case .accept: "accept"
        case .drop: "drop"
        case .continue: "continue"
        case .return: "return"
        case .jump(let c): "jump " + NFTText.name(c)
        case .goto(let c): "goto " + NFTText.name(c)
        }
    }
}

/// Lexical helpers for nft syntax.
enum NFTText {
    /// A bare identifier when nft's scanner accepts it, else a quoted string.
    static func name(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return quoted(s) }
        let ok = s.unicodeScalars.allSatisfy { c in
            (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c))) || "/-_.".unicodeScalars.contains(c)
        }
        return ok ? s : quoted(s)
    }

    static func quoted(_ s: String) -> String {
        "\"" + String(s.map { $0 == "\"" ? "'" : $0 }) + "\""
    }

    static func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }

    static func concat(_ fields: [NFTField], _ family: NFTFamily) -> String {
        fields.map { $0.nftText(family) }.joined(separator: " . ")
    }
}
