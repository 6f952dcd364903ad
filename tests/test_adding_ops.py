"""The op table's guard and CONTRIBUTING.md's walkthroughs, on a scratch copy of the sources.

* Deleting any row of MG_OP_TABLE (csrc/ops.h), moving the leaf's row, or leaving out a row's
  pair fails the build, with the compiler naming the op; the untouched copy compiles.
* CONTRIBUTING.md's steps for a unary op (softplus) and a binary op (atan2), applied from its
  own marked blocks, give a build in which each is a Value method with micrograd's node shape,
  softplus an nn activation, both typed in the stubs, and the generated op tests pass for both.

These need the repository's sources and a C compiler: they are skipped where the tests run
from a directory holding neither (an installed wheel's test run).
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
CC = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")

pytestmark = [
    pytest.mark.c_only,
    pytest.mark.skipif(not (CSRC / "ops.h").is_file(), reason="needs the repository's csrc/"),
    pytest.mark.skipif(CC is None or not os.path.exists(shutil.which(CC) or CC), reason="needs a C compiler"),
]

ROW = re.compile(r"^    X\((\w+),")


def table_rows(text):
    return [m.group(1) for line in text.splitlines() if (m := ROW.match(line))]


ROWS = table_rows((CSRC / "ops.h").read_text()) if (CSRC / "ops.h").is_file() else []


def compile_all(csrc):
    """Each C file of csrc alone, as the build compiles it (syntax and types only): the first
    failure's (file, stderr), or None when all compile."""
    include = sysconfig.get_paths()["include"]
    for source in sorted(csrc.glob("*.c")):
        run = subprocess.run(
            [
                CC,
                "-std=c11",
                "-fsyntax-only",
                "-DPy_LIMITED_API=0x03090000",
                f"-I{include}",
                f"-I{csrc}",
                str(source),
            ],
            capture_output=True,
            text=True,
        )
        if run.returncode:
            return source.name, run.stderr
    return None


def scratch_csrc(tmp_path):
    copy = tmp_path / "csrc"
    shutil.copytree(CSRC, copy)
    return copy


def test_the_table_is_the_rows_python_sees():
    from micrograd_c._glue import OPS

    assert ROWS == [row.key for row in OPS]


def test_the_untouched_copy_compiles(tmp_path):
    assert compile_all(scratch_csrc(tmp_path)) is None


@pytest.mark.parametrize("key", ROWS)
def test_deleting_a_row_fails_the_build(tmp_path, key):
    csrc = scratch_csrc(tmp_path)
    lines = (csrc / "ops.h").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if ROW.match(line) and ROW.match(line).group(1) == key)
    del lines[at]
    if key == ROWS[-1]:  # the row before the last one now ends the macro
        lines[at - 1] = lines[at - 1].rstrip().rstrip("\\").rstrip() + "\n"
    (csrc / "ops.h").write_text("".join(lines))
    assert table_rows((csrc / "ops.h").read_text()) == [k for k in ROWS if k != key]
    failed = compile_all(csrc)
    assert failed is not None, f"the build compiles without {key}'s row"
    assert f"MG_{key}" in failed[1] or f"mg_{key.lower()}" in failed[1], failed[1]


def test_moving_the_leaf_row_fails_the_build(tmp_path):
    csrc = scratch_csrc(tmp_path)
    text = (csrc / "ops.h").read_text()
    leaf = next(line for line in text.splitlines(keepends=True) if line.startswith("    X(LEAF,"))
    add = next(line for line in text.splitlines(keepends=True) if line.startswith("    X(ADD,"))
    (csrc / "ops.h").write_text(text.replace(leaf, "").replace(add, add + leaf))
    failed = compile_all(csrc)
    assert failed is not None and "a leaf is op 0" in failed[1]


def test_a_row_without_its_pair_fails_the_build(tmp_path):
    csrc = scratch_csrc(tmp_path)
    text = (csrc / "ops.h").read_text()
    pair = re.search(r"MG_ROW_OF\(TANH\);\n.*?\n}\n.*?\n}\n", text, re.S)
    (csrc / "ops.h").write_text(text.replace(pair.group(0), ""))
    failed = compile_all(csrc)
    assert failed is not None and "mg_tanh_forward" in failed[1]


