/// The JSON text of Kubernetes' special protobuf messages, as Go's `MarshalJSON` writes it.
/// Integer arithmetic only, so formatting is exact for every representable instant.
enum ProtobufWellKnown {
    /// Seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: Go refuses to marshal years outside [0, 9999].
    static let minSeconds: Int64 = -62_167_219_200
    static let maxSeconds: Int64 = 253_402_300_799

    /// `meta/v1 Time`: RFC 3339 in UTC to the second ("2006-01-02T15:04:05Z"); nanoseconds are dropped
    /// (upstream reads only the seconds from protobuf). Nil when the year is outside [0, 9999].
    static func time(seconds: Int64) -> String? {
        guard let (date, clock) = civil(seconds) else { return nil }
        return date + "T" + clock + "Z"
    }

    /// `meta/v1 MicroTime`: RFC 3339 in UTC with exactly 6 fractional digits ("2006-01-02T15:04:05.000000Z").
    /// `nanos` is normalised as Go's `time.Unix` does. Nil when the year is outside [0, 9999].
    static func microTime(seconds: Int64, nanos: Int64) -> String? {
        let (carry, rest) = nanos.quotientAndRemainder(dividingBy: 1_000_000_000)
        var seconds = seconds.addingReportingOverflow(carry)
        var nanos = rest
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds = seconds.partialValue.addingReportingOverflow(-1)
        }
        guard !seconds.overflow, let (date, clock) = civil(seconds.partialValue) else { return nil }
        return date + "T" + clock + "." + pad(nanos / 1000, 6) + "Z"
    }

    /// `meta/v1 Duration`: Go's `time.Duration.String()` ("1h0m0s", "1.5s", "300ms", "0s").
    static func duration(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let value = nanoseconds.magnitude
        if value < 1_000_000_000 {
            // Below a second: the largest unit that keeps an integer part.
            let (unit, digits): (String, Int) = value < 1000 ? ("ns", 0) : value < 1_000_000 ? ("µs", 3) : ("ms", 6)
            let scale = power10(digits)
            return sign + "\(value / scale)" + fraction(value % scale, digits: digits) + unit
        }
        var whole = value / 1_000_000_000
        var text = "\(whole % 60)" + fraction(value % 1_000_000_000, digits: 9) + "s"
        whole /= 60
        if whole > 0 {
            text = "\(whole % 60)m" + text
            whole /= 60
            if whole > 0 { text = "\(whole)h" + text }
        }
        return sign + text
    }

    /// `rest` (< 10^digits) as ".ddd" without trailing zeros, or "" when it is zero.
    private static func fraction(_ rest: UInt64, digits: Int) -> String {
        guard rest != 0 else { return "" }
        var text = pad(Int64(rest), digits)
        while text.hasSuffix("0") { text.removeLast() }
        return "." + text
    }

    private static func power10(_ digits: Int) -> UInt64 {
        (0..<digits).reduce(1) { product, _ in product * 10 }
    }

    /// ("YYYY-MM-DD", "hh:mm:ss") of a Unix time in UTC (proleptic Gregorian calendar).
    private static func civil(_ seconds: Int64) -> (String, String)? {
        guard seconds >= minSeconds, seconds <= maxSeconds else { return nil }
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        // Days since 1970-01-01 → civil date (Howard Hinnant's days_from_civil inverse).
        let z = days + 719_468
        let era = floorDivide(z, 146_097).quotient
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let date = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        let clock = pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        return (date, clock)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = a.quotientAndRemainder(dividingBy: b)
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
