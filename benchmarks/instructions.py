"""Instruction counts per operation, by callgrind: steady whatever else the machine does.

    python benchmarks/instructions.py [--quick]

Each case runs in a fresh interpreter under `valgrind --tool=callgrind`, twice, with a loop of
N1 and then N2 iterations; the difference over N2 - N1 is the cost of one iteration, and the
same for an empty loop body is subtracted. micrograd's cases run with its garbage collector on
and with gc.disable(). Needs valgrind, and micrograd 0.1.0 for its columns.
"""
import argparse
import inspect
import os
import re
import subprocess
import sys
import tempfile

from test_bench import walk     # this file's folder is first on sys.path when it is run

SETUP = {
    "micrograd_c": "from micrograd_c.engine import Value",
    "micrograd": "from micrograd.engine import Value",
}

MLP_SETUP = ("from %s.nn import MLP; model = MLP(2, [16, 16, 1]); other = MLP(1, [1]); "
             "xs = [Value(0.5), Value(-1.5)]")

# the walk of test_bench.py's 'trace a 100k-node graph' (trace_graph.ipynb's trace, as a loop)
WALK_SETUP = "import gc\n" + inspect.getsource(walk) + """
def fresh():
    root = sum(Value(0.5 * i) * Value(1.0 - i) for i in range(25_000))
    gc.collect()
    return root
"""

# demo.ipynb's training step, as `python -m micrograd_c.demo` runs it, after a few steps (the
# first ones map the arena's pages): counted over a few loops only
DEMO_SETUP = ("from micrograd_c.demo import load_engine, setup, train_step\n"
              "model, loss = setup(*load_engine('%s'))\n"
              "for k in range(4): train_step(model, loss, k)")
STEPS = [("demo training step", DEMO_SETUP, "train_step(model, loss, 5)")]

# cases counted per node of a fresh 100k-node graph, its build's cost (the second statement)
# taken off: (name, setup, statement, baseline), a few loops only
PER_NODE = [
    ("trace a fresh 100k-node graph, then drop the sets (per node)", WALK_SETUP,
     "root = fresh(); r = walk(root); del r, root", "root = fresh(); del root"),
]

# (name, setup, statement): the statement is the loop body, `x = ...` so results are dropped
CASES = [
    ("a + b", "a = Value(1.5); b = Value(-2.0)", "x = a + b"),
    ("a * b", "a = Value(1.5); b = Value(-2.0)", "x = a * b"),
    ("a + 1.0", "a = Value(1.5)", "x = a + 1.0"),
    ("2.0 * a", "a = Value(1.5)", "x = 2.0 * a"),
    ("a.relu()", "a = Value(1.5)", "x = a.relu()"),
    ("a.tanh()", "a = Value(1.5)", "x = a.tanh()"),
    ("a ** 2", "a = Value(1.5)", "x = a ** 2"),
    ("Value(x)", "y = 0.5", "x = Value(y)"),
    ("v.data", "v = Value(1.5)", "x = v.data"),
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
            capture_output=True, text=True, env=env)
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
    args = parser.parse_args(argv)
    n1, n2 = (1000, 6000) if args.quick else (2000, 22000)
    engines = [("micrograd_c", False)] + ([] if args.quick else [("micrograd", False), ("micrograd", True)])
    print("| op | micrograd_c | micrograd (gc on) | micrograd (gc off) |")
    print("|---|---|---|---|")
    for name, setup, stmt in CASES:
        if args.only and args.only not in name:
            continue
        row = []
        for package, gc_off in engines:
            if package == "micrograd" and "tanh" in stmt:
                row.append("none")
                continue
            base = per_iteration(package, setup, "pass", gc_off, n1, n2)
            row.append("%.0f" % (per_iteration(package, setup, stmt, gc_off, n1, n2) - base))
        print("| `%s` | %s |" % (name, " | ".join(row)))
        sys.stdout.flush()
    for name, setup, stmt in STEPS:
        if args.only and args.only not in name:
            continue
        row = ["%.2f M" % ((per_iteration(package, setup, stmt, gc_off, 1, 3)
                            - per_iteration(package, setup, "pass", gc_off, 1, 3)) / 1e6)
               for package, gc_off in engines]
        print("| %s | %s |" % (name, " | ".join(row)))
    for name, setup, stmt, baseline in PER_NODE:
        if args.only and args.only not in name:
            continue
        row = ["%.0f" % ((per_iteration(package, setup, stmt, gc_off, 1, 3)
                          - per_iteration(package, setup, baseline, gc_off, 1, 3)) / 100_000)
               for package, gc_off in engines]
        print("| %s | %s |" % (name, " | ".join(row)))


if __name__ == "__main__":
    main()
