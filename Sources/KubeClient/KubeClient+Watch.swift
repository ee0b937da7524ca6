import Foundation
import KubeAPI
import NIOCore

extension KubeClient {
    /// WATCH objects from `resourceVersion`. The stream ends when the server closes the watch
    /// (after `timeoutSeconds`) and throws `KubeClientError.status` for a non-2xx answer (410 when the
    /// resourceVersion is too old). Cancelling the consuming task, `stop()`, or dropping the stream closes the request.
    public func watch<T: KubeObject>(_ type: T.Type, namespace: String? = nil, labelSelector: String? = nil,
                                     fieldSelector: String? = nil, resourceVersion: String? = nil,
                                     timeoutSeconds: Int? = nil, allowWatchBookmarks: Bool = false)
        -> WatchStream<T>
    {
        watch(type, namespace: namespace,
              options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector,
                                   resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds,
                                   allowWatchBookmarks: allowWatchBookmarks))
    }

    /// WATCH with full `ListOptions` (limit and continue are ignored).
    public func watch<T: KubeObject>(_ type: T.Type, namespace: String? = nil, options: ListOptions)
        -> WatchStream<T>
    {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: TypedWatchEvent<T>.self)
        let path = RequestPath(info: T.resourceInfo, namespace: namespace, query: options.queryItems(watch: true))
        // No client-side limit beyond the server's own timeout, plus slack for a server that never closes.
        let deadline: NIODeadline = options.timeoutSeconds.map { .now() + .seconds(Int64($0) + 60) } ?? .distantFuture
        let task = Task {
            do {
                try await self.streamWatch(path, deadline: deadline) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return WatchStream(stream, onStop: { task.cancel() })
    }

    private func streamWatch<T: KubeObject>(_ path: RequestPath, deadline: NIODeadline,
                                            yield: (TypedWatchEvent<T>) -> Void) async throws {
        let request = try makeRequest(path, method: .GET)
        let response = try await execute(request, deadline: deadline)
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
            throw KubeClientError.status(Self.decodeStatus(code: code, body: body))
        }
        var splitter = WatchLineSplitter()
        do {
            for try await chunk in response.body {
                for line in try splitter.append(chunk.readableBytesView) {
                    yield(try TypedWatchEvent<T>.decode(line: line))
                }
            }
        } catch {
            throw Self.transportError(error)
        }
        if let last = splitter.finish() { yield(try TypedWatchEvent<T>.decode(line: last)) }
    }
}
