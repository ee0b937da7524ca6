/// When and how soon a container that ended starts again.
public enum ContainerRestart {
    /// The kubelet's crash-loop back-off: the first restart is immediate, the next waits 10 s, then the wait
    /// doubles up to 300 s; a container that ran for 10 minutes before it ended starts again at once and its
    /// back-off is reset.
    public static let initial = 10.0, maximum = 300.0, resetAfter = 600.0

    /// Whether a container that exited with `exitCode` is started again under `policy` (Always when unset).
    public static func shouldRestart(policy: String?, exitCode: Int) -> Bool {
        switch policy ?? "Always" {
        case "Never": false
        case "OnFailure": exitCode != 0
        default: true
        }
    }

    /// Seconds to wait before the next start, given the back-off so far (0 before the first crash) and
    /// how long the container ran. Returns the delay and the back-off to keep.
    public static func delay(previous: Double, ranFor: Double) -> (delay: Double, backoff: Double) {
        if ranFor >= resetAfter { return (0, 0) }
        // The kubelet keeps no back-off entry before a container's first exit, so that restart is not delayed.
        if previous == 0 { return (0, initial) }
        return (previous, min(previous * 2, maximum))
    }
}
