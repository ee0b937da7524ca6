import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// A request as the API layer sees it: method, decoded path, query, headers and the whole body.
public struct HTTPRequest: Sendable {
    public init(method: HTTPMethod, path: String, query: [String: String] = [:], headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
    }

    public var method: HTTPMethod
    /// Path without the query string, percent-decoded per segment by the router.
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A response: whole, or streamed (watches), written with chunked encoding as upstream does.
public enum HTTPResponse: Sendable {
    case full(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer)
    case stream(status: HTTPResponseStatus, headers: HTTPHeaders, body: AsyncThrowingStream<ByteBuffer, Error>)
}

/// What answers requests; the server knows nothing about Kubernetes.
public protocol HTTPRequestHandler: Sendable {
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}

/// What takes WebSocket upgrades (exec streams), on servers bound with one.
public protocol WebSocketHandler: Sendable {
    /// Headers for the 101 answer (the chosen `Sec-WebSocket-Protocol`), or nil to answer the request as
    /// plain HTTP (the request handler then refuses it with a status of its own). Runs on the event loop.
    func accept(_ head: HTTPRequestHead) -> HTTPHeaders?
    /// Serves one upgraded connection until it ends.
    func serve(_ head: HTTPRequestHead, _ socket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async
}

/// A connection once its first request decided what it is.
enum ServedConnection: Sendable {
    case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
    case webSocket(HTTPRequestHead, NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)

    var channel: any Channel {
        switch self {
        case .http(let c): c.channel
        case .webSocket(_, let c): c.channel
        }
    }
}

/// HTTP/1.1 server over SwiftNIO's async channels: keep-alive, bounded bodies, streamed responses
/// that end when the client goes away. Every server of the process runs on one event-loop group
/// (SwiftNIO's shared singleton, one loop per core), however many ports it listens on.
public final class HTTPServer: Sendable {
    public static let maxBodyBytes = 3 * 1024 * 1024  // upstream's request size limit

    private let handler: any HTTPRequestHandler
    private let webSockets: (any WebSocketHandler)?
    private let logger: Logger
    private let channel: NIOAsyncChannel<EventLoopFuture<ServedConnection>, Never>
    private let accepted: AcceptedConnections

    /// The largest WebSocket frame taken from a peer.
    public static let maxFrameBytes = 1 << 20

    /// The address actually bound (the port is chosen by the kernel when asked for 0).
    public let localAddress: SocketAddress

    private init(handler: any HTTPRequestHandler, webSockets: (any WebSocketHandler)?, logger: Logger, accepted: AcceptedConnections,
                 channel: NIOAsyncChannel<EventLoopFuture<ServedConnection>, Never>) throws {
        self.handler = handler
        self.webSockets = webSockets
        self.logger = logger
        self.accepted = accepted
        self.channel = channel
        guard let address = channel.channel.localAddress else { throw ChannelError.unknownLocalAddress }
        self.localAddress = address
    }

    /// Binds the listening socket; `run()` then serves until cancelled. With `webSockets`, a first request
    /// that asks for a WebSocket upgrade and is accepted becomes a WebSocket connection.
    public static func bind(host: String, port: Int, tls: NIOSSLContext?, handler: any HTTPRequestHandler, logger: Logger,
                            webSockets: (any WebSocketHandler)? = nil,
                            group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HTTPServer {
        let accepted = AcceptedConnections()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { child -> EventLoopFuture<EventLoopFuture<ServedConnection>> in
                child.eventLoop.makeCompletedFuture {
                    if let tls { try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    guard let webSockets else {
                        try child.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        let connection = ServedConnection.http(try NIOAsyncChannel(wrappingChannelSynchronously: child))
                        accepted.adopt(connection)
                        return child.eventLoop.makeSucceededFuture(connection)
                    }
                    let upgrader = NIOTypedWebSocketServerUpgrader<ServedConnection>(
                        maxFrameSize: maxFrameBytes,
                        shouldUpgrade: { channel, head in channel.eventLoop.makeSucceededFuture(webSockets.accept(head)) },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                let connection = ServedConnection.webSocket(head, try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                                accepted.adopt(connection)
                                return connection
                            }
                        })
                    let upgrades = NIOTypedHTTPServerUpgradeConfiguration<ServedConnection>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                let connection = ServedConnection.http(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                                accepted.adopt(connection)
                                return connection
                            }
                        })
                    return try child.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: NIOUpgradableHTTPServerPipelineConfiguration(upgradeConfiguration: upgrades))
                }
            }
        return try HTTPServer(handler: handler, webSockets: webSockets, logger: logger, accepted: accepted, channel: channel)
    }

