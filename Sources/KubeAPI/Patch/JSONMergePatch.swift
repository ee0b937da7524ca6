import Values

/// RFC 7386 JSON merge patch (`application/merge-patch+json`).
public enum JSONMergePatch {
    /// Applies `patch` to `target`: objects merge recursively, `null` deletes a key, anything
    /// else (arrays included) replaces.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchObject {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified` (`{}` when they are equal).
    /// Keys missing from `modified` become `null`; arrays and scalars that differ are sent whole.
    /// Clients use it to update only what they changed, keeping fields they do not know.
    public static func create(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let before) = original, case .object(let after) = modified else {
            return modified
        }
        var patch: [String: JSONValue] = [:]
        for (key, _) in before where after[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in after {
            guard let oldValue = before[key] else {
                patch[key] = newValue
                continue
            }
            if oldValue.jsonEquals(newValue) { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = create(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }
}

extension JSONValue {
    /// JSON equality: like `==`, except that numbers compare by value (`1` equals `1.0`).
    public func jsonEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)):
            return Double(a) == b
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.jsonEquals($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { value.jsonEquals($0) } ?? false }
        default:
            return self == other
        }
    }

    /// A short name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}
