import CNetlink
#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// Runs work inside a network namespace. `setns` changes only the calling OS thread, so the
/// work runs on a fresh pthread that joins the namespace and ends afterwards; the caller's
/// thread never changes namespace. Never call this from async code that must not block.
public enum NetworkNamespace {
    /// Opens a namespace file (`/var/run/netns/NAME`, `/proc/PID/ns/net`) read-only; the caller closes it.
    public static func open(path: String) throws(NetlinkError) -> Int32 {
        let (fd, e) = Sys.retrying { Glibc.open(path, O_RDONLY | O_CLOEXEC) }
        guard e == 0 else { throw NetlinkError(code: e, operation: "open netns", object: path) }
        return fd
    }

    /// Runs `body` on a dedicated thread that has joined the namespace at `path`.
    public static func run<T>(path: String, _ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        let fd = try open(path: path)
        defer { close(fd) }
        return try run(fd: fd, name: path, body)
    }

    /// Runs `body` on a dedicated thread that has joined the namespace behind `fd`.
    public static func run<T>(fd: Int32, name: String = "netns", _ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        var outcome: Result<T, NetlinkError> = .failure(NetlinkError(code: EINVAL, operation: "run in netns", object: name))
        try withoutActuallyEscaping(body) { (escapable) throws(NetlinkError) in
            let job = OSThread {
                let (_, e) = Sys.retrying { kp_setns_net(fd) }
                guard e == 0 else {
                    outcome = .failure(NetlinkError(code: e, operation: "setns", object: name))
                    return
                }
                do throws(NetlinkError) { outcome = .success(try escapable()) } catch { outcome = .failure(error) }
            }
            do throws(SystemError) { try job.runAndWait() } catch {
                throw NetlinkError(code: error.errno, operation: "pthread_create", object: name)
            }
        }
        return try outcome.get()
    }

    /// Writes a sysctl file such as `net/ipv6/conf/eth0/accept_dad` in the calling thread's
    /// namespace (call it from inside `run`). A missing file (IPv6 off) is not an error.
    public static func writeSysctl(_ key: String, _ value: String) throws(NetlinkError) {
        let path = "/proc/sys/" + key
        let (fd, e) = Sys.retrying { Glibc.open(path, O_WRONLY | O_CLOEXEC) }
        if e != 0 {
            if e == ENOENT { return }
            throw NetlinkError(code: e, operation: "open sysctl", object: path)
        }
        defer { Sys.close(fd) }
        let we = Sys.writeAll(fd, Array(value.utf8))
        if we != 0 { throw NetlinkError(code: we, operation: "write sysctl", object: path) }
    }
}
