import Testing
import LinearAlgebra
@testable import GraphData

/// The edges as id pairs, for order-independent comparisons.
func idPairs(_ g: EdgeList) -> [String] {
    (0..<g.edgeCount).map { k in
        let (s, t) = g.edgeIDs(k)
        if let w = g.weights { return "\(s)>\(t):\(w[k])" }
        return "\(s)>\(t)"
    }
}

func expectError(_ text: String, name: String = "edges.tsv", options: EdgeListReader.Options = .init(),
                 line: Int, lineText: String, _ problem: GraphDataError.Problem,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let g = try EdgeList.read(string: text, name: name, options: options)
        Issue.record("expected an error, read \(g.edgeCount) edges", sourceLocation: sourceLocation)
    } catch {
        #expect(error.file == name, sourceLocation: sourceLocation)
        #expect(error.line == line, sourceLocation: sourceLocation)
        #expect(error.lineText == lineText, sourceLocation: sourceLocation)
        #expect(error.problem == problem, sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("\(name):\(line): "), sourceLocation: sourceLocation)
        #expect(error.description.hasSuffix("\"\(lineText)\""), sourceLocation: sourceLocation)
    }
}

@Suite struct EdgeListFormatTests {
    @Test func separatorsCommentsBlankLinesCRLFAndNoFinalNewline() throws {
        let text = "# comment\r\n% another\r\n\r\na\tb\r\nb  c\r\n  c , d\r\n\t\r\nd\t \te\r\n# x\r\ne,a"
        let g = try EdgeList.read(string: text, options: .init(duplicates: .keepAll))
        #expect(g.sourceIDs.ids == ["a", "b", "c", "d", "e"])
        #expect(g.sources == [0, 1, 2, 3, 4])
        #expect(g.targets == [1, 2, 3, 4, 0])
        #expect(g.weights == nil)
        #expect(g.statistics.dataLines == 5)
        #expect(g.statistics.headerSkipped == false)
    }

    @Test func emptyAndCommentOnlyInput() throws {
        for text in ["", "\n", "# only a comment", "# c\n\n% d\n"] {
            let g = try EdgeList.read(string: text)
            #expect(g.edgeCount == 0 && g.nodeCount == 0)
            let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = g.adjacencyCSR()
            #expect(csr.rowOffsets == [0] && csr.columnIndices.isEmpty)
        }
    }

    @Test func stringIDsKeptExactlyInFirstAppearanceOrder() throws {
        let text = "@jack\t@biz\n@biz\t007\n007\tnode with\n"
        // "node with" has a space, so it is two columns: that line is an error; use commas.
        #expect(throws: GraphDataError.self) { try EdgeList.read(string: text) }
        let g = try EdgeList.read(string: "@jack,@biz\n@biz,007\n007,0007\n0007,ünï\n",
                                  options: .init(duplicates: .keepAll))
        #expect(g.sourceIDs.ids == ["@jack", "@biz", "007", "0007", "ünï"])
        #expect(g.sourceIDs.index(ofID: "0007") == 3)
        #expect(idPairs(g) == ["@jack>@biz", "@biz>007", "007>0007", "0007>ünï"])
    }

    @Test func weightsAutoYesNo() throws {
        let weighted = "a b 0.5\nb c 2\nc a -1e-2\n"
        expectError(weighted, line: 3, lineText: "c a -1e-2", .nonPositiveWeight("-1e-2"))
        let g = try EdgeList.read(string: weighted, options: .init(duplicates: .keepAll, allowNonPositiveWeights: true))
        #expect(g.weights == [0.5, 2, -0.01])
        let g2 = try EdgeList.read(string: weighted, options: .init(duplicates: .keepAll, weighted: .present, allowNonPositiveWeights: true))
        #expect(g2.weights == g.weights)
        expectError(weighted, options: .init(weighted: .absent), line: 1, lineText: "a b 0.5",
                    .tooManyColumns(found: 3, expected: 2, names: "(source, target)"))
        expectError("a b\n", options: .init(weighted: .present), line: 1, lineText: "a b",
                    .tooFewColumns(found: 2, expected: 3, names: "(source, target, weight)"))
        let u = try EdgeList.read(string: "a b\nb c\n")
        #expect(u.weights == nil)
    }

