import ControlPlane
import Foundation
import KubeAPI
import Testing
import TestSupport

/// Durability: objects, revisions and watch history survive a restart and a `kill -9`.
@Suite(.serialized) struct RestartTests {
    /// In-process restart: stop, start on the same data directory; revisions continue and a watch
    /// from a revision before the restart replays what happened after it.
    @Test func objectsRevisionsAndWatchesSurviveRestart() async throws {
        let dir = TempDir.make("restart")
        defer { TempDir.remove(dir) }
        var cp = try await RunningControlPlane.start(directory: dir)
        var r = try await cp.kubectl("apply", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"before","namespace":"default"},"spec":{"ports":[{"port":80}]}}"#)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await cp.kubectl("get", "svc", "before", "-o", "jsonpath={.metadata.resourceVersion} {.spec.clusterIP}")
        let parts = r.stdout.split(separator: " ").map(String.init)
        let revisionBefore = Int(parts.first ?? "") ?? 0
        let clusterIP = parts.count > 1 ? parts[1] : ""
        await cp.stop()

        cp = try await RunningControlPlane.start(directory: dir)
        r = try await cp.kubectl("get", "svc", "before", "-o", "jsonpath={.metadata.resourceVersion} {.spec.clusterIP}")
        #expect(r.stdout == "\(revisionBefore) \(clusterIP)", "object and its resourceVersion survive: \(r.stdout) \(r.stderr)")
        r = try await cp.kubectl("apply", "-f", "-", stdin: #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"after","namespace":"default"},"spec":{"ports":[{"port":80}]}}"#)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await cp.kubectl("get", "svc", "after", "-o", "jsonpath={.metadata.resourceVersion} {.spec.clusterIP}")
        let after = r.stdout.split(separator: " ").map(String.init)
        #expect((Int(after.first ?? "") ?? 0) > revisionBefore, "revisions continue after a restart")
        #expect(after.count > 1 && after[1] != clusterIP, "the allocator was rebuilt: no duplicate ClusterIP")

        // A watch resumed from the pre-restart revision sees the post-restart create.
        r = try await cp.kubectl("get", "--raw", "/api/v1/namespaces/default/services?watch=true&resourceVersion=\(revisionBefore)&timeoutSeconds=1")
        #expect(r.stdout.contains(#""type":"ADDED""#) && r.stdout.contains(#""name":"after""#), "\(r.stdout)")
        #expect(!r.stdout.contains(#""name":"before""#), "nothing from before the requested revision")
        await cp.stop()
    }

    /// `kill -9` of the real binary: every write kubectl saw acknowledged is there after a restart.
    @Test func acknowledgedWritesSurviveKill9() async throws {
        guard let binary = KProxyBinary.path else {
            Issue.record("kproxy binary not built (set KPROXY_BIN or run swift build)")
            return
        }
        let dir = TempDir.make("kill9")
        defer { TempDir.remove(dir) }
        let port = 20000 + Int.random(in: 0..<20000)
        var process = try KProxyBinary.startControlPlane(binary, dir: dir, port: port)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let kubeconfig = dir + "/kubeconfig"
        let kubectl = { (args: [String], stdin: String?) async throws -> CommandResult in
            try await Command.runAsync("kubectl", ["--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache"] + args, stdin: stdin)
        }
        #expect(await waitUntil(within: .seconds(10)) { (try? await kubectl(["get", "--raw", "/readyz"], nil))?.status == 0 })
        var manifest = ""
        for i in 0..<40 {
            manifest += #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s\#(i)","namespace":"default"},"spec":{"ports":[{"port":80}]}}"# + "\n"
        }
        let created = try await kubectl(["create", "-f", "-", "-o", "name"], manifest)
        let acknowledged = created.stdout.split(separator: "\n").map(String.init)
        #expect(acknowledged.count == 40, "\(created.stderr)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        process = try KProxyBinary.startControlPlane(binary, dir: dir, port: port)
        #expect(await waitUntil(within: .seconds(10)) { (try? await kubectl(["get", "--raw", "/readyz"], nil))?.status == 0 })
        let present = Set(try await kubectl(["get", "svc", "-o", "name"], nil).stdout.split(separator: "\n").map(String.init))
        for name in acknowledged { #expect(present.contains(name), "\(name) lost after kill -9") }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "graceful shutdown on SIGTERM")
    }
}

enum KProxyBinary {
    /// `KPROXY_BIN`, or the debug build next to the test bundle.
    static var path: String? {
        if let p = ProcessInfo.processInfo.environment["KPROXY_BIN"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/kproxy").standardized.path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    static func startControlPlane(_ binary: String, dir: String, port: Int) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["controlplane", "--data-dir", dir + "/data", "--listen", "127.0.0.1:\(port)", "--write-kubeconfig", dir + "/kubeconfig", "--log-level", "warning"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }
}
