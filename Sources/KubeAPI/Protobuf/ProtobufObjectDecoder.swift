import Foundation
import Values

/// Decodes one protobuf message into JSON members with a `ProtobufSchema` table, following proto2 semantics
/// (last value wins for singular fields, repeated fields append, repeated occurrences of a message merge,
/// repeated numeric fields may be packed) and Go's JSON rules for which members appear (`ProtoPresence`).
enum ProtobufObjectDecoder {
    /// Far deeper than any Kubernetes object; bounds recursion on hostile input.
    static let maxDepth = 64

    static func decode(_ bytes: ArraySlice<UInt8>, schema: ProtoMessage, path: String, depth: Int) throws -> [String: JSONValue] {
        guard depth < maxDepth else { throw KubeProtobufError.tooDeep(at: path) }
        var reader = ProtobufReader(bytes, path: path)
        var object = Members()
        while let (number, wireType) = try reader.nextTag() {
            guard let field = schema[number] else {
                try reader.skip(wireType)
                continue
            }
            try decodeField(field, wireType, from: &reader, into: &object, path: path, depth: depth)
        }
        var members = object.finish()
        for field in schema.values where field.presence == .always && !field.repeated && members[field.name] == nil {
            members[field.name] = zeroValue(field.type)
        }
        return members
    }

    /// The members of one message while it is read. Repeated fields and maps collect in their own
    /// dictionaries (appending to an array inside a `JSONValue` would copy it on every element).
    private struct Members {
        var singular: [String: JSONValue] = [:]
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: [String: JSONValue]] = [:]