    @Test func headerDetection() throws {
        let cases: [(String, Bool)] = [
            ("source,target,weight\n1,2,0.5\n", true),
            ("src dst\n1 2\n", true),
            ("FromNodeId\tToNodeId\n1\t2\n", true),
            ("alice bob\n1 2\n", true),        // non-numeric line above numeric ids
            ("alice bob\ncarol dave\n", false), // string ids throughout
            ("1 2\n3 4\n", false),
            ("# comment\nsource target\n1 2\n", true),
            ("a b 1\nb c 2\n", false),
        ]
        for (text, header) in cases {
            let g = try EdgeList.read(string: text, options: .init(duplicates: .keepAll))
            #expect(g.statistics.headerSkipped == header, "\(text)")
            #expect(g.statistics.dataLines == (header ? 1 : 2), "\(text)")
        }
        let weighted = try EdgeList.read(string: "source,target,weight\n1,2,0.5\n")
        #expect(weighted.weights == [0.5])
        #expect(weighted.sourceIDs.ids == ["1", "2"])
        let present = try EdgeList.read(string: "alice bob\ncarol dave\n", options: .init(header: .present))
        #expect(present.sourceIDs.ids == ["carol", "dave"])
        let absent = try EdgeList.read(string: "src dst\n1 2\n", options: .init(header: .absent))
        #expect(absent.sourceIDs.ids == ["src", "dst", "1", "2"])
    }
}

@Suite struct EdgeListOptionTests {
    let text = "a b\nb a\na a\nb c\na b\nc c\n"

    @Test func directedKeepOneSortsAndMerges() throws {
        let g = try EdgeList.read(string: text)
        #expect(g.isSorted && g.directed && g.hasSharedIDMap)
        #expect(idPairs(g) == ["a>a", "a>b", "b>a", "b>c", "c>c"])
        #expect(g.statistics.duplicatesMerged == 1)
        #expect(g.statistics.selfLoopLines == 2)
        #expect(g.nodeCount == 3 && g.edgeCount == 5)
    }

    @Test func keepAllKeepsFileOrder() throws {
        let g = try EdgeList.read(string: text, options: .init(duplicates: .keepAll))
        #expect(!g.isSorted)
        #expect(idPairs(g) == ["a>b", "b>a", "a>a", "b>c", "a>b", "c>c"])
    }

    @Test func sumGivesMultiplicitiesOrSummedWeights() throws {
        let g = try EdgeList.read(string: text, options: .init(duplicates: .sum))
        #expect(idPairs(g) == ["a>a:1.0", "a>b:2.0", "b>a:1.0", "b>c:1.0", "c>c:1.0"])
        let w = try EdgeList.read(string: "a b 0.25\nb c 1\na b 0.5\n", options: .init(duplicates: .sum))
        #expect(idPairs(w) == ["a>b:0.75", "b>c:1.0"])
        let first = try EdgeList.read(string: "a b 0.25\nb c 1\na b 0.5\n", options: .init(duplicates: .keepOne))
        #expect(idPairs(first) == ["a>b:0.25", "b>c:1.0"])
    }

    @Test func dropSelfLoops() throws {
        let g = try EdgeList.read(string: text, options: .init(selfLoops: .drop))
        #expect(idPairs(g) == ["a>b", "b>a", "b>c"])
        #expect(g.statistics.selfLoopsDropped == 2)
        #expect(g.nodeCount == 3)  // c only appears in dropped or kept lines, still a node
    }

    @Test func undirectedSymmetrises() throws {
        let g = try EdgeList.read(string: text, options: .init(directed: false))
        #expect(idPairs(g) == ["a>a", "a>b", "b>a", "b>c", "c>b", "c>c"])
        #expect(g.statistics.reverseEdgesAdded == 4)
        #expect(g.statistics.duplicatesMerged == 4)
        let all = try EdgeList.read(string: "x y 2\nz z 1\n", options: .init(directed: false, duplicates: .keepAll))
        #expect(idPairs(all) == ["x>y:2.0", "z>z:1.0", "y>x:2.0"])
        let summed = try EdgeList.read(string: text, options: .init(directed: false, selfLoops: .drop, duplicates: .sum))
        #expect(idPairs(summed) == ["a>b:3.0", "b>a:3.0", "b>c:1.0", "c>b:1.0"])
    }

