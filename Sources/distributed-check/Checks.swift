import Distributed
import DistributedJobs
import EmbeddingStore
import Evaluation
import FollowGraph
import Foundation
import GraphData
import LinearAlgebra
import Solvers

// The checks DistributedTests runs under mpirun: each compares a distributed computation with
// the single-process one on the same seeded input (every rank builds the same whole matrix,
// keeps its rows, and the results are gathered for the comparison) and throws when they differ,
// which aborts every rank with a nonzero status.

struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Uneven row and column splits (weights 1, 2, 3, ... and reversed) or even ones.
func partitions(rows: Int, columns: Int, comm: Communicator, uneven: Bool) -> (BlockPartition, BlockPartition) {
    if !uneven { return (.even(count: rows, parts: comm.size), .even(count: columns, parts: comm.size)) }
    let w = (0 ..< comm.size).map { Double($0 + 1) }
    return (.weighted(count: rows, weights: w), .weighted(count: columns, weights: w.reversed()))
}

/// This rank's rows of a global column-major block, held row-major (`k x range.count`).
func localRows<S: BLASScalar>(_ x: Matrix<S>, _ range: Range<Int>) -> Matrix<S> {
    var out = Matrix<S>(rows: x.columns, columns: range.count)
    for (t, i) in range.enumerated() { for c in 0 ..< x.columns { out.elements[c + t * x.columns] = x[i, c] } }
    return out
}

/// The whole block from every rank's row-major part: `rows x k` column-major.
func gathered<S: BLASScalar & MPIScalar>(_ part: Matrix<S>, _ comm: Communicator) -> Matrix<S> {
    let k = part.rows
    let all = comm.allgatherv(part.elements).values
    let rows = all.count / max(k, 1)
    var out = Matrix<S>(rows: rows, columns: k)
    for i in 0 ..< rows { for c in 0 ..< k { out[i, c] = all[c + i * k] } }
    return out
}

