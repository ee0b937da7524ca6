import KubeAPI
import ProxyCore

@testable import BalancerCore
import Values

enum BC {
    static func ip(_ s: String) -> IPAddress { IPAddress(s) ?? IPAddress(ipv4: 0) }
    static let name = ServicePortName(namespace: "ns", name: "web", port: "http", protocol: .tcp)
    static let key = ListenerKey(name: name, scope: .cluster, family: .ipv4)
    static func endpoints(_ n: Int) -> [EndpointInfo] {
        (0..<n).map { EndpointInfo(address: ip("10.244.\($0 / 250).\($0 % 250 + 2)"), port: 8080, nodeName: "node-\($0 % 3)") }
    }
    static func set(_ n: Int, _ scheduler: SchedulerKind, affinity: Duration? = nil, health: HealthPolicy = HealthPolicy()) -> BackendSet {
        BackendSet(key: key, backends: endpoints(n).map(BackendStats.init), scheduler: scheduler, health: health,
                   affinity: affinity.map { AffinityTable(timeout: $0) })
    }
    /// Client addresses 10.0.x.y.
    static func client(_ i: Int) -> IPAddress { IPAddress(ipv4: 0x0a00_0000 | UInt32(i & 0xffff)) }
    static let second: Nanos = 1_000_000_000
}
