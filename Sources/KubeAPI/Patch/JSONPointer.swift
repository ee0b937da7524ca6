/// An RFC 6901 JSON pointer (`/spec/ports/0/port`, with `~1` for `/` and `~0` for `~`).
public struct JSONPointer: Hashable, Sendable, CustomStringConvertible {
    /// Unescaped reference tokens; empty for the whole document.
    public let tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    /// Parses a pointer; nil unless it is empty or starts with `/` and escapes are valid.
    public init?(_ text: String) {
        if text.isEmpty { self.init(tokens: []); return }
        guard text.first == "/" else { return nil }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var escape = false
            for c in raw {
                if escape {
                    switch c {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: return nil
                    }
                    escape = false
                } else if c == "~" {
                    escape = true
                } else {
                    token.append(c)
                }
            }
            if escape { return nil }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    public var description: String {
        tokens.map { "/" + $0.replacingAll("~", with: "~0").replacingAll("/", with: "~1") }.joined()
    }

    /// True if `self` is a proper prefix of `other`.
    public func isProperPrefix(of other: JSONPointer) -> Bool {
        tokens.count < other.tokens.count && Array(other.tokens.prefix(tokens.count)) == tokens
    }

    /// An array index token: digits without leading zeros, within `0..<limit` (or `...limit`).
    static func arrayIndex(_ token: String, count: Int, allowEnd: Bool) -> Int? {
        if allowEnd && token == "-" { return count }
        guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }),
              token.count == 1 || token.first != "0", let i = Int(token) else { return nil }
        return i < count || (allowEnd && i == count) ? i : nil
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
