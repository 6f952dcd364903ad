"""The installed package's face: one version string (the installed metadata's and
pyproject.toml's), the typing files it ships, one interpreter (a subinterpreter's import is
refused, the main one untouched), and importlib.reload of any of its modules (a model trained
before and after gives the same loss; one gc hook stays)."""

import importlib
import importlib.metadata
import pathlib
import re
import subprocess
import sys

import pytest

import micrograd_c

PACKAGE = pathlib.Path(micrograd_c.__file__).parent
PYPROJECT = pathlib.Path(__file__).parent.parent / "pyproject.toml"


def test_version_is_the_installed_metadata():
    assert micrograd_c.__version__ == importlib.metadata.version("micrograd_c")
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", micrograd_c.__version__)


def test_version_is_pyproject_s():
    text = PYPROJECT.read_text()
    declared = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    assert micrograd_c.__version__ == declared


def test_typing_files_are_shipped():
    assert (PACKAGE / "py.typed").is_file()
    stub = (PACKAGE / "_core.pyi").read_text()
    assert "class ValueBase" in stub


# ----------------------------------------------------------------------------------------
# one interpreter: a second one is refused and leaves the main one's module as it was

ONLY_MAIN = "micrograd_c supports only the main interpreter"

SUBINTERPRETERS = '''
import sys, tempfile
out = tempfile.mktemp()
code = f"""
try:
    import micrograd_c
    result = "imported"
except ImportError as exc:
    result = "ImportError: " + str(exc)
open({out!r}, "w").write(result)
"""

def run(kind):
    if kind == "legacy":
        import _testcapi
        _testcapi.run_in_subinterp(code)
    else:
        try:
            import _interpreters as interpreters                # 3.13
            interp = interpreters.create()
        except ImportError:
            import _xxsubinterpreters as interpreters           # 3.12
            interp = interpreters.create(isolated=True)
        interpreters.run_string(interp, code)
        interpreters.destroy(interp)
    print(kind, open(out).read())

def check_main():
    from micrograd_c.engine import Value
    r = Value(2.0).relu()
    assert type(r) is Value and r._op == "ReLU", (type(r), r._op)
    y = (r * 3.0 + Value(1.0)) ** 2
    y.backward()
    assert (y.data, r.grad) == (49.0, 42.0), (y.data, r.grad)

first = sys.argv[1]
if first == "main":
    check_main()
for kind in sys.argv[2:]:
    run(kind)
check_main()
print("main ok")
'''


def _run_python(code, *args):
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _has(module):
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


needs_testcapi = pytest.mark.skipif(not _has("_testcapi"), reason="no _testcapi in this Python")
needs_isolated = pytest.mark.skipif(
    sys.version_info < (3, 12) or not (_has("_interpreters") or _has("_xxsubinterpreters")),
    reason="isolated subinterpreters are CPython 3.12+",
)


@needs_testcapi
@pytest.mark.parametrize("first", ["main", "subinterpreter"])
def test_a_legacy_subinterpreter_is_refused_and_the_main_one_is_untouched(first):
    out = _run_python(SUBINTERPRETERS, first, "legacy", "legacy")
    assert out.count(f"legacy ImportError: {ONLY_MAIN}") == 2, out
    assert "not built" not in out
    assert out.endswith("main ok\n"), out


@needs_isolated
@pytest.mark.parametrize("first", ["main", "subinterpreter"])
def test_an_isolated_subinterpreter_is_refused_and_the_main_one_is_untouched(first):
    out = _run_python(SUBINTERPRETERS, first, "isolated")
    assert f"isolated ImportError: {ONLY_MAIN}" in out, out
    assert "not built" not in out
    assert out.endswith("main ok\n"), out


# ----------------------------------------------------------------------------------------
# importlib.reload of any module works: Values made before and after keep working together

MODULES = [
    "micrograd_c",
    "micrograd_c._glue",
    "micrograd_c._pypath",
    "micrograd_c.lifetime",
    "micrograd_c.engine",
    "micrograd_c._plan",
    "micrograd_c.nn",
    "micrograd_c.optim",
    "micrograd_c.draw",
    "micrograd_c.gradcheck",
    "micrograd_c.datasets",
    "micrograd_c.demo",
]

RELOAD = """
import gc, importlib, random, sys
import micrograd_c
from micrograd_c import engine, nn, optim
hooks = len(gc.callbacks)
random.seed(0)
before = nn.MLP(2, [4, 1])
old = engine.Value(1.5)
for name in sys.argv[1:]:
    importlib.reload(importlib.import_module(name))
from micrograd_c import engine, nn, optim
new = engine.Value(2.0)
y = (old * new + 1.0).relu() + new.tanh() - old / new
y.backward()
assert type(y) is engine.Value, type(y)
assert old.grad == 2.0 - 1 / 2.0 and y._op == "+", (old.grad, y._op)
random.seed(0)
after = nn.MLP(2, [4, 1])
for model in (before, after):
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(repr(loss.data))
# the arena's hook on Python's collector is there once: one collection a full run
runs = engine.collections()
gc.collect()
ran = engine.collections() - runs
assert (len(gc.callbacks), ran) == (hooks, 1), (gc.callbacks, ran)
print("ok")
"""


@pytest.mark.parametrize("module", MODULES + ["all"])
def test_reloading_a_module_keeps_everything_working(module):
    out = _run_python(RELOAD, *(MODULES if module == "all" else [module])).split()
    assert out[-1] == "ok"
    assert out[0] == out[1]  # the same model, before and after, the same loss
