import Foundation
import KubeAPI
import Values

/// Server-side printing: the columns `kubectl get` shows, computed here as upstream's printers do.
public protocol TablePrintable: KubeObject {
    static var tableColumns: [TableColumnDefinition] { get }
    /// Cells after NAME, in column order, for the object at `now`.
    func tableCells(now: Date) -> [JSONValue]
}

extension TableColumnDefinition {
    static func column(_ name: String, format: String = "", priority: Int = 0, _ description: String) -> TableColumnDefinition {
        var c = TableColumnDefinition()
        c.name = name; c.type = "string"; c.format = format; c.priority = priority; c.description = description
        return c
    }
    static let nameColumn = column("Name", format: "name", "Name must be unique within a namespace. Cannot be updated.")
    static let ageColumn = column("Age", "CreationTimestamp is a timestamp representing the server time when this object was created.")
}

/// What rows carry as `object`, from the `includeObject` query parameter (default Metadata).
public enum IncludeObject: String, Sendable {
    case none = "None", metadata = "Metadata", object = "Object"
}

enum TableBuilder {
    static func table<T: TablePrintable>(_ objects: [T], resourceVersion: String?, include: IncludeObject, now: Date) throws -> Table {
        var table = Table()
        table.kind = "Table"
        table.apiVersion = "meta.k8s.io/v1"
        table.metadata = ListMeta(resourceVersion: resourceVersion)
        table.columnDefinitions = [.nameColumn] + T.tableColumns
        table.rows = try objects.map { object in
            var row = TableRow()
            row.cells = [.string(object.name)] + object.tableCells(now: now)
            switch include {
            case .none: row.object = nil
            case .object:
                var typed = object
                typed.setTypeMeta()
                row.object = try KubeJSON.toJSONValue(typed)
            case .metadata:
                row.object = ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                              "metadata": try KubeJSON.toJSONValue(object.metadata)]
            }
            return row
        }
        return table
    }
}

/// Upstream's `duration.HumanDuration`: 45s, 5m10s, 3h4m, 2d3h, 400d, 3y120d.
public func humanDuration(_ interval: TimeInterval) -> String {
    let seconds = Int(interval)
    if seconds < -1 { return "<invalid>" }
    if seconds < 0 { return "0s" }
    if seconds < 60 * 2 { return "\(seconds)s" }
    let minutes = seconds / 60
    if minutes < 10 {
        let s = seconds % 60
        return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s"
    }
    if minutes < 60 * 3 { return "\(minutes)m" }
    let hours = minutes / 60
    if hours < 8 {
        let m = minutes % 60
        return m == 0 ? "\(hours)h" : "\(hours)h\(m)m"
    }
    if hours < 48 { return "\(hours)h" }
    if hours < 24 * 8 {
        let h = hours % 24
        return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h"
    }
    if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365
        return d == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(d)d"
    }
    return "\(hours / 24 / 365)y"
}

func age(_ meta: ObjectMeta, now: Date) -> JSONValue {
    guard let created = meta.creationTimestamp.flatMap(KubeTime.parse) else { return "<unknown>" }
    return .string(humanDuration(now.timeIntervalSince(created)))
}
