/// A sparse matrix could not be built or transformed because its input is invalid: an index out
/// of bounds, a duplicate entry under ``DuplicatePolicy/reject``, inconsistent array lengths,
/// unsorted compressed indices, or a shape too large for 32-bit indices.
///
/// The ``message`` names the offending entry (its position in the input and its row and
/// column) so the caller can find it in its data.
public struct SparseMatrixError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in words, naming the offending entry where there is one.
    public let message: String

    /// An error with the given message.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { "SparseMatrixError: \(message)" }
}

/// What to do when a coordinate (row, column) appears more than once in a ``COOMatrix``.
public enum DuplicatePolicy: Sendable, Equatable {
    /// Add the values of all entries with the same coordinates (the usual COO convention).
    case sum
    /// Throw a ``SparseMatrixError`` naming the first duplicated coordinate.
    case reject
    /// Keep the value of the entry that was appended first and drop the later ones.
    case keepFirst
}

/// The largest row or column count a sparse matrix accepts: indices must fit in `Int32`.
@usableFromInline let sparseMaximumDimension = Int(Int32.max)

@inline(__always)
func checkSparseShape(_ rows: Int, _ columns: Int, _ what: String) throws {
    if rows < 0 || columns < 0 {
        throw SparseMatrixError("\(what): negative shape \(rows) x \(columns)")
    }
    if rows > sparseMaximumDimension || columns > sparseMaximumDimension {
        throw SparseMatrixError("\(what): shape \(rows) x \(columns) exceeds the 32-bit index limit \(sparseMaximumDimension) (Int32.max) rows or columns")
    }
}
