import Foundation

/// RFC 3339 timestamps as Kubernetes writes them: UTC, second precision (`2026-11-24T04:19:52Z`).
/// Parsing also accepts fractional seconds and numeric offsets (`MicroTime`, other writers).
public enum KubeTime {
    /// Formats `date` in UTC with whole seconds (fractions are truncated, as upstream's `metav1.Time`).
    public static func format(_ date: Date) -> String {
        let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        return whole.formatted(Date.ISO8601FormatStyle())
    }

    /// The current time, formatted.
    public static func now() -> String { format(Date()) }

    /// Parses an RFC 3339 timestamp; nil if it is not one.
    public static func parse(_ text: String) -> Date? {
        var base = text
        var fraction = 0.0
        // Split off ".123456789" so any number of digits is accepted.
        if let dot = text.firstIndex(of: "."), let tIndex = text.firstIndex(of: "T"), dot > tIndex {
            let digitsEnd = text[text.index(after: dot)...].firstIndex(where: { !$0.isASCII || !$0.isNumber }) ?? text.endIndex
            let digits = text[text.index(after: dot)..<digitsEnd]
            guard !digits.isEmpty, let value = Double("0." + digits) else { return nil }
            fraction = value
            base = String(text[..<dot]) + String(text[digitsEnd...])
        }
        guard let date = try? Date(base, strategy: Date.ISO8601FormatStyle()) else { return nil }
        return date.addingTimeInterval(fraction)
    }
}
