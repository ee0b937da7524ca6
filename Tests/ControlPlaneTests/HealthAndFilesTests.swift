import Foundation
import Glibc
import HTTPServing
import KubeAPI
import LinuxSystem
import Testing
@testable import ControlPlane
import Values

/// `/readyz` reflects the store and the controllers; secrets and the data dir are private from the start;
/// a token that cannot be saved fails the start instead of changing at the next one.
@Suite struct HealthAndFilesTests {
    struct Failure: Error, CustomStringConvertible { var description: String { "disk on fire" } }

    static func body(_ response: HTTPResponse) -> (Int, String) {
        let r = reply(response)
        return (r.code, r.text)
    }

    @Test func readyzListsEachCheckAndFailsUntilAllPass() async throws {
        let checks = ReadinessChecks()
        let reporter = SyncReporter(checks, "informer-sync/test/pods")
        let health = HealthEndpoint(store: {}, readiness: checks)
        var (code, text) = Self.body(await health.handle("readyz", check: nil, verbose: false))
        #expect(code == 500)
        #expect(text == "[+]ping ok\n[+]etcd ok\n[-]informer-sync/test/pods failed: reason withheld\nreadyz check failed\n")
        (code, text) = Self.body(await health.handle("livez", check: nil, verbose: false))
        #expect(code == 200 && text == "ok", "liveness does not wait for informers")
        reporter.synced()
        (code, text) = Self.body(await health.handle("readyz", check: nil, verbose: false))
        #expect(code == 200 && text == "ok")
        (code, text) = Self.body(await health.handle("readyz", check: nil, verbose: true))
        #expect(code == 200 && text == "[+]ping ok\n[+]etcd ok\n[+]informer-sync/test/pods ok\nreadyz check passed\n")
        reporter.lost("watch ended")
        #expect(Self.body(await health.handle("readyz", check: nil, verbose: false)).0 == 500, "a broken watch makes it unready again")
        #expect(Self.body(await health.handle("readyz", check: "etcd", verbose: false)).0 == 200)
        #expect(Self.body(await health.handle("readyz", check: "nope", verbose: false)).0 == 404)
    }

    @Test func aFailingStoreFailsLivenessAndReadiness() async throws {
        let health = HealthEndpoint(store: { throw Failure() }, readiness: ReadinessChecks())
        for endpoint in ["livez", "readyz", "healthz"] {
            let (code, text) = Self.body(await health.handle(endpoint, check: nil, verbose: false))
            #expect(code == 500)
            #expect(text.contains("[-]etcd failed: reason withheld") && text.hasSuffix("\(endpoint) check failed\n"))
            #expect(!text.contains("disk on fire"), "reasons are withheld from anonymous callers")
        }
    }

    static func tempDir(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("kproxy-\(name)-\(UUID().uuidString.prefix(8))").path
    }

    static func mode(_ path: String) -> mode_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
    }

    @Test func theControlPlaneIsReadyOnlyWhileItsControllersRunAndItsStoreServes() async throws {
        let dir = Self.tempDir("readyz")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ControlPlaneConfig(dataDir: dir)
        config.listenPort = 0
        let server = try await ControlPlaneServer.start(config, logger: silentLogger)
        let failing = server.readiness.results().filter { $0.failure != nil }.map(\.name)
        #expect(failing.contains(ControlPlaneServer.controllersCheck), "not ready before the controllers start")
        let run = Task { await server.run() }
        let synced = await eventually("every informer synced", within: 10) { server.readiness.results().allSatisfy { $0.failure == nil } }
        #expect(synced)
        let names = server.readiness.results().map(\.name)
        #expect(names.contains("informer-sync/endpointslice-controller/pods") && names.contains("informer-sync/nodeipam-controller/nodes"))
        try await server.store.checkHealth()
        run.cancel()
        await run.value  // closes the store
        await #expect(throws: (any Error).self) { try await server.store.checkHealth() }
    }

    @Test func dataDirTokenAndSecretsArePrivate() async throws {
        let top = Self.tempDir("perm")
        let dir = top + "/nested/data"
        defer { try? FileManager.default.removeItem(atPath: top) }
        // Even with a umask that lets everyone read, secrets are 0600 from the first byte.
        let old = umask(0)
        defer { umask(old) }
        try PrivateFiles.makeDirectory(dir)
        #expect(Self.mode(dir) == 0o700)
        let token = try ControlPlaneServer.loadOrCreateToken(dir: dir)
        #expect(Self.mode(dir + "/token") == 0o600)
        #expect(try ControlPlaneServer.loadOrCreateToken(dir: dir) == token, "the same token at the next start")
        try PrivateFiles.write("apiVersion: v1\n", to: dir + "/kubeconfig")
        #expect(Self.mode(dir + "/kubeconfig") == 0o600)
        #expect(try String(contentsOfFile: dir + "/kubeconfig", encoding: .utf8) == "apiVersion: v1\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["kubeconfig", "token"], "no temporary file left")
        // A data dir that exists with looser permissions is tightened.
        chmod(dir, 0o755)
        try PrivateFiles.makeDirectory(dir)
        #expect(Self.mode(dir) == 0o700)
    }

    @Test func aTokenThatCannotBeSavedFailsTheStart() throws {
        let dir = Self.tempDir("ro")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A directory where the token file should be: the write must fail, whoever runs the test (root too).
        try FileManager.default.createDirectory(atPath: dir + "/token", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/token/x", withIntermediateDirectories: true)
        #expect(throws: (any Error).self) { _ = try ControlPlaneServer.loadOrCreateToken(dir: dir) }
    }

    /// Controllers record Events: a Node that finds no pod CIDR left gets CIDRNotAvailable.
    @Test func nodeWithoutAPodCIDRGetsAnEvent() async throws {
        let dir = Self.tempDir("events")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ControlPlaneConfig(dataDir: dir)
        config.listenPort = 0
        config.clusterCIDR = "10.244.0.0/24"
        config.nodeCIDRMaskSize = 25  // room for two nodes
        let server = try await ControlPlaneServer.start(config, logger: silentLogger)
        let run = Task { await server.run() }
        defer { run.cancel() }
        _ = try await server.nodes.create(makeNode("node-a"), namespace: nil)
        _ = try await server.nodes.create(makeNode("node-b"), namespace: nil)
        _ = try await server.nodes.create(makeNode("node-c"), namespace: nil)
        let found = await eventually("CIDRNotAvailable for node-c", within: 10) {
            let events = (try? await server.events.list(namespace: "default").items) ?? []
            return events.contains { $0.reason == "CIDRNotAvailable" && $0.involvedObject.name == "node-c" && $0.involvedObject.kind == "Node" }
        }
        #expect(found)
        let event = try await server.events.list(namespace: "default").items.first { $0.reason == "CIDRNotAvailable" }
        #expect(event?.source.component == "kproxy-controlplane" && event?.type == "Normal" && event?.count == 1)
        run.cancel()
        await run.value
    }
}
