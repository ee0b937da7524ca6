import KubeAPI

/// How a container becomes a process: this agent runs no images, so a container is its `command` +
/// `args`, run with the pod's environment in the pod's network namespace.
public struct ProcessSpec: Sendable, Equatable {
    /// argv, with argv[0] resolved to an absolute path.
    public var argv: [String]
    /// `NAME=value` entries.
    public var environment: [String]
    public var workingDir: String
    public init(argv: [String], environment: [String], workingDir: String) {
        self.argv = argv; self.environment = environment; self.workingDir = workingDir
    }
}

/// Where a probe connects or what it runs.
public enum ProbeAction: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case http(host: String, port: Int, path: String, https: Bool, headers: [(String, String)])
    case exec([String])

    public static func == (a: ProbeAction, b: ProbeAction) -> Bool {
        switch (a, b) {
        case let (.tcp(h1, p1), .tcp(h2, p2)): h1 == h2 && p1 == p2
        case let (.http(h1, p1, q1, s1, x1), .http(h2, p2, q2, s2, x2)):
            h1 == h2 && p1 == p2 && q1 == q2 && s1 == s2 && x1.map { "\($0.0):\($0.1)" } == x2.map { "\($0.0):\($0.1)" }
        case let (.exec(c1), .exec(c2)): c1 == c2
        default: false
        }
    }
}

public enum ContainerLaunch {
    /// A container that cannot start, with the kubelet's waiting reason.
    public struct Refusal: Error, Sendable, Equatable {
        public var reason: String, message: String
    }

    /// The environment every container sees before its own `env`, as the kubelet and a runtime set it.
    public struct Context: Sendable {
        public var podIP: String, hostIP: String, nodeName: String
        /// `KUBERNETES_SERVICE_HOST`/`PORT` and the other variables of the `kubernetes` Service (empty when unknown).
        public var serviceEnvironment: [(String, String)]
        public init(podIP: String, hostIP: String, nodeName: String, serviceEnvironment: [(String, String)]) {
            self.podIP = podIP; self.hostIP = hostIP; self.nodeName = nodeName; self.serviceEnvironment = serviceEnvironment
        }
    }

    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The `kubernetes` Service's variables, as the kubelet injects them into every container.
    public static func kubernetesServiceEnvironment(clusterIP: String, port: Int) -> [(String, String)] {
        let hostPort = clusterIP.contains(":") ? "[\(clusterIP)]:\(port)" : "\(clusterIP):\(port)"
        return [("KUBERNETES_SERVICE_HOST", clusterIP), ("KUBERNETES_SERVICE_PORT", String(port)),
                ("KUBERNETES_SERVICE_PORT_HTTPS", String(port)), ("KUBERNETES_PORT", "tcp://\(hostPort)"),
                ("KUBERNETES_PORT_\(port)_TCP", "tcp://\(hostPort)"), ("KUBERNETES_PORT_\(port)_TCP_PROTO", "tcp"),
                ("KUBERNETES_PORT_\(port)_TCP_PORT", String(port)), ("KUBERNETES_PORT_\(port)_TCP_ADDR", clusterIP)]
    }

    public static func process(_ container: Container, pod: Pod, context: Context,
                               isExecutable: (String) -> Bool) -> Result<ProcessSpec, Refusal> {
        guard let command = container.command, !command.isEmpty else {
            return .failure(Refusal(reason: "CreateContainerError",
                                    message: "kproxy node runs no images: container \"\(container.name)\" needs a command"))
        }
        var env: [(String, String)] = [("PATH", defaultPath), ("HOSTNAME", pod.spec.hostname ?? pod.metadata.name ?? ""), ("HOME", "/root")]
        env += context.serviceEnvironment
        var known = Dictionary(env, uniquingKeysWith: { _, b in b })
        for variable in container.env ?? [] {
            let value: String
            if let v = variable.value {
                value = expand(v, known)
            } else if let path = variable.unknownFields.values["valueFrom"]?["fieldRef"]?["fieldPath"]?.stringValue {
                guard let v = fieldValue(path, pod: pod, context: context) else {
                    return .failure(Refusal(reason: "CreateContainerConfigError",
                                            message: "env \(variable.name): unsupported fieldRef \(path)"))
                }
                value = v
            } else if variable.unknownFields.values["valueFrom"] != nil {
                return .failure(Refusal(reason: "CreateContainerConfigError",
                                        message: "env \(variable.name): only value and fieldRef are supported"))
            } else {
                value = ""
            }
            env.removeAll { $0.0 == variable.name }
            env.append((variable.name, value))
            known[variable.name] = value
        }
        var argv = (command + (container.args ?? [])).map { expand($0, known) }
        guard let program = resolve(argv[0], path: known["PATH"] ?? defaultPath, isExecutable: isExecutable) else {
            return .failure(Refusal(reason: "CreateContainerError",
                                    message: "exec: \"\(argv[0])\": executable file not found in $PATH"))
        }
        argv[0] = program
        let dir = container.workingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        return .success(ProcessSpec(argv: argv, environment: env.map { "\($0.0)=\($0.1)" }, workingDir: dir))
    }

