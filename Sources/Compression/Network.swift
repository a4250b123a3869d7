import Foundation
import LinearAlgebra

/// One layer of a feed-forward ``Network``.
public enum Layer<Scalar: BLASScalar>: Sendable, Equatable {
    /// A fully connected layer.
    case linear(Linear<Scalar>)
    /// An element-wise rectifier.
    case relu
}

/// A feed-forward network: a sequence of ``Linear`` and ReLU layers evaluated on batches
/// (one sample per column). The first layer must be linear, so a sparse input only ever meets
/// a linear layer.
///
/// A bottleneck model is two networks joined: a *subnetwork* `inputs -> ... -> d` ending in a
/// linear layer (its output is the embedding), and a *head* `d -> ... -> classes`; see
/// ``joined(with:)`` and ``split(at:)``.
public struct Network<Scalar: BLASScalar>: Sendable, Equatable {
    /// The layers, applied in order.
    public var layers: [Layer<Scalar>]

    /// A network from layers.
    /// - Precondition: the first layer is linear and consecutive linear layers' sizes agree.
    public init(layers: [Layer<Scalar>]) {
        if case .relu? = layers.first { preconditionFailure("Network: the first layer must be linear") }
        var width: Int? = nil
        for layer in layers {
            if case .linear(let l) = layer {
                if let w = width { precondition(w == l.inputs, "Network: a layer of \(l.inputs) inputs follows one of \(w) outputs") }
                width = l.outputs
            }
        }
        self.layers = layers
    }

    /// A multilayer perceptron `inputs -> hidden[0] -> ... -> outputs` with a ReLU after every
    /// hidden layer and none after the last (its outputs are logits or an embedding).
    /// Weights are He-initialised from `seed` (the same seed gives the same network).
    public static func mlp(inputs: Int, hidden: [Int] = [], outputs: Int, seed: UInt64) -> Network {
        var rng = Xoshiro256(seed: seed)
        var layers = [Layer<Scalar>]()
        var width = inputs
        for h in hidden {
            layers.append(.linear(Linear(inputs: width, outputs: h, using: &rng)))
            layers.append(.relu)
            width = h
        }
        layers.append(.linear(Linear(inputs: width, outputs: outputs, using: &rng)))
        return Network(layers: layers)
    }

    /// This network followed by `other` (e.g. a subnetwork and its head).
    public func joined(with other: Network) -> Network { Network(layers: layers + other.layers) }

    /// The first `count` layers, and the rest, as two networks.
    public func split(at count: Int) -> (prefix: Network, suffix: Network) {
        (Network(layers: Array(layers[..<count])), Network(layers: Array(layers[count...])))
    }

    /// Number of inputs of the first layer.
    public var inputs: Int {
        for case .linear(let l) in layers { return l.inputs }
        return 0
    }

    /// Number of outputs of the last linear layer.
    public var outputs: Int {
        for case .linear(let l) in layers.reversed() { return l.outputs }
        return 0
    }

    /// Number of trainable parameters (weights and biases).
    public var parameterCount: Int {
        layers.reduce(0) { if case .linear(let l) = $1 { return $0 + l.parameterCount }; return $0 }
    }

    /// The network's outputs for a batch, `outputs x batch`.
    /// Cost: one GEMM per linear layer (see ``Linear/forward(_:)``).
    /// - Precondition: `x.dimension == inputs`.
    public func forward(_ x: FeatureMatrix<Scalar>) -> Matrix<Scalar> {
        var current: Matrix<Scalar>? = nil
        for layer in layers {
            switch layer {
            case .linear(let l): current = l.forward(current.map { .dense($0) } ?? x)
            case .relu: current = ReLU.forward(current!)
            }
        }
        return current ?? x.denseMatrix
    }

    /// Outputs for `x` computed `batchSize` samples at a time (bounded memory).
    public func predict(_ x: FeatureMatrix<Scalar>, batchSize: Int = 4096) -> Matrix<Scalar> {
        let n = x.count
        var out = Matrix<Scalar>(rows: outputs, columns: n)
        var start = 0
        while start < n {
            let end = min(n, start + batchSize)
            let y = forward(x.gather(start..<end))
            out.elements.replaceSubrange((start * outputs)..<(end * outputs), with: y.elements)
            start = end
        }
        return out
    }

    /// The layer outputs of a forward pass (entry `i` is layer `i`'s output).
    public func trace(_ x: FeatureMatrix<Scalar>) -> [Matrix<Scalar>] {
        var outs = [Matrix<Scalar>]()
        outs.reserveCapacity(layers.count)
        for layer in layers {
            switch layer {
            case .linear(let l): outs.append(l.forward(outs.last.map { .dense($0) } ?? x))
            case .relu: outs.append(ReLU.forward(outs.last!))
            }
        }
        return outs
    }

