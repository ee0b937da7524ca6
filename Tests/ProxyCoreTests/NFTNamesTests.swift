import KubeAPI
import Testing
@testable import ProxyCore

struct NFTNamesTests {
    let port = ServicePortName(namespace: "ns1", name: "svc1", port: "p80", protocol: .tcp)

    @Test func matchesUpstreamHashes() {
        // Names from upstream kube-proxy's nftables tests.
        #expect(NFTNames.serviceChain(port) == "service-ULMVA6XW-ns1/svc1/tcp/p80")
        #expect(NFTNames.endpointChain(port, EndpointInfo(address: Fixtures.ip("10.180.0.1"), port: 80))
                == "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80")
    }

    @Test func ipv6EndpointNamesHaveNoColons() {
        let name = NFTNames.endpointChain(port, EndpointInfo(address: Fixtures.ip("fd00::1"), port: 80))
        #expect(!name.contains(":"))
        #expect(name.hasSuffix("__fd00..1/80"))
    }

    @Test(arguments: ["", "a", "abc"])
    func sha256(input: String) {
        // SHA-256("") starts e3b0c442…, SHA-256("a") ca978112…, SHA-256("abc") ba7816bf…
        let digest = SHA256.digest(Array(input.utf8))
        let expectedStart: [String: [UInt8]] = ["": [0xe3, 0xb0, 0xc4, 0x42], "a": [0xca, 0x97, 0x81, 0x12], "abc": [0xba, 0x78, 0x16, 0xbf]]
        #expect(Array(digest.prefix(4)) == expectedStart[input])
        #expect(digest.count == 32)
    }

    @Test func base32Vectors() {
        #expect(SHA256.base32(Array("foobar".utf8)) == "MZXW6YTBOI======")
        #expect(SHA256.base32(Array("fo".utf8)) == "MZXQ====")
    }

    @Test func longNamesAreTruncated() {
        let long = ServicePortName(namespace: String(repeating: "n", count: 63), name: String(repeating: "s", count: 63),
                                   port: String(repeating: "p", count: 63), protocol: .sctp)
        let ep = EndpointInfo(address: Fixtures.ip("fd00:1234:5678:9abc:def0:1234:5678:9abc"), port: 65535)
        let name = NFTNames.affinitySet(long, ep)
        #expect(name.utf8.count <= NFTNames.maxNameLength)
        #expect(name.hasSuffix("..."))
        #expect(NFTNames.serviceChain(long).utf8.count <= NFTNames.maxNameLength)
    }
}
