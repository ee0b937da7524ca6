import CNICore
#if canImport(Glibc)
import Glibc
#endif

/// The few process-level system calls the binary needs (EINTR retried here).
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

    /// Reads `fd` to EOF.
    static func readAll(fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Writes all bytes to `fd`; false on error.
    @discardableResult
    static func writeAll(fd: Int32, _ bytes: [UInt8]) -> Bool {
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return false }
            rest = rest.dropFirst(n)
        }
        return true
    }

    static func writeLine(_ text: String, fd: Int32 = 1) {
        writeAll(fd: fd, Array((text + "\n").utf8))
    }
}
