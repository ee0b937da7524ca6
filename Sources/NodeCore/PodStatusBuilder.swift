import Foundation
import KubeAPI

/// What the agent knows of one container, reduced to plain values.
public struct ContainerRuntimeState: Sendable, Equatable {
    public struct Termination: Sendable, Equatable {
        public var exitCode: Int, signal: Int?, reason: String
        public var startedAt: Date?, finishedAt: Date
        public init(exitCode: Int, signal: Int? = nil, reason: String, startedAt: Date?, finishedAt: Date) {
            self.exitCode = exitCode; self.signal = signal; self.reason = reason; self.startedAt = startedAt; self.finishedAt = finishedAt
        }

        /// The kubelet's reasons: Completed for 0, Error otherwise (OOMKilled does not arise here).
        public static func reason(exitCode: Int) -> String { exitCode == 0 ? "Completed" : "Error" }
    }

    public enum State: Sendable, Equatable {
        case waiting(reason: String, message: String?)
        case running(startedAt: Date)
        case terminated(Termination)
    }

    public var name: String
    public var image: String
    public var containerID: String?
    public var state: State
    public var lastTermination: Termination?
    public var restartCount: Int
    /// The readiness probe passes (or there is none and the container runs, and its startup probe passed).
    public var ready: Bool
    /// The startup probe passed (or there is none and the container runs).
    public var started: Bool

    public init(name: String, image: String, containerID: String? = nil, state: State, lastTermination: Termination? = nil,
                restartCount: Int = 0, ready: Bool = false, started: Bool = false) {
        self.name = name; self.image = image; self.containerID = containerID; self.state = state
        self.lastTermination = lastTermination; self.restartCount = restartCount; self.ready = ready; self.started = started
    }
}

/// A pod's status as the kubelet computes it from its sandbox and containers.
public enum PodStatusBuilder {
    /// Upstream's getPhase: waiting containers keep it Pending; running ones make it Running; when all
    /// have stopped, the restart policy decides between Running (they start again), Succeeded and Failed.
    public static func phase(_ containers: [ContainerRuntimeState], restartPolicy: String?) -> PodPhase {
        var waiting = 0, running = 0, stopped = 0, succeeded = 0
        for c in containers {
            switch c.state {
            case .running: running += 1
            case .terminated(let t):
                stopped += 1
                if t.exitCode == 0 { succeeded += 1 }
            case .waiting:
                if c.lastTermination != nil { stopped += 1 } else { waiting += 1 }
            }
        }
        if waiting > 0 || containers.isEmpty { return .pending }
        if running > 0 { return .running }
        switch restartPolicy ?? "Always" {
        case "Never": return succeeded == stopped ? .succeeded : .failed
        case "OnFailure": return succeeded == stopped ? .succeeded : .running
        default: return .running
        }
    }

    /// The whole status. `previous` keeps what does not change here (PodScheduled, start time) and the
    /// transition times of conditions whose status is unchanged.
    public static func status(previous: PodStatus, sandboxReady: Bool, podIPs: [String], hostIPs: [String],
                              containers: [ContainerRuntimeState], restartPolicy: String?, now: Date) -> PodStatus {
        var status = previous
        let time = KubeTime.format(now)
        status.phase = phase(containers, restartPolicy: restartPolicy)
        status.reason = nil; status.message = nil
        let allReady = !containers.isEmpty && containers.allSatisfy(\.ready)
        let terminal = status.phase == .succeeded || status.phase == .failed
        var conditions = (previous.conditions ?? []).filter { $0.type == .podScheduled }
        func set(_ type: PodConditionType, _ value: Bool, reason: String? = nil) {
            let s: ConditionStatus = value ? .true : .false
            let old = previous.conditions?.first { $0.type == type }
            let since = old?.status == s ? old?.lastTransitionTime : time
            conditions.append(PodCondition(type: type, status: s, lastTransitionTime: since, reason: value ? nil : reason))
        }
        set(.podReadyToStartContainers, sandboxReady && !terminal)
        set(.initialized, true)
        set(.containersReady, allReady && !terminal, reason: "ContainersNotReady")
        set(.ready, allReady && !terminal, reason: "ContainersNotReady")
        status.conditions = conditions
        if !podIPs.isEmpty {
            status.podIP = podIPs[0]
            status.podIPs = podIPs.map(PodIP.init(ip:))
        }
        if !hostIPs.isEmpty {
            status.hostIP = hostIPs[0]
            status.hostIPs = hostIPs.map(HostIP.init(ip:))
        }
        if status.startTime == nil { status.startTime = time }
        status.containerStatuses = containers.map(containerStatus)
        return status
    }

    static func containerStatus(_ c: ContainerRuntimeState) -> ContainerStatus {
        var s = ContainerStatus(name: c.name, state: state(c.state), ready: c.ready, restartCount: c.restartCount, image: c.image)
        s.containerID = c.containerID
        if case .running = c.state { s.started = c.started } else { s.started = false }
        if let last = c.lastTermination { s.lastState = .terminated(terminated(last)) } else { s.lastState = ContainerState() }
        return s
    }

    static func state(_ state: ContainerRuntimeState.State) -> ContainerState {
        switch state {
        case .waiting(let reason, let message): .waiting(reason, message)
        case .running(let since): .running(since: KubeTime.format(since))
        case .terminated(let t): .terminated(terminated(t))
        }
    }

    static func terminated(_ t: ContainerRuntimeState.Termination) -> ContainerStateTerminated {
        ContainerStateTerminated(exitCode: t.exitCode, signal: t.signal, reason: t.reason,
                                 startedAt: t.startedAt.map(KubeTime.format), finishedAt: KubeTime.format(t.finishedAt))
    }
}
