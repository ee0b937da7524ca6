import CLinuxExtras
import Dispatch
import Glibc
import LinuxSystem
import Synchronization

/// The one place the agent waits for children. A thread blocks in `waitpid(-1)` and hands each exit to
/// whoever registered the pid; the agent is the subreaper of its pods, so processes a container forked
/// and left behind are reaped here too. A child that ends before it is registered is remembered until it is.
public final class Reaper: Sendable {
    public static let shared = Reaper()

    /// An ended process: its exit code, or the signal that killed it.
    public struct Exit: Sendable, Equatable {
        public var code: Int32
        public var signal: Int32?
        /// The exit code as the kubelet reports it: 128 + signal for a killed process.
        public var reported: Int { signal.map { 128 + Int($0) } ?? Int(code) }
    }

    private struct State {
        var waiting: [pid_t: @Sendable (Exit) -> Void] = [:]
        var early: [pid_t: Exit] = [:]
        var started = false
    }
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)

    private init() {}

    /// Calls `handler` once when `pid` ends (at once if it already has).
    public func watch(_ pid: pid_t, _ handler: @escaping @Sendable (Exit) -> Void) {
        let ready: Exit? = state.withLock { s in
            if let e = s.early.removeValue(forKey: pid) { return e }
            s.waiting[pid] = handler
            return nil
        }
        if let ready { handler(ready) }
    }

    /// Waits for `pid` to end.
    public func wait(_ pid: pid_t) async -> Exit {
        await withCheckedContinuation { continuation in watch(pid) { continuation.resume(returning: $0) } }
    }

    /// Starts the reaper thread on first use (before the first child, so no child goes unreaped).
    func ensureStarted() throws(SystemError) {
        let start = state.withLock { s -> Bool in
            defer { s.started = true }
            return !s.started
        }
        guard start else { return }
        _ = kp_become_subreaper()
        do throws(SystemError) { try OSThread { [self] in loop() }.start() } catch {
            state.withLock { $0.started = false }
            throw error
        }
    }

    /// Wakes the reaper thread: it sleeps while the agent has no children.
    func noteSpawned() { wake.signal() }

    private func loop() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, 0)
            if pid < 0 {
                if errno == EINTR { continue }
                wake.wait()  // ECHILD: nothing to wait for until the next spawn
                continue
            }
            let code = kp_wait_status_code(status)
            let exit = code >= 0 ? Exit(code: code, signal: nil) : Exit(code: 0, signal: -code)
            let handler: (@Sendable (Exit) -> Void)? = state.withLock { s in
                if let h = s.waiting.removeValue(forKey: pid) { return h }
                // A grandchild reparented to us, or a child whose registration is on its way.
                if s.early.count > 4096 { s.early.removeAll() }
                s.early[pid] = exit
                return nil
            }
            handler?(exit)
        }
    }
}
