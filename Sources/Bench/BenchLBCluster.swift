import Foundation

/// The mini cluster `kproxy bench lb` measures in, all in network namespaces it creates and deletes: a node
/// (control plane, the balancer under test), a client on a veth to it, and N backend pods on veths, each
/// running the same nginx. Addresses: client 10.250.0.2 ↔ node 10.250.0.1; backend i 10.244.(i+1).2 ↔
/// node 10.244.(i+1).1; the Service's ClusterIP 10.96.0.100:80 → backends :8080.
package final class LBCluster {
    package static let clusterIP = "10.96.0.100", nodeIP = "10.250.0.1", clientIP = "10.250.0.2"
    package static let haproxyPort = 8000, nginxStreamPort = 8001

    package let tag = String(UInt32.random(in: 0..<UInt32.max) % 100_000)
    package let dir: String
    package let binary: String
    package let backends: Int
    private(set) var namespaces: [String] = []
    private var processes: [String: Process] = [:]
    package var node: String { "kpb-node-\(tag)" }
    package var client: String { "kpb-cli-\(tag)" }
    package func backend(_ i: Int) -> String { "kpb-be\(i)-\(tag)" }
    package func backendIP(_ i: Int) -> String { "10.244.\(i + 1).2" }
    package var kubeconfig: String { dir + "/kubeconfig" }

    package init(binary: String, backends: Int) throws {
        self.binary = binary
        self.backends = backends
        dir = NSTemporaryDirectory() + "kproxy-bench-lb-\(tag)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    // MARK: topology

    package func create() throws {
        for ns in [node, client] + (0..<backends).map(backend) {
            try Shell.run(["ip", "netns", "add", ns])
            namespaces.append(ns)
            try exec(ns, ["ip", "link", "set", "lo", "up"])
        }
        try exec(node, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        // Proxies open a connection per client connection: reuse TIME-WAIT ports for new outgoing connects
        // (as HAProxy's and nginx's docs advise), for every mode alike.
        try exec(node, ["sysctl", "-q", "-w", "net.ipv4.tcp_tw_reuse=1"])
        // One request per connection at thousands per second leaves far more TIME-WAIT sockets at the backends
        // (they close first) than there are ephemeral ports: a reused port then meets a TIME-WAIT socket and
        // its SYN stalls, differently for each scheduler's port pattern. Cap TIME-WAIT in every namespace so
        // the figures measure the balancers, not that collision.
        for ns in namespaces { try exec(ns, ["sysctl", "-q", "-w", "net.ipv4.tcp_max_tw_buckets=2048"]) }
        try link(node, "10.250.0.1", client, "10.250.0.2", name: "kpbc\(tag)")
        for i in 0..<backends { try link(node, "10.244.\(i + 1).1", backend(i), backendIP(i), name: "kpb\(i)x\(tag)") }
    }

    private func link(_ host: String, _ hostIP: String, _ peer: String, _ peerIP: String, name: String) throws {
        let a = String(name.prefix(13)) + "h", b = String(name.prefix(13)) + "p"
        try exec(host, ["ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", peer])
        try exec(host, ["ip", "addr", "add", "\(hostIP)/24", "dev", a])
        try exec(host, ["ip", "link", "set", a, "up"])
        try exec(peer, ["ip", "addr", "add", "\(peerIP)/24", "dev", b])
        try exec(peer, ["ip", "link", "set", b, "up"])
        try exec(peer, ["ip", "route", "add", "default", "via", hostIP])
    }

    /// Stops every process and deletes every namespace and file (idempotent).
    package func destroy() {
        for name in processes.keys { stop(name) }
        for ns in namespaces { _ = try? Shell.run(["ip", "netns", "del", ns]) }
        namespaces = []
        try? FileManager.default.removeItem(atPath: dir)
    }

    @discardableResult
    package func exec(_ ns: String, _ args: [String]) throws -> String { try Shell.run(["ip", "netns", "exec", ns] + args) }

    // MARK: processes

    /// Starts `args` in `ns` in the background, output to DIR/NAME.log.
    @discardableResult
    package func start(_ name: String, in ns: String, _ args: [String]) throws -> Process {
        stop(name)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", ns] + args
        let log = dir + "/\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        p.standardOutput = handle
        p.standardError = handle
        p.standardInput = FileHandle.nullDevice
        try p.run()
        processes[name] = p
        return p
    }

    package func pid(_ name: String) -> Int32? { processes[name].flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    /// SIGTERM (or SIGKILL to the whole process tree: nginx's workers outlive a killed master), then
    /// SIGKILL after 5 s.
    package func stop(_ name: String, graceful: Bool = true) {
        guard let p = processes.removeValue(forKey: name), p.isRunning else { return }
        if graceful {
            kill(p.processIdentifier, SIGTERM)
        } else {
            for pid in Self.tree(p.processIdentifier).reversed() { kill(pid, SIGKILL) }
        }
        let deadline = Date().addingTimeInterval(5)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    package func log(_ name: String) -> String { (try? String(contentsOfFile: dir + "/\(name).log", encoding: .utf8)) ?? "" }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass.
    package static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Whether one GET from the client namespace succeeds.
    package func reachable(_ address: String, _ port: Int) -> Bool {
        (try? exec(client, ["curl", "--noproxy", "*", "--silent", "--fail", "--max-time", "1", "http://\(address):\(port)/"])) != nil
    }

    // MARK: backends

    /// nginx in backend `i`: `GET /` answers "be-i" (after 50 ms when `slow`); :8081 serves stub_status.
    package func startBackend(_ i: Int, slow: Bool = false) throws {
        let ip = backendIP(i)
        let content = slow ? "echo_sleep 0.05; echo_exec @answer;" : "return 200 \"be-\(i)\\n\";"
        let config = """
        \(slow ? "load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;" : "")
        worker_processes 1;
        daemon off;
        pid \(dir)/be\(i).pid;
        error_log \(dir)/be\(i)-error.log warn;
        events { worker_connections 16384; }
        http {
            access_log off;
            keepalive_requests 10000000;
            keepalive_timeout 120s;
            server {
                listen \(ip):8080 backlog=4096;
                location / { \(content) }
                location @answer { return 200 "be-\(i)\\n"; }
            }
            server { listen \(ip):8081; location / { stub_status; } }
        }
        """
        let file = dir + "/be\(i).conf"
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        try start("be\(i)", in: backend(i), ["nginx", "-c", file, "-p", dir, "-e", "\(dir)/be\(i)-error.log"])
        guard Self.waitFor(10, { (try? self.exec(self.node, ["curl", "--silent", "--fail", "--max-time", "1", "http://\(ip):8080/"])) != nil }) else {
            throw Shell.Failed(description: "backend \(i) did not start: \(log("be\(i)"))")
        }
    }

    /// Requests each backend's nginx has served so far (stub_status), read from the node.
    package func backendRequests() -> [Int] {
        (0..<backends).map { i in
            guard let text = try? exec(node, ["curl", "--silent", "--max-time", "1", "http://\(backendIP(i)):8081/"]) else { return 0 }
            // "Active connections: N \n server accepts handled requests\n A H R \n ..."
            let lines = text.split(separator: "\n")
            guard lines.count > 2 else { return 0 }
            let numbers = lines[2].split(separator: " ").compactMap { Int($0) }
            return numbers.count == 3 ? numbers[2] : 0
        }
    }

    // MARK: control plane and kproxy

    package func startControlPlane() throws {
        try start("controlplane", in: node, [binary, "controlplane", "--data-dir", dir + "/cp", "--listen", "127.0.0.1:6443",
                                              "--write-kubeconfig", kubeconfig])
        guard Self.waitFor(30, { (try? self.kubectl(["get", "--raw", "/readyz"])) != nil }) else {
            throw Shell.Failed(description: "control plane did not start: \(log("controlplane").suffix(2000))")
        }
        let node = #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"},"status":{"addresses":[{"type":"InternalIP","address":"\#(Self.nodeIP)"}]}}"#
        let service = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"\#(Self.clusterIP)","ports":[{"name":"http","port":80,"targetPort":8080}]}}"#
        try kubectl(["apply", "-f", "-"], input: node)
        try kubectl(["apply", "-f", "-"], input: service)
        try setEndpoints(Array(0..<backends))
    }

    /// The Service's EndpointSlice lists these backends (ready).
    package func setEndpoints(_ list: [Int]) throws {
        let endpoints = list.map { #"{"addresses":["\#(backendIP($0))"],"conditions":{"ready":true},"nodeName":"node-a"}"# }
        let slice = #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-bench","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[\#(endpoints.joined(separator: ","))]}"#
        try kubectl(["apply", "-f", "-"], input: slice)
    }

    @discardableResult
    package func kubectl(_ args: [String], input: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", node, "kubectl", "--kubeconfig", kubeconfig, "--cache-dir", dir + "/kubecache"] + args
        let out = Pipe(), inPipe = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = inPipe
        try p.run()
        if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else { throw Shell.Failed(description: "kubectl \(args.joined(separator: " ")): \(text)") }
        return text
    }

    /// `kproxy proxy` in the node namespace; returns once a request through the ClusterIP succeeds.
    package func startProxy(_ name: String = "proxy", mode: String, scheduler: String?, statusPorts: (Int, Int) = (10249, 10256)) throws {
        var args = [binary, "proxy", "--kubeconfig", kubeconfig, "--node", "node-a", "--mode", mode,
                    "--cluster-cidr", "10.244.0.0/16", "--service-cidr", "10.96.0.0/12",
                    "--metrics-bind-address", "127.0.0.1:\(statusPorts.0)", "--healthz-bind-address", "127.0.0.1:\(statusPorts.1)"]
        if let scheduler { args += ["--scheduler", scheduler] }
        try start(name, in: node, args)
        guard Self.waitFor(30, { self.synced(healthzPort: statusPorts.1) && self.reachable(Self.clusterIP, 80) }) else {
            throw Shell.Failed(description: "kproxy proxy --mode \(mode) did not serve: \(log(name).suffix(2000))")
        }
    }

    /// The proxy's /healthz reports a sync.
    package func synced(healthzPort: Int) -> Bool {
        guard let body = try? exec(node, ["curl", "--silent", "--max-time", "1", "http://127.0.0.1:\(healthzPort)/healthz"]) else { return false }
        return body.contains("lastUpdated") && !body.contains("0001-01-01")
    }

    /// Stops the proxy and removes its tables (the next mode starts from a clean node).
    package func stopProxy(_ name: String = "proxy") {
        stop(name)
        for family in ["ip", "ip6"] {
            if let tables = try? exec(node, ["nft", "list", "tables"]), tables.contains("table \(family) kproxy") {
                _ = try? exec(node, ["nft", "delete", "table", family, "kproxy"])
            }
        }
    }

    // MARK: peers

    package func startHAProxy(balance: String, up: [Int]) throws {
        let servers = up.map { i in
            "    server be\(i) \(backendIP(i)):8080 check inter 1s fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down"
        }
        let config = """
        global
            nbthread \(ProcessInfo.processInfo.activeProcessorCount)
            maxconn 4000
            stats socket \(dir)/haproxy.sock mode 600 level admin
        defaults
            mode tcp
            timeout connect 250ms
            timeout client 60s
            timeout server 60s
            retries 3
            option redispatch
            option splice-auto
        listen web
            bind \(Self.nodeIP):\(Self.haproxyPort)
            balance \(balance)
        \(servers.joined(separator: "\n"))
        """
        let file = dir + "/haproxy.cfg"
        try (config + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try start("haproxy", in: node, ["haproxy", "-db", "-f", file])
        guard Self.waitFor(10, { self.reachable(Self.nodeIP, Self.haproxyPort) }) else {
            throw Shell.Failed(description: "haproxy did not start: \(log("haproxy"))")
        }
    }

    /// HAProxy's runtime API: puts a server into maintenance (as an operator removing it would).
    package func haproxyDisable(_ i: Int) throws {
        try exec(node, ["python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'disable server web/be\(i)\\n'); s.recv(4096)", dir + "/haproxy.sock"])
    }

    package static var nginxStreamAvailable: Bool { FileManager.default.fileExists(atPath: "/usr/lib/nginx/modules/ngx_stream_module.so") }

    package func startNginxStream(up: [Int]) throws {
        let servers = up.map { "        server \(backendIP($0)):8080 max_fails=1 fail_timeout=10s;" }
        let config = """
        load_module /usr/lib/nginx/modules/ngx_stream_module.so;
        worker_processes \(ProcessInfo.processInfo.activeProcessorCount);
        daemon off;
        pid \(dir)/lb-nginx.pid;
        error_log \(dir)/lb-nginx-error.log warn;
        events { worker_connections 65536; }
        stream {
            upstream web {
                least_conn;
        \(servers.joined(separator: "\n"))
            }
            server {
                listen \(Self.nodeIP):\(Self.nginxStreamPort) reuseport backlog=4096;
                proxy_pass web;
                proxy_connect_timeout 250ms;
                proxy_next_upstream on;
                proxy_next_upstream_tries 4;
            }
        }
        """
        let file = dir + "/lb-nginx.conf"
        try config.write(toFile: file, atomically: true, encoding: .utf8)
        try start("nginx-stream", in: node, ["nginx", "-c", file, "-p", dir, "-e", "\(dir)/lb-nginx-error.log"])
        guard Self.waitFor(10, { self.reachable(Self.nodeIP, Self.nginxStreamPort) }) else {
            throw Shell.Failed(description: "nginx stream did not start: \(log("nginx-stream"))")
        }
    }

    /// CPU seconds (utime + stime) of a process and all its descendants, from /proc.
    package static func treeCPU(_ root: Int32) -> Double {
        tree(root).reduce(0) { $0 + (BenchMeasure.sample(pid: $1)?.cpuSeconds ?? 0) }
    }

    /// A process and all its descendants (parents first), from /proc.
    package static func tree(_ root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { children[ppid, default: []].append(pid) }
        }
        var out: [Int32] = []
        var queue = [root]
        while !queue.isEmpty {
            let pid = queue.removeFirst()
            out.append(pid)
            queue += children[pid] ?? []
        }
        return out
    }

    /// Busy CPU seconds of the whole machine (all cores, every process and softirq), from /proc/stat.
    package static func machineCPU() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first else { return 0 }
        let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard v.count >= 5 else { return 0 }
        let busy = v.reduce(0, +) - v[3] - v[4]  // minus idle and iowait
        return busy / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
