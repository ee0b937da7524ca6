import CLinuxExtras
import Glibc
import HTTPServing
import KubeAPI
import LinuxSystem
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import NodeCore
import Synchronization

/// `kubectl exec` at the node: `/exec/{namespace}/{pod}/{container}?command=…` upgraded to a WebSocket
/// speaking the remote-command protocol (v5/v4.channel.k8s.io). The command runs as the container's
/// processes do — its network namespace, resolv.conf and hosts, environment and working directory —
/// with pipes, or a pseudo-terminal for `-t`; its exit code ends the session in the status stream.
struct NodeExecHandler: WebSocketHandler {
    let agent: NodeAgent
    let token: String?
    let logger: Logger

    func accept(_ head: HTTPRequestHead) -> HTTPHeaders? {
        guard let token, head.headers.first(name: "Authorization") == "Bearer \(token)",
              head.uri.hasPrefix("/exec/"),
              let chosen = RemoteCommand.negotiate(head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)) else { return nil }
        return ["Sec-WebSocket-Protocol": chosen]
    }

    func serve(_ head: HTTPRequestHead, _ socket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>) async {
        let (path, query) = split(head.uri)
        let parts = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let request = RemoteCommand.Request(query: query)
        do {
            try await socket.executeThenClose { inbound, outbound in
                let frames = FrameWriter(outbound)
                defer { frames.finish() }
                let writer = Task { await frames.run() }
                defer { writer.cancel() }
                guard parts.count == 4, let worker = await agent.worker(namespace: parts[1], name: parts[2]) else {
                    frames.send(RemoteCommand.statusMessage(exitCode: nil, error: "pod not found on this node"))
                    frames.close()
                    await writer.value
                    return
                }
                guard !request.command.isEmpty, let context = await worker.execContext(container: parts[3]) else {
                    frames.send(RemoteCommand.statusMessage(exitCode: nil, error: request.command.isEmpty
                        ? "you must specify at least one command for the container" : "container \(parts[3]) is not running"))
                    frames.close()
                    await writer.value
                    return
                }
                await run(request, context, inbound: inbound, frames: frames)
                await writer.value
            }
        } catch {
            logger.debug("exec stream ended: \(error)")
        }
    }

    private func split(_ uri: String) -> (String, String) {
        let p = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return (p[0], p.count > 1 ? p[1] : "")
    }

    private func run(_ request: RemoteCommand.Request, _ context: PodWorker.ExecContext,
                     inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, frames: FrameWriter) async {
        let io: ProcessIO
        let pid: pid_t
        do {
            (io, pid) = try ProcessIO.start(request, context)
        } catch {
            frames.send(RemoteCommand.statusMessage(exitCode: nil, error: "\(error)"))
            frames.close()
            return
        }
        logger.info("exec in \(context.hostname): \(request.command.joined(separator: " ")) (pid \(pid))")
        // Output: each stream read on a thread that may block, sent in order through the frame writer.
        let outputs = Task {
            await withDiscardingTaskGroup { group in
                for (fd, stream) in io.outputs {
                    group.addTask {
                        while true {
                            let chunk = await Blocking.run { ProcessIO.read(fd) }
                            guard !chunk.isEmpty else { break }
                            frames.send([stream] + chunk)
                        }
                    }
                }
            }
        }
        // Input: stdin, resizes and stdin's close from the client; pings answered.
        let input = Task {
            do {
                for try await frame in inbound {
                    switch frame.opcode {
                    case .binary:
                        let data = Array(frame.unmaskedData.readableBytesView)
                        guard let stream = data.first else { continue }
                        let payload = Array(data.dropFirst())
                        switch stream {
                        case RemoteCommand.stdin: if !payload.isEmpty { await Blocking.run { io.writeInput(payload) } }
                        case RemoteCommand.resize: if let size = RemoteCommand.terminalSize(payload) { io.resize(size.columns, size.rows) }
                        case RemoteCommand.close: if payload.first == RemoteCommand.stdin { io.closeInput() }
                        default: continue
                        }
                    case .ping: frames.pong(frame.unmaskedData)
                    case .connectionClose: return
                    default: continue
                    }
                }
            } catch {}
        }
        let exit = await Reaper.shared.wait(pid)
        // Its output may still be in the pipes (or held open by what it started): read what is there, briefly.
        let drained = Task {
            try? await Task.sleep(for: .seconds(1))
            kill(-pid, SIGKILL)
        }
        await outputs.value
        drained.cancel()
        io.close()
        frames.send(RemoteCommand.statusMessage(exitCode: exit.reported))
        frames.close()
        input.cancel()
    }
}

/// The descriptors of one exec'd process, on the agent's side.
final class ProcessIO: Sendable {
    /// (descriptor, stream id) of what the process writes.
    let outputs: [(Int32, UInt8)]
    private let input: Int32
    private let terminal: Int32
    private let closed = Mutex(false)

