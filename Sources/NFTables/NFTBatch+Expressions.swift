import CNftnl
import ProxyCore

extension NFTBatch {
    /// Builds the libnftnl expression for `expression`. Anonymous sets it refers to are sent first (`NEWSET`,
    /// `NEWSETELEM`), so they precede the rule in the batch. The caller adds the result to a rule, which owns it.
    func makeExpression(_ expression: KernelExpression, table: NFTTableID) throws -> OpaquePointer {
        var anonymousSet: (name: String, id: UInt32?)?
        if case .lookup(_, .anonymous(let definition, let elements), _, _) = expression {
            var anonymous = definition
            anonymous.name = ""
            anonymous.table = table
            let reference = try addSet(anonymous)
            try addElements(table, set: reference.name, setID: reference.id, elements, delete: false)
            anonymousSet = reference
        }
        let item = try allocate(expression.kernelName)
        func u32(_ attribute: Int, _ value: UInt32) { nftnl_expr_set_u32(item, UInt16(attribute), value) }
        func register(_ attribute: Int, _ value: KernelRegister) { u32(attribute, value.kernelValue) }
        func bytes(_ attribute: Int, _ value: [UInt8]) {
            var copy = value
            nftnl_expr_set(item, UInt16(attribute), &copy, UInt32(copy.count))
        }
        switch expression {
        case .payload(let base, let offset, let length, let destination):
            register(NFTNL_EXPR_PAYLOAD_DREG, destination)
            u32(NFTNL_EXPR_PAYLOAD_BASE, base.rawValue)
            u32(NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            u32(NFTNL_EXPR_PAYLOAD_LEN, length)
        case .meta(let key, let destination):
            u32(NFTNL_EXPR_META_KEY, key.rawValue)
            register(NFTNL_EXPR_META_DREG, destination)
        case .metaSet(let key, let source):
            u32(NFTNL_EXPR_META_KEY, key.rawValue)
            register(NFTNL_EXPR_META_SREG, source)
        case .cmp(let source, let op, let data):
            register(NFTNL_EXPR_CMP_SREG, source)
            u32(NFTNL_EXPR_CMP_OP, op.rawValue)
            bytes(NFTNL_EXPR_CMP_DATA, data)
        case .bitwise(let source, let destination, let mask, let xor):
            register(NFTNL_EXPR_BITWISE_SREG, source)
            register(NFTNL_EXPR_BITWISE_DREG, destination)
            u32(NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
            bytes(NFTNL_EXPR_BITWISE_MASK, mask)
            bytes(NFTNL_EXPR_BITWISE_XOR, xor)
        case .lookup(let source, let set, let destination, let inverted):
            register(NFTNL_EXPR_LOOKUP_SREG, source)
            if let destination { register(NFTNL_EXPR_LOOKUP_DREG, destination) }
            switch set {
            case .named(let name):
                nftnl_expr_set_str(item, UInt16(NFTNL_EXPR_LOOKUP_SET), name)
            case .anonymous:
                if let anonymousSet {
                    nftnl_expr_set_str(item, UInt16(NFTNL_EXPR_LOOKUP_SET), anonymousSet.name)
                    if let id = anonymousSet.id { u32(NFTNL_EXPR_LOOKUP_SET_ID, id) }
                }
            }
            if inverted { u32(NFTNL_EXPR_LOOKUP_FLAGS, 1) }
        case .verdict(let verdict):
            register(NFTNL_EXPR_IMM_DREG, .verdict)
            u32(NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: verdict.code))
            if let chain = verdict.chain { nftnl_expr_set_str(item, UInt16(NFTNL_EXPR_IMM_CHAIN), chain) }
        case .immediate(let destination, let data):
            register(NFTNL_EXPR_IMM_DREG, destination)
            bytes(NFTNL_EXPR_IMM_DATA, data)
        case .numgen(let destination, let modulus, let random, let offset):
            register(NFTNL_EXPR_NG_DREG, destination)
            u32(NFTNL_EXPR_NG_MODULUS, modulus)
            u32(NFTNL_EXPR_NG_TYPE, random ? 1 : 0)
            if offset != 0 { u32(NFTNL_EXPR_NG_OFFSET, offset) }
        case .ct(let key, let destination, let direction):
            u32(NFTNL_EXPR_CT_KEY, key.rawValue)
            register(NFTNL_EXPR_CT_DREG, destination)
            if let direction { nftnl_expr_set_u8(item, UInt16(NFTNL_EXPR_CT_DIR), direction) }
        case .socket(let key, let destination):
            u32(NFTNL_EXPR_SOCKET_KEY, key)
            register(NFTNL_EXPR_SOCKET_DREG, destination)
        case .fib(let flags, let result, let destination):
            u32(NFTNL_EXPR_FIB_FLAGS, flags)
            u32(NFTNL_EXPR_FIB_RESULT, result)
            register(NFTNL_EXPR_FIB_DREG, destination)
        case .nat(let spec):
            u32(NFTNL_EXPR_NAT_TYPE, spec.type)
            u32(NFTNL_EXPR_NAT_FAMILY, UInt32(spec.family.protocolFamily))
            if let address = spec.address { register(NFTNL_EXPR_NAT_REG_ADDR_MIN, address) }
            if let port = spec.port { register(NFTNL_EXPR_NAT_REG_PROTO_MIN, port) }
            if spec.flags != 0 { u32(NFTNL_EXPR_NAT_FLAGS, spec.flags) }
        case .masquerade(let flags):
            if flags != 0 { u32(NFTNL_EXPR_MASQ_FLAGS, flags) }
        case .tproxy(let family, let address, let port):
            u32(NFTNL_EXPR_TPROXY_FAMILY, family)
            register(NFTNL_EXPR_TPROXY_REG_ADDR, address)
            register(NFTNL_EXPR_TPROXY_REG_PORT, port)
        case .reject(let type, let code):
            u32(NFTNL_EXPR_REJECT_TYPE, type)
            nftnl_expr_set_u8(item, UInt16(NFTNL_EXPR_REJECT_CODE), code)
        case .counter, .notrack:
            break
        case .dynset(let spec):
            u32(NFTNL_EXPR_DYNSET_OP, spec.op)
            register(NFTNL_EXPR_DYNSET_SREG_KEY, spec.source)
            nftnl_expr_set_str(item, UInt16(NFTNL_EXPR_DYNSET_SET_NAME), spec.set)
            if let timeout = spec.timeoutMilliseconds { nftnl_expr_set_u64(item, UInt16(NFTNL_EXPR_DYNSET_TIMEOUT), timeout) }
        }
        return item
    }

    private func allocate(_ name: String) throws -> OpaquePointer {
        guard let item = nftnl_expr_alloc(name) else {
            throw NFTablesError(operation: "nftnl_expr_alloc", object: name, errno: ENOMEM)
        }
        return item
    }
}

extension KernelExpression {
    /// The kernel's expression type name.
    var kernelName: String {
        switch self {
        case .payload: "payload"
        case .meta, .metaSet: "meta"
        case .cmp: "cmp"
        case .bitwise: "bitwise"
        case .lookup: "lookup"
        case .verdict, .immediate: "immediate"
        case .numgen: "numgen"
        case .ct: "ct"
        case .fib: "fib"
        case .socket: "socket"
        case .nat: "nat"
        case .masquerade: "masq"
        case .tproxy: "tproxy"
        case .reject: "reject"
        case .counter: "counter"
        case .dynset: "dynset"
        case .notrack: "notrack"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
