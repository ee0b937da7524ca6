import Values

/// A network configuration list (`.conflist`) as a runtime reads it from `/etc/cni/net.d`.
public struct NetConfList: Sendable, Equatable {
    public var raw: JSONValue
    public var cniVersion: CNIVersion
    public var name: String
    public var disableCheck: Bool
    public var disableGC: Bool
    /// The plugin entries, each without `name`/`cniVersion` (the runtime injects them).
    public var plugins: [JSONValue]

    /// Parses a conflist; when `cniVersions` (1.1.0) is present, picks the highest version this code supports.
    public init(json: JSONValue) throws(CNIError) {
        raw = json
        var version = json["cniVersion"]?.stringValue
        if let versions = json["cniVersions"]?.arrayValue?.compactMap(\.stringValue) {
            let ok = versions.compactMap(CNIVersion.init).filter { CNIVersion.supported.contains($0) }
            if let best = ok.max() { version = best.description }
        }
        cniVersion = try CNIVersion.negotiate(version)
        guard let name = json["name"]?.stringValue, !name.isEmpty else { throw CNIError(.invalidConfig, "conflist without name") }
        self.name = name
        disableCheck = json["disableCheck"]?.boolValue ?? false
        disableGC = json["disableGC"]?.boolValue ?? false
        guard let plugins = json["plugins"]?.arrayValue, !plugins.isEmpty else { throw CNIError(.invalidConfig, "conflist without plugins") }
        self.plugins = plugins
    }

    /// The config a runtime sends to plugin `index`: its entry plus `name`, `cniVersion`, the runtime
    /// config for the capabilities the plugin declares, and `prevResult` when chained.
    public func pluginConfig(at index: Int, runtimeConfig: [String: JSONValue] = [:], prevResult: JSONValue? = nil) -> JSONValue {
        var conf = plugins[index]
        conf["name"] = .string(name)
        conf["cniVersion"] = .string(cniVersion.description)
        let caps = conf["capabilities"]?.objectValue ?? [:]
        var rc: [String: JSONValue] = [:]
        for (k, v) in runtimeConfig where caps[k]?.boolValue == true { rc[k] = v }
        if !rc.isEmpty { conf["runtimeConfig"] = .object(rc) }
        if let prevResult { conf["prevResult"] = prevResult }
        return conf
    }
}
