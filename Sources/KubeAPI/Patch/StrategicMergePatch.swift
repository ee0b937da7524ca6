import Values

/// A strategic merge patch that could not be applied.
public struct StrategicMergePatchError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Upstream's strategic merge patch (`application/strategic-merge-patch+json`), as
/// `kubectl apply`, `kubectl patch` and `kubectl edit` send it: maps merge recursively and
/// `null` deletes; lists follow `PatchSchema` (merge by key, merge as set, or replace);
/// directives `$patch` (replace/delete/merge), `$retainKeys`, `$deleteFromPrimitiveList/<f>`
/// and `$setElementOrder/<f>` are honoured and never stored.
public enum StrategicMergePatch {
    static let directive = "$patch"
    static let retainKeys = "$retainKeys"
    static let deletePrefix = "$deleteFromPrimitiveList/"
    static let orderPrefix = "$setElementOrder/"

    /// Applies `patch` (a JSON object) to `original`.
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: PatchSchema) throws -> JSONValue {
        guard case .object(let p) = patch else {
            throw StrategicMergePatchError("a strategic merge patch must be a JSON object, not \(patch.typeName)")
        }
        var merger = Merger(schema: schema)
        return .object(try merger.mergeMap(original.objectValue, p, path: []))
    }

    struct Merger {
        let schema: PatchSchema

        mutating func mergeMap(_ original: [String: JSONValue]?, _ patch: [String: JSONValue],
                               path: [String]) throws -> [String: JSONValue] {
            var patch = patch
            if let d = patch.removeValue(forKey: StrategicMergePatch.directive) {
                switch d.stringValue {
                case "replace": return try mergeMap(nil, patch, path: path)
                case "delete": return [:]
                case "merge": break
                default: throw StrategicMergePatchError("unknown patch type: \(d) in map: \(render(path))")
                }
            }
            var result = original ?? [:]
            if let keep = patch.removeValue(forKey: StrategicMergePatch.retainKeys) {
                guard case .array(let names) = keep else {
                    throw StrategicMergePatchError("$retainKeys must be a list of field names in \(render(path))")
                }
                let kept = Set(names.compactMap(\.stringValue))
                for key in patch.keys where !key.hasPrefix("$") && !kept.contains(key) && !(patch[key]?.isNull ?? true) {
                    throw StrategicMergePatchError("the key \"\(key)\" is not present in $retainKeys list of \(render(path))")
                }
                result = result.filter { kept.contains($0.key) }
            }
            var fields: Set<String> = []
            for key in patch.keys {
                if key.hasPrefix(StrategicMergePatch.orderPrefix) {
                    fields.insert(String(key.dropFirst(StrategicMergePatch.orderPrefix.count)))
                } else if key.hasPrefix(StrategicMergePatch.deletePrefix) {
                    fields.insert(String(key.dropFirst(StrategicMergePatch.deletePrefix.count)))
                } else {
                    fields.insert(key)
                }
            }
            for field in fields.sorted() {
                let value = patch[field]
                let order = try directiveList(patch, StrategicMergePatch.orderPrefix + field, path)
                let deletions = try directiveList(patch, StrategicMergePatch.deletePrefix + field, path)
                let childPath = path + [field]
                switch value {
                case .null?:
                    result.removeValue(forKey: field)
                case .object(let p)?:
                    result[field] = .object(try mergeMap(result[field]?.objectValue, p, path: childPath))
                case .array(let p)?:
                    result[field] = .array(try mergeList(result[field]?.arrayValue, p, path: childPath,
                                                         deletions: deletions, order: order))
                case let scalar?:
                    result[field] = scalar
                case nil:
                    // Only directives for this list: deletions and/or a new order of the live list.
                    guard let live = result[field]?.arrayValue else { continue }
                    result[field] = .array(try mergeList(live, [], path: childPath, deletions: deletions, order: order))
                }
            }
            return result
        }

        func directiveList(_ patch: [String: JSONValue], _ key: String, _ path: [String]) throws -> [JSONValue]? {
            guard let v = patch[key] else { return nil }
            guard case .array(let list) = v else {
                throw StrategicMergePatchError("\(key) in \(render(path)) must be a list, not \(v.typeName)")
            }
            return list
        }

        /// Strips directives and nulls from a value being added where nothing was before.
        mutating func fresh(_ value: JSONValue, path: [String]) throws -> JSONValue {
            switch value {
            case .object(let o): return .object(try mergeMap(nil, o, path: path))
            case .array(let a): return .array(try mergeList(nil, a, path: path, deletions: nil, order: nil))
            default: return value
            }
        }

        mutating func mergeList(_ original: [JSONValue]?, _ patch: [JSONValue], path: [String],
                                deletions: [JSONValue]?, order: [JSONValue]?) throws -> [JSONValue] {
            if let replaceAt = patch.firstIndex(where: { $0[StrategicMergePatch.directive]?.stringValue == "replace" }) {
                var items = patch
                items.remove(at: replaceAt)
                return try items.map { try fresh($0, path: path) }
            }
            switch schema.listStrategy(at: path) {
            case .atomic:
                return try patch.map { try fresh($0, path: path) }
            case .mergeSet:
                return try mergeSet(original ?? [], patch, path: path, deletions: deletions ?? [], order: order)
            case .mergeByKey(let key):
                if patch.contains(where: { $0.objectValue == nil }) || original?.contains(where: { $0.objectValue == nil }) == true {
                    return try mergeSet(original ?? [], patch, path: path, deletions: deletions ?? [], order: order)
                }
                return try mergeByKey(original ?? [], patch, key: key, path: path, order: order)
            }
        }

        func mergeSet(_ original: [JSONValue], _ patch: [JSONValue], path: [String],
                      deletions: [JSONValue], order: [JSONValue]?) throws -> [JSONValue] {
            if patch.contains(where: { $0.objectValue != nil }) {
                throw StrategicMergePatchError("cannot merge lists without merge key for \(render(path))")
            }
            let server = original.filter { item in !deletions.contains { $0.jsonEquals(item) } }
            var merged: [JSONValue] = []
            for item in server + patch where !merged.contains(where: { $0.jsonEquals(item) }) {
                merged.append(item)
            }
            return ListOrder.normalize(merged, order: order ?? patch, server: server) { $0 }
        }

        mutating func mergeByKey(_ original: [JSONValue], _ patch: [JSONValue], key: String,
                                 path: [String], order: [JSONValue]?) throws -> [JSONValue] {
            var merged = original
            var patchItems: [JSONValue] = []
            for item in patch {
                guard case .object(var fields) = item else { continue }
                let d = fields[StrategicMergePatch.directive]?.stringValue
                guard let id = fields[key], !id.isNull else {
                    throw StrategicMergePatchError("map: \(render(path)) element does not contain declared merge key: \(key)")
                }
                switch d {
                case "delete":
                    merged.removeAll { $0[key]?.jsonEquals(id) == true }
                    continue
                case "merge":
                    fields.removeValue(forKey: StrategicMergePatch.directive)
                case nil:
                    break
                case let other?:
                    throw StrategicMergePatchError("unknown patch type: \(other) in list \(render(path))")
                }
                patchItems.append(.object(fields))
                if let i = merged.firstIndex(where: { $0[key]?.jsonEquals(id) == true }) {
                    merged[i] = .object(try mergeMap(merged[i].objectValue, fields, path: path))
                } else {
                    merged.append(.object(try mergeMap(nil, fields, path: path)))
                }
            }
            let server = original.filter { o in merged.contains { $0[key]?.jsonEquals(o[key] ?? .null) == true } }
            return ListOrder.normalize(merged, order: order ?? patchItems, server: server) { $0[key] }
        }

        func render(_ path: [String]) -> String { path.isEmpty ? "<root>" : path.joined(separator: ".") }
    }
}

