import Foundation
import KubeAPI
import Testing
@testable import KubeClient

@Suite struct WatchStreamTests {
    static let added = #"{"type":"ADDED","object":{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a","namespace":"default","resourceVersion":"5"},"color":"red"}}"#
    static let modified = #"{"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"default","resourceVersion":"6"},"color":"blue"}}"#
    static let deleted = #"{"type":"DELETED","object":{"metadata":{"name":"a","namespace":"default","resourceVersion":"7"}}}"#
    static let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Widget","apiVersion":"example.com/v1","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#
    static let error = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#
    static let stream = [added, modified, deleted, bookmark, error].map { $0 + "\n" }.joined()

    static let expected: [TypedWatchEvent<Widget>] = [
        .added(Widget("a", rv: "5", color: "red")),
        .modified({ var w = Widget("a", rv: "6", color: "blue"); w.apiVersion = nil; w.kind = nil; return w }()),
        .deleted({ var w = Widget("a", rv: "7"); w.apiVersion = nil; w.kind = nil; return w }()),
        .bookmark(resourceVersion: "9"),
        .error(Status.expired("too old resource version: 1 (5)")),
    ]

    /// Splits the stream into chunks of `size` bytes, feeds them, and decodes every line.
    func decodeChunked(_ text: String, chunkSize: Int) throws -> [TypedWatchEvent<Widget>] {
        let bytes = Array(text.utf8)
        var splitter = WatchLineSplitter()
        var events: [TypedWatchEvent<Widget>] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkSize, bytes.count)
            for line in try splitter.append(bytes[offset..<end]) { events.append(try .decode(line: line)) }
            offset = end
        }
        if let last = splitter.finish() { events.append(try .decode(line: last)) }
        return events
    }

    @Test(arguments: [1, 2, 7, 64, 100, 333, 100_000])
    func chunkBoundariesDoNotMatter(chunkSize: Int) throws {
        #expect(try decodeChunked(Self.stream, chunkSize: chunkSize) == Self.expected)
    }

    @Test func severalEventsInOneChunkAndBlankLinesAndCRLF() throws {
        var splitter = WatchLineSplitter()
        let text = Self.added + "\r\n\n  \n" + Self.bookmark + "\n" + Self.deleted
        let lines = try splitter.append(Array(text.utf8))
        #expect(lines.count == 2)
        #expect(try TypedWatchEvent<Widget>.decode(line: lines[1]) == .bookmark(resourceVersion: "9"))
        // The last event had no trailing newline: it arrives when the stream ends.
        let lastLine = splitter.finish()
        let last = try #require(lastLine)
        #expect(try TypedWatchEvent<Widget>.decode(line: last).resourceVersion == "7")
        let nothing = splitter.finish()
        #expect(nothing == nil)
    }

    @Test func oversizedLineIsRejected() {
        var splitter = WatchLineSplitter(maximumLineLength: 10)
        #expect(throws: KubeClientError.self) { try splitter.append(Array("0123456789ABC".utf8)) }
    }

    @Test(arguments: [
        #"{"type":"ADDED"}"#,
        #"{"type":"SOMETHING","object":{}}"#,
        #"not json"#,
        #"{"type":"ERROR","object":"x"}"#,
    ])
    func malformedEventsAreDecodingErrors(line: String) {
        do {
            _ = try TypedWatchEvent<Widget>.decode(line: Array(line.utf8))
            Issue.record("decoded \(line)")
        } catch {
            guard case .decoding = error else { Issue.record("\(error)"); return }
        }
    }

    @Test func statusSynthesisedFromNonStatusBodies() {
        let s = KubeClient.decodeStatus(code: 503, body: Data("<html>down</html>".utf8))
        #expect(s.code == 503 && s.reason == "ServiceUnavailable" && s.message == "<html>down</html>")
        let notStatus = KubeClient.decodeStatus(code: 404, body: Data(#"{"kind":"Service"}"#.utf8))
        #expect(notStatus.reason == "NotFound")
        let real = KubeClient.decodeStatus(code: 409, body: Data(#"{"kind":"Status","reason":"AlreadyExists","message":"m","code":409}"#.utf8))
        #expect(real.reason == "AlreadyExists" && real.message == "m")
        #expect(KubeClient.decodeStatus(code: 500, body: Data()).message == "the server responded with HTTP 500")
    }
}
