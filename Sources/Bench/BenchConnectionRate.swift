import Foundation
import KubeAPI
import NFTables
import ProxyCore
import Values
#if canImport(Glibc)
import Glibc
#endif

/// New TCP connections per second through a ClusterIP, with few and with many services installed: the
/// service lookup is a hash map, so the rate should not depend on how many services there are.
///
/// Each measured namespace holds a veth pair (10.244.0.1/24 on one end, the route to the service CIDR), the
/// endpoints' addresses on `lo`, the compiled ruleset and one listener; a client in the namespace connects
/// to the first service's ClusterIP (DNAT to one of its endpoints), and resets each connection on close so
/// no TIME_WAIT state builds up. Rounds alternate between the namespaces so drift hits both alike.
package struct ConnectionRateBench {
    package struct Setup {
        package let netns: Netns
        /// Services installed; nil for the hand-written single DNAT rule.
        package let services: Int?
        package var label: String { services.map { "\($0) services" } ?? "one DNAT rule" }
    }

    /// Median rates: per Service count, and through a hand-written single DNAT rule.
    package struct Result {
        package var rates: [(services: Int, perSecond: Double)]
        package var singleRule: Double
        package var json: [String: Any] {
            ["single_dnat_rule_per_second": singleRule,
             "by_services": rates.map { ["services": $0.services, "per_second": $0.perSecond, "vs_single_rule": $0.perSecond / singleRule] }]
        }
    }

    package static let endpointBase: UInt32 = 0x0AF4_0002  // 10.244.0.2
    package static let endpoints = 10
    package static let targetPort: UInt16 = 8080

    /// Services that all balance over the same `endpoints` local addresses.
    package static func state(services: Int) -> ProxyState {
        var ports: [ServicePortName: ServicePortInfo] = [:]
        var eps: [ServicePortName: [EndpointInfo]] = [:]
        for i in 0..<services {
            let name = ServicePortName(namespace: "bench", name: "svc-\(i)", port: "http", protocol: .tcp)
            ports[name] = ServicePortInfo(name: name, clusterIPs: [IPAddress(ipv4: 0x0A60_0000 + UInt32(i + 10))], port: 80)
            eps[name] = (0..<endpoints).map { e in
                EndpointInfo(address: IPAddress(ipv4: endpointBase + UInt32(e)), port: targetPort, nodeName: "bench")
            }
        }
        return ProxyState(services: ports, endpoints: eps)
    }

    /// `services` Services compiled by kproxy, or (nil) one hand-written rule DNATing the ClusterIP to the
    /// first endpoint: `ip daddr 10.96.0.10 tcp dport 80 dnat to 10.244.0.2:8080`.
    package static func prepare(services: Int?) throws -> Setup {
        let ns = try Netns("c\(services ?? 0)")
        let exec = ["ip", "netns", "exec", ns.name]
        do {
            try Shell.run(exec + ["ip", "link", "set", "lo", "up"])
            try Shell.run(exec + ["ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"])
            try Shell.run(exec + ["ip", "addr", "add", "10.244.0.1/24", "dev", "d0"])
            try Shell.run(exec + ["ip", "link", "set", "d1", "up"])
            try Shell.run(exec + ["ip", "link", "set", "d0", "up"])
            try Shell.run(exec + ["ip", "route", "add", "10.96.0.0/12", "dev", "d0"])
            for e in 0..<endpoints {
                try Shell.run(exec + ["ip", "addr", "add", "\(IPAddress(ipv4: endpointBase + UInt32(e)))/32", "dev", "lo"])
            }
            if let services {
                let compiler = RulesetCompiler(config: ProxyConfig(families: [.ip], clusterCIDRs: [CIDR("10.244.0.0/16")].compactMap { $0 }),
                                               node: NodeInfo(name: "bench"))
                try NetlinkRulesetApplier(namespace: .named(ns.name)).applyFull(compiler.compile(state(services: services)))
            } else {
                try Shell.run(exec + ["nft", "add table ip single; add chain ip single out { type nat hook output priority -100; }; "
                                      + "add rule ip single out ip daddr 10.96.0.10 tcp dport 80 dnat to \(IPAddress(ipv4: endpointBase)):\(targetPort)"])
            }
        } catch {
            ns.delete()
            throw error
        }
        return Setup(netns: ns, services: services)
    }

    package struct Failed: Error, CustomStringConvertible { package var description: String }

    /// Connections per second to the first service's ClusterIP (10.96.0.10:80) for `seconds`.
    package static func measure(_ setup: Setup, seconds: Double) throws -> Double {
        let netns = NetnsReference.named(setup.netns.name)
        let listener: Int32 = try netns.run {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failed(description: "socket: \(String(cString: strerror(errno)))") }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = targetPort.bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, 4096) == 0 else {
                close(fd)
                throw Failed(description: "bind/listen: \(String(cString: strerror(errno)))")
            }
            return fd
        }
        // Accepts and closes until the listener is shut down.
        let acceptor = Thread {
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { break } }
                close(connection)
            }
        }
        acceptor.start()
        defer {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
        return try netns.run {
            var target = sockaddr_in()
            target.sin_family = sa_family_t(AF_INET)
            target.sin_port = UInt16(80).bigEndian
            target.sin_addr.s_addr = UInt32(0x0A60_000A).bigEndian  // 10.96.0.10
            var reset = linger(l_onoff: 1, l_linger: 0)
            let clock = ContinuousClock()
            let start = clock.now
            let end = start + .milliseconds(Int(seconds * 1000))
            var count = 0
            while clock.now < end {
                for _ in 0..<64 {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    guard fd >= 0 else { throw Failed(description: "socket: \(String(cString: strerror(errno)))") }
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
                    let connected = withUnsafePointer(to: &target) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                    let failure = errno
                    close(fd)
                    guard connected == 0 else { throw Failed(description: "connect to the ClusterIP: \(String(cString: strerror(failure)))") }
                    count += 1
                }
            }
            return Double(count) / (clock.now - start).seconds
        }
    }

    /// Prints the rate table for each service count, `rounds` alternating measurements of `seconds` each.
    @discardableResult
    package static func run(serviceCounts: [Int], rounds: Int = 5, seconds: Double = 1.5) throws -> Result {
        print("\nconnection rate through a ClusterIP (new TCP connections/s, client and listener in the namespace, median of \(rounds))")
        var setups: [Setup] = []
        defer { for s in setups { s.netns.delete() } }
        for n in serviceCounts { setups.append(try prepare(services: n)) }
        setups.append(try prepare(services: nil))
        var rates: [[Double]] = Array(repeating: [], count: setups.count)
        for round in 1...rounds {
            for (i, setup) in setups.enumerated() {
                let rate = try measure(setup, seconds: seconds)
                rates[i].append(rate)
                print(String(format: "  round %d: %@ %9.0f conn/s", round, setup.label.paddedRight(16), rate))
            }
        }
        let medians = rates.map { $0.sorted()[$0.count / 2] }
        let single = medians.last ?? 1
        print("ruleset            conn/s (median)   vs \(setups.first?.label ?? "")   vs one DNAT rule")
        for (setup, median) in zip(setups, medians) {
            print(String(format: "%@  %15.0f   %12.2f×   %14.2f×", setup.label.paddedRight(16), median, median / max(medians.first ?? 1, 1), median / max(single, 1)))
        }
        return Result(rates: zip(setups, medians).compactMap { s, m in s.services.map { ($0, m) } }, singleRule: single)
    }
}
