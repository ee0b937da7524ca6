import Glibc

/// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held (a deadline,
/// never a fixed sleep standing in for one). The one polling loop of the test targets.
public func waitUntil(within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(20),
                      _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// `waitUntil` for synchronous tests that block their thread anyway (kernel tests driving child processes):
/// the thread sleeps between polls instead of suspending.
public func waitUntilBlocking(within timeout: Duration = .seconds(15), every interval: Duration = .milliseconds(100),
                              _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    let micros = UInt32(max(1, interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(micros)
    }
    return try condition()
}
