import LinearAlgebra

/// One cross-validation split: sample indices to train on and to test on (each sorted).
public struct Fold: Sendable, Equatable {
    /// Training sample indices, ascending.
    public let train: [Int]
    /// Test sample indices, ascending.
    public let test: [Int]
}

/// Seeded stratified k-fold splits, for single-label and multi-label data.
///
/// - Single label (``split(classes:)``): each class's samples are shuffled, the classes are
///   concatenated, and the `i`-th sample of that sequence goes to fold `i mod k`; every fold then
///   holds `floor` or `ceil` of `1/k` of every class, and fold sizes differ by at most one.
/// - Multi-label (``split(labelSets:)``): iterative stratification (Sechidis, Tsoumakas and
///   Vlahavas 2011): repeatedly take the label with the fewest samples not yet assigned, and give
///   each of its unassigned samples (in shuffled order) to the fold that most lacks that label,
///   breaking ties by the fold that most lacks samples overall, then at random. Samples without
///   labels go to the folds that most lack samples. Rare labels are thus spread first.
///
/// The same seed gives the same folds on every platform (`Xoshiro256`).
public struct StratifiedKFold: Sendable {
    /// Number of folds, `>= 2`.
    public let folds: Int
    /// Seed of the shuffles.
    public let seed: UInt64

    /// A splitter into `folds` folds with shuffles seeded by `seed`.
    public init(folds: Int = 5, seed: UInt64 = 0) {
        self.folds = folds
        self.seed = seed
    }

    func makeFolds(_ assignment: [Int]) -> [Fold] {
        var tests = [[Int]](repeating: [], count: folds)
        for (i, f) in assignment.enumerated() { tests[f].append(i) }
        return (0..<folds).map { f in
            Fold(train: assignment.indices.filter { assignment[$0] != f }, test: tests[f])
        }
    }

    func check(count: Int) throws {
        guard folds >= 2 else { throw EvaluationError("StratifiedKFold: needs at least 2 folds, got \(folds)") }
        guard count >= folds else { throw EvaluationError("StratifiedKFold: \(count) samples cannot fill \(folds) folds") }
    }

    /// Folds for samples with one class each (`classes[i]` is sample `i`'s class, any integers).
    /// Cost: O(n log n).
    /// - Throws: ``EvaluationError`` if `folds < 2` or there are fewer samples than folds.
    public func split(classes: [Int]) throws -> [Fold] {
        try check(count: classes.count)
        var rng = Xoshiro256(seed: seed)
        var members = [Int: [Int]]()
        for (i, c) in classes.enumerated() { members[c, default: []].append(i) }
        var assignment = [Int](repeating: 0, count: classes.count)
        var position = 0
        for c in members.keys.sorted() {
            var list = members[c]!
            rng.shuffle(&list)
            for i in list { assignment[i] = position % folds; position += 1 }
        }
        return makeFolds(assignment)
    }

    /// scikit-learn 1.9's `StratifiedKFold(n_splits: folds, shuffle: True, random_state: seed)`
    /// test-fold number of every sample (`classes[i]` is sample `i`'s class, any integers), with
    /// numpy's `RandomState(seed)` (``MersenneTwister``) as its random source, so that the same
    /// samples in the same order get scikit-learn's folds exactly.
    ///
    /// Classes are numbered by first appearance in `classes`; fold `f` gets, of class `k`, as many
    /// samples as the sorted class numbers hold at positions `f, f + folds, f + 2 folds, ...`; then
    /// for each class in that numbering, the fold numbers `0, ..., 0, 1, ..., folds-1` (each
    /// repeated by its count) are shuffled and handed to the class's samples in sample order.
    /// Cost: O(n + classes * folds).
    /// - Throws: ``EvaluationError`` if `folds < 2`, there are fewer samples than folds, every
    ///   class has fewer samples than folds (scikit-learn refuses too), or `seed >= 2^32`
    ///   (numpy's limit).
    public func scikitLearnTestFolds(classes: [Int]) throws -> [Int] {
        try check(count: classes.count)
        guard let seed32 = UInt32(exactly: seed) else {
            throw EvaluationError("StratifiedKFold: scikit-learn's folds need a seed below 2^32 (numpy's RandomState), got \(seed)")
        }
        var code = [Int: Int](), encoded = [Int]()
        encoded.reserveCapacity(classes.count)
        for c in classes {
            if code[c] == nil { code[c] = code.count }
            encoded.append(code[c]!)
        }
        var counts = [Int](repeating: 0, count: code.count)
        for k in encoded { counts[k] += 1 }
        guard counts.contains(where: { $0 >= folds }) else {
            throw EvaluationError("StratifiedKFold: \(folds) folds is more than the samples of every class (largest \(counts.max() ?? 0))")
        }
        var members = [[Int]](repeating: [], count: counts.count)
        for (i, k) in encoded.enumerated() { members[k].append(i) }
        var rng = MersenneTwister(seed: seed32)
        var testFold = [Int](repeating: 0, count: classes.count)
        var offset = 0   // position of the class's first sample in the sorted class numbers
        for k in 0..<counts.count {
            // allocation[f] = positions p in offset ..< offset + counts[k] with p % folds == f.
            var foldsForClass = [Int]()
            foldsForClass.reserveCapacity(counts[k])
            for f in 0..<folds {
                let first = offset + (f - offset % folds + folds) % folds
                let allocated = first < offset + counts[k] ? (offset + counts[k] - 1 - first) / folds + 1 : 0
                foldsForClass.append(contentsOf: repeatElement(f, count: allocated))
            }
            rng.shuffle(&foldsForClass)
            for (i, f) in zip(members[k], foldsForClass) { testFold[i] = f }
            offset += counts[k]
        }
        return testFold
    }

