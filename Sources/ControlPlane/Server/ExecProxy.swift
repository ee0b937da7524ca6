import Foundation
import HTTPServing
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// `pods/exec` over WebSocket (kubectl 1.32's `v5.channel.k8s.io`): the API server takes the upgrade,
/// finds the pod's node and opens a WebSocket to that node's agent (`/exec/…`, its bearer token, the
/// protocol the client chose), then relays the frames both ways unchanged until either side closes —
/// upstream's API server proxies exec to the kubelet the same way.
struct ExecProxy: WebSocketHandler {
    let pods: ResourceRegistry<Pod>
    let nodes: ResourceRegistry<Node>
    let token: String
    let logger: Logger

    /// `/api/v1/namespaces/{ns}/pods/{name}/exec` → (ns, name, query).
    static func target(_ uri: String) -> (String, String, String)? {
        let p = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let s = p[0].split(separator: "/").map(String.init)
        guard s.count == 7, s[0] == "api", s[1] == "v1", s[2] == "namespaces", s[4] == "pods", s[6] == "exec" else { return nil }
        return (s[3], s[5], p.count > 1 ? p[1] : "")
    }

    static func chosenProtocol(_ head: HTTPRequestHead) -> String? {
        RemoteCommand.negotiate(head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init))
    }

    func accept(_ head: HTTPRequestHead) -> HTTPHeaders? {
        guard let header = head.headers.first(name: "Authorization"), header.hasPrefix("Bearer "),
              constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8)),
              Self.target(head.uri) != nil, let chosen = Self.chosenProtocol(head) else { return nil }
        return ["Sec-WebSocket-Protocol": chosen]
    }

    func serve(_ head: HTTPRequestHead, _ socket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async {
        guard let (namespace, name, query) = Self.target(head.uri), let chosen = Self.chosenProtocol(head) else { return }
        do {
            try await socket.executeThenClose { inbound, outbound in
                let upstream: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
                do {
                    upstream = try await connect(namespace: namespace, name: name, query: query, protocol: chosen)
                } catch {
                    try? await outbound.write(Self.statusFrame(error))
                    try? await outbound.write(Self.closeFrame())
                    return
                }
                try await upstream.executeThenClose { nodeInbound, nodeOutbound in
                    // Frames keep their stream bytes; the client's are unmasked here and masked again toward the node.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await frame in inbound {
                                if frame.opcode == .ping { try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)); continue }
                                try await nodeOutbound.write(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, maskKey: .random(), data: frame.unmaskedData))
                                if frame.opcode == .connectionClose { return }
                            }
                        }
                        group.addTask {
                            for try await frame in nodeInbound {
                                try await outbound.write(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData))
                                if frame.opcode == .connectionClose { return }
                            }
                        }
                        // Either side ending ends the session.
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
            }
        } catch {
            logger.debug("exec relay ended: \(error)")
        }
    }

    private enum Upgrade: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    private func connect(namespace: String, name: String, query: String, protocol chosen: String) async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let request = RemoteCommand.Request(query: query)
        let target = try await NodeTarget.resolve(pods: pods, nodes: nodes, namespace: namespace, name: name, container: request.container)
        let (address, port, container, nodeName) = (target.address, target.port, target.container, target.node)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none  // node certificates are self-signed; upstream's default does not verify them
        let context = try NIOSSLContext(configuration: tls)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(target.host):\(port)")
        headers.add(name: "Authorization", value: "Bearer \(token)")
        headers.add(name: "Sec-WebSocket-Protocol", value: chosen)
        headers.add(name: "Content-Length", value: "0")
        let path = "/exec/\(namespace)/\(name)/\(container)" + (request.query.isEmpty ? "" : "?" + request.query)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let negotiated = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: address, port: port) { channel -> EventLoopFuture<EventLoopFuture<Upgrade>> in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: HTTPServer.maxFrameBytes) { channel, _ in
                        channel.eventLoop.makeCompletedFuture { .upgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel)) }
                    }
                    let config = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                channel.close(promise: nil)
                                return .refused
                            }
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: config))
                }
            }
        switch try await negotiated.get() {
        case .upgraded(let channel): return channel
        case .refused: throw Status.badRequest("node \(nodeName) refused the exec stream")
        }
    }

    static func statusFrame(_ error: any Error) -> WebSocketFrame {
        let status = (error as? Status) ?? Status.internalError("\(error)")
        var bytes: [UInt8] = [3]
        bytes += Array((try? KubeJSON.encode(status)) ?? Data())
        return WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes))
    }

    static func closeFrame() -> WebSocketFrame {
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .normalClosure)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
    }
}

enum ExecSubresource {
    /// Discovery's `pods/exec`; a request that is not a WebSocket upgrade is refused as upstream refuses it.
    static func make() -> (String, ExtraSubresource) {
        let entry = APIResource(name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"])
        let handler: @Sendable (ResourceRequest) async throws -> HTTPResponse = { _ in
            throw Status.badRequest("Upgrade request required")
        }
        return ("exec", ExtraSubresource(discovery: entry, handle: handler))
    }
}
