import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1

extension KubeClient {
    /// Sends a request whose body is already encoded and returns the response body undecoded (as
    /// client-go's `RESTClient.DoRaw` does). For load generators, proxies and tools that handle JSON
    /// themselves. `method` is an HTTP verb such as "POST". Throws `KubeClientError.status` for non-2xx.
    public func rawRequest(_ method: String, _ path: RequestPath, body: Data? = nil,
                           contentType: String = "application/json") async throws -> Data {
        try await perform(path, method: HTTPMethod(rawValue: method.uppercased()), body: body, contentType: contentType)
    }

    /// Runs one WATCH request and hands each event line (one undecoded `{"type":…,"object":…}` JSON
    /// document) to `onEvent` as soon as its chunk arrives, on the calling task. `onOpen` runs once the
    /// server has accepted the watch (2xx response head). Returns when the server ends the watch;
    /// throws what `onEvent` throws (ending the watch), `KubeClientError.status` for a non-2xx answer,
    /// or `CancellationError` when the calling task is cancelled.
    public func rawWatch(_ path: RequestPath, onOpen: () -> Void = {},
                         onEvent: ([UInt8]) throws -> Void) async throws {
        var path = path
        if !path.query.contains(where: { $0.name == "watch" }) { path.query.append(.init("watch", "true")) }
        let request = try makeRequest(path, method: .GET)
        let response = try await execute(request, deadline: .distantFuture)
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let body = (try? await response.body.collect(upTo: 1 << 20)).map { Data(buffer: $0) } ?? Data()
            throw KubeClientError.status(Self.decodeStatus(code: code, body: body))
        }
        onOpen()
        var splitter = WatchLineSplitter()
        do {
            for try await chunk in response.body {
                for line in try splitter.append(chunk.readableBytesView) {
                    do { try onEvent(line) } catch { throw HandlerError(error: error) }
                }
            }
        } catch let handler as HandlerError {
            throw handler.error
        } catch {
            throw Self.transportError(error)
        }
        if let last = splitter.finish() { try onEvent(last) }
    }

    /// Carries an error thrown by a caller's handler past the transport-error mapping.
    private struct HandlerError: Error { var error: any Error }
}