    /// The folds of ``scikitLearnTestFolds(classes:)`` (scikit-learn's `StratifiedKFold.split`
    /// with `shuffle=True`: fold `f` tests the samples numbered `f`).
    /// - Throws: as ``scikitLearnTestFolds(classes:)``.
    public func scikitLearnSplit(classes: [Int]) throws -> [Fold] {
        makeFolds(try scikitLearnTestFolds(classes: classes))
    }

    /// Folds for multi-label samples (`labelSets[i]` lists sample `i`'s labels, any integers;
    /// may be empty), by iterative stratification.
    /// Cost: O(total labels * folds + L^2 + n * folds).
    /// - Throws: ``EvaluationError`` if `folds < 2` or there are fewer samples than folds.
    public func split(labelSets: [[Int]]) throws -> [Fold] {
        try check(count: labelSets.count)
        let n = labelSets.count
        var rng = Xoshiro256(seed: seed)
        // Dense label numbering.
        let labelValues = Set(labelSets.joined()).sorted()
        var labelIndex = [Int: Int]()
        for (k, v) in labelValues.enumerated() { labelIndex[v] = k }
        let sets = labelSets.map { Array(Set($0.map { labelIndex[$0]! })) }
        let labelCount = labelValues.count
        var members = [[Int]](repeating: [], count: labelCount)
        var order = Array(0..<n)
        rng.shuffle(&order)
        for i in order { for l in sets[i] { members[l].append(i) } }
        var remaining = members.map(\.count)
        // Desired counts per fold: overall and per label (equal fold proportions).
        var desired = [Double](repeating: Double(n) / Double(folds), count: folds)
        var desiredLabel = (0..<labelCount).map { l in [Double](repeating: Double(members[l].count) / Double(folds), count: folds) }
        var assignment = [Int](repeating: -1, count: n)
        func assign(_ i: Int, to f: Int) {
            assignment[i] = f
            desired[f] -= 1
            for l in sets[i] { desiredLabel[l][f] -= 1; remaining[l] -= 1 }
        }
        func bestFold(_ score: (Int) -> (Double, Double)) -> Int {
            var best = [Int]()
            var bestScore = (-Double.infinity, -Double.infinity)
            for f in 0..<folds {
                let s = score(f)
                if s > bestScore { bestScore = s; best = [f] } else if s == bestScore { best.append(f) }
            }
            return best.count == 1 ? best[0] : best[rng.nextInt(below: best.count)]
        }
        while true {
            var label = -1
            for l in 0..<labelCount where remaining[l] > 0 && (label < 0 || remaining[l] < remaining[label]) { label = l }
            if label < 0 { break }
            for i in members[label] where assignment[i] < 0 {
                assign(i, to: bestFold { (desiredLabel[label][$0], desired[$0]) })
            }
        }
        for i in order where assignment[i] < 0 {
            assign(i, to: bestFold { (desired[$0], 0) })
        }
        return makeFolds(assignment)
    }
}
