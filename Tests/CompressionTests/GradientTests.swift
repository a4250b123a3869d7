import Testing
import LinearAlgebra
@testable import Compression

/// Central-difference step and tolerance for Double: h = eps^(1/3) balances truncation
/// (O(h^2)) against rounding (O(eps/h)); both are then O(eps^(2/3)).
private let h = Double.pow(Double.ulpOfOne, 1.0 / 3.0)
private let tolerance = 1000 * Double.pow(Double.ulpOfOne, 2.0 / 3.0)

private func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= tolerance * max(1, abs(a), abs(b)) }

private func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64, awayFromZero: Bool = false) -> Matrix<Double> {
    var m = Matrix<Double>.gaussian(rows: rows, columns: columns, seed: seed)
    if awayFromZero { for i in m.elements.indices where abs(m.elements[i]) < 0.05 { m.elements[i] += 0.1 } }
    return m
}

/// `L = sum(R .* f())`, the scalar whose gradient with respect to f's output is R.
private func weighted(_ y: Matrix<Double>, _ r: Matrix<Double>) -> Double { y.dot(r) }

@Test func linearLayerDenseGradientsMatchFiniteDifferences() {
    var rng = Xoshiro256(seed: 3)
    var layer = Linear<Double>(inputs: 4, outputs: 3, using: &rng)
    layer.bias = [0.1, -0.2, 0.3]
    let x = randomMatrix(4, 5, seed: 4)
    let r = randomMatrix(3, 5, seed: 5)
    let (grad, dx) = layer.backward(input: .dense(x), outputGradient: r, needInputGradient: true)
    for k in layer.weight.elements.indices {
        var plus = layer, minus = layer
        plus.weight.elements[k] += h; minus.weight.elements[k] -= h
        let fd = (weighted(plus.forward(.dense(x)), r) - weighted(minus.forward(.dense(x)), r)) / (2 * h)
        #expect(close(fd, grad.weight.elements[k]), "dW[\(k)]: finite difference \(fd), backprop \(grad.weight.elements[k])")
    }
    for k in layer.bias.indices {
        var plus = layer, minus = layer
        plus.bias[k] += h; minus.bias[k] -= h
        let fd = (weighted(plus.forward(.dense(x)), r) - weighted(minus.forward(.dense(x)), r)) / (2 * h)
        #expect(close(fd, grad.bias[k]))
    }
    for k in x.elements.indices {
        var xp = x, xm = x
        xp.elements[k] += h; xm.elements[k] -= h
        let fd = (weighted(layer.forward(.dense(xp)), r) - weighted(layer.forward(.dense(xm)), r)) / (2 * h)
        #expect(close(fd, dx!.elements[k]))
    }
}

