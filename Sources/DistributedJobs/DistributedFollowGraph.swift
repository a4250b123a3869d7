// DistributedJobs: the tools' jobs on the ranks of an MPI job (`follow-graph-svd --distributed`,
// `als-embed --distributed`) over Distributed's row-partitioned operators and solvers. A module
// of its own so that Distributed (layer 3) imports nothing above Solvers and FollowGraph does not
// link MPI.
import Distributed
import EmbeddingStore
import FollowGraph
import Foundation
import LinearAlgebra
import Solvers

/// What one distributed `follow-graph-svd` run did (rank 0 prints and returns it).
public struct DistributedFollowGraphReport: Codable, Sendable {
    public struct Table: Codable, Sendable { public var name: String; public var rows, columns: Int }
    public var ranks: Int
    public var nodes: Int, edges: Int
    /// The factorised (selected) matrix: consumers x producers, and its stored entries.
    public var rows: Int, columns: Int, nonzeros: Int
    public var singularValues: [Double]
    public var maxRelativeResidual: Double
    public var passes: Int
    public var seconds: [String: Double]
    public var tables: [Table]
    /// Per rank, the bytes sent and received by label (`ghost exchange` is `A X`,
    /// `reduce-scatter` is `A' X`, the SVD phases by name), and the passes of each label.
    public var traffic: [[String: TrafficCount]]
    public var passesByLabel: [String: Int]
    /// Remote ghost rows (rows of a block received per `A X`) per rank.
    public var remoteGhostRows: [Int]
    /// Stored entries per rank.
    public var localNonzeros: [Int]
    /// Rows of its block each rank sends per `A X` (receives per `A' X`), counted from the plan,
    /// and as Distributed's `CommunicationModel` predicts them from the in-degrees.
    public var exportedRows: [Int]
    public var predictedExportedRows: [Double]

    /// Human-readable lines.
    public var summary: [String] {
        var lines = [
            "follow-graph-svd --distributed: \(ranks) ranks, \(nodes) nodes, \(edges) edges -> \(rows) x \(columns) matrix, \(nonzeros) nonzeros",
            "  rank \(singularValues.count), s1 = \(String(format: "%.4g", singularValues.first ?? 0)), s\(singularValues.count) = \(String(format: "%.4g", singularValues.last ?? 0)), max relative residual \(String(format: "%.3g", maxRelativeResidual)), \(passes) passes",
            "  seconds: " + seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value))" }.joined(separator: "  "),
            "  wrote " + tables.map { "\($0.name) (\($0.rows) x \($0.columns))" }.joined(separator: ", "),
            "  traffic per rank (MB sent/received): ghost exchange (A X) and reduce-scatter (A' X), all passes",
        ]
        for (p, t) in traffic.enumerated() {
            let g = t["ghost exchange"] ?? TrafficCount(), r = t["reduce-scatter"] ?? TrafficCount()
            lines.append(String(format: "    rank %d: %d nonzeros, %d remote ghost rows, %d exported rows (model %.0f); A X %.2f/%.2f MB, A' X %.2f/%.2f MB",
                                p, localNonzeros[p], remoteGhostRows[p], exportedRows[p], predictedExportedRows[p],
                                Double(g.sentBytes) / 1e6, Double(g.receivedBytes) / 1e6, Double(r.sentBytes) / 1e6, Double(r.receivedBytes) / 1e6))
        }
        return lines
    }
}

