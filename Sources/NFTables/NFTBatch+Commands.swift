import CNftnl
import ProxyCore

extension NFTBatch {
    private static let create = Int32(NLM_F_CREATE)

    /// Appends the messages of one command.
    func add(_ command: KernelCommand) throws {
        switch command {
        case .addTable(let id, let comment):
            try addTable(id, comment: comment)
        case .deleteTable(let id):
            let handle = try TableHandle()
            setTable(handle.pointer, id)
            message(NFT_MSG_DELTABLE, family: id.family, flags: 0,
                    origin: Origin(operation: "delete table", object: "\(id)")) { nftnl_table_nlmsg_build_payload($0, handle.pointer) }
        case .flushTable(let id):
            let rule = try RuleHandle()
            nftnl_rule_set_str(rule.pointer, UInt16(NFTNL_RULE_TABLE.rawValue), id.name)
            message(NFT_MSG_DELRULE, family: id.family, flags: 0,
                    origin: Origin(operation: "flush table", object: "\(id)")) { nftnl_rule_nlmsg_build_payload($0, rule.pointer) }
        case .addChain(let id, let chain):
            try addChain(id, chain)
        case .flushChain(let id, let name):
            let rule = try RuleHandle()
            nftnl_rule_set_str(rule.pointer, UInt16(NFTNL_RULE_TABLE.rawValue), id.name)
            nftnl_rule_set_str(rule.pointer, UInt16(NFTNL_RULE_CHAIN.rawValue), name)
            message(NFT_MSG_DELRULE, family: id.family, flags: 0,
                    origin: Origin(operation: "flush chain", object: "\(id) \(name)")) { nftnl_rule_nlmsg_build_payload($0, rule.pointer) }
        case .deleteChain(let id, let name):
            let chain = try ChainHandle()
            nftnl_chain_set_str(chain.pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), id.name)
            nftnl_chain_set_str(chain.pointer, UInt16(NFTNL_CHAIN_NAME.rawValue), name)
            message(NFT_MSG_DELCHAIN, family: id.family, flags: 0,
                    origin: Origin(operation: "delete chain", object: "\(id) \(name)")) { nftnl_chain_nlmsg_build_payload($0, chain.pointer) }
        case .addSet(let set):
            _ = try addSet(set)
        case .deleteSet(let id, let name):
            let set = try SetHandle()
            nftnl_set_set_str(set.pointer, UInt16(NFTNL_SET_TABLE.rawValue), id.name)
            nftnl_set_set_str(set.pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
            message(NFT_MSG_DELSET, family: id.family, flags: 0,
                    origin: Origin(operation: "delete set", object: "\(id) \(name)")) { nftnl_set_nlmsg_build_payload($0, set.pointer) }
        case .flushSet(let id, let name):
            let set = try SetHandle()
            nftnl_set_set_str(set.pointer, UInt16(NFTNL_SET_TABLE.rawValue), id.name)
            nftnl_set_set_str(set.pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
            message(NFT_MSG_DELSETELEM, family: id.family, flags: 0,
                    origin: Origin(operation: "flush set", object: "\(id) \(name)")) { nftnl_set_elems_nlmsg_build_payload($0, set.pointer) }
        case .addElements(let id, let name, let elements):
            try addElements(id, set: name, setID: nil, elements, delete: false)
        case .deleteElements(let id, let name, let elements):
            try addElements(id, set: name, setID: nil, elements, delete: true)
        case .addRule(let id, let rule):
            try addRule(id, rule)
        }
    }

    private func setTable(_ pointer: OpaquePointer, _ id: NFTTableID) {
        nftnl_table_set_str(pointer, UInt16(NFTNL_TABLE_NAME.rawValue), id.name)
        nftnl_table_set_u32(pointer, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(id.family.protocolFamily))
    }

    private func addTable(_ id: NFTTableID, comment: String?) throws {
        let handle = try TableHandle()
        setTable(handle.pointer, id)
        if let comment {
            setUserData(UserData.comment(comment, type: UInt8(NFTNL_UDATA_TABLE_COMMENT.rawValue))) {
                nftnl_table_set_data(handle.pointer, UInt16(NFTNL_TABLE_USERDATA.rawValue), $0, $1)
            }
        }
        message(NFT_MSG_NEWTABLE, family: id.family, flags: Self.create,
                origin: Origin(operation: "add table", object: "\(id)")) { nftnl_table_nlmsg_build_payload($0, handle.pointer) }
    }

    private func addChain(_ table: NFTTableID, _ chain: NFTChain) throws {
        let handle = try ChainHandle()
        let pointer = handle.pointer
        nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), table.name)
        nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        if let base = chain.base {
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), base.hook.number)
            nftnl_chain_set_s32(pointer, UInt16(NFTNL_CHAIN_PRIO.rawValue), Int32(clamping: base.priority))
            nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TYPE.rawValue), base.type.rawValue)
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_POLICY.rawValue), base.policy == .drop ? 0 : 1)
        }
        if let comment = chain.comment {
            setUserData(UserData.comment(comment, type: UInt8(NFTNL_UDATA_CHAIN_COMMENT.rawValue))) {
                nftnl_chain_set_data(pointer, UInt16(NFTNL_CHAIN_USERDATA.rawValue), $0, $1)
            }
        }
        message(NFT_MSG_NEWCHAIN, family: table.family, flags: Self.create,
                origin: Origin(operation: "add chain", object: "\(table) \(chain.name)")) { nftnl_chain_nlmsg_build_payload($0, pointer) }
    }

    /// Sends `NEWSET`; anonymous sets (empty name) get a fresh set id and the `__set%d` name the kernel fills in.
    /// Returns the name and id a lookup or element message uses to refer to the set.
    func addSet(_ set: KernelSet) throws -> (name: String, id: UInt32?) {
        let handle = try SetHandle()
        let pointer = handle.pointer
        let anonymous = set.name.isEmpty
        let name = anonymous ? "__set%d" : set.name
        let setID = takeSetID()
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_TABLE.rawValue), set.table.name)
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(set.table.family.protocolFamily))
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_ID.rawValue), setID)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_FLAGS.rawValue), set.kernelFlags.rawValue)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_KEY_TYPE.rawValue), set.keyTypeID)
        nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(set.keyLength))
        if let data = set.data {
            nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_DATA_TYPE.rawValue), data == .verdict ? 0xffff_ff00 : data.id)
            nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_DATA_LEN.rawValue), UInt32(data.size))
        }
        if set.kernelFlags.contains(.concat) {
            var lengths = set.key.map { UInt32($0.size) }
            nftnl_set_set_data(pointer, UInt16(NFTNL_SET_DESC_CONCAT.rawValue), &lengths, UInt32(lengths.count * 4))
        }
        if let timeout = set.timeoutMilliseconds {
            nftnl_set_set_u64(pointer, UInt16(NFTNL_SET_TIMEOUT.rawValue), timeout)
        }
        var userData: [UInt8] = []
        if set.key.count == 1 && set.key[0].hostOrder {
            userData += UserData.u32(1, type: UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue))
        }
        if set.key.contains(.integer32) && !anonymous {
            // A numgen value has no type name nft can print: describe the set as nft does for
            // `typeof … numgen random mod 1 [: …]`, so `nft list` shows (and can reload) the map.
            let data = set.data.map { $0 == .verdict ? [$0] : KernelDecoding.keyFields(typeID: $0.id, length: $0.size) } ?? []
            userData += UserData.typeof(key: set.key, data: data)
        }
        if let comment = set.comment {
            userData += UserData.comment(comment, type: UInt8(NFTNL_UDATA_SET_COMMENT.rawValue))
        }
        if !userData.isEmpty {
            setUserData(userData) { nftnl_set_set_data(pointer, UInt16(NFTNL_SET_USERDATA.rawValue), $0, $1) }
        }
        message(NFT_MSG_NEWSET, family: set.table.family, flags: Self.create,
                origin: Origin(operation: "add set", object: "\(set.table) \(anonymous ? "(anonymous)" : name)")) {
            nftnl_set_nlmsg_build_payload($0, pointer)
        }
        return (name, anonymous ? setID : nil)
    }

    /// Sends `NEWSETELEM` / `DELSETELEM` messages, cut into chunks that fit a netlink attribute.
    func addElements(_ table: NFTTableID, set name: String, setID: UInt32?, _ elements: [KernelElement], delete: Bool) throws {
        var start = 0
        while start < elements.count {
            var end = start
            var bytes = 0
            while end < elements.count && (end == start || bytes < Self.elementChunkBytes) {
                bytes += Self.estimatedSize(elements[end])
                end += 1
            }
            try addElementChunk(table, set: name, setID: setID, elements[start..<end], delete: delete)
            start = end
        }
    }

    private static func estimatedSize(_ element: KernelElement) -> Int {
        var size = 64 + element.key.count + (element.keyEnd?.count ?? 0) + (element.comment?.utf8.count ?? 0)
        switch element.data {
        case .verdict(let verdict): size += 16 + (verdict.chain?.utf8.count ?? 0)
        case .bytes(let bytes): size += bytes.count
        case nil: break
        }
        return size
    }

    private func addElementChunk(_ table: NFTTableID, set name: String, setID: UInt32?,
                                 _ elements: ArraySlice<KernelElement>, delete: Bool) throws {
        let handle = try SetHandle()
        let pointer = handle.pointer
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_TABLE.rawValue), table.name)
        nftnl_set_set_str(pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
        if let setID { nftnl_set_set_u32(pointer, UInt16(NFTNL_SET_ID.rawValue), setID) }
        for element in elements {
            guard let item = nftnl_set_elem_alloc() else { throw NFTablesError(operation: "nftnl_set_elem_alloc", object: name, errno: ENOMEM) }
            fill(item, element, keyOnly: delete)
            nftnl_set_elem_add(pointer, item)
        }
        let operation = delete ? "delete element" : "add element"
        let label = setID == nil ? name : "(anonymous)"
        message(delete ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, family: table.family, flags: delete ? 0 : Self.create,
                origin: Origin(operation: operation, object: "\(table) \(label) (\(elements.count) elements)")) {
            nftnl_set_elems_nlmsg_build_payload($0, pointer)
        }
    }

    private func fill(_ item: OpaquePointer, _ element: KernelElement, keyOnly: Bool) {
        var key = element.key
        nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_KEY), &key, UInt32(key.count))
        if var keyEnd = element.keyEnd {
            nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_KEY_END), &keyEnd, UInt32(keyEnd.count))
        }
        if element.intervalEnd {
            nftnl_set_elem_set_u32(item, UInt16(NFTNL_SET_ELEM_FLAGS), UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue))
        }
        guard !keyOnly else { return }
        switch element.data {
        case .verdict(let verdict):
            nftnl_set_elem_set_u32(item, UInt16(NFTNL_SET_ELEM_VERDICT), UInt32(bitPattern: verdict.code))
            if let chain = verdict.chain { nftnl_set_elem_set_str(item, UInt16(NFTNL_SET_ELEM_CHAIN), chain) }
        case .bytes(var bytes):
            nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_DATA), &bytes, UInt32(bytes.count))
        case nil:
            break
        }
        if let timeout = element.timeoutMilliseconds {
            nftnl_set_elem_set_u64(item, UInt16(NFTNL_SET_ELEM_TIMEOUT), timeout)
        }
        if let comment = element.comment {
            var data = UserData.comment(comment, type: UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue))
            nftnl_set_elem_set(item, UInt16(NFTNL_SET_ELEM_USERDATA), &data, UInt32(data.count))
        }
    }

    private func addRule(_ table: NFTTableID, _ rule: KernelRule) throws {
        let handle = try RuleHandle()
        let pointer = handle.pointer
        nftnl_rule_set_u32(pointer, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(table.family.protocolFamily))
        nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_TABLE.rawValue), table.name)
        nftnl_rule_set_str(pointer, UInt16(NFTNL_RULE_CHAIN.rawValue), rule.chain)
        for expression in rule.expressions {
            let item = try makeExpression(expression, table: table)
            nftnl_rule_add_expr(pointer, item)
        }
        if let comment = rule.comment {
            setUserData(UserData.comment(comment, type: UInt8(NFTNL_UDATA_RULE_COMMENT.rawValue))) {
                nftnl_rule_set_data(pointer, UInt16(NFTNL_RULE_USERDATA.rawValue), $0, $1)
            }
        }
        let label = rule.comment.map { "\(table) \(rule.chain) \"\($0)\"" } ?? "\(table) \(rule.chain)"
        message(NFT_MSG_NEWRULE, family: table.family, flags: Self.create | Int32(NLM_F_APPEND),
                origin: Origin(operation: "add rule", object: label)) { nftnl_rule_nlmsg_build_payload($0, pointer) }
    }

    private func setUserData(_ bytes: [UInt8], _ apply: (UnsafeRawPointer, UInt32) -> Int32) {
        _ = bytes.withUnsafeBytes { raw in
            raw.baseAddress.map { apply($0, UInt32(raw.count)) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
