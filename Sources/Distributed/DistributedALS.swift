import Foundation
import LinearAlgebra
import Solvers

/// ALS factors of a row-partitioned users x items matrix: each rank holds its users' vectors
/// and its items' vectors (`factors x local count`, one vector per column, as Solvers' `ALSModel`).
public struct DistributedALSModel: Sendable {
    public var userFactors: Matrix<Float>
    public var itemFactors: Matrix<Float>
    /// How the run went, as Solvers' `ALSModel` says it: the sweeps (`iterations`, one phase and
    /// one `iterationSeconds` entry each, this rank's clock), two half-sweeps per sweep as
    /// operator applications, the seed.
    public var diagnostics: SolverDiagnostics
}

/// Solvers' `ALS` (the Cholesky row solver, implicit or explicit feedback) on a
/// ``DistributedCSR`` of users x items: users are partitioned as the matrix rows, items as its
/// columns, and `R'` is built once by sending every entry to the owner of its item.
///
/// In the user half-sweep each rank receives the vectors of the items its users rated (the
/// ghost exchange of ``DistributedCSR/gatherGhostRows(_:)``: each item vector crosses the
/// network once per rank that needs it, Spark MLlib's out-blocks), forms `Y'Y` by an
/// allreduce of the `f x f` local Gram matrices (implicit feedback), and solves its users'
/// systems exactly: `(Y'Y + lambda I + sum_i alpha r_ui y_i y_i') x_u = sum_i (1 + alpha r_ui) y_i`
/// (explicit: `(lambda n_u I + sum_i y_i y_i') x_u = sum_i r_ui y_i`). The item half-sweep is the
/// same on `R'`. The initial factors are the single-process ones (same seed, same streams), so
/// the result is that of Solvers' `ALS.fit(_:configuration:)` with `solver: .cholesky` to rounding.
public enum DistributedALS {
    /// Fits the factors. Collective.
    /// - Throws: `SolverError` (Solvers) for an invalid configuration, the conjugate-gradient
    ///   solver (not distributed: use `.cholesky`), a row system that is not positive definite,
    ///   or factors that become non-finite.
    public static func fit(_ r: DistributedCSR<Float>, configuration c: ALSConfiguration) throws -> DistributedALSModel {
        guard c.solver == .cholesky else {
            throw SolverError.invalidConfiguration("DistributedALS: only the Cholesky row solver is distributed (use solver: .cholesky)")
        }
        guard c.factors > 0, c.iterations >= 0, c.regularization >= 0, c.alpha >= 0 else {
            throw SolverError.invalidConfiguration("DistributedALS: factors must be positive and iterations, regularization, alpha >= 0")
        }
        let comm = r.comm, f = c.factors
        // R' by sending each entry to its item's owner.
        var entries = [GlobalEntry<Float>]()
        let a = r.local
        for t in 0 ..< a.rows {
            for p in Int(a.rowOffsets[t]) ..< Int(a.rowOffsets[t + 1]) {
                entries.append(GlobalEntry(row: Int64(r.ghostColumns[Int(a.columnIndices[p])]),
                                           column: Int64(r.localRowRange.lowerBound + t), value: a.values[p]))
            }
        }
        let rt = try DistributedCSR(comm: comm, rowPartition: r.columnPartition, columnPartition: r.rowPartition,
                                    entries: entries, duplicates: .reject)
        var users = initialFactors(r.localRowRange, factors: f, seed: c.seed, stream: 0)
        var items = initialFactors(r.localColumnRange, factors: f, seed: c.seed, stream: 1)
        if c.feedback == .explicit {
            zeroEmptyRows(&users, r.local)
            zeroEmptyRows(&items, rt.local)
        }
        var phases = [SolverPhase]()
        for sweep in 0 ..< c.iterations {
            let start = Date()
            try comm.counting("ALS user half-sweep") { try solve(r, target: &users, fixed: items, c) }
            try comm.counting("ALS item half-sweep") { try solve(rt, target: &items, fixed: users, c) }
            let bad = comm.max(Int32(users.allFinite && items.allFinite ? 0 : 1))
            if bad != 0 { throw SolverError.invalidInput("ALS: diverged in sweep \(sweep + 1): a factor became non-finite; lower alpha, raise the regularization or rescale the values") }
            phases.append(SolverPhase(name: "sweep \(sweep + 1)", seconds: Date().timeIntervalSince(start)))
        }
        var diagnostics = SolverDiagnostics(
            method: "distributed ALS (cholesky, \(c.feedback.rawValue), f = \(f), \(comm.size) ranks)", requested: 1, converged: 1,
            iterations: c.iterations, operatorApplications: 2 * c.iterations, seed: c.seed, phases: phases)
        diagnostics.iterationSeconds = phases.map(\.seconds)
        return DistributedALSModel(userFactors: users, itemFactors: items, diagnostics: diagnostics)
    }

