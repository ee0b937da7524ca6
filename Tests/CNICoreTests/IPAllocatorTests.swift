import Glibc
import Testing
@testable import CNICore
@testable import CNIStore
import Values

/// One step of an allocator scenario and what it must produce.
enum Step: Sendable, CustomStringConvertible {
    case add(String, expect: [String])   // container id → expected addresses (CIDR), or ["error"]
    case del(String)
    case gc(keep: [String])

    var description: String {
        switch self {
        case .add(let c, let e): "add \(c) → \(e)"
        case .del(let c): "del \(c)"
        case .gc(let k): "gc keep \(k)"
        }
    }
}

@Suite struct IPAllocatorTests {
    static func key(_ c: String) -> AttachmentKey { AttachmentKey(containerID: c, ifname: "eth0") }

    static func allocator(_ ipam: JSONValue, store: InMemoryAllocationStore = InMemoryAllocationStore()) throws -> IPAllocator<InMemoryAllocationStore> {
        IPAllocator(config: try IPAMConfig(json: ipam), store: store)
    }

    static let scenarios: [(String, JSONValue, [Step])] = [
        ("sequential from .2, gateway .1 skipped", ["subnet": "10.244.1.0/29"],
         [.add("a", expect: ["10.244.1.2/29"]), .add("b", expect: ["10.244.1.3/29"])]),
        ("round robin after release", ["subnet": "10.244.1.0/29"],
         [.add("a", expect: ["10.244.1.2/29"]), .add("b", expect: ["10.244.1.3/29"]), .del("a"), .add("c", expect: ["10.244.1.4/29"])]),
        ("wraps to the start and skips held ones", ["subnet": "10.244.1.0/29", "rangeStart": "10.244.1.5"],
         [.add("a", expect: ["10.244.1.5/29"]), .add("b", expect: ["10.244.1.6/29"]), .add("c", expect: ["error"]), .del("a"), .add("c", expect: ["10.244.1.5/29"])]),
        ("full /30 gives one address", ["subnet": "10.0.0.0/30"],
         [.add("a", expect: ["10.0.0.2/30"]), .add("b", expect: ["error"])]),
        ("gateway in the middle is skipped", ["subnet": "10.0.0.0/29", "gateway": "10.0.0.3"],
         [.add("a", expect: ["10.0.0.1/29"]), .add("b", expect: ["10.0.0.2/29"]), .add("c", expect: ["10.0.0.4/29"])]),
        ("duplicate attachment fails", ["subnet": "10.0.0.0/24"],
         [.add("a", expect: ["10.0.0.2/24"]), .add("a", expect: ["error"])]),
        ("release is idempotent", ["subnet": "10.0.0.0/24"],
         [.del("a"), .add("a", expect: ["10.0.0.2/24"]), .del("a"), .del("a"), .add("b", expect: ["10.0.0.3/24"])]),
        ("dual stack: one address per range set", ["ranges": [[["subnet": "10.1.0.0/24"]], [["subnet": "fd00:1::/120"]]]],
         [.add("a", expect: ["10.1.0.2/24", "fd00:1::2/120"]), .add("b", expect: ["10.1.0.3/24", "fd00:1::3/120"])]),
        ("several ranges in a set are walked in order", ["ranges": [[["subnet": "10.1.0.0/30"], ["subnet": "10.2.0.0/30"]]]],
         [.add("a", expect: ["10.1.0.2/30"]), .add("b", expect: ["10.2.0.2/30"]), .add("c", expect: ["error"])]),
        ("gc keeps valid attachments only", ["subnet": "10.0.0.0/24"],
         [.add("a", expect: ["10.0.0.2/24"]), .add("b", expect: ["10.0.0.3/24"]), .add("c", expect: ["10.0.0.4/24"]), .gc(keep: ["b"]),
          .add("d", expect: ["10.0.0.5/24"]), .add("a", expect: ["10.0.0.6/24"]), .add("b", expect: ["error"])]),
    ]

