// The memory a follow-graph SVD run holds per phase (read, build, solve, write), estimated from
// the input's size before it is allocated, and checked against the limits in force.
import Foundation
import GraphData
import LinearAlgebra

extension FollowGraphSVD {
    /// The budget before reading: the file's bytes and the parser's arrays, with the number of
    /// lines estimated from the average line length of the file's first MiB.
    ///
    /// - Throws: `MemoryBudgetError` when the read phase cannot fit the limits in force;
    ///   nothing when the file cannot be opened (the reader reports that with its own error).
    public static func readBudget(edgeFile path: String, directed: Bool) throws(MemoryBudgetError) -> MemoryBudget {
        let input = TextInputEstimate(path: path)
        let lines = input.lines
        // Parser: source and target indices and weights (12 B a line; up to three times that
        // while a gzip file's arrays grow), the row sort's copies (16 B an edge, two edges a
        // line when undirected), id tables (about 100 B an id, counted as one id a line), a
        // 16 MiB direct index; the text held (the whole plain file, one block of a gzip file).
        let edges = directed ? lines : 2 * lines
        let bytes = input.heldTextBytes + (input.gzip ? 36 : 12) * lines + 16 * edges + 100 * lines + (16 << 20)
        let text = input.gzip ? "\(MemoryBudget.format(input.fileBytes)) gzip file of about \(MemoryBudget.format(input.textBytes)) text"
                              : "\(MemoryBudget.format(input.fileBytes)) file"
        let budget = MemoryBudget(
            phases: [.init(name: "read", bytes: bytes, detail: "\(text), about \(lines) lines")],
            advice: "a smaller input (split or sample the edge list)")
        try budget.check()
        return budget
    }

    /// The budget of the phases after reading, from the graph's exact sizes (what each phase
    /// holds at its peak; checked against measured `VmHWM` in the tests and the README).
    ///
    /// - `streamedTables`: the tables go to disk as they are final (the run without labels), so
    ///   the write phase holds one row block; otherwise they are assembled in memory.
    /// - `names`: how the advice names the settings to change (a tool's flags; library names by default).
    public static func budget(graph: EdgeList, configuration c: FollowGraphSVDConfiguration, streamedTables: Bool = false,
                              blasThreads: Int = BLAS.threads, names: FollowGraphParameterNames = [:]) -> MemoryBudget {
        let n = graph.nodeCount, m = graph.edgeCount
        // The id map (measured about 60 B an id with short ids) and the CSR adjacency (8 B a
        // node offset, 4 B an index, 4 B a value).
        let ids = 60 * n
        let adjacency = 8 * (n + 1) + 8 * m
        // Held after the read: the edge list (sources, targets, offsets, weights) and its ids.
        let edgeList = 8 * m + 8 * n + (graph.weights == nil ? 0 : 4 * m) + ids
        return budget(nodes: n, edges: m, ids: ids, adjacency: adjacency, edgeListHeldDuringBuild: streamedTables ? 4 * m : edgeList,
                      mappedBytes: 0, configuration: c, streamedTables: streamedTables, blasThreads: blasThreads, names: names)
    }

    /// The budget of a run on a memory-mapped binary CSR file: the mapped matrix is not counted
    /// (its pages come from the file and are dropped under memory pressure); the node maps,
    /// degree vectors and dense blocks are.
    public static func mappedBudget(file: GraphCSRFile, rows: Int, columns: Int, configuration c: FollowGraphSVDConfiguration,
                                    blasThreads: Int = BLAS.threads, names: FollowGraphParameterNames = [:]) -> MemoryBudget {
        budget(nodes: file.nodeCount, edges: file.edgeCount, ids: 0, adjacency: 0, edgeListHeldDuringBuild: 0,
               mappedBytes: file.fileSize, rows: rows, columns: columns, configuration: c, streamedTables: true, blasThreads: blasThreads, names: names)
    }

