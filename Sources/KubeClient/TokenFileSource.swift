import Foundation
import Synchronization

/// A bearer token read from a file and re-read once `refreshInterval` has passed, so rotated
/// service-account tokens are picked up (client-go re-reads every minute). When a re-read fails the
/// last good token is kept.
final class TokenFileSource: Sendable {
    let path: String
    let refreshInterval: Duration
    private let cached = Mutex<(token: String, readAt: ContinuousClock.Instant)?>(nil)

    init(path: String, refreshInterval: Duration) {
        self.path = path; self.refreshInterval = refreshInterval
    }

    func token() throws(KubeClientError) -> String {
        let now = ContinuousClock.now
        if let entry = cached.withLock({ $0 }), now - entry.readAt < refreshInterval { return entry.token }
        let fresh = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        return try cached.withLock { (entry) throws(KubeClientError) -> String in
            if let fresh, !fresh.isEmpty {
                entry = (fresh, now)
                return fresh
            }
            if let old = entry { return old.token }
            throw .config("cannot read bearer token file \(path)")
        }
    }
}
