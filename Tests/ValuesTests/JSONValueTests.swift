import Testing
import Values

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

/// The forms a CNI config and result carry: addresses and interface prefixes.
@Suite struct CNIAddressFormTests {
    @Test(arguments: [
        ("10.244.1.5", "10.244.1.5"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("fd00::1", "fd00::1"), ("FD00:0:0:0:0:0:0:1", "fd00::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("::ffff:10.0.0.1", "::ffff:10.0.0.1"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
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

    @Test func prefixesKeepTheAddressAndKnowTheirNetwork() throws {
        let p = try #require(IPPrefix("10.244.1.77/24"))
        #expect(p.description == "10.244.1.77/24" && p.address.description == "10.244.1.77" && p.length == 24)
        #expect(p.cidr.description == "10.244.1.0/24" && p.masked.description == "10.244.1.0/24")
        #expect(IPPrefix.any(.ipv4).description == "0.0.0.0/0" && IPPrefix.any(.ipv6).description == "::/0")
        #expect(IPPrefix(address: p.address, length: 33) == nil)
        let host = try #require(IPAddress("fd00::5"))
        #expect(IPPrefix(address: host, length: 128)?.description == "fd00::5/128")
        for bad in ["10.0.0.1", "10.0.0.1/", "10.0.0.1/024", "10.0.0.1/24/1", "x/24", "fd00::/129"] {
            #expect(IPPrefix(bad) == nil, "\(bad)")
        }
    }

    @Test func numericValuesRoundTrip() throws {
        let v6 = try #require(IPAddress("fd00::1:2"))
        #expect(IPAddress(family: .ipv6, value: v6.value) == v6)
        #expect(IPAddress(family: .ipv4, value: 0x0A60_0001)?.description == "10.96.0.1")
        #expect(IPAddress(family: .ipv4, value: UInt128(UInt32.max) + 1) == nil)
    }
}