    /// Upstream's `$(VAR)` expansion: a defined variable is replaced, `$$` is a literal `$`, anything else stays.
    public static func expand(_ text: String, _ vars: [String: String]) -> String {
        guard text.contains("$") else { return text }
        var out = "", chars = Array(text), i = 0
        while i < chars.count {
            if chars[i] == "$", i + 1 < chars.count {
                if chars[i + 1] == "$" { out.append("$"); i += 2; continue }
                if chars[i + 1] == "(", let close = chars[(i + 2)...].firstIndex(of: ")") {
                    let name = String(chars[(i + 2)..<close])
                    if let v = vars[name] { out += v; i = close + 1; continue }
                }
            }
            out.append(chars[i]); i += 1
        }
        return out
    }

    static func fieldValue(_ path: String, pod: Pod, context: Context) -> String? {
        switch path {
        case "metadata.name": pod.metadata.name ?? ""
        case "metadata.namespace": pod.metadata.namespace ?? ""
        case "metadata.uid": pod.metadata.uid ?? ""
        case "spec.nodeName": context.nodeName
        case "spec.serviceAccountName": pod.spec.serviceAccountName ?? "default"
        case "status.podIP": context.podIP
        case "status.hostIP": context.hostIP
        default: nil
        }
    }

    /// The `PATH` of a `NAME=value` environment (the default when it has none).
    public static func path(of environment: [String]) -> String {
        environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? defaultPath
    }

    /// A program name resolved through `PATH` (a name with a slash is taken as it is).
    public static func resolve(_ name: String, path: String, isExecutable: (String) -> Bool) -> String? {
        if name.contains("/") { return isExecutable(name) ? name : nil }
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = "\(dir)/\(name)"
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// What a probe does; a named port is looked up in the container's ports. Nil when the probe is unusable.
    public static func probeAction(_ probe: Probe, container: Container, podIP: String) -> ProbeAction? {
        func port(_ p: IntOrString) -> Int? {
            switch p {
            case .int(let n): return n > 0 && n < 65536 ? n : nil
            case .string(let name): return container.ports?.first { $0.name == name }?.containerPort
            }
        }
        if let exec = probe.exec, let command = exec.command, !command.isEmpty { return .exec(command) }
        if let tcp = probe.tcpSocket, let p = port(tcp.port) {
            return .tcp(host: tcp.host.flatMap { $0.isEmpty ? nil : $0 } ?? podIP, port: p)
        }
        if let http = probe.httpGet, let p = port(http.port) {
            let headers = (http.unknownFields.values["httpHeaders"]?.arrayValue ?? []).compactMap { h -> (String, String)? in
                guard let n = h["name"]?.stringValue else { return nil }
                return (n, h["value"]?.stringValue ?? "")
            }
            var path = http.path ?? "/"
            if !path.hasPrefix("/") { path = "/" + path }
            return .http(host: http.host.flatMap { $0.isEmpty ? nil : $0 } ?? podIP, port: p, path: path,
                         https: http.scheme?.uppercased() == "HTTPS", headers: headers)
        }
        return nil
    }

    public static func probeTiming(_ probe: Probe) -> ProbeTiming {
        ProbeTiming(initialDelay: Double(probe.initialDelaySeconds ?? 0), period: Double(max(1, probe.periodSeconds ?? 10)),
                    timeout: Double(max(1, probe.timeoutSeconds ?? 1)), successThreshold: probe.successThreshold ?? 1,
                    failureThreshold: probe.failureThreshold ?? 3)
    }

    /// Host ports the pod asks for, as the `portMappings` capability.
    public static func portMappings(_ pod: Pod) -> [CNIPortMapping] {
        pod.spec.containers.flatMap { c in
            (c.ports ?? []).compactMap { p -> CNIPortMapping? in
                guard let host = p.hostPort, host > 0 else { return nil }
                return CNIPortMapping(hostPort: host, containerPort: p.containerPort, proto: p.protocol?.rawValue ?? "TCP", hostIP: p.hostIP)
            }
        }
    }
}
