/// Lexer and recursive-descent parser for the label selector query syntax.
struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case equals, doubleEquals, notEquals, bang, greaterThan, lessThan
        case `in`, notIn, openParen, closeParen, comma, end

        var text: String {
            switch self {
            case .identifier(let s): s
            case .equals: "="
            case .doubleEquals: "=="
            case .notEquals: "!="
            case .bang: "!"
            case .greaterThan: ">"
            case .lessThan: "<"
            case .in: "in"
            case .notIn: "notin"
            case .openParen: "("
            case .closeParen: ")"
            case .comma: ","
            case .end: "end of string"
            }
        }
    }

    private var tokens: [Token] = []
    private var position = 0
    private let source: String

    init(_ source: String) {
        self.source = source
    }

    static let specials: Set<Character> = ["=", "!", "(", ")", ",", ">", "<"]

    static func lex(_ s: String) -> [Token] {
        var out: [Token] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c.isWhitespace { i = s.index(after: i); continue }
            let next = s.index(after: i)
            let following: Character? = next < s.endIndex ? s[next] : nil
            switch c {
            case "=":
                if following == "=" { out.append(.doubleEquals); i = s.index(after: next) } else { out.append(.equals); i = next }
            case "!":
                if following == "=" { out.append(.notEquals); i = s.index(after: next) } else { out.append(.bang); i = next }
            case "(": out.append(.openParen); i = next
            case ")": out.append(.closeParen); i = next
            case ",": out.append(.comma); i = next
            case ">": out.append(.greaterThan); i = next
            case "<": out.append(.lessThan); i = next
            default:
                var j = i
                while j < s.endIndex, !s[j].isWhitespace, !specials.contains(s[j]) { j = s.index(after: j) }
                let word = String(s[i..<j])
                switch word {
                case "in": out.append(.in)
                case "notin": out.append(.notIn)
                default: out.append(.identifier(word))
                }
                i = j
            }
        }
        out.append(.end)
        return out
    }

    private var current: Token { tokens[position] }

    private mutating func advance() -> Token {
        let t = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private func failure(_ found: Token, expected: String) -> SelectorParseError {
        SelectorParseError("unable to parse requirement: found '\(found.text)', expected: \(expected)")
    }

    mutating func parse() throws -> [LabelSelector.Requirement] {
        tokens = Self.lex(source)
        position = 0
        var out: [LabelSelector.Requirement] = []
        if current == .end { return out }
        while true {
            out.append(try parseRequirement())
            let t = advance()
            switch t {
            case .end: return out
            case .comma:
                if current == .end || current == .comma {
                    throw failure(current, expected: "identifier after ','")
                }
            default:
                throw failure(t, expected: "',' or end of string")
            }
        }
    }

    private mutating func parseRequirement() throws -> LabelSelector.Requirement {
        var negated = false
        if current == .bang { negated = true; _ = advance() }
        let keyToken = advance()
        guard case .identifier(let key) = keyToken else {
            throw failure(keyToken, expected: "identifier")
        }
        if current == .end || current == .comma {
            return try .init(key: key, op: negated ? .doesNotExist : .exists)
        }
        if negated {
            throw failure(current, expected: "',' or end of string after '!\(key)'")
        }
        let opToken = advance()
        let op: LabelSelector.Operator
        switch opToken {
        case .equals: op = .equals
        case .doubleEquals: op = .doubleEquals
        case .notEquals: op = .notEquals
        case .greaterThan: op = .greaterThan
        case .lessThan: op = .lessThan
        case .in: op = .in
        case .notIn: op = .notIn
        default:
            throw failure(opToken, expected: "'=', '!=', '==', 'in', 'notin', '>' or '<'")
        }
        if op == .in || op == .notIn {
            return try .init(key: key, op: op, values: parseValueSet())
        }
        return try .init(key: key, op: op, values: [parseExactValue()])
    }

    private mutating func parseExactValue() throws -> String {
        switch current {
        case .end, .comma: return ""
        case .identifier(let v): _ = advance(); return v
        case .in, .notIn: return advance().text
        default: throw failure(current, expected: "identifier")
        }
    }

    private mutating func parseValueSet() throws -> [String] {
        let open = advance()
        guard open == .openParen else { throw failure(open, expected: "'('") }
        var values: [String] = []
        if current == .closeParen { _ = advance(); return [""] }
        while true {
            switch current {
            case .identifier(let v): values.append(v); _ = advance()
            case .in, .notIn: values.append(advance().text)
            case .comma, .closeParen: values.append("")
            default: throw failure(current, expected: "identifier")
            }
            let t = advance()
            switch t {
            case .comma: continue
            case .closeParen: return values
            default: throw failure(t, expected: "',' or ')'")
            }
        }
    }
}
