import CNftnl
import ProxyCore

extension NFTablesConnection {
    /// Reads a table back from the kernel: chains, rules (as kernel expressions, anonymous sets inlined), named
    /// sets and their elements. Returns nil when the table does not exist. Elements of dynamic sets are read
    /// only with `includeDynamicElements`.
    public func read(_ id: NFTTableID, includeDynamicElements: Bool = false) throws -> KernelTable? {
        guard let header = try readTableHeader(id) else { return nil }
        var table = KernelTable(id: id, comment: header.comment)
        for chain in try readChains(id) {
            table.chains[chain.name] = chain
            table.rules[chain.name] = []
        }
        var anonymous: [String: (KernelSet, [KernelElement])] = [:]
        for (set, kernelName) in try readSets(id) {
            let elements = set.flags.contains(.dynamic) && !includeDynamicElements ? nil : try readElements(id, set: kernelName)
            if set.name.isEmpty {
                anonymous[kernelName] = (set, elements ?? [])
            } else {
                table.sets[set.name] = set
                if let elements { table.elements[set.name] = Set(elements) }
            }
        }
        for rule in try readRules(id, anonymousSets: anonymous) {
            table.rules[rule.chain, default: []].append(rule)
        }
        return table
    }

    /// The model headers of the given tables that exist, for `RulesetDiff.fullSync(existing:)`.
    public func readHeaders(_ ids: [NFTTableID]) throws -> NFTRuleset {
        NFTRuleset(tables: try ids.compactMap { try read($0)?.modelHeaders })
    }

    private struct TableHeader {
        var comment: String?
    }

