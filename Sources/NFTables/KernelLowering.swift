import KubeAPI
import ProxyCore

/// Lowers ProxyCore's ruleset model to kernel commands: each model statement becomes the fixed short sequence
/// of kernel expressions documented on `NFTExpression`, values become key bytes in `nft`'s layout.
///
/// Pure and deterministic, so "what the kernel holds" can be compared with "what the model lowers to".
public struct KernelLowering: Sendable {
    public let table: NFTTableID

    public init(table: NFTTableID) { self.table = table }

    private var family: NFTFamily { table.family }

    // MARK: Sets and elements

    /// The kernel data type of a model data type.
    static func dataType(_ type: NFTDataType) -> KernelDataType {
        switch type {
        case .ipv4Address: .ipv4Address
        case .ipv6Address: .ipv6Address
        case .inetProto: .inetProtocol
        case .inetService: .inetService
        case .mark: .mark
        case .ifname: .interfaceName
        case .verdict: .verdict
        case .integer: .integer32
        }
    }

    /// The kernel data type of a map's data: one type, or a concatenation (an endpoint's address . port).
    static func data(_ types: [NFTDataType]) -> KernelDataType? {
        switch types.count {
        case 0: nil
        case 1: dataType(types[0])
        default: .concat(types.map(dataType))
        }
    }

    /// The kernel set for a model set or map (elements come separately).
    public func set(_ set: NFTSet) -> KernelSet {
        var flags: KernelSetFlags = []
        for flag in set.flags {
            switch flag {
            case .interval: flags.insert(.interval)
            case .timeout: flags.insert(.timeout)
            case .dynamic: flags.insert(.dynamic)
            case .constant: flags.insert(.constant)
            }
        }
        return KernelSet(table: table, name: set.name, key: set.keyType.map(Self.dataType),
                         data: Self.data(set.dataTypes), flags: flags,
                         timeoutMilliseconds: set.timeoutSeconds.map { UInt64($0) * 1000 }, comment: set.comment)
    }

