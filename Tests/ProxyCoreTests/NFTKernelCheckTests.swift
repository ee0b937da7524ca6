import Foundation
import Testing
@testable import ProxyCore

/// Loads the rendered text into the real `nft`, inside a private network namespace (root only).
struct NFTKernelCheckTests {
    static var canRun: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
        && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft") }

    @discardableResult
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.enabled(if: canRun), arguments: GoldenTests.cases)
    func nftAcceptsTheText(_ c: GoldenTests.Case) throws {
        let ns = "kp-\(UInt32.random(in: 0...UInt32.max))"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(ns).nft")
        try GoldenTests.render(c).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let (addStatus, addOutput) = try Self.run(["/usr/sbin/ip", "netns", "add", ns])
        try #require(addStatus == 0, "\(addOutput)")
        defer { _ = try? Self.run(["/usr/sbin/ip", "netns", "delete", ns]) }
        let check = try Self.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/nft", "-c", "-f", file.path])
        #expect(check.0 == 0, "\(check.1)")
        let load = try Self.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/nft", "-f", file.path])
        #expect(load.0 == 0, "\(load.1)")
        let list = try Self.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/nft", "list", "table", "ip", "kproxy"])
        #expect(list.0 == 0 && list.1.contains("chain services"), "\(list.1)")
    }
}
