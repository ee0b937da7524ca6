/// A field selector as the `fieldSelector` query parameter spells it
/// (`metadata.name=web,spec.nodeName!=n1`). Values may escape `\`, `,` and `=` with a backslash.
/// An absent field reads as the empty string, as upstream's `fields.Set` does.
public struct FieldSelector: Hashable, Sendable, CustomStringConvertible {
    /// `=`/`==` (equal) or `!=` (not equal).
    public enum Operator: String, Hashable, Sendable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
    }

    /// One `field op value` term.
    public struct Requirement: Hashable, Sendable {
        public let field: String
        public let op: Operator
        public let value: String

        public init(field: String, op: Operator, value: String) {
            self.field = field
            self.op = op
            self.value = value
        }

        public func matches(_ fields: [String: String]) -> Bool {
            let have = fields[field] ?? ""
            return op == .notEquals ? have != value : have == value
        }
    }

    /// All terms, in the order written.
    public let requirements: [Requirement]

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// The selector that matches everything.
    public static let everything = FieldSelector(requirements: [])

    /// Parses the query syntax; empty terms are skipped, so "" selects everything.
    public init(parsing text: String) throws {
        var reqs: [Requirement] = []
        for part in FieldSelector.splitTerms(text) where !part.isEmpty {
            guard let (field, op, raw) = FieldSelector.splitTerm(part) else {
                throw SelectorParseError("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            reqs.append(Requirement(field: field, op: op, value: try FieldSelector.unescape(raw)))
        }
        self.init(requirements: reqs)
    }

    public var isEverything: Bool { requirements.isEmpty }

    /// Whether a set of field values (e.g. `["metadata.name": "web"]`) satisfies every term.
    public func matches(_ fields: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(fields) }
    }

    /// The value `field` must equal, if the selector pins it (for indexed fast paths such as
    /// `metadata.name` or `spec.nodeName`).
    public func requiredValue(for field: String) -> String? {
        requirements.first { $0.field == field && $0.op != .notEquals }?.value
    }

    public var description: String {
        requirements.map { "\($0.field)\($0.op.rawValue)\(FieldSelector.escape($0.value))" }.joined(separator: ",")
    }

    /// Splits on commas not preceded by a backslash escape.
    static func splitTerms(_ s: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for c in s {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                current.append(c)
                escaped = true
            } else if c == "," {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        return parts
    }

    /// Finds the first operator (`!=`, `==`, `=`) in a term.
    static func splitTerm(_ term: String) -> (String, Operator, String)? {
        let chars = Array(term)
        for i in chars.indices {
            for op in [Operator.notEquals, .doubleEquals, .equals] {
                let opChars = Array(op.rawValue)
                if i + opChars.count <= chars.count, Array(chars[i..<(i + opChars.count)]) == opChars {
                    let field = String(chars[..<i]).trimmingWhitespace()
                    guard !field.isEmpty else { return nil }
                    return (field, op, String(chars[(i + opChars.count)...]))
                }
            }
        }
        return nil
    }

    static func unescape(_ s: String) throws -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw SelectorParseError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "=" || c == "," {
                throw SelectorParseError("invalid field selector: unescaped \(c) in value \"\(s)\"")
            } else {
                out.append(c)
            }
        }
        if escaped { throw SelectorParseError("invalid field selector: trailing backslash in value \"\(s)\"") }
        return out
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\\" || c == "," || c == "=" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
