"""The numpy copy of our undirected ProNE-style block `E` (SpectralEmbedding.propagated, hops 0),
shared by the quality prototypes (prototype_window.py, prototype_blocks.py): ProNE's proximity
SVD, the Chebyshev band-pass of L = I - (D+I)^-1 (A+I) (mu 0.2, theta 0.5), (A+I), thin SVD,
Q R^1/2, rows of unit length."""
import numpy as np
import scipy.sparse as sp
from scipy.special import iv
from sklearn.utils.extmath import randomized_svd


def unit(X):
    r = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(r > 0, r, 1)


def prone_block(A, seed, dim=64, q=5):
    """(E, E0) for the symmetric 0/1 CSR adjacency A: E the filtered block, E0 the proximity
    SVD's U S^1/2 before the filter (both with unit rows)."""
    n = A.shape[0]
    d = np.asarray(A.sum(1)).ravel()
    inv = np.where(d > 0, 1 / np.maximum(d, 1e-300), 0)
    W = sp.diags(inv) @ A
    neg = np.asarray(W.sum(0)).ravel() ** 0.75; neg /= neg.sum()
    M = W.tocoo(); data = np.log(M.data) - np.log(neg[M.col])
    M = sp.csr_matrix((data, (M.row, M.col)), shape=(n, n))
    u, s, _ = randomized_svd(M, dim, n_oversamples=10, n_iter=q, random_state=seed)
    E0 = unit(u * np.sqrt(s))
    Al = (A + sp.eye(n)).tocsr(); dinv = 1 / np.asarray(Al.sum(1)).ravel()
    P = lambda X: dinv[:, None] * (Al @ X)
    mu, th = 0.2, 0.5
    sh = lambda X: (1 - mu) * X - P(X)
    step = lambda X: 0.5 * sh(sh(X)) - X
    c = [iv(0, th)] + [2 * iv(k, th) * (-1) ** k for k in range(1, 10) if iv(k, th) >= 1e-6 * iv(0, th)]
    prev, cur = E0, step(E0); Y = c[0] * E0 + c[1] * cur
    for k in range(2, len(c)):
        nxt = 2 * step(cur) - prev; Y += c[k] * nxt; prev, cur = cur, nxt
    E1 = Al @ (E0 - Y)
    Q, R = np.linalg.qr(E1); uu, ss, _ = np.linalg.svd(R)
    return unit((Q @ uu) * np.sqrt(ss)), E0


def load_undirected(load_graph_csr, load_labels, edges, labels):
    """The judge's graph and labels (its own loaders passed in), symmetrised: (A, n, nodes, labs,
    classes, d, S) with d the degrees and S = (D+I)^-1/2 (A+I) (D+I)^-1/2."""
    A, index, _ = load_graph_csr(edges)
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    n = A.shape[0]
    nodes, labs, classes, _ = load_labels(labels, index)
    d = np.asarray(A.sum(1)).ravel()
    dl = 1 / np.sqrt(d + 1)
    S = (sp.diags(dl) @ (A + sp.eye(n)) @ sp.diags(dl)).tocsr()
    return A, n, nodes, labs, classes, d, S
