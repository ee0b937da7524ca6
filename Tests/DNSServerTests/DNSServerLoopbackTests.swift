@testable import DNSCore
import DNSServer
import Foundation
import KubeAPI
import Logging
import NIOCore
import NIOPosix
import Testing
import TestSupport
import Values

/// The DNS server in-process on loopback addresses, queried with `dig` over UDP and TCP, forwarding to a
/// dnsmasq it starts on another loopback address (no outside traffic). AdapterTests.DNSNetnsTests runs the same path
/// end to end inside a network namespace.
@Suite(.serialized) struct DNSServerLoopbackTests {
    static func run(_ tool: String, _ args: [String]) throws -> String { try ChildProcess.output(tool, args) }

    static func runOffPool(_ tool: String, _ args: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try ChildProcess.output(tool, args) }) }
        }
    }

    static func index() -> ServiceIndex {
        func meta(_ name: String) -> ObjectMeta { var m = ObjectMeta(); m.name = name; m.namespace = "default"; return m }
        var web = ServiceSpec()
        web.clusterIP = "10.96.0.20"; web.clusterIPs = ["10.96.0.20"]
        var http = ServicePort(); http.name = "http"; http.port = 80; http.protocol = .tcp
        web.ports = [http]
        var ext = ServiceSpec(); ext.type = .externalName; ext.externalName = "www.example.test"
        var big = ServiceSpec(); big.clusterIP = "None"; big.clusterIPs = ["None"]; big.ports = [http]
        var sliceMeta = meta("big-abc")
        sliceMeta.labels = [EndpointSlice.serviceNameLabel: "big"]
        let endpoints = (0..<200).map { Endpoint(addresses: ["10.244.\($0 / 250).\($0 % 250 + 1)"]) }
        return ServiceIndex.build(options: ZoneOptions(), services: [
            Service(metadata: meta("web"), spec: web), Service(metadata: meta("ext"), spec: ext), Service(metadata: meta("big"), spec: big),
        ], slices: [EndpointSlice(metadata: sliceMeta, addressType: .ipv4, endpoints: endpoints, ports: [EndpointPort(name: "http", protocol: .tcp, port: 80)])])
    }

    struct Harness {
        let dig: String
        let address: String
        let port: Int
        let server: DNSServer
        // dig runs on a Dispatch thread: the server forwards from Swift tasks, and the cooperative pool has
        // two threads on this machine, so a test must never block one of them waiting for a child process.
        func query(_ args: String...) async throws -> String {
            try await DNSServerLoopbackTests.runOffPool(dig, ["@\(address)", "-p", "\(port)", "+tries=1", "+time=3"] + args)
        }
        func short(_ args: String...) async throws -> [String] {
            try await DNSServerLoopbackTests.runOffPool(dig, ["@\(address)", "-p", "\(port)", "+tries=1", "+time=3", "+short"] + args)
                .split(separator: "\n").map(String.init).sorted()
        }
    }

    /// Starts dnsmasq and the server, runs `body`, stops both.
    func withServer(_ body: (Harness) async throws -> Void) async throws {
        let dig = try #require(which("dig"), "dig missing: run hack/install-deps.sh")
        let dnsmasqPath = try #require(which("dnsmasq"), "dnsmasq missing: run hack/install-deps.sh")
        let octet = Int.random(in: 100...250)
        let upstreamAddress = "127.0.0.\(octet)", serverAddress = "127.0.0.\(octet - 1)"
        let upstreamPort = Int.random(in: 20000...40000)
        let longText = String(repeating: "x", count: 250)
        let dnsmasq = try ChildProcess.spawn(dnsmasqPath, [
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces",
            "--listen-address=\(upstreamAddress)", "--port=\(upstreamPort)", "--user=root", "--pid-file=",
            "--address=/example.test/192.0.2.1",
        ] + (0..<10).map { "--txt-record=big.example.test,\($0)\(longText)" })
        defer { dnsmasq.stop() }
        // Wait (with a deadline) until dnsmasq answers.
        let deadline = ContinuousClock.now + .seconds(10)
        while try !Self.run(dig, ["@\(upstreamAddress)", "-p", "\(upstreamPort)", "+short", "+tries=1", "+time=1", "a.example.test"]).contains("192.0.2.1") {
            guard ContinuousClock.now < deadline, dnsmasq.isRunning else { Issue.record("dnsmasq did not start"); return }
            try await Task.sleep(for: .milliseconds(50))
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let logger = Logger(label: "dns-test")
        let forwarder = try await Forwarder.start(upstreams: [try SocketAddress(ipAddress: upstreamAddress, port: upstreamPort)],
                                                  timeout: .seconds(2), group: group, logger: logger)
        let processor = QueryProcessor(store: IndexStore(Self.index()), forwarder: forwarder, metrics: DNSMetrics(), logger: logger)
        let server = try await DNSServer.bind(host: serverAddress, port: 0, processor: processor, group: group, tcpIdleTimeout: .seconds(2))
        do {
            try await body(Harness(dig: dig, address: serverAddress, port: server.localAddress.port ?? 0, server: server))
        } catch {
            Issue.record(error)
        }
        await server.close()
        await forwarder.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func clusterNamesOverUDPAndTCP() async throws {
        try await withServer { (h: Harness) async throws in
            #expect(try await h.short("web.default.svc.cluster.local", "A") == ["10.96.0.20"])
            #expect(try await h.short("+tcp", "WEB.Default.svc.cluster.local", "A") == ["10.96.0.20"])
            #expect(try await h.short("_http._tcp.web.default.svc.cluster.local", "SRV") == ["0 100 80 web.default.svc.cluster.local."])
            #expect(try await h.short("-x", "10.96.0.20") == ["web.default.svc.cluster.local."])
            #expect(try await h.short("dns-version.cluster.local", "TXT") == ["\"1.1.0\""])
            let nx = try await h.query("nope.default.svc.cluster.local", "A")
            #expect(nx.contains("status: NXDOMAIN") && nx.contains("flags: qr aa rd ra"))
            let nodata = try await h.query("+tcp", "web.default.svc.cluster.local", "AAAA")
            #expect(nodata.contains("status: NOERROR") && nodata.contains("ANSWER: 0") && nodata.contains("AUTHORITY: 1"))
            // Several queries on one TCP connection.
            let many = try await h.query("+tcp", "+keepopen", "web.default.svc.cluster.local", "A", "ext.default.svc.cluster.local", "CNAME",
                                   "nope.default.svc.cluster.local", "A")
            #expect(many.components(separatedBy: "status: NOERROR").count == 3 && many.contains("status: NXDOMAIN"))
        }
    }

    @Test func truncationOverUDPAndFullAnswerOverTCP() async throws {
        try await withServer { (h: Harness) async throws in
            let udp = try await h.query("+ignore", "+bufsize=1232", "big.default.svc.cluster.local", "A")
            #expect(udp.contains(" tc"))
            #expect(udp.contains("udp: 1232"))
            #expect(try await h.short("+tcp", "big.default.svc.cluster.local", "A").count == 200)
            let plain = try await h.query("+ignore", "+noedns", "big.default.svc.cluster.local", "A")
            #expect(plain.contains(" tc") && !plain.contains("OPT PSEUDOSECTION"))
        }
    }

    @Test func forwardsOutOfZoneNamesToTheUpstream() async throws {
        try await withServer { (h: Harness) async throws in
            #expect(try await h.short("www.example.test", "A") == ["192.0.2.1"])
            #expect(try await h.short("+tcp", "www.example.test", "A") == ["192.0.2.1"])  // now from the cache
            #expect(try await h.short("ext.default.svc.cluster.local", "A") == ["192.0.2.1", "www.example.test."])
            // The upstream answer needs TCP (dnsmasq sets TC): the forwarder retries over TCP.
            #expect(try await h.short("+tcp", "big.example.test", "TXT").count == 10)
            let metrics = h.server.processor.metrics.render()
            #expect(metrics.contains("coredns_cache_hits_total"))
            #expect(metrics.contains("coredns_dns_responses_total{server=\"dns://:53\",zone=\".\",view=\"\",rcode=\"NOERROR\",plugin=\"\"}"))
        }
    }

    @Test func malformedPacketsGetFormErrOrAreDropped() async throws {
        try await withServer { (h: Harness) async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let (stream, continuation) = AsyncStream.makeStream(of: [UInt8].self)
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(Collector(continuation: continuation)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let target = try SocketAddress(ipAddress: h.address, port: h.port)
            func send(_ bytes: [UInt8]) async throws {
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes)))
            }
            try await send([0x12])  // no header: dropped
            try await send([0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1])  // pointer loop: FORMERR
            var iterator = stream.makeAsyncIterator()
            let reply = try #require(await iterator.next())
            let header = try #require(DNSMessage.header(of: reply))
            #expect(header.id == 0xABCD && header.isResponse && header.rcode == UInt8(DNSRCode.formErr.rawValue))
            #expect(try await h.short("web.default.svc.cluster.local", "A") == ["10.96.0.20"])  // still serving
            try await channel.close()
            try await group.shutdownGracefully()
        }
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let continuation: AsyncStream<[UInt8]>.Continuation
        init(continuation: AsyncStream<[UInt8]>.Continuation) { self.continuation = continuation }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            continuation.yield(Array(unwrapInboundIn(data).data.readableBytesView))
        }
    }

    /// The first query of a shape is answered in full and remembered; the next one of that shape (any case,
    /// any ID) comes from the cache with the same bytes as a full answer; a new index starts an empty cache.
    @Test func repeatedQueriesComeFromTheResponseCacheUntilTheIndexChanges() async throws {
        let store = IndexStore(Self.index())
        let processor = QueryProcessor(store: store, forwarder: nil, metrics: DNSMetrics(), logger: Logger(label: "test"))
        let udp = QueryProcessor.Transport(tcp: false, ipv6: false)
        func query(_ name: String, id: UInt16) -> [UInt8] {
            var header = DNSHeader(id: id)
            header.recursionDesired = true
            return DNSMessage(header: header, questions: [DNSQuestion(name: DNSName(name) ?? .root, type: .a)]).encode()
        }
        func full(_ packet: [UInt8]) async -> [UInt8] {
            await withCheckedContinuation { done in processor.handle(packet, transport: udp) { done.resume(returning: $0) } }
        }
        func cached(_ packet: [UInt8]) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: 4096)
            let length = packet.withUnsafeBytes { q in out.withUnsafeMutableBytes { processor.answerFromCache(q, transport: udp, into: $0) } }
            return length.map { Array(out.prefix($0)) }
        }
        let first = query("web.default.svc.cluster.local", id: 1), second = query("WEB.Default.svc.cluster.local", id: 2)
        #expect(cached(first) == nil, "nothing cached yet")
        _ = await full(first)
        let hit = try #require(cached(second))
        #expect(hit == (await full(second)))
        #expect(try DNSMessage.decode(hit).answers.first?.data == .a(IPAddress("10.96.0.20") ?? IPAddress(ipv4: 0)))
        // Misses (NXDOMAIN) are cached as well; forwarded names never are.
        _ = await full(query("nope.default.svc.cluster.local", id: 3))
        #expect(cached(query("nope.default.svc.cluster.local", id: 4)).map { $0[3] & 0x0F } == 3)
        _ = await full(query("www.example.test", id: 5))
        #expect(cached(query("www.example.test", id: 6)) == nil)

        // A rebuilt index (web moved) is answered afresh.
        func meta(_ name: String) -> ObjectMeta { var m = ObjectMeta(); m.name = name; m.namespace = "default"; return m }
        var moved = ServiceSpec()
        moved.clusterIP = "10.96.0.99"; moved.clusterIPs = ["10.96.0.99"]
        store.publish(ServiceIndex.build(options: ZoneOptions(), services: [Service(metadata: meta("web"), spec: moved)], slices: [EndpointSlice]()))
        #expect(cached(second) == nil)
        let answer = try DNSMessage.decode(await full(second))
        #expect(answer.answers.first?.data == .a(IPAddress("10.96.0.99") ?? IPAddress(ipv4: 0)))
    }

    /// The DNS informers keep trimmed objects: the index built from them equals the one built from the
    /// objects as the API serves them (labels, annotations, status, managed fields and all).
    @Test func trimmedObjectsBuildTheSameIndex() throws {
        func meta(_ name: String, labels: [String: String]? = nil) -> ObjectMeta {
            var m = ObjectMeta()
            m.name = name; m.namespace = "team"; m.uid = "uid-\(name)"; m.resourceVersion = "7"
            m.labels = (labels ?? [:]).merging(["app": name]) { a, _ in a }
            m.annotations = ["note": String(repeating: "x", count: 200)]
            m.managedFields = .array([.object(["manager": .string("kubectl")])])
            return m
        }
        var http = ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: .int(8080))
        http.appProtocol = "http"
        var web = ServiceSpec(); web.clusterIP = "10.96.0.20"; web.clusterIPs = ["10.96.0.20", "fd00::20"]; web.ports = [http]
        web.selector = ["app": "web"]; web.sessionAffinity = .clientIP
        var headless = ServiceSpec(); headless.clusterIP = "None"; headless.clusterIPs = ["None"]; headless.ports = [http]
        headless.publishNotReadyAddresses = true
        var ext = ServiceSpec(); ext.type = .externalName; ext.externalName = "www.example.test"
        var status = ServiceStatus(); status.loadBalancer = LoadBalancerStatus(ingress: [LoadBalancerIngress(ip: "203.0.113.1")])
        let services = [Service(metadata: meta("web"), spec: web, status: status), Service(metadata: meta("db"), spec: headless),
                        Service(metadata: meta("ext"), spec: ext)]
        var ref = ObjectReference(); ref.kind = "Pod"; ref.name = "db-0"; ref.namespace = "team"; ref.uid = "u"
        let endpoints = [
            Endpoint(addresses: ["10.244.1.5"], conditions: EndpointConditions(ready: true, serving: true, terminating: false),
                     hostname: "db-0", targetRef: ref, nodeName: "n1", zone: "z"),
            Endpoint(addresses: ["10.244.1.6"], conditions: EndpointConditions(ready: false, serving: true), targetRef: ref),
        ]
        let slice = EndpointSlice(metadata: meta("db-x", labels: [EndpointSlice.serviceNameLabel: "db", "kubernetes.io/managed-by": "x"]),
                                  addressType: .ipv4, endpoints: endpoints,
                                  ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080, appProtocol: "http")])
        var podStatus = PodStatus(); podStatus.podIP = "10.244.1.5"; podStatus.podIPs = [PodIP(ip: "10.244.1.5")]; podStatus.phase = .running
        let pods = [Pod(metadata: meta("db-0"), status: podStatus)]
        // The informer decodes the view straight from the API's JSON.
        for service in services {
            let json = try KubeJSON.encoder().encode(service)
            #expect(try KubeJSON.decoder().decode(DNSServiceView.self, from: json) == DNSServiceView(service))
        }
        for mode in PodRecordMode.allCases {
            let options = ZoneOptions(pods: mode, endpointPodNames: mode == .verified)
            let full = ServiceIndex.build(options: options, services: services, slices: [slice], pods: pods)
            let trimmed = ServiceIndex.build(options: options, services: services.map { DNSServiceView($0).service },
                                             slices: [DNSObjectTrim.endpointSlice(slice)], pods: pods.map(DNSObjectTrim.pod))
            #expect(full.nodes == trimmed.nodes, "\(mode)")
            #expect(full.clusterServices == trimmed.clusterServices && full.reverse == trimmed.reverse, "\(mode)")
            #expect(full.podIPs == trimmed.podIPs, "\(mode)")
            #expect(full.nameCount > 5)
        }
    }

    @Test func selfForwardingIsRecognised() throws {
        let listen = try SocketAddress(ipAddress: "0.0.0.0", port: 53)
        #expect(ResolvConf.isSelf(try SocketAddress(ipAddress: "127.0.0.53", port: 53), listen: listen))
        #expect(!ResolvConf.isSelf(try SocketAddress(ipAddress: "127.0.0.53", port: 5353), listen: listen))
        #expect(ResolvConf.nameservers(in: "# x\nnameserver 10.0.0.2\nsearch a\nnameserver fe80::1%eth0\nnameserver ::1\n").compactMap(\.ipAddress)
            == ["10.0.0.2", "::1"])
        #expect(try ResolvConf.parseUpstream("[::1]:5353").port == 5353)
        #expect(try ResolvConf.parseUpstream("1.1.1.1:54").port == 54)
    }
}