    private init(outputs: [(Int32, UInt8)], input: Int32, terminal: Int32) {
        self.outputs = outputs; self.input = input; self.terminal = terminal
    }

    static func start(_ request: RemoteCommand.Request, _ context: PodWorker.ExecContext) throws(SystemError) -> (ProcessIO, pid_t) {
        guard let program = ContainerLaunch.resolve(request.command[0], path: ContainerLaunch.path(of: context.environment),
                                                    isExecutable: { access($0, X_OK) == 0 }) else {
            throw SystemError("exec: \"\(request.command[0])\": executable file not found in $PATH", "", errno: ENOENT)
        }
        var argv = request.command
        argv[0] = program
        var options = Spawn.Options(netnsPath: context.netns, files: context.files, hostname: context.hostname,
                                    workingDir: context.workingDir)
        var owned: [Int32] = []  // the child's ends, closed here once it has them
        defer { owned.forEach(Sys.close) }
        if request.tty {
            var master: Int32 = -1, slave: Int32 = -1
            let e = kp_open_pty(&master, &slave)
            guard e == 0 else { throw SystemError("open pseudo-terminal", "exec", errno: e) }
            owned.append(slave)
            options.stdin = slave; options.stdout = slave; options.stderr = slave
            options.controllingTerminal = true
            do throws(SystemError) {
                let pid = try Spawn.start(argv, environment: context.environment, options)
                return (ProcessIO(outputs: [(master, RemoteCommand.stdout)], input: request.stdin ? master : -1, terminal: master), pid)
            } catch { Sys.close(master); throw error }
        }
        func pair() throws(SystemError) -> (Int32, Int32) {
            var fds: [Int32] = [-1, -1]
            try Sys.check("pipe2", "exec") { pipe2(&fds, O_CLOEXEC) }
            return (fds[0], fds[1])
        }
        var outputs: [(Int32, UInt8)] = [], input: Int32 = -1, mine: [Int32] = []
        do throws(SystemError) {
            if request.stdin { let (r, w) = try pair(); options.stdin = r; owned.append(r); input = w; mine.append(w) }
            if request.stdout { let (r, w) = try pair(); options.stdout = w; owned.append(w); outputs.append((r, RemoteCommand.stdout)); mine.append(r) }
            if request.stderr { let (r, w) = try pair(); options.stderr = w; owned.append(w); outputs.append((r, RemoteCommand.stderr)); mine.append(r) }
            let pid = try Spawn.start(argv, environment: context.environment, options)
            return (ProcessIO(outputs: outputs, input: input, terminal: -1), pid)
        } catch {
            mine.forEach(Sys.close)
            throw error
        }
    }

    /// One read (empty at the end of the stream, or when the terminal's other side is gone: EIO).
    static func read(_ fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 32 * 1024)
        let result = buffer.withUnsafeMutableBytes { raw -> IOResult in
            guard let base = raw.baseAddress else { return .failed(EINVAL) }
            return Sys.read(fd, base, raw.count)
        }
        if case .moved(let n) = result, n > 0 { return Array(buffer[0..<n]) }
        return []
    }

    func writeInput(_ bytes: [UInt8]) {
        guard input >= 0, !closed.withLock({ $0 }) else { return }
        _ = Sys.writeAll(input, bytes)
    }

    func resize(_ columns: UInt16, _ rows: UInt16) {
        if terminal >= 0 { _ = kp_set_window_size(terminal, columns, rows) }
    }

    /// stdin's end of input (a pipe is closed; a terminal gets ^D, as a terminal's end of input).
    func closeInput() {
        guard input >= 0 else { return }
        if terminal >= 0 { writeInput([0x04]); return }
        let first = closed.withLock { c -> Bool in defer { c = true }; return !c }
        if first { Sys.close(input) }
    }

    func close() {
        let inputOpen = closed.withLock { c -> Bool in defer { c = true }; return !c }
        if inputOpen, input >= 0, input != terminal { Sys.close(input) }
        for (fd, _) in outputs { Sys.close(fd) }
    }
}

/// Frames to the client, in order, from any task: a stream consumed by one writer.
final class FrameWriter: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    private let stream: AsyncStream<WebSocketFrame>
    private let continuation: AsyncStream<WebSocketFrame>.Continuation

    init(_ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) {
        self.outbound = outbound
        (stream, continuation) = AsyncStream.makeStream()
    }

    func send(_ message: [UInt8]) {
        continuation.yield(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: message)))
    }

    func pong(_ data: ByteBuffer) { continuation.yield(WebSocketFrame(fin: true, opcode: .pong, data: data)) }

    /// A normal close, after everything sent before it.
    func close() {
        var code = ByteBuffer()
        code.write(webSocketErrorCode: .normalClosure)
        continuation.yield(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
        continuation.finish()
    }

    func finish() { continuation.finish() }

    func run() async {
        for await frame in stream {
            do { try await outbound.write(frame) } catch { return }
            if frame.opcode == .connectionClose { return }
        }
    }
}
