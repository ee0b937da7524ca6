import CLinuxExtras
import Glibc
import LinuxSystem

/// Pod network namespaces as files under a directory (`/run/netns`, as `ip netns` and containerd keep
/// them): each is a bind mount of a namespace made for it, so it lives without any process in it and
/// `ip netns exec` works on it.
public enum NetnsFiles {
    public static let directory = "/run/netns"

    public static func path(_ name: String) -> String { "\(directory)/\(name)" }

    /// Whether `path` holds a mounted namespace (not just the empty file left by a failed create).
    public static func isMounted(_ path: String) -> Bool {
        var own = stat(), dir = stat()
        guard stat(path, &own) == 0, stat(directory, &dir) == 0 else { return false }
        return own.st_dev != dir.st_dev  // nsfs, not the tmpfs of /run
    }

    /// Creates the namespace at `path` (an existing one is kept).
    public static func create(_ path: String) async throws(SystemError) {
        if isMounted(path) { return }
        try await Blocking.run { () throws(SystemError) in
            _ = mkdir(directory, 0o755)
            let fd = try Sys.check("create", path) { open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o444) }
            Sys.close(fd)
            // unshare leaves the thread in the new namespace: do it on a thread that ends afterwards.
            let box = ResultBox()
            try OSThread { box.errno = path.withCString { kp_create_netns_at($0) } }.runAndWait()
            if box.errno != 0 {
                _ = unlink(path)
                throw SystemError("create netns", path, errno: box.errno)
            }
        }
    }

    /// Unmounts and removes it; a missing one is not an error.
    public static func remove(_ path: String) throws(SystemError) {
        let e = path.withCString { kp_unmount_netns($0) }
        if e != 0 && e != EINVAL && e != ENOENT { throw SystemError("umount netns", path, errno: e) }
        if unlink(path) != 0 && errno != ENOENT { throw SystemError("unlink", path, errno: errno) }
    }
}

private final class ResultBox: @unchecked Sendable {
    // Written by the thread before it ends, read after `pthread_join`: ordered by the join.
    var errno: Int32 = 0
}
