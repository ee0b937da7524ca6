import CNftnl

/// Facts about the nf_tables netlink interface this adapter speaks; the proxy issue builds the batch writer on it.
public enum NFTablesABI {
    /// Receive buffer size libmnl recommends (`MNL_SOCKET_BUFFER_SIZE`).
    public static var socketBufferSize: Int { Int(kproxy_mnl_socket_buffer_size()) }
    /// `NFPROTO_INET`, the family of dual-stack tables.
    public static var inetFamily: UInt8 { UInt8(NFPROTO_INET) }
}
