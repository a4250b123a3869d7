import Foundation
import Testing
import LinearAlgebra
@testable import Compression

private func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compression-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A 3 x 2 x 2 unsigned-byte IDX array holding 0, 1, ..., 11.
private func sampleIDX() -> [UInt8] {
    [0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2] + (0..<12).map { UInt8($0) }
}

@Test func idxReaderParsesHeaderAndPayload() throws {
    let a = try IDXArray(bytes: sampleIDX())
    #expect(a.dimensions == [3, 2, 2])
    #expect(a.itemSize == 4)
    #expect(a.floats(scale: 0.5) == (0..<12).map { Float($0) * 0.5 })
    let ints = try IDXArray(bytes: [0, 0, 0x0C, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 1, 0])
    #expect(try ints.integers() == [-2, 256])
}

@Test func idxReaderRejectsTruncatedAndMalformedFiles() {
    let good = sampleIDX()
    for cut in [0, 3, 10, 16, 20, good.count - 1] {
        #expect(throws: CompressionError.self, "cut at \(cut)") { try IDXArray(bytes: Array(good[..<cut])) }
    }
    do {
        _ = try IDXArray(bytes: Array(good.dropLast()), source: "x.idx")
        Issue.record("a truncated payload was accepted")
    } catch let error as CompressionError {
        #expect(error.description.contains("truncated") && error.description.contains("x.idx"))
    } catch { Issue.record("unexpected \(error)") }
    #expect(throws: CompressionError.self) { try IDXArray(bytes: good + [0]) }           // trailing bytes
    #expect(throws: CompressionError.self) { try IDXArray(bytes: [1] + good.dropFirst()) } // bad magic
    var badType = good
    badType[2] = 0x07
    #expect(throws: CompressionError.self) { try IDXArray(bytes: badType) }
}

@Test func idxReaderDecompressesGzipAndRejectsTruncatedGzip() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let plain = dir + "/a.idx"
    try Data(sampleIDX()).write(to: URL(fileURLWithPath: plain))
    #expect(try IDXArray(contentsOf: plain).dimensions == [3, 2, 2])
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: try #require(Gzip.executable(named: "gzip"), "gzip is needed to make the test file"))
    gzip.arguments = ["-k", "-f", plain]
    try gzip.run()
    gzip.waitUntilExit()
    let compressed = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
    let read = try IDXArray(contentsOf: plain + ".gz")
    #expect(read.payload == Array(sampleIDX()[16...]))
    let truncated = dir + "/t.idx.gz"
    try compressed.prefix(compressed.count - 6).write(to: URL(fileURLWithPath: truncated))
    #expect(throws: CompressionError.self) { try IDXArray(contentsOf: truncated) }
    #expect(throws: CompressionError.self) { try IDXArray(contentsOf: dir + "/missing.idx") }
}

private let fashionDirectory = "/usr/share/datasets/fashion-mnist"

@Test(.enabled(if: FileManager.default.fileExists(atPath: fashionDirectory + "/t10k-labels-idx1-ubyte.gz"),
               "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"))
func readsFashionMNISTTestLabels() throws {
    let labels = try IDXArray(contentsOf: fashionDirectory + "/t10k-labels-idx1-ubyte.gz")
    #expect(labels.dimensions == [10000])
    let counts = try labels.integers().reduce(into: [Int](repeating: 0, count: 10)) { $0[$1] += 1 }
    #expect(counts == [Int](repeating: 1000, count: 10))
}

@Test func sparseFeatureReaderParsesAndRejectsMalformedJSON() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/features.json"
    try Data(#"{"10": [3, 1], "2": [], "1": [0, 5]}"#.utf8).write(to: URL(fileURLWithPath: path))
    let (ids, lists, dimension) = try FeatureReaders.readSparseFeatures(path: path)
    #expect(ids == ["1", "2", "10"])
    #expect(lists == [[0, 5], [], [3, 1]])
    #expect(dimension == 6)
    for bad in [#"{"1": [0, 5], "2": [1"#, #"{"1": ["a"]}"#, #"[1, 2]"#, #"{"1": [-3]}"#, ""] {
        try Data(bad.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CompressionError.self, "\(bad)") { try FeatureReaders.readSparseFeatures(path: path) }
    }
}

