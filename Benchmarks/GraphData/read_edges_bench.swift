# Times EdgeList.read; see README.md in this folder for how to build and run it.
import GraphData
import Foundation

let path = CommandLine.arguments[1]
let reps = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 5
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
let configs: [(String, EdgeListReader.Options)] = [
    ("parse only (keepAll), 1 thread", .init(duplicates: .keepAll, threads: 1)),
    ("parse only (keepAll), 2 threads", .init(duplicates: .keepAll, threads: 2)),
    ("default (keepOne: sort+dedup), 1 thread", .init(threads: 1)),
    ("default (keepOne: sort+dedup), 2 threads", .init(threads: 2)),
    ("undirected keepOne, 2 threads", .init(directed: false, threads: 2)),
]
for (name, options) in configs {
    var times: [Double] = []
    var edges = 0, lines = 0, nodes = 0
    for _ in 0..<reps {
        let t0 = now()
        let g = try EdgeList.read(path: path, options: options)
        times.append(now() - t0)
        edges = g.edgeCount; lines = g.statistics.dataLines; nodes = g.nodeCount
    }
    times.sort()
    let med = times[times.count / 2]
    print(String(format: "%@: lines %d nodes %d stored edges %d | median %.3f s (min %.3f, max %.3f) -> %.2f M edges/s",
                 name, lines, nodes, edges, med, times.first!, times.last!, Double(lines) / med / 1e6))
}
