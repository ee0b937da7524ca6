import TestSupport
import Foundation
@testable import KubeAPI
import Values

/// A tiny protobuf writer for hand-built test vectors: `PB { $0.string(1, "demo"); $0.message(2) { … } }`.
struct PB {
    private(set) var bytes: [UInt8] = []

    init() {}
    init(_ build: (inout PB) -> Void) { build(&self) }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while value >= 0x80 {
            out.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
        return out
    }

    mutating func tag(_ number: Int, _ wireType: Int) { bytes += Self.varint(UInt64(number << 3 | wireType)) }

    /// An int32/int64/bool varint; negative values take 10 bytes (two's complement), as Go writes them.
    mutating func int(_ number: Int, _ value: Int64) {
        tag(number, 0)
        bytes += Self.varint(UInt64(bitPattern: value))
    }

    mutating func bool(_ number: Int, _ value: Bool) { int(number, value ? 1 : 0) }

    mutating func data(_ number: Int, _ payload: [UInt8]) {
        tag(number, 2)
        bytes += Self.varint(UInt64(payload.count)) + payload
    }

    mutating func string(_ number: Int, _ value: String) { data(number, Array(value.utf8)) }

    mutating func message(_ number: Int, _ build: (inout PB) -> Void) { data(number, PB(build).bytes) }

    /// One `map<string, string>` entry.
    mutating func entry(_ number: Int, _ key: String, _ value: String) {
        message(number) { $0.string(1, key); $0.string(2, value) }
    }

    /// One `map<string, Quantity>` entry.
    mutating func quantityEntry(_ number: Int, _ key: String, _ value: String) {
        message(number) { $0.string(1, key); $0.message(2) { $0.string(1, value) } }
    }

    /// `meta/v1 Time {1: seconds, 2: nanos}`.
    mutating func time(_ number: Int, seconds: Int64, nanos: Int64 = 0) {
        message(number) { $0.int(1, seconds); $0.int(2, nanos) }
    }

    /// `IntOrString` as Go writes it: all three fields.
    mutating func intOrString(_ number: Int, _ value: IntOrString) {
        message(number) {
            switch value {
            case .int(let i): $0.int(1, 0); $0.int(2, Int64(i)); $0.string(3, "")
            case .string(let s): $0.int(1, 1); $0.int(2, 0); $0.string(3, s)
            }
        }
    }

    mutating func raw(_ more: [UInt8]) { bytes += more }

    /// A whole request body: magic, then `runtime.Unknown {typeMeta, raw, contentEncoding "", contentType ""}`.
    static func body(apiVersion: String, kind: String, _ object: (inout PB) -> Void) -> [UInt8] {
        KubeProtobuf.magic + PB {
            $0.message(1) { $0.string(1, apiVersion); $0.string(2, kind) }
            $0.message(2, object)
            $0.string(3, "")
            $0.string(4, "")
        }.bytes
    }
}

/// Bytes from a hex string ("6b3873…"); invalid pairs are a test bug and yield an empty array.
func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
        guard let byte = UInt8(hex[index..<next], radix: 16) else { return [] }
        out.append(byte)
        index = next
    }
    return out
}

/// A JSON literal as a document.
func jsonDocument(_ text: String) throws -> JSONValue { try KubeJSON.decode(JSONValue.self, from: Data(text.utf8)) }

