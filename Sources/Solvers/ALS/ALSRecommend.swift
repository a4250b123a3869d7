import Foundation
import LinearAlgebra

extension ALSModel {
    /// The `count` items with the highest predicted preference `x_u . y_i` for user `user`,
    /// best first (`ScoredIndex.index` is the item).
    ///
    /// Cost: O(f items + items log count) (one GEMV and a heap selection).
    /// - Parameters:
    ///   - user: the user's row.
    ///   - count: how many items, at most.
    ///   - excludingSeen: when true (default), items stored in the user's training row are
    ///     never returned (so fewer than `count` items come back when few remain).
    /// - Throws: ``SolverError`` if `user` is out of range or `count` is negative.
    public func recommend(user: Int, count: Int, excludingSeen: Bool = true) throws -> [ScoredIndex] {
        guard user >= 0, user < userCount else { throw SolverError.als("user \(user) is out of range 0..<\(userCount)") }
        let lo = Int(interactions.rowOffsets[user]), hi = Int(interactions.rowOffsets[user + 1])
        let seen = excludingSeen ? interactions.columnIndices[lo..<hi].map { Int($0) } : []
        return try recommend(vector: userVector(user), count: count, excluding: seen)
    }

    /// The `count` items with the highest `v . y_i` for an arbitrary user vector `v` (for
    /// instance one from ``foldIn(items:values:)``), skipping the items in `excluding`.
    ///
    /// Cost: O(f items + items log count).
    /// - Throws: ``SolverError`` if `vector.count != factors`, `count < 0`, or an excluded index is
    ///   out of range.
    public func recommend(vector: [Float], count: Int, excluding: [Int] = []) throws -> [ScoredIndex] {
        guard vector.count == factors else {
            throw SolverError.als("the user vector has \(vector.count) components, the model \(factors) factors")
        }
        guard count >= 0 else { throw SolverError.als("count must be >= 0, got \(count)") }
        var scores = itemScores(vector)
        for i in excluding {
            guard i >= 0, i < itemCount else { throw SolverError.als("excluded item \(i) is out of range 0..<\(itemCount)") }
            scores[i] = -.infinity
        }
        return TopK.largest(scores, k: count)
    }

    /// `Y' v`: the score of every item for the user vector `v`.
    func itemScores(_ v: [Float]) -> [Float] {
        var scores = [Float](repeating: 0, count: itemCount)
        itemFactors.elements.withUnsafeBufferPointer { y in
            v.withUnsafeBufferPointer { vb in
                scores.withUnsafeMutableBufferPointer { sb in
                    Float.blasGemv(.transpose, Int32(factors), Int32(itemCount), 1, y.baseAddress!, Int32(factors),
                                   vb.baseAddress!, 1, 0, sb.baseAddress!, 1)
                }
            }
        }
        return scores
    }

    /// The `count` items most similar to `item` by cosine similarity of item factors, best
    /// first, `item` itself excluded. Items with a zero vector have similarity 0.
    ///
    /// Cost: O(f items + items log count).
    /// - Throws: ``SolverError`` if `item` is out of range or `count < 0`.
    public func similarItems(to item: Int, count: Int) throws -> [ScoredIndex] {
        guard item >= 0, item < itemCount else { throw SolverError.als("item \(item) is out of range 0..<\(itemCount)") }
        guard count >= 0 else { throw SolverError.als("count must be >= 0, got \(count)") }
        let f = factors
        var scores = itemScores(itemVector(item))
        itemFactors.elements.withUnsafeBufferPointer { y in
            let base = y.baseAddress!
            let selfNorm = alsDot(base + item * f, base + item * f, f).squareRoot()
            for i in 0..<itemCount {
                let norm = alsDot(base + i * f, base + i * f, f).squareRoot() * selfNorm
                scores[i] = norm > 0 ? scores[i] / norm : 0
            }
        }
        scores[item] = -.infinity
        return TopK.largest(scores, k: count)
    }

