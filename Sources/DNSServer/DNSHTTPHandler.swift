import HTTPServing
import Logging
import NIOCore
import NIOHTTP1

/// `/metrics` (Prometheus text), `/health` (the process is up) and `/ready` (the index has synced).
public struct DNSHTTPHandler: HTTPRequestHandler {
    public let metrics: DNSMetrics
    public let store: IndexStore

    public init(metrics: DNSMetrics, store: IndexStore) { self.metrics = metrics; self.store = store }

    public func handle(_ request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/metrics":
            return text(.ok, metrics.render(), type: "text/plain; version=0.0.4; charset=utf-8")
        case "/health":
            return text(.ok, "OK")
        case "/ready":
            return store.index.synced ? text(.ok, "OK") : text(.serviceUnavailable, "index not synced")
        default:
            return text(.notFound, "not found")
        }
    }

    func text(_ status: HTTPResponseStatus, _ body: String, type: String = "text/plain; charset=utf-8") -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        return .full(status: status, headers: headers, body: ByteBuffer(string: body))
    }
}

/// The HTTP listener for `DNSHTTPHandler`.
public final class DNSMetricsServer: Sendable {
    private let server: HTTPServer
    public var localAddress: SocketAddress { server.localAddress }

    private init(server: HTTPServer) { self.server = server }

    /// Binds `host:port` (on the shared event-loop group).
    public static func bind(host: String, port: Int, metrics: DNSMetrics, store: IndexStore, logger: Logger) async throws -> DNSMetricsServer {
        DNSMetricsServer(server: try await HTTPServer.bind(host: host, port: port, tls: nil,
                                                           handler: DNSHTTPHandler(metrics: metrics, store: store), logger: logger))
    }

    /// Serves until the task is cancelled.
    public func run() async { await server.run() }
}
