import Testing
import Values
@testable import Netlink

/// Errors of the pod-side setup carry codes callers can classify: a missing interface is `isNotFound`
/// (it used to carry libnl's NLE_INTR, "Interrupted system call", where not-found was meant).
@Suite(.enabled(if: NetnsSupport.isAvailable, "needs root and iproute2"))
struct PodNetworkErrorTests {
    @Test func missingPodInterfaceIsNotFound() throws {
        let pod = try TestNetns("pod")
        defer { pod.destroy() }
        let attachment = PodAttachment(bridge: "kpbr0", bridgeAddresses: [], hostInterface: "kph\(NetnsSupport.uniqueSuffix(5))",
                                       podInterface: "eth0", netnsPath: "/var/run/netns/\(pod.name)", mtu: nil, hairpin: false,
                                       addresses: [try #require(IPPrefix("10.244.9.2/24"))], routes: [])
        let outcome = try NetworkNamespace.run(path: attachment.netnsPath) { () throws(NetlinkError) -> NetlinkError? in
            do throws(NetlinkError) {
                _ = try PodNetwork.configurePodSide(attachment)
                return nil
            } catch {
                return error
            }
        }
        let error = try #require(outcome, "configuring a pod interface that does not exist must fail")
        #expect(error.isNotFound, "\(error)")
        #expect(error.object == "eth0")
        #expect(!error.message.lowercased().contains("interrupted"), "\(error.message)")
    }
}
