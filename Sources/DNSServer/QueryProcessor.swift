import DNSCore
import Logging
import Synchronization

/// Turns one query packet into one response packet: cluster names from the current index on the
/// calling thread, other names from the cache or (asynchronously) from the upstreams.
public final class QueryProcessor: Sendable {
    public let store: IndexStore
    public let forwarder: Forwarder?
    public let metrics: DNSMetrics
    private let cache: Mutex<DNSCache>
    let logger: Logger
    private let epoch = ContinuousClock.now
    /// A random name sent upstream once at start; seeing it arrive here means an upstream forwards back to us.
    public let loopProbe: DNSName

    /// How the query arrived: decides the response size limit and metric labels.
    public struct Transport: Sendable {
        public var tcp: Bool
        public var ipv6: Bool
        public init(tcp: Bool, ipv6: Bool) { self.tcp = tcp; self.ipv6 = ipv6 }
    }

    public init(store: IndexStore, forwarder: Forwarder?, metrics: DNSMetrics, cacheCapacity: Int = 10_000, logger: Logger) {
        self.store = store; self.forwarder = forwarder; self.metrics = metrics; self.logger = logger
        cache = Mutex(DNSCache(capacity: cacheCapacity))
        let token = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        loopProbe = DNSName("\(token).kproxy-loop-probe") ?? .root
    }

    /// Answers a plain query whose response for this index is already known, writing it into `out`;
    /// returns its length, or nil when `handle` must answer (the first time, forwarded names, anything
    /// unusual). No allocation beyond the cache key.
    public func answerFromCache(_ packet: UnsafeRawBufferPointer, transport: Transport, into out: UnsafeMutableRawBufferPointer) -> Int? {
        let start = ContinuousClock.now
        guard let shape = DNSQueryShape.parse(packet, tcp: transport.tcp) else { return nil }
        let snapshot = store.snapshot
        guard let template = snapshot.responses.get(shape.key),
              let length = shape.patch(template, query: packet, into: out) else { return nil }
        let typeOffset = 12 + shape.questionLength - 4
        let type = DNSType(rawValue: UInt16(packet[typeOffset]) << 8 | UInt16(packet[typeOffset + 1]))
        metrics.request(tcp: transport.tcp, ipv6: transport.ipv6, type: type)
        metrics.response(DNSRCode(rawValue: UInt16(out[3] & 0x0F)), type: type, duration: ContinuousClock.now - start)
        return length
    }

