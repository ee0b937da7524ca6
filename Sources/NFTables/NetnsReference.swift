import CNftnl
#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// A network namespace a netlink socket is opened in.
///
/// `setns(2)` changes only the calling OS thread, so entering a namespace happens on a dedicated thread that
/// opens the socket and ends; the socket stays bound to the namespace it was created in.
public enum NetnsReference: Hashable, Sendable, CustomStringConvertible {
    /// The namespace of the calling process.
    case current
    /// A namespace created by `ip netns add NAME` (`/var/run/netns/NAME`).
    case named(String)
    /// The network namespace of a process (`/proc/PID/ns/net`).
    case process(Int32)
    /// Any namespace file (a bind mount or `/proc/…/ns/net`).
    case path(String)

    /// The namespace file to `open(2)`, or nil for the current namespace.
    public var path: String? {
        switch self {
        case .current: nil
        case .named(let name): "/var/run/netns/\(name)"
        case .process(let pid): "/proc/\(pid)/ns/net"
        case .path(let path): path
        }
    }

    /// A readable name for errors.
    public var description: String {
        switch self {
        case .current: "current netns"
        case .named(let name): "netns \(name)"
        case .process(let pid): "netns of pid \(pid)"
        case .path(let path): "netns \(path)"
        }
    }

    /// Runs `body` inside this namespace on a fresh OS thread and returns its result.
    ///
    /// The thread enters the namespace with `setns(2)` and exits after `body`; the caller's thread never changes
    /// namespace. File descriptors opened by `body` (sockets) stay bound to the namespace.
    public func run<T>(_ body: @escaping () throws -> T) throws -> T {
        guard let path else { return try body() }
        let job = NamespaceJob(path: path, namespace: description, body: body)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<NamespaceThreadEntry>.fromOpaque(raw).takeRetainedValue().perform()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<NamespaceJob<T>>.fromOpaque(context).release()
            throw NFTablesError(operation: "pthread_create", object: description, errno: created)
        }
        pthread_join(thread, nil)
        return try job.result()
    }
}

/// Work handed to the namespace thread. The thread is joined before the creating thread reads `outcome`,
/// so the two threads never touch it at the same time.
private final class NamespaceJob<T>: NamespaceThreadEntry {
    let path: String
    let namespace: String
    let body: () throws -> T
    var outcome: Result<T, any Error> = .failure(NFTablesError(operation: "setns", object: "", errno: EINVAL))

    init(path: String, namespace: String, body: @escaping () throws -> T) {
        self.path = path
        self.namespace = namespace
        self.body = body
    }

    override func perform() {
        let (fd, openError) = Sys.retrying { open(path, O_RDONLY | O_CLOEXEC) }
        guard openError == 0 else {
            outcome = .failure(NFTablesError(operation: "open namespace", object: namespace, errno: openError))
            return
        }
        defer { Sys.close(fd) }
        let (_, setnsError) = Sys.retrying { kproxy_setns(fd, kproxy_clone_newnet()) }
        guard setnsError == 0 else {
            outcome = .failure(NFTablesError(operation: "setns", object: namespace, errno: setnsError))
            return
        }
        outcome = Result { try body() }
    }

    func result() throws -> T { try outcome.get() }
}

/// A non-generic base class so the C thread entry point can call into a generic job.
private class NamespaceThreadEntry {
    func perform() {}
}
