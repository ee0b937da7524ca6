import Foundation
import Testing
@testable import KubeAPI
import Values

/// Proto2 wire semantics, the special Kubernetes messages, and the integrity of the schema tables.
@Suite struct ProtobufWireTests {
    private func namespace(_ object: (inout PB) -> Void) throws -> JSONValue {
        try KubeProtobuf.decode(PB.body(apiVersion: "v1", kind: "Namespace", object))
    }

    @Test func unknownFieldsOfEveryWireTypeAreSkipped() throws {
        let plain = try namespace { $0.message(1) { $0.string(1, "demo") } }
        let noisy = try namespace {
            $0.int(99, 7)
            $0.message(1) { m in
                m.int(60, -5); m.string(1, "demo"); m.tag(61, 1); m.raw([1, 2, 3, 4, 5, 6, 7, 8])
                m.tag(62, 5); m.raw([1, 2, 3, 4]); m.message(63) { $0.string(1, "x") }
            }
            $0.tag(98, 5); $0.raw([0, 0, 0, 0])
        }
        #expect(noisy == plain)
        #expect(plain == (try jsonDocument(#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}}"#)))
    }

    @Test func unknownEnvelopeFieldsAreSkipped() throws {
        var body = PB.body(apiVersion: "v1", kind: "Namespace") { $0.message(1) { $0.string(1, "demo") } }
        body += PB { $0.int(9, 1); $0.string(10, "future") }.bytes
        #expect(try KubeProtobuf.decode(body)["metadata"] == ["name": "demo"])
    }

    @Test func singularFieldsTakeTheLastValueAndMessagesMerge() throws {
        let decoded = try namespace {
            $0.message(1) { $0.string(1, "first"); $0.entry(11, "a", "1"); $0.string(14, "f1") }
            $0.message(1) { $0.string(1, "second"); $0.entry(11, "b", "2"); $0.string(14, "f2") }
        }
        #expect(decoded["metadata"] == ["name": "second", "labels": ["a": "1", "b": "2"], "finalizers": ["f1", "f2"]])
    }

    @Test func mapEntriesRepeatLastKeyWinsAndMissingPartsDefault() throws {
        let decoded = try namespace {
            $0.message(1) { m in
                m.entry(11, "a", "1"); m.entry(11, "a", "2")
                m.message(11) { $0.string(1, "novalue") }
                m.message(11) { $0.string(2, "nokey") }
            }
        }
        #expect(decoded["metadata"]?["labels"] == ["a": "2", "novalue": "", "": "nokey"])
    }

    @Test func zeroValuesFollowGoJSONPresence() throws {
        let decoded = try KubeProtobuf.decode(PB.body(apiVersion: "v1", kind: "Pod") {
            $0.message(2) { s in
                s.bool(11, true); s.bool(11, false)  // omitempty value: a later zero removes it
                s.int(4, 0)  // pointer: zero kept
                s.message(2) { $0.string(2, "img") }  // container name: no omitempty, filled in
            }
        })
        #expect(decoded["spec"] == ["terminationGracePeriodSeconds": 0, "containers": [["name": "", "image": "img"]]])
    }

    @Test func repeatedIntegersMayBePackedOrNot() throws {
        let decoded = try KubeProtobuf.decode(PB.body(apiVersion: "v1", kind: "Pod") {
            $0.message(2) { s in
                s.message(14) { sc in
                    sc.data(4, PB.varint(1000) + PB.varint(2000))
                    sc.int(4, 3000)
                    sc.data(4, [])
                }
            }
        })
        #expect(decoded["spec"]?["securityContext"] == ["supplementalGroups": [1000, 2000, 3000]])
    }

    @Test func negativeInt32sUseTenByteVarints() throws {
        let body = PB.body(apiVersion: "v1", kind: "Service") { $0.message(2) { $0.message(1) { $0.int(3, -2) } } }
        #expect(body.count > 20)
        #expect(try KubeProtobuf.decode(body)["spec"]?["ports"] == [["port": -2]])
    }

