import ProxyCore
#if canImport(Glibc)
import Glibc
#endif

/// A field type of a set key or map value, with `nft`'s datatype number and its size in bytes.
public struct KernelDataType: Hashable, Sendable {
    /// `nft`'s datatype id (`TYPE_IPADDR` = 7, …), stored in the set so `nft list` prints values readably.
    public var id: UInt32
    /// Size of one value in bytes before padding.
    public var size: Int
    /// Values are in host byte order (numgen results, marks), which `nft` needs to know to print them.
    public var hostOrder: Bool
    public init(id: UInt32, size: Int, hostOrder: Bool = false) {
        self.id = id
        self.size = size
        self.hostOrder = hostOrder
    }
    public static let verdict = KernelDataType(id: 1, size: 0)
    public static let integer32 = KernelDataType(id: 4, size: 4, hostOrder: true)
    public static let ipv4Address = KernelDataType(id: 7, size: 4)
    public static let ipv6Address = KernelDataType(id: 8, size: 16)
    public static let inetProtocol = KernelDataType(id: 12, size: 1)
    public static let inetService = KernelDataType(id: 13, size: 2)
    public static let mark = KernelDataType(id: 19, size: 4, hostOrder: true)
    public static let interfaceName = KernelDataType(id: 41, size: 16)

    /// A concatenation of fields as one value (a map's concatenated data): `nft`'s shifted type id, the
    /// padded sizes added up.
    public static func concat(_ fields: [KernelDataType]) -> KernelDataType {
        KernelDataType(id: fields.reduce(0) { ($0 << 6) | $1.id }, size: fields.reduce(0) { $0 + $1.paddedSize })
    }

    /// Bytes this field takes in a register or a concatenated key (rounded up to 4, as `nft` does).
    public var paddedSize: Int { (size + 3) / 4 * 4 }
}

/// Set flags (`NFT_SET_*`).
public struct KernelSetFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let anonymous = KernelSetFlags(rawValue: 0x1)
    public static let constant = KernelSetFlags(rawValue: 0x2)
    public static let interval = KernelSetFlags(rawValue: 0x4)
    public static let map = KernelSetFlags(rawValue: 0x8)
    public static let timeout = KernelSetFlags(rawValue: 0x10)
    /// `dynamic`: updated from the packet path (`update @set`).
    public static let dynamic = KernelSetFlags(rawValue: 0x20)
    public static let concat = KernelSetFlags(rawValue: 0x80)
}

/// A set or map. Maps have a `data` type (`.verdict` for verdict maps).
public struct KernelSet: Hashable, Sendable {
    public var table: NFTTableID
    /// The name; anonymous sets (inline in a rule) use an empty name.
    public var name: String
    /// The key's fields; more than one makes a concatenation (`ipv4_addr . inet_proto . inet_service`).
    public var key: [KernelDataType]
    /// The value type of a map, nil for a set.
    public var data: KernelDataType?
    /// Flags other than `map`, `concat` and `anonymous`, which follow from `data`, `key` and the name.
    public var flags: KernelSetFlags
    /// Default element timeout in milliseconds.
    public var timeoutMilliseconds: UInt64?
    public var comment: String?

    public init(table: NFTTableID, name: String, key: [KernelDataType], data: KernelDataType? = nil,
                flags: KernelSetFlags = [], timeoutMilliseconds: UInt64? = nil, comment: String? = nil) {
        self.table = table
        self.name = name
        self.key = key
        self.data = data
        self.flags = flags
        self.timeoutMilliseconds = timeoutMilliseconds
        self.comment = comment
    }

    /// Key length in bytes, fields padded to 4.
    public var keyLength: Int {
        key.count == 1 ? key[0].size : key.reduce(0) { $0 + $1.paddedSize }
    }

    /// The datatype number `nft` stores for the key: concatenations shift each field in by 6 bits.
    var keyTypeID: UInt32 {
        key.reduce(0) { ($0 << 6) | $1.id }
    }

    /// Flags as sent to the kernel.
    var kernelFlags: KernelSetFlags {
        var result = flags
        if data != nil { result.insert(.map) }
        if key.count > 1 && flags.contains(.interval) { result.insert(.concat) }
        if name.isEmpty { result.formUnion([.anonymous, .constant]) }
        return result
    }
}

/// A value in a map element.
public enum KernelElementData: Hashable, Sendable {
    case verdict(NFTVerdict)
    case bytes([UInt8])
}

/// A set or map element. Keys are raw bytes in the set's key layout (see `KernelKey`).
public struct KernelElement: Hashable, Sendable {
    public var key: [UInt8]
    /// The last key of a range in a concatenated interval set.
    public var keyEnd: [UInt8]?
    public var data: KernelElementData?
    /// Marks the end of a range in a non-concatenated interval set.
    public var intervalEnd: Bool
    public var timeoutMilliseconds: UInt64?
    public var comment: String?

    public init(key: [UInt8], keyEnd: [UInt8]? = nil, data: KernelElementData? = nil, intervalEnd: Bool = false,
                timeoutMilliseconds: UInt64? = nil, comment: String? = nil) {
        self.key = key
        self.keyEnd = keyEnd
        self.data = data
        self.intervalEnd = intervalEnd
        self.timeoutMilliseconds = timeoutMilliseconds
        self.comment = comment
    }
}

/// Encoders for key and data bytes, in the layout `nft` uses.
public enum KernelKey {
    /// Concatenates fields, each padded with zeros to a multiple of 4 bytes.
    public static func concat(_ fields: [[UInt8]]) -> [UInt8] {
        if fields.count == 1 { return fields[0] }
        var bytes: [UInt8] = []
        for field in fields {
            bytes += field
            bytes += [UInt8](repeating: 0, count: (4 - field.count % 4) % 4)
        }
        return bytes
    }

    /// A port or other 16-bit value in network byte order.
    public static func port(_ port: UInt16) -> [UInt8] { [UInt8(port >> 8), UInt8(port & 0xff)] }

    /// An IP protocol number (6 TCP, 17 UDP, 132 SCTP).
    public static func proto(_ proto: UInt8) -> [UInt8] { [proto] }

    /// A 32-bit value in host byte order (marks, registers compared with `meta`).
    public static func host32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// A 32-bit value in network byte order.
    public static func big32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    /// An interface name, zero-padded to 16 bytes.
    public static func interfaceName(_ name: String) -> [UInt8] {
        let bytes = Array(name.utf8.prefix(15))
        return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
    }

    /// An IPv4 or IPv6 address in text form, or nil when it does not parse.
    public static func address(_ text: String) -> [UInt8]? {
        let ipv6 = text.contains(":")
        var bytes = [UInt8](repeating: 0, count: ipv6 ? 16 : 4)
        guard inet_pton(ipv6 ? AF_INET6 : AF_INET, text, &bytes) == 1 else { return nil }
        return bytes
    }
}

