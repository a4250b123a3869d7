// Pipelines: declarative embedding runs (select -> preprocess -> fit -> benchmark -> publish, plus
// external commands) read from YAML, with content-hash step caching and a lineage record per run.
import EmbeddingStore
import Foundation
import Yams

/// An error in a pipeline spec or run; names the spec file and the step when it concerns one.
public struct PipelineError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    /// The step that failed, when one did.
    public let step: String?
    public init(_ message: String, step: String? = nil) { self.message = message; self.step = step }
    public var description: String { message }
}

/// The kinds of step a spec may use.
public enum StepKind: String, Sendable, Codable, CaseIterable {
    /// Read an edge list or event list (keep a time range and the accounts active enough), or a text corpus.
    case select
    /// Clean the selected graph: drop self-loops, merge repeated edges.
    case preprocess
    /// Embed: `follow-graph-svd` on edges, `temporal-windows` on events, `ppmi-svd` or `sgns` on a corpus.
    case fit
    /// Score an embedding: `jaccard` (follow-Jaccard on edges), `linkpred` (temporal link prediction on events),
    /// `words` (word similarity and analogies).
    case benchmark
    /// Register the outputs in a feature store, with the run as lineage.
    case publish
    /// Any external program, with declared inputs and outputs.
    case command
}

/// One step of a spec.
public struct StepSpec: Sendable, Equatable {
    public var name: String
    public var kind: StepKind
    /// Earlier steps whose outputs this step reads.
    public var uses: [String]
    /// Typed parameters (`with:`).
    public var parameters: [String: JSONValue]
    /// `command` steps: the program and its arguments (`{output}`, `{input:STEP}`, `{spec_dir}` are substituted).
    public var run: [String]
    /// `command` steps: files (relative to the spec) whose content enters the cache key.
    public var inputs: [String]
    /// `command` steps: files the program must leave in `{output}`.
    public var outputs: [String]
}

/// A parsed pipeline spec (YAML).
///
/// ```yaml
/// name: slashdot-follow-graph
/// steps:
///   - name: graph
///     kind: select
///     with: {input: ../shared/data/slashdot/edges.txt, min_degree: 2}
///   - name: embed
///     kind: fit
///     uses: [graph]
///     with: {method: follow-graph-svd, dim: 64}
/// ```
public struct PipelineSpec: Sendable {
    public var name: String
    public var steps: [StepSpec]
    /// The spec's text, its SHA-256 and its directory (relative paths resolve from there).
    public var text: String
    public var checksum: String
    public var directory: URL

