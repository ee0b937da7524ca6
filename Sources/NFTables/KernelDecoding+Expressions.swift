import CNftnl
import ProxyCore

extension KernelDecoding {
    /// The kernel expression for a parsed libnftnl expression; unknown types throw (the table holds something
    /// kproxy never writes).
    static func expression(_ item: OpaquePointer, anonymousSets: [String: (KernelSet, [KernelElement])],
                           chain: String) throws -> KernelExpression {
        let name = nftnl_expr_get_str(item, UInt16(NFTNL_EXPR_NAME)).map { String(cString: $0) } ?? ""
        func has(_ attribute: Int) -> Bool { nftnl_expr_is_set(item, UInt16(attribute)) }
        func u32(_ attribute: Int) -> UInt32 { nftnl_expr_get_u32(item, UInt16(attribute)) }
        func register(_ attribute: Int) -> KernelRegister { KernelRegister(kernelValue: u32(attribute)) }
        func string(_ attribute: Int) -> String? {
            guard has(attribute) else { return nil }
            return nftnl_expr_get_str(item, UInt16(attribute)).map { String(cString: $0) }
        }
        func bytes(_ attribute: Int) -> [UInt8] {
            var length: UInt32 = 0
            guard has(attribute), let data = nftnl_expr_get(item, UInt16(attribute), &length) else { return [] }
            return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
        }
        switch name {
        case "payload":
            return .payload(base: PayloadBase(rawValue: u32(NFTNL_EXPR_PAYLOAD_BASE)), offset: u32(NFTNL_EXPR_PAYLOAD_OFFSET),
                            length: u32(NFTNL_EXPR_PAYLOAD_LEN), destination: register(NFTNL_EXPR_PAYLOAD_DREG))
        case "meta":
            let key = MetaKey(rawValue: u32(NFTNL_EXPR_META_KEY))
            if has(NFTNL_EXPR_META_SREG) { return .metaSet(key, source: register(NFTNL_EXPR_META_SREG)) }
            return .meta(key, destination: register(NFTNL_EXPR_META_DREG))
        case "cmp":
            return .cmp(source: register(NFTNL_EXPR_CMP_SREG), op: CmpOp(rawValue: u32(NFTNL_EXPR_CMP_OP)),
                        data: bytes(NFTNL_EXPR_CMP_DATA))
        case "bitwise":
            return .bitwise(source: register(NFTNL_EXPR_BITWISE_SREG), destination: register(NFTNL_EXPR_BITWISE_DREG),
                            mask: bytes(NFTNL_EXPR_BITWISE_MASK), xor: bytes(NFTNL_EXPR_BITWISE_XOR))
        case "lookup":
            let setName = string(NFTNL_EXPR_LOOKUP_SET) ?? ""
            let reference: KernelSetReference
            if let (set, elements) = anonymousSets[setName] {
                reference = .anonymous(set, elements.sorted { $0.key.lexicographicallyPrecedes($1.key) })
            } else {
                reference = .named(setName)
            }
            return .lookup(source: register(NFTNL_EXPR_LOOKUP_SREG), set: reference,
                           destination: has(NFTNL_EXPR_LOOKUP_DREG) ? register(NFTNL_EXPR_LOOKUP_DREG) : nil,
                           inverted: has(NFTNL_EXPR_LOOKUP_FLAGS) && u32(NFTNL_EXPR_LOOKUP_FLAGS) & 1 != 0)
        case "immediate":
            let destination = register(NFTNL_EXPR_IMM_DREG)
            if destination == .verdict {
                let code = Int32(bitPattern: u32(NFTNL_EXPR_IMM_VERDICT))
                guard let verdict = NFTVerdict(code: code, chain: string(NFTNL_EXPR_IMM_CHAIN)) else {
                    throw NFTablesError(operation: "decode rule", object: "\(chain): verdict \(code)", errno: 0)
                }
                return .verdict(verdict)
            }
            return .immediate(destination: destination, data: bytes(NFTNL_EXPR_IMM_DATA))
        case "numgen":
            return .numgen(destination: register(NFTNL_EXPR_NG_DREG), modulus: u32(NFTNL_EXPR_NG_MODULUS),
                           random: u32(NFTNL_EXPR_NG_TYPE) == 1, offset: has(NFTNL_EXPR_NG_OFFSET) ? u32(NFTNL_EXPR_NG_OFFSET) : 0)
        case "ct":
            return .ct(CTKey(rawValue: u32(NFTNL_EXPR_CT_KEY)), destination: register(NFTNL_EXPR_CT_DREG),
                       direction: has(NFTNL_EXPR_CT_DIR) ? nftnl_expr_get_u8(item, UInt16(NFTNL_EXPR_CT_DIR)) : nil)
        case "socket":
            return .socket(key: u32(NFTNL_EXPR_SOCKET_KEY), destination: register(NFTNL_EXPR_SOCKET_DREG))
        case "fib":
            return .fib(flags: u32(NFTNL_EXPR_FIB_FLAGS), result: u32(NFTNL_EXPR_FIB_RESULT), destination: register(NFTNL_EXPR_FIB_DREG))
        case "nat":
            let family = NFTFamily(protocolFamily: u32(NFTNL_EXPR_NAT_FAMILY)) ?? .ip
            // The kernel adds NF_NAT_RANGE_MAP_IPS (1) and NF_NAT_RANGE_PROTO_SPECIFIED (2) for the registers.
            let flags = has(NFTNL_EXPR_NAT_FLAGS) ? u32(NFTNL_EXPR_NAT_FLAGS) & ~UInt32(0x3) : 0
            return .nat(NATSpec(type: u32(NFTNL_EXPR_NAT_TYPE), family: family,
                                address: has(NFTNL_EXPR_NAT_REG_ADDR_MIN) ? register(NFTNL_EXPR_NAT_REG_ADDR_MIN) : nil,
                                port: has(NFTNL_EXPR_NAT_REG_PROTO_MIN) ? register(NFTNL_EXPR_NAT_REG_PROTO_MIN) : nil,
                                flags: flags))
        case "masq":
            return .masquerade(flags: has(NFTNL_EXPR_MASQ_FLAGS) ? u32(NFTNL_EXPR_MASQ_FLAGS) : 0)
        case "tproxy":
            return .tproxy(family: u32(NFTNL_EXPR_TPROXY_FAMILY), address: register(NFTNL_EXPR_TPROXY_REG_ADDR),
                           port: register(NFTNL_EXPR_TPROXY_REG_PORT))
        case "reject":
            return .reject(type: u32(NFTNL_EXPR_REJECT_TYPE), code: nftnl_expr_get_u8(item, UInt16(NFTNL_EXPR_REJECT_CODE)))
        case "counter":
            return .counter
        case "notrack":
            return .notrack
        case "dynset":
            return .dynset(DynsetSpec(op: u32(NFTNL_EXPR_DYNSET_OP), source: register(NFTNL_EXPR_DYNSET_SREG_KEY),
                                      set: string(NFTNL_EXPR_DYNSET_SET_NAME) ?? "",
                                      timeoutMilliseconds: dynsetTimeout(item)))
        default:
            throw NFTablesError(operation: "decode rule", object: "\(chain): unknown expression \(name)", errno: 0)
        }
    }

    /// The kernel reports "the set's default" as a zero timeout.
    private static func dynsetTimeout(_ item: OpaquePointer) -> UInt64? {
        guard nftnl_expr_is_set(item, UInt16(NFTNL_EXPR_DYNSET_TIMEOUT)) else { return nil }
        let timeout = nftnl_expr_get_u64(item, UInt16(NFTNL_EXPR_DYNSET_TIMEOUT))
        return timeout == 0 ? nil : timeout
    }
}