    static func budget(nodes n: Int, edges m: Int, ids: Int, adjacency: Int, edgeListHeldDuringBuild: Int, mappedBytes: Int,
                       rows: Int? = nil, columns: Int? = nil, configuration c: FollowGraphSVDConfiguration,
                       streamedTables: Bool, blasThreads: Int, names: FollowGraphParameterNames) -> MemoryBudget {
        let cap = c.selection.maxNodes.map { min($0, n) } ?? n
        let rows = rows ?? cap, columns = columns ?? cap
        let k = c.dimension, l = k + c.oversamples
        let mapped = mappedBytes > 0
        // Held from the build to the end: ids, the selected matrix (the adjacency itself when the
        // selection keeps every row and column), node lists and degree vectors; mapped: the node
        // maps and balanced ranges instead.
        let nodeArrays = mapped ? 4 * 2 * n + 8 * (rows + columns) + 4 * (rows + columns) : 8 * (rows + columns) + 4 * (rows + columns)
        let held = ids + adjacency + nodeArrays
        let build = held + edgeListHeldDuringBuild + (mapped ? 0 : 8 * n)
        // Solve: the scaled copy of the matrix's values and its transposed index (in memory
        // only), and the solver's blocks.
        let matrixCopies = mapped ? 0 : 4 * m + (8 * m + 8 * columns)
        var solve: Int
        var detail: String
        switch c.solver {
        case .randomized:
            // What the randomized SVD holds at once, in l-column blocks of the rows (Y, Q) or the
            // columns (Ω, Z, B = Q'A), counted from RandomizedSVD's sparse path (Ω lives to its
            // end): the range finder's last CholeskyQR2 holds Ω, Z, Y and its two passes' outputs;
            // Rayleigh-Ritz holds Ω, Q, B and the two CholeskyQR passes of B's thin SVD; then
            // U and V' (k columns) beside Ω, Q and B, with residuals two more k-column pairs
            // (the images and their differences). Mapped runs add one row-major copy of the
            // input block per product.
            let rangeFinder = l * (2 * columns + 3 * rows)
            let rayleighRitz = l * (rows + 4 * columns)
            let factors = l * (rows + 2 * columns) + k * (rows + columns) + (c.computeResiduals ? 2 * k * (rows + columns) : 0)
            let blocks = max(rangeFinder, rayleighRitz, factors) + (mapped ? l * max(rows, columns) : 0)
            solve = held + matrixCopies + 4 * blocks
            detail = "float32 blocks of \(l) columns over \(rows) rows and \(columns) columns" + (c.computeResiduals ? ", residuals" : ", no residuals")
        case .arpack:
            let ncv = min(max(2 * k + 1, 20), min(rows, columns))
            solve = held + matrixCopies + 8 * ncv * columns + 8 * 3 * columns + 4 * k * (rows + columns) * 2
            detail = "\(ncv) Lanczos vectors of \(columns) doubles"
        }
        // Undirected spectral: the neighbourhood blocks make the table (1 + hops) x k wide.
        let hops = c.method == .spectral && !c.directed ? c.spectral.neighbourhoodHops : 0
        if c.method == .spectral && !c.directed {
            solve += 4 * m + 8 * (m + rows) + 8 * rows + 7 * 4 * k * rows + 4 * (1 + hops) * k * rows
            detail += ", plus the spectral filter's blocks of \(k) columns" + (hops > 0 ? " and a table of \((1 + hops) * k)" : "")
        }
        // Write: streamed, one block of rows and the node order of the both-sides table; else
        // the tables in memory (vectors, ids as strings and their index, about 110 B an id).
        let tableRows = rows + columns + (c.directed ? n : 0)
        let write = streamedTables
            ? held + 4 * k * (rows + columns) + 4 * hops * k * rows + 8 * n + (1 << 20)
            : held + 4 * k * (rows + columns) + 4 * hops * k * rows + 4 * 2 * k * (c.directed ? n : 0) + 110 * tableRows
        var phases: [MemoryBudget.Phase] = [
            .init(name: "build", bytes: build, detail: "\(m) edges, \(n) nodes" + (mapped ? ", matrix mapped" : "")),
            .init(name: "solve", bytes: solve, detail: detail),
            .init(name: "write", bytes: write, detail: streamedTables ? "rank \(k) tables streamed in row blocks" : "rank \(k) tables in memory"),
        ]
        if mapped {
            phases.insert(.init(name: "mapped", bytes: 0, detail: "\(MemoryBudget.format(mappedBytes)) binary CSR file, paged from disk, not counted"), at: 0)
        }
        return MemoryBudget(
            phases: phases,
            blasBuffers: BLAS.unreservedBufferBytes(threads: blasThreads),
            advice: "a smaller \(names.name(.dimension)) (now \(k)) or \(names.name(.maxNodes)) (now \(c.selection.maxNodes.map(String.init) ?? "all \(n)")), \(names.name(.threads)) 1" + (mapped ? "" : ", or a binary CSR input (\(names.name(.binaryCSR))) to map the matrix"))
    }

    /// The memory a run may plan to use: the smallest of the cgroup's `memory.max`, the
    /// address-space limit and the machine's physical memory.
    public static func memoryAvailable(_ limits: MemoryLimits = .current()) -> Int {
        var available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        if let cgroup = limits.cgroupLimit { available = min(available, cgroup) }
        if let space = limits.addressSpaceLimit { available = min(available, space) }
        return available
    }
}
