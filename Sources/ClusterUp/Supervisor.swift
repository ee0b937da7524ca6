import Foundation
import Glibc
import LinuxSystem
import Logging
import NodeAgent
import Synchronization

/// Runs the cluster's daemons as a service manager would: each in its network namespace (the host's mount
/// namespace, so pods' namespace files stay visible), its output appended to a log file, its pid in a pid
/// file, and restarted when it ends (after 1 s, doubling to 10 s while it keeps failing within 30 s of
/// starting). `stop` ends them: SIGTERM, then SIGKILL after a grace period.
public final class Supervisor: Sendable {
    public struct Event: Sendable { public var process: String; public var pid: pid_t; public var exit: Reaper.Exit? }

    private struct Running { var pid: pid_t; var startedAt: ContinuousClock.Instant }
    private struct State {
        var running: [String: Running] = [:]
        var stopping = false
        /// Who waits for the last daemon to end (`stop`).
        var allEnded: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let logger: Logger
    private let environment: [String]

    public init(logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.logger = logger
        // The daemons find their servers through flags; a KUBECONFIG of the caller's must not leak in.
        self.environment = environment.filter { $0.key != "KUBECONFIG" }.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Starts `process` and keeps it running until `stop`.
    public func keep(_ process: UpPlan.Process) throws(UpError) {
        let pid = try start(process)
        watch(process, pid: pid, delay: .seconds(1))
    }


    private func start(_ process: UpPlan.Process) throws(UpError) -> pid_t {
        let log = open(process.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard log >= 0 else { throw .failed("open \(process.log): \(String(cString: strerror(errno)))") }
        defer { Sys.close(log) }
        var options = Spawn.Options(netnsPath: "/run/netns/\(process.netns)")
        options.stdout = log; options.stderr = log
        let pid: pid_t
        do throws(SystemError) { pid = try Spawn.start(process.argv, environment: environment, options) } catch {
            throw .failed("start \(process.name): \(error)")
        }
        // A restart that raced with `stop` must not outlive it.
        let stopped = state.withLock { s -> Bool in
            if s.stopping { return true }
            s.running[process.name] = Running(pid: pid, startedAt: .now)
            return false
        }
        if stopped { kill(pid, SIGKILL) }
        do throws(SystemError) { try PrivateFiles.write("\(pid)\n", to: process.pidFile) } catch {
            logger.warning("\(process.name): cannot write \(process.pidFile): \(error)")
        }
        return pid
    }

    private func watch(_ process: UpPlan.Process, pid: pid_t, delay: Duration) {
        Reaper.shared.watch(pid) { [self] exit in
            let (stopping, ranLong, waiters) = state.withLock { s -> (Bool, Bool, [CheckedContinuation<Void, Never>]) in
                let long = s.running[process.name].map { $0.startedAt.duration(to: .now) > .seconds(30) } ?? false
                if s.running[process.name]?.pid == pid { s.running[process.name] = nil }
                var done: [CheckedContinuation<Void, Never>] = []
                if s.stopping && s.running.isEmpty { swap(&done, &s.allEnded) }
                return (s.stopping, long, done)
            }
            waiters.forEach { $0.resume() }
            guard !stopping else { return }
            let wait = ranLong ? Duration.seconds(1) : delay
            let how = exit.signal.map { "was killed by signal \($0)" } ?? "exited with code \(exit.code)"
            logger.warning("\(process.name) (pid \(pid)) \(how); restarting in \(wait)")
            restart(process, after: wait)
        }
    }

    private func restart(_ process: UpPlan.Process, after wait: Duration) {
        Task { [self] in
            try? await Task.sleep(for: wait)
            guard !state.withLock({ $0.stopping }) else { return }
            let next = min(wait * 2, .seconds(10))
            do throws(UpError) {
                let pid = try start(process)
                logger.info("\(process.name) restarted (pid \(pid))")
                watch(process, pid: pid, delay: next)
            } catch {
                logger.error("\(error); retrying in \(next)")
                restart(process, after: next)
            }
        }
    }

    /// Ends every daemon: no more restarts, SIGTERM, and SIGKILL for those still running after `grace`.
    public func stop(grace: Duration = .seconds(5)) async {
        let pids = state.withLock { s -> [pid_t] in s.stopping = true; return s.running.values.map(\.pid) }
        for pid in pids { kill(pid, SIGTERM) }
        let killer = Task { [self] in
            try await Task.sleep(for: grace)
            for pid in state.withLock({ $0.running.values.map(\.pid) }) { kill(pid, SIGKILL) }
        }
        // Resumed by the exit of the last daemon (the reaper's callback), SIGTERM'd or, after `grace`, SIGKILL'd.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { s -> Bool in
                if s.running.isEmpty { return true }
                s.allEnded.append(done)
                return false
            }
            if ended { done.resume() }
        }
        killer.cancel()
    }
}