/// `follow-graph-svd --distributed`: the single-process job (FollowGraph's `FollowGraphRun`) on
/// the ranks of an MPI job, for the `svd` method and the directed `spectral` default (its two
/// SVDs), with binary or log weighting, degree or no normalisation and the follower/following
/// thresholds; each rank reads its byte range of the edge list (Distributed's `DistributedEdgeList`) and
/// writes its rows of every table straight into the shared output files.
///
/// Selection, weighting and normalisation are those of FollowGraph's `FollowGraphPreprocessing`,
/// computed on the row-partitioned adjacency (in-degrees and column sums by `A' 1`); the
/// unselected rows and columns stay in the matrix as zeros, and the test matrix numbers only the
/// selected columns, so the SVDs are the single-process ones up to the order of sums.
///
/// Output: rank 0 opens the output run (as the single-process tool: refused if the directory
/// holds anything else), creates each table's files at their final size; each rank writes its
/// rows of `vectors.npy` and its lines of `ids.tsv` at their offsets (exclusive prefix sums of
/// row and byte counts), so no rank holds a whole table; rank 0 writes `meta.json` and commits
/// the run after every rank has written. The output directory must be on a filesystem every
/// rank sees (as MPI jobs' working directories are).
///
/// Not distributed (a clear error): the undirected spectral method (ProNE propagation; use
/// `--method svd`), `--solver arpack`, `--weighting idf`, `--max-nodes`, `--labels`, `--demo`.
public enum DistributedFollowGraph {
    /// Runs the job on every rank of `comm`. `log` is called on rank 0 only.
    public static func run(_ options: FollowGraphRunOptions, comm: Communicator, log: (String) -> Void = { _ in }) throws -> DistributedFollowGraphReport {
        let c = options.configuration
        let start = Date()
        func say(_ s: String) { if comm.rank == 0 { log(s) } }
        guard let edgeURL = options.edges, !options.demo else { throw DistributedError("--distributed needs an edge list (no --demo)") }
        guard options.labels == nil else { throw DistributedError("--labels is not supported with --distributed: run embedding-benchmark on the written tables") }
        guard c.solver == .randomized else { throw DistributedError("--distributed runs the randomized solver only (not --solver \(c.solver.rawValue))") }
        guard c.weighting != .idf else { throw DistributedError("--weighting idf is not distributed yet: use binary or log") }
        guard c.selection.maxNodes == nil else { throw DistributedError("--max-nodes is not distributed yet") }
        guard c.method == .svd || c.directed else {
            throw DistributedError("the undirected spectral method (ProNE propagation) is not distributed: use --method svd")
        }
        guard c.dimension >= 1 else { throw DistributedError("--dim must be at least 1 (got \(c.dimension))") }
        // Rank 0 opens the output run before any work and tells every rank where it stages.
        var run: OutputRun? = nil
        if comm.rank == 0 { run = try FollowGraphEmbedding.startOutput(options.output) }
        let staging = URL(fileURLWithPath: String(decoding: comm.allgatherv(Array((run?.staging.path ?? "").utf8)).values, as: UTF8.self))

        var seconds = [String: Double]()
        var clock = Date()
        func lap(_ name: String) { seconds[name] = Date().timeIntervalSince(clock); clock = Date() }
        var readOptions = DistributedEdgeList.Options()
        readOptions.directed = c.directed
        readOptions.keepSelfLoops = options.keepSelfLoops
        readOptions.duplicates = c.weighting == .log ? .sum : .keepFirst
        readOptions.header = options.header ? true : nil
        readOptions.allowNonPositiveWeights = options.allowNonPositiveWeights
        let graph = try DistributedEdgeList.read(path: edgeURL.path, comm: comm, options: readOptions)
        guard graph.edgeCount > 0 else { throw DistributedError("the graph has no edges (\(edgeURL.path))") }
        lap("read")
        say("read \(graph.edgeCount) edges over \(graph.nodeCount) nodes from \(edgeURL.path) on \(comm.size) ranks in \(String(format: "%.2f", seconds["read"]!)) s")

        let prepared = try prepare(graph, c, comm: comm)
        lap("build")
        say("built \(prepared.consumerCount) x \(prepared.producerCount) matrix with \(prepared.nonzeros) nonzeros (weighting \(c.weighting.rawValue), normalization \(c.normalization.rawValue))")

        let svdConfiguration = RandomizedSVD.Configuration(rank: c.dimension, oversamples: c.oversamples, powerIterations: c.powerIterations, seed: c.seed)
        let shape = (rows: prepared.consumerCount, columns: prepared.producerCount)
        guard c.dimension <= min(shape.rows, shape.columns) else {
            throw DistributedError("--dim \(c.dimension) is larger than the selected graph allows: the matrix is \(shape.rows) x \(shape.columns)")
        }
        func factors(_ svd: DistributedSVD<Float>, power: Float) -> (Matrix<Float>, Matrix<Float>) {
            let weights = svd.s.map { power == 1 ? Swift.max($0, 0) : Swift.max($0, 0).squareRoot() }
            var u = svd.u, v = svd.vt.transposed()
            u.scaleColumns(by: weights); v.scaleColumns(by: weights)
            return (u, v)
        }
        let normalized = c.method == .spectral || c.normalization == .degree ? prepared.degreeNormalized : prepared.weighted
        let svd = try DistributedRandomizedSVD.compute(normalized, svdConfiguration, testMatrixRow: prepared.producerIndex, shape: shape)
        var (left, right) = factors(svd, power: 0.5)
        let (nodeLeft, nodeRight) = (left, right)
        if c.method == .spectral {
            // Followers: U S of D_out^-1/2 A D_in^-e (as FollowGraphSVD), unit RMS over all followers.
            let rowScale = prepared.rowSums.enumerated().map { prepared.isConsumer[$0.offset] && $0.element > 0 ? 1 / $0.element.squareRoot() : 0 }
            let exponent = Double(c.spectral.consumerColumnExponent)
            let columnScale = exponent == 0 ? nil : prepared.columnSums.enumerated().map {
                prepared.isProducer[$0.offset] && $0.element > 0 ? Float(Foundation.pow(Double($0.element), -exponent)) : 0 }
            // The consumers' SVD takes its own power iterations when set (as FollowGraphSVD).
            let consumerConfiguration = RandomizedSVD.Configuration(rank: c.dimension, oversamples: c.oversamples,
                                                                    powerIterations: c.spectral.consumerPowerIterations ?? c.powerIterations, seed: c.seed)
            let second = try DistributedRandomizedSVD.compute(prepared.weighted.scaled(rows: rowScale, columns: columnScale), consumerConfiguration,
                                                              testMatrixRow: prepared.producerIndex, shape: shape)
            (left, _) = factors(second, power: 1)
            var sums = [0.0]
            for i in 0 ..< left.rows where prepared.isConsumer[i] { for j in 0 ..< left.columns { sums[0] += Double(left[i, j]) * Double(left[i, j]) } }
            comm.allreduceSum(&sums)
            if sums[0] > 0 { left.scale(by: Float((Double(shape.rows * left.columns) / sums[0]).squareRoot())) }
        }
        lap("solve")
        say("\(c.method.rawValue): \(svd.diagnostics.method) SVD of rank \(svd.s.count) in \(String(format: "%.2f", seconds["solve"]!)) s, \(svd.diagnostics.operatorApplications) passes")

        // Tables.
        let q = c.powerIterations ?? svdConfiguration.resolvedPowerIterations(rows: shape.rows, columns: shape.columns)
        var parameters: [String: JSONValue] = [
            "method": .string(c.method.rawValue), "solver": .string(c.solver.rawValue), "dimension": .int(Int64(c.dimension)),
            "directed": .bool(c.directed), "weighting": .string(c.weighting.rawValue), "normalization": .string(c.normalization.rawValue),
            "degree_regularization": c.degreeRegularization.map { .double(Double($0)) } ?? .string("mean degree"),
            "min_followers": .int(Int64(c.selection.minFollowers)), "min_following": .int(Int64(c.selection.minFollowing)),
            "singular_values": .array(svd.s.map { .double(Double($0)) }),
            "max_relative_residual": .double(svd.diagnostics.maxRelativeResidual),
            "passes": .int(Int64(svd.diagnostics.operatorApplications)),
            "oversamples": .int(Int64(c.oversamples)), "power_iterations": .int(Int64(q)),
            "mpi_ranks": .int(Int64(comm.size)),
        ]
        if c.method == .spectral && !c.directed { parameters["method"] = .string("svd") }
        var record = EmbeddingMetadata(entityType: "", algorithm: "")
        if comm.rank == 0 { try record.recordInput(edgeURL) }
        func metadata(_ entity: String, _ factor: String, count: Int, dimension: Int) -> EmbeddingMetadata {
            EmbeddingMetadata(entityType: entity, algorithm: "follow-graph-svd (\(factor))", parameters: parameters,
                              inputFile: record.inputFile, inputChecksum: record.inputChecksum, seed: c.seed, count: count, dimension: dimension)
        }
        let d = c.dimension
        let n = graph.adjacency.localRowRange.count
        func rows(_ block: Matrix<Float>, _ keep: [Bool]) -> (Matrix<Float>, [String]) {
            let chosen = (0 ..< n).filter { keep[$0] }
            var out = Matrix<Float>(rows: chosen.count, columns: block.columns)
            for (t, i) in chosen.enumerated() { for j in 0 ..< block.columns { out[t, j] = block[i, j] } }
            return (out, chosen.map { graph.localIDs[$0] })
        }
        var tables = [DistributedFollowGraphReport.Table]()
        let spectralDirected = c.method == .spectral && c.directed
        if c.directed {
            let (cv, cid) = rows(left, prepared.isConsumer)
            tables.append(try writeTable("consumers", cv, cid, comm: comm, staging: staging, metadata: {
                metadata("consumer", spectralDirected ? "U S of D_out^-1/2 A D_in^-\(Double(c.spectral.consumerColumnExponent))" : "U S^1/2", count: $0, dimension: d) }))
            let (pv, pid) = rows(right, prepared.isProducer)
            tables.append(try writeTable("producers", pv, pid, comm: comm, staging: staging, metadata: { metadata("producer", "V S^1/2", count: $0, dimension: d) }))
            var both = Matrix<Float>(rows: n, columns: 2 * d)
            for i in 0 ..< n {
                if prepared.isConsumer[i] { for j in 0 ..< d { both[i, j] = nodeLeft[i, j] } }
                if prepared.isProducer[i] { for j in 0 ..< d { both[i, d + j] = nodeRight[i, j] } }
            }
            let (bv, bid) = rows(both, (0 ..< n).map { prepared.isConsumer[$0] || prepared.isProducer[$0] })
            tables.append(try writeTable("nodes", bv, bid, comm: comm, staging: staging, metadata: { metadata("account", "[U S^1/2 | V S^1/2]", count: $0, dimension: 2 * d) }))
        } else {
            let (cv, cid) = rows(left, prepared.isConsumer)
            tables.append(try writeTable("nodes", cv, cid, comm: comm, staging: staging, metadata: { metadata("node", "U S^1/2", count: $0, dimension: d) }))
        }
        try comm.commitAfterEveryRank(run)
        lap("write")
        seconds["total"] = Date().timeIntervalSince(start)

        let traffic = try comm.trafficOfEveryRank()
        return DistributedFollowGraphReport(
            ranks: comm.size, nodes: graph.nodeCount, edges: graph.edgeCount, rows: shape.rows, columns: shape.columns,
            nonzeros: prepared.nonzeros, singularValues: svd.s.map(Double.init), maxRelativeResidual: svd.diagnostics.maxRelativeResidual,
            passes: svd.diagnostics.operatorApplications, seconds: seconds,
            tables: tables.map { .init(name: options.output.appendingPathComponent($0.name).path, rows: $0.rows, columns: $0.columns) },
            traffic: traffic, passesByLabel: comm.passesByLabel,
            remoteGhostRows: comm.allgather(Int64(graph.adjacency.remoteGhostCount)).map { Int($0) },
            localNonzeros: comm.allgather(Int64(graph.adjacency.localNonzeroCount)).map { Int($0) },
            exportedRows: comm.allgather(Int64(graph.adjacency.exportedRowCount)).map { Int($0) },
            predictedExportedRows: comm.allgather(CommunicationModel.expectedExports(columnDegrees: prepared.inDegrees, ranks: comm.size)))
    }

