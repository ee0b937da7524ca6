import DNSCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Why forwarding failed.
public enum ForwardError: Error, Sendable, Hashable {
    case noUpstreams
    /// Every upstream timed out or failed.
    case unreachable
    /// Forwarding was switched off because an upstream sent our own queries back to us.
    case loopDetected(upstream: String)
}

/// Sends queries to upstream resolvers over UDP from one shared socket per address family,
/// matching answers by id, source and question; retries over TCP when the answer is truncated.
/// Upstreams are tried in order, each with a timeout.
public final class Forwarder: Sendable {
    public let upstreams: [SocketAddress]
    public let timeout: TimeAmount
    private let group: any EventLoopGroup
    private let logger: Logger
    private let channels: [Bool: any Channel]
    private let pending = Mutex<[UInt16: Pending]>([:])
    private let loop = Mutex<String?>(nil)

    struct Pending {
        var upstream: SocketAddress
        var question: DNSQuestion?
        var continuation: CheckedContinuation<DNSMessage, any Error>
    }

    private init(upstreams: [SocketAddress], timeout: TimeAmount, group: any EventLoopGroup, logger: Logger,
                 channels: [Bool: any Channel]) {
        self.upstreams = upstreams; self.timeout = timeout; self.group = group; self.logger = logger; self.channels = channels
    }

    /// Opens the UDP sockets (one per family among the upstreams).
    public static func start(upstreams: [SocketAddress], timeout: TimeAmount = .seconds(2), group: any EventLoopGroup,
                             logger: Logger) async throws -> Forwarder {
        var channels: [Bool: any Channel] = [:]
        let box = ForwarderBox()
        for address in upstreams where channels[address.isIPv6] == nil {
            let host = address.isIPv6 ? "::" : "0.0.0.0"
            channels[address.isIPv6] = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(box: box)) }
                }
                .bind(host: host, port: 0).get()
        }
        let forwarder = Forwarder(upstreams: upstreams, timeout: timeout, group: group, logger: logger, channels: channels)
        box.forwarder.withLock { $0 = forwarder }
        return forwarder
    }

    /// Closes the sockets; pending queries fail.
    public func shutdown() async {
        for channel in channels.values { try? await channel.close() }
        let waiting = pending.withLock { p in defer { p.removeAll() }; return p }
        for p in waiting.values { p.continuation.resume(throwing: ForwardError.unreachable) }
    }

    /// Stops all forwarding (used when a loop is detected).
    public func disable(loopThrough upstream: String) { loop.withLock { $0 = upstream } }

    /// Resolves `query` upstream and returns the upstream's response (its id is the one sent, not the client's).
    public func resolve(_ query: DNSMessage) async throws -> DNSMessage {
        if let upstream = loop.withLock({ $0 }) { throw ForwardError.loopDetected(upstream: upstream) }
        guard !upstreams.isEmpty else { throw ForwardError.noUpstreams }
        var outgoing = query
        outgoing.header.isResponse = false
        outgoing.header.recursionDesired = true
        if outgoing.edns == nil { outgoing.edns = EDNS() } else { outgoing.edns?.udpPayloadSize = EDNS.advertisedPayloadSize; outgoing.edns?.options = [] }
        for attempt in 0..<2 {
            for upstream in upstreams {
                do {
                    let response = try await udp(outgoing, to: upstream)
                    if response.header.truncated { return try await tcp(outgoing, to: upstream) }
                    return response
                } catch {
                    logger.debug("upstream \(upstream) failed (attempt \(attempt + 1)): \(error)")
                }
            }
        }
        throw ForwardError.unreachable
    }

    private func udp(_ query: DNSMessage, to upstream: SocketAddress) async throws -> DNSMessage {
        guard let channel = channels[upstream.isIPv6] else { throw ForwardError.unreachable }
        var q = query
        let question = query.questions.first
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<DNSMessage, any Error>) in
            let id: UInt16 = pending.withLock { p in
                var id = UInt16.random(in: 0...UInt16.max)
                while p[id] != nil { id = UInt16.random(in: 0...UInt16.max) }
                p[id] = Pending(upstream: upstream, question: question, continuation: c)
                return id
            }
            q.header.id = id
            let buffer = channel.allocator.buffer(bytes: q.encode())
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: upstream, data: buffer)).whenFailure { [self] error in
                complete(id: id, from: nil, with: .failure(error))
            }
            channel.eventLoop.scheduleTask(in: timeout) { [self] in
                complete(id: id, from: nil, with: .failure(ForwardError.unreachable))
            }
        }
    }

    /// Called with each datagram from an upstream; ignores strays and spoofs.
    func received(_ bytes: [UInt8], from source: SocketAddress) {
        guard let message = try? DNSMessage.decode(bytes), message.header.isResponse else { return }
        let matches = pending.withLock { p in
            p[message.header.id].map { $0.upstream == source && ($0.question == nil || message.questions.first == $0.question) } ?? false
        }
        if matches { complete(id: message.header.id, from: source, with: .success(message)) }
    }

    private func complete(id: UInt16, from source: SocketAddress?, with result: Result<DNSMessage, any Error>) {
        pending.withLock { $0.removeValue(forKey: id) }?.continuation.resume(with: result)
    }

    /// One query over a fresh TCP connection (RFC 7766 length prefix).
    private func tcp(_ query: DNSMessage, to upstream: SocketAddress) async throws -> DNSMessage {
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(to: upstream) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let bytes = query.encode()
        var framed = ByteBuffer()
        framed.writeInteger(UInt16(truncatingIfNeeded: bytes.count))
        framed.writeBytes(bytes)
        let deadline = timeout
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(framed)
            return try await withThrowingTaskGroup(of: DNSMessage.self) { group in
                group.addTask {
                    for try await frame in inbound {
                        let message = try DNSMessage.decode(Array(frame.readableBytesView))
                        if message.header.id == query.header.id { return message }
                    }
                    throw ForwardError.unreachable
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(deadline.nanoseconds))
                    throw ForwardError.unreachable
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw ForwardError.unreachable }
                return first
            }
        }
    }
}

/// Lets the channel handler reach the forwarder that owns its channel (set once after binding).
final class ForwarderBox: Sendable {
    let forwarder = Mutex<Forwarder?>(nil)
}

final class UpstreamResponseHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let box: ForwarderBox
    init(box: ForwarderBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        box.forwarder.withLock { $0 }?.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }
}

/// Splits a TCP byte stream into DNS messages (two-byte length prefix, RFC 1035 §4.2.2).
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

extension SocketAddress {
    /// True for IPv6 socket addresses (upstreams are grouped by family, one UDP socket each).
    var isIPv6: Bool {
        if case .v6 = self { return true }
        return false
    }
}
