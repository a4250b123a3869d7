import Foundation

/// The communication volume of ``DistributedCSR`` products, predicted from the column degrees,
/// to be checked against the counters and extrapolated to other sizes (README "Distributed (MPI)").
///
/// Per product with a `k`-column block of `S`-byte scalars, rank `p` *sends* `k S e_p` bytes in
/// `A X` (and receives as much in `A' X`), where `e_p` counts the pairs (column `j` owned by
/// `p`, other rank `q` with a nonzero in column `j`), and *receives* `k S g_p` bytes in `A X`
/// (sends as much in `A' X`), `g_p` being its remote ghost columns; `sum e_p = sum g_p`. When
/// the rows of a column's `d_j` nonzeros fall on ranks independently of the column (rows
/// partitioned by id, not by graph structure), rank `q != p` holds none of them with
/// probability `(1 - 1/P)^d_j`, so
///
///     E[e_p] = (P - 1) * sum over columns j of p of (1 - (1 - 1/P)^d_j).
///
/// `1 - (1 - 1/P)^d` is concave in `d`, so for a given number of nonzeros the most traffic
/// comes with equal degrees: `sum_p e_p <= n (P - 1) (1 - (1 - 1/P)^(nnz / n))`.
public enum CommunicationModel {
    /// `E[e_p]` for the columns of one rank with the given degrees, on `ranks` ranks.
    public static func expectedExports(columnDegrees: [Int], ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        let keep = 1 - 1 / Double(ranks)
        return Double(ranks - 1) * columnDegrees.reduce(0) { $0 + (1 - pow(keep, Double($1))) }
    }

    /// The bound for `n` columns and `nonzeros` entries spread evenly (rows exchanged per
    /// product over all ranks).
    public static func exportsBound(columns n: Double, nonzeros: Double, ranks: Int) -> Double {
        n * Double(ranks - 1) * (1 - pow(1 - 1 / Double(ranks), nonzeros / n))
    }
}