    /// Solves the rows of `m` (this rank's) into `target` (`f x localRows`) with `fixed`
    /// (`f x localColumns` on every rank) held fixed.
    static func solve(_ m: DistributedCSR<Float>, target: inout Matrix<Float>, fixed: Matrix<Float>, _ c: ALSConfiguration) throws {
        let f = c.factors
        let ghosts = m.gatherGhostRows(fixed)          // f values per ghost column
        var gram: Matrix<Float>? = nil
        if c.feedback == .implicit {
            var g = Matrix.product(fixed, .none, fixed, .transpose)
            m.comm.allreduceSum(&g)
            for k in 0 ..< f { g[k, k] += c.regularization }
            gram = g
        }
        let a = m.local
        var system = [Float](repeating: 0, count: f * f)
        var x = [Float](repeating: 0, count: f)
        let lower = CChar(UInt8(ascii: "L"))
        for row in 0 ..< a.rows {
            let lo = Int(a.rowOffsets[row]), hi = Int(a.rowOffsets[row + 1])
            if gram == nil && lo == hi {
                for k in 0 ..< f { target[k, row] = 0 }
                continue
            }
            if let g = gram { system = g.elements } else { for e in 0 ..< f * f { system[e] = 0 } }
            if gram == nil { for k in 0 ..< f { system[k * f + k] += c.regularization * Float(hi - lo) } }
            for k in 0 ..< f { x[k] = 0 }
            for p in lo ..< hi {
                let v = a.values[p]
                let (wa, wb): (Float, Float) = gram != nil ? (c.alpha * v, v > 0 ? 1 + c.alpha * v : 0) : (1, v)
                let y = Int(a.columnIndices[p]) * f
                for j in 0 ..< f {
                    let yj = wa * ghosts[y + j]
                    for i in 0 ..< f { system[i + j * f] += yj * ghosts[y + i] }
                }
                if wb != 0 { for k in 0 ..< f { x[k] += wb * ghosts[y + k] } }
            }
            let ok = system.withUnsafeMutableBufferPointer { s in
                x.withUnsafeMutableBufferPointer { b in
                    Float.lapackPotrf(lower, Int32(f), s.baseAddress!, Int32(f)) == 0
                        && Float.lapackPotrs(lower, Int32(f), 1, s.baseAddress!, Int32(f), b.baseAddress!, Int32(f)) == 0
                }
            }
            guard ok else {
                throw SolverError.notPositiveDefinite("ALS: the system of row \(m.localRowRange.lowerBound + row) is not positive definite (raise the regularization)")
            }
            for k in 0 ..< f { target[k, row] = x[k] }
        }
    }

    /// The single-process initial factors (uniform `[0, 0.01)`, blocks of 4096 vectors, block
    /// `b` from stream `b` of `seed + stream * golden`), columns `range` of them.
    static func initialFactors(_ range: Range<Int>, factors f: Int, seed: UInt64, stream: UInt64) -> Matrix<Float> {
        var out = Matrix<Float>(rows: f, columns: range.count)
        let block = 4096
        guard !range.isEmpty else { return out }
        for b in (range.lowerBound / block) ... ((range.upperBound - 1) / block) {
            var rng = Xoshiro256.stream(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15, index: UInt64(b))
            for v in (b * block) ..< ((b + 1) * block) {
                for k in 0 ..< f {
                    let value = Float(rng.nextUniform() * 0.01)
                    if range.contains(v) { out.elements[(v - range.lowerBound) * f + k] = value }
                }
                if v + 1 >= range.upperBound { break }
            }
        }
        return out
    }

    static func zeroEmptyRows(_ factors: inout Matrix<Float>, _ m: CSRMatrix<Float>) {
        for r in 0 ..< m.rows where m.rowOffsets[r] == m.rowOffsets[r + 1] {
            for k in 0 ..< factors.rows { factors[k, r] = 0 }
        }
    }
}
