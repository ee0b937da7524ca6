import ArgumentParser
import Logging

@main
struct KProxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kproxy",
        abstract: "Kubernetes networking data plane: control plane, service proxy, CNI and cluster DNS.",
        version: "0.1.0",
        subcommands: [ControlPlaneCommand.self, ProxyCommand.self, DNSCommand.self, NodeCommand.self, UpCommand.self, DownCommand.self, BenchCommand.self, TrafficCommand.self]
    )
}

/// `--log-level` takes swift-log's level names; anything else is a usage error naming the choices.
extension Logger.Level: @retroactive ExpressibleByArgument {}
