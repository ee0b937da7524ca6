#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// host-local's on-disk layout: `<dataDir>/<network>/<ip>` holds `containerID\nifname`,
/// `last_reserved_ip.<set>` the round-robin position, and `lock` is `flock`ed for the whole
/// operation, so concurrent plugin processes never hand out one address twice.
///
/// An index `by-key/<containerID>@<ifname>` lists the addresses of each attachment, one per line, so
/// ADD, DEL and CHECK cost a few file operations however many pods the node runs (host-local reads
/// every reservation). The address files stay the truth: the index names candidates, an address counts
/// only while its file names the attachment. The index is written before the address file and cleaned
/// after it, so a process killed in between leaves at worst a stale index line, never an unindexed
/// address; a store from before the index is indexed once, under the lock.
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
        try buildIndexIfMissing()
        return try body()
    }

    var indexDirectory: String { directory + "/by-key" }

    /// `<containerID>@<ifname>`: container IDs never contain "@" (CNI allows letters, digits, "_", ".", "-").
    static func indexName(_ key: AttachmentKey) -> String { key.containerID + "@" + key.ifname }

    func indexPath(_ key: AttachmentKey) -> String { indexDirectory + "/" + Self.indexName(key) }

    private func buildIndexIfMissing() throws(CNIError) {
        var info = stat()
        if stat(indexDirectory, &info) == 0 { return }
        guard errno == ENOENT else { throw Self.ioError("stat", indexDirectory) }
        // Built in a temporary directory and renamed into place, so an interrupted build is redone.
        let temporary = directory + "/by-key.building"
        _ = try? Self.removeTree(temporary)
        if mkdir(temporary, 0o755) != 0 { throw Self.ioError("mkdir", temporary) }
        var byKey: [AttachmentKey: [IPAddress]] = [:]
        for (ip, key) in try allocations() { byKey[key, default: []].append(ip) }
        for (key, ips) in byKey {
            try Self.writeFile(temporary + "/" + Self.indexName(key), ips.sorted().map { "\($0)\n" }.joined())
        }
        if rename(temporary, indexDirectory) != 0 { throw Self.ioError("rename", indexDirectory) }
    }

    /// Index lines of `key`.
    private func indexed(_ key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        guard let text = try Self.readFile(indexPath(key)) else { return [] }
        return text.split(separator: "\n").compactMap { IPAddress(String($0)) }
    }

    private func writeIndex(_ key: AttachmentKey, _ ips: [IPAddress]) throws(CNIError) {
        let path = indexPath(key)
        if ips.isEmpty {
            if unlink(path) != 0, errno != ENOENT { throw Self.ioError("unlink", path) }
        } else {
            try Self.writeFile(path, ips.map { "\($0)\n" }.joined())
        }
    }

    /// Who an address file names, nil when there is no such file.
    private func owner(_ ip: IPAddress) throws(CNIError) -> AttachmentKey? {
        guard let text = try Self.readFile(directory + "/" + ip.description) else { return nil }
        return Self.parseKey(text)
    }

    static func parseKey(_ text: String) -> AttachmentKey {
        let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map { String($0).trimmingWhitespace() }
        return AttachmentKey(containerID: lines.first ?? "", ifname: lines.count > 1 ? lines[1] : "")
    }

    /// Removes the index files of attachments not in `valid` (their addresses were released already; what
    /// is left are lines a killed ADD wrote before its address file).
    public func pruneIndex(keeping valid: Set<AttachmentKey>) throws(CNIError) {
        for name in try Self.names(in: indexDirectory) {
            guard let at = name.firstIndex(of: "@") else { continue }
            let key = AttachmentKey(containerID: String(name[..<at]), ifname: String(name[name.index(after: at)...]))
            guard !valid.contains(key), try addresses(of: key).isEmpty else { continue }
            let path = indexDirectory + "/" + name
            if unlink(path) != 0, errno != ENOENT { throw Self.ioError("unlink", path) }
        }
    }

    public func addresses(of key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        let candidates = try indexed(key)
        var result: [IPAddress] = []
        for ip in candidates where try owner(ip) == key { result.append(ip) }
        // Lines a killed process left behind go now.
        if result.count != candidates.count { try writeIndex(key, result) }
        return result.sorted()
    }

    public func reserve(_ ip: IPAddress, for key: AttachmentKey, rangeSet: Int) throws(CNIError) -> Bool {
        let path = directory + "/" + ip.description
        let before = try indexed(key)
        if !before.contains(ip) { try writeIndex(key, before + [ip]) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            let failure = errno
            try writeIndex(key, before)
            if failure == EEXIST { return false }
            errno = failure
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
        let key = try owner(ip)
        if unlink(path) != 0, errno != ENOENT { throw Self.ioError("unlink", path) }
        if let key { try writeIndex(key, try indexed(key).filter { $0 != ip }) }
    }

    public func allocations() throws(CNIError) -> [IPAddress: AttachmentKey] {
        var out: [IPAddress: AttachmentKey] = [:]
        for name in try Self.names(in: directory) {
            guard let ip = IPAddress(name), let text = try Self.readFile(directory + "/" + name) else { continue }
            out[ip] = Self.parseKey(text)
        }
        return out
    }

    // MARK: - File helpers (EINTR retried here, errno turned into CNI error 5)

    static func ioError(_ op: String, _ path: String) -> CNIError {
        let code = errno
        let text = strerror(code).map { String(cString: $0) } ?? "errno \(code)"
        return CNIError(.ioFailure, "\(op) \(path): \(text)")
    }

    /// The entries of a directory (without `.` and `..`); none when it does not exist.
    static func names(in path: String) throws(CNIError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw ioError("opendir", path)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes a directory of plain files.
    static func removeTree(_ path: String) throws(CNIError) {
        for name in try names(in: path) { unlink(path + "/" + name) }
        if rmdir(path) != 0, errno != ENOENT { throw ioError("rmdir", path) }
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
