import Testing
import KubeAPI
@testable import ControlPlane
import Values

struct BitmapAllocatorTests {
    @Test func allocatesEverySlotOnceThenReportsFull() {
        var b = BitmapAllocator(size: 130, seed: 7)
        var seen = Set<Int>()
        while let i = b.allocateNext() {
            #expect(seen.insert(i).inserted)
        }
        #expect(seen == Set(0..<130))
        #expect(b.freeCount == 0)
        b.release(64)
        #expect(b.allocateNext() == 64)
    }

    @Test func deterministicForASeed() {
        var a = BitmapAllocator(size: 1000, seed: 42), b = BitmapAllocator(size: 1000, seed: 42)
        let first = (0..<20).compactMap { _ in a.allocateNext() }
        let second = (0..<20).compactMap { _ in b.allocateNext() }
        #expect(first == second)
        var c = BitmapAllocator(size: 1000, seed: 43)
        #expect((0..<20).compactMap { _ in c.allocateNext() } != first)
    }

    @Test func specificAllocationAndRelease() {
        var b = BitmapAllocator(size: 10)
        let results = [b.allocate(3), b.allocate(3), b.allocate(10), b.allocate(-1)]
        #expect(results == [true, false, false, false])
        #expect(b.has(3) && b.count == 1)
        b.release(3)
        b.release(3)
        #expect(!b.has(3) && b.count == 0)
    }

    @Test func reservedBandUsedLast() {
        var b = BitmapAllocator(size: 32, seed: 1)
        let upper = (0..<16).compactMap { _ in b.allocateNext(reservedBelow: 16) }
        #expect(Set(upper) == Set(16..<32))
        let lower = (0..<16).compactMap { _ in b.allocateNext(reservedBelow: 16) }
        #expect(Set(lower) == Set(0..<16))
        #expect(b.allocateNext(reservedBelow: 16) == nil)
    }

    @Test func firstFreeWraps() {
        var b = BitmapAllocator(size: 200)
        for i in 100..<200 { b.allocate(i) }
        #expect(b.firstFree(in: 0..<200, from: 150) == 0)
        #expect(b.firstFree(in: 100..<200, from: 150) == nil)
        #expect(b.allocated.count == 100)
    }
}

struct ServiceIPAllocatorTests {
    func ip(_ s: String) -> IPAddress { IPAddress(s) ?? IPAddress(ipv4: 0) }

