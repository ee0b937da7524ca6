import Foundation
import Testing

/// Helpers for kernel tests that run inside throwaway network namespaces.
///
/// Every namespace gets a unique `kp-…` name, has loopback up and no route out, and is deleted by `destroy()`
/// (call it in `defer`). Nothing here touches the root namespace's links, routes or nftables.
enum NetnsSupport {
    /// Root and the `ip` tool are present. CI runs as root, so kernel tests run there.
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: ipTool)
    }

    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"

    /// A short random suffix for names (interface names must stay ≤ 15 characters).
    static func uniqueSuffix(_ length: Int = 6) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<length).map { _ in alphabet.randomElement() ?? "x" })
    }

    /// The result of a finished command.
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program and waits for it, capturing its output.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0].hasPrefix("/") ? arguments[0] : "/usr/bin/env")
        process.arguments = arguments[0].hasPrefix("/") ? Array(arguments.dropFirst()) : arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs a program and fails the call when it exits non-zero.
    @discardableResult
    static func runChecked(_ arguments: [String], input: String? = nil) throws -> String {
        let output = try run(arguments, input: input)
        guard output.status == 0 else {
            throw CommandFailed(command: arguments.joined(separator: " "), status: output.status, stderr: output.stderr)
        }
        return output.stdout
    }

    /// Stops a background helper (servers in pod namespaces). Children inherit the test runner's blocked
    /// signal mask, so SIGTERM stays pending forever; SIGKILL cannot be blocked.
    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "\(command) exited \(status): \(stderr)" }
    }
}

/// A network namespace created for one test; `destroy()` deletes it (idempotent).
final class TestNetns {
    let name: String
    private var destroyed = false

    /// Creates `kp-<prefix>-<random>` with loopback up.
    init(_ prefix: String = "t") throws {
        name = "kp-\(prefix)-\(NetnsSupport.uniqueSuffix())"
        try NetnsSupport.runChecked([NetnsSupport.ipTool, "netns", "add", name])
        do {
            try exec(["ip", "link", "set", "lo", "up"])
        } catch {
            destroy()
            throw error
        }
    }

    /// Runs a command inside the namespace (`ip netns exec NAME …`), failing on a non-zero exit.
    @discardableResult
    func exec(_ arguments: [String], input: String? = nil) throws -> String {
        try NetnsSupport.runChecked([NetnsSupport.ipTool, "netns", "exec", name] + arguments, input: input)
    }

    /// Runs a command inside the namespace and returns its status and output.
    func execStatus(_ arguments: [String]) throws -> NetnsSupport.Output {
        try NetnsSupport.run([NetnsSupport.ipTool, "netns", "exec", name] + arguments)
    }

    /// Deletes the namespace (its links go with it).
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        _ = try? NetnsSupport.run([NetnsSupport.ipTool, "netns", "del", name])
    }

    deinit { destroy() }
}

/// A veth pair from `namespace` into a new "pod" namespace, with addresses and a default route in the pod
/// toward the host side. Both ends are removed with their namespaces.
struct VethPod {
    let pod: TestNetns
    let hostInterface: String
    let podAddress: String

    /// Creates pod namespace `pod`, links it to `host` with host address `hostAddress/prefix` and pod address
    /// `podAddress/prefix`.
    static func create(host: TestNetns, hostAddress: String, podAddress: String, prefix: Int) throws -> VethPod {
        let pod = try TestNetns("pod")
        do {
            let suffix = NetnsSupport.uniqueSuffix(5)
            let hostSide = "kph\(suffix)", podSide = "kpp\(suffix)"
            try host.exec(["ip", "link", "add", hostSide, "type", "veth", "peer", "name", podSide, "netns", pod.name])
            try host.exec(["ip", "addr", "add", "\(hostAddress)/\(prefix)", "dev", hostSide])
            try host.exec(["ip", "link", "set", hostSide, "up"])
            try pod.exec(["ip", "addr", "add", "\(podAddress)/\(prefix)", "dev", podSide])
            try pod.exec(["ip", "link", "set", podSide, "up"])
            try pod.exec(["ip", "route", "add", "default", "via", hostAddress])
            return VethPod(pod: pod, hostInterface: hostSide, podAddress: podAddress)
        } catch {
            pod.destroy()
            throw error
        }
    }
}