    /// Answers `packet`; `reply` is called once with the response bytes (now, or later for
    /// forwarded names) or never when the packet is dropped (no header, or itself a response).
    public func handle(_ packet: [UInt8], transport: Transport, reply: @escaping @Sendable ([UInt8]) -> Void) {
        let start = ContinuousClock.now
        let query: DNSMessage
        do {
            query = try DNSMessage.decode(packet)
        } catch {
            guard let header = DNSMessage.header(of: packet), !header.isResponse else {
                metrics.drop()
                return
            }
            var h = DNSHeader(id: header.id)
            h.isResponse = true; h.opcode = header.opcode; h.recursionDesired = header.recursionDesired
            h.rcode = UInt8(DNSRCode.formErr.rawValue)
            metrics.request(tcp: transport.tcp, ipv6: transport.ipv6, type: nil)
            metrics.response(.formErr, type: nil, duration: ContinuousClock.now - start)
            reply(DNSMessage(header: h).encode())
            return
        }
        guard !query.header.isResponse else { metrics.drop(); return }
        let type = query.questions.first?.type
        metrics.request(tcp: transport.tcp, ipv6: transport.ipv6, type: type)
        let limit = DNSQueryShape.responseLimit(tcp: transport.tcp, udpPayloadSize: query.edns?.udpPayloadSize)
        // RA set, the response counted and encoded within the size limit.
        let respond: @Sendable (DNSMessage) -> [UInt8] = { [metrics] response in
            var r = response
            r.header.recursionAvailable = true
            metrics.response(r.rcode, type: type, duration: ContinuousClock.now - start)
            return r.encode(maxSize: limit)
        }
        let finish: @Sendable (DNSMessage) -> Void = { reply(respond($0)) }
        let snapshot = store.snapshot
        switch ZoneAnswerer.answer(query, index: snapshot.index) {
        case .response(let response):
            // Authoritative answers of a synced index depend only on the question: keep the wire form for
            // the next query of the same shape (truncated ones are redone, so TCP retries get them whole).
            let bytes = respond(response)
            if snapshot.index.synced, response.rcode == .noError || response.rcode == .nxDomain,
               bytes.count >= 4, bytes[2] & 0x02 == 0,
               let shape = packet.withUnsafeBytes({ DNSQueryShape.parse($0, tcp: transport.tcp) }) {
                snapshot.responses.put(shape.key, bytes)
            }
            reply(bytes)
        case .forward:
            guard let q = query.questions.first else { return finish(.response(to: query, rcode: .formErr)) }
            if q.name == loopProbe, let forwarder {
                logger.error("forwarding loop: an upstream sent our probe \(q.name) back; forwarding disabled")
                forwarder.disable(loopThrough: forwarder.upstreams.map { "\($0)" }.joined(separator: ","))
                return finish(.response(to: query, rcode: .servFail))
            }
            if let cached = cachedAnswer(q, query: query) { return finish(cached) }
            guard let forwarder else { return finish(.response(to: query, rcode: .refused)) }
            Task {
                finish(await self.forward(q, query: query, through: forwarder))
            }
        case .chase(let partial, let target, let type):
            let q = DNSQuestion(name: target, type: type)
            var r = partial
            if let cached = cachedAnswer(q, query: query) {
                r.answers += cached.answers
                return finish(r)
            }
            guard let forwarder else { return finish(partial) }
            Task {
                let upstream = await self.forward(q, query: query, through: forwarder)
                if upstream.rcode == .noError { r.answers += upstream.answers }
                finish(r)
            }
        }
    }

    private var now: UInt64 { UInt64((ContinuousClock.now - epoch).components.seconds) }

    /// A cached upstream answer shaped as the response to `query`.
    private func cachedAnswer(_ q: DNSQuestion, query: DNSMessage) -> DNSMessage? {
        let key = DNSCache.Key(q, dnssecOK: query.edns?.dnssecOK ?? false)
        let now = self.now
        guard let (message, kind) = cache.withLock({ $0.lookup(key, now: now) }) else {
            metrics.cacheMiss()
            return nil
        }
        metrics.cacheHit(kind)
        return shaped(message, for: query)
    }

    /// Resolves `q` upstream (storing the answer in the cache), shaped as the response to `query`.
    private func forward(_ q: DNSQuestion, query: DNSMessage, through forwarder: Forwarder) async -> DNSMessage {
        var upstreamQuery = DNSMessage(header: query.header, questions: [q], edns: query.edns)
        upstreamQuery.header.isResponse = false
        do {
            let response = try await forwarder.resolve(upstreamQuery)
            let key = DNSCache.Key(q, dnssecOK: query.edns?.dnssecOK ?? false)
            let now = self.now
            cache.withLock { _ = $0.store(key, response: response, now: now) }
            return shaped(response, for: query)
        } catch {
            logger.debug("forwarding \(q.name) \(q.type) failed: \(error)")
            return .response(to: query, rcode: .servFail)
        }
    }

    /// Copies an upstream response's sections and code into a response to the client's query.
    private func shaped(_ upstream: DNSMessage, for query: DNSMessage) -> DNSMessage {
        var r = DNSMessage.response(to: query)
        r.header.authenticData = upstream.header.authenticData
        r.answers = upstream.answers
        r.authority = upstream.authority
        r.additional = upstream.additional
        r.rcode = upstream.rcode
        return r
    }

    /// Sends the loop probe upstream once (CoreDNS's `loop` plugin); a loop shows up in `handle`.
    public func probeForLoops() async {
        guard let forwarder else { return }
        _ = try? await forwarder.resolve(DNSMessage(questions: [DNSQuestion(name: loopProbe, type: .hinfo)]))
    }
}
