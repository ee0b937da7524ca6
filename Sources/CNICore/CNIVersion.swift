import Values

/// A CNI specification version (`major.minor.patch`) and which operations it allows.
public struct CNIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int, minor: Int, patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major; self.minor = minor; self.patch = patch
    }

    /// Parses `1.1.0` (a missing patch counts as 0).
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), let a = Int(parts[0]), let b = Int(parts[1]), a >= 0, b >= 0 else { return nil }
        let c = parts.count == 3 ? Int(parts[2]) : 0
        guard let c, c >= 0 else { return nil }
        self.init(a, b, c)
    }

    public static func < (a: CNIVersion, b: CNIVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    /// The version this plugin speaks natively.
    public static let current = CNIVersion(1, 1, 0)
    /// Every version whose configs this plugin accepts, oldest first.
    public static let supported: [CNIVersion] = [.init(0, 3, 0), .init(0, 3, 1), .init(0, 4, 0), .init(1, 0, 0), .init(1, 1, 0)]

    /// Results in 0.3.x/0.4.0 carry `"version"` on each IP; 1.x dropped it.
    public var resultHasIPVersion: Bool { major == 0 }
    /// CHECK exists from 0.4.0.
    public var supportsCheck: Bool { self >= CNIVersion(0, 4, 0) }
    /// GC and STATUS exist from 1.1.0.
    public var supportsGCAndStatus: Bool { self >= CNIVersion(1, 1, 0) }

    /// The VERSION command's answer.
    public static func versionInfo() -> JSONValue {
        ["cniVersion": .string(current.description), "supportedVersions": .array(supported.map { .string($0.description) })]
    }

    /// Parses and checks a config's `cniVersion` (error code 1 when unsupported).
    public static func negotiate(_ text: String?) throws(CNIError) -> CNIVersion {
        guard let text else { throw CNIError(.decodeFailure, "missing cniVersion") }
        guard let v = CNIVersion(text), supported.contains(v) else {
            throw CNIError(.incompatibleVersion, "incompatible CNI versions",
                           details: "config is \"\(text)\", plugin supports [\(supported.map(\.description).joined(separator: " "))]")
        }
        return v
    }
}
