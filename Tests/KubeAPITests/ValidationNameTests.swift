import Testing
@testable import KubeAPI

@Suite struct ValidationNameTests {
    @Test(arguments: [
        ("a", true), ("my-name", true), ("123-abc", true), (String(repeating: "a", count: 63), true),
        (String(repeating: "a", count: 64), false), ("", false), ("-a", false), ("a-", false), ("A", false), ("a.b", false), ("a_b", false),
    ])
    func dns1123Label(_ value: String, _ valid: Bool) { #expect(NameValidation.isDNS1123Label(value) == valid) }

    @Test(arguments: [
        ("example.com", true), ("a", true), ("a-b.c-d", true), ("a..b", false), (".a", false), ("a.", false), ("A.b", false),
        (String(repeating: "a.", count: 126) + "a", true), (String(repeating: "a.", count: 127) + "a", false),
    ])
    func dns1123Subdomain(_ value: String, _ valid: Bool) { #expect(NameValidation.isDNS1123Subdomain(value) == valid) }

    @Test(arguments: [("my-name", true), ("abc-123", true), ("1abc", false), ("a-", false), ("", false)])
    func dns1035Label(_ value: String, _ valid: Bool) { #expect(NameValidation.isDNS1035Label(value) == valid) }

    @Test(arguments: [
        ("http", true), ("h2c", true), ("a-b-c", true), ("123", false), ("a--b", false), ("-ab", false), ("ab-", false),
        ("HTTP", false), ("abcdefghijklmnop", false), ("", false),
    ])
    func ianaSvcName(_ value: String, _ valid: Bool) { #expect(NameValidation.isIANASvcName(value) == valid) }

    @Test(arguments: [
        ("app", true), ("MyName", true), ("my.name", true), ("example.com/my_name", true), ("kubernetes.io/service-name", true),
        ("/a", false), ("a/", false), ("a/b/c", false), ("Example.com/a", false), ("-a", false), (String(repeating: "a", count: 64), false),
    ])
    func qualifiedName(_ value: String, _ valid: Bool) { #expect(NameValidation.isQualifiedName(value) == valid) }

    @Test(arguments: [("", true), ("MyValue", true), ("my_value", true), ("12345", true), ("-x", false), ("a b", false)])
    func labelValue(_ value: String, _ valid: Bool) { #expect(NameValidation.isValidLabelValue(value) == valid) }

    @Test(arguments: [
        ("10.9.8.7", true), ("0.0.0.0", true), ("255.255.255.255", true), ("256.1.1.1", false), ("1.2.3", false), ("1.2.3.4.5", false),
        ("2001:db8::ffff", true), ("::", true), ("::1", true), ("1::", true), ("::ffff:10.0.0.1", true), ("1:2:3:4:5:6:7:8", true),
        ("1:2:3:4:5:6:7:8:9", false), ("1:2:3:4:5:6:7", false), ("1::2::3", false), ("12345::", false), ("g::", false),
        (":1::", false), ("fe80::1%eth0", false), ("", false), ("a.b.c.d", false), (" 10.0.0.1", false),
    ])
    func ip(_ value: String, _ valid: Bool) { #expect(NameValidation.isValidIP(value) == valid) }

    @Test(arguments: [
        ("10.9.8.0/24", true), ("10.9.8.7/32", true), ("0.0.0.0/0", true), ("2001:db8::/64", true), ("::/128", true),
        ("10.0.0.0/33", false), ("2001:db8::/129", false), ("10.0.0.0", false), ("10.0.0.0/", false), ("10.0.0.0/+8", false), ("/8", false),
    ])
    func cidr(_ value: String, _ valid: Bool) { #expect(NameValidation.isValidCIDR(value) == valid) }

    @Test func metadataMessages() throws {
        let causes = ObjectMetaValidation.validate(ObjectMeta(name: "Bad_Name", namespace: "default"), namespaced: true, nameRule: .dns1123Subdomain)
        let cause = try #require(causes.first)
        #expect(cause.field == "metadata.name")
        #expect(cause.reason == "FieldValueInvalid")
        #expect(cause.message?.hasPrefix(#"Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of"#) == true)
        let missing = ObjectMetaValidation.validate(ObjectMeta(namespace: "default"), namespaced: true, nameRule: .dns1123Subdomain)
        #expect(missing == [.required("metadata.name", "name or generateName is required")])
        #expect(missing.first?.message == "Required value: name or generateName is required")
    }
}
