import KubeAPI

extension EndpointSliceReconciler {
    /// Upstream `reconcileByPortMapping` for one address family and one resolved port list:
    /// 1. keep desired endpoints where they are, dropping the rest (slices left empty are deleted);
    /// 2. top up slices already being updated, fullest first;
    /// 3. put what remains into the unchanged slice it fits best, else into new slices.
    /// Endpoints are taken in address order, so the result is deterministic.
    func reconcilePortGroup(service: Service, existing: [EndpointSlice], desired: [EndpointKey: Endpoint],
                            ports: [EndpointPort], addressType: AddressType) -> EndpointSliceChanges {
        let wantedLabels = labels(for: service)
        var remaining = desired
        var toUpdate: [EndpointSlice] = []
        var unchanged: [EndpointSlice] = []
        var changes = EndpointSliceChanges()

        // 1. Existing slices keep the endpoints still desired, in their latest form.
        for slice in existing {
            var kept: [Endpoint] = []
            var endpointChanged = false
            for endpoint in slice.endpoints {
                let key = EndpointKey(endpoint)
                guard let want = remaining.removeValue(forKey: key) else { continue }
                kept.append(want)
                if want != endpoint { endpointChanged = true }
            }
            let labelsChanged = (slice.metadata.labels ?? [:]) != wantedLabels
            if endpointChanged || kept.count != slice.endpoints.count {
                if kept.isEmpty {
                    changes.delete.append(slice)
                } else {
                    var copy = slice
                    copy.endpoints = kept
                    copy.metadata.labels = wantedLabels
                    toUpdate.append(copy)
                }
            } else if labelsChanged {
                var copy = slice
                copy.metadata.labels = wantedLabels
                toUpdate.append(copy)
            } else {
                unchanged.append(slice)
            }
        }

        let queue = remaining.keys.sorted()
        var next = 0
        func fill(_ slice: inout EndpointSlice) {
            while next < queue.count, slice.endpoints.count < maxEndpointsPerSlice {
                if let endpoint = remaining[queue[next]] { slice.endpoints.append(endpoint) }
                next += 1
            }
        }

        // 2. Slices being written anyway are filled up first, fullest first.
        if !queue.isEmpty && !toUpdate.isEmpty {
            toUpdate.sort { ($0.endpoints.count, $1.name) > ($1.endpoints.count, $0.name) }
            for index in toUpdate.indices { fill(&toUpdate[index]) }
        }

        // 3. The rest goes into the unchanged slice it fits best, or into new slices.
        while next < queue.count {
            let left = queue.count - next
            var target: EndpointSlice
            if left < maxEndpointsPerSlice, let best = Self.sliceToFill(unchanged, adding: left, max: maxEndpointsPerSlice) {
                target = unchanged.remove(at: best)
                target.metadata.labels = wantedLabels
                fill(&target)
                toUpdate.append(target)
            } else {
                target = newSlice(service: service, ports: ports, addressType: addressType)
                fill(&target)
                changes.create.append(target)
            }
        }

        changes.update = toUpdate
        return changes
    }

    /// Upstream `getSliceToFill`: the slice left closest to full after adding `count` endpoints.
    static func sliceToFill(_ slices: [EndpointSlice], adding count: Int, max: Int) -> Int? {
        var closestDiff = max
        var closest: Int?
        for (index, slice) in slices.enumerated() {
            let diff = max - (count + slice.endpoints.count)
            if diff >= 0 && diff < closestDiff {
                closestDiff = diff
                closest = index
                if diff == 0 { break }
            }
        }
        return closest
    }
}