    /// The selected, weighted adjacency (unselected rows and columns zeroed) and its scalings.
    struct Prepared {
        var weighted: DistributedCSR<Float>
        var degreeNormalized: DistributedCSR<Float>
        var isConsumer: [Bool], isProducer: [Bool]
        var producerIndex: [Int]
        var consumerCount: Int, producerCount: Int, nonzeros: Int
        var rowSums: [Float], columnSums: [Float]
        var inDegrees: [Int]
    }

    /// Selection, weighting and normalisation as ``FollowGraph/FollowGraphPreprocessing/prepare(adjacency:directed:selection:weighting:normalization:degreeRegularization:)``.
    static func prepare(_ graph: DistributedGraph, _ c: FollowGraphSVDConfiguration, comm: Communicator) throws -> Prepared {
        let a = graph.adjacency
        let followers = a.localColumnNonzeroCounts()
        var isProducer: [Bool], isConsumer: [Bool]
        if c.directed {
            isProducer = followers.map { $0 >= c.selection.minFollowers && $0 > 0 }
            let keptPattern = a.mapValues { _ in 1 }.scaled(rows: nil, columns: isProducer.map { $0 ? 1 : 0 })
            let following = keptPattern.localRowSums()
            isConsumer = following.map { Int($0.rounded()) >= max(1, c.selection.minFollowing) }
        } else {
            let threshold = max(1, c.selection.minFollowers, c.selection.minFollowing)
            isProducer = followers.map { $0 >= threshold }
            isConsumer = isProducer
        }
        let producerCount = isProducer.filter { $0 }.count, consumerCount = isConsumer.filter { $0 }.count
        let producerOffsets = comm.prefixOffsets(producerCount)
        let consumerTotal = comm.sum(Int64(consumerCount))
        guard producerOffsets.last! > 0 else { throw DistributedError("no account has at least \(c.selection.minFollowers) followers (--min-followers)") }
        guard consumerTotal > 0 else { throw DistributedError("no user follows at least \(c.selection.minFollowing) of the kept accounts (--min-following)") }
        var producerIndex = [Int](repeating: -1, count: isProducer.count)
        var next = producerOffsets[comm.rank]
        for i in 0 ..< isProducer.count where isProducer[i] { producerIndex[i] = next; next += 1 }
        let weightedValues: DistributedCSR<Float> = c.weighting == .log ? a.mapValues { 1 + Foundation.log(Swift.max($0, 1)) } : a.mapValues { _ in 1 }
        let weighted = weightedValues.scaled(rows: isConsumer.map { $0 ? 1 : 0 }, columns: isProducer.map { $0 ? 1 : 0 })
        let nonzeros = Int(comm.sum(Int64(weighted.local.values.filter { $0 != 0 }.count)))
        guard nonzeros > 0 else { throw DistributedError("no edges remain after node selection") }
        let rowSums = weighted.localRowSums(), columnSums = weighted.localColumnSums()
        var total = [Float(rowSums.reduce(0, +))]
        comm.allreduceSum(&total)
        let tauRows = c.degreeRegularization ?? total[0] / Float(max(1, Int(consumerTotal)))
        let tauColumns = c.degreeRegularization ?? total[0] / Float(max(1, producerOffsets.last!))
        let rowScale = rowSums.enumerated().map { isConsumer[$0.offset] && $0.element + tauRows > 0 ? 1 / ($0.element + tauRows).squareRoot() : 0 }
        let columnScale = columnSums.enumerated().map { isProducer[$0.offset] && $0.element + tauColumns > 0 ? 1 / ($0.element + tauColumns).squareRoot() : 0 }
        return Prepared(weighted: weighted, degreeNormalized: weighted.scaled(rows: rowScale, columns: columnScale),
                        isConsumer: isConsumer, isProducer: isProducer, producerIndex: producerIndex,
                        consumerCount: Int(consumerTotal), producerCount: producerOffsets.last!, nonzeros: nonzeros, rowSums: rowSums, columnSums: columnSums, inDegrees: followers)
    }