# ----------------------------------------------------------------------------------------
# CONTRIBUTING.md's walkthroughs

STEP = re.compile(r"<!-- add: (\S+) (after|before) ([\"'])(.+?)\3 -->\n```\w*\n(.*?)```", re.S)


def contributing_steps():
    """(file, 'after' or 'before', anchor, text) for each marked block of CONTRIBUTING.md."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    return [(m.group(1), m.group(2), m.group(4), m.group(5)) for m in STEP.finditer(text)]


def apply_step(root, path, where, anchor, block):
    file = root / path
    lines = file.read_text().splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith(anchor)]
    assert len(at) == 1, f"CONTRIBUTING.md: {anchor!r} is not one line of {path}"
    i = at[0] + (where == "after")
    file.write_text("".join(lines[:i]) + block + "".join(lines[i:]))


@pytest.fixture(scope="module")
def contributed(tmp_path_factory):
    """A scratch copy of the sources with CONTRIBUTING.md's steps applied, built in place."""
    root = tmp_path_factory.mktemp("contributed")
    for name in ("csrc", "micrograd_c", "tests"):
        shutil.copytree(
            ROOT / name,
            root / name,
            ignore=shutil.ignore_patterns("_core*.so", "_core*.pyd", "_core.c", "_core.o", "__pycache__"),
        )
    steps = contributing_steps()
    assert {path for path, *_ in steps} == {"csrc/ops.h", "tests/test_ops.py", "micrograd_c/_core.pyi"}
    for step in steps:
        apply_step(root, *step)
    build = subprocess.run(
        [sys.executable, "micrograd_c/_build.py"], cwd=root, capture_output=True, text=True
    )
    assert build.returncode == 0, build.stdout + build.stderr
    # pytest's settings, after the build: setuptools, which cffi builds with, would read the
    # file's [project] table, and the one a venv comes with may be too old for it
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def run_in(root, code):
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_walkthrough_ops_are_methods_with_their_nodes(contributed):
    out = run_in(
        contributed,
        """
        import math, micrograd_c
        from micrograd_c import Value
        assert micrograd_c.__file__.startswith(%r), micrograd_c.__file__
        x = Value(0.5)
        y = x.softplus()
        assert (y.data, y._op, y._prev) == (math.log1p(math.exp(0.5)), "softplus", {x})
        y.backward()
        assert abs(x.grad - 1 / (1 + math.exp(-0.5))) < 1e-15, x.grad
        a, b = Value(1.5), Value(-2.0)
        z = a.atan2(b)
        assert (z.data, z._op) == (math.atan2(1.5, -2.0), "atan2")
        assert z._prev == {a, b}
        z.backward()
        assert abs(a.grad - (-2.0 / 6.25)) < 1e-15 and abs(b.grad - (-1.5 / 6.25)) < 1e-15, (a.grad, b.grad)
        w = a.atan2(3)                      # a number operand: its leaf, second
        assert w.data == math.atan2(1.5, 3.0) and sorted(c.data for c in w._prev) == [1.5, 3.0]
        try:
            a.atan2("x")
        except TypeError as e:
            print("TypeError:", e)
        """
        % str(contributed),
    )
    assert "TypeError: atan2() takes a Value or a real number, not str" in out


def test_the_walkthrough_unary_op_is_an_activation(contributed):
    out = run_in(
        contributed,
        """
        from micrograd_c.nn import MLP, Neuron
        n = Neuron(3, activation="softplus")
        print(repr(n))
        m = MLP(2, [4, 1], activation="softplus")
        out = m([1.0, -2.0])
        print(out._op)
        try:
            Neuron(2, activation="atan2")
        except ValueError as e:
            print(e)
        """,
    )
    lines = out.splitlines()
    assert lines[0] == "SoftplusNeuron(3)"
    assert lines[1] == "+"  # the last layer is linear
    assert "'softplus'" in lines[2] and "'atan2'" not in lines[2].split("not")[0]


def test_the_walkthrough_passes_the_generated_tests_and_the_stub_check(contributed):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_ops.py",
            "tests/test_package.py",
            "-k",
            "softplus or atan2 or stub",
        ],
        cwd=contributed,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    counts = re.search(r"(\d+) passed", run.stdout)
    assert counts and int(counts.group(1)) >= 20, run.stdout
