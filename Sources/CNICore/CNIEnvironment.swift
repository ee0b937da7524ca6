/// The operation a runtime asks for in `CNI_COMMAND`.
public enum CNICommand: String, Sendable, CaseIterable {
    case add = "ADD", del = "DEL", check = "CHECK", gc = "GC", status = "STATUS", version = "VERSION"
}

/// The validated `CNI_*` environment of one plugin invocation.
public struct CNIEnvironment: Sendable, Equatable {
    public var command: CNICommand
    /// `CNI_CONTAINERID` (empty for GC, STATUS and VERSION).
    public var containerID: String
    /// `CNI_NETNS`: a path to the network namespace; may be empty on DEL.
    public var netns: String
    /// `CNI_IFNAME` (empty for GC, STATUS and VERSION).
    public var ifname: String
    /// `CNI_ARGS` as ordered key/value pairs.
    public var args: [(key: String, value: String)]
    /// `CNI_PATH` split on `:`.
    public var path: [String]

    public init(command: CNICommand, containerID: String = "", netns: String = "", ifname: String = "",
                args: [(key: String, value: String)] = [], path: [String] = []) {
        self.command = command; self.containerID = containerID; self.netns = netns
        self.ifname = ifname; self.args = args; self.path = path
    }

    public static func == (a: CNIEnvironment, b: CNIEnvironment) -> Bool {
        a.command == b.command && a.containerID == b.containerID && a.netns == b.netns && a.ifname == b.ifname
            && a.args.map(\.key) == b.args.map(\.key) && a.args.map(\.value) == b.args.map(\.value) && a.path == b.path
    }

    /// The value of `key` in CNI_ARGS (for example `K8S_POD_NAMESPACE`).
    public func arg(_ key: String) -> String? { args.first { $0.key == key }?.value }

    /// Reads and validates the variables the command needs (error code 4 when one is missing or malformed).
    public init(_ env: [String: String]) throws(CNIError) {
        guard let raw = env["CNI_COMMAND"], !raw.isEmpty else { throw CNIError(.invalidEnvironment, "required env variable CNI_COMMAND is missing") }
        guard let command = CNICommand(rawValue: raw) else { throw CNIError(.invalidEnvironment, "unknown CNI_COMMAND: \(raw)") }
        let perContainer = [.add, .del, .check].contains(command)
        func required(_ name: String, _ needed: Bool) throws(CNIError) -> String {
            let v = env[name] ?? ""
            if needed, v.isEmpty { throw CNIError(.invalidEnvironment, "required env variable \(name) is missing") }
            return v
        }
        let containerID = try required("CNI_CONTAINERID", perContainer)
        let netns = try required("CNI_NETNS", command == .add || command == .check)
        let ifname = try required("CNI_IFNAME", perContainer)
        let path = try required("CNI_PATH", command != .version)
        if perContainer {
            try Self.validateContainerID(containerID)
            try Self.validateInterfaceName(ifname)
        }
        let args = try Self.parseArgs(env["CNI_ARGS"] ?? "")
        self.init(command: command, containerID: containerID, netns: netns, ifname: ifname, args: args,
                  path: path.split(separator: ":").map(String.init))
    }

    /// Container IDs: alphanumerics plus `_`, `.` and `-`, starting alphanumeric.
    public static func validateContainerID(_ id: String) throws(CNIError) {
        guard let first = id.unicodeScalars.first, first.isASCIIAlnum,
              id.unicodeScalars.allSatisfy({ $0.isASCIIAlnum || $0 == "_" || $0 == "." || $0 == "-" }) else {
            throw CNIError(.invalidEnvironment, "invalid characters in containerID", details: id)
        }
    }

    /// Interface names: 1–15 bytes, not `.`/`..`, no `/`, `:` or whitespace (the kernel's rules).
    public static func validateInterfaceName(_ name: String) throws(CNIError) {
        if name.isEmpty { throw CNIError(.invalidEnvironment, "interface name is empty") }
        if name.utf8.count > 15 { throw CNIError(.invalidEnvironment, "interface name is too long", details: "interface name should be less than 16 characters") }
        if name == "." || name == ".." { throw CNIError(.invalidEnvironment, "interface name is . or ..") }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) {
            throw CNIError(.invalidEnvironment, "interface name contains / or : or whitespace characters", details: name)
        }
    }

    /// Parses `K=V;K2=V2` (error code 4 on a pair without `=`).
    public static func parseArgs(_ raw: String) throws(CNIError) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        for pair in raw.split(separator: ";") where !pair.isEmpty {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw CNIError(.invalidEnvironment, "invalid CNI_ARGS pair \"\(pair)\"")
            }
            out.append((String(pair[..<eq]), String(pair[pair.index(after: eq)...])))
        }
        return out
    }
}

extension Unicode.Scalar {
    var isASCIIAlnum: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
