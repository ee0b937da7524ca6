import Values

/// A JSON patch that could not be applied; names the failing operation.
public struct JSONPatchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Position of the operation in the patch array (nil when the patch itself is malformed).
    public var index: Int?
    public var op: String?
    public var path: String?
    public var reason: String

    public var description: String {
        guard let index else { return "invalid JSON patch: \(reason)" }
        return "json patch operation \(index) (\(op ?? "?") \(path ?? "")) failed: \(reason)"
    }
}

/// RFC 6902 JSON patch (`application/json-patch+json`): add, remove, replace, move, copy, test.
public enum JSONPatch {
    /// Applies the operations in order; the first failure aborts the whole patch.
    public static func apply(_ operations: JSONValue, to document: JSONValue) throws -> JSONValue {
        guard case .array(let ops) = operations else {
            throw JSONPatchError(reason: "a JSON patch must be an array of operations, not \(operations.typeName)")
        }
        var doc = document
        for (i, op) in ops.enumerated() {
            let name = op["op"]?.stringValue
            let path = op["path"]?.stringValue
            do {
                doc = try applyOne(op, to: doc)
            } catch let failure as Failure {
                throw JSONPatchError(index: i, op: name, path: path, reason: failure.reason)
            }
        }
        return doc
    }

    struct Failure: Error { var reason: String }

    static func applyOne(_ op: JSONValue, to doc: JSONValue) throws -> JSONValue {
        guard case .object = op else { throw Failure(reason: "operation must be an object") }
        guard let name = op["op"]?.stringValue else { throw Failure(reason: "missing \"op\"") }
        let path = try pointer(op, "path")
        switch name {
        case "add":
            return try add(try required(op, "value"), at: path, in: doc)
        case "remove":
            return try remove(at: path, in: doc).document
        case "replace":
            let value = try required(op, "value")
            _ = try self.value(at: path, in: doc)
            if path.tokens.isEmpty { return value }
            return try withParent(doc, path.tokens[...]) { parent, last in
                switch parent {
                case .object(var o): o[last] = value; parent = .object(o)
                case .array(var a):
                    guard let i = JSONPointer.arrayIndex(last, count: a.count, allowEnd: false) else {
                        throw Failure(reason: "index \(last) out of range")
                    }
                    a[i] = value; parent = .array(a)
                default: throw Failure(reason: "cannot index into \(parent.typeName)")
                }
            }
        case "move":
            let from = try pointer(op, "from")
            if from == path { return doc }
            if from.isProperPrefix(of: path) { throw Failure(reason: "cannot move \(from) into its own child") }
            let (rest, moved) = try remove(at: from, in: doc)
            return try add(moved, at: path, in: rest)
        case "copy":
            let from = try pointer(op, "from")
            return try add(try value(at: from, in: doc), at: path, in: doc)
        case "test":
            let expected = try required(op, "value")
            let actual = try value(at: path, in: doc)
            guard actual.jsonEquals(expected) else { throw Failure(reason: "test failed: value differs") }
            return doc
        default:
            throw Failure(reason: "unknown operation \"\(name)\"")
        }
    }

    static func required(_ op: JSONValue, _ field: String) throws -> JSONValue {
        guard let v = op.objectValue?[field] else { throw Failure(reason: "missing \"\(field)\"") }
        return v
    }

    static func pointer(_ op: JSONValue, _ field: String) throws -> JSONPointer {
        guard let text = op[field]?.stringValue else { throw Failure(reason: "missing \"\(field)\"") }
        guard let p = JSONPointer(text) else { throw Failure(reason: "invalid JSON pointer \"\(text)\"") }
        return p
    }

    /// The value a pointer names.
    static func value(at path: JSONPointer, in doc: JSONValue) throws -> JSONValue {
        var current = doc
        for token in path.tokens {
            current = try child(of: current, token)
        }
        return current
    }

    static func child(of value: JSONValue, _ token: String) throws -> JSONValue {
        switch value {
        case .object(let o):
            guard let v = o[token] else { throw Failure(reason: "path not found: no key \"\(token)\"") }
            return v
        case .array(let a):
            guard let i = JSONPointer.arrayIndex(token, count: a.count, allowEnd: false) else {
                throw Failure(reason: "path not found: index \(token) out of range (length \(a.count))")
            }
            return a[i]
        default:
            throw Failure(reason: "path not found: cannot index into \(value.typeName) with \"\(token)\"")
        }
    }

    /// Rebuilds `doc` with `body` applied to the container holding the last token.
    static func withParent(_ doc: JSONValue, _ tokens: ArraySlice<String>,
                           _ body: (inout JSONValue, String) throws -> Void) throws -> JSONValue {
        guard let first = tokens.first else { return doc }
        if tokens.count == 1 {
            var d = doc
            try body(&d, first)
            return d
        }
        let updated = try withParent(try child(of: doc, first), tokens.dropFirst(), body)
        switch doc {
        case .object(var o): o[first] = updated; return .object(o)
        case .array(var a):
            guard let i = JSONPointer.arrayIndex(first, count: a.count, allowEnd: false) else {
                throw Failure(reason: "index \(first) out of range")
            }
            a[i] = updated; return .array(a)
        default: throw Failure(reason: "cannot index into \(doc.typeName)")
        }
    }

    static func add(_ value: JSONValue, at path: JSONPointer, in doc: JSONValue) throws -> JSONValue {
        if path.tokens.isEmpty { return value }
        return try withParent(doc, path.tokens[...]) { parent, last in
            switch parent {
            case .object(var o): o[last] = value; parent = .object(o)
            case .array(var a):
                guard let i = JSONPointer.arrayIndex(last, count: a.count, allowEnd: true) else {
                    throw Failure(reason: "index \(last) out of range (length \(a.count))")
                }
                a.insert(value, at: i); parent = .array(a)
            default: throw Failure(reason: "cannot add to \(parent.typeName)")
            }
        }
    }

    static func remove(at path: JSONPointer, in doc: JSONValue) throws -> (document: JSONValue, removed: JSONValue) {
        guard !path.tokens.isEmpty else { throw Failure(reason: "cannot remove the whole document") }
        var removed: JSONValue = .null
        let result = try withParent(doc, path.tokens[...]) { parent, last in
            switch parent {
            case .object(var o):
                guard let v = o.removeValue(forKey: last) else { throw Failure(reason: "path not found: no key \"\(last)\"") }
                removed = v; parent = .object(o)
            case .array(var a):
                guard let i = JSONPointer.arrayIndex(last, count: a.count, allowEnd: false) else {
                    throw Failure(reason: "path not found: index \(last) out of range (length \(a.count))")
                }
                removed = a.remove(at: i); parent = .array(a)
            default: throw Failure(reason: "cannot remove from \(parent.typeName)")
            }
        }
        return (result, removed)
    }
}
