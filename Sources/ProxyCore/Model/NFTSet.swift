import KubeAPI

/// A named set (`data == nil`) or map (`data` set; `.verdict` makes it a verdict map used by `vmap`).
public struct NFTSet: Hashable, Sendable {
    public var name: String
    /// Key type; more than one element means a concatenation (`ipv4_addr . inet_proto . inet_service`).
    public var keyType: [NFTDataType]
    /// Map data type: one type, or several for concatenated data (`ipv4_addr . inet_service`, an endpoint);
    /// empty for a plain set.
    public var dataTypes: [NFTDataType]
    /// The map's data type when it has exactly one (nil for a plain set or concatenated data).
    public var dataType: NFTDataType? { dataTypes.count == 1 ? dataTypes[0] : nil }
    public var flags: [NFTSetFlag]
    /// Default element timeout in seconds (sets with `.timeout`).
    public var timeoutSeconds: Int?
    public var comment: String?
    /// Elements the ruleset defines; dynamic sets (filled by `update`) have none here, and their kernel
    /// elements are never flushed by partial syncs.
    public var elements: [NFTElement]

    public init(name: String, keyType: [NFTDataType], dataType: NFTDataType? = nil, flags: [NFTSetFlag] = [],
                timeoutSeconds: Int? = nil, comment: String? = nil, elements: [NFTElement] = []) {
        self.init(name: name, keyType: keyType, dataTypes: dataType.map { [$0] } ?? [], flags: flags,
                  timeoutSeconds: timeoutSeconds, comment: comment, elements: elements)
    }

    public init(name: String, keyType: [NFTDataType], dataTypes: [NFTDataType], flags: [NFTSetFlag] = [],
                timeoutSeconds: Int? = nil, comment: String? = nil, elements: [NFTElement] = []) {
        self.name = name; self.keyType = keyType; self.dataTypes = dataTypes; self.flags = flags
        self.timeoutSeconds = timeoutSeconds; self.comment = comment; self.elements = elements
    }

    /// Whether this is a map (has data).
    public var isMap: Bool { !dataTypes.isEmpty }
    /// Whether nft declares this set by expressions (`typeof`): a numgen value in the key has no type name.
    public var declaredByTypeof: Bool { keyType.contains(.integer) }
    /// Whether the kernel adds elements (`update @set`); such sets keep their elements across syncs.
    public var isDynamic: Bool { flags.contains(.dynamic) }
}

/// Set flags.
public enum NFTSetFlag: String, Hashable, Sendable {
    /// Keys are ranges/prefixes.
    case interval
    /// Elements expire.
    case timeout
    /// Updated from the packet path (`update @set`).
    case dynamic
    /// Immutable after creation.
    case constant
}

/// An nftables data type with its byte length in a register.
public enum NFTDataType: String, Hashable, Sendable {
    case ipv4Address = "ipv4_addr"
    case ipv6Address = "ipv6_addr"
    case inetProto = "inet_proto"
    case inetService = "inet_service"
    case mark = "mark"
    case ifname = "ifname"
    case verdict = "verdict"
    /// 32-bit integer in host byte order: numgen output (a map keyed by it is declared `typeof numgen …`).
    case integer = "integer"

    /// nftables' name for the type.
    public var nftName: String { rawValue }

    /// Length in bytes of a value of this type (concatenations pad each component to 4 bytes).
    public var byteLength: Int {
        switch self {
        case .ipv4Address, .mark, .integer, .verdict: 4
        case .ipv6Address, .ifname: 16
        case .inetProto: 1
        case .inetService: 2
        }
    }
}

/// One element of a set or map: a key (one value per key type; concatenated when several), optional map data
/// and a comment.
public struct NFTElement: Hashable, Sendable {
    public var key: [NFTValue]
    public var data: NFTElementData?
    public var comment: String?

    public init(key: [NFTValue], data: NFTElementData? = nil, comment: String? = nil) {
        self.key = key; self.data = data; self.comment = comment
    }
}

/// The data of a map element.
public enum NFTElementData: Hashable, Sendable {
    case verdict(NFTVerdict)
    case value(NFTValue)
    /// Concatenated data (`10.244.0.5 . 8080`: an endpoint's address and port).
    case values([NFTValue])
}
