/// The last `tail` lines of a log (all of it when nil; none for 0).
public enum LogTail {
    public static func lines(_ bytes: [UInt8], tail: Int?) -> [UInt8] {
        guard let tail else { return bytes }
        guard tail > 0 else { return [] }
        var newlines = 0
        var index = bytes.count
        // A final newline ends the last line; it does not start another.
        if index > 0, bytes[index - 1] == 0x0A { index -= 1 }
        while index > 0 {
            if bytes[index - 1] == 0x0A {
                newlines += 1
                if newlines == tail { break }
            }
            index -= 1
        }
        return Array(bytes[index...])
    }
}
