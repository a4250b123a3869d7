// The memory a follow-graph SVD run holds per phase (read, build, solve, write), estimated from
// the input's size before it is allocated, and checked against the limits in force.
import Foundation
import GraphData
import LinearAlgebra

extension FollowGraphSVD {
    /// The budget before reading: the file's bytes and the parser's arrays, with the number of
    /// lines estimated from the average line length of the file's first MiB.
    ///
    /// - Throws: ``MemoryBudgetError`` when the read phase cannot fit the limits in force;
    ///   nothing when the file cannot be opened (the reader reports that with its own error).
    public static func readBudget(edgeFile path: String, directed: Bool) throws(MemoryBudgetError) -> MemoryBudget {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let lines = estimatedLines(path: path, size: size)
        // Parser: source and target indices and weights (12 B a line), the row sort's copies
        // (16 B an edge, two edges a line when undirected), id tables (about 100 B an id,
        // counted as one id a line), a 16 MiB direct index.
        let edges = directed ? lines : 2 * lines
        let bytes = size + 12 * lines + 16 * edges + 100 * lines + (16 << 20)
        let budget = MemoryBudget(
            phases: [.init(name: "read", bytes: bytes,
                           detail: "\(MemoryBudget.format(size)) file, about \(lines) lines")],
            advice: "a smaller input (split or sample the edge list)")
        try budget.check()
        return budget
    }

    /// The budget of the phases after reading, from the graph's exact sizes: the graph held
    /// throughout; the matrices of the build; the solver's blocks; the tables of the write.
    public static func budget(graph: EdgeList, configuration c: FollowGraphSVDConfiguration,
                              blasThreads: Int = BLAS.threads) -> MemoryBudget {
        let n = graph.nodeCount
        let m = graph.edgeCount
        let cap = c.selection.maxNodes.map { min($0, n) } ?? n
        let rows = cap, columns = cap
        let k = c.dimension
        // Held from the read to the end: edge arrays (4 + 4 [+ 4] B an edge), CSR offsets and id map.
        let held = m * (8 + (graph.weights == nil ? 0 : 4)) + n * (8 + 64)
        // Build: the adjacency's values and offsets, the selected, weighted, normalised copy
        // (offsets, indices, values) and degree vectors.
        let build = held + m * 4 + n * 8 + (m * 8 + rows * 8) + (rows + columns) * 8
        var solve: Int
        var solveDetail: String
        switch c.solver {
        case .randomized:
            let l = k + c.oversamples
            // Q (rows x l), the sketch of A' (columns x l), their QR/Cholesky copies, and the
            // l x columns small problem.
            solve = build + 4 * l * (rows + columns) * 3 + 4 * l * columns + 8 * l * l
            solveDetail = "float32 blocks of \(l) columns over \(rows) rows and \(columns) columns"
        case .arpack:
            let ncv = min(max(2 * k + 1, 20), min(rows, columns))
            // Lanczos basis in Double, workd, the converged vectors and the other side's.
            solve = build + 8 * ncv * columns + 8 * 3 * columns + 4 * k * (rows + columns) * 2
            solveDetail = "\(ncv) Lanczos vectors of \(columns) doubles"
        }
        if c.method == .spectral && !c.directed {
            // Spectral propagation: the proximity values, A + I (indices, values, offsets) and the
            // filter's blocks (initial, three recurrence terms, sum, product, thin SVD's U).
            solve += 4 * m + 8 * (m + rows) + 8 * rows + 7 * 4 * k * rows
            solveDetail += ", plus the spectral filter's blocks of \(k) columns"
        }
        // Write: both factors, the both-sides table (directed), ids as strings (about 48 B).
        let both = c.directed ? 2 * k * (rows + columns) : 0
        let write = held + 4 * k * (rows + columns) + 4 * both + 48 * (rows + columns + (c.directed ? rows + columns : 0))
        return MemoryBudget(
            phases: [
                .init(name: "build", bytes: build, detail: "\(m) edges, \(n) nodes"),
                .init(name: "solve", bytes: solve, detail: solveDetail),
                .init(name: "write", bytes: write, detail: "rank \(k) tables"),
            ],
            blasBuffers: BLAS.unreservedBufferBytes(threads: blasThreads),
            advice: "a smaller --dim (now \(k)) or --max-nodes (now \(c.selection.maxNodes.map(String.init) ?? "all \(n)")), --threads 1")
    }

    /// Lines of a file of `size` bytes, from the average line length of its first MiB.
    static func estimatedLines(path: String, size: Int) -> Int {
        guard size > 0, let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        let sample = (try? handle.read(upToCount: 1 << 20)) ?? Data()
        let newlines = sample.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if sample.count >= size || newlines == 0 { return max(newlines, 1) }
        return Int((Double(size) / Double(sample.count) * Double(newlines)).rounded(.up))
    }
}
