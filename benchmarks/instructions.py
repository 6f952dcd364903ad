"""Instruction counts per operation, by callgrind: steady whatever else the machine does.

    python benchmarks/instructions.py [--quick] [--json FILE]

--json FILE keeps the counts for `python benchmarks/run.py --instructions FILE`, which adds them
to docs/benchmarks.md.

Each case runs in a fresh interpreter under `valgrind --tool=callgrind`, twice, with a loop of
N1 and then N2 iterations; the difference over N2 - N1 is the cost of one iteration, and the
same for an empty loop body is subtracted. micrograd's cases run with its garbage collector on
and with gc.disable(). Needs valgrind, and micrograd 0.1.0 for its columns.
"""

import argparse
import datetime
import inspect
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

# this file's folder is first on sys.path when it is run
from conftest import ENGINES
from run import ENGINES as COLUMNS
from run import HEADERS, format_count
from test_bench import walk

SETUP = {
    "micrograd_c": "from micrograd_c.engine import Value",
    "micrograd": "from micrograd.engine import Value",
}

MLP_SETUP = (
    "from %s.nn import MLP; model = MLP(2, [16, 16, 1]); other = MLP(1, [1]); xs = [Value(0.5), Value(-1.5)]"
)

# the walk of test_bench.py's 'trace a 100k-node graph' (trace_graph.ipynb's trace, as a loop)
WALK_SETUP = (
    "import gc\n"
    + inspect.getsource(walk)
    + """
def fresh():
    root = sum(Value(0.5 * i) * Value(1.0 - i) for i in range(25_000))
    gc.collect()
    return root
"""
)

# demo.ipynb's training step, as `python -m micrograd_c.demo` runs it, after a few steps (the
# first ones map the arena's pages): counted over a few loops only
DEMO_SETUP = (
    "from micrograd_c.demo import load_engine, setup, train_step\n"
    "model, loss = setup(*load_engine('%s'))\n"
    "for k in range(4): train_step(model, loss, k)"
)
STEPS = [("demo training step", DEMO_SETUP, "train_step(model, loss, 5)")]

# cases counted per node of a fresh 100k-node graph, its build's cost (the second statement)
# taken off: (name, setup, statement, baseline), a few loops only
PER_NODE = [
    (
        "trace a fresh 100k-node graph, then drop the sets (per node)",
        WALK_SETUP,
        "root = fresh(); r = walk(root); del r, root",
        "root = fresh(); del root",
    ),
]

# (name, setup, statement): the statement is the loop body, `x = ...` so results are dropped
CASES = [
    ("a + b", "a = Value(1.5); b = Value(-2.0)", "x = a + b"),
    ("a * b", "a = Value(1.5); b = Value(-2.0)", "x = a * b"),
    ("a + 1.0", "a = Value(1.5)", "x = a + 1.0"),
    ("2.0 * a", "a = Value(1.5)", "x = 2.0 * a"),
    ("a.relu()", "a = Value(1.5)", "x = a.relu()"),
    ("a.tanh()", "a = Value(1.5)", "x = a.tanh()"),
    ("a - b", "a = Value(1.5); b = Value(-2.0)", "x = a - b"),
    ("a / b", "a = Value(1.5); b = Value(-2.0)", "x = a / b"),
    ("-a", "a = Value(1.5)", "x = -a"),
    ("1.0 - a", "a = Value(1.5)", "x = 1.0 - a"),
    ("a / 2.0", "a = Value(1.5)", "x = a / 2.0"),
    ("a ** 2", "a = Value(1.5)", "x = a ** 2"),
    ("Value(x)", "y = 0.5", "x = Value(y)"),
    ("v.data", "v = Value(1.5)", "x = v.data"),
    ("v.data = x", "v = Value(1.5); y = 0.25", "v.data = y"),
    ("v.grad = 0", "v = Value(1.5)", "v.grad = 0"),
    ("MLP(2, [16, 16, 1]) call", MLP_SETUP, "x = model(xs)"),
    ("MLP call, attributes set between calls", MLP_SETUP, "model.step = 1; other.tag = 2; x = model(xs)"),
    ("those attributes set, no call", MLP_SETUP, "model.step = 1; other.tag = 2"),
]


def count(code):
    # the same dicts, the same counts; and NumPy's BLAS on this thread alone: its worker
    # threads spin for a while after each call, by the clock, and callgrind counts them too
    env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        m = re.search(r"Collected : (\d+)", proc.stderr)
        return int(m.group(1))


def per_iteration(package, setup, stmt, gc_off, n1, n2):
    head = SETUP[package] + "\n" + (setup % package if "%s" in setup else setup) + "\n"
    if gc_off:
        head = "import gc; gc.disable()\n" + head
    loop = "def run(n):\n    for _ in range(n):\n        %s\nrun(%d)\n"
    return (count(head + loop % (stmt, n2)) - count(head + loop % (stmt, n1))) / (n2 - n1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller loops, micrograd_c only")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--json", metavar="FILE", help="also save the counts, for run.py --instructions FILE")
    args = parser.parse_args(argv)
    loops = (1000, 6000) if args.quick else (2000, 22000)
    engines = ["micrograd_c"] if args.quick else list(ENGINES)
    # (name, per, setup, statement, baseline, loops, items): a count is the statement's over
    # the baseline's, per iteration, divided by the items an iteration handles
    cases = (
        [(name, "op", setup, stmt, "pass", loops, 1) for name, setup, stmt in CASES]
        + [(name, "step", setup, stmt, "pass", (1, 3), 1) for name, setup, stmt in STEPS]
        + [(name, "node", setup, stmt, baseline, (1, 3), 100_000) for name, setup, stmt, baseline in PER_NODE]
    )
    rows = []
    print("| case | per | %s |" % " | ".join(HEADERS))
    print("|---" * (2 + len(HEADERS)) + "|")
    for name, per, setup, stmt, baseline, (n1, n2), items in cases:
        if args.only and args.only not in name:
            continue
        counts = {}
        for engine in engines:
            package, gc_enabled = ENGINES[engine]
            if package == "micrograd" and "tanh" in stmt:
                continue  # micrograd 0.1.0 has no tanh
            counts[engine] = (
                per_iteration(package, setup, stmt, not gc_enabled, n1, n2)
                - per_iteration(package, setup, baseline, not gc_enabled, n1, n2)
            ) / items
        rows.append({"case": name, "per": per, "counts": counts})
        cells = [format_count(counts[e], per) if e in counts else "-" for e in COLUMNS]
        print("| %s | %s | %s |" % (name, per, " | ".join(cells)), flush=True)
    if args.json:
        valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
        python = "%s %s" % (platform.python_implementation(), platform.python_version())
        saved = {
            "valgrind": valgrind,
            "python": python,
            "date": datetime.date.today().isoformat(),
            "quick": args.quick,
            "rows": rows,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(saved, f, indent=1)


if __name__ == "__main__":
    main()
