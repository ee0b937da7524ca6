import Foundation
import Testing
@testable import KubeClient

@Suite struct KubeconfigTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let caB64 = Data(caPEM.utf8).base64EncodedString()

    func config(_ yaml: String, directory: String? = nil, context: String? = nil) throws -> ClientConfig {
        try Kubeconfig.parse(yaml: yaml, directory: directory).clientConfig(context: context)
    }

    @Test func tokenAndCAData() throws {
        let c = try config("""
        apiVersion: v1
        kind: Config
        current-context: main
        clusters:
        - name: c1
          cluster:
            server: https://10.0.0.1:6443
            certificate-authority-data: \(Self.caB64)
        users:
        - name: u1
          user:
            token: abc.def
        contexts:
        - name: main
          context: {cluster: c1, user: u1, namespace: kube-system}
        """)
        #expect(c.server.absoluteString == "https://10.0.0.1:6443")
        #expect(c.auth == .bearerToken("abc.def"))
        #expect(c.tls.caPEM == Data(Self.caPEM.utf8))
        #expect(c.tls.insecureSkipVerify == false)
        #expect(c.namespace == "kube-system")
    }

    @Test func relativePathsResolveAgainstTheKubeconfigDirectory() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        _ = try dir.write("pki/ca.crt", Self.caPEM)
        _ = try dir.write("pki/client.crt", "CERT")
        _ = try dir.write("pki/client.key", "KEY")
        _ = try dir.write("token", "file-token\n")
        let path = try dir.write("conf/kubeconfig", """
        current-context: a
        clusters:
        - name: c
          cluster: {server: "https://api.example:6443", certificate-authority: ../pki/ca.crt, tls-server-name: kubernetes}
        users:
        - name: cert
          user: {client-certificate: ../pki/client.crt, client-key: ../pki/client.key}
        - name: tok
          user: {tokenFile: ../token}
        contexts:
        - name: a
          context: {cluster: c, user: cert}
        - name: b
          context: {cluster: c, user: tok}
        """)
        let kubeconfig = try Kubeconfig.load(path: path)
        #expect(kubeconfig.users["tok"]?.tokenFile == dir.path + "/token")
        let a = try kubeconfig.clientConfig()
        #expect(a.tls.caPEM == Data(Self.caPEM.utf8))
        #expect(a.tls.clientCertificatePEM == Data("CERT".utf8))
        #expect(a.tls.clientKeyPEM == Data("KEY".utf8))
        #expect(a.tls.serverName == "kubernetes")
        #expect(a.auth == .none)
        // --context override
        let b = try kubeconfig.clientConfig(context: "b")
        #expect(b.auth == .bearerTokenFile(dir.path + "/token"))
        #expect(b.tls.clientCertificatePEM == nil)
    }

    @Test func clientCertificateDataAndInsecure() throws {
        let c = try config("""
        current-context: x
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}}]
        users: [{name: u, user: {client-certificate-data: \(Data("CERT".utf8).base64EncodedString()), client-key-data: \(Data("KEY".utf8).base64EncodedString())}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        """)
        #expect(c.tls.insecureSkipVerify)
        #expect(c.tls.caPEM == nil)
        #expect(c.tls.clientCertificatePEM == Data("CERT".utf8))
        #expect(c.tls.clientKeyPEM == Data("KEY".utf8))
    }

    @Test func plainHTTPWithoutUserAndBasicAuth() throws {
        let c = try config("""
        current-context: x
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
        users: [{name: u, user: {username: admin, password: secret}}]
        contexts: [{name: x, context: {cluster: c}}, {name: y, context: {cluster: c, user: u}}]
        """)
        #expect(c.auth == .none)
        #expect(c.server.scheme == "http")
        let y = try Kubeconfig.parse(yaml: """
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080"}}]
        users: [{name: u, user: {username: admin, password: secret}}]
        contexts: [{name: y, context: {cluster: c, user: u}}]
        """).clientConfig(context: "y")
        #expect(y.auth == .basic(username: "admin", password: "secret"))
    }

    static let errorCases: [(String, String?, String)] = [
        ("clusters: [", nil, "invalid kubeconfig YAML"),
        ("clusters: []\ncontexts: []", nil, "current-context is not set"),
        ("current-context: nope\ncontexts: []", nil, "context \"nope\" does not exist"),
        ("contexts: [{name: x, context: {cluster: missing}}]", "x", "cluster \"missing\""),
        ("clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]", "x", "has no server"),
        ("clusters: [{name: c, cluster: {server: \"ftp://h\"}}]\ncontexts: [{name: x, context: {cluster: c}}]", "x", "invalid server URL"),
        ("clusters: [{name: c, cluster: {server: \"https://h\"}}]\ncontexts: [{name: x, context: {cluster: c, user: ghost}}]", "x", "user \"ghost\""),
        ("clusters: [{name: c, cluster: {server: \"https://h\", certificate-authority-data: \"!!!\"}}]\ncontexts: [{name: x, context: {cluster: c}}]", "x", "not valid base64"),
        ("clusters: [{name: c, cluster: {server: \"https://h\", insecure-skip-tls-verify: true, certificate-authority-data: \(caB64)}}]\ncontexts: [{name: x, context: {cluster: c}}]", "x", "insecure flag is not allowed"),
        ("clusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: /nonexistent/ca.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]", "x", "cannot read"),
        ("clusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {client-certificate-data: \(caB64)}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]", "x", "both a client certificate and a client key"),
        ("clusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {tokenFile: /nonexistent/token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]", "x", "not readable"),
        ("clusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]", "x", "credential plugin"),
    ]

    @Test(arguments: errorCases)
    func errors(yaml: String, context: String?, expected: String) {
        do {
            let c = try config(yaml, context: context)
            Issue.record("expected an error containing \(expected), got \(c)")
        } catch let error as KubeClientError {
            guard case .config(let message) = error else { Issue.record("not a config error: \(error)"); return }
            #expect(message.contains(expected), "\(message)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func kubeconfigEnvironmentMergesFirstDefinitionWins() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let one = try dir.write("one", """
        current-context: first
        clusters: [{name: c, cluster: {server: "https://one:6443"}}]
        contexts: [{name: first, context: {cluster: c}}]
        """)
        let two = try dir.write("two", """
        current-context: second
        clusters: [{name: c, cluster: {server: "https://two:6443"}}, {name: d, cluster: {server: "https://d:6443"}}]
        contexts: [{name: second, context: {cluster: d}}]
        """)
        let env = ["KUBECONFIG": "\(one):\(dir.path)/missing:\(two)"]
        let merged = try Kubeconfig.loadDefault(environment: env)
        #expect(merged.currentContext == "first")
        #expect(merged.clusters["c"]?.server == "https://one:6443")
        #expect(try merged.clientConfig(context: "second").server.absoluteString == "https://d:6443")
        #expect(try ClientConfig.load(environment: env).server.absoluteString == "https://one:6443")
        // An explicit path wins over KUBECONFIG; its own current-context applies.
        #expect(try ClientConfig.load(kubeconfig: two, environment: env).server.absoluteString == "https://d:6443")
        #expect(try ClientConfig.load(kubeconfig: two, context: "second", environment: env).server.absoluteString == "https://d:6443")
    }

    @Test func inCluster() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        _ = try dir.write("token", "sa-token\n")
        _ = try dir.write("ca.crt", Self.caPEM)
        _ = try dir.write("namespace", "kube-system")
        let env = ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"]
        let c = try ClientConfig.inCluster(environment: env, directory: dir.path)
        #expect(c.server.absoluteString == "https://[fd00::1]:443")
        #expect(c.auth == .bearerTokenFile(dir.path + "/token"))
        #expect(c.tls.caPEM == Data(Self.caPEM.utf8))
        #expect(c.namespace == "kube-system")
        #expect(throws: KubeClientError.self) { try ClientConfig.inCluster(environment: [:], directory: dir.path) }
    }

    @Test func tokenFileIsReReadAfterTheRefreshInterval() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let path = try dir.write("token", "one\n")
        let cachedLong = TokenFileSource(path: path, refreshInterval: .seconds(3600))
        let always = TokenFileSource(path: path, refreshInterval: .zero)
        #expect(try cachedLong.token() == "one")
        #expect(try always.token() == "one")
        _ = try dir.write("token", "two")
        #expect(try cachedLong.token() == "one")
        #expect(try always.token() == "two")
        try FileManager.default.removeItem(atPath: path)
        #expect(try always.token() == "two", "keeps the last good token")
        #expect(throws: KubeClientError.self) { try TokenFileSource(path: path, refreshInterval: .zero).token() }
    }
}
