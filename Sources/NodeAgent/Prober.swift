import CLinuxExtras
import Glibc
import LinuxSystem
import NodeCore

/// Runs probes as the kubelet does: TCP and HTTP from the node's network namespace to the pod's address,
/// exec inside the pod (its network namespace and resolv.conf). Each returns success or failure within
/// its timeout; nothing here throws.
enum Prober {
    static func run(_ action: ProbeAction, timeout: Double, netnsPath: String, files: PodFiles?,
                    environment: [String]) async -> Bool {
        switch action {
        case .tcp(let host, let port):
            return await Blocking.run { () -> Bool in
                guard let fd = connect(host, port, timeout: timeout) else { return false }
                Sys.close(fd)
                return true
            }
        case .http(let host, let port, let path, let https, let headers):
            if https { return false }  // no TLS client in the agent: an HTTPS probe fails, as its log line says
            return await Blocking.run { httpGet(host, port, path, headers, timeout: timeout) }
        case .exec(let command):
            return await exec(command, timeout: timeout, netnsPath: netnsPath, files: files, environment: environment)
        }
    }

    /// A connected blocking socket, or nil when the connection failed or took longer than `timeout`.
    static func connect(_ host: String, _ port: Int, timeout: Double) -> Int32? {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        var family: Int32 = AF_INET
        let parsed = withUnsafeMutablePointer(to: &storage) { raw -> Bool in
            raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                if inet_pton(AF_INET, host, &sin.pointee.sin_addr) == 1 {
                    sin.pointee.sin_family = sa_family_t(AF_INET); sin.pointee.sin_port = in_port_t(UInt16(port).bigEndian)
                    length = socklen_t(MemoryLayout<sockaddr_in>.size); return true
                }
                return false
            } || raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                if inet_pton(AF_INET6, host, &sin6.pointee.sin6_addr) == 1 {
                    sin6.pointee.sin6_family = sa_family_t(AF_INET6); sin6.pointee.sin6_port = in_port_t(UInt16(port).bigEndian)
                    length = socklen_t(MemoryLayout<sockaddr_in6>.size); family = AF_INET6; return true
                }
                return false
            }
        }
        guard parsed else { return nil }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        let (_, e) = Sys.retrying { withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) } } }
        if e != 0 && e != EINPROGRESS { Sys.close(fd); return nil }
        if e == EINPROGRESS {
            guard wait(fd, events: Int16(POLLOUT), timeout: timeout), Sys.socketError(fd) == 0 else { Sys.close(fd); return nil }
        }
        return fd
    }

    static func wait(_ fd: Int32, events: Int16, timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let (n, _) = Sys.retrying { poll(&p, 1, Int32(timeout * 1000)) }
        return n == 1 && p.revents & events != 0
    }

    /// GET with the kubelet's headers; success is a status from 200 to 399.
    static func httpGet(_ host: String, _ port: Int, _ path: String, _ headers: [(String, String)], timeout: Double) -> Bool {
        guard let fd = connect(host, port, timeout: timeout) else { return false }
        defer { Sys.close(fd) }
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var request = "GET \(path) HTTP/1.1\r\n"
        var names = Set<String>()
        for (name, value) in headers { request += "\(name): \(value)\r\n"; names.insert(name.lowercased()) }
        if !names.contains("host") { request += "Host: \(authority)\r\n" }
        if !names.contains("user-agent") { request += "User-Agent: kube-probe/1.32\r\n" }
        if !names.contains("accept") { request += "Accept: */*\r\n" }
        request += "Connection: close\r\n\r\n"
        var rest = Array(request.utf8)[...]
        while !rest.isEmpty {
            guard wait(fd, events: Int16(POLLOUT), timeout: timeout) else { return false }
            let written = rest.withUnsafeBytes { raw -> IOResult in
                guard let base = raw.baseAddress else { return .failed(EINVAL) }
                return Sys.write(fd, base, raw.count)
            }
            switch written {
            case .moved(let n): rest = rest.dropFirst(n)
            case .wouldBlock: continue
            case .failed: return false
            }
        }
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !head.contains(0x0A) && head.count < 4096 {
            guard wait(fd, events: Int16(POLLIN), timeout: timeout) else { return false }
            let r = buffer.withUnsafeMutableBytes { raw -> IOResult in
                guard let base = raw.baseAddress else { return .failed(EINVAL) }
                return Sys.read(fd, base, raw.count)
            }
            switch r {
            case .moved(0), .failed: return false
            case .moved(let n): head += buffer[0..<n]
            case .wouldBlock: continue
            }
        }
        // "HTTP/1.1 200 OK"
        let line = String(decoding: head.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else { return false }
        return (200..<400).contains(code)
    }

    /// Runs the command in the pod; success is exit code 0 within the timeout (killed otherwise).
    static func exec(_ command: [String], timeout: Double, netnsPath: String, files: PodFiles?,
                     environment: [String]) async -> Bool {
        guard let program = ContainerLaunch.resolve(command[0], path: ContainerLaunch.path(of: environment), isExecutable: { access($0, X_OK) == 0 }) else {
            return false
        }
        var argv = command
        argv[0] = program
        let options = Spawn.Options(netnsPath: netnsPath, files: files)
        guard let pid = try? Spawn.start(argv, environment: environment, options) else { return false }
        return await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await Reaper.shared.wait(pid).reported == 0 }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            if let first {
                group.cancelAll()
                return first
            }
            kill(-pid, SIGKILL)  // its own session: the whole group goes
            _ = await group.next()
            return false
        }
    }
}
