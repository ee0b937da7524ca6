import CNftnl

// Each libnftnl object is owned by one non-copyable value that frees it. Expressions and set elements are
// handed to their rule or set right after creation (`nftnl_rule_add_expr`, `nftnl_set_elem_add`), which then
// own them, so they need no owner of their own.

/// Owns a `struct nftnl_table *`.
struct TableHandle: ~Copyable {
    let pointer: OpaquePointer
    init() throws {
        guard let pointer = nftnl_table_alloc() else { throw NFTablesError(operation: "nftnl_table_alloc", object: "", errno: ENOMEM) }
        self.pointer = pointer
    }
    deinit { nftnl_table_free(pointer) }
}

/// Owns a `struct nftnl_chain *`.
struct ChainHandle: ~Copyable {
    let pointer: OpaquePointer
    init() throws {
        guard let pointer = nftnl_chain_alloc() else { throw NFTablesError(operation: "nftnl_chain_alloc", object: "", errno: ENOMEM) }
        self.pointer = pointer
    }
    deinit { nftnl_chain_free(pointer) }
}

/// Owns a `struct nftnl_rule *` (and the expressions added to it).
struct RuleHandle: ~Copyable {
    let pointer: OpaquePointer
    init() throws {
        guard let pointer = nftnl_rule_alloc() else { throw NFTablesError(operation: "nftnl_rule_alloc", object: "", errno: ENOMEM) }
        self.pointer = pointer
    }
    deinit { nftnl_rule_free(pointer) }
}

/// Owns a `struct nftnl_set *` (and the elements added to it).
struct SetHandle: ~Copyable {
    let pointer: OpaquePointer
    init() throws {
        guard let pointer = nftnl_set_alloc() else { throw NFTablesError(operation: "nftnl_set_alloc", object: "", errno: ENOMEM) }
        self.pointer = pointer
    }
    deinit { nftnl_set_free(pointer) }
}

/// Comments travel as libnftnl "user data": type-length-value records, the string NUL-terminated.
enum UserData {
    /// Encodes one comment record of `type` (the `NFTNL_UDATA_*_COMMENT` value of the object kind).
    static func comment(_ text: String, type: UInt8) -> [UInt8] {
        let bytes = Array(text.utf8.prefix(127)) + [0]
        return [type, UInt8(bytes.count)] + bytes
    }

    /// Encodes a 32-bit record in host byte order (`nft`'s key byte order: 1 host, 2 big endian).
    static func u32(_ value: UInt32, type: UInt8) -> [UInt8] {
        [type, 4] + withUnsafeBytes(of: value) { Array($0) }
    }

    /// The records nft 1.0.x writes for a set declared by expressions (`typeof … [: …]`), which kproxy needs
    /// when a key holds a numgen value (no type name): the key's byte order for a single host-order key, the
    /// data's byte order, then each side's expression — numgen (expression 23: random, mod 1, offset 0), a
    /// payload field (7: protocol description and field), a meta key (9), a verdict (1) or a concatenation of
    /// those (13: one record per member) — and, for verdict data, "data is not an interval".
    static func typeof(key: [KernelDataType], data: [KernelDataType]) -> [UInt8] {
        func record(_ type: UInt8, _ value: [UInt8]) -> [UInt8] { [type, UInt8(value.count)] + value }
        func expression(_ kind: UInt32, _ body: [UInt8]) -> [UInt8] { u32(kind, type: 0) + record(1, body) }
        func describe(_ field: KernelDataType) -> [UInt8] {
            switch field {
            case .integer32: expression(23, u32(1, type: 0) + u32(1, type: 1) + u32(0, type: 2))  // numgen random mod 1
            case .ipv4Address: expression(7, u32(12, type: 0) + u32(12, type: 1))                  // ip daddr
            case .ipv6Address: expression(7, u32(13, type: 0) + u32(9, type: 1))                   // ip6 daddr
            case .inetService: expression(7, u32(11, type: 0) + u32(2, type: 1))                   // th dport
            case .inetProtocol: expression(9, u32(16, type: 0))                                     // meta l4proto
            case .mark: expression(9, u32(3, type: 0))                                              // meta mark
            default: expression(1, [])                                                              // verdict
            }
        }
        func describe(_ fields: [KernelDataType]) -> [UInt8] {
            if fields.count == 1 { return describe(fields[0]) }
            return expression(13, fields.enumerated().flatMap { record(UInt8($0.offset), describe($0.element)) })
        }
        var out = key.count == 1 ? [] : u32(0, type: UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue))
        out += u32(0, type: UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue))
        out += record(UInt8(NFTNL_UDATA_SET_KEY_TYPEOF.rawValue), describe(key))
        if !data.isEmpty {
            out += record(UInt8(NFTNL_UDATA_SET_DATA_TYPEOF.rawValue), describe(data))
            if data == [.verdict] { out += u32(0, type: UInt8(NFTNL_UDATA_SET_DATA_INTERVAL.rawValue)) }
        }
        return out
    }

    /// Finds the comment record of `type` in user data.
    static func comment(in data: UnsafeRawBufferPointer, type: UInt8) -> String? {
        var index = 0
        while index + 2 <= data.count {
            let recordType = data[index]
            let length = Int(data[index + 1])
            let start = index + 2
            guard start + length <= data.count else { return nil }
            if recordType == type {
                let value = data[start..<start + length].prefix { $0 != 0 }
                return String(decoding: value, as: UTF8.self)
            }
            index = start + length
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
#endif