@Test func labelReaderReportsTheBadLine() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/labels.tsv"
    try Data("# header\n1\tb\n2\ta\n1\tc\n".utf8).write(to: URL(fileURLWithPath: path))
    let labels = try FeatureReaders.readLabels(path: path)
    #expect(labels == ["1": "b", "2": "a"])
    let (kept, entities) = try FeatureReaders.attachLabels(ids: ["2", "3", "1"], labels: labels, source: path)
    #expect(kept == [0, 2] && entities.labels == [0, 1] && entities.classNames == ["a", "b"])
    try Data("1\tb\n2 a\n".utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: CompressionError(file: path, line: 2, "expected node<TAB>label, got \"2 a\"")) { try FeatureReaders.readLabels(path: path) }
}

@Test func experimentRunsEveryMethodOnASmallSyntheticDataset() throws {
    // 4 classes in 20 dense dimensions, with the class signal in a 3-dimensional subspace.
    var rng = Xoshiro256(seed: 81)
    let n = 400, p = 20
    let basis = Matrix<Float>.gaussian(rows: p, columns: 3, using: &rng)
    var x = Matrix<Float>(rows: p, columns: n)
    var labels = [Int]()
    for s in 0..<n {
        let c = s % 4
        let z: [Float] = [c == 0 ? 3 : 0, c == 1 ? 3 : 0, c == 2 ? 3 : (c == 3 ? -3 : 0)]
        for i in 0..<p { x[i, s] = basis[i, 0] * z[0] + basis[i, 1] * z[1] + basis[i, 2] * z[2] + 0.2 * Float(rng.nextGaussian()) }
        labels.append(c)
    }
    let dataset = CompressionDataset(name: "synthetic", features: .dense(x), labels: labels, classNames: ["a", "b", "c", "d"],
                                     ids: (0..<n).map { "e\($0)" }, trainRows: Array(0..<280), validationRows: Array(280..<320),
                                     testRows: Array(320..<400))
    var config = CompressionConfiguration()
    config.dimensions = [4]
    config.fullHidden = [16]
    config.subnetworkHidden = [16]
    config.headHidden = 8
    config.training = TrainingConfiguration(epochs: 40, batchSize: 32, learningRate: 3e-3, patience: 5, seed: 82)
    config.headTraining = TrainingConfiguration(epochs: 40, batchSize: 32, learningRate: 3e-3, patience: 5, seed: 83)
    config.latencyRequests = 20
    config.latencyRequestsLarge = 3
    config.threads = 1
    let stored = StoredBox()
    let results = try CompressionExperiment(configuration: config, store: { stored.append($0) }).run(dataset)
    let methods = Set(results.map { "\($0.method)/\($0.head)" })
    #expect(methods == ["full/mlp", "transfer-raw/logistic", "transfer-raw/mlp", "subnetwork/end-to-end", "subnetwork/logistic",
                        "subnetwork/mlp", "transfer-subnetwork/logistic", "transfer-subnetwork/mlp", "svd/logistic", "svd/mlp"])
    for r in results {
        #expect(r.accuracy >= 0.9, "\(r.method)/\(r.head) accuracy \(r.accuracy) epochs \(r.epochs)")
        #expect(r.macroAUC >= 0.95 && r.macroAUC <= 1)
        #expect(r.latencyMsBatch1 > 0 && r.latencyMsBatch256 > 0)
    }
    let embeddings = stored.items
    #expect(embeddings.map(\.method) == ["subnetwork", "svd"])
    #expect(embeddings.allSatisfy { $0.vectors.rows == 4 && $0.vectors.columns == n && $0.ids.count == n })
    let json = try JSONSerialization.jsonObject(with: CompressionReport.json(results, configuration: [:])) as? [String: Any]
    let first = try #require((json?["results"] as? [[String: Any]])?.first)
    for key in ["dataset", "method", "dim", "head", "accuracy", "macro_auc", "parameters", "latency_ms_batch1", "latency_ms_batch256"] {
        #expect(first[key] != nil, "JSON lacks \(key)")
    }
    #expect(CompressionReport.table(results).split(separator: "\n").count == results.count + 1)
}

private final class StoredBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = [StoredEmbeddings]()
    func append(_ e: StoredEmbeddings) { lock.lock(); stored.append(e); lock.unlock() }
    var items: [StoredEmbeddings] { lock.lock(); defer { lock.unlock() }; return stored }
}
