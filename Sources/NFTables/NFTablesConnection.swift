import CNftnl
import ProxyCore

/// The nf_tables netlink interface of one network namespace: sends kernel commands as one atomic batch and
/// reads tables back.
///
/// Not thread-safe (it owns one socket); give it to one actor or thread.
public final class NFTablesConnection {
    let socket: NetfilterSocket

    /// Opens a netfilter netlink socket in `namespace` (entered on a dedicated thread).
    public init(namespace: NetnsReference = .current) throws {
        socket = try NetfilterSocket(namespace: namespace)
    }

    /// The namespace the connection talks to.
    public var namespace: NetnsReference { socket.namespace }

    /// Sends `commands` as one transaction (`BEGIN` … `END` in one `sendmsg`). Either every command takes
    /// effect or none does; the error names the command the kernel refused first.
    public func apply(_ commands: [KernelCommand]) throws {
        guard !commands.isEmpty else { return }
        let batch = try NFTBatch(firstSequence: socket.takeSequences(0))
        for command in commands {
            try batch.add(command)
        }
        batch.finish()
        // Sequence numbers used by the batch are reserved after building, when their count is known.
        _ = socket.takeSequences(UInt32(batch.messageCount + 2))
        try socket.send(batch)
    }
}
