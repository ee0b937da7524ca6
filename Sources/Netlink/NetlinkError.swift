import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the Netlink adapter: the libnl error code (negative `NLE_*`) or an
/// errno (positive), what was being done, and to which object.
public struct NetlinkError: Error, Sendable, CustomStringConvertible {
    /// Negative: a libnl `NLE_*` code; positive: an errno from a plain system call.
    public var code: Int32
    public var operation: String
    public var object: String

    public init(code: Int32, operation: String, object: String) {
        self.code = code; self.operation = operation; self.object = object
    }

    /// The text of the code (`nl_geterror` or `strerror`).
    public var message: String {
        code < 0 ? NetlinkABI.describe(error: code) : (strerror(code).map { String(cString: $0) } ?? "errno \(code)")
    }

    /// True when the object already exists (libnl `NLE_EXIST` or `EEXIST`).
    public var isExists: Bool { code == -NLE_EXIST || code == EEXIST }
    /// True when the object does not exist.
    public var isNotFound: Bool { code == -NLE_OBJ_NOTFOUND || code == -NLE_NODEV || code == ENOENT || code == ENODEV }

    public var description: String { "\(operation) \(object): \(message)" }

    /// An object that should be there is not (libnl's `NLE_OBJ_NOTFOUND`, so `isNotFound` holds).
    static func notFound(_ operation: String, _ object: String) -> NetlinkError {
        NetlinkError(code: -NLE_OBJ_NOTFOUND, operation: operation, object: object)
    }

    /// Throws unless `rc` is 0 (libnl convention: negative on error).
    static func check(_ rc: Int32, _ operation: String, _ object: String) throws(NetlinkError) {
        if rc < 0 { throw NetlinkError(code: rc, operation: operation, object: object) }
    }
}
