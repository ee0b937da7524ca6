import Foundation
import Yams

/// A parsed kubeconfig: named clusters, users and contexts, and the current context. Relative file
/// paths are already resolved against the directory of the file that named them.
public struct Kubeconfig: Sendable, Hashable {
    /// `clusters[].cluster`.
    public struct Cluster: Sendable, Hashable, Codable {
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        public init(server: String? = nil, certificateAuthority: String? = nil, certificateAuthorityData: String? = nil,
                    insecureSkipTLSVerify: Bool? = nil, tlsServerName: String? = nil) {
            self.server = server; self.certificateAuthority = certificateAuthority
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify; self.tlsServerName = tlsServerName
        }

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    /// `users[].user`.
    public struct User: Sendable, Hashable, Codable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        var exec: PresenceMarker?
        var authProvider: PresenceMarker?
        /// True when the user authenticates with an exec or auth-provider plugin (unsupported).
        public var usesCredentialPlugin: Bool { exec != nil || authProvider != nil }

        public init(token: String? = nil, tokenFile: String? = nil, clientCertificate: String? = nil,
                    clientCertificateData: String? = nil, clientKey: String? = nil, clientKeyData: String? = nil,
                    username: String? = nil, password: String? = nil) {
            self.token = token; self.tokenFile = tokenFile; self.clientCertificate = clientCertificate
            self.clientCertificateData = clientCertificateData; self.clientKey = clientKey
            self.clientKeyData = clientKeyData; self.username = username; self.password = password
        }

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }

    /// `contexts[].context`.
    public struct Context: Sendable, Hashable, Codable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public init(cluster: String, user: String? = nil, namespace: String? = nil) {
            self.cluster = cluster; self.user = user; self.namespace = namespace
        }
    }

    public var clusters: [String: Cluster]
    public var users: [String: User]
    public var contexts: [String: Context]
    public var currentContext: String?

    public init(clusters: [String: Cluster] = [:], users: [String: User] = [:], contexts: [String: Context] = [:],
                currentContext: String? = nil) {
        self.clusters = clusters; self.users = users; self.contexts = contexts; self.currentContext = currentContext
    }

    /// Parses kubeconfig YAML. `directory` resolves relative `certificate-authority`, `client-*` and
    /// `tokenFile` paths (nil leaves them as written).
    public static func parse(yaml: String, directory: String? = nil) throws(KubeClientError) -> Kubeconfig {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch {
            throw .config("invalid kubeconfig YAML: \(error)")
        }
        var config = Kubeconfig(currentContext: file.currentContext.flatMap { $0.isEmpty ? nil : $0 })
        for entry in file.clusters ?? [] where config.clusters[entry.name] == nil {
            var c = entry.cluster
            c.certificateAuthority = resolve(c.certificateAuthority, in: directory)
            config.clusters[entry.name] = c
        }
        for entry in file.users ?? [] where config.users[entry.name] == nil {
            var u = entry.user
            u.tokenFile = resolve(u.tokenFile, in: directory)
            u.clientCertificate = resolve(u.clientCertificate, in: directory)
            u.clientKey = resolve(u.clientKey, in: directory)
            config.users[entry.name] = u
        }
        for entry in file.contexts ?? [] where config.contexts[entry.name] == nil {
            config.contexts[entry.name] = entry.context
        }
        return config
    }

    /// Reads and parses one kubeconfig file.
    public static func load(path: String) throws(KubeClientError) -> Kubeconfig {
        let data = try ClientConfig.readFile(path, what: "kubeconfig")
        guard let text = String(data: data, encoding: .utf8) else { throw .config("kubeconfig \(path) is not UTF-8") }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, directory: directory)
    }

    /// Loads `KUBECONFIG` (a `:`-separated list, merged with the first definition of each name winning,
    /// as kubectl does) or, when it is unset, `~/.kube/config`.
    public static func loadDefault(environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KubeClientError) -> Kubeconfig
    {
        let paths = defaultPaths(environment: environment)
        let existing = paths.filter { FileManager.default.fileExists(atPath: $0) }
        guard !existing.isEmpty else {
            throw .config("no kubeconfig found (looked at \(paths.joined(separator: ", ")))")
        }
        var merged = Kubeconfig()
        for path in existing { merged.merge(try load(path: path)) }
        return merged
    }

    /// The files `loadDefault` considers, in priority order.
    public static func defaultPaths(environment: [String: String]) -> [String] {
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return [home + "/.kube/config"]
    }

    /// Adds the entries of `other` whose names are not defined yet; keeps this current-context if set.
    public mutating func merge(_ other: Kubeconfig) {
        clusters.merge(other.clusters) { mine, _ in mine }
        users.merge(other.users) { mine, _ in mine }
        contexts.merge(other.contexts) { mine, _ in mine }
        if currentContext == nil { currentContext = other.currentContext }
    }

    static func resolve(_ path: String?, in directory: String?) -> String? {
        guard let path, !path.isEmpty else { return path }
        guard let directory, !path.hasPrefix("/") else { return path }
        return URL(fileURLWithPath: directory, isDirectory: true).appendingPathComponent(path).standardizedFileURL.path
    }

    /// The on-disk shape: lists of named entries.
    struct File: Decodable {
        struct NamedCluster: Decodable { var name: String; var cluster: Cluster }
        struct NamedUser: Decodable { var name: String; var user: User }
        struct NamedContext: Decodable { var name: String; var context: Context }
        var clusters: [NamedCluster]?
        var users: [NamedUser]?
        var contexts: [NamedContext]?
        var currentContext: String?
        enum CodingKeys: String, CodingKey {
            case clusters, users, contexts
            case currentContext = "current-context"
        }
    }
}

/// A YAML subtree whose content is ignored; only its presence is recorded.
struct PresenceMarker: Sendable, Hashable, Codable {
    init(from decoder: Decoder) throws {}
    func encode(to encoder: Encoder) throws {}
}
