import KubeAPI

/// What the EndpointSlice controller must write for one Service: slices to create (named by
/// `generateName`), to update (existing name, uid and resourceVersion kept) and to delete.
public struct EndpointSliceChanges: Hashable, Sendable {
    public var create: [EndpointSlice]
    public var update: [EndpointSlice]
    public var delete: [EndpointSlice]

    public init(create: [EndpointSlice] = [], update: [EndpointSlice] = [], delete: [EndpointSlice] = []) {
        self.create = create; self.update = update; self.delete = delete
    }

    /// True when nothing needs writing.
    public var isEmpty: Bool { create.isEmpty && update.isEmpty && delete.isEmpty }
}

/// kube-controller-manager's EndpointSlice reconciliation as a pure function: given a Service, the
/// Pods of its namespace and the slices this controller manages for it, the changes that bring the
/// slices in line. Deterministic; no I/O, no clock.
///
/// Follows upstream (`k8s.io/endpointslice` `Reconciler`): slices per address family and per
/// distinct resolved port list, at most `maxEndpointsPerSlice` endpoints each, endpoints kept in the
/// slice they already are in, partially filled slices topped up before new ones are made, emptied
/// slices deleted (or reused for slices that would otherwise be created), and one empty
/// "placeholder" slice per family when a selecting Service has no endpoints.
public struct EndpointSliceReconciler: Sendable {
    /// Value of the `endpointslice.kubernetes.io/managed-by` label on slices this controller owns.
    public static let managedBy = "endpointslice-controller.k8s.io"
    /// Label marking slices of headless Services.
    public static let headlessLabel = "service.kubernetes.io/headless"

    /// Most endpoints written to one slice (upstream's `--max-endpoints-per-slice`, default 100).
    public var maxEndpointsPerSlice: Int
    /// The `managed-by` label value written and expected on slices.
    public var controllerName: String

    public init(maxEndpointsPerSlice: Int = 100, controllerName: String = EndpointSliceReconciler.managedBy) {
        self.maxEndpointsPerSlice = max(1, maxEndpointsPerSlice)
        self.controllerName = controllerName
    }

    /// Desired changes for one Service given the pods in its namespace and the slices that currently
    /// exist for it (those labelled `kubernetes.io/service-name=<svc>` and managed by this controller;
    /// other slices passed in are ignored).
    public func reconcile(service: Service, pods: [Pod], existing: [EndpointSlice]) -> EndpointSliceChanges {
        let managed = existing
            .filter { isManaged($0, for: service) }
            .sorted { ($0.name, $0.metadata.uid ?? "") < ($1.name, $1.metadata.uid ?? "") }
        guard Self.hasSelector(service), service.type != .externalName else {
            // Services without a selector or of type ExternalName get no slices from this controller.
            return EndpointSliceChanges(delete: managed)
        }

        let families = Self.addressTypes(of: service)
        let members = pods.filter { Self.selects(service, $0) && Self.shouldBeEndpoint($0) }
        var changes = EndpointSliceChanges()
        // Slices of a family the Service no longer has go.
        changes.delete = managed.filter { !families.contains($0.addressType) }
        for family in families {
            let slices = managed.filter { $0.addressType == family }
            let part = reconcile(service: service, pods: members, existing: slices, addressType: family)
            changes.create += part.create
            changes.update += part.update
            changes.delete += part.delete
        }
        return finalize(changes, service: service, existing: managed)
    }

    /// Whether `slice` is one this controller manages for `service`.
    public func isManaged(_ slice: EndpointSlice, for service: Service) -> Bool {
        let labels = slice.metadata.labels ?? [:]
        return labels[EndpointSlice.managedByLabel] == controllerName
            && labels[EndpointSlice.serviceNameLabel] == service.name
            && (slice.metadata.namespace ?? "") == (service.metadata.namespace ?? "")
    }

    // MARK: one address family

