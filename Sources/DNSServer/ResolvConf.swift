import DNSCore
import NIOCore

/// Upstream addresses from `resolv.conf` text and `--upstream` flags.
public enum ResolvConf {
    /// The `nameserver` lines, in order, as port-53 addresses (scoped IPv6 and garbage skipped).
    public static func nameservers(in text: String) -> [SocketAddress] {
        // Scoped link-local addresses (fe80::1%eth0) would lose their scope: skipped.
        ResolverConfig(parsing: text).nameservers.compactMap { $0.contains("%") ? nil : try? SocketAddress(ipAddress: $0, port: 53) }
    }

    /// `1.1.1.1`, `1.1.1.1:5353`, `[::1]:53` or `::1` → a socket address (port 53 by default).
    public static func parseUpstream(_ text: String) throws -> SocketAddress {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            let port = rest.hasPrefix(":") ? Int(rest.dropFirst()) : (rest.isEmpty ? 53 : nil)
            guard let port else { throw SocketAddressError.unsupported }
            return try SocketAddress(ipAddress: host, port: port)
        }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) {
            return try SocketAddress(ipAddress: String(text[..<colon]), port: port)
        }
        return try SocketAddress(ipAddress: text, port: 53)
    }

    /// True when forwarding to `upstream` would reach this server itself (same port on the listen
    /// address, or on a loopback address when listening on all addresses).
    public static func isSelf(_ upstream: SocketAddress, listen: SocketAddress) -> Bool {
        guard upstream.port == listen.port else { return false }
        guard let u = upstream.ipAddress, let l = listen.ipAddress else { return false }
        if u == l { return true }
        let wildcard = l == "0.0.0.0" || l == "::"
        return wildcard && (u.hasPrefix("127.") || u == "::1" || u == "0.0.0.0" || u == "::")
    }
}
