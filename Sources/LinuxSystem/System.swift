import CLinuxExtras
import Glibc

/// A failed system call: the call, what it was about, and errno.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var object: String
    public var errno: Int32

    public init(_ operation: String, _ object: String, errno: Int32) {
        self.operation = operation; self.object = object; self.errno = errno
    }

    public var description: String { "\(operation) \(object): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// What a non-blocking read or write did.
public enum IOResult: Sendable, Equatable {
    /// Bytes moved (0 from a read: end of stream).
    case moved(Int)
    /// Nothing to do now (EAGAIN).
    case wouldBlock
    case failed(Int32)
}

/// The one place kproxy makes system calls: EINTR is retried here, errno becomes `SystemError` or
/// an `IOResult`, and call sites never read `errno` themselves.
public enum Sys {
    /// Returns freed heap memory to the kernel (`malloc_trim(0)`): glibc keeps it otherwise, so a process's
    /// RSS would stay at the peak of its largest rebuild (a full sync, a new DNS index).
    public static func releaseFreeMemory() { kp_malloc_trim() }

    /// Bytes of heap allocated and not freed (`mallinfo2`): what a process really holds, unlike its RSS,
    /// which also counts freed memory the allocator keeps.
    public static func heapInUse() -> Int { Int(kp_heap_in_use()) }

    /// Calls `body` until it does not fail with EINTR; returns its result and the errno of a failure (0 if none).
    @inlinable @inline(__always)
    public static func retrying<T: BinaryInteger>(_ body: () -> T) -> (T, Int32) {
        while true {
            let r = body()
            if r >= 0 { return (r, 0) }
            let e = Glibc.errno
            if e != EINTR { return (r, e) }
        }
    }

    /// A call that must succeed, else throws naming `operation` and `object`.
    @discardableResult @inlinable
    public static func check<T: BinaryInteger>(_ operation: String, _ object: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
        let (r, e) = retrying(body)
        guard e == 0 else { throw SystemError(operation, object(), errno: e) }
        return r
    }

    @inlinable @inline(__always)
    public static func io(_ body: () -> Int) -> IOResult {
        let (r, e) = retrying(body)
        if e == 0 { return .moved(r) }
        return e == EAGAIN || e == EWOULDBLOCK ? .wouldBlock : .failed(e)
    }

    @inlinable
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> IOResult { io { Glibc.read(fd, buffer, count) } }
    @inlinable
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> IOResult { io { Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)) } }
    @inlinable
    public static func splice(_ from: Int32, _ to: Int32, _ count: Int) -> IOResult { io { kp_splice(from, to, count) } }

    /// Writes all of `bytes` to a file, pipe or socket with write(2); 0, or the errno of the write that failed.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        var rest = bytes[...]
        while !rest.isEmpty {
            switch rest.withUnsafeBytes({ b in io { Glibc.write(fd, b.baseAddress, b.count) } }) {
            case .moved(let n): rest = rest.dropFirst(n)
            case .wouldBlock: return EAGAIN
            case .failed(let e): return e
            }
        }
        return 0
    }

    /// Runs `body` with spawn attributes that start the child with nothing blocked and default handling of
    /// `signals`, whatever this process blocks or ignores.
    public static func withDefaultSignals<T>(_ signals: [Int32], _ body: (UnsafePointer<posix_spawnattr_t>) throws -> T) rethrows -> T {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in signals { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return try body(&attr)
    }

    @inlinable
    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }  // Linux closes the descriptor even when close reports EINTR

    @inlinable
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ what: String) throws(SystemError) {
        var v = value
        try check("setsockopt \(what)", "fd \(fd)") { setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// A socket option of any plain type (timeval, linger, …), checked.
    @inlinable
    public static func setOption<V: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ name: Int32, value: V, _ what: String) throws(SystemError) {
        _ = try withUnsafeBytes(of: value) { (bytes) throws(SystemError) in
            try check("setsockopt \(what)", "fd \(fd)") { setsockopt(fd, level, name, bytes.baseAddress, socklen_t(bytes.count)) }
        }
    }

    /// Makes `target` refer to what `source` refers to, atomically closing what `target` referred to:
    /// a socket can be replaced under a descriptor number other threads keep using.
    @inlinable
    public static func replace(_ target: Int32, with source: Int32, _ what: String) throws(SystemError) {
        try check("dup2", what) { dup2(source, target) }
    }

    /// Closing with SO_LINGER 0 sends a reset instead of a FIN.
    @inlinable
    public static func resetAndClose(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }

    /// The pending error of a socket (a non-blocking connect's outcome).
    @inlinable
    public static func socketError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        let (_, e) = retrying { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return e != 0 ? e : value
    }

    /// Monotonic time in nanoseconds (CLOCK_MONOTONIC), the clock of every `Nanos` the data path passes on.
    @inlinable
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

