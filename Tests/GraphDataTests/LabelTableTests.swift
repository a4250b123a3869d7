import Testing
import LinearAlgebra
@testable import GraphData

@Suite struct LabelTableTests {
    let graph = try! EdgeList.read(string: "n1 n2\nn2 n3\nn3 n4\n")

    @Test func multiLabelRowsAndIndicator() throws {
        let text = "# labels\nn3\tsports\r\nn1,music\nn3 music\n\nn3\tsports\nn2\tart\n"
        let t = try LabelTable.read(string: text, nodes: graph.sourceIDs)
        #expect(t.nodeIDs == graph.sourceIDs)
        #expect(t.labelNames.ids == ["sports", "music", "art"])
        #expect(t.labelsPerNode == [[1], [2], [0, 1], []])
        #expect(t.labeledNodeCount == 3)
        #expect(t.statistics.dataLines == 5 && t.statistics.repeatedPairs == 1)
        let m: Matrix<Double> = t.indicatorMatrix()
        #expect(m == Matrix(rows: [[0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 0, 0]]))
    }

    @Test func unknownNodes() throws {
        let text = "n1 a\nghost b\nn4 a\nghost c\nspook a\n"
        do {
            _ = try LabelTable.read(string: text, name: "labels.tsv", nodes: graph.sourceIDs)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == "labels.tsv" && error.line == 2 && error.lineText == "ghost b")
            #expect(error.problem == .unknownNode("ghost"))
            #expect(error.description == "labels.tsv:2: node \"ghost\" is not in the node id map: \"ghost b\"")
        }
        let skipped = try LabelTable.read(string: text, nodes: graph.sourceIDs, options: .init(unknownNodes: .skip))
        #expect(skipped.statistics.skippedLines == 3 && skipped.statistics.skippedNodes == 2)
        #expect(skipped.labelsPerNode == [[0], [], [], [0]])
        #expect(skipped.labelNames.ids == ["a"])
        let inserted = try LabelTable.read(string: text, nodes: graph.sourceIDs, options: .init(unknownNodes: .insert))
        #expect(inserted.nodeIDs.ids == ["n1", "n2", "n3", "n4", "ghost", "spook"])
        #expect(graph.sourceIDs.count == 4)  // the graph's map is untouched
        #expect(inserted.labelsPerNode == [[0], [], [], [0], [1, 2], [0]])
    }

    @Test func ownMapHeaderAndErrors() throws {
        let t = try LabelTable.read(string: "node,label\nx,1\ny,2\nx,2\n")
        #expect(t.statistics.headerSkipped)
        #expect(t.nodeIDs.ids == ["x", "y"] && t.labelNames.ids == ["1", "2"])
        #expect(t.labelsPerNode == [[0, 1], [1]])
        let names = "(node, label)"
        let cases: [(String, Int, String, GraphDataError.Problem)] = [
            ("a 1\nb\n", 2, "b", .tooFewColumns(found: 1, expected: 2, names: names)),
            ("a 1\nb 2 3\n", 2, "b 2 3", .tooManyColumns(found: 3, expected: 2, names: names)),
            ("a 1\r\nb,\r\n", 2, "b,", .emptyID),
        ]
        for (text, line, lineText, problem) in cases {
            do {
                _ = try LabelTable.read(string: text, name: "l.tsv")
                Issue.record("expected an error for \(text)")
            } catch {
                #expect(error.file == "l.tsv" && error.line == line && error.lineText == lineText)
                #expect(error.problem == problem)
            }
        }
    }
}
