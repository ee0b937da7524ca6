import Glibc
import KubeAPI
import Values

/// An IPv4 or IPv6 socket address as the kernel takes it, built from and read into kproxy's `IPAddress`.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t

    init() { length = socklen_t(MemoryLayout<sockaddr_storage>.size) }

    init(_ address: IPAddress, port: UInt16) {
        length = 0
        let bytes = address.bytes
        withUnsafeMutableBytes(of: &storage) { raw in
            if address.isIPv4 {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin.sin_addr) { $0.copyBytes(from: bytes) }
                raw.storeBytes(of: sin, as: sockaddr_in.self)
            } else {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { $0.copyBytes(from: bytes) }
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
            }
        }
        length = socklen_t(address.isIPv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }

    /// The wildcard address of `family` (0.0.0.0 or ::) at `port`.
    static func any(_ family: IPAddress.Family, port: UInt16) -> SocketAddress {
        SocketAddress(family == .ipv4 ? IPAddress(ipv4: 0) : IPAddress(ipv6High: 0, low: 0), port: port)
    }

    var family: Int32 { Int32(storage.ss_family) }

    /// The address and port, for AF_INET/AF_INET6.
    var endpoint: (address: IPAddress, port: UInt16)? {
        withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.ss_family) {
            case AF_INET:
                let sin = raw.load(as: sockaddr_in.self)
                return (IPAddress(ipv4: UInt32(bigEndian: sin.sin_addr.s_addr)), UInt16(bigEndian: sin.sin_port))
            case AF_INET6:
                let sin6 = raw.load(as: sockaddr_in6.self)
                let bytes = withUnsafeBytes(of: sin6.sin6_addr) { Array($0) }
                guard let ip = IPAddress(bytes: bytes) else { return nil }
                return (ip, UInt16(bigEndian: sin6.sin6_port))
            default:
                return nil
            }
        }
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
