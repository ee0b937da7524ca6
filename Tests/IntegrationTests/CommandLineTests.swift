import Foundation
import Testing

/// Flags users type wrongly get a usage error, not a silent default.
@Suite struct CommandLineTests {
    @Test(arguments: [["controlplane", "--data-dir", "/nonexistent/kp"], ["proxy"], ["dns"]])
    func unknownLogLevelIsAUsageError(command: [String]) async throws {
        let binary = try #require(KProxyBinary.path, "kproxy binary not built (set KPROXY_BIN or run swift build)")
        let result = try await Command.runAsync(binary, command + ["--log-level", "loud"], timeout: 20)
        #expect(result.status == 64, "EX_USAGE: \(result.stderr)")
        #expect(result.stderr.contains("'loud'") && result.stderr.contains("--log-level"), "\(result.stderr)")
        #expect(result.stderr.contains("- warning"), "the choices are listed: \(result.stderr)")
    }
}