    @Test func bytesAndRawJSON() throws {
        let decoded = try namespace {
            $0.message(1) { m in
                m.message(17) { f in
                    f.string(1, "kubectl"); f.string(2, "Update"); f.string(6, "FieldsV1")
                    f.message(7) { $0.string(1, #"{"f:metadata":{"f:labels":{}}}"#) }
                }
                m.message(17) { $0.string(1, "empty"); $0.message(7) { _ in } }
            }
        }
        #expect(decoded["metadata"]?["managedFields"] == [
            ["manager": "kubectl", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": ["f:metadata": ["f:labels": [:]]]],
            ["manager": "empty", "fieldsV1": nil],
        ])
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (951_782_400, "2000-02-29T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"), (-62_135_596_800, "0001-01-01T00:00:00Z"),
        (ProtobufWellKnown.minSeconds, "0000-01-01T00:00:00Z"), (ProtobufWellKnown.maxSeconds, "9999-12-31T23:59:59Z"),
    ])
    func timesFormatAsRFC3339(_ seconds: Int64, _ expected: String) {
        #expect(ProtobufWellKnown.time(seconds: seconds) == expected)
    }

    @Test(arguments: [ProtobufWellKnown.minSeconds - 1, ProtobufWellKnown.maxSeconds + 1, Int64.min, Int64.max])
    func timesOutsideGosRangeAreRejected(_ seconds: Int64) {
        #expect(ProtobufWellKnown.time(seconds: seconds) == nil)
        #expect(ProtobufWellKnown.microTime(seconds: seconds, nanos: 0) == nil)
    }

    @Test(arguments: [
        (Int64(0), Int64(0), "1970-01-01T00:00:00.000000Z"), (0, 1_500, "1970-01-01T00:00:00.000001Z"),
        (0, -1, "1969-12-31T23:59:59.999999Z"), (0, 2_000_000_000, "1970-01-01T00:00:02.000000Z"),
        (1_700_000_000, 123_456_789, "2023-11-14T22:13:20.123456Z"),
    ])
    func microTimesHaveSixDigits(_ seconds: Int64, _ nanos: Int64, _ expected: String) {
        #expect(ProtobufWellKnown.microTime(seconds: seconds, nanos: nanos) == expected)
    }

    @Test(arguments: [
        (Int64(0), "0s"), (1, "1ns"), (999, "999ns"), (1_500, "1.5µs"), (1_500_000, "1.5ms"), (1_000_000_000, "1s"),
        (90_000_000_000, "1m30s"), (3_600_000_000_000, "1h0m0s"), (3_723_500_000_000, "1h2m3.5s"), (-2_500_000_000, "-2.5s"),
        (Int64.min, "-2562047h47m16.854775808s"), (Int64.max, "2562047h47m16.854775807s"),
    ])
    func durationsFormatLikeGo(_ nanoseconds: Int64, _ expected: String) {
        #expect(ProtobufWellKnown.duration(nanoseconds: nanoseconds) == expected)
    }

    @Test func everySchemaReferenceResolves() {
        var missing: [String] = []
        for (message, fields) in ProtobufSchema.messages {
            for (number, field) in fields {
                switch field.type {
                case .message(let name), .inline(let name):
                    if ProtobufSchema.messages[name] == nil { missing.append("\(message).\(number) → \(name)") }
                default: break
                }
                if field.presence != .omitEmpty {  // presence only means something for scalars
                    #expect([ProtoType.string, .bytes, .bool, .int32, .int64].contains(field.type), "\(message).\(number)")
                }
            }
        }
        #expect(missing.isEmpty)
        for (kind, entry) in ProtobufSchema.kinds {
            #expect(ProtobufSchema.messages[entry.schema] != nil, "\(kind)")
        }
    }
}
