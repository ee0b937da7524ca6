/// Presentation format (RFC 1035 §5.1), one line per record, for logs and tests.
extension RData: CustomStringConvertible {
    public var description: String {
        switch self {
        case .a(let ip), .aaaa(let ip): "\(ip)"
        case .cname(let n), .ns(let n), .ptr(let n): "\(n)"
        case .srv(let s): "\(s.priority) \(s.weight) \(s.port) \(s.target)"
        case .txt(let strings): strings.map { "\"\(String(decoding: $0, as: UTF8.self))\"" }.joined(separator: " ")
        case .soa(let s): "\(s.mname) \(s.rname) \(s.serial) \(s.refresh) \(s.retry) \(s.expire) \(s.minimum)"
        case .unknown(_, let bytes): "\\# \(bytes.count)"
        }
    }
}

extension DNSRecord: CustomStringConvertible {
    /// `name. ttl IN TYPE data`.
    public var description: String {
        let cls = self.class == .in ? "IN" : "CLASS\(self.class.rawValue)"
        return "\(name) \(ttl) \(cls) \(type) \(data)"
    }
}