    @Test func separateIDMapsForBipartiteData() throws {
        let g = try EdgeList.read(string: "u1 i9\nu2 i9\nu1 u1\ni9 i1\n",
                                  options: .init(duplicates: .keepAll, separateIDMaps: true))
        #expect(!g.hasSharedIDMap && !g.sourceIDs.sharesStorage(with: g.targetIDs))
        #expect(g.sourceIDs.ids == ["u1", "u2", "i9"])
        #expect(g.targetIDs.ids == ["i9", "u1", "i1"])
        #expect(g.sources == [0, 1, 0, 2] && g.targets == [0, 0, 1, 2])
        #expect(g.rowCount == 3 && g.columnCount == 3 && g.nodeCount == 6)
        #expect(g.statistics.selfLoopLines == 0)  // "u1 u1" is a user and an item, not a loop
        let shared = try EdgeList.read(string: "u1 i9\n")
        #expect(shared.sourceIDs.sharesStorage(with: shared.targetIDs))
        do {
            _ = try EdgeList.read(string: "a b\n", options: .init(directed: false, separateIDMaps: true))
            Issue.record("expected invalidOptions")
        } catch {
            guard case .invalidOptions = error.problem else { Issue.record("\(error)"); return }
        }
    }

    @Test func adjacencyCSRMatchesDenseMatrix() throws {
        // Random multigraph; CSR from every policy checked against a dense accumulation.
        var rng = Xoshiro256(seed: 7)
        var lines = ""
        var dense = [[Double]](repeating: [Double](repeating: 0, count: 30), count: 30)
        var seen = Set<[Int]>()
        var firstWeight = [[Int]: Double]()
        for _ in 0..<400 {
            let s = Int(rng.next() % 30), t = Int(rng.next() % 30)
            let w = Double(Int(rng.next() % 8) + 1) / 4
            lines += "n\(s)\tn\(t)\t\(w)\n"
            dense[s][t] += w
            if seen.insert([s, t]).inserted { firstWeight[[s, t]] = w }
        }
        for policy in [EdgeListReader.DuplicatePolicy.sum, .keepOne, .keepAll] {
            let g = try EdgeList.read(string: lines, options: .init(duplicates: policy))
            let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Double]) = g.adjacencyCSR()
            #expect(csr.rowOffsets.count == g.rowCount + 1)
            #expect(Int(csr.rowOffsets.last!) == g.edgeCount)
            var rebuilt = [[Double]](repeating: [Double](repeating: 0, count: 30), count: 30)
            for r in 0..<g.rowCount {
                let lo = Int(csr.rowOffsets[r]), hi = Int(csr.rowOffsets[r + 1])
                for k in lo..<hi {
                    if k > lo { #expect(csr.columnIndices[k - 1] <= csr.columnIndices[k]) }
                    if policy != .keepAll && k > lo { #expect(csr.columnIndices[k - 1] < csr.columnIndices[k]) }
                    let s = Int(g.sourceIDs[r].dropFirst())!
                    let t = Int(g.targetIDs[Int(csr.columnIndices[k])].dropFirst())!
                    rebuilt[s][t] += csr.values[k]
                }
            }
            for s in 0..<30 {
                for t in 0..<30 {
                    let want = policy == .keepOne ? (firstWeight[[s, t]] ?? 0) : dense[s][t]
                    #expect(abs(rebuilt[s][t] - want) <= 64 * Double(Float.ulpOfOne) * max(1, want))
                }
            }
        }
        // Unweighted: values are 1.
        let u = try EdgeList.read(string: "a b\na c\nb a\n")
        let csr: (rowOffsets: [Int64], columnIndices: [Int32], values: [Float]) = u.adjacencyCSR()
        #expect(csr.rowOffsets == [0, 2, 3, 3] && csr.columnIndices == [1, 2, 0] && csr.values == [1, 1, 1])
    }

