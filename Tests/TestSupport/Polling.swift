/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held (a deadline,
/// never a fixed sleep standing in for one).
public func waitUntil(within timeout: Duration = .seconds(15), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}
