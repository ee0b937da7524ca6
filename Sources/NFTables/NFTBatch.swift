import CNftnl
import ProxyCore

/// One nf_tables transaction under construction: `BEGIN`, the messages of a list of commands, `END`, in
/// libnftnl batch pages ready for a single `sendmsg`.
///
/// Every message gets its own sequence number; `describe(sequence:)` maps a kernel error back to the command
/// that caused it.
final class NFTBatch {
    /// Where a message came from, for error reports.
    struct Origin {
        var operation: String
        var object: String
    }

    private let batch: OpaquePointer
    private let firstSequence: UInt32
    private var nextSequence: UInt32
    private var origins: [Origin] = []
    private var nextSetID: UInt32 = 1
    /// The sequence number of the last message that asked for an ACK.
    private(set) var lastAcknowledgedSequence: UInt32?
    /// Number of messages between BEGIN and END.
    private(set) var messageCount = 0

    /// Pages of 1 MiB; a message may run 128 KiB past a page end, so every message must stay below that.
    static let pageSize: UInt32 = 1024 * 1024
    static let pageOverrun: UInt32 = 128 * 1024
    /// Element messages are cut at about this many bytes (a netlink attribute nest holds at most 64 KiB).
    static let elementChunkBytes = 32 * 1024

    init(firstSequence: UInt32) throws {
        guard let batch = nftnl_batch_alloc(Self.pageSize, Self.pageOverrun) else {
            throw NFTablesError(operation: "nftnl_batch_alloc", object: "", errno: ENOMEM)
        }
        self.batch = batch
        self.firstSequence = firstSequence
        self.nextSequence = firstSequence
        _ = nftnl_batch_begin(buffer, takeSequence(Origin(operation: "batch begin", object: "")))
        _ = nftnl_batch_update(batch)
    }

    deinit { nftnl_batch_free(batch) }

    private var buffer: UnsafeMutablePointer<CChar> {
        nftnl_batch_buffer(batch).assumingMemoryBound(to: CChar.self)
    }

    private func takeSequence(_ origin: Origin) -> UInt32 {
        let sequence = nextSequence
        nextSequence &+= 1
        origins.append(origin)
        return sequence
    }

    /// The command that produced the message with this sequence number.
    func describe(sequence: UInt32) -> Origin? {
        let index = Int(sequence &- firstSequence)
        return origins.indices.contains(index) ? origins[index] : nil
    }

    /// Starts a message, lets `payload` fill it, and closes it.
    func message(_ type: nf_tables_msg_types, family: NFTFamily, flags: Int32, origin: Origin,
                 payload: (UnsafeMutablePointer<nlmsghdr>) throws -> Void) rethrows {
        let sequence = takeSequence(origin)
        let header = nftnl_nlmsg_build_hdr(buffer, UInt16(type.rawValue), UInt16(family.protocolFamily),
                                           UInt16(flags), sequence)
        guard let header else { return }
        try payload(header)
        _ = nftnl_batch_update(batch)
        messageCount += 1
    }

    /// Closes the transaction, asking the kernel to acknowledge the last message so the reader knows the
    /// batch was processed.
    func finish() {
        requestAckOnLastMessage()
        _ = nftnl_batch_end(buffer, takeSequence(Origin(operation: "batch end", object: "")))
        _ = nftnl_batch_update(batch)
    }

    /// Sets `NLM_F_ACK` on the last message of the last page.
    private func requestAckOnLastMessage() {
        guard messageCount > 0, let last = lastHeader else { return }
        last.pointee.nlmsg_flags |= UInt16(NLM_F_ACK)
        lastAcknowledgedSequence = last.pointee.nlmsg_seq
    }

    private var lastHeader: UnsafeMutablePointer<nlmsghdr>? {
        // The current page's messages end where the next one would start; walk them from the page start.
        let count = Int(nftnl_batch_iovec_len(batch))
        var vectors = [iovec](repeating: iovec(), count: count)
        nftnl_batch_iovec(batch, &vectors, UInt32(count))
        var result: UnsafeMutablePointer<nlmsghdr>?
        for vector in vectors.reversed() {
            guard let base = vector.iov_base else { continue }
            var offset = 0
            while offset + MemoryLayout<nlmsghdr>.size <= vector.iov_len {
                let header = (base + offset).assumingMemoryBound(to: nlmsghdr.self)
                let length = Int(header.pointee.nlmsg_len)
                guard length >= MemoryLayout<nlmsghdr>.size else { break }
                result = header
                offset += (length + 3) & ~3
            }
            if result != nil { break }
        }
        return result
    }

    /// The filled pages, for `sendmsg`.
    func withIOVectors<T>(_ body: ([iovec]) throws -> T) rethrows -> T {
        let count = Int(nftnl_batch_iovec_len(batch))
        var vectors = [iovec](repeating: iovec(), count: count)
        nftnl_batch_iovec(batch, &vectors, UInt32(count))
        return try body(vectors)
    }

    /// A fresh id for an anonymous set in this batch.
    func takeSetID() -> UInt32 {
        defer { nextSetID += 1 }
        return nextSetID
    }
}

#if canImport(Glibc)
import Glibc
#endif
