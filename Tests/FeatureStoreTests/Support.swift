import EmbeddingStore
import Foundation
import LinearAlgebra
@testable import FeatureStore

/// A fresh empty directory under the system temporary directory.
func scratch(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("featurestore-tests-\(label)-\(UInt32.random(in: 0 ... .max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes a seeded `rows x dimension` table with ids `u0, u1, ...` to `dir/label` and returns it.
@discardableResult
func writeTable(in dir: URL, _ label: String, rows: Int = 40, dimension: Int = 5, seed: UInt64 = 1,
                createdAt: String = "2024-01-01T00:00:00Z", entityType: String = "user") throws -> (URL, EmbeddingTable) {
    let ids = (0..<rows).map { "u\($0)" }
    var meta = EmbeddingMetadata(entityType: entityType, algorithm: "randomized-svd", parameters: ["rank": .int(Int64(dimension))],
                                 createdAt: createdAt, scores: ["blogcatalog.macro_auc": 0.5 + Double(seed) / 100], seed: seed)
    meta.inputFile = "/data/edges-\(seed).tsv"
    let table = try EmbeddingTable(ids: ids, vectors: .gaussian(rows: rows, columns: dimension, seed: seed), metadata: meta)
    let url = dir.appendingPathComponent(label)
    try table.write(to: url)
    return (url, table)
}
