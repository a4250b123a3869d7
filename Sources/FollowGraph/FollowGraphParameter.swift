// Names of a follow-graph run's settings in errors, warnings and advice: the library's own
// parameters by default, a tool's flags when the tool maps them (FollowGraphRunOptions.parameterNames).

/// A setting of a follow-graph run that a message may tell the user to change. Messages name it
/// by its library parameter (``libraryName``) unless a tool maps it to its own flag.
public enum FollowGraphParameter: String, Sendable, Hashable, CaseIterable {
    /// ``FollowGraphSVDConfiguration/dimension``.
    case dimension
    /// ``NodeSelection/maxNodes`` (``FollowGraphSVDConfiguration/selection``).
    case maxNodes
    /// ``NodeSelection/minFollowers``.
    case minFollowers
    /// ``NodeSelection/minFollowing``.
    case minFollowing
    /// ``FollowGraphSVDConfiguration/directed`` set to false.
    case undirected
    /// The threads of products and BLAS (`Parallel.threads`, `BLAS.threads`).
    case threads
    /// Converting the edge list to a binary CSR file that is memory-mapped (``FollowGraphRun/writeCSR(_:to:log:)``).
    case binaryCSR

    /// The parameter as the library spells it.
    public var libraryName: String {
        switch self {
        case .dimension: return "dimension"
        case .maxNodes: return "selection.maxNodes"
        case .minFollowers: return "selection.minFollowers"
        case .minFollowing: return "selection.minFollowing"
        case .undirected: return "directed = false"
        case .threads: return "Parallel.threads and BLAS.threads"
        case .binaryCSR: return "FollowGraphRun.writeCSR"
        }
    }
}

/// How messages name each ``FollowGraphParameter``: a tool's flags, e.g. `[.dimension: "--dim"]`;
/// parameters without an entry get their ``FollowGraphParameter/libraryName``.
public typealias FollowGraphParameterNames = [FollowGraphParameter: String]

extension Dictionary where Key == FollowGraphParameter, Value == String {
    /// The name of `parameter` in messages.
    public func name(_ parameter: FollowGraphParameter) -> String { self[parameter] ?? parameter.libraryName }
}

/// A message whose text names run settings (``FollowGraphParameter``), rendered with the
/// library's names or a tool's: `"\(parameter: .dimension) must be at least 1"`.
public struct FollowGraphMessage: ExpressibleByStringInterpolation, Sendable, Equatable {
    enum Piece: Sendable, Equatable { case text(String), parameter(FollowGraphParameter) }
    var pieces: [Piece]

    public init(stringLiteral value: String) { pieces = [.text(value)] }
    public init(stringInterpolation: StringInterpolation) { pieces = stringInterpolation.pieces }

    /// The text with each parameter named by `names`.
    public func rendered(_ names: FollowGraphParameterNames = [:]) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): return text
            case .parameter(let p): return names.name(p)
            }
        }.joined()
    }

    /// The parameters the message names, in order.
    public var parameters: [FollowGraphParameter] {
        pieces.compactMap { if case .parameter(let p) = $0 { return p } else { return nil } }
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var pieces: [Piece] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { pieces.append(.text(literal)) }
        public mutating func appendInterpolation<T>(_ value: T) { pieces.append(.text(String(describing: value))) }
        public mutating func appendInterpolation(parameter: FollowGraphParameter) { pieces.append(.parameter(parameter)) }
    }
}

/// An error in a follow-graph run's input or settings, or in the generator's parameters or files.
/// Settings are named by their library parameters; ``naming(_:)`` renames them (a tool's flags).
public struct FollowGraphError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, with settings named as ``naming(_:)`` last chose (library names at first).
    public let problem: String
    /// The message, for renaming.
    public let message: FollowGraphMessage

    /// Creates an error saying `problem`.
    public init(_ problem: String) { self.init(message: FollowGraphMessage(stringLiteral: problem)) }
    /// Creates an error whose message may name settings (`"\(parameter: .dimension) ..."`).
    public init(message: FollowGraphMessage, names: FollowGraphParameterNames = [:]) {
        self.message = message
        self.problem = message.rendered(names)
    }

    /// The same error with its settings named by `names` (e.g. a tool's flags).
    public func naming(_ names: FollowGraphParameterNames) -> FollowGraphError { FollowGraphError(message: message, names: names) }

    /// The problem.
    public var description: String { problem }
}