    private func reconcile(service: Service, pods: [Pod], existing: [EndpointSlice],
                           addressType: AddressType) -> EndpointSliceChanges {
        var changes = EndpointSliceChanges()
        var existingByPorts: [PortKey: [EndpointSlice]] = [:]
        for slice in existing {
            if Self.isOwned(slice, by: service) {
                existingByPorts[PortKey(slice.ports ?? []), default: []].append(slice)
            } else {
                changes.delete.append(slice)  // a slice left behind by an earlier Service of the same name
            }
        }

        let desired = desiredEndpoints(service: service, pods: pods, addressType: addressType)
        for group in desired.keys.sorted() {
            guard let wanted = desired[group] else { continue }
            let part = reconcilePortGroup(service: service, existing: existingByPorts[group] ?? [],
                                          desired: wanted, ports: group.ports, addressType: addressType)
            changes.create += part.create
            changes.update += part.update
            changes.delete += part.delete
        }
        // Port lists no pod resolves to any more.
        for group in existingByPorts.keys.sorted() where desired[group] == nil {
            changes.delete += existingByPorts[group] ?? []
        }

        // A selecting Service with no endpoints keeps one empty placeholder slice.
        if existing.count == changes.delete.count && changes.create.isEmpty {
            let placeholder = newSlice(service: service, ports: [], addressType: addressType)
            if changes.delete.count == 1, Self.isSamePlaceholder(changes.delete[0], placeholder) {
                changes.delete = []
            } else {
                changes.create.append(placeholder)
            }
        }
        return changes
    }

    // MARK: finalize

    /// Turns create+delete pairs into updates of the slice that would be deleted (as upstream), sorts
    /// endpoints in written slices, and drops updates that would not change anything.
    private func finalize(_ changes: EndpointSliceChanges, service: Service, existing: [EndpointSlice]) -> EndpointSliceChanges {
        var create = changes.create
        var update = changes.update
        var delete = changes.delete
        var index = 0
        while index < delete.count, let newest = create.last {
            let old = delete[index]
            guard Self.isOwned(old, by: service), old.addressType == newest.addressType else {
                index += 1
                continue
            }
            create.removeLast()
            delete.remove(at: index)
            update.append(Self.reusing(old, for: newest))
        }

        let byName = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        update = update.map(Self.sortingEndpoints).filter { slice in
            guard let old = byName[slice.name] else { return true }
            return !Self.sameContent(old, slice)
        }
        update.sort { $0.name < $1.name }
        delete.sort { $0.name < $1.name }
        return EndpointSliceChanges(create: create.map(Self.sortingEndpoints), update: update, delete: delete)
    }

    /// `fresh`'s content written over `old`, keeping `old`'s identity (name, uid, resourceVersion, …).
    private static func reusing(_ old: EndpointSlice, for fresh: EndpointSlice) -> EndpointSlice {
        var slice = old
        slice.metadata.labels = fresh.metadata.labels
        slice.metadata.ownerReferences = fresh.metadata.ownerReferences
        slice.endpoints = fresh.endpoints
        slice.ports = fresh.ports
        return slice
    }

    private static func sortingEndpoints(_ slice: EndpointSlice) -> EndpointSlice {
        var slice = slice
        slice.endpoints.sort { EndpointKey($0) < EndpointKey($1) }
        return slice
    }

    /// Same labels, owners, ports and endpoints (in any order) — nothing to write.
    private static func sameContent(_ a: EndpointSlice, _ b: EndpointSlice) -> Bool {
        (a.metadata.labels ?? [:]) == (b.metadata.labels ?? [:])
            && (a.metadata.ownerReferences ?? []) == (b.metadata.ownerReferences ?? [])
            && a.addressType == b.addressType
            && (a.ports ?? []) == (b.ports ?? [])
            && Set(a.endpoints) == Set(b.endpoints) && a.endpoints.count == b.endpoints.count
    }

    /// Upstream compares an existing placeholder by namespace, labels, owners, ports and endpoints.
    private static func isSamePlaceholder(_ existing: EndpointSlice, _ placeholder: EndpointSlice) -> Bool {
        existing.metadata.namespace == placeholder.metadata.namespace && sameContent(existing, placeholder)
    }
}
