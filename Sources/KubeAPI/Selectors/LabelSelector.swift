/// A label or field selector that could not be parsed; `message` is meant for a 400 Status.
public struct SelectorParseError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A label selector as the `labelSelector` query parameter spells it
/// (`app=web,tier!=db,env in (a,b),!legacy`): a conjunction of requirements.
public struct LabelSelector: Hashable, Sendable, CustomStringConvertible {
    /// How one requirement compares a label.
    public enum Operator: String, Hashable, Sendable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One `key op values` term.
    public struct Requirement: Hashable, Sendable, CustomStringConvertible {
        public let key: String
        public let op: Operator
        /// Sorted, de-duplicated values (one for `=`/`!=`/`gt`/`lt`, none for exists/does-not-exist).
        public let values: [String]

        /// A requirement, checked like upstream's `NewRequirement`.
        public init(key: String, op: Operator, values: [String] = []) throws {
            let keyErrors = LabelSyntax.qualifiedNameErrors(key)
            if !keyErrors.isEmpty {
                throw SelectorParseError("key: Invalid value: \"\(key)\": \(keyErrors.joined(separator: "; "))")
            }
            let sorted = Array(Set(values)).sorted()
            switch op {
            case .in, .notIn:
                if sorted.isEmpty { throw SelectorParseError("values: Invalid value: for 'in', 'notin' operators, values set can't be empty") }
            case .equals, .doubleEquals, .notEquals:
                if sorted.count != 1 { throw SelectorParseError("values: Invalid value: exact-match compatibility requires one single value") }
            case .exists, .doesNotExist:
                if !sorted.isEmpty { throw SelectorParseError("values: Invalid value: values set must be empty for exists and does not exist") }
            case .greaterThan, .lessThan:
                guard sorted.count == 1, let v = sorted.first else {
                    throw SelectorParseError("values: Invalid value: for 'Gt', 'Lt' operators, exactly one value is required")
                }
                if Int64(v) == nil {
                    throw SelectorParseError("values[0]: Invalid value: \"\(v)\": for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            if op != .greaterThan && op != .lessThan {
                for (i, v) in sorted.enumerated() {
                    let errs = LabelSyntax.labelValueErrors(v)
                    if !errs.isEmpty {
                        throw SelectorParseError("values[\(i)][\(key)]: Invalid value: \"\(v)\": \(errs.joined(separator: "; "))")
                    }
                }
            }
            self.key = key
            self.op = op
            self.values = sorted
        }

        /// Whether a label set satisfies this requirement (absent keys satisfy `!=` and `notin`).
        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .equals, .doubleEquals, .in:
                guard let value else { return false }
                return values.contains(value)
            case .notEquals, .notIn:
                guard let value else { return true }
                return !values.contains(value)
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let have = Int64(value), let want = values.first.flatMap({ Int64($0) }) else { return false }
                return op == .greaterThan ? have > want : have < want
            }
        }

        /// Upstream's rendering: `k=v`, `k!=v`, `k in (a,b)`, `k`, `!k`, `k>3`.
        public var description: String {
            let joined = values.joined(separator: ",")
            switch op {
            case .equals: return "\(key)=\(joined)"
            case .doubleEquals: return "\(key)==\(joined)"
            case .notEquals: return "\(key)!=\(joined)"
            case .in: return "\(key) in (\(joined))"
            case .notIn: return "\(key) notin (\(joined))"
            case .exists: return key
            case .doesNotExist: return "!\(key)"
            case .greaterThan: return "\(key)>\(joined)"
            case .lessThan: return "\(key)<\(joined)"
            }
        }
    }

    /// Requirements sorted by key (stable), all of which must match.
    public let requirements: [Requirement]

    /// A selector from requirements; they are ordered by key.
    public init(requirements: [Requirement]) {
        self.requirements = requirements.enumerated()
            .sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
            .map(\.element)
    }

    /// The selector that matches everything.
    public static let everything = LabelSelector(requirements: [])

    /// The equality selector of a Service's `spec.selector` map. Pairs that are not valid
    /// label syntax are kept as plain equality terms (they simply match exact labels).
    public init(matchLabels: [String: String]) {
        var reqs: [Requirement] = []
        for (k, v) in matchLabels {
            if let r = try? Requirement(key: k, op: .equals, values: [v]) {
                reqs.append(r)
            } else {
                reqs.append(Requirement(unchecked: k, op: .equals, values: [v]))
            }
        }
        self.init(requirements: reqs)
    }

    /// Parses the query-string syntax; an empty or all-blank string selects everything.
    public init(parsing text: String) throws {
        var parser = LabelSelectorParser(text)
        self.init(requirements: try parser.parse())
    }

    /// True when there are no requirements.
    public var isEverything: Bool { requirements.isEmpty }

    /// Whether a label set satisfies every requirement.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// Canonical form: requirements by key, joined with commas.
    public var description: String { requirements.map(\.description).joined(separator: ",") }
}

extension LabelSelector.Requirement {
    init(unchecked key: String, op: LabelSelector.Operator, values: [String]) {
        self.key = key
        self.op = op
        self.values = values
    }
}
