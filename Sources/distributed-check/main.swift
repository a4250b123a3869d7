// distributed-check: the MPI checks of DistributedTests, run as
//   mpirun -np N distributed-check CHECK [--key value ...]
// CHECK is product (A X and A' X by ghost exchange), svd (distributed randomized SVD), edges
// (distributed edge-list reading and id numbering), eigen (PARPACK against ARPACK), als
// (distributed ALS against ALS), als-embed (the distributed als-embed job against the
// single-process tables),
// follow-graph (the distributed follow-graph-svd job against the single-process tables) or
// fail (a rank failing mid-run). Each compares with the single-process
// computation on the same seeded input; a difference aborts every rank with status 1.
import Distributed
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: "--" + name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else { return fallback }
    return v
}
func text(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: "--" + name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
let uneven = !arguments.contains("--even")
let seed = UInt64(option("seed", 7))

Communicator.run { comm in
    switch arguments.first ?? "" {
    case "product":
        try Checks.product(comm, rows: option("rows", 300), columns: option("columns", 200), nonzeros: option("nnz", 3000),
                           width: option("width", 5), seed: seed, uneven: uneven)
    case "svd":
        try Checks.svd(comm, rows: option("rows", 300), columns: option("columns", 200), nonzeros: option("nnz", 3000),
                       rank: option("rank", 8), seed: seed, uneven: uneven)
    case "edges":
        guard let file = text("file") else { throw CheckFailure("edges needs --file PATH") }
        try Checks.edges(comm, path: file, directed: !arguments.contains("--undirected"))
    case "eigen":
        try Checks.eigen(comm, n: option("rows", 200), nonzeros: option("nnz", 1500), count: option("rank", 6), seed: seed, uneven: uneven)
    case "follow-graph":
        guard let file = text("file"), let output = text("output") else { throw CheckFailure("follow-graph needs --file PATH --output DIR") }
        try Checks.followGraph(comm, path: file, output: URL(fileURLWithPath: output), method: text("method") == "svd" ? .svd : .spectral,
                               directed: !arguments.contains("--undirected"), dimension: option("rank", 8))
    case "als":
        try Checks.als(comm, users: option("rows", 150), items: option("columns", 90), nonzeros: option("nnz", 1200), seed: seed,
                       uneven: uneven, explicit: arguments.contains("--explicit"))
    case "als-embed":
        guard let file = text("file"), let output = text("output") else { throw CheckFailure("als-embed needs --file PATH --output DIR") }
        try Checks.alsEmbed(comm, path: file, output: URL(fileURLWithPath: output), explicit: arguments.contains("--explicit"))
    case "fail":
        try Checks.fail(comm, failing: option("rank", 1), after: option("after", 3))
    default:
        throw CheckFailure("usage: distributed-check product|svd|edges|eigen|als|als-embed|follow-graph|fail [--rows M --columns N --nnz Z --width K --rank K --seed S --even]")
    }
}