    @Test(arguments: scenarios)
    func scenario(name: String, ipam: JSONValue, steps: [Step]) throws {
        let alloc = try Self.allocator(ipam)
        for step in steps {
            switch step {
            case .add(let c, let expect):
                do {
                    let got = try alloc.allocate(for: Self.key(c)).map(\.address.description)
                    #expect(got == expect, "\(name): \(step)")
                } catch {
                    #expect(expect == ["error"], "\(name): \(step) failed: \(error)")
                }
            case .del(let c): try alloc.release(Self.key(c))
            case .gc(let keep): try alloc.collectGarbage(keeping: Set(keep.map(Self.key)))
            }
        }
    }

    @Test func resultCarriesGateway() throws {
        let ips = try Self.allocator(["subnet": "10.244.3.0/24"]).allocate(for: Self.key("a"))
        #expect(ips == [CNIResult.IPConfig(address: IPPrefix("10.244.3.2/24")!, gateway: IPAddress("10.244.3.1"))])
    }

    @Test func failedSecondSetRollsBackFirst() throws {
        let store = InMemoryAllocationStore()
        let alloc = try Self.allocator(["ranges": [[["subnet": "10.1.0.0/24"]], [["subnet": "10.2.0.0/30"]]]], store: store)
        _ = try alloc.allocate(for: Self.key("a"))
        #expect(throws: CNIError.self) { try alloc.allocate(for: Self.key("b")) }
        #expect(store.reserved.count == 2)
    }

