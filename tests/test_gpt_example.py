"""examples/gpt.py: its GPT, written once, gives the same losses three ways (a pure-Python
scalar Value, micrograd_c's Value with the same code, micrograd_c.functional with optim.Adam):
the first step's loss to the bit, the next ones to rounding. Skipped where the tests run
without the repository's examples/ (an installed wheel's test run)."""

import math
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.c_only,
    pytest.mark.skipif(
        not (ROOT / "examples" / "gpt.py").is_file(), reason="needs the repository's examples/"
    ),
]


@pytest.fixture(scope="module")
def gpt():
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import gpt
    finally:
        sys.path.remove(str(ROOT / "examples"))
    return gpt


def test_the_three_ways_give_the_same_losses(gpt):
    names = gpt.load_names()
    tok = gpt.Tokenizer(names)
    docs = [tok.encode(n) for n in names[:3]]
    ways = [gpt.Way(name, tok, steps=3) for name in ("python", "micrograd_c", "functional")]
    losses = [[way.step(doc) for doc in docs] for way in ways]
    python, same_code, functional = losses
    assert same_code[0] == python[0] and functional[0] == python[0]  # the first, to the bit
    for got in (same_code, functional):
        for a, b in zip(got, python):
            assert math.isclose(a, b, rel_tol=1e-12)
    assert python[0] == pytest.approx(math.log(tok.vocab), rel=0.05)  # an untrained model guesses


def test_the_cosine_schedule_is_microgpts(gpt):
    from micrograd_c import Value, optim

    opt = optim.Adam([Value(1.0)], lr=gpt.LR)
    schedule = optim.CosineAnnealingLR(opt, T_max=50)
    for step in range(50):
        assert math.isclose(opt.lr, gpt.cosine_lr(step, 50), rel_tol=0, abs_tol=1e-12)
        schedule.step()


def test_training_maps_no_new_memory_once_warm():
    # a step's live set, and so the arena's collections, rise and fall within a step: the
    # blocks freed between steps are kept for the next ones, not given back and mapped again
    # (design note 7 of csrc/arena.c): arena_bytes(spares=True) may still grow to a later
    # peak, but never drops. In a fresh interpreter: other tests' graphs would move the
    # arena's collections
    import subprocess

    code = """
import sys
sys.path[:0] = [sys.argv[1]]
import gpt
from micrograd_c.engine import arena_bytes
names = gpt.load_names()
tok = gpt.Tokenizer(names)
docs = [tok.encode(n) for n in names[:10]]
way = gpt.Way("functional", tok, steps=60)
for doc in docs * 2:  # warm: the arena has grown to what these names need
    way.step(doc)
held = []
for doc in docs * 2:
    way.step(doc)
    held.append(arena_bytes(spares=True))
print(all(a <= b for a, b in zip(held, held[1:])), held)
"""
    run = subprocess.run([sys.executable, "-c", code, str(ROOT / "examples")], capture_output=True, text=True)
    assert run.stdout.startswith("True"), run.stdout + run.stderr
