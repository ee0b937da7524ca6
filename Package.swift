// swift-tools-version:6.1
import PackageDescription

// Pure cores import Foundation only; adapters wrap C libraries or sockets; executables wire them.
let package = Package(
    name: "kproxy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kproxy", targets: ["kproxy"]),
        .executable(name: "kproxy-cni", targets: ["kproxy-cni"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries, through pkg-config. C pointers never leave the adapter modules.
        .systemLibrary(name: "CNftnl", path: "Sources/CNftnl", pkgConfig: "libnftnl",
                       providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
        .systemLibrary(name: "CNetlink", path: "Sources/CNetlink", pkgConfig: "libnl-route-3.0",
                       providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),
        // recvmmsg/sendmmsg and malloc_trim, which Swift's Glibc module does not show, for the DNS server.
        .systemLibrary(name: "CLinuxExtras", path: "Sources/CLinuxExtras"),
        // System calls: EINTR retried in one place, errno as one error type naming the call and its object.
        .target(name: "LinuxSystem", dependencies: ["CLinuxExtras"]),

        // Values every layer shares: IPAddress, CIDR, IPPrefix, JSONValue (with its own parser). No Foundation,
        // so the CNI plugin can use them.
        .target(name: "Values"),
        // Kubernetes objects, validation, selectors, patches. Foundation only.
        .target(name: "KubeAPI", dependencies: ["Values"]),
        // kubeconfig, REST client, informers. Works against kproxy's control plane or a real kube-apiserver.
        .target(name: "KubeClient", dependencies: [
            "KubeAPI",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A small HTTP/1.1 server (keep-alive, optional TLS, streamed responses) for the API, metrics and health endpoints.
        .target(name: "HTTPServing", dependencies: [
            "KubeAPI", "LinuxSystem",
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Store, API server, allocators and controllers.
        .target(name: "ControlPlane", dependencies: [
            "KubeAPI", "HTTPServing", "LinuxSystem",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Service proxy: pure ruleset compiler, nftables adapter, and the daemon's sync loop.
        .target(name: "ProxyCore", dependencies: ["KubeAPI"]),
        .target(name: "NFTables", dependencies: ["ProxyCore", "CNftnl", "LinuxSystem"]),
        // Userspace mode: schedulers, backend sets, affinity and passive health (pure), and the epoll data path.
        .target(name: "BalancerCore", dependencies: ["KubeAPI", "ProxyCore"]),
        .target(name: "Balancer", dependencies: [
            "KubeAPI", "ProxyCore", "BalancerCore", "CLinuxExtras", "LinuxSystem", "Netlink",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ProxyDaemon", dependencies: [
            "KubeAPI", "KubeClient", "ProxyCore", "NFTables", "Netlink", "HTTPServing", "BalancerCore", "Balancer", "LinuxSystem",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // CNI: spec types and IPAM (pure), links/addresses/routes through libnl (adapter), the plugin binary.
        .target(name: "CNICore", dependencies: ["Values"]),
        // The CNI plugin's on-disk allocation store (host-local's layout): the file-system adapter of CNICore.
        .target(name: "CNIStore", dependencies: ["CNICore", "LinuxSystem"]),
        .target(name: "Netlink", dependencies: ["CNetlink", "LinuxSystem", "Values"]),
        // The plugin binary stays lean (no NIO, no argument parser): it starts in a few milliseconds.
        // A static executable: a runtime starts the plugin for every pod, and loading shared libraries (the
        // Swift runtime, libstdc++, libnl) was most of its start-up: 2.1 ms dynamic, 1.2 ms with only the Swift
        // runtime static, 0.3 ms fully static. glibc warns at link time about getaddrinfo/getprotobyname (in
        // libnl objects) and dlopen (in the Swift runtime) in static programs; the plugin calls none of them,
        // so this target links with GNU ld and its messages silenced (`--no-warnings`; a failed link still
        // fails the build — drop the flag to read why).
        .executableTarget(name: "kproxy-cni", dependencies: ["CNICore", "CNIStore", "Netlink", "LinuxSystem"],
                          linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=bfd", "-Xlinker", "--no-warnings"])]),

        // Node agent: the CNI runtime, pod status, probes and restarts (pure), and the agent that runs pods.
        .target(name: "NodeCore", dependencies: ["KubeAPI", "CNICore", "DNSCore"]),
        .target(name: "NodeAgent", dependencies: [
            "NodeCore", "KubeAPI", "KubeClient", "CNICore", "DNSCore", "CLinuxExtras", "LinuxSystem", "HTTPServing",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOWebSocket", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Cluster DNS: wire codec and zone answerer (pure), UDP/TCP server and forwarder.
        .target(name: "DNSCore", dependencies: ["KubeAPI"]),
        .target(name: "DNSServer", dependencies: [
            "KubeAPI", "KubeClient", "DNSCore", "HTTPServing", "CLinuxExtras", "LinuxSystem",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),

        // `kproxy up`: a multi-node cluster in network namespaces (plan pure; network, supervisor, forwarder).
        .target(name: "ClusterUp", dependencies: [
            "NodeAgent", "Netlink", "ProxyDaemon", "KubeAPI", "KubeClient", "LinuxSystem",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The benchmarks' workloads, measurements and reports (`kproxy bench …` is only their wiring).
        .target(name: "Bench", dependencies: [
            "KubeAPI", "KubeClient", "NFTables", "ProxyCore", "ProxyDaemon", "LinuxSystem",
            .product(name: "Logging", package: "swift-log"),
        ]),

        .executableTarget(name: "kproxy", dependencies: [
            "KubeAPI", "KubeClient", "ControlPlane", "ProxyCore", "NFTables", "ProxyDaemon",
            "Netlink", "CNICore", "DNSCore", "DNSServer", "BalancerCore", "Balancer", "LinuxSystem", "NodeAgent", "ClusterUp", "Bench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "ValuesTests", dependencies: ["Values"]),
        .testTarget(name: "KubeAPITests", dependencies: ["TestSupport", "KubeAPI"]),
        .testTarget(name: "ControlPlaneTests", dependencies: ["TestSupport", "ControlPlane", "KubeAPI", "HTTPServing", "LinuxSystem"]),
        .testTarget(name: "KubeClientTests", dependencies: ["TestSupport", "KubeClient", "ControlPlane", "HTTPServing", "KubeAPI"]),
        .testTarget(name: "ProxyCoreTests", dependencies: ["TestSupport", "ProxyCore", "KubeAPI"], exclude: ["Golden"]),  // goldens are read by path
        .testTarget(name: "CNICoreTests", dependencies: ["CNICore", "CNIStore"]),
        // The proxy daemon's sync loop in process, against an in-memory kernel (no root).
        .testTarget(name: "ProxyDaemonTests", dependencies: ["TestSupport", "ProxyDaemon", "ProxyCore", "KubeAPI", "KubeClient", "ControlPlane",
                                                        .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "BalancerCoreTests", dependencies: ["BalancerCore", "ProxyCore", "KubeAPI"]),
        .testTarget(name: "DNSCoreTests", dependencies: ["DNSCore", "KubeAPI"]),
        .testTarget(name: "ClusterUpTests", dependencies: ["ClusterUp"]),
        .testTarget(name: "NodeCoreTests", dependencies: ["NodeCore", "CNICore", "KubeAPI", "DNSCore"]),
        // Real kernel and real sockets, each test in its own network namespaces (run as root).
        .testTarget(name: "AdapterTests", dependencies: ["TestSupport", "ClusterUp", "NFTables", "Netlink", "ProxyCore", "ProxyDaemon", "CNICore", "DNSServer", "DNSCore", "KubeAPI",
                                                    "Balancer", "BalancerCore",
                                                    .product(name: "Logging", package: "swift-log"),
                                                    .product(name: "NIOPosix", package: "swift-nio")]),
        // The DNS server and forwarder on loopback addresses against a dnsmasq child: no namespaces, and it
        // needs the cooperative pool, so it runs with the in-process tests, not beside blocking kernel tests.
        .testTarget(name: "DNSServerTests", dependencies: ["TestSupport", "DNSServer", "DNSCore", "KubeAPI", "CLinuxExtras", "KubeClient", "ControlPlane",
                                                      .product(name: "Logging", package: "swift-log"),
                                                      .product(name: "NIOCore", package: "swift-nio"),
                                                      .product(name: "NIOPosix", package: "swift-nio")]),
        // Helpers shared by test targets (child processes without Foundation's Process).
        .target(name: "TestSupport", dependencies: ["LinuxSystem"], path: "Tests/TestSupport"),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport", "KubeAPI", "KubeClient", "ControlPlane"]),
    ],
    swiftLanguageModes: [.v6]
)
