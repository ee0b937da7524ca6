import CNftnl
#if canImport(Glibc)
import Glibc
#endif
import LinuxSystem

/// Owns a libmnl `NETLINK_NETFILTER` socket, bound in one network namespace.
///
/// Not thread-safe: one owner (an actor or a single thread) sends on it at a time.
final class NetfilterSocket {
    private let socket: OpaquePointer
    /// The namespace the socket was opened in.
    let namespace: NetnsReference
    /// The port id the kernel assigned at bind time.
    let portID: UInt32
    private var sequence: UInt32

    /// Opens and binds a socket in `namespace`, entering it on a dedicated thread if it is not the current one.
    init(namespace: NetnsReference = .current) throws {
        let opened: OpenedSocket = try namespace.run { try OpenedSocket.open(namespace: namespace) }
        self.socket = opened.socket
        self.namespace = namespace
        self.portID = mnl_socket_get_portid(opened.socket)
        self.sequence = UInt32(truncatingIfNeeded: time(nil))
        var on: Int32 = 1
        // Errors carry only the failing header (not the whole request) and an explanation when the kernel has one.
        _ = setsockopt(fileDescriptor, Int32(SOL_NETLINK), NETLINK_CAP_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fileDescriptor, Int32(SOL_NETLINK), NETLINK_EXT_ACK, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { mnl_socket_close(socket) }

    /// The socket's file descriptor.
    var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    /// Reserves `count` consecutive sequence numbers and returns the first.
    func takeSequences(_ count: UInt32) -> UInt32 {
        let first = sequence
        sequence &+= count
        return first
    }

    /// Sends a finished batch in one `sendmsg` and checks the kernel's answers.
    ///
    /// The kernel processes a batch synchronously inside `sendmsg`, so every error and the final ACK are queued
    /// when it returns. The first error is thrown, naming the message that caused it; the kernel has then
    /// rolled back the whole transaction.
    func send(_ batch: NFTBatch) throws {
        let length = batch.withIOVectors { $0.reduce(0) { $0 + $1.iov_len } }
        try growBuffer(SO_SNDBUFFORCE, SO_SNDBUF, to: length + 4096)
        try growBuffer(SO_RCVBUFFORCE, SO_RCVBUF, to: 1 << 20)
        var address = sockaddr_nl()
        address.nl_family = sa_family_t(AF_NETLINK)
        let sent: (Int, Int32) = batch.withIOVectors { pages in
            // sendmsg takes at most IOV_MAX (1024) vectors: a larger batch (over 1 GiB of pages) goes as one
            // contiguous copy.
            var vectors = pages
            var contiguous: UnsafeMutableRawBufferPointer?
            defer { contiguous?.deallocate() }
            if pages.count > Int(UIO_MAXIOV) {
                let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 16)
                contiguous = copy
                var offset = 0
                for page in pages {
                    guard let base = page.iov_base else { continue }
                    copy.baseAddress?.advanced(by: offset).copyMemory(from: base, byteCount: page.iov_len)
                    offset += page.iov_len
                }
                vectors = [iovec(iov_base: copy.baseAddress, iov_len: offset)]
            }
            return withUnsafeMutablePointer(to: &address) { addressPointer in
                vectors.withUnsafeMutableBufferPointer { buffer in
                    var message = msghdr()
                    message.msg_name = UnsafeMutableRawPointer(addressPointer)
                    message.msg_namelen = socklen_t(MemoryLayout<sockaddr_nl>.size)
                    message.msg_iov = buffer.baseAddress
                    message.msg_iovlen = buffer.count
                    return Sys.retrying { sendmsg(fileDescriptor, &message, 0) }
                }
            }
        }
        guard sent.1 == 0 else { throw NFTablesError(operation: "sendmsg batch", object: "\(batch.messageCount) messages", errno: sent.1) }
        try readAcknowledgements(batch)
    }

    private func readAcknowledgements(_ batch: NFTBatch) throws {
        var firstError: NFTablesError?
        var acknowledged = batch.lastAcknowledgedSequence == nil
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let (received, e) = buffer.withUnsafeMutableBytes { raw in
                Sys.retrying { recv(fileDescriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT)) }
            }
            if e != 0 {
                if e == EAGAIN || e == EWOULDBLOCK { break }
                throw NFTablesError(operation: "receive batch acknowledgements", object: "", errno: e)
            }
            buffer.withUnsafeBytes { raw in
                for answer in NetlinkMessages(raw.prefix(received)) where answer.type == NLMSG_ERROR {
                    if answer.error == 0 {
                        if answer.sequence == batch.lastAcknowledgedSequence { acknowledged = true }
                        continue
                    }
                    guard firstError == nil else { continue }
                    let origin = batch.describe(sequence: answer.sequence)
                    firstError = NFTablesError(operation: origin?.operation ?? "batch message \(answer.sequence)",
                                               object: origin?.object ?? "", errno: -answer.error,
                                               kernelMessage: answer.extendedMessage)
                }
            }
        }
        if let firstError { throw firstError }
        guard acknowledged else {
            throw NFTablesError(operation: "batch", object: "no acknowledgement from the kernel", errno: EPROTO)
        }
    }

    /// Sends one request with `NLM_F_DUMP` and hands every answer message to `body` until `NLMSG_DONE`.
    func dump(_ build: (UnsafeMutablePointer<CChar>, UInt32) -> UnsafeMutablePointer<nlmsghdr>?,
              operation: String, _ body: (UnsafePointer<nlmsghdr>) throws -> Void) throws {
        let sequence = takeSequences(1)
        var request = [CChar](repeating: 0, count: 8192)
        let length: Int = request.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let header = build(base, sequence) else { return -1 }
            return Int(header.pointee.nlmsg_len)
        }
        guard length > 0 else { throw NFTablesError(operation: operation, object: "build request", errno: EINVAL) }
        let (_, sendError) = request.withUnsafeBytes { raw in Sys.retrying { mnl_socket_sendto(socket, raw.baseAddress, length) } }
        guard sendError == 0 else { throw NFTablesError(operation: operation, object: "send request", errno: sendError) }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let (received, receiveError) = buffer.withUnsafeMutableBytes { raw in
                Sys.retrying { recv(fileDescriptor, raw.baseAddress, raw.count, 0) }
            }
            guard receiveError == 0 else { throw NFTablesError(operation: operation, object: "receive", errno: receiveError) }
            var done = false
            try buffer.withUnsafeBytes { raw in
                for answer in NetlinkMessages(raw.prefix(received)) where answer.sequence == sequence {
                    if answer.type == NLMSG_DONE { done = true; break }
                    if answer.type == NLMSG_ERROR {
                        guard answer.error != 0 else { continue }
                        throw NFTablesError(operation: operation, object: "", errno: -answer.error,
                                            kernelMessage: answer.extendedMessage)
                    }
                    if answer.flags & UInt16(NLM_F_DUMP_INTR) != 0 {
                        throw NFTablesError(operation: operation, object: "dump interrupted", errno: EINTR)
                    }
                    try body(answer.header)
                }
            }
            if done { return }
        }
    }

    /// Sends plain (non-batch) requests that ask for an ACK in one `sendto` and waits for every answer.
    /// Returns how many succeeded; errors whose errno is in `ignoring` count as neither, others throw.
    func sendRequests(_ builders: [(UnsafeMutablePointer<CChar>, UInt32) -> UnsafeMutablePointer<nlmsghdr>?],
                      operation: String, ignoring: Set<Int32>) throws -> Int {
        guard !builders.isEmpty else { return 0 }
        let first = takeSequences(UInt32(builders.count))
        var request = [CChar](repeating: 0, count: builders.count * 512)
        let length: Int = request.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            for (index, build) in builders.enumerated() {
                guard let base = buffer.baseAddress, offset + 512 <= buffer.count,
                      let header = build(base + offset, first &+ UInt32(index)) else { return -1 }
                offset += (Int(header.pointee.nlmsg_len) + 3) & ~3
            }
            return offset
        }
        guard length > 0 else { throw NFTablesError(operation: operation, object: "build request", errno: EINVAL) }
        let (_, sendError) = request.withUnsafeBytes { raw in Sys.retrying { mnl_socket_sendto(socket, raw.baseAddress, length) } }
        guard sendError == 0 else { throw NFTablesError(operation: operation, object: "send request", errno: sendError) }
        var pending = builders.count
        var succeeded = 0
        var firstError: NFTablesError?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while pending > 0 {
            let (received, receiveError) = buffer.withUnsafeMutableBytes { raw in
                Sys.retrying { recv(fileDescriptor, raw.baseAddress, raw.count, 0) }
            }
            guard receiveError == 0 else { throw NFTablesError(operation: operation, object: "receive", errno: receiveError) }
            buffer.withUnsafeBytes { raw in
                for answer in NetlinkMessages(raw.prefix(received)) where answer.type == NLMSG_ERROR {
                    guard answer.sequence &- first < UInt32(builders.count) else { continue }
                    pending -= 1
                    if answer.error == 0 {
                        succeeded += 1
                    } else if !ignoring.contains(-answer.error), firstError == nil {
                        firstError = NFTablesError(operation: operation, object: "", errno: -answer.error,
                                                   kernelMessage: answer.extendedMessage)
                    }
                }
            }
        }
        if let firstError { throw firstError }
        return succeeded
    }

    private func growBuffer(_ force: Int32, _ plain: Int32, to size: Int) throws {
        var current: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fileDescriptor, SOL_SOCKET, plain, &current, &length) == 0, Int(current) >= size { return }
        var wanted = Int32(clamping: size)
        if setsockopt(fileDescriptor, SOL_SOCKET, force, &wanted, socklen_t(MemoryLayout<Int32>.size)) != 0,
           setsockopt(fileDescriptor, SOL_SOCKET, plain, &wanted, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw NFTablesError.lastErrno("setsockopt buffer size", "\(size) bytes")
        }
    }
}

/// The socket right after `mnl_socket_open` + `mnl_socket_bind`, handed from the namespace thread to the owner.
private struct OpenedSocket: @unchecked Sendable {
    // Unchecked: the pointer is created on the namespace thread and used only after that thread is joined.
    let socket: OpaquePointer

    static func open(namespace: NetnsReference) throws -> OpenedSocket {
        guard let socket = mnl_socket_open(NETLINK_NETFILTER) else {
            throw NFTablesError.lastErrno("open netfilter netlink socket", "\(namespace)")
        }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let error = NFTablesError.lastErrno("bind netfilter netlink socket", "\(namespace)")
            mnl_socket_close(socket)
            throw error
        }
        return OpenedSocket(socket: socket)
    }
}