    /// Writes one table: rank 0 creates `staging/name/` with `vectors.npy` and `ids.tsv` at
    /// their final sizes and `meta.json`; every rank then writes its rows and id lines at its
    /// offsets and flushes them. Collective.
    static func writeTable(_ name: String, _ vectors: Matrix<Float>, _ ids: [String], comm: Communicator, staging: URL,
                           metadata: (Int) -> EmbeddingMetadata) throws -> DistributedFollowGraphReport.Table {
        let d = vectors.columns
        let rowOffsets = comm.prefixOffsets(vectors.rows)
        var idText = Array(ids.joined(separator: "\n").utf8)
        if !ids.isEmpty { idText.append(10) }
        let byteOffsets = comm.prefixOffsets(idText.count)
        let total = rowOffsets.last!
        let header = NPY.headerBytes(descr: "<f4", rows: total, columns: d)
        let directory = staging.appendingPathComponent(name)
        let vectorsPath = directory.appendingPathComponent(EmbeddingTable.vectorsFileName).path
        let idsPath = directory.appendingPathComponent(EmbeddingTable.idsFileName).path
        var failure = [Int32(0)]
        var message = ""
        if comm.rank == 0 {
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
                try create(vectorsPath, size: header.count + total * d * 4, prefix: header)
                try create(idsPath, size: byteOffsets.last!, prefix: [])
                try metadata(total).jsonData().write(to: directory.appendingPathComponent(EmbeddingTable.metadataFileName))
            } catch { failure[0] = 1; message = "\(error)" }
        }
        comm.allreduceMax(&failure)
        if failure[0] != 0 { throw DistributedError(comm.rank == 0 ? "\(directory.path): \(message)" : "rank 0 could not create \(directory.path)") }
        var rowMajor = [Float](repeating: 0, count: vectors.rows * d)
        for i in 0 ..< vectors.rows { for j in 0 ..< d { rowMajor[i * d + j] = vectors[i, j] } }
        try rowMajor.withUnsafeBytes { try writeAt(vectorsPath, offset: header.count + rowOffsets[comm.rank] * d * 4, bytes: $0) }
        try idText.withUnsafeBytes { try writeAt(idsPath, offset: byteOffsets[comm.rank], bytes: $0) }
        comm.barrier()
        return .init(name: name, rows: total, columns: d)
    }

    static func create(_ path: String, size: Int, prefix: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw DistributedError("\(path): cannot create: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw DistributedError("\(path): cannot size to \(size) bytes: \(String(cString: strerror(errno)))") }
        try prefix.withUnsafeBytes { try writeAll(fd, path, offset: 0, bytes: $0) }
    }

    static func writeAt(_ path: String, offset: Int, bytes: UnsafeRawBufferPointer) throws {
        let fd = open(path, O_WRONLY)
        guard fd >= 0 else { throw DistributedError("\(path): cannot open for writing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try writeAll(fd, path, offset: offset, bytes: bytes)
        guard fsync(fd) == 0 else { throw DistributedError("\(path): fsync failed: \(String(cString: strerror(errno)))") }
    }

    static func writeAll(_ fd: Int32, _ path: String, offset: Int, bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            guard n > 0 else { throw DistributedError("\(path): write failed at byte \(offset + done): \(String(cString: strerror(errno)))") }
            done += n
        }
    }
}

extension DistributedFollowGraph {
    /// The `follow-graph-svd --distributed` tool: runs the job on the ranks of the MPI job this
    /// process belongs to; rank 0 prints the summary (and writes the JSON report, if asked).
    /// Any rank's error is printed with its rank and ends every rank with status 1.
    public static func runTool(_ options: FollowGraphRunOptions, report: String?, progress: Bool) {
        Communicator.run { comm in
            let result = try run(options, comm: comm) { line in
                if progress { FileHandle.standardError.write(Data(("follow-graph-svd: " + line + "\n").utf8)) }
            }
            if comm.rank == 0 {
                result.summary.forEach { print($0) }
                if let report { try JSONReport.write(result, to: URL(fileURLWithPath: report)) }
            }
        }
    }
}

extension Communicator {
    /// Commits the output run (held by rank 0, `nil` elsewhere) once every rank has written its
    /// rows. Collective.
    func commitAfterEveryRank(_ run: OutputRun?) throws {
        barrier()
        if let run { try run.commit() }
    }

    /// Every rank's traffic counters by label (`trafficByLabel` of ranks 0, 1, …),
    /// gathered on every rank for the jobs' reports. Collective.
    func trafficOfEveryRank() throws -> [[String: TrafficCount]] {
        let mine = try JSONEncoder().encode(trafficByLabel)
        let all = allgatherv(Array(mine))
        return try (0 ..< size).map { p in
            try JSONDecoder().decode([String: TrafficCount].self, from: Data(all.values[all.offsets[p] ..< all.offsets[p + 1]]))
        }
    }
}
