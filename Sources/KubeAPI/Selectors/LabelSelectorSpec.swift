/// `metav1.LabelSelector`, the object form used in specs (`matchLabels` and `matchExpressions`).
public struct LabelSelectorSpec: Codable, Hashable, Sendable {
    /// One `matchExpressions` entry.
    public struct Expression: Codable, Hashable, Sendable {
        public var key: String
        /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
        public var `operator`: String
        public var values: [String]?

        public init(key: String, operator op: String, values: [String]? = nil) {
            self.key = key
            self.operator = op
            self.values = values
        }
    }

    public var matchLabels: [String: String]?
    public var matchExpressions: [Expression]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [Expression]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// The equivalent selector (an empty spec selects everything), checked like upstream's
    /// `LabelSelectorAsSelector`.
    public func selector() throws -> LabelSelector {
        var reqs: [LabelSelector.Requirement] = []
        for (k, v) in matchLabels ?? [:] {
            reqs.append(try .init(key: k, op: .equals, values: [v]))
        }
        for e in matchExpressions ?? [] {
            let op: LabelSelector.Operator
            switch e.operator {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            default: throw SelectorParseError("\"\(e.operator)\" is not a valid label selector operator")
            }
            reqs.append(try .init(key: e.key, op: op, values: e.values ?? []))
        }
        return LabelSelector(requirements: reqs)
    }

    /// The selector in label-selector syntax (`app=web,tier in (a,b)`), as `Scale.status.selector` and
    /// kubectl's wide columns print it; empty when the spec does not convert.
    public var text: String { (try? selector())?.description ?? "" }

    /// Whether `labels` are selected; a spec that fails to convert selects nothing.
    public func matches(_ labels: [String: String]) -> Bool {
        (try? selector())?.matches(labels) ?? false
    }
}

extension LabelSelector {
    /// Converts a spec; see `LabelSelectorSpec.selector()`.
    public init(_ spec: LabelSelectorSpec) throws {
        self = try spec.selector()
    }
}
