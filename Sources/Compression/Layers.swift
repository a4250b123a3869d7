import LinearAlgebra

/// A fully connected layer `y = W x + b` on a batch: `x` is `inputs x batch` (one sample per
/// column), `W` is `outputs x inputs`, `y` is `outputs x batch`. Forward and backward are GEMMs.
public struct Linear<Scalar: BLASScalar>: Sendable, Equatable {
    /// The weights, `outputs x inputs`.
    public var weight: Matrix<Scalar>
    /// The biases, one per output.
    public var bias: [Scalar]

    /// Number of inputs.
    public var inputs: Int { weight.columns }
    /// Number of outputs.
    public var outputs: Int { weight.rows }
    /// Number of parameters, `outputs * (inputs + 1)`.
    public var parameterCount: Int { weight.elements.count + bias.count }

    /// A layer with the given weights and biases.
    /// - Precondition: `bias.count == weight.rows`.
    public init(weight: Matrix<Scalar>, bias: [Scalar]) {
        precondition(bias.count == weight.rows, "Linear: \(bias.count) biases for \(weight.rows) outputs")
        self.weight = weight
        self.bias = bias
    }

    /// He-initialised weights (normal, variance `2 / inputs`) and zero biases, drawn from `rng`.
    public init(inputs: Int, outputs: Int, using rng: inout Xoshiro256) {
        var w = Matrix<Scalar>.gaussian(rows: outputs, columns: inputs, using: &rng)
        w.scale(by: Scalar((2.0 / Double(max(inputs, 1))).squareRoot()))
        self.init(weight: w, bias: [Scalar](repeating: 0, count: outputs))
    }

    /// `W x + b` for a batch. Dense input: one GEMM, O(outputs * inputs * batch).
    /// Sparse input: one column of `W` added per stored entry, O(outputs * entries).
    /// - Precondition: `x.dimension == inputs`.
    public func forward(_ x: FeatureMatrix<Scalar>) -> Matrix<Scalar> {
        precondition(x.dimension == inputs, "Linear.forward: input dimension \(x.dimension), layer takes \(inputs)")
        let n = x.count, m = outputs
        var y = Matrix<Scalar>(rows: m, columns: n)
        y.elements.withUnsafeMutableBufferPointer { py in
            bias.withUnsafeBufferPointer { pb in
                for s in 0..<n { (py.baseAddress! + s * m).update(from: pb.baseAddress!, count: m) }
            }
        }
        switch x {
        case .dense(let a):
            Matrix.gemm(weight, .none, a, .none, alpha: 1, beta: 1, into: &y)
        case .sparse(let sp):
            weight.elements.withUnsafeBufferPointer { pw in
                y.elements.withUnsafeMutableBufferPointer { py in
                    accumulateEntries(sp, samples: py.baseAddress!, features: UnsafeMutablePointer(mutating: pw.baseAddress!),
                                      intoSamples: true)
                }
            }
        }
        return y
    }

    /// For each stored entry `(s, j, v)` of `sp`: `samples[s] += v features[j]` (`intoSamples`,
    /// the forward product `W x`) or `features[j] += v samples[s]` (the weight gradient `dy x'`),
    /// where `samples` and `features` hold `outputs`-vectors end to end. Only the side written
    /// to is modified.
    private func accumulateEntries(_ sp: SparseSamples<Scalar>, samples: UnsafeMutablePointer<Scalar>,
                                   features: UnsafeMutablePointer<Scalar>, intoSamples: Bool) {
        let m = outputs
        for s in 0..<sp.count {
            let sample = samples + s * m
            for k in sp.offsets[s]..<sp.offsets[s + 1] {
                let feature = features + Int(sp.indices[k]) * m
                let (dst, src) = intoSamples ? (sample, feature) : (feature, sample)
                let v = sp.values[k]
                for i in 0..<m { dst[i] += v * src[i] }
            }
        }
    }

    /// The backward pass: given the input `x` of ``forward(_:)`` and `dy = dL/dy`, returns
    /// `dL/dW`, `dL/db` and, when `needInputGradient`, `dL/dx = W' dy` (dense only; a sparse
    /// input is a leaf and gets no gradient).
    /// - Complexity: two GEMMs for a dense input; O(outputs * (inputs + entries)) sparse.
    public func backward(input x: FeatureMatrix<Scalar>, outputGradient dy: Matrix<Scalar>,
                         needInputGradient: Bool) -> (gradient: LinearGradient<Scalar>, input: Matrix<Scalar>?) {
        precondition(dy.rows == outputs && dy.columns == x.count, "Linear.backward: gradient shape mismatch")
        let m = outputs, n = x.count
        var db = [Scalar](repeating: 0, count: m)
        dy.elements.withUnsafeBufferPointer { pdy in
            for s in 0..<n {
                let col = pdy.baseAddress! + s * m
                for i in 0..<m { db[i] += col[i] }
            }
        }
        var dw = Matrix<Scalar>(rows: m, columns: inputs)
        var dx: Matrix<Scalar>? = nil
        switch x {
        case .dense(let a):
            Matrix.gemm(dy, .none, a, .transpose, into: &dw)
            if needInputGradient { dx = Matrix.product(weight, .transpose, dy) }
        case .sparse(let sp):
            dy.elements.withUnsafeBufferPointer { pdy in
                dw.elements.withUnsafeMutableBufferPointer { pdw in
                    accumulateEntries(sp, samples: UnsafeMutablePointer(mutating: pdy.baseAddress!), features: pdw.baseAddress!,
                                      intoSamples: false)
                }
            }
        }
        return (LinearGradient(weight: dw, bias: db), dx)
    }
}

