import CLinuxExtras
import DNSCore
import Foundation
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Serves DNS on one address over UDP (one SO_REUSEPORT socket per thread, see `UDPWorker`) and TCP
/// (length-prefixed messages, several per connection, closed after an idle timeout, on the event loops).
public final class DNSServer: Sendable {
    public let processor: QueryProcessor
    /// The bound UDP address (port chosen by the kernel when asked for 0); TCP uses the same port.
    public let localAddress: SocketAddress
    private let udpWorkers: [UDPWorker]
    private let tcpChannel: any Channel

    private init(processor: QueryProcessor, localAddress: SocketAddress, udpWorkers: [UDPWorker], tcpChannel: any Channel) {
        self.processor = processor; self.localAddress = localAddress; self.udpWorkers = udpWorkers; self.tcpChannel = tcpChannel
    }

    /// Binds UDP and TCP on `host:port` (0 picks a free port, shared by both): one UDP socket and thread
    /// per event loop of `group`, TCP on `group`.
    public static func bind(host: String, port: Int, processor: QueryProcessor, group: MultiThreadedEventLoopGroup,
                            tcpIdleTimeout: TimeAmount = .seconds(10)) async throws -> DNSServer {
        try await bind(host: host, port: port, processor: processor, group: group, tcpIdleTimeout: tcpIdleTimeout) { kp_recvmmsg($0, $1, $2) }
    }

    /// `bind` with the UDP workers' receive call given (tests inject failures).
    static func bind(host: String, port: Int, processor: QueryProcessor, group: MultiThreadedEventLoopGroup,
                     tcpIdleTimeout: TimeAmount, receive: @escaping UDPWorker.Receive) async throws -> DNSServer {
        var udp: [UDPWorker] = []
        var boundPort = port
        do {
            for _ in group.makeIterator() {
                let worker = try UDPWorker(address: try SocketAddress.makeAddressResolvingHost(host, port: boundPort), processor: processor,
                                           logger: processor.logger, receive: receive)
                if boundPort == 0 { boundPort = worker.localAddress.port ?? 0 }
                udp.append(worker)
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
            for worker in udp { worker.start() }
            return DNSServer(processor: processor, localAddress: address, udpWorkers: udp, tcpChannel: tcp)
        } catch {
            for worker in udp { Glibc.close(worker.fd) }
            throw error
        }
    }

    /// Closes every socket (the UDP threads end within their receive timeout).
    public func close() async {
        let workers = udpWorkers
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            // `stop` waits for a thread: not on the cooperative pool.
            Thread {
                for worker in workers { worker.stop() }
                done.resume()
            }.start()
        }
        try? await tcpChannel.close()
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
        let transport = QueryProcessor.Transport(tcp: true, ipv6: ipv6)
        var out = channel.allocator.buffer(capacity: 2 + 4096)
        let written = frame.withUnsafeReadableBytes { query in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: 2 + 4096) { space in
                guard let n = processor.answerFromCache(query, transport: transport, into: UnsafeMutableRawBufferPointer(rebasing: space.dropFirst(2))) else { return 0 }
                space[0] = UInt8(n >> 8)
                space[1] = UInt8(n & 0xFF)
                return 2 + n
            }
        }
        if written > 0 {
            context.writeAndFlush(NIOAny(out), promise: nil)
            return
        }
        processor.handle(Array(frame.readableBytesView), transport: transport) { bytes in
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
