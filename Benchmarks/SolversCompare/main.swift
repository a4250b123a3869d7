// The Swift side of Benchmarks/solvers_vs_python.sh: the same three problems the Python peers
// solve, on the same edge list, printed as JSON lines {tool, method, seconds, max_residual, ...}.
//
//   swift build -c release --product solvers-compare
//   .build/release/solvers-compare --edges ../shared/data/slashdot/edges.txt
//
// Timings exclude the residual check (computed afterwards, as the Python script does). The
// adjacency is built as the Python side builds it: ids in order of first appearance, self-loops
// kept, repeated edges summed, float32.
import Foundation
import GraphData
import LinearAlgebra
import Solvers

BLAS.useAVX512KernelsIfAvailable()   // as the tools do (scipy's bundled OpenBLAS picks its AVX-512 kernels itself)

func argument(_ name: String, _ fallback: String? = nil) -> String? {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count { return args[i + 1] }
    return fallback
}
func flag(_ name: String) -> Bool { CommandLine.arguments.contains(name) }

guard let edges = argument("--edges") else {
    FileHandle.standardError.write(Data("usage: solvers-compare --edges FILE [--rank 64] [--oversamples 10] [--power-iterations 4] [--normalizer choleskyQRWhenNeeded|choleskyQR|choleskyQRPerIteration|lu|qr|none] [--tol 0] [--repeats 1] [--skip-randomized] [--skip-svds] [--skip-eigsh] [--skip-arpack-eigsh] [--skip-arpack-svds] [--svds-eigsh-max-nodes N] [--krylov-iterations Q] [--krylov-block B] [--cheb-block B] [--cheb-degree M] [--cheb-max-iterations I] [--skip-block-lanczos] [--eigsh-block-lanczos] [--bl-block B (default: each solver's, 8 for svds, 16 for eigsh)] [--bl-basis M] [--bl-keep P] [--bl-tol T] [--threads 2]\n".utf8))
    exit(2)
}
let rank = Int(argument("--rank", "64")!)!
let oversamples = Int(argument("--oversamples", "10")!)!
let powerIterations = Int(argument("--power-iterations", "4")!)!
guard let normalizer = RandomizedSVD.Normalizer(rawValue: argument("--normalizer", "choleskyQRWhenNeeded")!) else {
    FileHandle.standardError.write(Data("solvers-compare: --normalizer must be one of \(RandomizedSVD.Normalizer.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
    exit(2)
}
let tolerance = Double(argument("--tol", "0")!)!
let repeats = Int(argument("--repeats", "1")!)!
let threads = Int(argument("--threads", "2")!)!
BLAS.threads = Int(argument("--blas-threads", String(threads))!)!
Parallel.threads = threads

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
func timed<R>(_ body: () throws -> R) rethrows -> (Double, [Double], R) {
    var times = [Double](), result: R? = nil
    for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        result = try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return (median(times), times, result!)
}
func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

let readStart = Date()
let graph = try EdgeList.read(path: edges, options: .init(directed: true, selfLoops: .keep, duplicates: .sum))
let arrays: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = graph.adjacencyCSR()
let n = graph.nodeCount
let a = try CSRMatrix<Float>(rows: n, columns: n, rowOffsets: arrays.rowOffsets, columnIndices: arrays.columnIndices, values: arrays.values)
FileHandle.standardError.write(Data("solvers-compare: \(n) nodes, \(a.nonzeroCount) nonzeros, read in \(String(format: "%.2f", Date().timeIntervalSince(readStart))) s\n".utf8))
// Above --svds-eigsh-max-nodes only the randomized SVD runs (as the Python side does).
let large = argument("--svds-eigsh-max-nodes").flatMap { Int($0) }.map { n > $0 } ?? false
if large { FileHandle.standardError.write(Data("solvers-compare: more nodes than --svds-eigsh-max-nodes: randomized SVD only\n".utf8)) }

if !flag("--skip-randomized") {
    let (seconds, runs, svd) = try timed {
        try RandomizedSVD.compute(a, .init(rank: rank, oversamples: oversamples, powerIterations: powerIterations, normalizer: normalizer,
                                           seed: 0, computeResiduals: false))
    }
    let r = svd.relativeResiduals(a)
    emit(["tool": "swift", "method": "swift-randomized", "solver": svd.diagnostics.method, "seconds": seconds, "runs": runs,
          "max_residual": max(r.left.max() ?? 0, r.right.max() ?? 0), "k": rank, "p": oversamples, "q": powerIterations,
          "phases": Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
}

if !flag("--skip-svds") && !large && !flag("--skip-arpack-svds") {
    let (seconds, runs, svd) = try timed {
        try ARPACKSVD.compute(a, .init(rank: rank, tolerance: tolerance, seed: 0, computeResiduals: false))
    }
    let r = svd.relativeResiduals(a)
    emit(["tool": "swift", "method": "swift-arpack-svds", "seconds": seconds, "runs": runs,
          "max_residual": max(r.left.max() ?? 0, r.right.max() ?? 0), "k": rank, "tol": tolerance, "s_last": Double(svd.s.last ?? 0),
          "s_sum": svd.s.reduce(0.0) { $0 + Double($1) },
          "operator_applications": svd.diagnostics.operatorApplications - 1,   // one-vector products (the final block pass excluded)
          "phases": Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
}

// svds by thick-restart block Lanczos on A'A (ARPACKSVD's eigenproblem, a block per step).
let blBlock = argument("--bl-block").flatMap { Int($0) }, blBasis = argument("--bl-basis").flatMap { Int($0) }, blKeep = argument("--bl-keep").flatMap { Int($0) }
let blTol = argument("--bl-tol").flatMap { Double($0) }
if !flag("--skip-svds") && !large && !flag("--skip-block-lanczos") {
    let (seconds, runs, svd) = try timed {
        var configuration = BlockLanczosSVD.Configuration(rank: rank, basisSize: blBasis, keep: blKeep, tolerance: blTol, seed: 0, computeResiduals: false)
        if let b = blBlock { configuration.lanczos.blockSize = b }   // else the solver's default
        return try BlockLanczosSVD.compute(a, configuration)
    }
    let r = svd.relativeResiduals(a)
    emit(["tool": "swift", "method": "swift-block-lanczos-svds", "seconds": seconds, "runs": runs,
          "max_residual": max(r.left.max() ?? 0, r.right.max() ?? 0), "k": rank, "method_detail": svd.diagnostics.method,
          "s_last": Double(svd.s.last ?? 0), "s_sum": svd.s.reduce(0.0) { $0 + Double($1) },
          "operator_applications": svd.diagnostics.operatorApplications / 2, "restarts": svd.diagnostics.iterations,   // products with A'A
          "phases": Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
}

// svds by block Krylov (our block method) when --krylov-iterations Q is given: the same rank and
// residual measure as ARPACKSVD's row, so the two can be set beside scipy's svds.
if !flag("--skip-svds") && !large, let q = argument("--krylov-iterations").flatMap({ Int($0) }) {
    let block = argument("--krylov-block").flatMap { Int($0) }
    let (seconds, runs, svd) = try timed {
        try BlockKrylovSVD.compute(a, .init(rank: rank, blockSize: block, iterations: q, seed: 0, computeResiduals: false))
    }
    let r = svd.relativeResiduals(a)
    emit(["tool": "swift", "method": "swift-block-krylov-svds", "seconds": seconds, "runs": runs,
          "max_residual": max(r.left.max() ?? 0, r.right.max() ?? 0), "k": rank, "q": q, "block": block ?? rank,
          "block_passes": svd.diagnostics.operatorApplications,
          "phases": Dictionary(svd.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
}

if !flag("--skip-eigsh") && !large {
    // N = D^-1/2 (A + A') D^-1/2, built explicitly as the Python side does.
    var coo = COOMatrix<Float>(rows: n, columns: n)
    coo.reserveCapacity(2 * a.nonzeroCount)
    for i in 0..<n {
        for p in Int(a.rowOffsets[i])..<Int(a.rowOffsets[i + 1]) {
            let j = Int(a.columnIndices[p]), v = a.values[p]
            coo.append(row: i, column: j, value: v)
            coo.append(row: j, column: i, value: v)
        }
    }
    let sym = try coo.toCSR(duplicates: .sum)
    let inv = sym.rowSums().map { $0 > 0 ? 1 / $0.squareRoot() : 0 }
    let normalized = sym.scaledRows(by: inv).scaledColumns(by: inv)
    // max_i ||N x_i - l_i x_i|| / max |l|, as the Python side.
    func maxResidual(_ eig: SymmetricEigenResult<Float>) -> Double {
        var difference = normalized.apply(eig.vectors)
        var lx = eig.vectors
        lx.scaleColumns(by: eig.values)
        difference.axpy(-1, lx)
        let scale = Double(eig.values.map { abs($0) }.max() ?? 1)
        return difference.columnNorms().map { Double($0) / scale }.max() ?? 0
    }
    if !flag("--skip-arpack-eigsh") {
    let (seconds, runs, eig) = try timed {
        try SymmetricEigensolver.compute(normalized, .init(count: rank, which: .largestAlgebraic, tolerance: tolerance, seed: 0, computeResiduals: false))
    }
    emit(["tool": "swift", "method": "swift-eigsh", "seconds": seconds, "runs": runs, "max_residual": maxResidual(eig),
          "k": rank, "tol": tolerance, "operator_applications": eig.diagnostics.operatorApplications,
          "phases": Dictionary(eig.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +),
          "operator_seconds": eig.diagnostics.operatorSeconds ?? 0])
    }

    // The same problem by thick-restart block Lanczos (ARPACK's method, a block per step); opt-in:
    // on slashdot it takes 2,000-5,000 products and more time than the Chebyshev row.
    if flag("--eigsh-block-lanczos") {
        let (blSeconds, blRuns, bl) = try timed {
            var configuration = BlockLanczosEigensolver.Configuration(count: rank, basisSize: blBasis, keep: blKeep, tolerance: blTol, seed: 0)
            if let b = blBlock { configuration.blockSize = b }   // else the solver's default
            return try BlockLanczosEigensolver.largest(normalized, configuration)
        }
        emit(["tool": "swift", "method": "swift-eigsh-block-lanczos", "seconds": blSeconds, "runs": blRuns, "max_residual": maxResidual(bl),
              "k": rank, "operator_applications": bl.diagnostics.operatorApplications, "restarts": bl.diagnostics.iterations,
              "converged": bl.diagnostics.converged, "method_detail": bl.diagnostics.method,
              "phases": Dictionary(bl.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
    }

    // The same problem by Chebyshev-filtered subspace iteration (block products instead of
    // ARPACK's one-vector Lanczos), to its default tolerance (48 ulp), checked the same way.
    let (chebSeconds, chebRuns, cheb) = try timed {
        try ChebyshevEigensolver.largest(normalized, .init(count: rank, blockSize: argument("--cheb-block", nil).flatMap { Int($0) },
                                                           degree: Int(argument("--cheb-degree", "16")!)!,
                                                           maxIterations: Int(argument("--cheb-max-iterations", "300")!)!, seed: 0))
    }
    emit(["tool": "swift", "method": "swift-eigsh-chebyshev", "seconds": chebSeconds, "runs": chebRuns,
          "max_residual": maxResidual(cheb), "k": rank,
          "operator_applications": cheb.diagnostics.operatorApplications, "iterations": cheb.diagnostics.iterations,
          "converged": cheb.diagnostics.converged, "method_detail": cheb.diagnostics.method,
          "phases": Dictionary(cheb.diagnostics.phases.map { ($0.name, $0.seconds) }, uniquingKeysWith: +)])
}