/// The gradient of a loss with respect to one ``Linear`` layer's parameters.
public struct LinearGradient<Scalar: BLASScalar>: Sendable {
    /// `dL/dW`, the shape of the weights.
    public var weight: Matrix<Scalar>
    /// `dL/db`.
    public var bias: [Scalar]
}

/// The rectifier `max(0, x)`, element-wise.
public enum ReLU {
    /// `max(0, x)` element-wise. Cost: O(elements).
    public static func forward<Scalar: BLASScalar>(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
        var y = x
        y.elements.withUnsafeMutableBufferPointer { p in
            for i in p.indices where !(p[i] > 0) { p[i] = 0 }
        }
        return y
    }

    /// `dL/dx = dL/dy * [y > 0]`, from the forward output `y`. Cost: O(elements).
    public static func backward<Scalar: BLASScalar>(output y: Matrix<Scalar>, outputGradient dy: Matrix<Scalar>) -> Matrix<Scalar> {
        precondition(y.rows == dy.rows && y.columns == dy.columns, "ReLU.backward: shape mismatch")
        var dx = dy
        y.elements.withUnsafeBufferPointer { py in
            dx.elements.withUnsafeMutableBufferPointer { p in
                for i in p.indices where !(py[i] > 0) { p[i] = 0 }
            }
        }
        return dx
    }
}

/// A training loss on a batch of logits (`outputs x batch`) and integer labels, averaged over
/// the batch.
public enum Loss: String, Sendable, Codable {
    /// Softmax then cross-entropy with the label's class: multi-class classification.
    /// Needs one output per class.
    case softmaxCrossEntropy
    /// Element-wise sigmoid cross-entropy against the label's one-hot vector. With one output
    /// it is binary logistic loss, the label being 0 or 1.
    case sigmoidCrossEntropy

    /// The mean loss over the batch and its gradient with respect to the logits.
    /// Numerically stable (log-sum-exp with the maximum subtracted; `log(1 + e^-|z|)`).
    /// - Precondition: `labels.count == logits.columns`; each label is a valid class (for a
    ///   one-output sigmoid, 0 or 1). Cost: O(elements).
    public func evaluate<Scalar: BLASScalar>(logits: Matrix<Scalar>, labels: [Int]) -> (loss: Scalar, gradient: Matrix<Scalar>) {
        let k = logits.rows, n = logits.columns
        precondition(labels.count == n, "Loss: \(labels.count) labels for \(n) samples")
        var grad = Matrix<Scalar>(rows: k, columns: n)
        var total: Scalar = 0
        let inv = 1 / Scalar(max(n, 1))
        logits.elements.withUnsafeBufferPointer { pz in
            grad.elements.withUnsafeMutableBufferPointer { pg in
                for s in 0..<n {
                    let z = pz.baseAddress! + s * k, g = pg.baseAddress! + s * k
                    let y = labels[s]
                    switch self {
                    case .softmaxCrossEntropy:
                        precondition(y >= 0 && y < k, "Loss: label \(y) out of 0..<\(k)")
                        var mx = z[0]
                        for i in 1..<k { mx = Swift.max(mx, z[i]) }
                        var sum: Scalar = 0
                        for i in 0..<k { let e = Scalar.exp(z[i] - mx); g[i] = e; sum += e }
                        total += Scalar.log(sum) + mx - z[y]
                        for i in 0..<k { g[i] = g[i] / sum * inv }
                        g[y] -= inv
                    case .sigmoidCrossEntropy:
                        precondition(k == 1 ? (y == 0 || y == 1) : (y >= 0 && y < k), "Loss: label \(y) invalid for \(k) sigmoid outputs")
                        for i in 0..<k {
                            let t: Scalar = (k == 1 ? y == 1 : y == i) ? 1 : 0
                            let zi = z[i]
                            total += Swift.max(zi, 0) - zi * t + Scalar.log(1 + Scalar.exp(-Swift.abs(zi)))
                            g[i] = (Loss.sigmoid(zi) - t) * inv
                        }
                    }
                }
            }
        }
        return (total * inv, grad)
    }

    /// Class scores from logits: softmax probabilities per column, or element-wise sigmoids.
    public func probabilities<Scalar: BLASScalar>(_ logits: Matrix<Scalar>) -> Matrix<Scalar> {
        var p = logits
        let k = p.rows
        p.elements.withUnsafeMutableBufferPointer { pp in
            switch self {
            case .sigmoidCrossEntropy:
                for i in pp.indices { pp[i] = Loss.sigmoid(pp[i]) }
            case .softmaxCrossEntropy:
                guard k > 0 else { return }
                for s in 0..<(pp.count / k) {
                    let z = pp.baseAddress! + s * k
                    var mx = z[0]
                    for i in 1..<k { mx = Swift.max(mx, z[i]) }
                    var sum: Scalar = 0
                    for i in 0..<k { z[i] = Scalar.exp(z[i] - mx); sum += z[i] }
                    for i in 0..<k { z[i] /= sum }
                }
            }
        }
        return p
    }

    static func sigmoid<Scalar: BLASScalar>(_ z: Scalar) -> Scalar {
        z >= 0 ? 1 / (1 + Scalar.exp(-z)) : { let e = Scalar.exp(z); return e / (1 + e) }()
    }
}
