import Foundation

/// Everything needed to talk to one API server: where it is, who we are, and which TLS material to use.
/// A plain value: build it from a kubeconfig (`Kubeconfig.clientConfig`), the in-cluster environment
/// (`ClientConfig.inCluster()`), or by hand (kproxy's own control plane on loopback).
public struct ClientConfig: Sendable, Hashable {
    /// How requests authenticate (besides a TLS client certificate, which lives in `tls`).
    public enum Auth: Sendable, Hashable {
        case none
        /// `Authorization: Bearer <token>`.
        case bearerToken(String)
        /// A bearer token read from a file and re-read periodically (service-account tokens rotate).
        case bearerTokenFile(String)
        /// `Authorization: Basic …`.
        case basic(username: String, password: String)
    }

    /// TLS trust and identity, as PEM bytes (files are read when the config is built).
    public struct TLS: Sendable, Hashable {
        /// CA bundle that signs the server certificate; nil means the system trust store.
        public var caPEM: Data?
        /// Skip server certificate verification (kubeconfig's `insecure-skip-tls-verify`).
        public var insecureSkipVerify: Bool
        /// Name to verify the server certificate against and send as SNI, instead of the URL's host.
        public var serverName: String?
        /// Client certificate chain and key for mutual TLS.
        public var clientCertificatePEM: Data?
        public var clientKeyPEM: Data?

        public init(caPEM: Data? = nil, insecureSkipVerify: Bool = false, serverName: String? = nil,
                    clientCertificatePEM: Data? = nil, clientKeyPEM: Data? = nil) {
            self.caPEM = caPEM; self.insecureSkipVerify = insecureSkipVerify; self.serverName = serverName
            self.clientCertificatePEM = clientCertificatePEM; self.clientKeyPEM = clientKeyPEM
        }
    }

    /// `https://10.0.0.1:6443` or `http://127.0.0.1:8080`, optionally with a path prefix.
    public var server: URL
    public var auth: Auth
    public var tls: TLS
    /// The context's default namespace, if any (callers decide whether to use it).
    public var namespace: String?
    public var userAgent: String
    /// Deadline for ordinary (non-watch) requests.
    public var requestTimeout: Duration
    /// How long a bearer token file's contents are reused before being read again.
    public var tokenFileRefreshInterval: Duration

    public init(server: URL, auth: Auth = .none, tls: TLS = TLS(), namespace: String? = nil,
                userAgent: String = ClientConfig.defaultUserAgent, requestTimeout: Duration = .seconds(30),
                tokenFileRefreshInterval: Duration = .seconds(60)) {
        self.server = server; self.auth = auth; self.tls = tls; self.namespace = namespace
        self.userAgent = userAgent; self.requestTimeout = requestTimeout
        self.tokenFileRefreshInterval = tokenFileRefreshInterval
    }

    /// The version kproxy reports in `User-Agent`.
    public static let version = "0.1.0"
    public static let defaultUserAgent = "kproxy/\(version)"

    /// Where a pod's service-account credentials are mounted.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The configuration of a process running in a pod: `KUBERNETES_SERVICE_HOST`/`PORT`, the
    /// mounted service-account token (re-read periodically) and CA bundle.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 directory: String = serviceAccountDirectory) throws(KubeClientError) -> ClientConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .config("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        guard let url = URL(string: "https://\(hostPart):\(port)") else {
            throw .config("invalid in-cluster server address \(hostPart):\(port)")
        }
        let tokenPath = directory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw .config("service-account token \(tokenPath) is not readable")
        }
        let ca = try readFile(directory + "/ca.crt", what: "service-account CA")
        let namespace = (try? String(contentsOfFile: directory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return ClientConfig(server: url, auth: .bearerTokenFile(tokenPath), tls: TLS(caPEM: ca), namespace: namespace)
    }

    static func readFile(_ path: String, what: String) throws(KubeClientError) -> Data {
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .config("cannot read \(what) \(path): \(error.localizedDescription)")
        }
    }
}
