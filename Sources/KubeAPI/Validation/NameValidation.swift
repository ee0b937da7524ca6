import Values

/// Upstream's small syntax validators (`k8s.io/apimachinery/pkg/util/validation`). Each `…Errors`
/// function returns upstream-like messages, empty when valid; each `is…` function is the Bool form.
public enum NameValidation {
    static let dns1123LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let dns1123SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let dns1035LabelMessage = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
    static let qualifiedNameMessage = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    /// Upstream's message for an invalid IP.
    public static let ipMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    /// Upstream's message for an invalid CIDR.
    public static let cidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
    /// Upstream's message for a port number out of range.
    public static let portRangeMessage = "must be between 1 and 65535, inclusive"

    private static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
    private static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` on raw bytes.
    private static func matchesLabel(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return s.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    // MARK: DNS names

    public static func dns1123LabelErrors(_ value: String) -> [String] {
        var errs: [String] = []
        if value.utf8.count > 63 { errs.append("must be no more than 63 characters") }
        if !matchesLabel(Substring(value).utf8) { errs.append(dns1123LabelMessage) }
        return errs
    }

    public static func dns1123SubdomainErrors(_ value: String) -> [String] {
        var errs: [String] = []
        if value.utf8.count > 253 { errs.append("must be no more than 253 characters") }
        let labels = value.split(separator: ".", omittingEmptySubsequences: false)
        if !labels.allSatisfy({ matchesLabel($0.utf8) }) { errs.append(dns1123SubdomainMessage) }
        return errs
    }

    public static func dns1035LabelErrors(_ value: String) -> [String] {
        var errs: [String] = []
        if value.utf8.count > 63 { errs.append("must be no more than 63 characters") }
        let startsWithLetter = value.utf8.first.map { $0 >= 0x61 && $0 <= 0x7a } ?? false
        if !startsWithLetter || !matchesLabel(Substring(value).utf8) { errs.append(dns1035LabelMessage) }
        return errs
    }

    public static func isDNS1123Label(_ value: String) -> Bool { dns1123LabelErrors(value).isEmpty }
    public static func isDNS1123Subdomain(_ value: String) -> Bool { dns1123SubdomainErrors(value).isEmpty }
    public static func isDNS1035Label(_ value: String) -> Bool { dns1035LabelErrors(value).isEmpty }

    // MARK: Ports

    public static func isValidPortNumber(_ port: Int) -> Bool { (1...65535).contains(port) }

    /// IANA_SVC_NAME (RFC 6335): a named port.
    public static func ianaSvcNameErrors(_ value: String) -> [String] {
        var errs: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 15 { errs.append("must be no more than 15 characters") }
        if !bytes.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") }) {
            errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if value.contains("--") { errs.append("must not contain consecutive hyphens") }
        if !bytes.contains(where: { $0 >= 0x61 && $0 <= 0x7a }) { errs.append("must contain at least one letter (a-z)") }
        if value.hasPrefix("-") || value.hasSuffix("-") { errs.append("must not begin or end with a hyphen") }
        return errs
    }

    public static func isIANASvcName(_ value: String) -> Bool { ianaSvcNameErrors(value).isEmpty }

    // MARK: Qualified names and labels

    /// `[prefix/]name`: label keys, annotation keys, finalizers, appProtocol.
    public static func qualifiedNameErrors(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        var name = Substring(value)
        var errs: [String] = []
        switch parts.count {
        case 1: break
        case 2:
            let prefix = String(parts[0])
            name = parts[1]
            if prefix.isEmpty { errs.append("prefix part must be non-empty") }
            else { errs += dns1123SubdomainErrors(prefix).map { "prefix part \($0)" } }
        default:
            return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty { errs.append("name part must be non-empty") }
        else {
            if name.utf8.count > 63 { errs.append("name part must be no more than 63 characters") }
            if !matchesLabelValue(name.utf8) { errs.append(qualifiedNameMessage) }
        }
        return errs
    }

    public static func isQualifiedName(_ value: String) -> Bool { qualifiedNameErrors(value).isEmpty }

    /// `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`, at most 63 characters.
    public static func labelValueErrors(_ value: String) -> [String] {
        var errs: [String] = []
        if value.utf8.count > 63 { errs.append("must be no more than 63 characters") }
        if !value.isEmpty && !matchesLabelValue(Substring(value).utf8) { errs.append(labelValueMessage) }
        return errs
    }

    public static func isValidLabelValue(_ value: String) -> Bool { labelValueErrors(value).isEmpty }

    private static func matchesLabelValue(_ s: Substring.UTF8View) -> Bool {
        guard let first = s.first, let last = s.last, isAlnum(first), isAlnum(last) else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    // MARK: IP addresses

    public static func isValidIP(_ value: String) -> Bool { IPSyntax.parse(value) != nil }
    public static func isValidIPv4(_ value: String) -> Bool { IPSyntax.parse(value)?.count == 4 }
    public static func isValidIPv6(_ value: String) -> Bool { IPSyntax.parse(value)?.count == 16 && value.contains(":") }
    public static func isValidCIDR(_ value: String) -> Bool { IPSyntax.parseCIDR(value) != nil }
}
