import ArgumentParser

@main
struct KProxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kproxy",
        abstract: "Kubernetes networking data plane: control plane, service proxy, CNI and cluster DNS.",
        version: "0.1.0",
        subcommands: [ControlPlaneCommand.self, ProxyCommand.self, DNSCommand.self, BenchCommand.self]
    )
}
