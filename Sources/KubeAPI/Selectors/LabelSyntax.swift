/// Syntax checks for label keys and values, with upstream's wording
/// (`IsQualifiedName`, `IsValidLabelValue`). Each returns the problems found, empty when valid.
public enum LabelSyntax {
    static let nameMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

    /// A qualified name: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters.
    public static func qualifiedNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += dnsSubdomainErrors(prefix).map { "prefix part \($0)" }
            }
        default:
            return ["a qualified name " + nameMessage
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.count > 63 {
            errors.append("name part must be no more than 63 characters")
        }
        if !name.isEmpty && !isLabelName(name) {
            errors.append("name part " + nameMessage)
        }
        return errors
    }

    /// A label value: empty, or at most 63 characters of the label-name alphabet.
    public static func labelValueErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.count > 63 { errors.append("must be no more than 63 characters") }
        if !value.isEmpty && !isLabelName(Substring(value)) {
            errors.append("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
        }
        return errors
    }

    /// A DNS-1123 subdomain: lower-case alphanumerics, '-' and '.', at most 253 characters.
    public static func dnsSubdomainErrors<S: StringProtocol>(_ value: S) -> [String] {
        var errors: [String] = []
        if value.count > 253 { errors.append("must be no more than 253 characters") }
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        let ok = labels.allSatisfy { label in
            guard let first = label.first, let last = label.last else { return false }
            return isLowerAlnum(first) && isLowerAlnum(last)
                && label.allSatisfy { isLowerAlnum($0) || $0 == "-" }
        }
        if !ok {
            errors.append("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character")
        }
        return errors
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    static func isLabelName(_ s: Substring) -> Bool {
        guard let first = s.first, let last = s.last, isAlnum(first), isAlnum(last) else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func isAlnum(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }

    static func isLowerAlnum(_ c: Character) -> Bool {
        c.isASCII && (c.isLowercase || c.isNumber)
    }
}
