#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// host-local's on-disk layout: `<dataDir>/<network>/<ip>` holds `containerID\nifname`,
/// `last_reserved_ip.<set>` the round-robin position, and `lock` is `flock`ed for the whole
/// operation, so concurrent plugin processes never hand out one address twice.
///
/// This is the one file in CNICore that makes system calls; it is kept to plain file operations.
public struct DiskAllocationStore: AllocationStore {
    /// The network's directory.
    public let directory: String

    public init(dataDir: String, network: String) {
        directory = dataDir.hasSuffix("/") ? dataDir + network : dataDir + "/" + network
    }

    public func withLock<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        try Self.makeDirectories(directory)
        let fd = open(directory + "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.ioError("open", directory + "/lock") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Self.ioError("flock", directory + "/lock") }
        }
        return try body()
    }

    public func reserve(_ ip: IPAddress, for key: AttachmentKey, rangeSet: Int) throws(CNIError) -> Bool {
        let path = directory + "/" + ip.description
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw Self.ioError("open", path)
        }
        let ok = Self.writeAll(fd, "\(key.containerID)\n\(key.ifname)")
        close(fd)
        guard ok else {
            unlink(path)
            throw Self.ioError("write", path)
        }
        try Self.writeFile(directory + "/last_reserved_ip.\(rangeSet)", ip.description)
        return true
    }

    public func lastReserved(rangeSet: Int) throws(CNIError) -> IPAddress? {
        guard let text = try Self.readFile(directory + "/last_reserved_ip.\(rangeSet)") else { return nil }
        return IPAddress(text.trimmingWhitespace())
    }

    public func release(_ ip: IPAddress) throws(CNIError) {
        let path = directory + "/" + ip.description
        if unlink(path) != 0, errno != ENOENT { throw Self.ioError("unlink", path) }
    }

    public func allocations() throws(CNIError) -> [IPAddress: AttachmentKey] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [:] }
            throw Self.ioError("opendir", directory)
        }
        defer { closedir(dir) }
        var out: [IPAddress: AttachmentKey] = [:]
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let ip = IPAddress(name), let text = try Self.readFile(directory + "/" + name) else { continue }
            let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { String($0).trimmingWhitespace() }
            out[ip] = AttachmentKey(containerID: lines.first ?? "", ifname: lines.count > 1 ? lines[1] : "")
        }
        return out
    }

    // MARK: - File helpers (EINTR retried here, errno turned into CNI error 5)

    static func ioError(_ op: String, _ path: String) -> CNIError {
        let code = errno
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return CNIError(.ioFailure, "\(op) \(path): \(text)")
    }

    static func makeDirectories(_ path: String) throws(CNIError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0, errno != EEXIST { throw ioError("mkdir", prefix) }
        }
    }

    static func writeAll(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return false }
            bytes = bytes.dropFirst(n)
        }
        return true
    }

    static func writeFile(_ path: String, _ text: String) throws(CNIError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("open", path) }
        defer { close(fd) }
        guard writeAll(fd, text) else { throw ioError("write", path) }
    }

    /// The file's text, or nil when it does not exist.
    static func readFile(_ path: String) throws(CNIError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ioError("open", path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 512)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw ioError("read", path) }
            if n == 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let s = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let e = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[s...e])
    }
}