func maxRelativeDifference(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Double {
    let scale = max(1e-30, a.elements.map { Double(abs($0)) }.max() ?? 0)
    return zip(a.elements, b.elements).map { Double(abs($0 - $1)) }.max().map { $0 / scale } ?? 0
}

/// The sine of the largest principal angle between the column spans of two orthonormal
/// blocks, `||(I - A A') B||_2` (accurate for small angles, where `acos` of the cosines is not).
func largestPrincipalAngle(_ a: Matrix<Float>, _ b: Matrix<Float>) throws -> Double {
    let ad = a.converted(), bd = b.converted()
    var residual = bd
    residual.axpy(-1, Matrix.product(ad, .none, Matrix.product(ad, .transpose, bd, .none), .none))
    return try residual.singularValues().max() ?? 0
}

extension Matrix where Scalar == Float {
    func converted() -> Matrix<Double> { Matrix<Double>(rows: rows, columns: columns, elements: elements.map(Double.init)) }
}

enum Checks {
    /// `A X` and `A' X` of a random sparse matrix against the single-process products.
    static func product(_ comm: Communicator, rows: Int, columns: Int, nonzeros: Int, width: Int, seed: UInt64, uneven: Bool) throws {
        let a = try CSRMatrix<Float>.randomUniform(rows: rows, columns: columns, nonzeros: nonzeros, seed: seed)
        let (rp, cp) = partitions(rows: rows, columns: columns, comm: comm, uneven: uneven)
        let d = try DistributedCSR(comm: comm, replicated: a, rowPartition: rp, columnPartition: cp)
        let x = Matrix<Float>.gaussian(rows: columns, columns: width, seed: seed + 1)
        let y = gathered(d.multiply(localRows(x, d.localColumnRange)), comm)
        let errorForward = maxRelativeDifference(a.apply(x), y)
        let z = Matrix<Float>.gaussian(rows: rows, columns: width, seed: seed + 2)
        let w = gathered(d.multiplyTranspose(localRows(z, d.localRowRange)), comm)
        let errorTranspose = maxRelativeDifference(a.applyTranspose(z), w)
        let ghosts = comm.allgather(Int64(d.remoteGhostCount))
        let tolerance = 64 * Double(Float.ulpOfOne)
        if comm.rank == 0 {
            print("product: \(comm.size) ranks, rows \(rp.offsets), columns \(cp.offsets), remote ghosts per rank \(ghosts), max relative error A X \(errorForward), A' X \(errorTranspose)")
        }
        guard errorForward <= tolerance, errorTranspose <= tolerance else {
            throw CheckFailure("product: relative errors \(errorForward) (A X), \(errorTranspose) (A' X) above \(tolerance)")
        }
    }

    /// The distributed randomized SVD against ``RandomizedSVD`` on the same matrix and seed.
    static func svd(_ comm: Communicator, rows: Int, columns: Int, nonzeros: Int, rank k: Int, seed: UInt64, uneven: Bool) throws {
        var a = try CSRMatrix<Float>.randomUniform(rows: rows, columns: columns, nonzeros: nonzeros, seed: seed)
        // A decaying spectrum on top of the noise: a planted rank-k part (so that the leading
        // singular values are well separated, as in real graphs).
        let left = Matrix<Float>.gaussian(rows: rows, columns: k, seed: seed + 3), right = Matrix<Float>.gaussian(rows: columns, columns: k, seed: seed + 4)
        a = a.mapValues { $0 }
        var dense = a.toDense()
        for j in 0 ..< k {
            let weight = Float(4.0 * pow(0.8, Double(j)))
            for c in 0 ..< columns where (c + j) % 3 == 0 { for r in 0 ..< rows where (r + c) % 5 == 0 { dense[r, c] += weight * left[r, j] * right[c, j] / Float(k) } }
        }
        a = CSRMatrix(dense: dense)
        let configuration = RandomizedSVD.Configuration(rank: k, oversamples: 6, powerIterations: 3, seed: seed)
        let reference = try RandomizedSVD.compute(a, configuration)
        let (rp, cp) = partitions(rows: rows, columns: columns, comm: comm, uneven: uneven)
        let d = try DistributedCSR(comm: comm, replicated: a, rowPartition: rp, columnPartition: cp)
        let result = try DistributedRandomizedSVD.compute(d, configuration)
        let u = gathered(result.u.transposed(), comm)          // rows x k
        let v = gathered(result.vt, comm)                       // columns x k
        let sError = zip(reference.s, result.s).map { Double(abs($0 - $1) / $0) }.max() ?? 0
        let uAngle = try largestPrincipalAngle(reference.u, u)
        let vAngle = try largestPrincipalAngle(reference.vt.transposed(), v)
        let vectorError = max(maxRelativeDifference(reference.u, u), maxRelativeDifference(reference.vt.transposed(), v))
        if comm.rank == 0 {
            print("svd: \(comm.size) ranks, s1 \(result.s[0]) sk \(result.s[k - 1]), max relative singular value difference \(sError), largest subspace angles U \(uAngle) V \(vAngle), max entry difference (signs included) \(vectorError), passes \(result.diagnostics.operatorApplications) (single-process \(reference.diagnostics.operatorApplications)), max residual \(result.diagnostics.maxRelativeResidual) (single-process \(reference.diagnostics.maxRelativeResidual))")
        }
        guard sError <= 1e-5, uAngle <= 1e-3, vAngle <= 1e-3, vectorError <= 1e-3,
              abs(result.diagnostics.maxRelativeResidual - reference.diagnostics.maxRelativeResidual) <= 1e-4 else {
            throw CheckFailure("svd: distributed result differs from the single-process one (singular values \(sError), angles \(uAngle), \(vAngle), entries \(vectorError))")
        }
    }

    /// Rank `failing` throws after `after` allreduces while the others keep reducing: every rank
    /// must end with a nonzero status (none waits forever).
    static func fail(_ comm: Communicator, failing: Int, after: Int) throws {
        for pass in 0 ..< 1000 {
            if comm.rank == failing && pass == after {
                throw CheckFailure("injected failure on rank \(failing) at pass \(pass)")
            }
            var v = [Double(pass)]
            comm.allreduceSum(&v)
            usleep(1000)
        }
        throw CheckFailure("fail: no rank failed (is rank \(failing) < \(comm.size)?)")
    }
}

extension Checks {
    /// The distributed reader against ``GraphData/EdgeList``: the same node numbering, ids and
    /// adjacency rows (self-loops dropped, duplicates kept once).
    static func edges(_ comm: Communicator, path: String, directed: Bool) throws {
        var options = DistributedEdgeList.Options()
        options.directed = directed
        let graph = try DistributedEdgeList.read(path: path, comm: comm, options: options)
        let single = try EdgeList.read(path: path, options: .init(directed: directed, selfLoops: .drop, duplicates: .keepOne))
        let arrays: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = single.adjacencyCSR()
        guard graph.nodeCount == single.nodeCount else {
            throw CheckFailure("edges: \(graph.nodeCount) nodes, single-process \(single.nodeCount)")
        }
        let range = graph.nodePartition.range(comm.rank)
        let expectedIDs = range.map { single.sourceIDs[$0] }
        guard graph.localIDs == expectedIDs else {
            throw CheckFailure("edges: rank \(comm.rank) ids \(graph.localIDs.prefix(5))... differ from the single-process ids \(expectedIDs.prefix(5))...")
        }
        let a = graph.adjacency.local
        for (t, i) in range.enumerated() {
            let mine = (Int(a.rowOffsets[t]) ..< Int(a.rowOffsets[t + 1])).map { (graph.adjacency.ghostColumns[Int(a.columnIndices[$0])], a.values[$0]) }
            let theirs = (Int(arrays.rowOffsets[i]) ..< Int(arrays.rowOffsets[i + 1])).map { (Int(arrays.columnIndices[$0]), arrays.values[$0]) }
            guard mine.map(\.0) == theirs.map(\.0), mine.map(\.1) == theirs.map(\.1) else {
                throw CheckFailure("edges: row \(i) (id \(single.sourceIDs[i])) is \(mine), single-process \(theirs)")
            }
        }
        guard graph.edgeCount == single.edgeCount, graph.headerSkipped == single.statistics.headerSkipped else {
            throw CheckFailure("edges: \(graph.edgeCount) edges (header skipped \(graph.headerSkipped)), single-process \(single.edgeCount) (\(single.statistics.headerSkipped))")
        }
        if comm.rank == 0 {
            print("edges: \(comm.size) ranks, \(graph.nodeCount) nodes, \(graph.edgeCount) edges, \(graph.dataLines) data lines, ids and rows as the single-process reader's")
        }
    }
}

extension Checks {
    /// PARPACK's eigenpairs of a symmetric random matrix against ARPACK's (same start vector).
    static func eigen(_ comm: Communicator, n: Int, nonzeros: Int, count: Int, seed: UInt64, uneven: Bool) throws {
        let r = try CSRMatrix<Double>.randomUniform(rows: n, columns: n, nonzeros: nonzeros, seed: seed)
        var dense = r.toDense()
        dense += dense.transposed()
        let a = CSRMatrix(dense: dense)
        let reference = try SymmetricEigensolver.compute(a, .init(count: count, which: .largestAlgebraic, subspaceSize: 3 * count,
                                                                  maxIterations: 1000, seed: seed))
        let (rp, _) = partitions(rows: n, columns: n, comm: comm, uneven: uneven)
        let d = try DistributedCSR(comm: comm, replicated: a, rowPartition: rp, columnPartition: rp)
        let result = try DistributedEigensolver.symmetric(d, count: count, which: .largestAlgebraic, subspaceSize: 3 * count,
                                                          maxIterations: 1000, seed: seed)
        guard result.values.count == reference.values.count else {
            throw CheckFailure("eigen: PARPACK converged \(result.values.count) pairs, ARPACK \(reference.values.count)")
        }
        let scale = reference.values.map { abs($0) }.max() ?? 1
        let valueError = zip(reference.values, result.values).map { abs($0 - $1) / scale }.max() ?? 0
        // Eigenvectors up to sign: |x_ref . x| = 1.
        let all = comm.allgatherv(result.vectors.transposed().elements).values   // row-major rows of every rank
        var worst = 0.0
        for j in 0 ..< count {
            var dot = 0.0
            for i in 0 ..< n { dot += reference.vectors[i, j] * all[j + i * count] }
            worst = max(worst, 1 - abs(dot))
        }
        if comm.rank == 0 {
            print("eigen: \(comm.size) ranks, \(count) eigenpairs, largest \(result.values.last ?? 0), max relative eigenvalue difference \(valueError), max 1 - |cos| \(worst), PARPACK \(result.diagnostics.operatorApplications) products (ARPACK \(reference.diagnostics.operatorApplications)), max relative residual \(result.diagnostics.maxRelativeResidual) (ARPACK \(reference.diagnostics.maxRelativeResidual))")
        }
        guard valueError <= 1e-10, worst <= 1e-8 else {
            throw CheckFailure("eigen: PARPACK differs from ARPACK (eigenvalues \(valueError), vectors \(worst))")
        }
        // The diagnostics are Solvers' record, and their residuals the true ones.
        let diagnostics = result.diagnostics
        guard diagnostics.allConverged, diagnostics.requested == count, diagnostics.relativeResiduals.count == count,
              diagnostics.maxRelativeResidual <= 1e-8, diagnostics.seed == seed, diagnostics.subspaceSize == 3 * count,
              diagnostics.operatorApplications > 0, diagnostics.totalSeconds > 0 else {
            throw CheckFailure("eigen: PARPACK diagnostics \(diagnostics)")
        }
    }

    /// `follow-graph-svd --distributed` against the single-process run on the same file: the
    /// same tables (ids, shapes), vectors and singular values to rounding.
    static func followGraph(_ comm: Communicator, path: String, output: URL, method: FollowGraphMethod, directed: Bool, dimension: Int) throws {
        var configuration = FollowGraphSVDConfiguration()
        configuration.method = method
        configuration.directed = directed
        configuration.dimension = dimension
        let distributed = output.appendingPathComponent("distributed"), single = output.appendingPathComponent("single")
        let report = try DistributedFollowGraph.run(.init(edges: URL(fileURLWithPath: path), output: distributed, configuration: configuration), comm: comm)
        guard comm.rank == 0 else { return }
        let reference = try FollowGraphRun.run(.init(edges: URL(fileURLWithPath: path), output: single, configuration: configuration))
        let sError = zip(reference.singularValues, report.singularValues).map { abs($0 - $1) / $0 }.max() ?? 1
        var worst = 0.0
        for name in directed ? ["consumers", "producers", "nodes"] : ["nodes"] {
            let a = try EmbeddingTable.read(from: single.appendingPathComponent(name))
            let b = try EmbeddingTable.read(from: distributed.appendingPathComponent(name))
            guard a.ids == b.ids, a.vectors.rows == b.vectors.rows, a.vectors.columns == b.vectors.columns else {
                throw CheckFailure("follow-graph: table \(name) has \(b.vectors.rows) x \(b.vectors.columns) rows (ids equal: \(a.ids == b.ids)), single-process \(a.vectors.rows) x \(a.vectors.columns)")
            }
            worst = max(worst, maxRelativeDifference(a.vectors, b.vectors))
        }
        print("follow-graph: \(comm.size) ranks, \(method.rawValue), \(report.rows) x \(report.columns), max relative singular value difference \(sError), max relative table entry difference \(worst)")
        report.summary.forEach { print($0) }
        guard sError <= 1e-5, worst <= 1e-3 else {
            throw CheckFailure("follow-graph: the distributed tables differ from the single-process ones (singular values \(sError), entries \(worst))")
        }
    }
}

extension Checks {
    /// Distributed ALS against ``ALS/fit(_:configuration:)`` (Cholesky rows) on the same matrix.
    static func als(_ comm: Communicator, users: Int, items: Int, nonzeros: Int, seed: UInt64, uneven: Bool, explicit: Bool) throws {
        let r = try CSRMatrix<Float>.randomUniform(rows: users, columns: items, nonzeros: nonzeros, seed: seed).mapValues { abs($0) * 3 + 0.5 }
        let configuration = ALSConfiguration(factors: 6, regularization: 0.1, alpha: 2, iterations: 4,
                                             feedback: explicit ? .explicit : .implicit, solver: .cholesky, seed: seed)
        let reference = try ALS.fit(r, configuration: configuration)
        let (rp, cp) = partitions(rows: users, columns: items, comm: comm, uneven: uneven)
        let d = try DistributedCSR(comm: comm, replicated: r, rowPartition: rp, columnPartition: cp)
        let model = try DistributedALS.fit(d, configuration: configuration)
        let u = comm.allgatherv(model.userFactors.elements).values, v = comm.allgatherv(model.itemFactors.elements).values
        let userError = maxRelativeDifference(reference.userFactors, Matrix(rows: 6, columns: users, elements: u))
        let itemError = maxRelativeDifference(reference.itemFactors, Matrix(rows: 6, columns: items, elements: v))
        if comm.rank == 0 {
            print("als: \(comm.size) ranks, \(explicit ? "explicit" : "implicit"), max relative factor difference users \(userError), items \(itemError)")
        }
        guard userError <= 1e-3, itemError <= 1e-3 else {
            throw CheckFailure("als: distributed factors differ from the single-process ones (users \(userError), items \(itemError))")
        }
        // The same record as the single-process model's.
        let diagnostics = model.diagnostics
        guard diagnostics.iterations == reference.diagnostics.iterations, diagnostics.iterationSeconds?.count == 4,
              diagnostics.phases.count == 4, diagnostics.seed == seed, diagnostics.allConverged else {
            throw CheckFailure("als: diagnostics \(diagnostics) (single-process \(reference.diagnostics))")
        }
    }
}

extension Checks {
    /// `als-embed --distributed` against the single-process `als-embed --solver cholesky` on the
    /// same interaction file: the same ids in the same order, factors to rounding.
    static func alsEmbed(_ comm: Communicator, path: String, output: URL, explicit: Bool) throws {
        let configuration = ALSConfiguration(factors: 6, regularization: 0.1, alpha: 2, iterations: 4,
                                             feedback: explicit ? .explicit : .implicit, solver: .cholesky, seed: 3)
        let distributed = output.appendingPathComponent("distributed"), single = output.appendingPathComponent("single")
        let report = try DistributedALSEmbedding.run(interactions: URL(fileURLWithPath: path), output: distributed,
                                                     configuration: configuration, comm: comm)
        guard comm.rank == 0 else { return }
        _ = try ALSExperiment.run(ALSExperimentOptions(interactions: URL(fileURLWithPath: path), output: single, configuration: configuration))
        var worst = 0.0
        for name in ["users", "items"] {
            let a = try EmbeddingTable.read(from: single.appendingPathComponent(name))
            let b = try EmbeddingTable.read(from: distributed.appendingPathComponent(name))
            guard a.ids == b.ids, a.vectors.rows == b.vectors.rows, a.vectors.columns == b.vectors.columns else {
                throw CheckFailure("als-embed: table \(name) has \(b.vectors.rows) x \(b.vectors.columns) (ids equal: \(a.ids == b.ids)), single-process \(a.vectors.rows) x \(a.vectors.columns)")
            }
            guard a.metadata.entityType == b.metadata.entityType, a.metadata.algorithm == b.metadata.algorithm,
                  a.metadata.parameters == b.metadata.parameters else {
                throw CheckFailure("als-embed: table \(name)'s metadata differs from the single-process one")
            }
            worst = max(worst, maxRelativeDifference(a.vectors, b.vectors))
        }
        print("als-embed: \(comm.size) ranks, \(explicit ? "explicit" : "implicit"), \(report.users) users x \(report.items) items, \(report.interactions) interactions, max relative table entry difference \(worst)")
        guard worst <= 1e-3 else {
            throw CheckFailure("als-embed: the distributed tables differ from the single-process ones (entries \(worst))")
        }
    }
}
