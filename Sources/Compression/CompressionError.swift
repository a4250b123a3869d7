/// An input file or argument that the ``Compression`` module cannot use: a truncated or
/// malformed IDX file, a sparse feature file that is not the expected JSON, a label file with
/// a bad line, a failed decompression.
public struct CompressionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file involved, when there is one.
    public let file: String?
    /// The 1-based line of `file` at fault, when the format is line-oriented.
    public let line: Int?
    /// What is wrong, in words.
    public let message: String

    /// An error about `file` (and `line`, when known).
    public init(file: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `file:line: message`, leaving out what is unknown.
    public var description: String {
        var prefix = ""
        if let file { prefix = file + (line.map { ":\($0)" } ?? "") + ": " }
        return prefix + message
    }
}
