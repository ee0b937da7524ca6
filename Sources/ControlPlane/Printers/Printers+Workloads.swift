import Foundation
import KubeAPI
import Values

/// The template's containers and images, and the selector, as upstream's wide columns print them.
private func templateCells(_ template: PodTemplateSpec, _ selector: LabelSelectorSpec?) -> [JSONValue] {
    let names = template.spec.containers.map(\.name).joined(separator: ",")
    let images = template.spec.containers.map { $0.image ?? "" }.joined(separator: ",")
    let text = selector?.text ?? ""
    return [.string(names), .string(images), .string(text.isEmpty ? "<none>" : text)]
}

extension Deployment: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Ready", "Number of the pod with ready state"),
        .column("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
        .column("Available", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
        .ageColumn,
        .column("Containers", priority: 1, "Names of each container in the template."),
        .column("Images", priority: 1, "Images referenced by each container in the template."),
        .column("Selector", priority: 1, "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        [.string("\(status.readyReplicas ?? 0)/\(spec.replicas ?? 1)"), .int(Int64(status.updatedReplicas ?? 0)),
         .int(Int64(status.availableReplicas ?? 0)), age(metadata, now: now)] + templateCells(spec.template, spec.selector)
    }
}

extension ReplicaSet: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Desired", "Replicas is the number of desired replicas."),
        .column("Current", "Replicas is the most recently observed number of replicas."),
        .column("Ready", "The number of ready replicas for this replica set."),
        .ageColumn,
        .column("Containers", priority: 1, "Names of each container in the template."),
        .column("Images", priority: 1, "Images referenced by each container in the template."),
        .column("Selector", priority: 1, "Selector is a label query over pods that should match the replica count."),
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        [.int(Int64(spec.replicas ?? 1)), .int(Int64(status.replicas)), .int(Int64(status.readyReplicas ?? 0)),
         age(metadata, now: now)] + templateCells(spec.template, spec.selector)
    }
}

extension Lease: TablePrintable {
    public static let tableColumns: [TableColumnDefinition] = [
        .column("Holder", "The holder of the lease."),
        .ageColumn,
    ]

    public func tableCells(now: Date) -> [JSONValue] {
        [.string(spec.holderIdentity ?? ""), age(metadata, now: now)]
    }
}
