import AsyncHTTPClient
import Foundation
import KubeAPI
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A typed client for the Kubernetes REST API, for kproxy's own control plane or a real kube-apiserver.
/// Owns one `HTTPClient`; call `shutdown()` before dropping it.
///
/// Calls throw `KubeClientError` (or `CancellationError` when the calling task is cancelled).
public final class KubeClient: Sendable {
    public let config: ClientConfig
    let http: HTTPClient
    /// `scheme://host:port/prefix` without a trailing slash; the host is `tls.serverName` when set.
    let baseURL: String
    let tokenSource: TokenFileSource?
    let logger: Logger

    public init(config: ClientConfig, logger: Logger = Logger(label: "kproxy.kubeclient")) throws(KubeClientError) {
        self.config = config
        self.logger = logger
        var base = config.server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var httpConfig = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: nil))
        if config.server.scheme?.lowercased() == "https" {
            httpConfig.tlsConfiguration = try Self.tlsConfiguration(config.tls)
            if let serverName = config.tls.serverName, let host = config.server.host, serverName != host {
                // Connect to the real host but verify (and send SNI for) the configured name.
                httpConfig.dnsOverride = [serverName: host]
                if var components = URLComponents(url: config.server, resolvingAgainstBaseURL: false) {
                    components.host = serverName
                    if let rewritten = components.url?.absoluteString { base = rewritten }
                    while base.hasSuffix("/") { base.removeLast() }
                }
            }
        }
        self.baseURL = base
        if case .bearerTokenFile(let path) = config.auth {
            tokenSource = TokenFileSource(path: path, refreshInterval: config.tokenFileRefreshInterval)
        } else {
            tokenSource = nil
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
    }

    /// Closes connections; in-flight requests and watches fail.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    static func tlsConfiguration(_ tls: ClientConfig.TLS) throws(KubeClientError) -> TLSConfiguration {
        var t = TLSConfiguration.makeClientConfiguration()
        if tls.insecureSkipVerify { t.certificateVerification = .none }
        do {
            if let ca = tls.caPEM {
                let certs = try NIOSSLCertificate.fromPEMBytes(Array(ca))
                guard !certs.isEmpty else { throw KubeClientError.config("certificate authority contains no PEM certificate") }
                t.trustRoots = .certificates(certs)
            }
            if let cert = tls.clientCertificatePEM, let key = tls.clientKeyPEM {
                let chain = try NIOSSLCertificate.fromPEMBytes(Array(cert))
                guard !chain.isEmpty else { throw KubeClientError.config("client certificate contains no PEM certificate") }
                t.certificateChain = chain.map { .certificate($0) }
                t.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key), format: .pem))
            }
        } catch let error as KubeClientError {
            throw error
        } catch {
            throw .config("invalid TLS material: \(error)")
        }
        return t
    }

    // MARK: Requests

    /// Builds a request for `path` with the standard headers and credentials.
    func makeRequest(_ path: RequestPath, method: HTTPMethod, body: Data? = nil,
                     contentType: String = "application/json") throws(KubeClientError) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path.pathAndQuery)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: config.userAgent)
        switch config.auth {
        case .none: break
        case .bearerToken(let token): request.headers.add(name: "Authorization", value: "Bearer \(token)")
        case .bearerTokenFile:
            if let tokenSource { request.headers.add(name: "Authorization", value: "Bearer \(try tokenSource.token())") }
        case .basic(let user, let password):
            let encoded = Data("\(user):\(password)".utf8).base64EncodedString()
            request.headers.add(name: "Authorization", value: "Basic \(encoded)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(data: body))
        }
        return request
    }

    /// Sends a request and returns the response head (body still streaming).
    func execute(_ request: HTTPClientRequest, deadline: NIODeadline) async throws -> HTTPClientResponse {
        do {
            return try await http.execute(request, deadline: deadline, logger: logger)
        } catch {
            throw Self.transportError(error)
        }
    }

    /// Sends a request, reads the whole body, and returns it if the status is 2xx; throws the API status otherwise.
    func perform(_ path: RequestPath, method: HTTPMethod, body: Data? = nil,
                 contentType: String = "application/json") async throws -> Data {
        let request = try makeRequest(path, method: method, body: body, contentType: contentType)
        let deadline = NIODeadline.now() + Self.timeAmount(config.requestTimeout)
        let response = try await execute(request, deadline: deadline)
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw Self.transportError(error)
        }
        let data = Data(buffer: buffer)
        guard (200..<300).contains(Int(response.status.code)) else {
            throw KubeClientError.status(Self.decodeStatus(code: Int(response.status.code), body: data))
        }
        return data
    }

    static func transportError(_ error: any Error) -> any Error {
        if error is CancellationError || error is KubeClientError { return error }
        if let e = error as? HTTPClientError, e == .cancelled { return CancellationError() }
        return KubeClientError.transport(String(describing: error))
    }

    /// The body as a `Status` when it is one, or a synthetic `Status` from the HTTP code.
    static func decodeStatus(code: Int, body: Data) -> Status {
        if isStatus(body), let status = try? KubeJSON.decode(Status.self, from: body) {
            var s = status
            if s.code == 0 { s.code = code }
            return s
        }
        return .synthesised(code: code, body: String(decoding: body, as: UTF8.self))
    }

    /// True when a JSON body says `"kind": "Status"`.
    static func isStatus(_ body: Data) -> Bool {
        struct KindProbe: Decodable { var kind: String? }
        return (try? KubeJSON.decode(KindProbe.self, from: body))?.kind == "Status"
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        let (seconds, atto) = d.components
        return .nanoseconds(seconds * 1_000_000_000 + atto / 1_000_000_000)
    }

    static func decode<V: Decodable>(_ type: V.Type, from data: Data, what: String) throws(KubeClientError) -> V {
        do { return try KubeJSON.decode(type, from: data) } catch {
            throw .decoding("\(what): \(error)")
        }
    }

    static func encode<V: Encodable>(_ value: V) throws(KubeClientError) -> Data {
        do { return try KubeJSON.encode(value) } catch { throw .decoding("cannot encode request body: \(error)") }
    }
}