    /// Accepts connections until the surrounding task is cancelled, then closes the listener.
    public func run() async {
        // Cancellation closes the listener instead of abandoning its stream: every connection accepted
        // before the close is still taken (and then closed), as NIO requires of async channels. Once the
        // listener is closed, the open connections are cancelled too.
        let accepting = Task { [channel, logger, accepted] in
            await withDiscardingTaskGroup { tasks in
                do {
                    try await channel.executeThenClose { inbound in
                        for try await negotiated in inbound {
                            tasks.addTask {
                                // A connection whose first request never came (or failed) has nothing to serve.
                                guard let connection = try? await negotiated.get() else { return }
                                accepted.taken(connection)
                                switch connection {
                                case .http(let http): await self.serve(http)
                                case .webSocket(let head, let socket):
                                    if let webSockets = self.webSockets { await webSockets.serve(head, socket) } else { await Self.discard(connection) }
                                }
                            }
                        }
                    }
                } catch {
                    logger.error("HTTP listener failed: \(error)")
                }
                tasks.cancelAll()
                // Connections accepted as the listener closed never reached the loop above: close them too.
                for connection in accepted.stop() { tasks.addTask { await Self.discard(connection) } }
            }
        }
        await withTaskCancellationHandler {
            await accepting.value
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    /// Closes a connection that will not be served (its async channel must still be consumed, or NIO traps).
    static func discard(_ connection: ServedConnection) async {
        switch connection {
        case .http(let c): try? await c.executeThenClose { _, _ in }
        case .webSocket(_, let c): try? await c.executeThenClose { _, _ in }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var tooLarge = false
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h; body.clear(); tooLarge = false
                    case .body(var chunk):
                        if body.readableBytes + chunk.readableBytes > Self.maxBodyBytes { tooLarge = true } else { body.writeBuffer(&chunk) }
                    case .end:
                        guard let requestHead = head else { continue }
                        head = nil
                        let response: HTTPResponse
                        if tooLarge {
                            response = .full(status: .payloadTooLarge, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: "request body too large\n"))
                        } else {
                            response = await handler.handle(Self.request(from: requestHead, body: body))
                        }
                        let keepAlive = try await write(response, for: requestHead, to: outbound, closeFuture: connection.channel.closeFuture)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }

    private static func request(from head: HTTPRequestHead, body: ByteBuffer) -> HTTPRequest {
        let uri = head.uri
        let (path, queryString) = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            .map(String.init).pairOrSingle
        var query: [String: String] = [:]
        for item in queryString.split(separator: "&") where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(kv[0]))
            query[key] = kv.count > 1 ? percentDecode(String(kv[1])) : ""
        }
        return HTTPRequest(method: head.method, path: path, query: query, headers: head.headers, body: body)
    }

    /// Writes one response; returns whether the connection stays open for the next request.
    private func write(_ response: HTTPResponse, for request: HTTPRequestHead,
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                       closeFuture: EventLoopFuture<Void>) async throws -> Bool {
        let keepAlive = request.isKeepAlive
        switch response {
        case .full(let status, var headers, let body):
            headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
            var head = HTTPResponseHead(version: request.version, status: status, headers: headers)
            head.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache, private")
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(body)), .end(nil)])
            return keepAlive
        case .stream(let status, var headers, let body):
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
            headers.replaceOrAdd(name: "Cache-Control", value: "no-cache, private")
            try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
            // Stream until the producer ends or the client closes the connection (which cancels the copy).
            let copy = Task {
                for try await chunk in body { try await outbound.write(.body(.byteBuffer(chunk))) }
            }
            closeFuture.whenComplete { _ in copy.cancel() }
            try await withTaskCancellationHandler { try await copy.value } onCancel: { copy.cancel() }
            let clientGone = copy.isCancelled
            if clientGone { return false }
            try await outbound.write(.end(nil))
            return keepAlive
        }
    }
}

extension Array where Element == String {
    fileprivate var pairOrSingle: (String, String) { (self.first ?? "", count > 1 ? self[1] : "") }
}

/// Decodes `%XX` escapes and `+` (as a space, for query strings) without Foundation.
public func percentDecode(_ s: String) -> String {
    guard s.contains("%") || s.contains("+") else { return s }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(s.utf8.count)
    var it = Array(s.utf8)[...]
    while let c = it.popFirst() {
        if c == UInt8(ascii: "+") { bytes.append(UInt8(ascii: " ")); continue }
        if c == UInt8(ascii: "%"), it.count >= 2, let hi = hexValue(it[it.startIndex]), let lo = hexValue(it[it.startIndex + 1]) {
            bytes.append(hi << 4 | lo)
            it = it.dropFirst(2)
            continue
        }
        bytes.append(c)
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Accepted connections from their channel initializer until the accept loop takes them. SwiftNIO traps
/// when an async channel is dropped unconsumed, and a connection accepted while the listener closes never
/// reaches the loop: holding it here keeps it alive until the server closes it (`stop`), and one that
/// arrives after `stop` is closed at once.
final class AcceptedConnections: Sendable {
    typealias Connection = ServedConnection
    private struct State { var waiting: [ObjectIdentifier: Connection] = [:]; var stopped = false }
    private let state = Mutex(State())

    func adopt(_ connection: Connection) {
        let id = ObjectIdentifier(connection.channel)
        let late = state.withLock { s -> Bool in
            if s.stopped { return true }
            s.waiting[id] = connection
            return false
        }
        if late { Task { await HTTPServer.discard(connection) } }
    }

    func taken(_ connection: Connection) {
        _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(connection.channel)) }
    }

    /// The connections never taken; later ones are closed as they come.
    func stop() -> [Connection] {
        state.withLock { s in
            s.stopped = true
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
    }
}
