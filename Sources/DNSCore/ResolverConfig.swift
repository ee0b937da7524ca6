/// `/etc/resolv.conf` as glibc's resolver reads it: nameservers, the search list (`search` or `domain`,
/// the last one wins) and options; comments start with `#` or `;`. The DNS server reads its upstreams
/// from it, the node agent writes pods' files with it.
public struct ResolverConfig: Sendable, Equatable {
    public var nameservers: [String]
    public var search: [String]
    public var options: [String]

    /// glibc uses at most 3 nameservers; the kubelet keeps at most 32 search domains.
    public static let maxNameservers = 3, maxSearch = 32

    public init(nameservers: [String] = [], search: [String] = [], options: [String] = []) {
        self.nameservers = nameservers; self.search = search; self.options = options
    }

    public init(parsing text: String) {
        self.init()
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = words.first, !key.hasPrefix("#"), !key.hasPrefix(";") else { continue }
            let rest = Array(words.dropFirst())
            switch key {
            case "nameserver": nameservers += rest.prefix(1)
            case "search", "domain": search = rest
            case "options": options += rest
            default: continue
            }
        }
    }

    /// The file's text: nameservers and search domains within the limits (search domains once each).
    public var text: String {
        var seen = Set<String>()
        let domains = search.filter { seen.insert($0).inserted }.prefix(Self.maxSearch)
        var text = ""
        for ns in nameservers.prefix(Self.maxNameservers) { text += "nameserver \(ns)\n" }
        if !domains.isEmpty { text += "search \(domains.joined(separator: " "))\n" }
        if !options.isEmpty { text += "options \(options.joined(separator: " "))\n" }
        return text
    }
}
