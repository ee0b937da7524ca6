import Foundation
import Glibc
import KubeAPI
import Logging
import ProxyCore
import ProxyDaemon
import Testing
import TestSupport

/// The health-check NodePorts of `externalTrafficPolicy: Local` Services, served in process on loopback:
/// 200 with local endpoints, 503 without, closed when the Service goes.
@Suite struct HealthServersTests {
    /// One HTTP/1.0 GET over a plain socket: the status code and body, or nil when nothing listens.
    static func get(port: Int) -> (code: Int, body: String)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET / HTTP/1.0\r\nHost: node\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        let code = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (code, body)
    }

    /// A port nothing listens on now (the kernel's pick for a socket bound to port 0, closed again).
    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    static func state(port: Int, endpoints: [(ip: String, node: String)]) -> ProxyState {
        var spec = ServiceSpec(type: .loadBalancer, ports: [ServicePort(name: "http", protocol: .tcp, port: 80, targetPort: .int(8080), nodePort: 31000)],
                               clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"])
        spec.externalTrafficPolicy = .local
        spec.healthCheckNodePort = port
        let service = Service(metadata: ObjectMeta(name: "web", namespace: "team-a"), spec: spec)
        let slice = EndpointSlice(metadata: ObjectMeta(name: "web-1", namespace: "team-a", labels: [EndpointSlice.serviceNameLabel: "web"]),
                                  addressType: .ipv4,
                                  endpoints: endpoints.map { Endpoint(addresses: [$0.ip], conditions: EndpointConditions(ready: true), nodeName: $0.node) },
                                  ports: [EndpointPort(name: "http", protocol: .tcp, port: 8080)])
        return ProxyState(services: [service], endpointSlices: [slice])
    }

    @Test func answersByLocalEndpointsAndClosesWithTheService() async throws {
        var logger = Logger(label: "health-test")
        logger.logLevel = .critical
        let servers = ServiceHealthServers(bindAddress: "127.0.0.1", logger: logger)
        let port = try #require(Self.freePort(), "a free loopback port")
        await servers.update(state: Self.state(port: port, endpoints: [("10.244.1.2", "node-a"), ("10.244.2.2", "node-b")]), nodeName: "node-a")
        let healthy = try #require(Self.get(port: port), "the health-check port listens")
        #expect(healthy.code == 200)
        #expect(healthy.body == #"{"service":{"namespace":"team-a","name":"web"},"localEndpoints":1,"serviceProxyHealthy":true}"#)

        await servers.update(state: Self.state(port: port, endpoints: [("10.244.2.2", "node-b")]), nodeName: "node-a")
        let drained = try #require(Self.get(port: port))
        #expect(drained.code == 503 && drained.body.contains(#""localEndpoints":0"#), "no local endpoint: load balancers must skip this node")

        await servers.update(state: ProxyState(services: [], endpointSlices: []), nodeName: "node-a")
        #expect(await waitUntil(within: .seconds(5)) { Self.get(port: port) == nil }, "the port closes with the Service")
        await servers.stopAll()
    }
}
