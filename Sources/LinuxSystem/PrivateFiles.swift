import Glibc

/// Files holding secrets (tokens, keys, kubeconfigs): created 0600 from the first byte, never chmod'ed
/// afterwards, and replaced atomically so a reader never sees half of one.
public enum PrivateFiles {
    /// Writes `bytes` to `path` through `path.tmp.<pid>` (created O_EXCL with mode 0600), fsync and rename.
    public static func write(_ bytes: [UInt8], to path: String) throws(SystemError) {
        let tmp = "\(path).tmp.\(getpid())"
        _ = unlink(tmp)
        let fd = try Sys.check("create", tmp) { open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        do throws(SystemError) {
            let e = Sys.writeAll(fd, bytes)
            if e != 0 { throw SystemError("write", tmp, errno: e) }
            try Sys.check("fsync", tmp) { fsync(fd) }
        } catch {
            Sys.close(fd)
            _ = unlink(tmp)
            throw error
        }
        Sys.close(fd)
        do throws(SystemError) {
            try Sys.check("rename", "\(tmp) to \(path)") { rename(tmp, path) }
        } catch {
            _ = unlink(tmp)
            throw error
        }
    }

    public static func write(_ text: String, to path: String) throws(SystemError) {
        try write(Array(text.utf8), to: path)
    }

    /// Creates `path` (and missing parents, 0700) as a directory only its owner can enter, or tightens an
    /// existing one to 0700.
    public static func makeDirectory(_ path: String) throws(SystemError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            let (_, e) = Sys.retrying { mkdir(prefix, 0o700) }
            if e != 0 && e != EEXIST { throw SystemError("mkdir", prefix, errno: e) }
        }
        try Sys.check("chmod 0700", path) { chmod(path, 0o700) }
    }
}
