import Foundation
import HTTPServing
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import NodeCore

/// The node API the control plane proxies `pods/log` to, at the kubelet's paths and port (10250, HTTPS
/// with a self-signed certificate: upstream's API server does not verify kubelet certificates unless
/// configured to). Requests must carry the bearer token of the agent's own kubeconfig — the token the
/// control plane itself holds.
struct NodeServer: HTTPRequestHandler {
    let agent: NodeAgent
    let token: String?

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        if request.path == "/healthz" { return text(.ok, "ok") }
        guard let token, request.header("Authorization") == "Bearer \(token)" else { return text(.unauthorized, "Unauthorized") }
        let parts = request.path.split(separator: "/").map(String.init)
        guard request.method == .GET, parts.count == 4, parts[0] == "containerLogs" else { return text(.notFound, "404 page not found") }
        guard let worker = await agent.worker(namespace: parts[1], name: parts[2]) else {
            return text(.notFound, "pod \(parts[1])/\(parts[2]) is not running on this node")
        }
        let previous = request.query["previous"] == "true"
        guard let log = await worker.logFile(container: parts[3], previous: previous) else {
            return text(.badRequest, previous ? "previous terminated container \"\(parts[3])\" in pod \"\(parts[2])\" not found"
                                              : "container \"\(parts[3])\" in pod \"\(parts[2])\" is not available")
        }
        let tail = request.query["tailLines"].flatMap(Int.init)
        let follow = request.query["follow"] == "true" && !previous
        let headers: HTTPHeaders = ["Content-Type": "text/plain"]
        guard follow else {
            let data = FileManager.default.contents(atPath: log.path) ?? Data()
            return .full(status: .ok, headers: headers, body: ByteBuffer(bytes: LogTail.lines(Array(data), tail: tail)))
        }
        let stream = AsyncThrowingStream<ByteBuffer, Error> { continuation in
            let task = Task {
                var offset = 0
                var first = true
                while !Task.isCancelled {
                    let data = FileManager.default.contents(atPath: log.path) ?? Data()
                    if data.count > offset {
                        var bytes = Array(data[offset...])
                        if first { bytes = LogTail.lines(bytes, tail: tail) }
                        offset = data.count
                        if !bytes.isEmpty { continuation.yield(ByteBuffer(bytes: bytes)) }
                    }
                    first = false
                    // As the kubelet: following ends when the container this log belongs to ends.
                    if await !worker.isRunning(log) { break }
                    try? await Task.sleep(for: .milliseconds(200))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return .stream(status: .ok, headers: headers, body: stream)
    }

    private func text(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        .full(status: status, headers: ["Content-Type": "text/plain"], body: ByteBuffer(string: message + "\n"))
    }
}
