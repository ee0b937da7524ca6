import DNSCore
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Serves DNS on one address over UDP (one SO_REUSEPORT socket per event loop) and TCP
/// (length-prefixed messages, several per connection, closed after an idle timeout).
public final class DNSServer: Sendable {
    public let processor: QueryProcessor
    /// The bound UDP address (port chosen by the kernel when asked for 0); TCP uses the same port.
    public let localAddress: SocketAddress
    private let udpChannels: [any Channel]
    private let tcpChannel: any Channel

    private init(processor: QueryProcessor, localAddress: SocketAddress, udpChannels: [any Channel], tcpChannel: any Channel) {
        self.processor = processor; self.localAddress = localAddress; self.udpChannels = udpChannels; self.tcpChannel = tcpChannel
    }

    /// Binds UDP and TCP on `host:port` (0 picks a free port, shared by both).
    public static func bind(host: String, port: Int, processor: QueryProcessor, group: MultiThreadedEventLoopGroup,
                            tcpIdleTimeout: TimeAmount = .seconds(10)) async throws -> DNSServer {
        var udp: [any Channel] = []
        var boundPort = port
        do {
            for loop in group.makeIterator() {
                let channel = try await DatagramBootstrap(group: loop)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .channelOption(ChannelOptions.Types.SocketOption(level: .socket, name: .init(rawValue: SO_REUSEPORT)), value: 1)
                    .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(UDPQueryHandler(processor: processor))
                        }
                    }
                    .bind(host: host, port: boundPort).get()
                if boundPort == 0 { boundPort = channel.localAddress?.port ?? 0 }
                udp.append(channel)
            }
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let ops = channel.pipeline.syncOperations
                        try ops.addHandler(IdleStateHandler(readTimeout: tcpIdleTimeout))
                        try ops.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                        try ops.addHandler(TCPQueryHandler(processor: processor))
                    }
                }
                .bind(host: host, port: boundPort).get()
            guard let address = udp.first?.localAddress else { throw ChannelError.unknownLocalAddress }
            return DNSServer(processor: processor, localAddress: address, udpChannels: udp, tcpChannel: tcp)
        } catch {
            for channel in udp { try? await channel.close() }
            throw error
        }
    }

    /// Closes every socket.
    public func close() async {
        for channel in udpChannels { try? await channel.close() }
        try? await tcpChannel.close()
    }
}

final class UDPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let processor: QueryProcessor
    init(processor: QueryProcessor) { self.processor = processor }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let channel = context.channel
        let remote = envelope.remoteAddress
        processor.handle(Array(envelope.data.readableBytesView), transport: .init(tcp: false, ipv6: remote.isIPv6)) { bytes in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: channel.allocator.buffer(bytes: bytes)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors and the like on an unconnected UDP socket: keep serving.
    }
}

final class TCPQueryHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let processor: QueryProcessor
    init(processor: QueryProcessor) { self.processor = processor }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let channel = context.channel
        let ipv6 = channel.remoteAddress?.isIPv6 ?? false
        processor.handle(Array(frame.readableBytesView), transport: .init(tcp: true, ipv6: ipv6)) { bytes in
            var out = channel.allocator.buffer(capacity: bytes.count + 2)
            out.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
            out.writeBytes(bytes)
            channel.writeAndFlush(out, promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