    /// Back-propagation: the gradient of a loss with respect to every linear layer's
    /// parameters (`nil` for ReLU layers), given the input, the ``trace(_:)`` of the forward
    /// pass, and `dL/d(output)`. Cost: about twice the forward pass.
    public func gradients(input x: FeatureMatrix<Scalar>, trace: [Matrix<Scalar>],
                          outputGradient: Matrix<Scalar>) -> [LinearGradient<Scalar>?] {
        var grads = [LinearGradient<Scalar>?](repeating: nil, count: layers.count)
        var g = outputGradient
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            switch layers[i] {
            case .relu:
                g = ReLU.backward(output: trace[i], outputGradient: g)
            case .linear(let l):
                let input: FeatureMatrix<Scalar> = i == 0 ? x : .dense(trace[i - 1])
                let (grad, dx) = l.backward(input: input, outputGradient: g, needInputGradient: i > 0)
                grads[i] = grad
                if let dx { g = dx }
            }
        }
        return grads
    }

    /// Folds a fixed input standardisation `x -> (x - mean) / scale` into the first linear
    /// layer, so the network can be trained on standardised inputs and then served on raw ones
    /// at no extra cost: `W' = W diag(1/scale)`, `b' = b - W' mean`.
    /// - Precondition: the first layer is linear with `mean.count == scale.count == inputs`,
    ///   every scale nonzero.
    public mutating func foldInputStandardization(mean: [Scalar], scale: [Scalar]) {
        guard case .linear(var l) = layers[0] else { preconditionFailure("Network: first layer is not linear") }
        precondition(mean.count == l.inputs && scale.count == l.inputs, "foldInputStandardization: size mismatch")
        l.weight.scaleColumns(by: scale.map { 1 / $0 })
        let shift = l.weight.multiply(mean)
        for i in 0..<l.outputs { l.bias[i] -= shift[i] }
        layers[0] = .linear(l)
    }
}

/// The Adam optimiser (Kingma and Ba) with an optional L2 penalty `l2/2 * ||W||^2` on the
/// weights (not the biases), added to the gradient.
public struct Adam<Scalar: BLASScalar>: Sendable {
    /// Step size.
    public var learningRate: Scalar
    /// Decay of the first-moment average.
    public var beta1: Scalar = 0.9
    /// Decay of the second-moment average.
    public var beta2: Scalar = 0.999
    /// Added to the root second moment.
    public var epsilon: Scalar = 1e-8
    /// L2 penalty coefficient on weights.
    public var l2: Scalar
    /// Steps taken.
    public private(set) var step = 0
    private var moments: [(m: [Scalar], v: [Scalar], mb: [Scalar], vb: [Scalar])?] = []

    /// An optimiser with the given step size and L2 coefficient.
    public init(learningRate: Scalar = 1e-3, l2: Scalar = 0) {
        self.learningRate = learningRate
        self.l2 = l2
    }

    /// One Adam update of every linear layer of `network` with `gradients` (as returned by
    /// ``Network/gradients(input:trace:outputGradient:)``). Cost: O(parameters).
    public mutating func update(_ network: inout Network<Scalar>, gradients: [LinearGradient<Scalar>?]) {
        if moments.isEmpty {
            moments = network.layers.map {
                guard case .linear(let l) = $0 else { return nil }
                let z = [Scalar](repeating: 0, count: l.weight.elements.count), zb = [Scalar](repeating: 0, count: l.bias.count)
                return (z, z, zb, zb)
            }
        }
        step += 1
        let c1 = 1 - Scalar.pow(beta1, Scalar(step)), c2 = 1 - Scalar.pow(beta2, Scalar(step))
        let lr = learningRate * c2.squareRoot() / c1
        let (b1, b2, eps, decay) = (beta1, beta2, epsilon, l2)
        for i in network.layers.indices {
            guard case .linear(var layer) = network.layers[i], let grad = gradients[i], var state = moments[i] else { continue }
            // Release the stored copies so the updates below happen in place (no copy-on-write).
            network.layers[i] = .relu
            moments[i] = nil
            func apply(_ w: UnsafeMutableBufferPointer<Scalar>, _ g: UnsafeBufferPointer<Scalar>,
                       _ m: UnsafeMutableBufferPointer<Scalar>, _ v: UnsafeMutableBufferPointer<Scalar>, _ l2: Scalar) {
                for k in 0..<w.count {
                    let gk = g[k] + l2 * w[k]
                    m[k] = b1 * m[k] + (1 - b1) * gk
                    v[k] = b2 * v[k] + (1 - b2) * gk * gk
                    w[k] -= lr * m[k] / (v[k].squareRoot() + eps)
                }
            }
            layer.weight.elements.withUnsafeMutableBufferPointer { w in
                grad.weight.elements.withUnsafeBufferPointer { g in
                    state.m.withUnsafeMutableBufferPointer { m in
                        state.v.withUnsafeMutableBufferPointer { v in apply(w, g, m, v, decay) }
                    }
                }
            }
            layer.bias.withUnsafeMutableBufferPointer { w in
                grad.bias.withUnsafeBufferPointer { g in
                    state.mb.withUnsafeMutableBufferPointer { m in
                        state.vb.withUnsafeMutableBufferPointer { v in apply(w, g, m, v, 0) }
                    }
                }
            }
            moments[i] = state
            network.layers[i] = .linear(layer)
        }
    }
}
