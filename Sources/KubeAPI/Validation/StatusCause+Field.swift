/// Builders for field-level validation causes, with upstream's reasons and message shapes
/// (`Invalid value: "x": detail`, `Required value`, `Duplicate value: "x"`, `Unsupported value: …`, `Forbidden: …`).
extension StatusCause {
    public static let reasonInvalid = "FieldValueInvalid"
    public static let reasonRequired = "FieldValueRequired"
    public static let reasonDuplicate = "FieldValueDuplicate"
    public static let reasonNotSupported = "FieldValueNotSupported"
    public static let reasonForbidden = "FieldValueForbidden"
    public static let reasonTooMany = "FieldValueTooMany"
    public static let reasonTooLong = "FieldValueTooLong"

    public static func invalid(_ field: String, _ value: String, _ detail: String) -> StatusCause {
        invalid(field, quoted: "\"\(value)\"", detail)
    }

    public static func invalid(_ field: String, _ value: Int, _ detail: String) -> StatusCause {
        invalid(field, quoted: String(value), detail)
    }

    private static func invalid(_ field: String, quoted: String, _ detail: String) -> StatusCause {
        StatusCause(reason: reasonInvalid, message: "Invalid value: \(quoted)" + (detail.isEmpty ? "" : ": \(detail)"), field: field)
    }

    public static func required(_ field: String, _ detail: String = "") -> StatusCause {
        StatusCause(reason: reasonRequired, message: "Required value" + (detail.isEmpty ? "" : ": \(detail)"), field: field)
    }

    public static func duplicate(_ field: String, _ value: String) -> StatusCause {
        StatusCause(reason: reasonDuplicate, message: "Duplicate value: \"\(value)\"", field: field)
    }

    public static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> StatusCause {
        let list = supported.map { "\"\($0)\"" }.joined(separator: ", ")
        return StatusCause(reason: reasonNotSupported, message: "Unsupported value: \"\(value)\": supported values: \(list)", field: field)
    }

    public static func forbidden(_ field: String, _ detail: String) -> StatusCause {
        StatusCause(reason: reasonForbidden, message: "Forbidden: \(detail)", field: field)
    }

    public static func tooMany(_ field: String, actual: Int, max: Int) -> StatusCause {
        StatusCause(reason: reasonTooMany, message: "Too many: \(actual): must have at most \(max) items", field: field)
    }

    public static func tooLong(_ field: String, max: Int) -> StatusCause {
        StatusCause(reason: reasonTooLong, message: "Too long: may not be more than \(max) bytes", field: field)
    }
}
