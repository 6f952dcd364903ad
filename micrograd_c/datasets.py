"""Toy data sets for the demo, without scikit-learn.

make_moons draws exactly the numbers scikit-learn's make_moons(random_state=None)
draws from NumPy's global RandomState, so demo.ipynb's `np.random.seed(1337)`
gives the notebook's data set, bit for bit. NumPy is imported inside the
function: `import micrograd_c` does not need it.
"""


def make_moons(n_samples=100, noise=None, shuffle=True):
    """Two interleaving half circles in the plane: returns (X, y).

    X has shape (n_samples, 2), float64; y holds 0 for the upper (outer) moon and
    1 for the lower (inner) one, as np.intp. n_samples is a total (the outer moon
    gets n_samples // 2 points, the inner one the rest) or a pair (n_outer, n_inner).
    Randomness comes from NumPy's global state (np.random.seed): first a shuffle
    of the row order, then Gaussian noise of standard deviation `noise` on every
    coordinate (none when noise is None).
    """
    import numpy as np

    if isinstance(n_samples, tuple):
        n_outer, n_inner = n_samples
    else:
        n_outer = n_samples // 2
        n_inner = n_samples - n_outer

    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    xs = np.append(np.cos(outer), 1 - np.cos(inner))
    ys = np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)
    X = np.vstack([xs, ys]).T
    y = np.append(np.zeros(n_outer, dtype=np.intp), np.ones(n_inner, dtype=np.intp))

    if shuffle:
        order = np.arange(n_outer + n_inner)
        np.random.shuffle(order)
        X, y = X[order], y[order]
    if noise is not None:  # noise=0.0 still draws, as scikit-learn does
        X += np.random.normal(scale=noise, size=X.shape)
    return X, y
