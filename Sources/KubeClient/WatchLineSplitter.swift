/// Splits a watch response body, which arrives in arbitrary chunks, into the newline-delimited
/// JSON documents it carries: a line may span chunks, and one chunk may hold several lines.
/// Blank lines are skipped and a trailing `\r` is dropped.
public struct WatchLineSplitter: Sendable {
    private var pending: [UInt8] = []
    /// Refuse lines beyond this size (a misbehaving server must not exhaust memory).
    public let maximumLineLength: Int

    public init(maximumLineLength: Int = 64 << 20) { self.maximumLineLength = maximumLineLength }

    /// Feeds one chunk; returns the lines it completed, in order.
    public mutating func append<Bytes: Collection<UInt8>>(_ chunk: Bytes) throws(KubeClientError) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = chunk.startIndex
        var index = start
        while index != chunk.endIndex {
            if chunk[index] == UInt8(ascii: "\n") {
                pending.append(contentsOf: chunk[start..<index])
                if let line = takePending() { lines.append(line) }
                start = chunk.index(after: index)
            }
            index = chunk.index(after: index)
        }
        pending.append(contentsOf: chunk[start..<chunk.endIndex])
        if pending.count > maximumLineLength {
            throw .decoding("watch event longer than \(maximumLineLength) bytes")
        }
        return lines
    }

    /// Called when the stream ends: the last line if the server did not terminate it with a newline.
    public mutating func finish() -> [UInt8]? { takePending() }

    private mutating func takePending() -> [UInt8]? {
        defer { pending.removeAll(keepingCapacity: true) }
        var end = pending.endIndex
        while end > pending.startIndex, isSpace(pending[end - 1]) { end -= 1 }
        var begin = pending.startIndex
        while begin < end, isSpace(pending[begin]) { begin += 1 }
        return begin < end ? Array(pending[begin..<end]) : nil
    }

    private func isSpace(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\r") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n")
    }
}
