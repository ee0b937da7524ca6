import Values

/// `meta.k8s.io/v1 Table`: the server-side printing `kubectl get` asks for.
public struct Table: FieldCoded, Hashable, Sendable {
    public var kind: String?
    public var apiVersion: String?
    public var metadata = ListMeta()
    public var columnDefinitions: [TableColumnDefinition] = []
    public var rows: [TableRow] = []
    public var unknownFields = UnknownFields()

    public init() {}
    public init(metadata: ListMeta = ListMeta(), columnDefinitions: [TableColumnDefinition], rows: [TableRow]) {
        kind = "Table"; apiVersion = "meta.k8s.io/v1"
        self.metadata = metadata; self.columnDefinitions = columnDefinitions; self.rows = rows
    }

    public static let codedFields: [CodedField<Table>] = [.optional("kind", \.kind), .optional("apiVersion", \.apiVersion), .always("metadata", \.metadata),
         .always("columnDefinitions", \.columnDefinitions), .always("rows", \.rows)]
}

/// `Table.columnDefinitions[]`.
public struct TableColumnDefinition: FieldCoded, Hashable, Sendable {
    public var name = ""
    /// OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`.
    public var type = "string"
    /// OpenAPI format, e.g. `name` for the NAME column.
    public var format = ""
    public var description = ""
    /// 0 for columns shown by default; higher for `-o wide`.
    public var priority = 0
    public var unknownFields = UnknownFields()

    public init() {}
    public init(name: String, type: String = "string", format: String = "", description: String = "", priority: Int = 0) {
        self.name = name; self.type = type; self.format = format; self.description = description; self.priority = priority
    }

    public static let codedFields: [CodedField<TableColumnDefinition>] = [.always("name", \.name), .always("type", \.type), .always("format", \.format),
         .always("description", \.description), .always("priority", \.priority)]
}

/// `Table.rows[]`.
public struct TableRow: FieldCoded, Hashable, Sendable {
    public var cells: [JSONValue] = []
    public var conditions: JSONValue?
    /// The object (or `PartialObjectMetadata`) the row shows.
    public var object: JSONValue?
    public var unknownFields = UnknownFields()

    public init() {}
    public init(cells: [JSONValue], conditions: JSONValue? = nil, object: JSONValue? = nil) {
        self.cells = cells; self.conditions = conditions; self.object = object
    }

    public static let codedFields: [CodedField<TableRow>] = [.always("cells", \.cells), .optional("conditions", \.conditions), .optional("object", \.object)]
}
