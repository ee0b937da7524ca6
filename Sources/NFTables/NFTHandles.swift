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

    /// The records nft 1.0.x writes for a set declared `typeof numgen random mod 1 [: verdict]`: key byte
    /// order was written before; data byte order, the key's typeof (expression 23 = numgen, with its mode,
    /// modulus and offset), the data's typeof (expression 1 = verdict) and "data is not an interval".
    static func numgenTypeof(verdictData: Bool) -> [UInt8] {
        func record(_ type: UInt8, _ value: [UInt8]) -> [UInt8] { [type, UInt8(value.count)] + value }
        let numgen = u32(1, type: 0) + u32(1, type: 1) + u32(0, type: 2)  // NFTNL_UDATA_NUMGEN_TYPE random, _MOD 1, _OFFSET 0
        let keyTypeof = u32(23, type: 0) + record(1, numgen)                 // NFTNL_UDATA_SET_TYPEOF_EXPR, _DATA
        var out = u32(0, type: UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue))
        out += record(UInt8(NFTNL_UDATA_SET_KEY_TYPEOF.rawValue), keyTypeof)
        if verdictData {
            out += record(UInt8(NFTNL_UDATA_SET_DATA_TYPEOF.rawValue), u32(1, type: 0) + record(1, []))
            out += u32(0, type: UInt8(NFTNL_UDATA_SET_DATA_INTERVAL.rawValue))
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
