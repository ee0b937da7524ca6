import Foundation
import Testing
import TestSupport
@testable import KubeAPI

/// Malformed bodies throw a `KubeProtobufError` that says what is wrong; no input crashes the decoder.
@Suite struct ProtobufMalformedTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let body: [UInt8]
        let error: KubeProtobufError
    }

    static let magic = KubeProtobuf.magic

    static let cases: [Case] = [
        Case(description: "empty", body: [], error: .missingMagic),
        Case(description: "three magic bytes", body: [0x6b, 0x38, 0x73], error: .missingMagic),
        Case(description: "wrong encoding byte", body: [0x6b, 0x38, 0x73, 0x01, 0x0a, 0x00], error: .missingMagic),
        Case(description: "a JSON body", body: Array(#"{"kind":"Namespace"}"#.utf8), error: .missingMagic),
        Case(description: "magic only", body: magic, error: .missingTypeMeta(apiVersion: "", kind: "")),
        Case(description: "tag without length", body: magic + [0x0a], error: .truncated(at: "envelope")),
        Case(description: "truncated length varint", body: magic + [0x0a, 0x80], error: .truncated(at: "envelope")),
        Case(description: "length past the end", body: magic + [0x0a, 0x05, 0x0a], error: .truncated(at: "envelope")),
        Case(description: "huge length", body: magic + [0x12] + PB.varint(UInt64.max), error: .truncated(at: "envelope")),
        Case(description: "start group", body: magic + [0x0b], error: .invalidWireType(3, field: 1, at: "envelope")),
        Case(description: "end group", body: magic + [0x0c], error: .invalidWireType(4, field: 1, at: "envelope")),
        Case(description: "wire type 6", body: magic + [0x0e], error: .invalidWireType(6, field: 1, at: "envelope")),
        Case(description: "field number 0", body: magic + [0x02, 0x00], error: .invalidFieldNumber(0, at: "envelope")),
        Case(description: "11-byte varint", body: magic + [0x28] + Array(repeating: 0xff, count: 10) + [0x01],
             error: .malformedVarint(at: "envelope")),
        Case(description: "truncated fixed64", body: magic + [0x29, 1, 2, 3], error: .truncated(at: "envelope")),
        Case(description: "typeMeta as a varint", body: magic + [0x08, 0x01],
             error: .wrongWireType(0, field: "envelope field 1", expected: 2)),
        Case(description: "kind as a varint", body: magic + PB { $0.message(1) { $0.int(2, 1) } }.bytes,
             error: .wrongWireType(0, field: "typeMeta field 2", expected: 2)),
        Case(description: "no kind", body: magic + PB { $0.message(1) { $0.string(1, "v1") } }.bytes,
             error: .missingTypeMeta(apiVersion: "v1", kind: "")),
        Case(description: "unserved kind", body: PB.body(apiVersion: "v1", kind: "ConfigMap") { _ in },
             error: .unsupportedKind(apiVersion: "v1", kind: "ConfigMap")),
        Case(description: "events.k8s.io Event", body: PB.body(apiVersion: "events.k8s.io/v1", kind: "Event") { _ in },
             error: .unsupportedKind(apiVersion: "events.k8s.io/v1", kind: "Event")),
        Case(description: "content encoding",
             body: magic + PB { $0.message(1) { $0.string(1, "v1"); $0.string(2, "Pod") }; $0.string(3, "gzip") }.bytes,
             error: .unsupportedEncoding("gzip")),
        Case(description: "port as bytes", body: PB.body(apiVersion: "v1", kind: "Service") {
            $0.message(2) { $0.message(1) { $0.int(3, 80) }; $0.message(1) { $0.string(3, "80") } }
        }, error: .wrongWireType(2, field: "spec.ports[1].port", expected: 0)),
        Case(description: "name as a varint", body: PB.body(apiVersion: "v1", kind: "Pod") { $0.message(1) { $0.int(1, 1) } },
             error: .wrongWireType(0, field: "metadata.name", expected: 2)),
        Case(description: "metadata as a varint", body: PB.body(apiVersion: "v1", kind: "Pod") { $0.int(1, 1) },
             error: .wrongWireType(0, field: "metadata", expected: 2)),
        Case(description: "nested length past the end", body: PB.body(apiVersion: "v1", kind: "Service") {
            $0.data(2, [0x0a, 0x05, 0x00])
        }, error: .truncated(at: "spec")),
        Case(description: "Time seconds as bytes", body: PB.body(apiVersion: "v1", kind: "Pod") {
            $0.message(1) { $0.message(8) { $0.string(1, "soon") } }
        }, error: .wrongWireType(2, field: "metadata.creationTimestamp field 1", expected: 0)),
    ]

    @Test(arguments: cases)
    func throwsAClearError(_ testCase: Case) {
        #expect(throws: testCase.error) { try KubeProtobuf.decode(testCase.body) }
    }

    @Test(arguments: [
        ("IntOrString type 2", PB.body(apiVersion: "v1", kind: "Service") {
            $0.message(2) { $0.message(1) { $0.message(4) { $0.int(1, 2); $0.int(2, 80) } } }
        }, "spec.ports[0].targetPort"),
        ("year 10000", PB.body(apiVersion: "v1", kind: "Namespace") {
            $0.message(1) { $0.time(8, seconds: ProtobufWellKnown.maxSeconds + 1) }
        }, "metadata.creationTimestamp"),
        ("fieldsV1 not JSON", PB.body(apiVersion: "v1", kind: "Namespace") {
            $0.message(1) { $0.message(17) { $0.message(7) { $0.string(1, "{nope") } } }
        }, "metadata.managedFields[0].fieldsV1"),
    ])
    func rejectsUnrepresentableValues(_ name: String, _ body: [UInt8], _ field: String) {
        #expect {
            try KubeProtobuf.decode(body)
        } throws: { error in
            guard case .invalidValue(let at, _) = error as? KubeProtobufError else { return false }
            return at == field
        }
    }

    @Test func errorsDescribeThemselves() {
        let error = KubeProtobufError.wrongWireType(2, field: "spec.ports[1].port", expected: 0)
        #expect(error.description == "protobuf body malformed: field spec.ports[1].port has wire type 2, expected 0")
        #expect(KubeProtobufError.truncated(at: "").description.contains("the object"))
    }

    @Test func nestingIsBounded() {
        #expect(throws: KubeProtobufError.tooDeep(at: "x")) {
            try ProtobufObjectDecoder.decode([], schema: [:], path: "x", depth: ProtobufObjectDecoder.maxDepth)
        }
    }

    /// Every valid body used in these tests, for truncation and mutation.
    static let validBodies: [[UInt8]] = KubectlVector.all.map { hexBytes($0.hex) } + ProtobufVectors.all.map(\.body)
        + [hexBytes(KubectlVector.deploymentHex)]

    @Test func everyTruncationDecodesOrThrowsAKubeProtobufError() {
        for body in Self.validBodies {
            for length in 0..<body.count {
                expectNoCrash(Array(body.prefix(length)))
            }
        }
    }

    @Test func randomMutationsDecodeOrThrowAKubeProtobufError() {
        var generator = SeededGenerator(seed: 0x6b38_7300)
        for body in Self.validBodies {
            for _ in 0..<2000 {
                var mutated = body
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    let index = Int.random(in: 0..<mutated.count, using: &generator)
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: mutated[index] = UInt8.random(in: 0...255, using: &generator)
                    case 1: mutated[index] ^= 1 << UInt8.random(in: 0...7, using: &generator)
                    case 2: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                    default: if mutated.count > 5 { mutated.remove(at: index) }
                    }
                }
                expectNoCrash(mutated)
            }
        }
        for _ in 0..<5000 {
            let noise = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            expectNoCrash(Self.magic + noise)
        }
    }

    private func expectNoCrash(_ body: [UInt8]) {
        do {
            _ = try KubeProtobuf.decode(body)
        } catch {
            #expect(error is KubeProtobufError, "\(error)")
        }
    }
}
