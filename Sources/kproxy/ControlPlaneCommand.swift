import ArgumentParser
import ControlPlane
import Foundation
import LinuxSystem
import Logging
import Values

struct ControlPlaneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controlplane",
        abstract: "Run the embedded Kubernetes-compatible API server and the networking controllers."
    )

    @Option(help: "Directory for the SQLite store and the generated token.") var dataDir: String
    @Option(help: "Address and port to serve the API on.") var listen = "127.0.0.1:6443"
    @Option(help: "Service ClusterIP range.") var serviceCidr = "10.96.0.0/12"
    @Option(help: "Pod network range, split into per-node pod CIDRs.") var clusterCidr = "10.244.0.0/16"
    @Option(help: "Prefix length of each node's pod CIDR.") var nodeCidrMaskSize = 24
    @Option(help: "NodePort range, as FIRST-LAST.") var nodeportRange = "30000-32767"
    @Option(help: "Address the kubernetes Service's endpoints point at (default: the listen address, unless loopback).") var advertiseAddress: String?
    @Option(help: "Seconds without a node heartbeat before the node turns NotReady (Unknown).") var nodeMonitorGracePeriod = 40
    @Option(help: "Write a kubeconfig for this control plane (server and token) to FILE.") var writeKubeconfig: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: Logger.Level = .info

    func run() async throws {
        var logger = Logger(label: "kproxy.controlplane")
        logger.logLevel = logLevel
        var config = ControlPlaneConfig(dataDir: dataDir)
        let (host, port) = try HostPort.parse(listen)
        config.listenHost = host
        config.listenPort = port
        config.serviceCIDR = serviceCidr
        config.clusterCIDR = clusterCidr
        config.nodeCIDRMaskSize = nodeCidrMaskSize
        config.advertiseAddress = advertiseAddress
        guard nodeMonitorGracePeriod > 0 else { throw ValidationError("--node-monitor-grace-period must be positive") }
        config.nodeMonitorGracePeriod = TimeInterval(nodeMonitorGracePeriod)
        let bounds = nodeportRange.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] > 0, bounds[0] <= bounds[1], bounds[1] <= 65535 else {
            throw ValidationError("--nodeport-range must be FIRST-LAST, e.g. 30000-32767")
        }
        config.nodePortRange = bounds[0]...bounds[1]

        let server = try await ControlPlaneServer.start(config, logger: logger)
        if let path = writeKubeconfig {
            try writeAtomically(server.kubeconfig(), to: path)
            logger.info("kubeconfig written to \(path)")
        }
        try await Signals.runUntilTerminated { await server.run() }
        logger.info("control plane stopped")
    }
}

enum HostPort {
    /// `127.0.0.1:6443`, `[::1]:6443`, `:6443` (all addresses).
    static func parse(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("expected HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// Writes a file with secrets: created 0600, through a temporary file and a rename, so readers never see half a file.
func writeAtomically(_ text: String, to path: String) throws {
    try PrivateFiles.write(text, to: path)
}
