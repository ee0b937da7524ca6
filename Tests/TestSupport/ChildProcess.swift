#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// Child processes for tests through posix_spawn and waitpid (Foundation's Process can
/// hang waiting for exit inside Swift concurrency's pool on Linux).
public struct ChildProcess: Sendable {
    public let pid: pid_t

    public enum SpawnError: Error { case spawn(Int32), pipe }

    /// Starts `path args…` with stdout and stderr to `outputFD` (or /dev/null when -1).
    public static func spawn(_ path: String, _ args: [String], outputFD: Int32 = -1) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if outputFD >= 0 {
            posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
            posix_spawn_file_actions_adddup2(&actions, outputFD, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // The test runner blocks signals: give the child an empty mask and default handlers.
        var pid: pid_t = 0
        let rc = Sys.withDefaultSignals([SIGTERM, SIGINT, SIGPIPE, SIGCHLD]) { attr in posix_spawn(&pid, path, &actions, attr, argv, environ) }
        guard rc == 0 else { throw SpawnError.spawn(rc) }
        return ChildProcess(pid: pid)
    }

    /// Runs to completion and returns what it wrote to stdout and stderr.
    public static func output(_ path: String, _ args: [String]) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SpawnError.pipe }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        let child: ChildProcess
        do {
            child = try spawn(path, args, outputFD: fds[1])
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n > 0 { bytes += chunk[0..<n] } else if n == 0 || errno != EINTR { break }
        }
        close(fds[0])
        _ = child.wait()
        return String(decoding: bytes, as: UTF8.self)
    }

    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    @discardableResult
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }

    /// SIGKILL and reap.
    public func stop() {
        kill(pid, SIGKILL)
        wait()
    }
}

/// Finds a tool in the usual system directories (tests name the package to install when it is missing).
public func which(_ name: String) -> String? {
    ["/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/", "/usr/local/bin/"].map { $0 + name }.first { access($0, X_OK) == 0 }
}
