import CNICore
import Glibc
import LinuxSystem
import Values

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
/// The CNI plugin's disk adapter (CNICore's allocator is pure): plain file operations through LinuxSystem
/// (EINTR retried there, errno captured with each result).
public struct DiskAllocationStore: AllocationStore {
    /// The network's directory.
    public let directory: String

    public init(dataDir: String, network: String) {
        directory = dataDir.hasSuffix("/") ? dataDir + network : dataDir + "/" + network
    }

    public func withLock<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        try Self.makeDirectories(directory)
        let lock = directory + "/lock"
        let (fd, e) = Sys.retrying { open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) }
        guard e == 0 else { throw Self.ioError("open", lock, e) }
        defer { Sys.close(fd) }
        let (_, fe) = Sys.retrying { flock(fd, LOCK_EX) }
        guard fe == 0 else { throw Self.ioError("flock", lock, fe) }
        try buildIndexIfMissing()
        return try body()
    }

    var indexDirectory: String { directory + "/by-key" }

    /// `<containerID>@<ifname>`: container IDs never contain "@" (CNI allows letters, digits, "_", ".", "-").
    static func indexName(_ key: AttachmentKey) -> String { key.containerID + "@" + key.ifname }

    func indexPath(_ key: AttachmentKey) -> String { indexDirectory + "/" + Self.indexName(key) }

    private func buildIndexIfMissing() throws(CNIError) {
        var info = stat()
        let (_, se) = Sys.retrying { stat(indexDirectory, &info) }
        if se == 0 { return }
        guard se == ENOENT else { throw Self.ioError("stat", indexDirectory, se) }
        // Built in a temporary directory and renamed into place, so an interrupted build is redone.
        let temporary = directory + "/by-key.building"
        _ = try? Self.removeTree(temporary)
        let (_, me) = Sys.retrying { mkdir(temporary, 0o755) }
        if me != 0 { throw Self.ioError("mkdir", temporary, me) }
        var byKey: [AttachmentKey: [IPAddress]] = [:]
        for (ip, key) in try allocations() { byKey[key, default: []].append(ip) }
        for (key, ips) in byKey {
            try Self.writeFile(temporary + "/" + Self.indexName(key), ips.sorted().map { "\($0)\n" }.joined())
        }
        let (_, re) = Sys.retrying { rename(temporary, indexDirectory) }
        if re != 0 { throw Self.ioError("rename", indexDirectory, re) }
    }

    /// Index lines of `key`.
    private func indexed(_ key: AttachmentKey) throws(CNIError) -> [IPAddress] {
        guard let text = try Self.readFile(indexPath(key)) else { return [] }
        return text.split(separator: "\n").compactMap { IPAddress(String($0)) }
    }

    private func writeIndex(_ key: AttachmentKey, _ ips: [IPAddress]) throws(CNIError) {
        let path = indexPath(key)
        if ips.isEmpty {
            try Self.remove(path)
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
            try Self.remove(path)
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
        let (fd, e) = Sys.retrying { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        if e != 0 {
            try writeIndex(key, before)
            if e == EEXIST { return false }
            throw Self.ioError("open", path, e)
        }
        let we = Sys.writeAll(fd, Array("\(key.containerID)\n\(key.ifname)".utf8))
        Sys.close(fd)
        guard we == 0 else {
            _ = unlink(path)
            throw Self.ioError("write", path, we)
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
        try Self.remove(path)
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

    // MARK: - File helpers (errno turned into CNI error 5)

    static func ioError(_ op: String, _ path: String, _ code: Int32) -> CNIError {
        CNIError(.ioFailure, "\(SystemError(op, path, errno: code))")
    }

    /// unlink; ENOENT is not an error.
    static func remove(_ path: String) throws(CNIError) {
        let (_, e) = Sys.retrying { unlink(path) }
        if e != 0 && e != ENOENT { throw ioError("unlink", path, e) }
    }

    /// The entries of a directory (without `.` and `..`); none when it does not exist.
    static func names(in path: String) throws(CNIError) -> [String] {
        guard let dir = opendir(path) else {
            let e = errno
            if e == ENOENT { return [] }
            throw ioError("opendir", path, e)
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
        for name in try names(in: path) { try remove(path + "/" + name) }
        let (_, e) = Sys.retrying { rmdir(path) }
        if e != 0 && e != ENOENT { throw ioError("rmdir", path, e) }
    }

    static func makeDirectories(_ path: String) throws(CNIError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            let (_, e) = Sys.retrying { mkdir(prefix, 0o755) }
            if e != 0 && e != EEXIST { throw ioError("mkdir", prefix, e) }
        }
    }

    static func writeFile(_ path: String, _ text: String) throws(CNIError) {
        let (fd, e) = Sys.retrying { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard e == 0 else { throw ioError("open", path, e) }
        defer { Sys.close(fd) }
        let we = Sys.writeAll(fd, Array(text.utf8))
        guard we == 0 else { throw ioError("write", path, we) }
    }

    /// The file's text, or nil when it does not exist.
    static func readFile(_ path: String) throws(CNIError) -> String? {
        let (fd, e) = Sys.retrying { open(path, O_RDONLY | O_CLOEXEC) }
        if e != 0 {
            if e == ENOENT { return nil }
            throw ioError("open", path, e)
        }
        defer { Sys.close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 512)
        while true {
            let (n, re) = buf.withUnsafeMutableBytes { raw in Sys.retrying { read(fd, raw.baseAddress, raw.count) } }
            if re != 0 { throw ioError("read", path, re) }
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
