import Values

/// One plugin's network configuration as received on stdin. Typed accessors read the well-known
/// fields; `raw` keeps every field (unknown ones included) so nothing is lost when passing it on.
public struct NetConf: Sendable, Equatable {
    /// The whole object as received.
    public var raw: JSONValue
    public var cniVersion: CNIVersion
    public var name: String
    public var type: String

    /// Parses stdin bytes (code 6 on malformed JSON, 1 on an unsupported version, 7 on missing fields).
    public init(bytes: some Collection<UInt8>) throws(CNIError) {
        let json: JSONValue
        do { json = try JSONValue(parsing: bytes) } catch {
            throw CNIError(.decodeFailure, "error parsing configuration", details: error.description)
        }
        try self.init(json: json)
    }

    /// Reads a config object (code 1 on an unsupported version, 7 on missing name/type).
    public init(json: JSONValue) throws(CNIError) {
        guard case .object = json else { throw CNIError(.decodeFailure, "configuration is not a JSON object") }
        raw = json
        cniVersion = try CNIVersion.negotiate(json["cniVersion"]?.stringValue)
        guard let name = json["name"]?.stringValue, !name.isEmpty else { throw CNIError(.invalidConfig, "missing network name") }
        guard let type = json["type"]?.stringValue, !type.isEmpty else { throw CNIError(.invalidConfig, "missing plugin type") }
        guard name.unicodeScalars.allSatisfy({ $0.isASCIIAlnum || $0 == "_" || $0 == "." || $0 == "-" }) else {
            throw CNIError(.invalidConfig, "invalid network name", details: name)
        }
        self.name = name
        self.type = type
    }

    /// The `ipam` section, if any.
    public var ipam: JSONValue? { raw["ipam"] }
    /// The `ipam.type`, if any.
    public var ipamType: String? { raw["ipam"]?["type"]?.stringValue }
    /// `runtimeConfig` (capability arguments the runtime passes), or an empty object.
    public var runtimeConfig: JSONValue { raw["runtimeConfig"] ?? .object([:]) }

    /// The result of the previous plugin in a chain, if given.
    public func prevResult() throws(CNIError) -> CNIResult? {
        guard let p = raw["prevResult"], !p.isNull else { return nil }
        return try CNIResult(json: p)
    }

    /// The attachments GC must keep: `cni.dev/valid-attachments` (1.1.0) or `cni.dev/attachments`.
    public func validAttachments() throws(CNIError) -> Set<AttachmentKey> {
        let list = raw["cni.dev/valid-attachments"] ?? raw["cni.dev/attachments"] ?? .array([])
        guard let items = list.arrayValue else { throw CNIError(.decodeFailure, "cni.dev/valid-attachments is not a list") }
        var out = Set<AttachmentKey>()
        for item in items {
            guard let id = item["containerID"]?.stringValue, let ifname = item["ifname"]?.stringValue else {
                throw CNIError(.decodeFailure, "attachment without containerID or ifname")
            }
            out.insert(AttachmentKey(containerID: id, ifname: ifname))
        }
        return out
    }

    /// Reads an optional integer field (code 7 when present but not an integer).
    public func int(_ key: String) throws(CNIError) -> Int? {
        guard let v = raw[key], !v.isNull else { return nil }
        guard let i = v.intValue else { throw CNIError(.invalidConfig, "\(key) must be an integer") }
        return Int(i)
    }

    /// Reads an optional boolean field (code 7 when present but not a boolean).
    public func bool(_ key: String) throws(CNIError) -> Bool? {
        guard let v = raw[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw CNIError(.invalidConfig, "\(key) must be a boolean") }
        return b
    }

    /// Reads an optional string field (code 7 when present but not a string).
    public func string(_ key: String) throws(CNIError) -> String? {
        guard let v = raw[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw CNIError(.invalidConfig, "\(key) must be a string") }
        return s
    }
}

/// The identity of one attachment: the key of every IPAM allocation.
public struct AttachmentKey: Sendable, Hashable, CustomStringConvertible {
    public var containerID: String
    public var ifname: String
    public init(containerID: String, ifname: String) {
        self.containerID = containerID; self.ifname = ifname
    }
    public var description: String { "\(containerID)/\(ifname)" }
}