        func finish() -> [String: JSONValue] {
            var result = singular
            for (name, items) in lists { result[name] = .array((result[name]?.arrayValue ?? []) + items) }
            for (name, map) in maps { result[name] = .object(map) }
            return result
        }
    }

    private static func decodeField(_ field: ProtoField, _ wireType: WireType, from reader: inout ProtobufReader,
                                    into object: inout Members, path: String, depth: Int) throws {
        let fieldPath = path.isEmpty ? field.name : path + "." + field.name
        switch field.type {
        case .inline(let name):
            try expect(.lengthDelimited, wireType, fieldPath)
            let members = try decode(try reader.readLengthDelimited(), schema: schema(name), path: path, depth: depth + 1)
            merge(members, into: &object.singular)
        case .message(let name):
            try expect(.lengthDelimited, wireType, fieldPath)
            let payload = try reader.readLengthDelimited()
            if field.repeated {
                let index = object.lists[field.name]?.count ?? 0
                let members = try decode(payload, schema: schema(name), path: "\(fieldPath)[\(index)]", depth: depth + 1)
                object.lists[field.name, default: []].append(.object(members))
            } else {
                var members = object.singular[field.name]?.objectValue ?? [:]
                merge(try decode(payload, schema: schema(name), path: fieldPath, depth: depth + 1), into: &members)
                object.singular[field.name] = .object(members)
            }
        case .stringMap, .quantityMap:
            try expect(.lengthDelimited, wireType, fieldPath)
            let entry = try ProtobufFields(try reader.readLengthDelimited(), path: fieldPath)
            let key = try entry.string(1)
            let value = field.type == .quantityMap ? try quantity(entry.bytes(2), path: fieldPath) : .string(try entry.string(2))
            object.maps[field.name, default: [:]][key] = value
        case .bool, .int32, .int64:
            if field.repeated && wireType == .lengthDelimited {
                var packed = ProtobufReader(try reader.readLengthDelimited(), path: fieldPath)
                while !packed.isAtEnd { object.lists[field.name, default: []].append(number(field.type, try packed.readVarint())) }
                return
            }
            try expect(.varint, wireType, fieldPath)
            store(number(field.type, try reader.readVarint()), field, in: &object)
        case .string:
            try expect(.lengthDelimited, wireType, fieldPath)
            store(.string(String(decoding: try reader.readLengthDelimited(), as: UTF8.self)), field, in: &object)
        case .bytes:
            try expect(.lengthDelimited, wireType, fieldPath)
            store(.string(Data(try reader.readLengthDelimited()).base64EncodedString()), field, in: &object)
        case .intOrString, .time, .microTime, .duration, .quantity, .rawJSON:
            try expect(.lengthDelimited, wireType, fieldPath)
            store(try special(field.type, try reader.readLengthDelimited(), path: fieldPath), field, in: &object)
        }
    }

    /// The JSON of Kubernetes' special messages, as their Go `MarshalJSON` writes it.
    private static func special(_ type: ProtoType, _ payload: ArraySlice<UInt8>, path: String) throws -> JSONValue {
        let fields = try ProtobufFields(payload, path: path)
        switch type {
        case .intOrString:
            switch try fields.varint(1) {
            case 0: return .int(Int64(Int32(truncatingIfNeeded: try fields.varint(2))))
            case 1: return .string(try fields.string(3))
            case let other: throw KubeProtobufError.invalidValue(field: path, reason: "IntOrString type \(other) is neither 0 (int) nor 1 (string)")
            }
        case .time, .microTime:
            // A zero time is written as an empty message and marshals as JSON null.
            if payload.isEmpty { return .null }
            let seconds = Int64(bitPattern: try fields.varint(1))
            let nanos = Int64(Int32(truncatingIfNeeded: try fields.varint(2)))
            let text = type == .time ? ProtobufWellKnown.time(seconds: seconds)
                : ProtobufWellKnown.microTime(seconds: seconds, nanos: nanos)
            guard let text else { throw KubeProtobufError.invalidValue(field: path, reason: "time outside years 0–9999") }
            return .string(text)
        case .duration:
            return .string(ProtobufWellKnown.duration(nanoseconds: Int64(bitPattern: try fields.varint(1))))
        case .quantity:
            return try quantity(payload, path: path)
        default:
            let raw = try fields.bytes(1)
            if raw.isEmpty { return .null }
            do { return try KubeJSON.decode(JSONValue.self, from: Data(raw)) } catch {
                throw KubeProtobufError.invalidValue(field: path, reason: "embedded raw object is not JSON")
            }
        }
    }

    /// `resource.Quantity {1: string}`; the zero Quantity marshals as "0".
    private static func quantity(_ payload: ArraySlice<UInt8>, path: String) throws -> JSONValue {
        let text = try ProtobufFields(payload, path: path).string(1)
        return .string(text.isEmpty ? "0" : text)
    }

    private static func number(_ type: ProtoType, _ raw: UInt64) -> JSONValue {
        switch type {
        case .bool: .bool(raw != 0)
        case .int32: .int(Int64(Int32(truncatingIfNeeded: raw)))
        default: .int(Int64(bitPattern: raw))
        }
    }

    private static func zeroValue(_ type: ProtoType) -> JSONValue? {
        switch type {
        case .string, .bytes: .string("")
        case .bool: .bool(false)
        case .int32, .int64: .int(0)
        default: nil
        }
    }

    /// Sets a singular member, or appends to a repeated one; `omitEmpty` members with zero values are removed.
    private static func store(_ value: JSONValue, _ field: ProtoField, in object: inout Members) {
        if field.repeated {
            object.lists[field.name, default: []].append(value)
        } else if field.presence == .omitEmpty, let zero = zeroValue(field.type), zero == value {
            object.singular.removeValue(forKey: field.name)
        } else {
            object.singular[field.name] = value
        }
    }

    /// Proto merge of a later occurrence into an earlier one: objects merge, arrays concatenate, scalars are replaced.
    private static func merge(_ members: [String: JSONValue], into object: inout [String: JSONValue]) {
        for (key, value) in members {
            switch (object[key], value) {
            case (.object(var existing)?, .object(let added)):
                merge(added, into: &existing)
                object[key] = .object(existing)
            case (.array(let existing)?, .array(let added)):
                object[key] = .array(existing + added)
            default:
                object[key] = value
            }
        }
    }

    private static func schema(_ name: String) throws -> ProtoMessage {
        guard let schema = ProtobufSchema.messages[name] else { throw KubeProtobufError.unknownSchema(name) }
        return schema
    }

    private static func expect(_ expected: WireType, _ actual: WireType, _ path: String) throws {
        guard expected == actual else {
            throw KubeProtobufError.wrongWireType(actual.rawValue, field: path, expected: expected.rawValue)
        }
    }
}
