import EmbeddingStore
import Foundation

extension GeneratedGraph {
    /// Writes `edges.tsv` and `labels.tsv` into `directory` (created if missing).
    ///
    /// - `edges.tsv`: the ``FollowGraphParameters/headerLine`` (a `#` comment), then one
    ///   `src<TAB>dst` line per edge, ids as decimal text;
    /// - `labels.tsv`: one `node<TAB>community` line per node, no header.
    ///
    /// Both files are written into a hidden staging directory and appear together, in one atomic
    /// exchange with `directory` (`OutputRun`): a reader or a killed run never
    /// leaves a partial file or a new `edges.tsv` beside an old `labels.tsv`. An existing
    /// `directory` may hold only these two files; anything else makes the write refuse.
    /// Cost: O(edges + nodes), with a 4 MiB output buffer.
    /// - Throws: ``FollowGraphError`` naming the file when it cannot be created, written or
    ///   renamed, or when `directory` holds other files.
    public func write(to directory: URL) throws {
        let run: OutputRun
        do {
            run = try OutputRun(destination: directory, tool: "follow-graph-generate",
                                entries: ["edges.tsv", "labels.tsv"], marked: false)
        } catch {
            throw FollowGraphError("\(error)")
        }
        do {
            try Self.writeSynced(run.staging.appendingPathComponent("edges.tsv"), shownAs: directory.appendingPathComponent("edges.tsv")) { out in
                out.append(contentsOf: Array((parameters.headerLine + "\n").utf8))
                for e in sources.indices {
                    out.appendDecimal(sources[e]); out.append(0x09)
                    out.appendDecimal(targets[e]); out.append(0x0A)
                    try out.flushIfFull()
                }
            }
            try Self.writeSynced(run.staging.appendingPathComponent("labels.tsv"), shownAs: directory.appendingPathComponent("labels.tsv")) { out in
                for (node, label) in labels.enumerated() {
                    out.appendDecimal(Int32(node)); out.append(0x09)
                    out.appendDecimal(label); out.append(0x0A)
                    try out.flushIfFull()
                }
            }
            do { try run.commit() } catch { throw FollowGraphError("\(error)") }
        } catch {
            run.discard()
            throw error
        }
    }

    /// Writes a new file at `url` through a 4 MiB buffer and flushes it; errors name `shownAs`.
    static func writeSynced(_ url: URL, shownAs: URL, _ body: (inout BufferedOutput) throws -> Void) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw FollowGraphError("\(shownAs.path): cannot create file")
        }
        do {
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            var out = BufferedOutput(handle: handle, path: shownAs.path)
            try body(&out)
            try out.flush()
            do { try handle.synchronize() } catch {
                throw FollowGraphError("\(shownAs.path): fsync failed: \(error.localizedDescription)")
            }
        } catch {
            if let error = error as? FollowGraphError { throw error }
            throw FollowGraphError("\(shownAs.path): \(error.localizedDescription)")
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
