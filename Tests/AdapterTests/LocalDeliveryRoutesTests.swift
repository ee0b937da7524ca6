import Foundation
import Netlink
import ProxyCore
import Testing

/// The userspace mode's policy route (`fwmark … lookup 27504` and `local default dev lo` there), programmed
/// through netlink in a throwaway namespace and read back with `ip`.
@Suite(.serialized, .enabled(if: NetnsSupport.isAvailable, "needs root and ip"))
struct LocalDeliveryRoutesTests {
    static let spec = LocalDeliveryRoutes.Spec(mark: UserspaceSteering.defaultMark, table: UserspaceSteering.routeTable,
                                               priority: UserspaceSteering.rulePriority, routeProtocol: HostGatewayRoutes.routeProtocol)

    @Test func ensureIsIdempotentAndRemoveTakesBothAway() throws {
        let node = try TestNetns("steer")
        defer { node.destroy() }
        let path = "/var/run/netns/\(node.name)"
        let counts = try NetworkNamespace.run(path: path) { () throws(NetlinkError) -> [Int] in
            let routes = try LocalDeliveryRoutes(Self.spec)
            try routes.ensure(family: AF_INET)
            try routes.ensure(family: AF_INET)
            try routes.ensure(family: AF_INET6)
            return [try routes.ruleCount(family: AF_INET), try routes.ruleCount(family: AF_INET6)]
        }
        #expect(counts == [1, 1], "a second ensure adds no second rule")
        let rules = try node.exec(["ip", "-4", "rule", "show", "pref", "\(UserspaceSteering.rulePriority)"])
        #expect(rules.contains("fwmark 0x8000/0x8000 lookup 27504"), "\(rules)")
        let route = try node.exec(["ip", "-4", "route", "show", "table", "\(UserspaceSteering.routeTable)"])
        #expect(route.contains("local default dev lo"), "\(route)")
        let route6 = try node.exec(["ip", "-6", "route", "show", "table", "\(UserspaceSteering.routeTable)"])
        #expect(route6.contains("local default dev lo"), "\(route6)")

        let removed = try NetworkNamespace.run(path: path) { () throws(NetlinkError) -> [Bool] in
            let routes = try LocalDeliveryRoutes(Self.spec)
            return [try routes.remove(family: AF_INET), try routes.remove(family: AF_INET)]
        }
        #expect(removed == [true, false], "removed once, then nothing left to remove")
        #expect(try node.exec(["ip", "-4", "rule", "show", "pref", "\(UserspaceSteering.rulePriority)"]).isEmpty)
        #expect(try node.exec(["ip", "-4", "route", "show", "table", "\(UserspaceSteering.routeTable)"]).isEmpty)
    }
}