    @Test func parallelParseMatchesSequential() throws {
        // Over 3 MiB so that the parser splits it into chunks; ids repeat across chunks.
        var rng = Xoshiro256(seed: 11)
        var text = "# generated\n"
        for i in 0..<300_000 {
            let s = rng.next() % 50_000, t = rng.next() % 70_000
            text += i % 5 == 0 ? "user\(s)\titem\(t)\r\n" : "\(s) \(t)\n"
        }
        for options in [EdgeListReader.Options(duplicates: .keepAll),
                        EdgeListReader.Options(duplicates: .keepAll, separateIDMaps: true),
                        EdgeListReader.Options(directed: false, selfLoops: .drop, duplicates: .sum)] {
            var one = options; one.threads = 1
            var four = options; four.threads = 4
            let a = try EdgeList.read(string: text, options: one)
            let b = try EdgeList.read(string: text, options: four)
            #expect(a.statistics.parserThreads == 1 && b.statistics.parserThreads > 1)
            #expect(a.sourceIDs == b.sourceIDs && a.targetIDs == b.targetIDs)
            #expect(a.sources == b.sources && a.targets == b.targets && a.weights == b.weights)
        }
        // An error in a later chunk still names the right line.
        let bad = text + "lonely\n" + text
        var four = EdgeListReader.Options(); four.threads = 4
        do {
            _ = try EdgeList.read(string: bad, name: "big.tsv", options: four)
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 300_002 && error.lineText == "lonely")
        }
    }
}

@Suite struct EdgeListErrorTests {
    @Test func oneColumn() {
        expectError("a b\n# c\n\nlonely\nc d\n", line: 4, lineText: "lonely",
                    .tooFewColumns(found: 1, expected: 2, names: "(source, target)"))
        expectError("a b\nc\t\r\n", line: 2, lineText: "c\t",
                    .tooFewColumns(found: 1, expected: 2, names: "(source, target)"))
    }

    @Test func tooManyColumns() {
        expectError("a b\nc d 1 2\n", line: 2, lineText: "c d 1 2",
                    .tooManyColumns(found: 4, expected: 2, names: "(source, target)"))
        expectError("a,b,1\nc,d,1,\n", line: 2, lineText: "c,d,1,",
                    .badWeight(""))
        expectError("a b 1\nc d 1 2", line: 2, lineText: "c d 1 2",
                    .tooManyColumns(found: 4, expected: 3, names: "(source, target, weight)"))
    }

    @Test func badWeights() {
        expectError("a b 1\nc d 1.5x\n", line: 2, lineText: "c d 1.5x", .badWeight("1.5x"))
        expectError("a b 1\r\nc d nan\r\n", line: 2, lineText: "c d nan", .badWeight("nan"))
        expectError("a,b,1\nc,d,\n", line: 2, lineText: "c,d,", .badWeight(""))
        expectError("a b 1e999\n", options: .init(header: .absent), line: 1, lineText: "a b 1e999", .badWeight("1e999"))
    }

    @Test func emptyIDs() {
        expectError("a,b\n,c\n", line: 2, lineText: ",c", .emptyID)
        expectError("a,b\nc,\n", line: 2, lineText: "c,", .emptyID)
        expectError("a,b\nc,,1\n", line: 2, lineText: "c,,1", .emptyID)
    }

    @Test func longIDsAndLongLines() {
        let long = String(repeating: "x", count: GraphDataError.maximumIDLength + 1)
        do {
            _ = try EdgeList.read(string: "a b\n\(long) b\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 2)
            #expect(error.problem == .idTooLong(length: long.utf8.count))
            #expect(error.lineText!.hasSuffix("…") && error.lineText!.utf8.count < 300)
        }
    }

    @Test func missingFile() {
        do {
            _ = try EdgeList.read(path: "/nonexistent/edges.tsv")
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "/nonexistent/edges.tsv" && error.line == nil)
            guard case .cannotRead(let reason) = error.problem else { Issue.record("\(error)"); return }
            #expect(reason.contains("No such file"))
        }
    }
}
