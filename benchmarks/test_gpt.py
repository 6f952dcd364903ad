"""examples/gpt.py's training step, three ways side by side (issue 18): a pure-Python scalar
Value in microgpt's style (scalar_value.py, Adam as a Python loop), micrograd_c's Value running
the same code, and micrograd_c.functional with optim.Adam.

    python -m pytest benchmarks/test_gpt.py --benchmark-group-by=group   # about ten seconds

micrograd 0.1.0 cannot run this model (it has no exp or log), so conftest.py's engines do not
apply: the group's benchmarks are parametrized by `way`, examples/gpt.py's Way names, and
benchmarks/run.py reports each way's step and the pure-Python one's over the others'. The model,
its helpers and its optimizers are examples/gpt.py's, imported; a step is Way.step(tokens):
forward over one name, backward, the optimizer's step. Every way trains on the same names in the
same order, with the collector on, as users run it.
"""

import gc
import itertools
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"

GROUP = "GPT training step (examples/gpt.py, one name)"
WAYS = ("python", "micrograd_c", "functional")  # gpt.Way's names
NAMES = 6  # the names the timed steps cycle over
# a pure-Python step takes about 0.2 s: one pass over the names for it, four for the others, so
# that every way's median is over the same names, each as often as the others
CYCLES = {"python": 1, "micrograd_c": 4, "functional": 4}

pytestmark = pytest.mark.skipif(
    not (EXAMPLES / "gpt.py").is_file(), reason="needs the repository's examples/"
)


@pytest.fixture(scope="module")
def gpt():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import gpt
    finally:
        sys.path.remove(str(EXAMPLES))
    return gpt


@pytest.mark.parametrize("way", WAYS)
def test_gpt_step(benchmark, gpt, way):
    every = gpt.load_names()
    tok, names = gpt.Tokenizer(every), every[:NAMES]
    docs = itertools.cycle([tok.encode(name) for name in names])
    rounds = CYCLES[way] * NAMES
    model = gpt.Way(way, tok, steps=NAMES + rounds)  # the cosine schedule spans every step
    benchmark.group = GROUP
    benchmark.extra_info.update(names=names, parameters=len(gpt.parameters(model.params)), rounds=rounds)
    gc.collect()
    # the warm-up is one pass over the names: micrograd_c's first steps map the arena's pages,
    # up to the longest name's graph; the timed rounds then start again at the first name
    benchmark.pedantic(lambda: model.step(next(docs)), rounds=rounds, warmup_rounds=NAMES)
    gc.collect()
