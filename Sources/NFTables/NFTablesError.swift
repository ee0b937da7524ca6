#if canImport(Glibc)
import Glibc
#endif

/// The one error type of the nftables adapter: which operation failed, on which object, with which errno.
///
/// `operation` names the netlink step (`"open socket"`, `"NEWRULE"`, `"dump rules"`, …); `object` names the
/// nftables object the kernel rejected (`"ip kproxy/chain services"`), so a failed batch says which of its
/// thousands of messages the kernel refused.
public struct NFTablesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The netlink step or message type that failed.
    public var operation: String
    /// The object the step was about (family, table, chain, set, rule comment), or an empty string.
    public var object: String
    /// The errno reported by the kernel or the failing system call (0 for adapter-level errors).
    public var errno: Int32
    /// The kernel's extended-ACK message, when it sent one.
    public var kernelMessage: String?

    /// Creates an error value.
    public init(operation: String, object: String, errno: Int32, kernelMessage: String? = nil) {
        self.operation = operation
        self.object = object
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    /// A description such as `NEWRULE ip kproxy/chain svc-x: No such file or directory (errno 2)`.
    public var description: String {
        var text = operation
        if !object.isEmpty { text += " \(object)" }
        if errno != 0 {
            text += ": \(String(cString: strerror(errno))) (errno \(errno))"
        }
        if let kernelMessage { text += " [\(kernelMessage)]" }
        return text
    }

    /// An error from the current `errno` after a failed system call.
    static func lastErrno(_ operation: String, _ object: String = "") -> NFTablesError {
        NFTablesError(operation: operation, object: object, errno: Glibc.errno)
    }
}
