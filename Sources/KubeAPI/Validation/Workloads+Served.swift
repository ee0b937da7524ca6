/// What ReplicaSets and Deployments share: a selector that must select the template's labels, a
/// replica count, a validated pod template.
enum WorkloadValidation {
    static func validate(selector: LabelSelectorSpec?, template: PodTemplateSpec, replicas: Int?, minReadySeconds: Int?) -> [StatusCause] {
        var causes: [StatusCause] = []
        if let replicas, replicas < 0 { causes.append(.invalid("spec.replicas", replicas, "must be greater than or equal to 0")) }
        if let minReadySeconds, minReadySeconds < 0 {
            causes.append(.invalid("spec.minReadySeconds", minReadySeconds, "must be greater than or equal to 0"))
        }
        let labels = template.metadata.labels ?? [:]
        causes += ObjectMetaValidation.validateLabels(labels, field: "spec.template.metadata.labels")
        if let selector {
            if (selector.matchLabels ?? [:]).isEmpty && (selector.matchExpressions ?? []).isEmpty {
                causes.append(.invalid("spec.selector", "", "empty selector is invalid for deployment"))
            } else {
                do {
                    if try !selector.selector().matches(labels) {
                        causes.append(.invalid("spec.template.metadata.labels", labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                                               "`selector` does not match template `labels`"))
                    }
                } catch {
                    causes.append(.invalid("spec.selector", "", "\(error)"))
                }
            }
        } else {
            causes.append(.required("spec.selector"))
        }
        causes += template.spec.validate(path: "spec.template.spec")
        if let policy = template.spec.restartPolicy, policy != .always {
            causes.append(.notSupported("spec.template.spec.restartPolicy", policy.rawValue, [RestartPolicy.always.rawValue]))
        }
        return causes
    }
}

extension ReplicaSet: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    public mutating func applyDefaults() {
        if spec.replicas == nil { spec.replicas = 1 }
        if spec.minReadySeconds == nil { spec.minReadySeconds = 0 }
        spec.template.spec.applyDefaults()
    }

    public func validate() -> [StatusCause] {
        ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + WorkloadValidation.validate(selector: spec.selector, template: spec.template, replicas: spec.replicas, minReadySeconds: spec.minReadySeconds)
    }

    /// Upstream: the selector is immutable in apps/v1.
    public func validateUpdate(from old: ReplicaSet) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        if spec.selector != old.spec.selector { causes.append(.invalid("spec.selector", "", "field is immutable")) }
        return causes
    }

    public func specChanged(from old: ReplicaSet) -> Bool { spec != old.spec }
    public var selectableFields: [String: String] {
        var fields = metadataSelectableFields
        fields["status.replicas"] = String(status.replicas)
        return fields
    }
}

extension Deployment: ServedObject {
    public static var hasStatusSubresource: Bool { true }

    /// Upstream's `SetDefaults_Deployment`: 1 replica, RollingUpdate at 25 % / 25 %, 10 old ReplicaSets
    /// kept, a 600 s progress deadline.
    public mutating func applyDefaults() {
        if spec.replicas == nil { spec.replicas = 1 }
        var strategy = spec.strategy ?? DeploymentStrategy()
        if (strategy.type ?? "").isEmpty { strategy.type = DeploymentStrategy.rollingUpdateType }
        if strategy.type == DeploymentStrategy.rollingUpdateType {
            var rolling = strategy.rollingUpdate ?? DeploymentStrategy.RollingUpdate()
            if rolling.maxUnavailable == nil { rolling.maxUnavailable = .string("25%") }
            if rolling.maxSurge == nil { rolling.maxSurge = .string("25%") }
            strategy.rollingUpdate = rolling
        }
        spec.strategy = strategy
        if spec.revisionHistoryLimit == nil { spec.revisionHistoryLimit = 10 }
        if spec.progressDeadlineSeconds == nil { spec.progressDeadlineSeconds = 600 }
        if spec.minReadySeconds == nil { spec.minReadySeconds = 0 }
        spec.template.spec.applyDefaults()
    }

