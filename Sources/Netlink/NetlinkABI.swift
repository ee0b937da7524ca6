import CNetlink

/// Facts about the libnl-route interface this adapter speaks.
public enum NetlinkABI {
    /// Human-readable text of a libnl error code (`nl_geterror`).
    public static func describe(error code: Int32) -> String {
        guard let text = nl_geterror(code) else { return "libnl error \(code)" }
        return String(cString: text)
    }
}
