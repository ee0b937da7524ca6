import CNICore
import LinuxSystem
import Values
#if canImport(Glibc)
import Glibc
#endif

/// Runs another CNI plugin binary (a delegated IPAM) with this invocation's environment and stdin.
enum DelegatePlugin {
    /// The first executable named `type` in the CNI_PATH directories (error 7 when there is none).
    static func find(_ type: String, in path: [String]) throws(CNIError) -> String {
        guard !type.contains("/") else { throw CNIError(.invalidConfig, "invalid plugin type \(type)") }
        for dir in path {
            let candidate = dir.hasSuffix("/") ? dir + type : dir + "/" + type
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw CNIError(.invalidConfig, "failed to find plugin \"\(type)\" in path [\(path.joined(separator: " "))]")
    }

    /// Runs `plugin` with CNI_COMMAND=`command`; returns its stdout JSON (nil when empty) or throws its error.
    static func run(_ plugin: String, command: CNICommand, _ inv: Invocation) throws(CNIError) -> JSONValue? {
        var env = inv.environment
        env["CNI_COMMAND"] = command.rawValue
        let (status, out) = try spawn(plugin, env: env, stdin: inv.stdin)
        let text = out.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        let json: JSONValue? = text.isEmpty ? nil : try? JSONValue(parsing: out)
        if status != 0 {
            if let json, let e = CNIError(json: json) { throw e }
            throw CNIError(.internalFailure, "\(plugin) failed with status \(status)", details: String(decoding: out, as: UTF8.self))
        }
        if !text.isEmpty, json == nil { throw CNIError(.decodeFailure, "\(plugin) printed invalid JSON", details: String(decoding: out, as: UTF8.self)) }
        return json
    }

    /// posix_spawn with stdin/stdout pipes; stderr is inherited. Returns the exit status and stdout.
    static func spawn(_ path: String, env: [String: String], stdin: [UInt8]) throws(CNIError) -> (Int32, [UInt8]) {
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0 else { throw CNIError(.ioFailure, "pipe: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        for fd in inPipe + outPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        // The delegate starts with default signal handling and nothing blocked, whatever this process ignores.
        let rc = Sys.withDefaultSignals([SIGPIPE]) { attr in posix_spawn(&pid, path, &actions, attr, argv, envp) }
        close(inPipe[0]); close(outPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0])
            throw CNIError(.ioFailure, "cannot run \(path): errno \(rc)")
        }
        // A plugin reads its whole config before it writes, so writing all before reading cannot deadlock.
        // A write that fails (EPIPE: the delegate exited without reading) is no error of ours: its exit
        // status and output say what happened.
        ProcessIO.writeAll(fd: inPipe[1], stdin)
        close(inPipe[1])
        let out = ProcessIO.readAll(fd: outPipe[0])
        close(outPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw CNIError(.ioFailure, "waitpid \(path): errno \(errno)") }
        }
        let exited = status & 0x7f == 0
        return (exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), out)
    }
}