    /// Reads and checks a spec file.
    /// - Throws: ``PipelineError`` naming the file and what is wrong (YAML syntax, unknown keys or
    ///   kinds, a `uses` naming no earlier step, repeated step names).
    public static func load(path: String) throws -> PipelineSpec {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError("\(path): cannot read the spec")
        }
        return try parse(text, name: path, directory: URL(fileURLWithPath: path).deletingLastPathComponent())
    }

    /// Parses a spec from text; `name` stands for the file in errors.
    public static func parse(_ text: String, name: String = "<spec>", directory: URL = URL(fileURLWithPath: ".")) throws -> PipelineSpec {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch { throw PipelineError("\(name): not valid YAML: \(error)") }
        guard let top = dictionary(root) else { throw PipelineError("\(name): expected a mapping with `name` and `steps`") }
        for key in top.keys where !["name", "description", "steps"].contains(key) {
            throw PipelineError("\(name): unknown top-level key `\(key)` (known: name, description, steps)")
        }
        guard let pipelineName = top["name"] as? String, !pipelineName.isEmpty else { throw PipelineError("\(name): `name` (a string) is required") }
        guard let stepList = top["steps"] as? [Any], !stepList.isEmpty else { throw PipelineError("\(name): `steps` must be a non-empty list") }
        var steps = [StepSpec]()
        for (i, item) in stepList.enumerated() {
            let at = "\(name): step \(i + 1)"
            guard let s = dictionary(item) else { throw PipelineError("\(at): expected a mapping") }
            for key in s.keys where !["name", "kind", "uses", "with", "run", "inputs", "outputs"].contains(key) {
                throw PipelineError("\(at): unknown key `\(key)` (known: name, kind, uses, with, run, inputs, outputs)")
            }
            guard let stepName = s["name"] as? String, !stepName.isEmpty, stepName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw PipelineError("\(at): `name` must be letters, digits, - or _")
            }
            guard !steps.contains(where: { $0.name == stepName }) else { throw PipelineError("\(at): step name `\(stepName)` is used twice") }
            guard let kindText = s["kind"] as? String, let kind = StepKind(rawValue: kindText) else {
                throw PipelineError("\(at) (\(stepName)): `kind` must be one of \(StepKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let uses = try strings(s["uses"], "\(at) (\(stepName)): `uses`")
            for u in uses where !steps.contains(where: { $0.name == u }) {
                throw PipelineError("\(at) (\(stepName)): `uses` names `\(u)`, which is not an earlier step")
            }
            var parameters = [String: JSONValue]()
            if let with = s["with"] {
                guard let w = dictionary(with) else { throw PipelineError("\(at) (\(stepName)): `with` must be a mapping") }
                for (k, v) in w { parameters[k] = try json(v, "\(at) (\(stepName)): parameter `\(k)`") }
            }
            let run = try strings(s["run"], "\(at) (\(stepName)): `run`")
            if kind == .command && run.isEmpty { throw PipelineError("\(at) (\(stepName)): a command step needs `run: [program, args...]`") }
            if kind != .command && !run.isEmpty { throw PipelineError("\(at) (\(stepName)): only command steps take `run`") }
            steps.append(StepSpec(name: stepName, kind: kind, uses: uses, parameters: parameters, run: run,
                                  inputs: try strings(s["inputs"], "\(at) (\(stepName)): `inputs`"),
                                  outputs: try strings(s["outputs"], "\(at) (\(stepName)): `outputs`")))
        }
        return PipelineSpec(name: pipelineName, steps: steps, text: text, checksum: FileChecksum.sha256(bytes: Array(text.utf8)), directory: directory)
    }

    static func dictionary(_ value: Any?) -> [String: Any]? {
        if let d = value as? [String: Any] { return d }
        if let d = value as? [AnyHashable: Any] {
            var out = [String: Any]()
            for (k, v) in d { out["\(k.base)"] = v }
            return out
        }
        return nil
    }

    static func strings(_ value: Any?, _ what: String) throws -> [String] {
        guard let value else { return [] }
        if let s = value as? String { return [s] }
        guard let list = value as? [Any] else { throw PipelineError("\(what) must be a list of strings") }
        return try list.map { item in
            if let s = item as? String { return s }
            if let i = item as? Int { return String(i) }
            if let d = item as? Double { return String(d) }
            throw PipelineError("\(what) must be a list of strings")
        }
    }

    static func json(_ value: Any, _ what: String) throws -> JSONValue {
        switch value {
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let d as Double: return .double(d)
        case let s as String: return .string(s)
        case let list as [Any]: return .array(try list.map { try json($0, what) })
        default:
            if let d = dictionary(value) {
                var out = [String: JSONValue]()
                for (k, v) in d { out[k] = try json(v, what) }
                return .object(out)
            }
            throw PipelineError("\(what): unsupported value \(value)")
        }
    }
}

/// A step's parameters with typed accessors; ``finish()`` rejects the keys no accessor asked for.
public struct Parameters {
    let step: String
    let values: [String: JSONValue]
    private(set) var used = Set<String>()

    public init(step: String, values: [String: JSONValue]) { self.step = step; self.values = values }

    func failure(_ key: String, _ expected: String) -> PipelineError {
        PipelineError("step `\(step)`: parameter `\(key)` must be \(expected), got \(values[key].map { "\($0)" } ?? "nothing")", step: step)
    }

    public mutating func string(_ key: String, default value: String? = nil) throws -> String {
        used.insert(key)
        switch values[key] {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case nil: if let value { return value }; throw PipelineError("step `\(step)`: parameter `\(key)` is required", step: step)
        default: throw failure(key, "a string")
        }
    }

    public mutating func int(_ key: String, default value: Int) throws -> Int {
        used.insert(key)
        switch values[key] {
        case .int(let i)?: return Int(i)
        case nil: return value
        default: throw failure(key, "an integer")
        }
    }

    public mutating func bool(_ key: String, default value: Bool) throws -> Bool {
        used.insert(key)
        switch values[key] {
        case .bool(let b)?: return b
        case nil: return value
        default: throw failure(key, "true or false")
        }
    }

    public mutating func choice(_ key: String, _ options: [String], default value: String? = nil) throws -> String {
        let s = try string(key, default: value)
        guard options.contains(s) else { throw failure(key, "one of \(options.joined(separator: ", "))") }
        return s
    }

    public mutating func stringList(_ key: String, default value: [String]) throws -> [String] {
        used.insert(key)
        switch values[key] {
        case nil: return value
        case .string(let s)?: return [s]
        case .array(let items)?:
            return try items.map { if case .string(let s) = $0 { return s }; throw failure(key, "a list of strings") }
        default: throw failure(key, "a list of strings")
        }
    }

    /// Throws for any parameter no accessor read (a typo, or a parameter of another step kind).
    public func finish() throws {
        if let unknown = values.keys.sorted().first(where: { !used.contains($0) }) {
            throw PipelineError("step `\(step)`: unknown parameter `\(unknown)` (known: \(used.sorted().joined(separator: ", ")))", step: step)
        }
    }
}
