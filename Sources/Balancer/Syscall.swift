import CLinuxExtras
import Glibc

/// A failed system call of the data path: the call, what it was about, and errno.
public struct BalancerError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var object: String
    public var errno: Int32

    public init(_ operation: String, _ object: String, errno: Int32) {
        self.operation = operation; self.object = object; self.errno = errno
    }

    public var description: String { "\(operation) \(object): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// What a non-blocking read or write did.
enum IOResult {
    /// Bytes moved (0 from a read: end of stream).
    case moved(Int)
    /// Nothing to do now (EAGAIN).
    case wouldBlock
    case failed(Int32)
}

/// The one place the data path makes system calls: EINTR is retried here, errno becomes `BalancerError` or
/// an `IOResult`, and call sites never read `errno` themselves.
enum Sys {
    /// Calls `body` until it does not fail with EINTR; returns its result and the errno of a failure (0 if none).
    @inline(__always)
    static func retrying<T: BinaryInteger>(_ body: () -> T) -> (T, Int32) {
        while true {
            let r = body()
            if r >= 0 { return (r, 0) }
            let e = Glibc.errno
            if e != EINTR { return (r, e) }
        }
    }

    /// A call that must succeed, else throws naming `operation` and `object`.
    @discardableResult
    static func check<T: BinaryInteger>(_ operation: String, _ object: @autoclosure () -> String, _ body: () -> T) throws(BalancerError) -> T {
        let (r, e) = retrying(body)
        guard e == 0 else { throw BalancerError(operation, object(), errno: e) }
        return r
    }

    @inline(__always)
    static func io(_ body: () -> Int) -> IOResult {
        let (r, e) = retrying(body)
        if e == 0 { return .moved(r) }
        return e == EAGAIN || e == EWOULDBLOCK ? .wouldBlock : .failed(e)
    }

    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult { io { Glibc.read(fd, buffer, count) } }
    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult { io { Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)) } }
    static func splice(_ from: Int32, _ to: Int32, _ count: Int) -> IOResult { io { kp_splice(from, to, count) } }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }  // Linux closes the descriptor even when close reports EINTR

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(BalancerError) {
        var v = value
        try check("setsockopt \(what)", "fd \(fd)") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Closing with SO_LINGER 0 sends a reset instead of a FIN.
    static func resetAndClose(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }

    /// The pending error of a socket (a non-blocking connect's outcome).
    static func socketError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        let (_, e) = retrying { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return e != 0 ? e : value
    }

    /// Monotonic time in nanoseconds (CLOCK_MONOTONIC), the clock of every `Nanos` the data path passes on.
    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// The data path's clock, for code outside it that compares against its `Nanos` (ejection deadlines).
public enum BalancerClock {
    public static func now() -> Int64 { Sys.now() }
}
