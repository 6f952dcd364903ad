"""micrograd's own test/test_engine.py, reworded, with the import changed to micrograd_c: the
sanity check and the more-ops check against PyTorch in float64. Skipped without torch."""

import pytest


@pytest.fixture(scope="module")
def torch():
    # imported here, not at collection: torch adds a great many objects to the process, so
    # conftest.py also runs this module last
    try:
        return pytest.importorskip("torch")
    except OSError as exc:  # a wheel that imports but cannot load its libraries
        pytest.skip(f"torch is installed but unusable: {exc}")


TOL = 1e-6  # micrograd's own tolerance for the more-ops check


def _leaf(torch, x):
    t = torch.tensor([x], dtype=torch.float64)
    t.requires_grad = True
    return t


def _sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def _more_ops(a, b):
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_sanity_check(torch, impl):
    x_mg = impl.Value(-4.0)
    y_mg = _sanity(x_mg)
    y_mg.backward()

    x_pt = _leaf(torch, -4.0)
    y_pt = _sanity(x_pt)
    y_pt.backward()

    assert y_mg.data == y_pt.data.item()
    assert x_mg.grad == x_pt.grad.item()


def test_more_ops(torch, impl):
    a_mg, b_mg = impl.Value(-4.0), impl.Value(2.0)
    g_mg = _more_ops(a_mg, b_mg)
    g_mg.backward()

    a_pt, b_pt = _leaf(torch, -4.0), _leaf(torch, 2.0)
    g_pt = _more_ops(a_pt, b_pt)
    g_pt.backward()

    assert abs(g_mg.data - g_pt.data.item()) < TOL
    assert abs(a_mg.grad - a_pt.grad.item()) < TOL
    assert abs(b_mg.grad - b_pt.grad.item()) < TOL


@pytest.mark.c_only
@pytest.mark.parametrize("name", ["tanh", "exp"])
@pytest.mark.parametrize("x", [-1.0, 0.123, 2.0])
def test_unary_ops_against_torch(torch, impl, name, x):
    v = impl.Value(x)
    out = getattr(v, name)()
    out.backward()
    t = _leaf(torch, x)
    out_pt = getattr(t, name)()
    out_pt.backward()
    assert abs(out.data - out_pt.item()) < 1e-12
    assert abs(v.grad - t.grad.item()) < 1e-12