    /// Checks an (index, value) list against `bound` and the feedback type, and sorts it by index.
    func checkedEntries(_ indices: [Int], _ values: [Float]?, bound: Int, what: String) throws -> ([Int32], [Float]) {
        if let values, values.count != indices.count {
            throw SolverError.als("\(indices.count) \(what)s but \(values.count) values")
        }
        var pairs: [(Int32, Float)] = []
        pairs.reserveCapacity(indices.count)
        for (k, i) in indices.enumerated() {
            guard i >= 0, i < bound else { throw SolverError.als("\(what) \(i) is out of range 0..<\(bound)") }
            let v = values?[k] ?? 1
            guard v.isFinite else { throw SolverError.als("the value of \(what) \(i) is \(v); values must be finite") }
            if configuration.feedback == .implicit && v < 0 {
                throw SolverError.als("implicit feedback needs non-negative values, but \(what) \(i) has \(v)")
            }
            pairs.append((Int32(i), v))
        }
        pairs.sort { $0.0 < $1.0 }
        for k in pairs.indices.dropFirst() where pairs[k].0 == pairs[k - 1].0 {
            throw SolverError.als("\(what) \(pairs[k].0) is listed twice")
        }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// The factor vector of a new user who interacted with `items` (with `values`, default 1
    /// each), computed against the fitted item factors without retraining: the exact solution
    /// of the same regularised least-squares problem a sweep solves for a training user.
    ///
    /// Folding in a training user's own row gives (up to the change of the item factors in
    /// the last half-sweep) the user's fitted vector.
    ///
    /// Cost: O(f^2 items.count + f^3).
    /// - Throws: ``SolverError`` if an item is out of range or repeated, the lengths differ, a value
    ///   is not finite (or negative for implicit feedback), or the system is not positive
    ///   definite.
    public func foldIn(items: [Int], values: [Float]? = nil) throws -> [Float] {
        let (idx, val) = try checkedEntries(items, values, bound: itemCount, what: "item")
        var shared = configuration.feedback == .implicit ? itemGram : nil
        if shared != nil { for k in 0..<factors { shared![k * factors + k] += configuration.regularization } }
        var x = [Float](repeating: 0, count: factors)
        var scratch = ALSEngine.CholeskyScratch(factors: factors)
        let offsets: [Int64] = [0, Int64(idx.count)]
        let ok = BLAS.withThreads(1) {
            offsets.withUnsafeBufferPointer { off in
            itemFactors.elements.withUnsafeBufferPointer { y in
                withOptionalPointer(shared) { g in
                    idx.withUnsafeBufferPointer { ib in
                        val.withUnsafeBufferPointer { vb in
                            x.withUnsafeMutableBufferPointer { xb in
                                let system = ALSRowSystems(factors: factors, offsets: off.baseAddress!, indices: ib.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                                           values: vb.baseAddress ?? UnsafePointer(bitPattern: 8)!, fixed: y.baseAddress!, gram: g,
                                                           alpha: configuration.alpha, regularization: configuration.regularization)
                                return ALSEngine.choleskyRow(system, indices: system.indices, values: system.values, count: idx.count,
                                                             into: xb.baseAddress!, &scratch)
                            }
                        }
                    }
                }
            }
            }
        }
        guard ok else { throw SolverError.notPositiveDefinite("ALS: the fold-in system is not positive definite; use a positive regularization") }
        return x
    }

    /// Re-solves the chosen users' vectors exactly (Cholesky) with the item factors fixed,
    /// for instance after their interactions changed; the other users and all items keep
    /// their factors.
    ///
    /// Cost: O(f^2 nnz(chosen rows) + f^3 users.count) plus, with a new matrix, O(nnz) to
    /// transpose it.
    /// - Parameters:
    ///   - users: the users to refit (each at most once).
    ///   - newMatrix: when given, the updated training matrix (same shape), which replaces
    ///     the stored one.
    /// - Throws: ``SolverError`` for a user out of range or repeated, a matrix of another shape or
    ///   with invalid values, or a system that is not positive definite.
    public mutating func refit(users: [Int], interactions newMatrix: CSRMatrix<Float>? = nil) throws {
        try refit(users, ofUsers: true, newMatrix)
    }

    /// Re-solves the chosen items' vectors exactly (Cholesky) with the user factors fixed;
    /// the mirror image of ``refit(users:interactions:)``, with the same cost and errors.
    public mutating func refit(items: [Int], interactions newMatrix: CSRMatrix<Float>? = nil) throws {
        try refit(items, ofUsers: false, newMatrix)
        itemGram = BLAS.withThreads(configuration.resolvedThreads) {
            ALSEngine.gram(itemFactors.elements, count: itemCount, factors: factors)
        }
    }

    /// Re-solves the chosen users' (or items') vectors with the other side fixed.
    private mutating func refit(_ chosen: [Int], ofUsers: Bool, _ newMatrix: CSRMatrix<Float>?) throws {
        let rows = try prepareRefit(newMatrix, chosen: chosen, bound: ofUsers ? userCount : itemCount, what: ofUsers ? "user" : "item")
        let fixed = ofUsers ? itemFactors.elements : userFactors.elements
        let shared = ALSEngine.sharedMatrix(fixed: fixed, count: ofUsers ? itemCount : userCount,
                                            configuration: configuration, threads: configuration.resolvedThreads)
        if ofUsers {
            try ALSEngine.solveRows(rows, interactions, target: &userFactors.elements, fixed: fixed, shared: shared, configuration: configuration)
        } else {
            try ALSEngine.solveRows(rows, itemUsers, target: &itemFactors.elements, fixed: fixed, shared: shared, configuration: configuration)
        }
    }

    /// Validates a refit request, installs the new matrix, and returns the chosen rows.
    private mutating func prepareRefit(_ newMatrix: CSRMatrix<Float>?, chosen: [Int], bound: Int, what: String) throws -> [Int] {
        var seen = Set<Int>()
        for r in chosen {
            guard r >= 0, r < bound else { throw SolverError.als("\(what) \(r) is out of range 0..<\(bound)") }
            guard seen.insert(r).inserted else { throw SolverError.als("\(what) \(r) is listed twice") }
        }
        if let m = newMatrix {
            guard m.rows == userCount, m.columns == itemCount else {
                throw SolverError.als("the new interaction matrix is \(m.rows) x \(m.columns), the model \(userCount) x \(itemCount)")
            }
            try ALS.validateInteractions(m, feedback: configuration.feedback)
            interactions = m
            itemUsers = m.transposed()
        }
        return chosen
    }
}

extension ALSEngine {
    /// Exact (Cholesky) solves of the chosen rows of `matrix`, in parallel.
    static func solveRows(_ chosen: [Int], _ matrix: CSRMatrix<Float>, target: inout [Float], fixed: [Float],
                          shared: [Float]?, configuration c: ALSConfiguration) throws {
        let failure = ALSFirstError()
        BLAS.withThreads(1) {
            target.withUnsafeMutableBufferPointer { tgt in
                chosen.withUnsafeBufferPointer { list in
                    ALSRowSystems.with(matrix, fixed: fixed, shared: shared, configuration: c) { system in
                        choleskyRows(system, count: chosen.count, list: list.baseAddress, into: tgt.baseAddress!,
                                     threads: c.resolvedThreads, blockSize: 16, failure)
                    }
                }
            }
        }
        if let e = failure.error { throw e }
    }
}