/// Upstream's element ordering after a list merge: items named by the patch (or its
/// `$setElementOrder`) come in that order; items only on the server keep their live
/// order and are interleaved where they sat relative to the patch items.
enum ListOrder {
    static func normalize(_ merged: [JSONValue], order: [JSONValue], server: [JSONValue],
                          identity: (JSONValue) -> JSONValue?) -> [JSONValue] {
        func index(_ list: [JSONValue], _ item: JSONValue) -> Int {
            guard let id = identity(item) else { return -1 }
            return list.firstIndex { identity($0)?.jsonEquals(id) == true } ?? -1
        }
        var fromPatch: [(Int, JSONValue)] = []
        var serverOnly: [(Int, JSONValue)] = []
        for item in merged {
            let i = index(order, item)
            if i >= 0 { fromPatch.append((i, item)) } else { serverOnly.append((index(server, item), item)) }
        }
        let right = stableSorted(fromPatch).map(\.1)
        let left = stableSorted(serverOnly).map(\.1)
        var out: [JSONValue] = []
        var i = 0, j = 0
        while i < left.count || j < right.count {
            if i >= left.count {
                out.append(right[j]); j += 1
            } else if j >= right.count {
                out.append(left[i]); i += 1
            } else {
                let li = index(server, left[i]), ri = index(server, right[j])
                if li >= 0 && ri >= 0 && li < ri {
                    out.append(left[i]); i += 1
                } else {
                    out.append(right[j]); j += 1
                }
            }
        }
        return out
    }

    static func stableSorted(_ items: [(Int, JSONValue)]) -> [(Int, JSONValue)] {
        items.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
    }
}
