import EmbeddingStore
import Foundation
import LinearAlgebra

/// The rotation that maps one embedding onto another.
public struct ProcrustesAlignment: Sendable {
    /// The `d x d` orthogonal matrix `R` minimising `||X R - Y||_F`.
    public let rotation: Matrix<Float>
    /// Rows (ids) the rotation was fitted on.
    public let fittedOn: Int
    /// `||X R - Y||_F / ||Y||_F` over the fitted rows (of the unit-length rows when fitted that way):
    /// 0 when one embedding is an exact rotation of the other.
    public let relativeResidual: Double
}

/// Orthogonal Procrustes alignment (Schönemann 1966; as Hamilton, Leskovec and Jurafsky 2016 align
/// diachronic word embeddings): the orthogonal `R` minimising `||X R - Y||_F` is `R = U V'` for
/// the SVD `X'Y = U S V'`. Vectors of an id in two windows become comparable after `X R`; the
/// rotation leaves cosine similarities inside one window unchanged.
public enum Procrustes {
    /// The orthogonal `R` (d x d) minimising `||X R - Y||_F` for `X`, `Y` of the same shape.
    /// Cost: one `n x d` by `d x d` GEMM (`X'Y`) and a `d x d` SVD (LAPACK gesdd, in Double).
    /// - Throws: ``TemporalError`` for different shapes or no rows; LAPACK errors.
    public static func rotation(from x: Matrix<Float>, onto y: Matrix<Float>) throws -> Matrix<Float> {
        guard x.rows == y.rows, x.columns == y.columns, x.rows > 0 else {
            throw TemporalError("Procrustes: cannot align a \(x.rows) x \(x.columns) matrix onto a \(y.rows) x \(y.columns) one")
        }
        let m = Matrix.product(x, .transpose, y, .none).converted(to: Double.self)
        let svd = try m.svd()
        return Matrix.product(svd.u, .none, svd.vt, .none).converted(to: Float.self)
    }

    /// Aligns `current` onto `reference` by the rotation fitted on the ids both tables hold (or on
    /// those of `anchors` both hold), and returns `current` rotated (every row, not only the shared
    /// ones) with the fit.
    ///
    /// - Parameters:
    ///   - current: the table to rotate.
    ///   - reference: the table to rotate onto (its coordinates are kept).
    ///   - anchors: the ids to fit the rotation on (those both tables hold); `nil`: every shared id.
    ///   - normalizeRows: fit on unit-length rows (default), so that accounts with long vectors do not
    ///     dominate the fit; the rotation is applied to the vectors as they are.
    /// - Throws: ``TemporalError`` when the dimensions differ or fewer shared ids than dimensions exist.
    /// - Complexity: O(n d^2) (two GEMMs) plus a `d x d` SVD: 1M x 128 in about a second.
    public static func align(_ current: EmbeddingTable, onto reference: EmbeddingTable, anchors: Set<String>? = nil,
                             normalizeRows: Bool = true) throws -> (aligned: EmbeddingTable, alignment: ProcrustesAlignment) {
        guard current.dimension == reference.dimension else {
            throw TemporalError("Procrustes: dimension \(current.dimension) cannot be aligned onto dimension \(reference.dimension)")
        }
        var pairs = [(Int, Int)]()
        for (row, id) in current.ids.enumerated() {
            if let anchors, !anchors.contains(id) { continue }
            if let other = reference.row(of: id) { pairs.append((row, other)) }
        }
        guard pairs.count >= current.dimension else {
            throw TemporalError("Procrustes: only \(pairs.count) shared \(anchors == nil ? "ids" : "anchor ids") for dimension \(current.dimension); at least as many as the dimension are needed")
        }
        var x = gatherRows(current.vectors, pairs.map(\.0))
        var y = gatherRows(reference.vectors, pairs.map(\.1))
        if normalizeRows { x = unitRows(x); y = unitRows(y) }
        let r = try rotation(from: x, onto: y)
        let residual = (Matrix.product(x, .none, r, .none) - y).frobeniusNorm / Swift.max(y.frobeniusNorm, .leastNormalMagnitude)
        var meta = current.metadata
        meta.parameters["aligned_onto"] = .string(reference.metadata.parameters["window"].flatMap {
            if case .string(let s) = $0 { return s } else { return nil } } ?? "reference")
        meta.parameters["alignment_fitted_on"] = .int(Int64(pairs.count))
        meta.parameters["alignment_relative_residual"] = .double(Double(residual))
        let aligned = try EmbeddingTable(ids: current.ids, vectors: Matrix.product(current.vectors, .none, r, .none), metadata: meta)
        return (aligned, ProcrustesAlignment(rotation: r, fittedOn: pairs.count, relativeResidual: Double(residual)))
    }

    /// Rows `rows` of `a`, in that order.
    public static func gatherRows(_ a: Matrix<Float>, _ rows: [Int]) -> Matrix<Float> {
        var out = Matrix<Float>(rows: rows.count, columns: a.columns)
        let n = rows.count, m = a.rows
        out.withUnsafeMutableBufferPointer { o in
            a.withUnsafeBufferPointer { src in
                for j in 0..<a.columns {
                    for (i, r) in rows.enumerated() { o[i + j * n] = src[r + j * m] }
                }
            }
        }
        return out
    }

    /// `a` with every nonzero row scaled to unit length.
    public static func unitRows(_ a: Matrix<Float>) -> Matrix<Float> {
        var norms = [Float](repeating: 0, count: a.rows)
        a.withUnsafeBufferPointer { p in
            for j in 0..<a.columns { for i in 0..<a.rows { norms[i] += p[i + j * a.rows] * p[i + j * a.rows] } }
        }
        return a.scaledRows(by: norms.map { $0 > 0 ? 1 / $0.squareRoot() : 0 })
    }
}
