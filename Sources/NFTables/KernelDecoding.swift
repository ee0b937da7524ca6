import CNftnl
import ProxyCore

/// Turns parsed libnftnl objects back into kernel values. The pointers are borrowed from their owners.
enum KernelDecoding {
    static func set(_ pointer: OpaquePointer, table: NFTTableID) -> KernelSet {
        func u32(_ attribute: nftnl_set_attr) -> UInt32 { nftnl_set_get_u32(pointer, UInt16(attribute.rawValue)) }
        func has(_ attribute: nftnl_set_attr) -> Bool { nftnl_set_is_set(pointer, UInt16(attribute.rawValue)) }
        let name = nftnl_set_get_str(pointer, UInt16(NFTNL_SET_NAME.rawValue)).map { String(cString: $0) } ?? ""
        let kernelFlags = KernelSetFlags(rawValue: u32(NFTNL_SET_FLAGS))
        let anonymous = kernelFlags.contains(.anonymous)
        let keyLength = Int(u32(NFTNL_SET_KEY_LEN))
        var key = keyFields(typeID: u32(NFTNL_SET_KEY_TYPE), length: keyLength)
        var data: KernelDataType?
        if kernelFlags.contains(.map) {
            let dataType = u32(NFTNL_SET_DATA_TYPE)
            data = dataType == 0xffff_ff00 ? .verdict : .known(id: dataType, size: Int(u32(NFTNL_SET_DATA_LEN)))
        }
        var flags = kernelFlags.subtracting([.map, .concat, .anonymous])
        if anonymous { flags.remove(.constant) }
        var comment: String?
        var length: UInt32 = 0
        if let userData = nftnl_set_get_data(pointer, UInt16(NFTNL_SET_USERDATA.rawValue), &length) {
            let bytes = UnsafeRawBufferPointer(start: userData, count: Int(length))
            comment = UserData.comment(in: bytes, type: UInt8(NFTNL_UDATA_SET_COMMENT.rawValue))
        }
        if key.isEmpty { key = [KernelDataType(id: 0, size: keyLength)] }
        return KernelSet(table: table, name: anonymous ? "" : name, key: key, data: data, flags: flags,
                         timeoutMilliseconds: has(NFTNL_SET_TIMEOUT) ? nftnl_set_get_u64(pointer, UInt16(NFTNL_SET_TIMEOUT.rawValue)) : nil,
                         comment: comment)
    }

    /// Splits a (possibly concatenated) key type id into known field types whose padded sizes add up.
    static func keyFields(typeID: UInt32, length: Int) -> [KernelDataType] {
        var ids: [UInt32] = []
        var rest = typeID
        while rest != 0 {
            ids.insert(rest & 0x3f, at: 0)
            rest >>= 6
        }
        if ids.count <= 1 { return [.known(id: typeID, size: length)] }
        let fields = ids.map { KernelDataType.known(id: $0, size: 4) }
        return fields.reduce(0) { $0 + $1.paddedSize } == length ? fields : [KernelDataType(id: typeID, size: length)]
    }

    static func elements(_ set: OpaquePointer) -> [KernelElement] {
        guard let iterator = nftnl_set_elems_iter_create(set) else { return [] }
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var result: [KernelElement] = []
        // `nftnl_set_elems_iter_next` returns the current element and advances.
        var item = nftnl_set_elems_iter_next(iterator)
        while let element = item {
            result.append(self.element(element))
            item = nftnl_set_elems_iter_next(iterator)
        }
        return result
    }

    static func element(_ pointer: OpaquePointer) -> KernelElement {
        func bytes(_ attribute: Int) -> [UInt8]? {
            var length: UInt32 = 0
            guard nftnl_set_elem_is_set(pointer, UInt16(attribute)),
                  let data = nftnl_set_elem_get(pointer, UInt16(attribute), &length) else { return nil }
            return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
        }
        var element = KernelElement(key: bytes(NFTNL_SET_ELEM_KEY) ?? [], keyEnd: bytes(NFTNL_SET_ELEM_KEY_END))
        if nftnl_set_elem_is_set(pointer, UInt16(NFTNL_SET_ELEM_FLAGS)) {
            element.intervalEnd = nftnl_set_elem_get_u32(pointer, UInt16(NFTNL_SET_ELEM_FLAGS)) & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0
        }
        if nftnl_set_elem_is_set(pointer, UInt16(NFTNL_SET_ELEM_VERDICT)) {
            let code = Int32(bitPattern: nftnl_set_elem_get_u32(pointer, UInt16(NFTNL_SET_ELEM_VERDICT)))
            let chain = nftnl_set_elem_get_str(pointer, UInt16(NFTNL_SET_ELEM_CHAIN)).map { String(cString: $0) }
            element.data = NFTVerdict(code: code, chain: chain).map { .verdict($0) }
        } else if let data = bytes(NFTNL_SET_ELEM_DATA) {
            element.data = .bytes(data)
        }
        if nftnl_set_elem_is_set(pointer, UInt16(NFTNL_SET_ELEM_TIMEOUT)) {
            element.timeoutMilliseconds = nftnl_set_elem_get_u64(pointer, UInt16(NFTNL_SET_ELEM_TIMEOUT))
        }
        if let userData = bytes(NFTNL_SET_ELEM_USERDATA) {
            element.comment = userData.withUnsafeBytes {
                UserData.comment(in: $0, type: UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue))
            }
        }
        return element
    }

    static func rule(_ pointer: OpaquePointer, anonymousSets: [String: (KernelSet, [KernelElement])]) throws -> KernelRule {
        let chain = nftnl_rule_get_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue)).map { String(cString: $0) } ?? ""
        var expressions: [KernelExpression] = []
        if let iterator = nftnl_expr_iter_create(pointer) {
            defer { nftnl_expr_iter_destroy(iterator) }
            var item = nftnl_expr_iter_next(iterator)
            while let expression = item {
                expressions.append(try self.expression(expression, anonymousSets: anonymousSets, chain: chain))
                item = nftnl_expr_iter_next(iterator)
            }
        }
        var comment: String?
        var length: UInt32 = 0
        if let data = nftnl_rule_get_data(pointer, UInt16(NFTNL_RULE_USERDATA.rawValue), &length) {
            comment = UserData.comment(in: UnsafeRawBufferPointer(start: data, count: Int(length)),
                                       type: UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue))
        }
        return KernelRule(chain: chain, expressions, comment: comment)
    }
}
