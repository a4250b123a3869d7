import LinearAlgebra

/// Sparse samples in compressed-row form: sample `s` has the features
/// `indices[offsets[s] ..< offsets[s + 1]]` with values `values[...]` (the same range).
/// This is how sparse raw features (e.g. a page's list of feature ids) feed a network's first
/// layer without ever being densified.
public struct SparseSamples<Scalar: BLASScalar>: Sendable, Equatable {
    /// The feature-space dimension; every index is in `0 ..< dimension`.
    public let dimension: Int
    /// Row offsets, `count + 1` of them, non-decreasing, starting at 0.
    public let offsets: [Int]
    /// Feature ids, 32-bit.
    public let indices: [Int32]
    /// Feature values, one per index.
    public let values: [Scalar]

    /// Number of samples.
    public var count: Int { offsets.count - 1 }
    /// Number of stored entries.
    public var nonzeroCount: Int { indices.count }

    /// Samples from parts.
    /// - Precondition: `offsets` starts at 0, is non-decreasing and ends at `indices.count`;
    ///   `values.count == indices.count`; every index is in `0 ..< dimension`.
    public init(dimension: Int, offsets: [Int], indices: [Int32], values: [Scalar]) {
        precondition(!offsets.isEmpty && offsets[0] == 0 && offsets.last! == indices.count && values.count == indices.count,
                     "SparseSamples: inconsistent offsets/indices/values")
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < dimension }, "SparseSamples: index out of 0..<\(dimension)")
        self.dimension = dimension
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }

    /// Binary samples (every value 1) from per-sample lists of feature ids.
    /// - Precondition: every id is in `0 ..< dimension`.
    public init(dimension: Int, featureLists: [[Int]]) {
        var offsets = [0], indices = [Int32]()
        offsets.reserveCapacity(featureLists.count + 1)
        for list in featureLists {
            for f in list { indices.append(Int32(f)) }
            offsets.append(indices.count)
        }
        self.init(dimension: dimension, offsets: offsets, indices: indices,
                  values: [Scalar](repeating: 1, count: indices.count))
    }

    /// The samples `rows`, in that order. Cost: O(entries gathered).
    /// - Precondition: every row is in `0 ..< count`.
    public func gather<C: Collection>(_ rows: C) -> SparseSamples where C.Element == Int {
        var o = [0], ix = [Int32](), v = [Scalar]()
        o.reserveCapacity(rows.count + 1)
        for r in rows {
            precondition(r >= 0 && r < count, "SparseSamples.gather: row \(r) out of 0..<\(count)")
            ix.append(contentsOf: indices[offsets[r]..<offsets[r + 1]])
            v.append(contentsOf: values[offsets[r]..<offsets[r + 1]])
            o.append(ix.count)
        }
        return SparseSamples(uncheckedDimension: dimension, offsets: o, indices: ix, values: v)
    }

    /// The samples as a dense `dimension x count` matrix, one sample per column.
    /// Cost: O(dimension * count).
    public func densified() -> Matrix<Scalar> {
        var m = Matrix<Scalar>(rows: dimension, columns: count)
        for s in 0..<count {
            for k in offsets[s]..<offsets[s + 1] { m.elements[Int(indices[k]) + s * dimension] += values[k] }
        }
        return m
    }

    init(uncheckedDimension dimension: Int, offsets: [Int], indices: [Int32], values: [Scalar]) {
        self.dimension = dimension
        self.offsets = offsets
        self.indices = indices
        self.values = values
    }
}

/// A set of samples' features: dense (a `dimension x count` matrix, one sample per column,
/// which is the layout the network's GEMMs want) or sparse (``SparseSamples``). A mini-batch is
/// a `FeatureMatrix` too.
public enum FeatureMatrix<Scalar: BLASScalar>: Sendable, Equatable {
    /// Dense features, one sample per column.
    case dense(Matrix<Scalar>)
    /// Sparse features, one sample per compressed row.
    case sparse(SparseSamples<Scalar>)

    /// Number of samples.
    public var count: Int {
        switch self {
        case .dense(let m): m.columns
        case .sparse(let s): s.count
        }
    }

    /// The feature dimension.
    public var dimension: Int {
        switch self {
        case .dense(let m): m.rows
        case .sparse(let s): s.dimension
        }
    }

    /// The samples `rows`, in that order, as a new feature matrix of the same kind.
    /// Cost: O(dimension * rows.count) dense (contiguous column copies), O(entries) sparse.
    /// - Precondition: every row is in `0 ..< count`.
    public func gather<C: Collection>(_ rows: C) -> FeatureMatrix where C.Element == Int {
        switch self {
        case .sparse(let s): return .sparse(s.gather(rows))
        case .dense(let m):
            let d = m.rows, n = m.columns
            var out = Matrix<Scalar>(rows: d, columns: rows.count)
            m.elements.withUnsafeBufferPointer { src in
                out.elements.withUnsafeMutableBufferPointer { dst in
                    for (k, r) in rows.enumerated() {
                        precondition(r >= 0 && r < n, "FeatureMatrix.gather: row \(r) out of 0..<\(n)")
                        (dst.baseAddress! + k * d).update(from: src.baseAddress! + r * d, count: d)
                    }
                }
            }
            return .dense(out)
        }
    }

    /// The features as a dense `dimension x count` matrix (a sparse input is densified).
    public var denseMatrix: Matrix<Scalar> {
        switch self {
        case .dense(let m): m
        case .sparse(let s): s.densified()
        }
    }
}
