"""Python code that runs in the middle of the engine's own work (weakref callbacks, __del__,
gc callbacks, allocation) never sees a dying Value or a stale node: csrc/arena.c, design note
10. Each of the first tests is a reproducer that crashed or read freed memory before; the last
is a randomized stress of the same attacks, which the CI runs under AddressSanitizer."""

import gc
import math
import random
import sys
import weakref

import pytest

from micrograd_c.engine import Value, collect, live_nodes

pytestmark = pytest.mark.c_only


@pytest.fixture
def gc_every_allocation():
    """Python's collector after every allocation of a tracked object (CPython 3.9 to 3.11 run
    it inside the allocation itself; 3.12 on, at the next bytecode), restored afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(1)
    yield
    gc.set_threshold(*thresholds)


def _fill_block():
    """Moves the arena to a fresh block: the nodes made next share none with older ones."""
    for _ in range(5000):
        Value(0.0)


# ----------------------------------------------------------------------------------------
# a Value being freed, seen through a parent's _prev

def test_prev_in_a_weakref_callback_of_a_dying_child():
    a = Value(1.0)
    b = a * 2.0
    got = []
    ref = weakref.ref(a, lambda w: got.append(b._prev))
    del a
    assert ref() is None
    (seen,) = got
    assert sorted(v.data for v in seen) == [1.0, 2.0]
    # what the callback got is b's child from then on, and backward reaches it
    assert {id(v) for v in b._prev} == {id(v) for v in seen}
    b.backward()
    assert sorted(v.grad for v in seen) == [1.0, 2.0]


def test_prev_in_an_attribute_s_del_while_the_child_is_freed():
    got = []

    class Probe:
        def __del__(self):
            got.append([v.data for v in b._prev])
            got.append(b._prev)             # Values to keep, made while the child is freed

    a = Value(3.0)
    b = a + 4.0
    a.probe = Probe()
    del a
    assert sorted(got[0]) == [3.0, 4.0]
    assert sorted(v.data for v in got[1]) == [3.0, 4.0]
    b.backward()
    assert [v.grad for v in got[1]] == [1.0, 1.0]


def test_a_subclass_s_del_that_resurrects_through_prev():
    kept = []

    class Mortal(Value):
        def __del__(self):
            kept.extend(b._prev)            # itself among them: Python's own resurrection

    a = Mortal(5.0)
    b = a * a
    del a
    assert len(kept) == 1 and isinstance(kept[0], Mortal)
    assert kept[0].data == 5.0
    b.backward()
    assert kept[0].grad == 10.0
    kept.clear()                            # freed again, for good this time


def test_a_weakref_callback_that_collects_the_arena():
    # the dying Value's node is no root once it lets go; a collection in the callback may
    # free it, and nothing after it may read it
    a = Value(1.0)
    nodes = []
    ref = weakref.ref(a, lambda w: (collect(), nodes.append(live_nodes())))
    del a
    assert ref() is None and nodes


# ----------------------------------------------------------------------------------------
# ids read before Python ran

def test_prev_when_making_a_child_s_value_reinitializes_the_parent(gc_every_allocation):
    # _prev allocates a Value for a child that has none; allocating can run the collector and
    # its callbacks, which here give the parent another node and free the old one's block
    _fill_block()
    b = Value(1.0) * 2.0                    # two children without a Value
    _fill_block()
    got, fired = {}, []

    def attack(phase, info):
        if phase == "stop" and not fired:
            fired.append("prev" in got)     # True: after _prev returned (3.12 on: the
            b.__init__(7.0)                 # collector waits for a bytecode); a leaf now
            collect()                       # frees the block b's old graph was in

    gc.callbacks.append(attack)
    try:
        got["prev"] = b._prev
    finally:
        gc.callbacks.remove(attack)
    if fired == [False]:                    # during the call: b's children at its end, none
        assert got["prev"] == set()
    else:
        assert sorted(v.data for v in got["prev"]) == [1.0, 2.0]
    assert b.data == (7.0 if fired else 2.0)


def test_prev_when_the_child_s_value_is_made_under_collections(gc_every_allocation):
    # every allocation runs the collector, which collects the arena after full runs
    def full_collections(phase, info):
        if phase == "stop":
            collect()

    _fill_block()
    chain = Value(0.5)
    for k in range(3000):
        chain = chain * 1.0 + k
    gc.callbacks.append(full_collections)
    try:
        seen, v, depth = [], chain, 0
        while v._prev:
            kids = sorted(v._prev, key=lambda c: c.data)
            seen.append(kids)
            v = kids[-1] if kids[-1]._prev else kids[0]
            depth += 1
    finally:
        gc.callbacks.remove(full_collections)
    assert depth >= 3000
    assert v.data == 0.5


# ----------------------------------------------------------------------------------------
# gc.callbacks: the arena's hook runs no Python frame, so no signal can land in it

def test_the_collector_hook_runs_no_python_frame():
    frames = []

    def profile(frame, event, arg):
        if event == "call" and "micrograd_c" in frame.f_code.co_filename:
            frames.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        gc.collect()
    finally:
        sys.setprofile(None)
    assert frames == []


def test_a_full_collection_still_collects_the_arena():
    gc.collect()
    base = live_nodes()
    x = Value(1.0)
    for _ in range(50_000):
        x = x + 1.0
    loop = [x]
    loop.append(loop)                       # only Python's collector frees this
    del x, loop
    assert live_nodes() >= base + 50_000
    gc.collect()
    assert live_nodes() < base + 50_000


# ----------------------------------------------------------------------------------------
# the attacks at random, many times over: the process survives and every graph stays whole

class _Attacker:
    """An attribute whose __del__ (and a weakref callback) does random engine work: reads
    _prev of kept Values, builds Values, re-initialises kept ones, collects the arena."""

    def __init__(self, rng, kept, log):
        self.rng, self.kept, self.log = rng, kept, log

    def __call__(self, *unused):
        rng, kept = self.rng, self.kept
        for _ in range(rng.randint(1, 3)):
            action = rng.random()
            if not kept:
                return
            i = rng.randrange(len(kept))
            v = kept[i]
            if action < 0.4:
                self.log.append(sorted(c.data for c in v._prev))
            elif action < 0.6:
                self.log.append((v * 2.0 + 1.0).relu().data)
            elif action < 0.75:
                if i < len(kept):           # (kept may have changed under this very call)
                    kept[i] = Value(rng.uniform(-1, 1))     # the old one may die right here
            elif action < 0.9:
                collect()
            else:
                v.reinitialized = True
                v.__init__(rng.uniform(-1, 1))

    def __del__(self):
        self()


def _random_graph(rng, kept, log, n):
    """n Values built from kept ones, each with what its children's data were, and attackers
    hanging off some of them (as attributes and weakref callbacks)."""
    made = []
    for _ in range(n):
        a = rng.choice(kept)
        b = rng.choice(kept) if rng.random() < 0.7 else rng.uniform(-2, 2)
        x, y = a.data, b.data if isinstance(b, Value) else b
        op = rng.choice(["+", "*", "relu", "tanh"])
        if op == "+":
            out, out.built = a + b, x + y
        elif op == "*":
            out, out.built = a * b, x * y
        else:
            out, out.built = getattr(a, op)(), max(x, 0.0) if op == "relu" else math.tanh(x)
        made.append(out)
        if rng.random() < 0.3:
            out.attacker = _Attacker(rng, kept, log)    # runs when out is freed
        if rng.random() < 0.2:
            out.ref = weakref.ref(a, _Attacker(rng, kept, log))     # runs when a is freed
        kept.append(out)
        if len(kept) > 40:
            kept.pop(rng.randrange(len(kept)))
    return made


@pytest.mark.parametrize("seed", range(6))
def test_random_attacks_during_deallocation_and_collection(seed, gc_every_allocation):
    rng = random.Random(seed)
    log = []
    kept = [Value(rng.uniform(-1, 1)) for _ in range(8)]
    attacker = _Attacker(rng, kept, log)

    def in_gc(phase, info):
        if phase == "stop" and rng.random() < 0.3:
            attacker()

    unraisable = []                         # an exception in a __del__ or callback is only printed
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    gc.callbacks.append(in_gc)
    try:
        for _ in range(30):
            _random_graph(rng, kept, log, 60)
            if rng.random() < 0.3:
                gc.collect()
    finally:
        gc.callbacks.remove(in_gc)
        sys.unraisablehook = hook
    assert [repr(u.exc_value) for u in unraisable] == []
    # every Value still held is whole: data as it was built, and its own node's chain rule
    # (the lecture's v._backward()) puts the known local derivatives into its children
    checked = 0
    for v in kept:
        kids = list(v._prev)
        assert all(isinstance(k, Value) for k in kids)
        if not v._op or any(getattr(k, "reinitialized", False) for k in kids):
            continue                        # a leaf now, or a child that changed node since
        assert v.data == v.built
        for k in kids:
            k.grad = 0.0
        v.grad = 1.0
        v._backward()
        local = {"+": lambda k: 1.0, "ReLU": lambda k: float(v.data > 0),
                 "tanh": lambda k: 1 - v.data**2}.get(v._op)
        if v._op == "*":
            a, b = kids if len(kids) == 2 else kids * 2
            assert (a.grad, b.grad) == ((b.data, a.data) if a is not b else (2 * a.data,) * 2)
        else:
            assert all(k.grad == local(k) * (2 if len(kids) == 1 and v._op == "+" else 1)
                       for k in kids)
        checked += 1
    assert checked
    del kept[:], log[:]
    gc.collect()
