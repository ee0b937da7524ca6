import Bench
import ArgumentParser
import Synchronization
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `kproxy bench cni-exec`: runs a CNI plugin as a container runtime does — fork/exec with the CNI_*
/// environment and the network configuration on stdin — for pods 0..<count, sequentially or from several
/// threads, and prints the wall time per pod. hack/bench-cni.sh creates the namespaces and calls it for
/// kproxy-cni and the reference plugins in turn, so both pay the same (small) launch cost.
struct BenchCNIExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cni-exec",
        abstract: "Time a CNI plugin's ADD or DEL over many pods, exec'ing it as a runtime would."
    )

    @Option(help: "The plugin executable.") var plugin: String
    @Option(help: "File holding the network configuration (stdin of every call).") var config: String
    @Option(help: "CNI_COMMAND.") var command = "ADD"
    @Option(help: "Number of pods.") var count = 100
    @Option(help: "Calls in flight at once.") var concurrency = 1
    @Option(help: "CNI_NETNS of pod i, with %d replaced by i.") var netns: String
    @Option(help: "CNI_CONTAINERID of pod i, with %d replaced by i.") var containerID = "bench%d"
    @Option(help: "CNI_PATH.") var cniPath = "/opt/cni/bin:/usr/lib/cni"
    @Option(help: "Label of the output line.") var label = "plugin"

    struct Failure: Error, CustomStringConvertible { var description: String }
    static let spawnLock = Mutex(())

    func run() throws {
        let input = try Array(Data(contentsOf: URL(fileURLWithPath: config)))
        let failures = Mutex<[String]>([])
        let next = Mutex(0)
        let start = ContinuousClock.now
        // Plain threads: each blocks in waitpid, so `concurrency` of them keep that many plugins running
        // (a dispatch queue would cap the calls in flight at the number of cores).
        let done = DispatchGroup()
        for _ in 0..<max(1, concurrency) {
            done.enter()
            Thread {
                defer { done.leave() }
                while true {
                    let i: Int = next.withLock { n in defer { n += 1 }; return n }
                    guard i < count else { return }
                    do { try call(pod: i, input: input) } catch { failures.withLock { $0.append("pod \(i): \(error)") } }
                }
            }.start()
        }
        done.wait()
        let elapsed = ContinuousClock.now - start
        let problems = failures.withLock { $0 }
        guard problems.isEmpty else { throw Failure(description: "\(problems.count) calls failed; first: \(problems[0])") }
        let perPod = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000 / Double(count)
        print(String(format: "%-12@ %-4@ %8.2f ms/pod  (%d pods, %d-way)", label as NSString, command as NSString, perPod, count, concurrency))
    }

    /// One plugin run: environment, stdin from a pipe, stdout discarded, exit status checked.
    func call(pod i: Int, input: [UInt8]) throws {
        let environment = [
            "CNI_COMMAND=\(command)",
            "CNI_CONTAINERID=\(containerID.replacingOccurrences(of: "%d", with: String(i)))",
            "CNI_NETNS=\(netns.replacingOccurrences(of: "%d", with: String(i)))",
            "CNI_IFNAME=eth0",
            "CNI_PATH=\(cniPath)",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(plugin), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // Pipe creation, close-on-exec and spawn happen under one lock, so a plugin started from another
        // thread never inherits this call's write end (which would keep this plugin's stdin open); dup2
        // onto stdin clears the flag for the one child that needs it.
        let (pid, writeEnd): (pid_t, Int32) = try Self.spawnLock.withLock { _ in
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            var pid: pid_t = 0
            let spawned = posix_spawn(&pid, plugin, &actions, nil, argv, envp)
            close(fds[0])
            guard spawned == 0 else {
                close(fds[1])
                throw Failure(description: "spawn \(plugin): \(String(cString: strerror(spawned)))")
            }
            return (pid, fds[1])
        }
        _ = input.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
        close(writeEnd)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw Failure(description: "\(command) exited with status \(status)") }
    }
}
