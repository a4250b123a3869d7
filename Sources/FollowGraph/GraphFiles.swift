import Foundation

extension GeneratedGraph {
    /// Writes `edges.tsv` and `labels.tsv` into `directory` (created if missing).
    ///
    /// - `edges.tsv`: the ``FollowGraphParameters/headerLine`` (a `#` comment), then one
    ///   `src<TAB>dst` line per edge, ids as decimal text;
    /// - `labels.tsv`: one `node<TAB>community` line per node, no header.
    ///
    /// Each file is written to a temporary sibling (`.edges.tsv.tmp-XXXXXXXX`), flushed with
    /// `fsync` and renamed over the final name, so a reader never sees a partial file.
    /// Cost: O(edges + nodes), with a 4 MiB output buffer.
    /// - Throws: ``FollowGraphError`` naming the file when it cannot be created, written or renamed.
    public func write(to directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw FollowGraphError("\(directory.path): cannot create directory: \(error.localizedDescription)")
        }
        try Self.writeAtomically(directory.appendingPathComponent("edges.tsv")) { out in
            out.append(contentsOf: Array((parameters.headerLine + "\n").utf8))
            for e in sources.indices {
                out.appendDecimal(sources[e]); out.append(0x09)
                out.appendDecimal(targets[e]); out.append(0x0A)
                try out.flushIfFull()
            }
        }
        try Self.writeAtomically(directory.appendingPathComponent("labels.tsv")) { out in
            for (node, label) in labels.enumerated() {
                out.appendDecimal(Int32(node)); out.append(0x09)
                out.appendDecimal(label); out.append(0x0A)
                try out.flushIfFull()
            }
        }
    }

    static func writeAtomically(_ url: URL, _ body: (inout BufferedOutput) throws -> Void) throws {
        var suffixSource = SystemRandomNumberGenerator()
        let suffix = String(UInt32.random(in: 0 ... .max, using: &suffixSource), radix: 16)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(suffix)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw FollowGraphError("\(temporary.path): cannot create file")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var out = BufferedOutput(handle: handle, path: url.path)
            try body(&out)
            try out.flush()
            do { try handle.synchronize() } catch {
                throw FollowGraphError("\(url.path): fsync failed: \(error.localizedDescription)")
            }
            if rename(temporary.path, url.path) != 0 {
                throw FollowGraphError("\(url.path): cannot rename \(temporary.path) to it: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? FollowGraphError { throw error }
            throw FollowGraphError("\(url.path): \(error.localizedDescription)")
        }
    }
}

/// A byte buffer that writes itself to a file handle in 4 MiB pieces.
struct BufferedOutput {
    let handle: FileHandle
    let path: String
    var bytes = [UInt8]()
    static let capacity = 1 << 22

    init(handle: FileHandle, path: String) {
        self.handle = handle
        self.path = path
        bytes.reserveCapacity(Self.capacity + 64)
    }

    @inline(__always) mutating func append(_ byte: UInt8) { bytes.append(byte) }
    mutating func append(contentsOf other: [UInt8]) { bytes.append(contentsOf: other) }

    /// Appends the decimal digits of a non-negative `value`.
    @inline(__always) mutating func appendDecimal(_ value: Int32) {
        var v = UInt32(bitPattern: value)
        if v < 10 { bytes.append(0x30 + UInt8(v)); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 { d[count] = 0x30 + UInt8(v % 10); v /= 10; count += 1 }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    mutating func flushIfFull() throws { if bytes.count >= Self.capacity { try flush() } }

    mutating func flush() throws {
        guard !bytes.isEmpty else { return }
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw FollowGraphError("\(path): write failed: \(error.localizedDescription)")
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
