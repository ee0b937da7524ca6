// Field numbers and names from the `generated.proto` descriptors of Kubernetes 1.32 (apps/v1, core/v1 PodTemplateSpec).
extension ProtobufSchema {
    /// `apps/v1` Deployment and ReplicaSet, and the pod template they carry.
    static let apps: [String: ProtoMessage] = [
        "PodTemplateSpec": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "PodSpec")],
        "Deployment": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "DeploymentSpec"),
                       3: .message("status", "DeploymentStatus")],
        "DeploymentSpec": [1: .int32("replicas", .pointer), 2: .message("selector", "LabelSelector"),
                           3: .message("template", "PodTemplateSpec"), 4: .message("strategy", "DeploymentStrategy"),
                           5: .int32("minReadySeconds"), 6: .int32("revisionHistoryLimit", .pointer), 7: .bool("paused"),
                           9: .int32("progressDeadlineSeconds", .pointer)],
        "DeploymentStrategy": [1: .string("type"), 2: .message("rollingUpdate", "RollingUpdateDeployment")],
        "RollingUpdateDeployment": [1: .intOrString("maxUnavailable"), 2: .intOrString("maxSurge")],
        "DeploymentStatus": [1: .int64("observedGeneration"), 2: .int32("replicas"), 3: .int32("updatedReplicas"),
                             4: .int32("availableReplicas"), 5: .int32("unavailableReplicas"),
                             6: .messages("conditions", "DeploymentCondition"), 7: .int32("readyReplicas"),
                             8: .int32("collisionCount", .pointer)],
        "DeploymentCondition": [1: .string("type", .always), 2: .string("status", .always), 4: .string("reason"),
                                5: .string("message"), 6: .time("lastUpdateTime"), 7: .time("lastTransitionTime")],
        "ReplicaSet": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "ReplicaSetSpec"),
                       3: .message("status", "ReplicaSetStatus")],
        "ReplicaSetSpec": [1: .int32("replicas", .pointer), 2: .message("selector", "LabelSelector"),
                           3: .message("template", "PodTemplateSpec"), 4: .int32("minReadySeconds")],
        "ReplicaSetStatus": [1: .int32("replicas", .always), 2: .int32("fullyLabeledReplicas"), 3: .int64("observedGeneration"),
                             4: .int32("readyReplicas"), 5: .int32("availableReplicas"),
                             6: .messages("conditions", "ReplicaSetCondition")],
        "ReplicaSetCondition": [1: .string("type", .always), 2: .string("status", .always), 3: .time("lastTransitionTime"),
                                4: .string("reason"), 5: .string("message")],
    ]

    /// `coordination.k8s.io/v1` Lease.
    static let coordination: [String: ProtoMessage] = [
        "Lease": [1: .message("metadata", "ObjectMeta"), 2: .message("spec", "LeaseSpec")],
        "LeaseSpec": [1: .string("holderIdentity", .pointer), 2: .int32("leaseDurationSeconds", .pointer),
                      3: .microTime("acquireTime"), 4: .microTime("renewTime"), 5: .int32("leaseTransitions", .pointer),
                      6: .string("strategy", .pointer), 7: .string("preferredHolder", .pointer)],
    ]
}
