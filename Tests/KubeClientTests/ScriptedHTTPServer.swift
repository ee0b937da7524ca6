import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A loopback HTTP/1.1 server that answers each request from a script and records what it got,
/// to test `KubeClient`'s requests and response handling without a control plane.
final class ScriptedHTTPServer: Sendable {
    struct Request: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: HTTPHeaders
        var body: String
    }

    struct Response: Sendable {
        var status: Int = 200
        /// Written and flushed one by one, as separate HTTP chunks.
        var chunks: [String]
        init(status: Int = 200, _ chunks: [String]) { self.status = status; self.chunks = chunks }
        init(status: Int = 200, json: String) { self.status = status; self.chunks = [json] }
    }

    private let channel: any Channel
    private let recorded: Mutex<[Request]>
    let port: Int

    var requests: [Request] { recorded.withLock { $0 } }
    var baseURL: String { "http://127.0.0.1:\(port)" }
    var httpsURL: String { "https://127.0.0.1:\(port)" }

    private init(channel: any Channel, port: Int) {
        self.channel = channel; self.recorded = Mutex([]); self.port = port
    }

    /// Starts the server on an ephemeral loopback port; with `tls`, it speaks HTTPS.
    static func start(tls: NIOSSLContext? = nil,
                      _ respond: @escaping @Sendable (Request) -> Response) async throws -> ScriptedHTTPServer {
        let log = Log()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(respond: respond, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        let server = ScriptedHTTPServer(channel: channel, port: port)
        log.server.withLock { $0 = server }
        return server
    }

    func stop() async throws { try await channel.close() }

    fileprivate func record(_ request: Request) { recorded.withLock { $0.append(request) } }

    /// Lets handlers reach the server (created after the bootstrap binds).
    fileprivate final class Log: Sendable {
        let server = Mutex<ScriptedHTTPServer?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let respond: @Sendable (Request) -> Response
        let log: Log
        var head: HTTPRequestHead?
        var body = ""

        init(respond: @escaping @Sendable (Request) -> Response, log: Log) { self.respond = respond; self.log = log }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h; body = ""
            case .body(let b): body += String(buffer: b)
            case .end:
                guard let head else { return }
                let request = Request(method: head.method, uri: head.uri, headers: head.headers, body: body)
                log.server.withLock { $0 }?.record(request)
                let response = respond(request)
                var headers = HTTPHeaders([("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
                if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(
                    version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
                for chunk in response.chunks where !chunk.isEmpty {
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: chunk)))), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
