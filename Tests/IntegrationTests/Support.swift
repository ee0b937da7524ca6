import ControlPlane
import Foundation
import Logging
import Testing

/// A control plane running in this process on a free loopback port, with its own data directory and
/// kubectl configuration; stopped and removed by `stop()`.
final class RunningControlPlane: @unchecked Sendable {  // mutable state is touched only by the owning test
    let directory: String
    let server: ControlPlaneServer
    let kubeconfigPath: String
    private let task: Task<Void, Never>

    static func start(directory: String? = nil) async throws -> RunningControlPlane {
        let dir = directory ?? TempDir.make("cp")
        var config = ControlPlaneConfig(dataDir: dir + "/data")
        config.listenPort = 0
        var logger = Logger(label: "test.controlplane")
        logger.logLevel = .warning
        let server = try await ControlPlaneServer.start(config, logger: logger)
        return try RunningControlPlane(directory: dir, server: server)
    }

    private init(directory: String, server: ControlPlaneServer) throws {
        self.directory = directory
        self.server = server
        kubeconfigPath = directory + "/kubeconfig"
        try server.kubeconfig().write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
        task = Task { await server.run() }
    }

    /// Stops serving and closes the store (the data directory stays for a restart).
    func stop() async {
        task.cancel()
        await task.value
    }

    /// Runs kubectl against this control plane with an isolated cache directory.
    func kubectl(_ args: String..., stdin: String? = nil) async throws -> CommandResult {
        try await Command.runAsync("kubectl", ["--kubeconfig", kubeconfigPath, "--cache-dir", directory + "/kubectl-cache"] + args, stdin: stdin)
    }
}

/// Runs `body` with a fresh control plane, then stops it and removes its directory, also when `body` throws.
func withControlPlane(_ body: (RunningControlPlane) async throws -> Void) async throws {
    let cp = try await RunningControlPlane.start()
    do {
        try await body(cp)
    } catch {
        await cp.stop()
        TempDir.remove(cp.directory)
        throw error
    }
    await cp.stop()
    TempDir.remove(cp.directory)
}

struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum Command {
    /// Runs the command on a Dispatch thread: the in-process server needs the cooperative pool
    /// (two threads on this machine), so tests must never block it waiting for a child process.
    static func runAsync(_ tool: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) async throws -> CommandResult {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(tool, args, stdin: stdin, timeout: timeout) })
            }
        }
    }

    static func run(_ tool: String, _ args: [String], stdin: String? = nil, timeout: TimeInterval = 60) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + args
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let group = DispatchGroup()
        let stdoutBox = DataBox(), stderrBox = DataBox()
        for (pipe, box) in [(out, stdoutBox), (err, stderrBox)] {
            group.enter()
            DispatchQueue.global().async {
                box.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            group.wait()
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdoutBox.data, as: UTF8.self),
                             stderr: String(decoding: stderrBox.data, as: UTF8.self))
    }
}

/// Output of one pipe, written by one reader thread before the DispatchGroup is left.
final class DataBox: @unchecked Sendable { var data = Data() }

enum TempDir {
    static func make(_ prefix: String) -> String {
        let path = NSTemporaryDirectory() + "kproxy-\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
}


func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
}