    @Test(arguments: [
        ("10.96.0.0/12", 1_048_574, "10.96.0.1"),
        ("10.0.0.0/29", 6, "10.0.0.1"),
        ("fd00::/108", 65_535, "fd00::1"),
        ("fd00::/120", 255, "fd00::1"),
        ("10.0.0.0/32", 0, nil),
    ] as [(String, Int, String?)])
    func capacity(cidr: String, capacity: Int, first: String?) throws {
        let a = ServiceIPAllocator(cidr: try #require(CIDR(cidr)))
        #expect(a.capacity == capacity)
        #expect(a.firstAddress?.description == first)
    }

    @Test func specificAllocationErrors() throws {
        var a = ServiceIPAllocator(cidr: try #require(CIDR("10.96.0.0/12")))
        try a.allocate(specific: ip("10.96.0.1"))
        #expect(throws: AllocationError.ipAlreadyAllocated) { try a.allocate(specific: ip("10.96.0.1")) }
        #expect(throws: AllocationError.ipNotInRange(ip("10.96.0.0"), validRange: "10.96.0.0/12")) { try a.allocate(specific: ip("10.96.0.0")) }
        #expect(throws: AllocationError.self) { try a.allocate(specific: ip("10.111.255.255")) }
        #expect(throws: AllocationError.self) { try a.allocate(specific: ip("1.1.1.1")) }
        try a.allocate(specific: ip("10.111.255.254"))
        #expect(AllocationError.ipNotInRange(ip("1.1.1.1"), validRange: "10.96.0.0/12").description
            == "the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12")
        #expect(AllocationError.ipAlreadyAllocated.description == "provided IP is already allocated")
    }

    @Test func dynamicAllocationAvoidsLowBandAndExhausts() throws {
        var a = ServiceIPAllocator(cidr: try #require(CIDR("10.0.0.0/24")), seed: 3)
        #expect(a.reservedBand == 16)
        var got: [IPAddress] = []
        for _ in 0..<(254 - 16) { got.append(try a.allocateNext()) }
        #expect(got.allSatisfy { (a.cidr.offset(of: $0) ?? 0) > 16 })
        for _ in 0..<16 { got.append(try a.allocateNext()) }
        #expect(Set(got).count == 254)
        #expect(!got.contains(ip("10.0.0.0")) && !got.contains(ip("10.0.0.255")))
        #expect(throws: AllocationError.full) { try a.allocateNext() }
        a.release(ip("10.0.0.77"))
        #expect(try a.allocateNext() == ip("10.0.0.77"))
    }

    @Test func rebuild() throws {
        var a = ServiceIPAllocator(cidr: try #require(CIDR("fd00::/120")))
        _ = try a.allocateNext()
        let outside = a.rebuild(from: [ip("fd00::1"), ip("fd00::a"), ip("10.0.0.1"), ip("fd01::1")])
        #expect(outside == [ip("10.0.0.1"), ip("fd01::1")])
        #expect(a.allocated == [ip("fd00::1"), ip("fd00::a")])
        #expect(a.used == 2 && a.free == 253)
        #expect(throws: AllocationError.ipAlreadyAllocated) { try a.allocate(specific: ip("fd00::a")) }
    }
}

struct PortAllocatorTests {
    @Test func errorsAndWording() throws {
        var p = PortAllocator()
        try p.allocate(specific: 30080)
        #expect(throws: AllocationError.portAlreadyAllocated) { try p.allocate(specific: 30080) }
        #expect(throws: AllocationError.portNotInRange(validRange: "30000-32767")) { try p.allocate(specific: 80) }
        #expect(AllocationError.portNotInRange(validRange: "30000-32767").description
            == "provided port is not in the valid range. The range of valid ports is 30000-32767")
        #expect(AllocationError.portAlreadyAllocated.description == "provided port is already allocated")
        #expect(p.has(30080) && !p.has(30081))
    }

    @Test func exhaustsPreferringUpperBand() throws {
        var p = PortAllocator(range: 40000...40063, seed: 9)
        #expect(p.reservedBand == 16)
        var ports: [Int] = []
        for _ in 0..<48 { ports.append(try p.allocateNext()) }
        #expect(ports.allSatisfy { $0 >= 40016 })
        for _ in 0..<16 { ports.append(try p.allocateNext()) }
        #expect(Set(ports) == Set(40000...40063))
        #expect(throws: AllocationError.full) { try p.allocateNext() }
        p.release(40010)
        #expect(try p.allocateNext() == 40010)
    }

    @Test func rebuild() {
        var p = PortAllocator()
        #expect(p.rebuild(from: [30000, 32767, 80]) == [80])
        #expect(p.allocated == [30000, 32767])
    }
}

struct NodeCIDRAllocatorTests {
    func cidr(_ s: String) throws -> CIDR { try #require(CIDR(s)) }

    @Test func allocatesSequentiallyAndIdempotently() throws {
        var a = try NodeCIDRAllocator(clusterCIDR: cidr("10.244.0.0/16"), nodeMaskSize: 24)
        #expect(a.capacity == 256)
        #expect(try a.allocate(for: "n1") == cidr("10.244.0.0/24"))
        #expect(try a.allocate(for: "n2") == cidr("10.244.1.0/24"))
        #expect(try a.allocate(for: "n1") == cidr("10.244.0.0/24"))
        a.release(node: "n1")
        #expect(try a.allocate(for: "n3") == cidr("10.244.2.0/24"))
        #expect(a.usedCount == 2)
    }

    @Test func occupyRebuildsAndExhausts() throws {
        var a = try NodeCIDRAllocator(clusterCIDR: cidr("10.244.0.0/22"), nodeMaskSize: 24)
        try a.occupy(cidr("10.244.1.0/24"), node: "old")
        try a.occupy(cidr("10.244.2.0/23"))
        #expect(try a.byNode["old"] == cidr("10.244.1.0/24"))
        #expect(try a.isOccupied(cidr("10.244.3.0/24")))
        #expect(try a.allocate(for: "new") == cidr("10.244.0.0/24"))
        #expect(throws: NodeCIDRError.noRemainingCIDRs) { try a.allocate(for: "x") }
        try a.release(cidr("10.244.3.0/24"))
        #expect(try a.allocate(for: "x") == cidr("10.244.3.0/24"))
        let outside = try cidr("10.245.0.0/24"), cluster = try cidr("10.244.0.0/22")
        #expect(throws: NodeCIDRError.outOfRange(outside, cluster: cluster)) {
            try a.occupy(cidr("10.245.0.0/24"))
        }
        #expect(NodeCIDRError.noRemainingCIDRs.description
            == "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")
    }

    @Test(arguments: [("10.244.0.0/16", 16), ("10.244.0.0/16", 8), ("10.0.0.0/8", 25), ("10.0.0.0/30", 33)])
    func rejectsMaskSizes(cluster: String, mask: Int) {
        #expect(throws: NodeCIDRError.self) { try NodeCIDRAllocator(clusterCIDR: cidr(cluster), nodeMaskSize: mask) }
    }

    @Test func ipv6() throws {
        var a = try NodeCIDRAllocator(clusterCIDR: cidr("fd00:10::/56"), nodeMaskSize: 64)
        #expect(try a.allocate(for: "n1") == cidr("fd00:10::/64"))
        #expect(try a.allocate(for: "n2") == cidr("fd00:10:0:1::/64"))
        try a.occupy(cidr("fd00:10:0:2::/64"), node: "n3")
        #expect(try a.allocate(for: "n4") == cidr("fd00:10:0:3::/64"))
    }
}