    /// Kernel elements for model elements of `set`. In a single-field interval set a prefix becomes a start
    /// element and an interval-end element one past its last address; in a concatenated interval set each
    /// field contributes its first and last value to `key` and `keyEnd`.
    public func elements(_ elements: [NFTElement], of set: NFTSet) -> [KernelElement] {
        let interval = set.flags.contains(.interval)
        var result: [KernelElement] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            let data = element.data.map(elementData)
            if interval && set.keyType.count == 1, case .prefix(let cidr)? = element.key.first {
                result.append(KernelElement(key: cidr.network.bytes, data: data, comment: element.comment))
                if let end = cidr.lastAddress.adding(1), end > cidr.lastAddress {
                    result.append(KernelElement(key: end.bytes, intervalEnd: true))
                }
                continue
            }
            let key = KernelKey.concat(element.key.map { bytes($0, last: false) })
            var keyEnd: [UInt8]?
            if interval && set.keyType.count > 1 {
                keyEnd = KernelKey.concat(element.key.map { bytes($0, last: true) })
            } else if interval {
                // A single address in an interval set is the range [address, address + 1).
                if case .address(let address)? = element.key.first, let end = address.adding(1), end > address {
                    result.append(KernelElement(key: key, data: data, comment: element.comment))
                    result.append(KernelElement(key: end.bytes, intervalEnd: true))
                    continue
                }
            }
            result.append(KernelElement(key: key, keyEnd: keyEnd, data: data, comment: element.comment))
        }
        return result
    }

    private func elementData(_ data: NFTElementData) -> KernelElementData {
        switch data {
        case .verdict(let verdict): .verdict(verdict)
        case .value(let value): .bytes(bytes(value, last: false))
        case .values(let values): .bytes(KernelKey.concat(values.map { bytes($0, last: false) }))
        }
    }

    /// Bytes of a value; for a prefix, its first or last address.
    func bytes(_ value: NFTValue, last: Bool) -> [UInt8] {
        switch value {
        case .address(let address): address.bytes
        case .prefix(let cidr): last ? cidr.lastAddress.bytes : cidr.network.bytes
        case .l4proto(let proto): KernelKey.proto(proto.rawValue)
        case .port(let port): KernelKey.port(port)
        case .mark(let mark): KernelKey.host32(mark)
        case .ifname(let name): KernelKey.interfaceName(name)
        case .integer(let value): KernelKey.host32(value)
        }
    }

    // MARK: Rules

    /// The kernel rule for a model rule in `chain`.
    public func rule(_ rule: NFTRule, chain: String) -> KernelRule {
        KernelRule(chain: chain, rule.expressions.flatMap(expressions), comment: rule.comment)
    }

    /// The kernel expressions of one model statement. Registers restart at the first for every statement.
    public func expressions(_ expression: NFTExpression) -> [KernelExpression] {
        let first = KernelRegister.first
        switch expression {
        case .match(let field, let value, let negated):
            let op: CmpOp = negated ? .neq : .eq
            if case .prefix(let cidr) = value {
                return [load(field, into: first),
                        .bitwise(source: first, destination: first, mask: cidr.netmask.bytes,
                                 xor: [UInt8](repeating: 0, count: cidr.netmask.bytes.count)),
                        .cmp(source: first, op: op, data: cidr.network.bytes)]
            }
            var data = bytes(value, last: false)
            if case .ifname(let name) = value { data = Array(name.utf8) + [0] }
            return [load(field, into: first), .cmp(source: first, op: op, data: data)]
        case .maskedMatch(let field, let mask, let value, let negated):
            return [load(field, into: first),
                    .bitwise(source: first, destination: first, mask: KernelKey.host32(mask), xor: KernelKey.host32(0)),
                    .cmp(source: first, op: negated ? .neq : .eq, data: KernelKey.host32(value))]
        case .lookup(let fields, let set, let negated):
            return loads(fields) + [.lookup(source: first, set: .named(set), destination: nil, inverted: negated)]
        case .vmap(let fields, let map):
            return loads(fields) + [.lookup(source: first, set: .named(map), destination: .verdict, inverted: false)]
        case .numgenVmap(let modulus, let map):
            return [.numgen(destination: first, modulus: UInt32(max(modulus, 0)), random: true, offset: 0),
                    .lookup(source: first, set: .named(map), destination: .verdict, inverted: false)]
        case .dnatMap(let fields, let modulus, let map):
            // As nft lowers `dnat ip to KEY map @m` of concatenated data: the mapped address lands where the
            // key started, the port in the register after the address.
            let numgenRegister = first.advanced(by: fields.reduce(0) { $0 + Self.dataType($1.dataType(in: family)).paddedSize / 4 })
            let portRegister = first.advanced(by: Self.dataType(family.addressType).paddedSize / 4)
            return loads(fields) + [
                .numgen(destination: numgenRegister, modulus: UInt32(max(modulus, 0)), random: true, offset: 0),
                .lookup(source: first, set: .named(map), destination: first, inverted: false),
                .nat(.dnat(family, address: first, port: portRegister)),
            ]
        case .numgenIs(let modulus, let value):
            return [.numgen(destination: first, modulus: UInt32(max(modulus, 0)), random: true, offset: 0),
                    .cmp(source: first, op: .eq, data: KernelKey.host32(value))]
        case .fibLocal(let address, let negated):
            // NFTA_FIB_F_SADDR 1, NFTA_FIB_F_DADDR 2; NFT_FIB_RESULT_ADDRTYPE 3; RTN_LOCAL 2.
            return [.fib(flags: address == .saddr ? 1 : 2, result: 3, destination: first),
                    .cmp(source: first, op: negated ? .neq : .eq, data: KernelKey.host32(2))]
        case .ctState(let states, let negated):
            let mask = states.reduce(UInt32(0)) { $0 | $1.bit }
            return ctBits(.state, mask: mask, negated: negated)
        case .ctStatus(let statuses, let negated):
            let mask = statuses.reduce(UInt32(0)) { $0 | $1.bit }
            return ctBits(.status, mask: mask, negated: negated)
        case .socketTransparent:
            return [.socket(key: 0, destination: first), .cmp(source: first, op: .eq, data: [1])]  // NFT_SOCKET_TRANSPARENT
        case .counter:
            return [.counter]
        case .setMark(let operation):
            switch operation {
            case .set(let value):
                return [.immediate(destination: first, data: KernelKey.host32(value)), .metaSet(.mark, source: first)]
            case .or(let value):
                return [.meta(.mark, destination: first),
                        .bitwise(source: first, destination: first, mask: KernelKey.host32(~value), xor: KernelKey.host32(value)),
                        .metaSet(.mark, source: first)]
            case .xor(let value):
                return [.meta(.mark, destination: first),
                        .bitwise(source: first, destination: first, mask: KernelKey.host32(0xffff_ffff), xor: KernelKey.host32(value)),
                        .metaSet(.mark, source: first)]
            }
        case .updateSet(let set, let key):
            return loads(key) + [.dynset(.update(set, from: first))]
        case .dnat(let address, let port):
            let portRegister = KernelRegister.r32(4)
            var result: [KernelExpression] = [.immediate(destination: first, data: address.bytes)]
            if let port { result.append(.immediate(destination: portRegister, data: KernelKey.port(port))) }
            result.append(.nat(.dnat(family, address: first, port: port == nil ? nil : portRegister)))
            return result
        case .tproxy(let address, let port):
            let portRegister = KernelRegister.r32(4)
            return [.immediate(destination: first, data: address.bytes),
                    .immediate(destination: portRegister, data: KernelKey.port(port)),
                    .tproxy(family: address.isIPv4 ? 2 : 10, address: first, port: portRegister)]
        case .masquerade(let fullyRandom):
            // NF_NAT_RANGE_PROTO_RANDOM_FULLY
            return [.masquerade(flags: fullyRandom ? 0x10 : 0)]
        case .reject(let kind):
            switch kind {
            case .tcpReset:
                return [.reject(type: 1, code: 0)]
            case .portUnreachable, .icmpxPortUnreachable:
                // ip/ip6 tables take the family's own ICMP code: port unreachable is 3 (ICMP) and 4 (ICMPv6).
                return [.reject(type: 0, code: family == .ip ? 3 : 4)]
            }
        case .verdict(let verdict):
            return [.verdict(verdict)]
        }
    }

    private func ctBits(_ key: CTKey, mask: UInt32, negated: Bool) -> [KernelExpression] {
        let first = KernelRegister.first
        return [.ct(key, destination: first, direction: nil),
                .bitwise(source: first, destination: first, mask: KernelKey.host32(mask), xor: KernelKey.host32(0)),
                .cmp(source: first, op: negated ? .eq : .neq, data: KernelKey.host32(0))]
    }

    /// Loads fields into consecutive registers, each field padded to 4 bytes.
    private func loads(_ fields: [NFTField]) -> [KernelExpression] {
        var register = KernelRegister.first
        var result: [KernelExpression] = []
        for field in fields {
            result.append(load(field, into: register))
            register = register.advanced(by: Self.dataType(field.dataType(in: family)).paddedSize / 4)
        }
        return result
    }

    /// The expression loading one field.
    func load(_ field: NFTField, into register: KernelRegister) -> KernelExpression {
        let ipv4 = family == .ip
        switch field {
        case .saddr: return .payload(base: .network, offset: ipv4 ? 12 : 8, length: ipv4 ? 4 : 16, destination: register)
        case .daddr: return .payload(base: .network, offset: ipv4 ? 16 : 24, length: ipv4 ? 4 : 16, destination: register)
        case .sport: return .payload(base: .transport, offset: 0, length: 2, destination: register)
        case .dport: return .payload(base: .transport, offset: 2, length: 2, destination: register)
        case .l4proto: return .meta(.l4proto, destination: register)
        case .mark: return .meta(.mark, destination: register)
        case .iifname: return .meta(.iifname, destination: register)
        case .oifname: return .meta(.oifname, destination: register)
        }
    }
}
