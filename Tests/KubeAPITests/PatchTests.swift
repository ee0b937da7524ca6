import Foundation
import Testing
@testable import KubeAPI
import Values

/// Parses JSON text in tests (invalid text yields a marker that never equals real output).
func json(_ text: String) -> JSONValue {
    (try? KubeJSON.decode(JSONValue.self, from: Data(text.utf8))) ?? .string("<invalid JSON: \(text)>")
}

struct JSONMergePatchTests {
    /// RFC 7386 Appendix A.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func rfcExamples(original: String, patch: String, expected: String) {
        #expect(JSONMergePatch.apply(json(patch), to: json(original)) == json(expected))
    }

    @Test(arguments: [
        (#"{"a":1,"b":{"c":2,"d":3},"e":[1]}"#, #"{"a":1,"b":{"c":5},"e":[1,2],"f":true}"#, #"{"b":{"c":5,"d":null},"e":[1,2],"f":true}"#),
        (#"{"a":1}"#, #"{"a":1.0}"#, #"{}"#),
        (#"{"a":{"x":1}}"#, #"{"a":"s"}"#, #"{"a":"s"}"#),
    ])
    func createRoundTrips(original: String, modified: String, expectedPatch: String) {
        let patch = JSONMergePatch.create(from: json(original), to: json(modified))
        #expect(patch == json(expectedPatch))
        #expect(JSONMergePatch.apply(patch, to: json(original)).jsonEquals(json(modified)))
    }
}

struct JSONPatchTests {
    /// RFC 6902 Appendix A examples that succeed.
    @Test(arguments: [
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux"}]"#, #"{"baz":"qux","foo":"bar"}"#),
        (#"{"foo":["bar","baz"]}"#, #"[{"op":"add","path":"/foo/1","value":"qux"}]"#, #"{"foo":["bar","qux","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"remove","path":"/baz"}]"#, #"{"foo":"bar"}"#),
        (#"{"foo":["bar","qux","baz"]}"#, #"[{"op":"remove","path":"/foo/1"}]"#, #"{"foo":["bar","baz"]}"#),
        (#"{"baz":"qux","foo":"bar"}"#, #"[{"op":"replace","path":"/baz","value":"boo"}]"#, #"{"baz":"boo","foo":"bar"}"#),
        (#"{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}"#, #"[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]"#,
         #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#),
        (#"{"foo":["all","grass","cows","eat"]}"#, #"[{"op":"move","from":"/foo/1","path":"/foo/3"}]"#, #"{"foo":["all","cows","eat","grass"]}"#),
        (#"{"baz":"qux","foo":["a",2,"c"]}"#, #"[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]"#,
         #"{"baz":"qux","foo":["a",2,"c"]}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/child","value":{"grandchild":{}}}]"#, #"{"foo":"bar","child":{"grandchild":{}}}"#),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz","value":"qux","xyz":123}]"#, #"{"foo":"bar","baz":"qux"}"#),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":10}]"#, #"{"/":9,"~1":10}"#),
        (#"{"foo":["bar"]}"#, #"[{"op":"add","path":"/foo/-","value":["abc","def"]}]"#, #"{"foo":["bar",["abc","def"]]}"#),
        (#"{"a/b":{"c":1}}"#, #"[{"op":"copy","from":"/a~1b/c","path":"/d"}]"#, #"{"a/b":{"c":1},"d":1}"#),
        (#"{"a":1}"#, #"[{"op":"replace","path":"","value":[1]}]"#, #"[1]"#),
        (#"{"metadata":{"labels":{"a":"1"}}}"#, #"[{"op":"add","path":"/metadata/labels/b","value":"2"},{"op":"remove","path":"/metadata/labels/a"}]"#,
         #"{"metadata":{"labels":{"b":"2"}}}"#),
    ])
    func rfcExamples(document: String, patch: String, expected: String) throws {
        #expect(try JSONPatch.apply(json(patch), to: json(document)) == json(expected))
    }

    @Test(arguments: [
        (#"{"baz":"qux"}"#, #"[{"op":"test","path":"/baz","value":"bar"}]"#, 0),
        (#"{"foo":"bar"}"#, #"[{"op":"add","path":"/baz/bat","value":"qux"}]"#, 0),
        (#"{"/":9,"~1":10}"#, #"[{"op":"test","path":"/~01","value":"10"}]"#, 0),
        (#"{"a":[1]}"#, #"[{"op":"add","path":"/a/-","value":2},{"op":"remove","path":"/a/2"}]"#, 1),
        (#"{"a":[1]}"#, #"[{"op":"add","path":"/a/01","value":2}]"#, 0),
        (#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#, 0),
        (#"{"a":1}"#, #"[{"op":"frobnicate","path":"/a"}]"#, 0),
        (#"{"a":1}"#, #"[{"op":"replace","path":"/b","value":2}]"#, 0),
        (#"{"a":1}"#, #"[{"op":"add","path":"a","value":2}]"#, 0),
        (#"{"a":1}"#, #"[{"op":"add","path":"/b"}]"#, 0),
    ])
    func failures(document: String, patch: String, failingIndex: Int) {
        do {
            _ = try JSONPatch.apply(json(patch), to: json(document))
            Issue.record("patch should fail")
        } catch let e as JSONPatchError {
            #expect(e.index == failingIndex)
            #expect(e.description.contains("operation \(failingIndex)"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func notAnArray() {
        #expect(throws: JSONPatchError.self) { try JSONPatch.apply(json(#"{"op":"add"}"#), to: json("{}")) }
    }
}
