/// An error reading an edge list or a label file.
///
/// Every error that concerns one line of input names the file, the 1-based line number and the
/// text of that line, so that `description` reads like a compiler diagnostic:
///
///     edges.tsv:17: expected 2 columns (source, target), found 1: "42"
public struct GraphDataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Problem: Equatable, Sendable {
        /// The file could not be opened or read; `reason` is the system's message.
        case cannotRead(reason: String)
        /// A data line has fewer columns than the reader expects; `names` describes them.
        case tooFewColumns(found: Int, expected: Int, names: String)
        /// A data line has more columns than the reader expects; `names` describes them.
        case tooManyColumns(found: Int, expected: Int, names: String)
        /// The weight column is not a finite decimal number that fits a `Float`.
        case badWeight(String)
        /// The weight is zero, negative or too small for a normal `Float` (the readers' default
        /// accepts positive normal weights only; see `allowNonPositiveWeights`).
        case nonPositiveWeight(String)
        /// The data is compressed and cannot be read as text (in-memory input; files in gzip
        /// format are inflated as they are read).
        case compressed(String)
        /// A compressed file is damaged: cut short, failing its checksum, or followed by bytes
        /// that are not compressed data. `line` is the line the text had reached.
        case damagedCompressedData(format: String, reason: String)
        /// An id (or label) column is empty, e.g. `a,,1` or a line starting with a comma.
        case emptyID
        /// An id is longer than ``GraphDataError/maximumIDLength`` bytes.
        case idTooLong(length: Int)
        /// More distinct ids than a 32-bit index can number.
        case tooManyIDs
        /// A label file names a node that the node id map does not contain.
        case unknownNode(String)
        /// The options cannot be honoured for this input (e.g. an undirected graph with
        /// separate source and target id maps).
        case invalidOptions(String)
    }

    /// The longest id, in bytes, that the readers accept (64 KiB - 1).
    public static let maximumIDLength = 65_535

    /// The file name as given to the reader (or the name given for in-memory input).
    public let file: String
    /// The 1-based line number, when the problem is on one line.
    public let line: Int?
    /// The text of that line (without its line end; truncated to 200 bytes).
    public let lineText: String?
    /// What went wrong.
    public let problem: Problem

    /// Creates an error; readers build these, callers normally only inspect them.
    public init(file: String, line: Int?, lineText: String?, problem: Problem) {
        self.file = file
        self.line = line
        self.lineText = lineText
        self.problem = problem
    }

    /// A one-line message: `file:line: problem: "line text"`.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        s += ": " + problemDescription
        if let lineText { s += ": \"\(lineText)\"" }
        return GraphDataError.escaped(s)
    }

    /// `text` with control characters (C0 but tab, DEL, C1) shown as `\u{XX}`, so that a bad line's
    /// bytes cannot move the cursor or change a terminal's state.
    public static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if (scalar.value < 0x20 && scalar.value != 0x09) || (scalar.value >= 0x7F && scalar.value < 0xA0) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The problem in words, without file and line.
    public var problemDescription: String {
        switch problem {
        case .cannotRead(let reason): return "cannot read file (\(reason))"
        case .tooFewColumns(let found, let expected, let names):
            return "too few columns: expected \(expected) \(names), found \(found)"
        case .tooManyColumns(let found, let expected, let names):
            return "too many columns: expected \(expected) \(names), found \(found)"
        case .badWeight(let text):
            if text.isEmpty { return "empty weight" }
            return "bad weight \"\(text)\": not a finite decimal number" + (line == 1 ? " (if line 1 is a header, say so: header .present, --header)" : "")
        case .nonPositiveWeight(let text):
            return "weight \"\(text)\" is not a positive number (zero, negative or below \(Float.leastNormalMagnitude)); allow such weights explicitly (allowNonPositiveWeights, --allow-nonpositive-weights) if they are meant"
        case .compressed(let format):
            return "the file is \(format)-compressed; decompress it first (e.g. gunzip -k FILE) and read the result"
        case .damagedCompressedData(let format, let reason):
            return "damaged \(format) data: \(reason); nothing was used (test the file with gzip -t)"
        case .emptyID: return "empty id"
        case .idTooLong(let length):
            return "id of \(length) bytes is longer than \(GraphDataError.maximumIDLength) bytes"
        case .tooManyIDs: return "more distinct ids than fit a 32-bit index"
        case .unknownNode(let id): return "node \"\(id)\" is not in the node id map"
        case .invalidOptions(let why): return "invalid options: \(why)"
        }
    }
}
