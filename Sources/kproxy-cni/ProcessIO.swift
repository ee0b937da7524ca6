import CNICore
import LinuxSystem
#if canImport(Glibc)
import Glibc
#endif

/// The few process-level system calls the binary needs (EINTR retried by `Sys`).
enum ProcessIO {
    /// The process environment as a dictionary.
    static func environment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    /// Reads `fd` to EOF (or the first error).
    static func readAll(fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let result = buf.withUnsafeMutableBytes { b in Sys.io { read(fd, b.baseAddress, b.count) } }
            guard case .moved(let n) = result, n > 0 else { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Writes all bytes to `fd`; false on error (EPIPE included: SIGPIPE is ignored).
    @discardableResult
    static func writeAll(fd: Int32, _ bytes: [UInt8]) -> Bool {
        Sys.writeAll(fd, bytes) == 0
    }

    static func writeLine(_ text: String, fd: Int32 = 1) {
        writeAll(fd: fd, Array((text + "\n").utf8))
    }
}
