@testable import ControlPlane
@testable import HTTPServing
import Foundation
import KubeAPI
import NIOSSL
import Testing
@testable import KubeClient
import Values

/// HTTPS against a loopback server whose certificate is issued by a fresh CA (made with the control
/// plane's certificate helper): CA trust, `tls-server-name`, insecure mode, and bad material.
@Suite struct KubeClientTLSTests {
    static let widget = #"{"metadata":{"name":"a","namespace":"default","resourceVersion":"1"}}"#

    struct Fixture {
        let certs: TLSCertificates
        let server: ScriptedHTTPServer
        let dir: TempDir
    }

    /// A server whose certificate names `kubernetes.default.svc`, and 127.0.0.1 when `ipSAN`.
    /// (NIOSSL accepts an IP SAN matching the connected address even when a server name is set.)
    func withTLSServer(ipSAN: Bool, _ body: (Fixture) async throws -> Void) async throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let loopback = try #require(IPAddress("127.0.0.1"))
        let certs = try TLSCertificates.prepare(directory: dir.path, addresses: ipSAN ? [loopback] : [],
                                                dnsNames: ["kubernetes.default.svc"])
        var serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certs.serverChainPEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(certs.serverKeyPEM.utf8), format: .pem)))
        serverTLS.certificateVerification = .none
        let server = try await ScriptedHTTPServer.start(tls: try NIOSSLContext(configuration: serverTLS)) { _ in .init(json: Self.widget) }
        do { try await body(Fixture(certs: certs, server: server, dir: dir)) } catch { try? await server.stop(); throw error }
        try await server.stop()
    }

    func get(_ config: ClientConfig) async throws -> Widget {
        let client = try KubeClient(config: config)
        do {
            let w = try await client.get(Widget.self, name: "a", namespace: "default")
            try await client.shutdown()
            return w
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func trustsTheConfiguredCAAndServerName() async throws {
        try await withTLSServer(ipSAN: true) { f in
            let url = try #require(URL(string: f.server.httpsURL))
            let ca = Data(f.certs.caPEM.utf8)
            #expect(try await get(ClientConfig(server: url, tls: .init(caPEM: ca))).name == "a")
            #expect(try await get(ClientConfig(server: url, tls: .init(insecureSkipVerify: true))).name == "a")
            // Client certificate material is accepted (the test server does not ask for it).
            let withCert = ClientConfig.TLS(caPEM: ca, clientCertificatePEM: Data(f.certs.serverChainPEM.utf8),
                                            clientKeyPEM: Data(f.certs.serverKeyPEM.utf8))
            #expect(try await get(ClientConfig(server: url, tls: withCert)).name == "a")
        }
    }

    @Test func verifiesTheConfiguredServerName() async throws {
        try await withTLSServer(ipSAN: false) { f in
            let url = try #require(URL(string: f.server.httpsURL))
            let ca = Data(f.certs.caPEM.utf8)
            // Connect to 127.0.0.1 but verify the certificate against kubernetes.default.svc.
            #expect(try await get(ClientConfig(server: url, tls: .init(caPEM: ca, serverName: "kubernetes.default.svc"))).name == "a")
            let wrongName = ClientConfig.TLS(caPEM: ca, serverName: "other.example")
            await #expect(throws: KubeClientError.self) {
                _ = try await get(ClientConfig(server: url, tls: wrongName, requestTimeout: .seconds(2)))
            }
            await #expect(throws: KubeClientError.self) {
                _ = try await get(ClientConfig(server: url, tls: .init(caPEM: ca), requestTimeout: .seconds(2)))
            }
        }
    }

    @Test func rejectsAServerSignedByAnotherCA() async throws {
        try await withTLSServer(ipSAN: true) { f in
            let url = try #require(URL(string: f.server.httpsURL))
            await #expect(throws: KubeClientError.self) {
                _ = try await get(ClientConfig(server: url, requestTimeout: .seconds(2)))
            }
        }
    }

    @Test(arguments: [
        ClientConfig.TLS(caPEM: Data("not a pem".utf8)),
        ClientConfig.TLS(clientCertificatePEM: Data("x".utf8), clientKeyPEM: Data("y".utf8)),
    ])
    func invalidMaterialIsAConfigError(tls: ClientConfig.TLS) throws {
        let url = try #require(URL(string: "https://127.0.0.1:1"))
        do {
            let client = try KubeClient(config: ClientConfig(server: url, tls: tls))
            Issue.record("accepted invalid TLS material")
            try? client.http.syncShutdown()
        } catch {
            guard case .config = error else { Issue.record("\(error)"); return }
        }
    }
}
