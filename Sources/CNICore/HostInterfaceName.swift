/// Deterministic host-side veth names, so DEL and GC find an attachment's link without state:
/// `kpv` + 12 hex digits of the FNV-1a hash of `containerID/ifname` (15 bytes, the kernel's limit).
public enum HostInterfaceName {
    /// The prefix every kproxy-cni host veth carries.
    public static let prefix = "kpv"

    /// The host veth name for one attachment.
    public static func forAttachment(_ key: AttachmentKey) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in "\(key.containerID)/\(key.ifname)".utf8 {
            hash ^= UInt64(b)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash & 0xFFFF_FFFF_FFFF, radix: 16)
        return prefix + String(repeating: "0", count: 12 - hex.count) + hex
    }
}
