import Foundation

extension Kubeconfig {
    /// The client configuration of `context` (default: `current-context`), reading any referenced
    /// certificate files now.
    public func clientConfig(context name: String? = nil) throws(KubeClientError) -> ClientConfig {
        guard let contextName = name ?? currentContext else {
            throw .config("current-context is not set and no context was given")
        }
        guard let context = contexts[contextName] else { throw .config("context \"\(contextName)\" does not exist") }
        guard let cluster = clusters[context.cluster] else {
            throw .config("cluster \"\(context.cluster)\" of context \"\(contextName)\" does not exist")
        }
        let user: User
        if let userName = context.user, !userName.isEmpty {
            guard let u = users[userName] else {
                throw .config("user \"\(userName)\" of context \"\(contextName)\" does not exist")
            }
            user = u
        } else {
            user = User()
        }

        guard let server = cluster.server, !server.isEmpty else {
            throw .config("cluster \"\(context.cluster)\" has no server")
        }
        guard let url = URL(string: server), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              url.host != nil else {
            throw .config("cluster \"\(context.cluster)\" has an invalid server URL \"\(server)\"")
        }

        var tls = ClientConfig.TLS(insecureSkipVerify: cluster.insecureSkipTLSVerify ?? false,
                                   serverName: cluster.tlsServerName.flatMap { $0.isEmpty ? nil : $0 })
        tls.caPEM = try Self.material(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority,
                                      what: "certificate-authority of cluster \"\(context.cluster)\"")
        if tls.insecureSkipVerify && tls.caPEM != nil {
            throw .config("cluster \"\(context.cluster)\": specifying a root certificates file with the insecure flag is not allowed")
        }
        let userLabel = "user \"\(context.user ?? "")\""
        tls.clientCertificatePEM = try Self.material(data: user.clientCertificateData, file: user.clientCertificate,
                                                     what: "client-certificate of \(userLabel)")
        tls.clientKeyPEM = try Self.material(data: user.clientKeyData, file: user.clientKey,
                                             what: "client-key of \(userLabel)")
        if (tls.clientCertificatePEM == nil) != (tls.clientKeyPEM == nil) {
            throw .config("\(userLabel) must set both a client certificate and a client key, or neither")
        }

        let auth: ClientConfig.Auth
        if let token = user.token, !token.isEmpty {
            auth = .bearerToken(token)
        } else if let file = user.tokenFile, !file.isEmpty {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw .config("tokenFile \(file) of \(userLabel) is not readable")
            }
            auth = .bearerTokenFile(file)
        } else if let username = user.username, !username.isEmpty {
            auth = .basic(username: username, password: user.password ?? "")
        } else if user.usesCredentialPlugin && tls.clientCertificatePEM == nil {
            throw .config("\(userLabel) uses an exec or auth-provider credential plugin, which kproxy does not support")
        } else {
            auth = .none
        }
        if scheme == "http" && tls.clientCertificatePEM != nil {
            throw .config("cluster \"\(context.cluster)\": client certificates need an https server")
        }
        return ClientConfig(server: url, auth: auth, tls: tls,
                            namespace: context.namespace.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Inline base64 `*-data` wins over a file path, as upstream.
    static func material(data: String?, file: String?, what: String) throws(KubeClientError) -> Data? {
        if let data, !data.isEmpty {
            let compact = data.filter { !$0.isWhitespace }
            guard let bytes = Data(base64Encoded: compact) else { throw .config("\(what): data is not valid base64") }
            return bytes
        }
        if let file, !file.isEmpty { return try ClientConfig.readFile(file, what: what) }
        return nil
    }
}

extension ClientConfig {
    /// The usual resolution for a daemon: an explicit kubeconfig path, else `KUBECONFIG`, else the
    /// in-cluster service account when running in a pod, else `~/.kube/config`.
    public static func load(kubeconfig path: String? = nil, context: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(KubeClientError) -> ClientConfig
    {
        if let path, !path.isEmpty { return try Kubeconfig.load(path: path).clientConfig(context: context) }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            return try Kubeconfig.loadDefault(environment: environment).clientConfig(context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil, context == nil {
            return try inCluster(environment: environment)
        }
        return try Kubeconfig.loadDefault(environment: environment).clientConfig(context: context)
    }
}
