import Testing
@testable import CNICore

@Suite struct JSONValueTests {
    @Test(arguments: [
        (#"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-2.5}"#, #"{"a":1,"b":[true,false,null],"c":"x\"y\\z\n","d":-2.5}"#),
        (#"  [ ]  "#, "[]"),
        (#"{"z":{},"a":"\u00e9\ud83d\ude00"}"#, "{\"a\":\"é😀\",\"z\":{}}"),
        (#"12345678901"#, "12345678901"),
        (#""\u0001""#, #""\u0001""#),
    ])
    func roundTrip(input: String, expected: String) throws {
        #expect(try JSONValue(parsing: input).serialized() == expected)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01x", "{} x", "\"\\q\"", "-"])
    func rejects(input: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: input) }
    }

    @Test func accessors() throws {
        var v = try JSONValue(parsing: #"{"n":3,"s":"t","b":true,"o":{"k":[1]}}"#)
        #expect(v["n"]?.intValue == 3)
        #expect(v["s"]?.stringValue == "t")
        #expect(v["b"]?.boolValue == true)
        #expect(v["o"]?["k"]?.arrayValue == [1])
        v["new"] = "x"
        #expect(v["new"] == "x")
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("10.244.1.5", "10.244.1.5"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("fd00::1", "fd00::1"), ("FD00:0:0:0:0:0:0:1", "fd00::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.0.0.1", "::ffff:a00:1"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func parsesAndFormats(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "1.2.3.4/24"])
    func rejects(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func prefixes() throws {
        let p = try #require(IPPrefix("10.244.1.77/24"))
        #expect(p.network.description == "10.244.1.0")
        #expect(p.last.description == "10.244.1.255")
        #expect(p.contains(try #require(IPAddress("10.244.1.3"))))
        #expect(!p.contains(try #require(IPAddress("10.244.2.3"))))
        #expect(IPPrefix("fd00::/64")?.last.description == "fd00::ffff:ffff:ffff:ffff")
        #expect(IPPrefix("10.0.0.0/33") == nil)
        #expect(IPAddress("255.255.255.255")?.advanced(by: 1) == nil)
    }
}