@Test func linearLayerSparseInputMatchesDenseAndFiniteDifferences() {
    var rng = Xoshiro256(seed: 6)
    let layer = Linear<Double>(inputs: 6, outputs: 3, using: &rng)
    let sparse = SparseSamples<Double>(dimension: 6, offsets: [0, 2, 2, 5], indices: [1, 4, 0, 3, 5], values: [0.5, -1.5, 2, 1, -0.25])
    let dense = sparse.densified()
    let r = randomMatrix(3, 3, seed: 7)
    let ys = layer.forward(.sparse(sparse)), yd = layer.forward(.dense(dense))
    for k in ys.elements.indices { #expect(close(ys.elements[k], yd.elements[k])) }
    let (grad, dx) = layer.backward(input: .sparse(sparse), outputGradient: r, needInputGradient: true)
    #expect(dx == nil)
    for k in layer.weight.elements.indices {
        var plus = layer, minus = layer
        plus.weight.elements[k] += h; minus.weight.elements[k] -= h
        let fd = (weighted(plus.forward(.sparse(sparse)), r) - weighted(minus.forward(.sparse(sparse)), r)) / (2 * h)
        #expect(close(fd, grad.weight.elements[k]), "sparse dW[\(k)]: \(fd) vs \(grad.weight.elements[k])")
    }
    for k in layer.bias.indices {
        var plus = layer, minus = layer
        plus.bias[k] += h; minus.bias[k] -= h
        let fd = (weighted(plus.forward(.sparse(sparse)), r) - weighted(minus.forward(.sparse(sparse)), r)) / (2 * h)
        #expect(close(fd, grad.bias[k]))
    }
}

@Test func reluGradientMatchesFiniteDifferences() {
    let x = randomMatrix(4, 3, seed: 8, awayFromZero: true)
    let r = randomMatrix(4, 3, seed: 9)
    let y = ReLU.forward(x)
    #expect(y.elements.contains(0) && y.elements.contains { $0 > 0 })
    let dx = ReLU.backward(output: y, outputGradient: r)
    for k in x.elements.indices {
        var xp = x, xm = x
        xp.elements[k] += h; xm.elements[k] -= h
        let fd = (weighted(ReLU.forward(xp), r) - weighted(ReLU.forward(xm), r)) / (2 * h)
        #expect(close(fd, dx.elements[k]))
    }
}

@Test(arguments: [(Loss.softmaxCrossEntropy, 4), (Loss.sigmoidCrossEntropy, 4), (Loss.sigmoidCrossEntropy, 1)])
func lossGradientMatchesFiniteDifferences(loss: Loss, outputs: Int) {
    var z = randomMatrix(outputs, 5, seed: 10)
    z.scale(by: 3) // include saturated logits
    let labels = outputs == 1 ? [0, 1, 1, 0, 1] : [0, 3, 1, 2, 3]
    let (_, g) = loss.evaluate(logits: z, labels: labels)
    for k in z.elements.indices {
        var zp = z, zm = z
        zp.elements[k] += h; zm.elements[k] -= h
        let fd = (loss.evaluate(logits: zp, labels: labels).loss - loss.evaluate(logits: zm, labels: labels).loss) / (2 * h)
        #expect(close(fd, g.elements[k]), "\(loss) d/dz[\(k)]: \(fd) vs \(g.elements[k])")
    }
}

@Test func lossIsStableForLargeLogits() {
    let z = Matrix<Float>(rows: [[1000, -1000], [-1000, 1000]])
    let (value, grad) = Loss.softmaxCrossEntropy.evaluate(logits: z, labels: [0, 1])
    #expect(value.isFinite && value < 1e-3)
    #expect(grad.elements.allSatisfy { $0.isFinite })
    let (sv, sg) = Loss.sigmoidCrossEntropy.evaluate(logits: Matrix<Float>(rows: [[1000, -1000]]), labels: [0, 1])
    #expect(sv.isFinite && abs(sv - 1000) < 1) // both maximally wrong by 1000
    #expect(sg.elements.allSatisfy { $0.isFinite })
}

@Test func networkBackpropagationMatchesFiniteDifferences() {
    let net = Network<Double>.mlp(inputs: 5, hidden: [4, 3], outputs: 3, seed: 11)
        .joined(with: Network<Double>.mlp(inputs: 3, hidden: [], outputs: 3, seed: 12))
    let x = randomMatrix(5, 6, seed: 13)
    let labels = [0, 1, 2, 2, 1, 0]
    let loss = Loss.softmaxCrossEntropy
    let trace = net.trace(.dense(x))
    let grads = net.gradients(input: .dense(x), trace: trace, outputGradient: loss.evaluate(logits: trace.last!, labels: labels).gradient)
    var checked = 0
    for (i, layer) in net.layers.enumerated() {
        guard case .linear(let l) = layer else { #expect(grads[i] == nil); continue }
        for k in l.weight.elements.indices {
            var plus = net, minus = net
            var lp = l, lm = l
            lp.weight.elements[k] += h; lm.weight.elements[k] -= h
            plus.layers[i] = .linear(lp); minus.layers[i] = .linear(lm)
            let fd = (loss.evaluate(logits: plus.forward(.dense(x)), labels: labels).loss
                - loss.evaluate(logits: minus.forward(.dense(x)), labels: labels).loss) / (2 * h)
            #expect(close(fd, grads[i]!.weight.elements[k]), "layer \(i) dW[\(k)]")
            checked += 1
        }
    }
    #expect(checked == 5 * 4 + 4 * 3 + 3 * 3 + 3 * 3)
}

@Test func foldedStandardizationGivesTheSameOutputs() {
    var net = Network<Double>.mlp(inputs: 3, hidden: [4], outputs: 2, seed: 14)
    let x = randomMatrix(3, 5, seed: 15)
    let mean = [0.5, -1.0, 2.0], scale = [2.0, 0.5, 4.0]
    var standardized = x
    for s in 0..<5 { for i in 0..<3 { standardized[i, s] = (x[i, s] - mean[i]) / scale[i] } }
    let expected = net.forward(.dense(standardized))
    net.foldInputStandardization(mean: mean, scale: scale)
    let got = net.forward(.dense(x))
    for k in got.elements.indices { #expect(abs(got.elements[k] - expected.elements[k]) <= 64 * Double.ulpOfOne * max(1, abs(expected.elements[k]))) }
}
