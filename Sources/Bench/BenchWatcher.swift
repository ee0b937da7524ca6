import Foundation
import KubeAPI
import KubeClient

/// What one watcher saw.
package struct BenchWatcherResult: Sendable {
    package var isService: Bool
    package var expected: Int
    /// Distinct objects of this run seen as ADDED.
    package var received = 0
    package var duplicates = 0
    /// Receive time minus the create request's send time, in ns, one per distinct object.
    package var latencies: [Int64] = []
    /// Watches opened again after the server ended one (timeout or a slow-consumer cut-off).
    package var rewatches = 0
    package var errors: [String] = []
    package var lastEventNs: Int64 = 0
}

/// One watcher: a raw watch from a resourceVersion that reads only the probe annotation, type and
/// resourceVersion of each event (decoding millions of objects would make the client the bottleneck),
/// and re-watches from the last resourceVersion when the server ends the stream.
package struct BenchWatcher: Sendable {
    package let client: KubeClient
    package let info: ResourceInfo
    package let namespace: String?
    package let expected: Int
    package let counters: BenchCounters

    private struct Complete: Error {}
    private struct ErrorEvent: Error { var text: String }

    package func run(fromResourceVersion start: String) async -> BenchWatcherResult {
        var result = BenchWatcherResult(isService: info.kind == "Service", expected: expected)
        result.latencies.reserveCapacity(expected)
        var seen = [UInt64](repeating: 0, count: expected / 64 + 1)
        var resourceVersion = start
        var failures = 0
        var lastLine: [UInt8] = []  // parsed for its resourceVersion only when re-watching
        while !Task.isCancelled {
            let path = KubeClient.RequestPath(info: info, namespace: namespace, query: [
                .init("resourceVersion", resourceVersion), .init("watch", "true"),
            ])
            do {
                try await client.rawWatch(path, onOpen: { counters.watchesOpened.add(1, ordering: .relaxed) }) { line in
                    let now = BenchMeasure.nowNs()
                    lastLine = line
                    try line.withUnsafeBufferPointer { bytes in
                        try handle(bytes, now: now, result: &result, seen: &seen)
                    }
                }
                result.rewatches += 1
                resourceVersion = Self.resourceVersion(of: lastLine) ?? resourceVersion
            } catch is Complete {
                counters.watchersComplete.add(1, ordering: .relaxed)
                break
            } catch is CancellationError {
                break
            } catch let e as ErrorEvent {
                result.errors.append(e.text)
                break
            } catch {
                if Task.isCancelled { break }
                result.errors.append(String(describing: error))
                failures += 1
                if failures >= 5 { break }
                result.rewatches += 1
                resourceVersion = Self.resourceVersion(of: lastLine) ?? resourceVersion
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        return result
    }

    private func handle(_ line: UnsafeBufferPointer<UInt8>, now: Int64, result: inout BenchWatcherResult,
                        seen: inout [UInt64]) throws {
        guard let type = Self.stringValue(after: Self.typeKey, in: line) else { return }
        switch type {
        case "ADDED": break
        case "ERROR": throw ErrorEvent(text: String(decoding: line.prefix(300), as: UTF8.self))
        default: return
        }
        guard let probe = Self.stringValue(after: Self.probeKey, in: line),
              let colon = probe.firstIndex(of: ":"),
              let seq = Int(probe[..<colon]), let sent = Int64(probe[probe.index(after: colon)...]),
              seq >= 0, seq < expected else { return }
        counters.watchEvents.add(1, ordering: .relaxed)
        let bit = UInt64(1) << UInt64(seq % 64)
        if seen[seq / 64] & bit != 0 {
            result.duplicates += 1
            return
        }
        seen[seq / 64] |= bit
        result.received += 1
        result.latencies.append(now - sent)
        result.lastEventNs = now
        if result.received == expected { throw Complete() }
    }

    package static func resourceVersion(of line: [UInt8]) -> String? {
        line.withUnsafeBufferPointer { stringValue(after: rvKey, in: $0) }
    }

    private static let typeKey = Array("\"type\":\"".utf8)
    private static let rvKey = Array("\"resourceVersion\":\"".utf8)
    private static let probeKey = Array("\"\(BenchWorkload.probeKey)\":\"".utf8)

    /// The string after the first occurrence of `key` (which starts and ends with a quote), up to the
    /// closing quote. Scans with memchr for the key's second byte, which is rarer than a quote.
    package static func stringValue(after key: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = line.baseAddress, line.count > key.count, key.count > 1 else { return nil }
        var offset = 1
        while offset + key.count - 1 <= line.count {
            guard let hit = memchr(base + offset, Int32(key[1]), line.count - offset) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            let start = at - 1
            if start + key.count <= line.count,
               memcmp(base + start, key, key.count) == 0 {
                var end = start + key.count
                while end < line.count, line[end] != UInt8(ascii: "\"") { end += 1 }
                guard end < line.count else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: line[(start + key.count)..<end]), as: UTF8.self)
            }
            offset = at + 1
        }
        return nil
    }
}
