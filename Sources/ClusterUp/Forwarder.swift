import Glibc
import LinuxSystem
import Logging
import Netlink
import NIOCore
import NIOPosix

/// Forwards TCP connections from a listener in this process's namespace (the host's loopback) to an
/// address inside another network namespace, so host tools (kubectl) reach the control plane without
/// any address or route in the host's namespace. Each upstream socket is created by a short-lived thread
/// that has joined the target namespace (a socket belongs to the namespace it was created in), connected
/// there, and handed to NIO; bytes then flow both ways with back-pressure and half-close.
public final class Forwarder: Sendable {
    public let port: Int
    private let channel: Channel

    private init(port: Int, channel: Channel) { self.port = port; self.channel = channel }

    /// Listens on `host:port` (port 0: any free one) and forwards to `target:targetPort` inside `netnsPath`.
    public static func start(group: EventLoopGroup, host: String, port: Int, netnsPath: String, target: String, targetPort: Int,
                             logger: Logger) async throws -> Forwarder {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { client in
                let connected = client.eventLoop.makePromise(of: Int32.self)
                // The blocking part (setns, connect on the segment) on a thread of its own, off the event loop.
                do {
                    try OSThread {
                        do throws(NetlinkError) {
                            let fd = try NetworkNamespace.run(path: netnsPath) { () throws(NetlinkError) in try connectBlocking(target, targetPort) }
                            connected.succeed(fd)
                        } catch { connected.fail(error) }
                    }.start()
                } catch { connected.fail(error) }
                return connected.futureResult.flatMap { fd in
                    ClientBootstrap(group: client.eventLoop)
                        .channelOption(.allowRemoteHalfClosure, value: true)
                        .channelOption(.autoRead, value: false)
                        .withConnectedSocket(fd)
                }.flatMap { upstream in
                    let (a, b) = Splice.pair()
                    return client.pipeline.addHandler(a).flatMap { upstream.pipeline.addHandler(b) }
                }.flatMapErrorThrowing { error in
                    logger.warning("forwarder: cannot reach \(target):\(targetPort) in \(netnsPath): \(error)")
                    throw error
                }
            }
            .bind(host: host, port: port).get()
        return Forwarder(port: channel.localAddress?.port ?? port, channel: channel)
    }

    public func close() async { try? await channel.close() }

    static func connectBlocking(_ host: String, _ port: Int) throws(NetlinkError) -> Int32 {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { throw NetlinkError(code: EINVAL, operation: "parse address", object: host) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw NetlinkError(code: errno, operation: "socket", object: host) }
        let (rc, e) = Sys.retrying { withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } }
        if rc != 0 && e != EISCONN {
            Sys.close(fd)
            throw NetlinkError(code: e, operation: "connect", object: "\(host):\(port)")
        }
        return fd
    }
}

/// The two ends of one forwarded connection: what one side reads the other writes; reading pauses while
/// the other side cannot take more (back-pressure); an end of input is passed on as a half-close, and a
/// side's close closes the other only after what was queued for it is written.
/// `@unchecked Sendable`: both handlers of a pair live on one event loop and touch each other only there.
final class Splice: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var partner: Splice?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    private var inputClosed = false
    /// How long queued bytes may wait for a peer that does not read once the other side is gone.
    static let lingerTimeout = TimeAmount.seconds(30)

    static func pair() -> (Splice, Splice) {
        let a = Splice(), b = Splice()
        a.partner = b; b.partner = a
        return (a, b)
    }

    // autoRead is off; the first read is asked for once the channel is active (a read before is dropped).
    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { context.read() }
    }
    func channelActive(context: ChannelHandlerContext) {
        context.read()
        context.fireChannelActive()
    }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil; partner = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.send(unwrapInboundIn(data)) }
    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flushOut()
        // autoRead is off: ask for the next read only while the other side can take it.
        if partner?.context?.channel.isWritable ?? false { context.read() } else { pendingRead = true }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.resumeReading() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            partner?.halfClose()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.closeOut()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }

    // Called by the partner (both channels share one event loop).
    private func send(_ buffer: ByteBuffer) { context?.write(wrapOutboundOut(buffer), promise: nil) }
    private func flushOut() { context?.flush() }
    private func resumeReading() {
        guard let context, pendingRead else { return }
        pendingRead = false
        context.read()
    }
    /// The other side sent FIN: once everything queued here is written, this side's output ends too (a
    /// full close when its input has ended already, which NIO would otherwise turn it into, dropping writes).
    private func halfClose() { afterQueuedWrites(fullClose: false) }

    /// The other side is gone: close once everything queued here is written (or after `lingerTimeout`).
    private func closeOut() { afterQueuedWrites(fullClose: true) }

    private func afterQueuedWrites(fullClose: Bool) {
        guard let context else { return }
        let linger = context.eventLoop.scheduleTask(in: Self.lingerTimeout) { [self] in self.context?.close(promise: nil) }
        // Writes complete in order: an empty one completes after all that were queued before it.
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).whenComplete { [self] _ in
            linger.cancel()
            self.context?.close(mode: fullClose || self.inputClosed ? .all : .output, promise: nil)
        }
    }
}
