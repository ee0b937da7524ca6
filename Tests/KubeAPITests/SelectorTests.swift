import Foundation
import Testing
@testable import KubeAPI

struct LabelSelectorTests {
    @Test(arguments: [
        ("", ""),
        ("   ", ""),
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        (" x = y , a = b ", "a=b,x=y"),
        ("env in (prod, dev)", "env in (dev,prod)"),
        ("env notin (x)", "env notin (x)"),
        ("app", "app"),
        ("!app", "!app"),
        ("a=", "a="),
        ("example.com/tier=front-end", "example.com/tier=front-end"),
        ("a in (x,x,y)", "a in (x,y)"),
        ("n>3,n<10", "n>3,n<10"),
        ("b,a=x", "a=x,b"),
    ])
    func parsesAndRenders(input: String, canonical: String) throws {
        let s = try LabelSelector(parsing: input)
        #expect(s.description == canonical)
        #expect(s.isEverything == canonical.isEmpty)
        #expect(try LabelSelector(parsing: canonical) == s)
    }

    @Test(arguments: [
        "a=b=c", "a in x", "a in (x", "in=x", "!a=b", "a b", "=b", "a=b,", ",a=b", "a=b,,c=d",
        "-a=b", "a=-b", "a/b/c=d", "Example.com/a=b", "a in (x y)", "a>x", String(repeating: "k", count: 64),
        "a=" + String(repeating: "v", count: 64), "a!b",
    ])
    func rejects(input: String) {
        #expect(throws: SelectorParseError.self) { try LabelSelector(parsing: input) }
    }

    @Test func errorMessageIsReadable() {
        do {
            _ = try LabelSelector(parsing: "a=b=c")
            Issue.record("expected an error")
        } catch let e as SelectorParseError {
            #expect(e.message.contains("found '='"))
        } catch {
            Issue.record("wrong error \(error)")
        }
    }

    @Test(arguments: [
        ("app=web", ["app": "web"], true),
        ("app=web", ["app": "db"], false),
        ("app=web", [:], false),
        ("app!=web", [:], true),
        ("app!=web", ["app": "web"], false),
        ("env in (a,b)", ["env": "b"], true),
        ("env in (a,b)", [:], false),
        ("env notin (a,b)", [:], true),
        ("env notin (a,b)", ["env": "a"], false),
        ("app", ["app": ""], true),
        ("app", [:], false),
        ("!app", [:], true),
        ("!app", ["app": "x"], false),
        ("app=web,tier=fe", ["app": "web", "tier": "fe", "x": "y"], true),
        ("app=web,tier=fe", ["app": "web"], false),
        ("n>3", ["n": "4"], true),
        ("n>3", ["n": "3"], false),
        ("n<3", ["n": "x"], false),
        ("a=", ["a": ""], true),
        ("", ["anything": "x"], true),
    ] as [(String, [String: String], Bool)])
    func matches(selector: String, labels: [String: String], expected: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == expected)
    }

    @Test func specConversion() throws {
        let json = #"{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"In","values":["prod","dev"]},{"key":"legacy","operator":"DoesNotExist"}]}"#
        let spec = try JSONDecoder().decode(LabelSelectorSpec.self, from: Data(json.utf8))
        let sel = try spec.selector()
        #expect(sel.description == "app=web,env in (dev,prod),!legacy")
        #expect(spec.matches(["app": "web", "env": "dev"]))
        #expect(!spec.matches(["app": "web", "env": "dev", "legacy": "1"]))
        #expect(try LabelSelectorSpec().selector().isEverything)
        #expect(throws: SelectorParseError.self) {
            try LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "Gt", values: ["1"])]).selector()
        }
        #expect(throws: SelectorParseError.self) {
            try LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "In", values: [])]).selector()
        }
        #expect(throws: SelectorParseError.self) {
            try LabelSelectorSpec(matchExpressions: [.init(key: "a", operator: "Exists", values: ["x"])]).selector()
        }
    }

    @Test func matchLabelsSelector() {
        let sel = LabelSelector(matchLabels: ["b": "2", "a": "1"])
        #expect(sel.description == "a=1,b=2")
        #expect(sel.matches(["a": "1", "b": "2"]))
        #expect(!sel.matches(["a": "1"]))
    }
}

struct FieldSelectorTests {
    @Test(arguments: [
        ("metadata.name=web", ["metadata.name": "web"], true),
        ("metadata.name==web", ["metadata.name": "db"], false),
        ("spec.nodeName!=n1", ["spec.nodeName": "n2"], true),
        ("spec.nodeName!=n1", [:], true),
        ("spec.nodeName=", [:], true),
        ("a=1,b=2", ["a": "1", "b": "2"], true),
        ("a=1,b=2", ["a": "1", "b": "3"], false),
        (#"a=x\,y"#, ["a": "x,y"], true),
        (#"a=x\=y\\"#, ["a": #"x=y\"#], true),
        ("", [:], true),
    ] as [(String, [String: String], Bool)])
    func matches(selector: String, fields: [String: String], expected: Bool) throws {
        #expect(try FieldSelector(parsing: selector).matches(fields) == expected)
    }

    @Test(arguments: ["a", "=b", "a=b=c", #"a=b\x"#, "a=b,c", #"a=b\"#])
    func rejects(input: String) {
        #expect(throws: SelectorParseError.self) { try FieldSelector(parsing: input) }
    }

    @Test func requiredValueAndRendering() throws {
        let s = try FieldSelector(parsing: "spec.nodeName==n1,metadata.name!=x,metadata.namespace=default")
        #expect(s.requiredValue(for: "spec.nodeName") == "n1")
        #expect(s.requiredValue(for: "metadata.name") == nil)
        #expect(s.requiredValue(for: "metadata.namespace") == "default")
        #expect(s.description == "spec.nodeName==n1,metadata.name!=x,metadata.namespace=default")
        #expect(try FieldSelector(parsing: #"a=x\,y"#).description == #"a=x\,y"#)
        #expect(try FieldSelector(parsing: ",,").isEverything)
    }
}