    /// The table's header, nil when the table does not exist.
    private func readTableHeader(_ id: NFTTableID) throws -> TableHeader? {
        var found: TableHeader?
        try socket.dump({ buffer, sequence in
            nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETTABLE.rawValue), UInt16(id.family.protocolFamily),
                                  UInt16(NLM_F_DUMP), sequence)
        }, operation: "dump tables") { header in
            let table = try TableHandle()
            guard nftnl_table_nlmsg_parse(header, table.pointer) >= 0,
                  let name = nftnl_table_get_str(table.pointer, UInt16(NFTNL_TABLE_NAME.rawValue)),
                  String(cString: name) == id.name else { return }
            var length: UInt32 = 0
            var comment: String?
            if let data = nftnl_table_get_data(table.pointer, UInt16(NFTNL_TABLE_USERDATA.rawValue), &length) {
                comment = UserData.comment(in: UnsafeRawBufferPointer(start: data, count: Int(length)),
                                           type: UInt8(NFTNL_UDATA_TABLE_COMMENT.rawValue))
            }
            found = TableHeader(comment: comment)
        }
        return found
    }

    private func readChains(_ id: NFTTableID) throws -> [NFTChain] {
        var chains: [NFTChain] = []
        let filter = try ChainHandle()
        nftnl_chain_set_str(filter.pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), id.name)
        try socket.dump({ buffer, sequence in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETCHAIN.rawValue), UInt16(id.family.protocolFamily),
                                               UInt16(NLM_F_DUMP), sequence)
            if let header { nftnl_chain_nlmsg_build_payload(header, filter.pointer) }
            return header
        }, operation: "dump chains of \(id)") { header in
            let chain = try ChainHandle()
            let pointer = chain.pointer
            guard nftnl_chain_nlmsg_parse(header, pointer) >= 0,
                  let table = nftnl_chain_get_str(pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue)), String(cString: table) == id.name,
                  let name = nftnl_chain_get_str(pointer, UInt16(NFTNL_CHAIN_NAME.rawValue)) else { return }
            var base: NFTBaseChain?
            if nftnl_chain_is_set(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)),
               let hook = NFTBaseChain.Hook(number: nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue))),
               let typeName = nftnl_chain_get_str(pointer, UInt16(NFTNL_CHAIN_TYPE.rawValue)),
               let type = NFTBaseChain.ChainType(rawValue: String(cString: typeName)) {
                let policy: NFTBaseChain.Policy = nftnl_chain_get_u32(pointer, UInt16(NFTNL_CHAIN_POLICY.rawValue)) == 0 ? .drop : .accept
                base = NFTBaseChain(type: type, hook: hook,
                                    priority: Int(nftnl_chain_get_s32(pointer, UInt16(NFTNL_CHAIN_PRIO.rawValue))), policy: policy)
            }
            var length: UInt32 = 0
            var comment: String?
            if let data = nftnl_chain_get_data(pointer, UInt16(NFTNL_CHAIN_USERDATA.rawValue), &length) {
                comment = UserData.comment(in: UnsafeRawBufferPointer(start: data, count: Int(length)),
                                           type: UInt8(NFTNL_UDATA_CHAIN_COMMENT.rawValue))
            }
            chains.append(NFTChain(name: String(cString: name), comment: comment, base: base))
        }
        return chains
    }

    /// Sets of the table with the name the kernel knows them by (anonymous sets get an empty `name`).
    private func readSets(_ id: NFTTableID) throws -> [(KernelSet, String)] {
        var sets: [(KernelSet, String)] = []
        let filter = try SetHandle()
        nftnl_set_set_str(filter.pointer, UInt16(NFTNL_SET_TABLE.rawValue), id.name)
        try socket.dump({ buffer, sequence in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETSET.rawValue), UInt16(id.family.protocolFamily),
                                               UInt16(NLM_F_DUMP), sequence)
            if let header { nftnl_set_nlmsg_build_payload(header, filter.pointer) }
            return header
        }, operation: "dump sets of \(id)") { header in
            let set = try SetHandle()
            guard nftnl_set_nlmsg_parse(header, set.pointer) >= 0,
                  let table = nftnl_set_get_str(set.pointer, UInt16(NFTNL_SET_TABLE.rawValue)), String(cString: table) == id.name,
                  let name = nftnl_set_get_str(set.pointer, UInt16(NFTNL_SET_NAME.rawValue)) else { return }
            sets.append((KernelDecoding.set(set.pointer, table: id), String(cString: name)))
        }
        return sets
    }

    private func readElements(_ id: NFTTableID, set name: String) throws -> [KernelElement] {
        var elements: [KernelElement] = []
        let filter = try SetHandle()
        nftnl_set_set_str(filter.pointer, UInt16(NFTNL_SET_TABLE.rawValue), id.name)
        nftnl_set_set_str(filter.pointer, UInt16(NFTNL_SET_NAME.rawValue), name)
        try socket.dump({ buffer, sequence in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETSETELEM.rawValue), UInt16(id.family.protocolFamily),
                                               UInt16(NLM_F_DUMP), sequence)
            if let header { nftnl_set_elems_nlmsg_build_payload(header, filter.pointer) }
            return header
        }, operation: "dump elements of \(id) \(name)") { header in
            let set = try SetHandle()
            guard nftnl_set_elems_nlmsg_parse(header, set.pointer) >= 0 else { return }
            elements += KernelDecoding.elements(set.pointer)
        }
        return elements
    }

    private func readRules(_ id: NFTTableID, anonymousSets: [String: (KernelSet, [KernelElement])]) throws -> [KernelRule] {
        var rules: [KernelRule] = []
        let filter = try RuleHandle()
        nftnl_rule_set_str(filter.pointer, UInt16(NFTNL_RULE_TABLE.rawValue), id.name)
        try socket.dump({ buffer, sequence in
            let header = nftnl_nlmsg_build_hdr(buffer, UInt16(NFT_MSG_GETRULE.rawValue), UInt16(id.family.protocolFamily),
                                               UInt16(NLM_F_DUMP), sequence)
            if let header { nftnl_rule_nlmsg_build_payload(header, filter.pointer) }
            return header
        }, operation: "dump rules of \(id)") { header in
            let rule = try RuleHandle()
            guard nftnl_rule_nlmsg_parse(header, rule.pointer) >= 0,
                  let table = nftnl_rule_get_str(rule.pointer, UInt16(NFTNL_RULE_TABLE.rawValue)), String(cString: table) == id.name else { return }
            rules.append(try KernelDecoding.rule(rule.pointer, anonymousSets: anonymousSets))
        }
        return rules
    }
}