    public func validate() -> [StatusCause] {
        var causes = ObjectMetaValidation.validate(metadata, namespaced: true, nameRule: .dns1123Subdomain)
            + WorkloadValidation.validate(selector: spec.selector, template: spec.template, replicas: spec.replicas, minReadySeconds: spec.minReadySeconds)
        let types = [DeploymentStrategy.rollingUpdateType, DeploymentStrategy.recreateType]
        if let type = spec.strategy?.type, !types.contains(type) {
            causes.append(.notSupported("spec.strategy.type", type, types))
        }
        if spec.strategy?.type == DeploymentStrategy.recreateType, spec.strategy?.rollingUpdate != nil {
            causes.append(.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"))
        }
        if let rolling = spec.strategy?.rollingUpdate {
            for (field, value) in [("maxUnavailable", rolling.maxUnavailable), ("maxSurge", rolling.maxSurge)] {
                guard let value else { continue }
                if RollingUpdateBudget.resolve(value, total: 100, roundUp: true) == nil {
                    causes.append(.invalid("spec.strategy.rollingUpdate.\(field)", value.description, "must be a non-negative integer or percentage"))
                }
            }
            let surge = rolling.maxSurge.flatMap { RollingUpdateBudget.resolve($0, total: 100, roundUp: true) } ?? 1
            let unavailable = rolling.maxUnavailable.flatMap { RollingUpdateBudget.resolve($0, total: 100, roundUp: false) } ?? 1
            if surge == 0 && unavailable == 0 {
                causes.append(.invalid("spec.strategy.rollingUpdate.maxUnavailable", 0, "may not be 0 when `maxSurge` is 0"))
            }
            if case .string(let text) = rolling.maxUnavailable, let percent = Int(text.dropLast()), percent > 100 {
                causes.append(.invalid("spec.strategy.rollingUpdate.maxUnavailable", text, "must not be greater than 100%"))
            }
        }
        if let limit = spec.revisionHistoryLimit, limit < 0 {
            causes.append(.invalid("spec.revisionHistoryLimit", limit, "must be greater than or equal to 0"))
        }
        if let deadline = spec.progressDeadlineSeconds, deadline <= (spec.minReadySeconds ?? 0) {
            causes.append(.invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
        }
        return causes
    }

    public func validateUpdate(from old: Deployment) -> [StatusCause] {
        var causes = validate() + validateMetadataUpdate(from: old)
        if spec.selector != old.spec.selector { causes.append(.invalid("spec.selector", "", "field is immutable")) }
        return causes
    }

    public func specChanged(from old: Deployment) -> Bool { spec != old.spec }
    public var selectableFields: [String: String] { metadataSelectableFields }
}

/// A `maxSurge` / `maxUnavailable` value against a replica count, as upstream's
/// `GetScaledValueFromIntOrPercent`: a percentage rounds up for surge and down for unavailability.
public enum RollingUpdateBudget {
    public static func resolve(_ value: IntOrString, total: Int, roundUp: Bool) -> Int? {
        switch value {
        case .int(let n): return n >= 0 ? n : nil
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0 else { return nil }
            let scaled = percent * total
            return roundUp ? (scaled + 99) / 100 : scaled / 100
        }
    }

    /// (maxSurge, maxUnavailable) for `replicas`: both zero becomes unavailability 1, as upstream's `ResolveFenceposts`.
    public static func fenceposts(_ strategy: DeploymentStrategy?, replicas: Int) -> (surge: Int, unavailable: Int) {
        let rolling = strategy?.rollingUpdate
        let surge = rolling?.maxSurge.flatMap { resolve($0, total: replicas, roundUp: true) } ?? 0
        var unavailable = rolling?.maxUnavailable.flatMap { resolve($0, total: replicas, roundUp: false) } ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, min(unavailable, replicas))
    }
}
