import CNICore
import LinuxSystem
import NodeCore

/// Runs CNI plugin binaries for `CNIRunner`: the exact environment given (nothing inherited), the
/// config on stdin, stdout collected; the exit comes from the reaper.
public struct ProcessPluginExecutor: CNIPluginExecutor {
    public init() {}

    public func run(_ path: String, environment: [String: String], stdin: [UInt8]) async throws(CNIError) -> (status: Int32, stdout: [UInt8]) {
        let env = environment.map { "\($0.key)=\($0.value)" }
        let spawned: (Int32, [UInt8])
        do {
            spawned = try await Blocking.run { () throws(SystemError) in try Spawn.collect([path], environment: env, stdin: stdin) }
        } catch {
            throw CNIError(.ioFailure, "cannot run \(path): \(error)")
        }
        let exit = await Reaper.shared.wait(spawned.0)
        return (Int32(exit.reported), spawned.1)
    }
}