    @Test func statusReportsFullAndUnusable() throws {
        let store = InMemoryAllocationStore()
        let alloc = try Self.allocator(["subnet": "10.0.0.0/30"], store: store)
        try alloc.status()
        _ = try alloc.allocate(for: Self.key("a"))
        do { try alloc.status(); Issue.record("full range reported available") } catch { #expect(error.code == 50) }
        try alloc.release(Self.key("a"))
        try alloc.status()
        store.failure = CNIError(.ioFailure, "disk gone")
        do { try alloc.status(); Issue.record("broken store reported available") } catch { #expect(error.code == 50) }
    }

    @Test(arguments: [
        ["type": "x"] as JSONValue, ["subnet": "10.0.0.0/31"], ["subnet": "nope"], ["subnet": "10.0.0.0/24", "rangeStart": "10.0.1.1"],
        ["subnet": "10.0.0.0/24", "rangeStart": "10.0.0.9", "rangeEnd": "10.0.0.8"], ["subnet": "10.0.0.0/24", "gateway": "10.9.0.1"],
        ["ranges": [[["subnet": "10.0.0.0/24"], ["subnet": "fd00::/64"]]]], ["ranges": [[["subnet": "10.0.0.0/24"]], [["subnet": "10.0.0.0/25"]]]],
        ["ranges": [[]]], ["subnet": "10.0.0.0/24", "routes": [["dst": "x"]]],
    ])
    func rejectsBadConfig(ipam: JSONValue) {
        do { _ = try IPAMConfig(json: ipam); Issue.record("accepted \(ipam.serialized())") } catch { #expect(error.code == 7) }
    }

    @Test func configDefaultsAndRoutes() throws {
        let c = try IPAMConfig(json: ["subnet": "10.244.1.7/24", "routes": [["dst": "0.0.0.0/0"]], "dataDir": "/tmp/x"])
        let r = c.rangeSets[0][0]
        #expect(r.subnet.description == "10.244.1.0/24" && r.rangeStart.description == "10.244.1.1")
        #expect(r.rangeEnd.description == "10.244.1.254" && r.gateway.description == "10.244.1.1")
        #expect(r.capacity == 253)
        #expect(c.routes == [CNIResult.Route(dst: IPPrefix("0.0.0.0/0")!)])
        #expect(c.dataDir == "/tmp/x")
    }
}

@Suite struct DiskAllocationStoreTests {
    @Test func hostLocalLayout() throws {
        let dir = try #require(Self.makeTemporaryDirectory())
        defer { _ = try? DiskAllocationStoreTests.removeTree(dir) }
        let store = DiskAllocationStore(dataDir: dir, network: "k8s")
        let alloc = IPAllocator(config: try IPAMConfig(json: ["subnet": "10.9.0.0/24"]), store: store)
        let a = try alloc.allocate(for: AttachmentKey(containerID: "ctr-a", ifname: "eth0"))
        _ = try alloc.allocate(for: AttachmentKey(containerID: "ctr-b", ifname: "net1"))
        #expect(a.map(\.address.description) == ["10.9.0.2/24"])
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/10.9.0.2") == "ctr-a\neth0")
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/last_reserved_ip.0") == "10.9.0.3")
        // A fresh store (another process) continues round-robin and sees both allocations.
        let again = IPAllocator(config: alloc.config, store: DiskAllocationStore(dataDir: dir, network: "k8s"))
        #expect(try again.store.withLock { () throws(CNIError) in try again.store.allocations() }.count == 2)
        try again.release(AttachmentKey(containerID: "ctr-a", ifname: "eth0"))
        try again.release(AttachmentKey(containerID: "ctr-a", ifname: "eth0"))
        #expect(try again.allocate(for: AttachmentKey(containerID: "ctr-c", ifname: "eth0")).map(\.address.description) == ["10.9.0.4/24"])
        // An attachment's addresses come from the index, checked against the address files.
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/by-key/ctr-c@eth0") == "10.9.0.4\n")
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/by-key/ctr-a@eth0") == nil)

        // A host-local data directory (no index, \r\n line ends) is indexed on first use.
        let legacy = DiskAllocationStore(dataDir: dir, network: "hl")
        try DiskAllocationStore.makeDirectories(legacy.directory)
        try DiskAllocationStore.writeFile(legacy.directory + "/10.9.0.77", "old\r\neth9")
        let fromHostLocal = IPAllocator(config: alloc.config, store: legacy)
        #expect(try fromHostLocal.addresses(of: AttachmentKey(containerID: "old", ifname: "eth9")).map(\.description) == ["10.9.0.77"])
        #expect(try fromHostLocal.release(AttachmentKey(containerID: "old", ifname: "eth9")).map(\.description) == ["10.9.0.77"])
        #expect(try fromHostLocal.store.withLock { () throws(CNIError) in try fromHostLocal.store.allocations() }.isEmpty)
    }

    /// A process killed after writing the index line but before the address file leaves a line that
    /// names nothing: it is not an allocation, does not block a new ADD and is dropped on the next read.
    @Test func staleIndexLinesAreIgnoredAndDropped() throws {
        let dir = try #require(Self.makeTemporaryDirectory())
        defer { _ = try? DiskAllocationStoreTests.removeTree(dir) }
        let store = DiskAllocationStore(dataDir: dir, network: "k8s")
        let alloc = IPAllocator(config: try IPAMConfig(json: ["subnet": "10.9.0.0/24"]), store: store)
        let key = AttachmentKey(containerID: "ctr-k", ifname: "eth0")
        _ = try alloc.addresses(of: key)  // creates the store and its index
        try DiskAllocationStore.writeFile(dir + "/k8s/by-key/ctr-k@eth0", "10.9.0.200\n")
        #expect(try alloc.addresses(of: key).isEmpty)
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/by-key/ctr-k@eth0") == nil)
        #expect(try alloc.allocate(for: key).map(\.address.description) == ["10.9.0.2/24"])
        #expect(try alloc.release(key).map(\.description) == ["10.9.0.2"])

        // GC removes index files of attachments that are gone, keeps the valid ones.
        let kept = AttachmentKey(containerID: "ctr-kept", ifname: "eth0")
        _ = try alloc.allocate(for: kept)
        try DiskAllocationStore.writeFile(dir + "/k8s/by-key/ctr-gone@eth0", "10.9.0.201\n")
        #expect(try alloc.collectGarbage(keeping: [kept]).isEmpty)
        #expect(try DiskAllocationStore.readFile(dir + "/k8s/by-key/ctr-gone@eth0") == nil)
        #expect(try alloc.addresses(of: kept).count == 1)
    }

    @Test func unusableDirectoryIsIOError() {
        let store = DiskAllocationStore(dataDir: "/proc/kp-no-such", network: "n")
        do { _ = try store.withLock { () throws(CNIError) in 1 }; Issue.record("locked in /proc") } catch { #expect(error.code == 5) }
    }

    /// A fresh directory under /tmp, or nil.
    static func makeTemporaryDirectory() -> String? {
        var template = Array("/tmp/kp-cni-store-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) }
        }
    }

    static func removeTree(_ path: String) throws {
        guard let d = opendir(path) else { return }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            let p = path + "/" + name
            if e.pointee.d_type == UInt8(DT_DIR) { try removeTree(p) } else { unlink(p) }
        }
        closedir(d)
        rmdir(path)
    }
}
