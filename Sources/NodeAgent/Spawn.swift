import CLinuxExtras
import Glibc
import LinuxSystem

/// Starting processes for pods and plugins (`kp_spawn`): the namespaces, mounts, session and
/// descriptors a child needs are set between fork and exec, so nothing here depends on the agent
/// being single-threaded.
/// The files the kubelet has the runtime mount into every container of a pod, bind-mounted in a private
/// mount namespace: resolv.conf, /etc/hosts and the service-account directory (token, ca.crt, namespace).
public struct PodFiles: Sendable, Equatable {
    public var resolvConf: String
    public var hosts: String?
    /// Mounted on `PodFiles.serviceAccountMountPoint`; nil when the pod does not mount its token.
    public var serviceAccount: String?
    public static let serviceAccountMountPoint = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(resolvConf: String, hosts: String? = nil, serviceAccount: String? = nil) {
        self.resolvConf = resolvConf; self.hosts = hosts; self.serviceAccount = serviceAccount
    }
}

public enum Spawn {
    public struct Options: Sendable {
        public var netnsPath: String?
        public var files: PodFiles?
        public var hostname: String?
        public var workingDir: String?
        public var stdin: Int32 = -1, stdout: Int32 = -1, stderr: Int32 = -1
        /// stdin is a terminal that becomes the process's controlling terminal.
        public var controllingTerminal = false
        public init(netnsPath: String? = nil, files: PodFiles? = nil, hostname: String? = nil, workingDir: String? = nil) {
            self.netnsPath = netnsPath; self.files = files; self.hostname = hostname; self.workingDir = workingDir
        }
    }

    static let steps = ["fork", "setns", "unshare mount namespace", "make / private", "bind-mount the pod's files",
                        "set hostname", "chdir", "dup2", "execve"]

    /// Starts `argv` (argv[0] an absolute path); the caller registers the pid with `Reaper`.
    public static func start(_ argv: [String], environment: [String], _ options: Options) throws(SystemError) -> pid_t {
        try Reaper.shared.ensureStarted()
        var netfd: Int32 = -1
        if let path = options.netnsPath {
            netfd = try Sys.check("open netns", path) { open(path, O_RDONLY | O_CLOEXEC) }
        }
        defer { if netfd >= 0 { Sys.close(netfd) } }
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var step: Int32 = 0
        let pid = withOptionalCString(options.files?.resolvConf) { resolv in
            withOptionalCString(options.files?.hosts) { hosts in
                withOptionalCString(options.files?.serviceAccount) { secrets in
                    withOptionalCString(options.hostname) { host in
                        withOptionalCString(options.workingDir) { dir in
                            kp_spawn(argv[0], cArgs, cEnv, netfd, resolv, hosts, secrets, host, dir, options.stdin, options.stdout, options.stderr,
                                     options.controllingTerminal ? 1 : 0, &step)
                        }
                    }
                }
            }
        }
        guard pid > 0 else {
            let name = steps.indices.contains(Int(step)) ? steps[Int(step)] : "spawn"
            throw SystemError(name, argv[0], errno: -pid)
        }
        Reaper.shared.noteSpawned()
        return pid
    }

    private static func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let s else { return body(nil) }
        return s.withCString { body($0) }
    }

    /// Runs a program to its end with `stdin` written to it and its stdout collected (stderr goes to the
    /// agent's). Blocking: call it from a thread that may block (`Blocking.run`).
    public static func collect(_ argv: [String], environment: [String], stdin: [UInt8], _ options: Options = Options()) throws(SystemError) -> (pid_t, [UInt8]) {
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1]
        try Sys.check("pipe2", "stdin") { pipe2(&input, O_CLOEXEC) }
        do throws(SystemError) { try Sys.check("pipe2", "stdout") { pipe2(&output, O_CLOEXEC) } } catch {
            Sys.close(input[0]); Sys.close(input[1]); throw error
        }
        var o = options
        o.stdin = input[0]; o.stdout = output[1]; o.stderr = 2
        let pid: pid_t
        do throws(SystemError) { pid = try start(argv, environment: environment, o) } catch {
            for fd in input + output { Sys.close(fd) }
            throw error
        }
        Sys.close(input[0]); Sys.close(output[1])
        // A plugin reads its whole config before it writes: writing all first cannot deadlock. A failed
        // write (the child exited without reading) is not ours to report: its status says what happened.
        _ = Sys.writeAll(input[1], stdin)
        Sys.close(input[1])
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while true {
            let result = buffer.withUnsafeMutableBytes { raw -> IOResult in
                guard let base = raw.baseAddress else { return .failed(EINVAL) }
                return Sys.read(output[0], base, raw.count)
            }
            switch result {
            case .moved(0), .failed, .wouldBlock: break loop
            case .moved(let n): out += buffer[0..<n]
            }
        }
        Sys.close(output[0])
        return (pid, out)
    }
}

