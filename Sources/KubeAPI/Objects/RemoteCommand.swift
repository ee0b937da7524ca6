import Foundation
import Values

/// The remote-command stream protocol kubectl speaks for `exec` over WebSocket (`v5.channel.k8s.io`,
/// and `v4` before it): binary messages whose first byte is the stream — 0 stdin, 1 stdout, 2 stderr,
/// 3 the final status, 4 terminal resizes; in v5, 255 closes a stream (stdin's end of input).
public enum RemoteCommand {
    public static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
    public static let stdin: UInt8 = 0, stdout: UInt8 = 1, stderr: UInt8 = 2, status: UInt8 = 3, resize: UInt8 = 4, close: UInt8 = 255

    /// The protocol to answer with: the first of ours the client offers (`Sec-WebSocket-Protocol`, comma-separated).
    public static func negotiate(_ offered: [String]) -> String? {
        let theirs = offered.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        return protocols.first { theirs.contains($0) }
    }

    /// An exec request's parameters, from its query (repeated `command`, booleans as "true"/"1").
    public struct Request: Sendable, Equatable {
        public var command: [String]
        public var container: String?
        public var stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool

        public init(query: String) {
            var command: [String] = [], container: String?
            var flags: [String: Bool] = [:]
            for item in query.split(separator: "&") {
                let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let key = kv[0].removingPercentEncoding ?? kv[0]
                let value = kv.count > 1 ? (kv[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? kv[1]) : ""
                switch key {
                case "command": command.append(value)
                case "container": container = value
                case "stdin", "stdout", "stderr", "tty", "input", "output", "error": flags[key] = value == "true" || value == "1"
                default: continue
                }
            }
            self.command = command
            self.container = container
            stdin = flags["stdin"] ?? flags["input"] ?? false
            stdout = flags["stdout"] ?? flags["output"] ?? false
            stderr = flags["stderr"] ?? flags["error"] ?? false
            tty = flags["tty"] ?? false
        }

        /// The query passed on to the node, in the kubelet's parameter names.
        public var query: String {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            var items = command.map { "command=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0)" }
            for (name, on) in [("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)] where on { items.append("\(name)=true") }
            return items.joined(separator: "&")
        }
    }

    /// The status message that ends a session, as upstream writes it: Success, or the exit code
    /// kubectl turns into its own (`NonZeroExitCode` with an `ExitCode` cause).
    public static func statusMessage(exitCode: Int?, error: String? = nil) -> [UInt8] {
        var status: [String: JSONValue] = ["metadata": .object([:])]
        if let error {
            status["status"] = "Failure"; status["message"] = .string(error); status["reason"] = "InternalError"
            status["code"] = 500
        } else if let code = exitCode, code != 0 {
            status["status"] = "Failure"
            status["message"] = .string("command terminated with non-zero exit code: error executing command, exit code \(code)")
            status["reason"] = "NonZeroExitCode"
            status["details"] = .object(["causes": .array([.object(["reason": "ExitCode", "message": .string(String(code))])])])
        } else {
            status["status"] = "Success"
        }
        let body = (try? KubeJSON.encode(JSONValue.object(status))) ?? Data()
        return [Self.status] + Array(body)
    }

    /// A resize message's size (`{"Width":80,"Height":24}`).
    public static func terminalSize(_ payload: [UInt8]) -> (columns: UInt16, rows: UInt16)? {
        guard let json = try? KubeJSON.decode(JSONValue.self, from: Data(payload)),
              let w = json["Width"]?.intValue, let h = json["Height"]?.intValue,
              (0...Int64(UInt16.max)).contains(w), (0...Int64(UInt16.max)).contains(h) else { return nil }
        return (UInt16(w), UInt16(h))
    }
}
