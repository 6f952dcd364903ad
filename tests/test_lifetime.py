"""Lifetime and scale: memory stays flat in a training loop and comes back when a graph is
dropped, kept graphs stay whole, graphs of any depth run backward, threads training their own
models do not disturb each other, nor does a fork while they build graphs. Then Python code
that runs in the middle of the engine's own work (weakref callbacks, __del__, gc callbacks,
allocation) never sees a dying Value or a stale node (csrc/arena.c, design note 10): each of
those tests is a reproducer that crashed or read freed memory before, the last a randomized
stress of the same attacks, which the CI runs under AddressSanitizer.

Against micrograd where it builds the same graphs (kept graphs, deep sums), else against
mathematics and the engine's public counters (live_nodes, arena_bytes, collections, RSS).
"""

import gc
import math
import os
import random
import signal
import sys
import threading
import time
import traceback
import warnings
import weakref

import pytest
from _helpers import assert_grads_match, graph_signature, same_float, trace

from micrograd_c.engine import Value, collect, live_nodes

pytestmark = pytest.mark.c_only

XS = [[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [2.0, 2.0]]
YS = [1.0, -1.0, 1.0, -1.0]


def _loss(model, V=None):
    xs = [list(map(V, x)) for x in XS] if V is not None else XS
    return sum((model(x) - y) ** 2 for x, y in zip(xs, YS))


def _sgd_step(model, loss, lr=0.01):
    model.zero_grad()
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad


# ----------------------------------------------------------------------------------------
# memory

# Nodes a small set of live parameters may keep after collect(): a few partly used blocks
# (the engine reclaims whole blocks of 4096 nodes), however long the loop ran. The loops below
# create over half a million nodes.
SMALL = 25_000


@pytest.mark.parametrize("inputs_as_values", [False, True])
def test_training_loop_memory_is_bounded_after_collect(impl, inputs_as_values):
    random.seed(0)
    model = impl.nn.MLP(2, [4, 1])
    V = impl.Value if inputs_as_values else None
    gc.collect()  # earlier tests' cyclic garbage may still hold Values
    impl.engine.collect()
    base = impl.engine.live_nodes()
    assert base < SMALL
    per_graph = len(trace(_loss(model, V))[0])
    checkpoints = []
    for i in range(1, 4001):
        loss = _loss(model, V)
        _sgd_step(model, loss)
        del loss
        if i % 500 == 0:
            impl.engine.collect()
            checkpoints.append(impl.engine.live_nodes())
    assert per_graph * 4000 > 20 * SMALL  # the loop made far more nodes than the bound
    assert all(n <= base + SMALL for n in checkpoints), (base, checkpoints)
    # and the parameters are still whole and usable
    assert len(model.parameters()) == 17
    loss = _loss(model, V)
    loss.backward()
    assert all(p.grad == p.grad for p in model.parameters())


def test_memory_is_flat_without_any_call(impl):
    # no collect() in the loop: the engine reclaims on its own and the loop runs at flat
    # memory, also while the user keeps a sizeable graph alive next to it
    gc.collect()  # earlier tests' cyclic garbage may still hold Values
    impl.engine.collect()
    kept = impl.Value(1.0)
    for _ in range(100_000):  # 200,000 nodes kept for the whole loop
        kept = kept + 1.0
    random.seed(1)
    model = impl.nn.MLP(2, [4, 1])
    per_graph = len(trace(_loss(model))[0])
    windows, per_window = 5, 2000
    peaks, held = [], []
    for _ in range(windows):
        peak = peak_bytes = 0
        for i in range(per_window):
            loss = _loss(model)
            _sgd_step(model, loss)
            if i % 50 == 0:
                peak = max(peak, impl.engine.live_nodes())
                peak_bytes = max(peak_bytes, impl.engine.arena_bytes(spares=True))
        peaks.append(peak)
        held.append(peak_bytes)
    created = per_graph * windows * per_window
    assert max(peaks) < 200_000 + created / 2, (peaks, created)
    # the first window may peak lower (nothing old to reclaim yet); after it, no growth,
    # the freed blocks kept for reuse included
    assert peaks[-1] <= 1.2 * peaks[1] + SMALL, peaks
    assert held[-1] <= 1.2 * held[1], held
    assert kept.data == 100_001.0


def _rss_mib():
    """This process's resident set, in MiB (Linux: /proc; elsewhere the test skips)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        pytest.skip("no /proc/self/statm here")


def test_memory_comes_back_after_a_big_graph_is_dropped(impl):
    # a user's expectation of Python: del the last reference, gc.collect(), and the memory is
    # back, RSS and not only a counter (the arena hands freed blocks to the system)
    gc.collect()
    before = _rss_mib()
    x = impl.Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0000001 + 0.5  # 4 nodes an op pair: about 4M nodes, 170 MB of arena
    peak = _rss_mib()
    assert impl.engine.live_nodes() >= 4_000_000
    del y
    gc.collect()
    after = _rss_mib()
    assert peak - before > 100, (before, peak)  # the chain was big
    assert after - before < 64, (before, peak, after)
    assert impl.engine.live_nodes() < 2 * 4096


def test_a_small_value_keeps_at_most_one_block_of_a_dropped_graph(impl):
    # roots are the nodes that have a Value, not whole blocks: a 2-node Value made right after
    # a dropped chain keeps at most the one block it shares with the chain's end
    impl.engine.collect()
    base = impl.engine.live_nodes()
    y = impl.Value(0.5)
    for _ in range(200_000):
        y = y + 1.0
    del y
    small = impl.Value(2.0) * 3.0
    impl.engine.collect()
    assert impl.engine.live_nodes() - base <= 4096 + 3, impl.engine.live_nodes() - base
    assert small.data == 6.0


def test_gc_collect_runs_a_collection(impl):
    # the arena collects when Python's collector does a full run (gc.callbacks): a graph held
    # only by a reference cycle goes with the cycle
    class Holder:
        pass

    h = Holder()
    h.me = h
    y = impl.Value(1.0)
    for _ in range(50_000):
        y = y + 1.0
    h.graph = y
    del y
    impl.engine.collect()
    held = impl.engine.live_nodes()
    runs = impl.engine.collections()
    del h
    gc.collect()
    assert impl.engine.live_nodes() < held - 90_000, (held, impl.engine.live_nodes())
    assert impl.engine.collections() > runs


def test_prev_does_not_scan_the_heap(impl, monkeypatch):
    # _prev finds a child's Value in O(1) through the arena: no walk over Python's objects
    def forbidden(*args):
        raise AssertionError("gc.get_referrers called")

    monkeypatch.setattr(gc, "get_referrers", forbidden)
    monkeypatch.setattr(gc, "get_objects", forbidden)
    a, b = impl.Value(2.0), impl.Value(3.0)
    c = a * b
    del a, b
    (kid1, kid2) = sorted(c._prev, key=lambda v: v.data)
    assert (kid1.data, kid2.data) == (2.0, 3.0)
    assert c._prev == {kid1, kid2}  # the same objects on every access
    d = impl.Value(4.0)
    e = (d + 1.0).relu()
    (inner,) = e._prev
    assert inner._prev >= {d}  # the user's own object, not a copy


def test_kept_graph_survives_later_graphs_and_collections(ref, impl):
    random.seed(11)
    m_ref = ref.nn.MLP(2, [4, 1])
    random.seed(11)
    m_impl = impl.nn.MLP(2, [4, 1])

    scores_ref = [m_ref(x) for x in XS]
    loss_ref = sum((s - y) ** 2 for s, y in zip(scores_ref, YS))
    loss_ref.backward()
    scores_impl = [m_impl(x) for x in XS]
    loss_impl = sum((s - y) ** 2 for s, y in zip(scores_impl, YS))
    loss_impl.backward()
    sig_ref = graph_signature(loss_ref)

    # many unrelated graphs, built, trained and dropped, with collections in between
    random.seed(12)
    other = impl.nn.MLP(2, [8, 8, 1])
    for i in range(1500):
        loss = _loss(other, impl.Value)
        _sgd_step(other, loss)
        if i % 300 == 0:
            impl.engine.collect()
    del loss
    impl.engine.collect()

    assert same_float(loss_impl.data, loss_ref.data)
    assert all(same_float(a.data, b.data) for a, b in zip(scores_impl, scores_ref))
    assert graph_signature(loss_impl) == sig_ref
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=loss_ref)
    assert_grads_match(scores_impl, scores_ref, root_ref=loss_ref)
    # a second backward through the kept graph accumulates as micrograd's does
    loss_ref.backward()
    loss_impl.backward()
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=loss_ref)


def test_graph_kept_through_one_interior_node(ref, impl):
    # only a score survives; the loss above it is dropped; what the score reaches stays
    random.seed(21)
    m_ref = ref.nn.MLP(2, [4, 4, 1])
    random.seed(21)
    m_impl = impl.nn.MLP(2, [4, 4, 1])
    kept_ref = m_ref([0.5, -1.5])
    kept_impl = m_impl([0.5, -1.5])
    loss = sum(m_impl(x) for x in XS) * kept_impl
    del loss
    for _ in range(2000):
        (m_impl([1.0, 1.0]) * 2).backward()
        m_impl.zero_grad()
    impl.engine.collect()
    assert graph_signature(kept_impl) == graph_signature(kept_ref)
    kept_ref.backward()
    kept_impl.backward()
    assert_grads_match(m_impl.parameters(), m_ref.parameters(), root_ref=kept_ref)


def test_dropped_graph_is_reclaimed(impl):
    impl.engine.collect()
    before = impl.engine.live_nodes()
    x = impl.Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.5
    assert impl.engine.live_nodes() >= before + 400_000 - SMALL
    del y
    impl.engine.collect()
    assert impl.engine.live_nodes() <= before + SMALL
    del x


# ----------------------------------------------------------------------------------------
# depth


def test_million_deep_chain(impl):
    c = 1.0000001
    x = impl.Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * c
    want = 1.0
    for _ in range(1_000_000):
        want = want * c
    assert y.data == want
    y.backward()
    # d/dx is c**n multiplied in the same order as the forward product, from x = 1.0
    assert x.grad == want
    del y
    impl.engine.collect()


def test_deep_sum_where_micrograd_recurses_too_deep(ref, impl):
    terms = [0.5 * i for i in range(3000)]
    leaves_ref = [ref.Value(t) for t in terms]
    total_ref = sum(leaves_ref)
    with pytest.raises(RecursionError):
        total_ref.backward()
    leaves_impl = [impl.Value(t) for t in terms]
    total_impl = sum(leaves_impl)
    assert total_impl.data == total_ref.data == sum(terms)
    total_impl.backward()
    assert all(v.grad == 1.0 for v in leaves_impl)


def test_deep_graph_under_a_low_recursion_limit(impl):
    old = sys.getrecursionlimit()
    x = impl.Value(0.5)
    y = x
    for _ in range(5000):
        y = (y * 0.999).relu() + 0.001
    sys.setrecursionlimit(200)
    try:
        y.backward()
        nodes, edges = trace(y)
    finally:
        sys.setrecursionlimit(old)
    assert len(nodes) == 1 + 5000 * 5 and len(edges) == 5000 * 5
    assert x.grad == pytest.approx(0.999**5000, rel=1e-9)


def test_dropping_a_walked_million_deep_chain(impl):
    # each walked Value keeps its children's Values: dropping the root frees a million of them
    # one inside the other, which must not overflow the C stack
    y = impl.Value(1.0)
    for _ in range(1_000_000):
        y = y + 1.0
    v, depth = y, 0
    while v._prev:
        v = next(c for c in v._prev if c._op == "+") if depth < 999_999 else next(iter(v._prev))
        depth += 1
    assert depth == 1_000_000 and v.data == 1.0
    del v, y
    gc.collect()
    assert impl.engine.live_nodes() < 2 * 4096


# ----------------------------------------------------------------------------------------
# threads

STEPS = 150


def _train(model, steps=STEPS):
    history = []
    for _ in range(steps):
        loss = _loss(model, model._V)
        _sgd_step(model, loss, lr=0.02)
        history.append(loss.data)
    return history, [p.data for p in model.parameters()]


def _models(eng, n):
    models = []
    for seed in range(n):
        random.seed(100 + seed)
        m = eng.nn.MLP(2, [8, 8, 1])
        m._V = eng.Value
        models.append(m)
    return models


def test_threads_training_their_own_models(ref, impl):
    n = 4
    alone = [_train(m) for m in _models(impl, n)]

    models = _models(impl, n)  # weights made beforehand, in this thread
    results = [None] * n
    errors = []
    barrier = threading.Barrier(n)

    def work(i):
        try:
            barrier.wait()
            results[i] = _train(models[i])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not errors, errors
    for i in range(n):
        assert results[i] == alone[i], f"thread {i}"

    # and what each one computed is micrograd's trajectory for the same weights
    for i, m in enumerate(_models(ref, n)):
        hist_ref, final_ref = _train(m, steps=20)
        assert alone[i][0][:20] == pytest.approx(hist_ref, rel=1e-9)


STRESS = r"""
import random, sys, threading
from micrograd_c.engine import Value
from micrograd_c.nn import MLP

def make(seed):
    random.seed(seed)
    m = MLP(3, [16, 16, 1])
    return m, [[random.uniform(-1, 1) for _ in range(3)] for _ in range(8)]

def work(m, xs, out):
    for _ in range(150):
        loss = sum((m(list(map(Value, x))) - 1.0) ** 2 for x in xs)
        m.zero_grad()
        loss.backward()
        for p in m.parameters():
            p.data -= 0.001 * p.grad
    out.append(loss.data)

alone = []
for s in range(4):
    out = []
    work(*make(s), out)
    alone.append(out[0])
sys.setswitchinterval(1e-6)   # switch threads as often as the interpreter can
models = [make(s) for s in range(4)]
outs = [[] for _ in range(4)]
threads = [threading.Thread(target=work, args=(*models[s], outs[s])) for s in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert [o[0] for o in outs] == alone, (outs, alone)
print("same")
"""


def test_threads_switching_constantly_while_layers_wrap_their_outputs(impl):
    # A Layer's call makes many nodes, then wraps its outputs in Python; other threads run
    # and collect in between. A crash here (a freed node) kills the subprocess.
    import subprocess

    run = subprocess.run([sys.executable, "-c", STRESS], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.strip() == "same", run.stderr[-2000:]


# a fork while other threads are building graphs: the child computes, and never hangs

FORKS = 60
BUILDER_THREADS = 3
CHILD_TIMEOUT = 60.0  # seconds: a watchdog for a deadlock, not a timing (a child takes ms)


def _mlp_by_hand(model, x):
    """micrograd's MLP forward with plain Python floats, read from the parameters' data: each
    neuron is the left fold ((b + w0*x0) + w1*x1) + ..., ReLU on all layers but the last."""
    for layer in model.layers:
        out = []
        for n in layer.neurons:
            act = float(n.b.data)
            for wi, xi in zip(n.w, x):
                act = act + float(wi.data) * xi
            if n.nonlin:
                act = 0.0 if act < 0 else act
            out.append(act)
        x = out
    return x[0] if len(x) == 1 else x


def _child_work(impl):
    """What a forked child checks; True when every number is right."""
    V = impl.Value
    for _ in range(50):  # enough nodes that the arena grows and collects in the child
        a = V(1.5)
        b = (a * a + 1.0).relu()
        b.backward()
        if b.data != 1.5 * 1.5 + 1.0 or a.grad != 2 * 1.5:
            return False
    model = impl.nn.MLP(2, [4, 1])
    x = [0.5, -1.25]
    out = model(x)
    if out.data != _mlp_by_hand(model, x):
        return False
    out.backward()
    # d out / d (last bias) is 1 for a linear output neuron
    return model.layers[-1].neurons[0].b.grad == 1.0


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="needs os.fork (POSIX)")
def test_fork_while_threads_build_graphs(impl):
    stop = threading.Event()
    errors = []

    def builder():
        try:
            model = impl.nn.MLP(2, [4, 1])
            while not stop.is_set():
                a = impl.Value(1.5)
                b = (a * a + 1.0).relu()
                b.backward()
                model([0.25, -0.75]).backward()
        except BaseException:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=builder, daemon=True) for _ in range(BUILDER_THREADS)]
    for t in threads:
        t.start()
    failures = []
    try:
        with warnings.catch_warnings():
            # Python 3.12+: "This process is multi-threaded, use of fork() may lead to deadlocks"
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            for i in range(FORKS):
                pid = os.fork()
                if pid == 0:  # child: never return into pytest
                    code = 1
                    try:
                        code = 0 if _child_work(impl) else 1
                    except BaseException:  # noqa: BLE001
                        try:
                            os.write(2, traceback.format_exc().encode())
                        except BaseException:  # noqa: BLE001
                            pass
                    finally:
                        os._exit(code)
                deadline = time.monotonic() + CHILD_TIMEOUT
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        code = os.waitstatus_to_exitcode(status)
                        if code != 0:
                            failures.append(f"fork {i}: child exited with {code}")
                        break
                    if time.monotonic() > deadline:
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        failures.append(f"fork {i}: child hung for {CHILD_TIMEOUT} s, killed")
                        break
                    time.sleep(0.005)
                if failures:
                    break
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert not errors, errors[0]
    assert not failures, failures


# ----------------------------------------------------------------------------------------
# Python running inside the engine's work: the fixtures of the attacks


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
            got.append(b._prev)  # Values to keep, made while the child is freed

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
            kept.extend(b._prev)  # itself among them: Python's own resurrection

    a = Mortal(5.0)
    b = a * a
    del a
    assert len(kept) == 1 and isinstance(kept[0], Mortal)
    assert kept[0].data == 5.0
    b.backward()
    assert kept[0].grad == 10.0
    kept.clear()  # freed again, for good this time


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
    b = Value(1.0) * 2.0  # two children without a Value
    _fill_block()
    got, fired = {}, []

    def attack(phase, info):
        if phase == "stop" and not fired:
            fired.append("prev" in got)  # True: after _prev returned (3.12 on: the
            b.__init__(7.0)  # collector waits for a bytecode); a leaf now
            collect()  # frees the block b's old graph was in

    gc.callbacks.append(attack)
    try:
        got["prev"] = b._prev
    finally:
        gc.callbacks.remove(attack)
    if fired == [False]:  # during the call: b's children at its end, none
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
                if i < len(kept):  # (kept may have changed under this very call)
                    kept[i] = Value(rng.uniform(-1, 1))  # the old one may die right here
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
            out.attacker = _Attacker(rng, kept, log)  # runs when out is freed
        if rng.random() < 0.2:
            out.ref = weakref.ref(a, _Attacker(rng, kept, log))  # runs when a is freed
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

    unraisable = []  # an exception in a __del__ or callback is only printed
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
            continue  # a leaf now, or a child that changed node since
        assert v.data == v.built
        for k in kids:
            k.grad = 0.0
        v.grad = 1.0
        v._backward()
        local = {
            "+": lambda k: 1.0,
            "ReLU": lambda k: float(v.data > 0),
            "tanh": lambda k: 1 - v.data**2,
        }.get(v._op)
        if v._op == "*":
            a, b = kids if len(kids) == 2 else kids * 2
            assert (a.grad, b.grad) == ((b.data, a.data) if a is not b else (2 * a.data,) * 2)
        else:
            assert all(k.grad == local(k) * (2 if len(kids) == 1 and v._op == "+" else 1) for k in kids)
        checked += 1
    assert checked
    del kept[:], log[:]
    gc.collect()


# ----------------------------------------------------------------------------------------
# a Value made in a freed one's memory (csrc/recycle.c, CPython 3.9 to 3.12): nothing of the
# freed one's life shows, on any version


def test_a_value_made_after_others_were_freed_is_new_in_every_way():
    a, b = Value(1.5), Value(-2.0)
    refs = []
    for i in range(50):
        old = a * b
        old.label, old.extra = "old", [i]
        if i % 2:
            old.me = old  # a cycle through its dict: Python's collector frees it
        assert len(old._prev) == 2  # it keeps its children's Values
        refs.append(weakref.ref(old))
        del old
    gc.collect()
    assert all(ref() is None for ref in refs)
    fresh = [a * b for _ in range(50)]
    for v in fresh:
        assert type(v) is Value and v.__dict__ == {} and v.label == "" and not hasattr(v, "extra")
        assert v.data == -3.0 and v.grad == 0.0 and v._op == "*" and v._prev == {a, b}
        assert gc.is_tracked(v) and weakref.ref(v)() is v
    assert len({id(v) for v in fresh}) == 50
    fresh[0].backward()
    assert (a.grad, b.grad) == (-2.0, 1.5)
    refs = [weakref.ref(v) for v in fresh]
    del fresh, v
    assert all(ref() is None for ref in refs)  # each had exactly the references it was given


def test_a_del_given_to_value_later_runs_once_for_every_value_that_goes():
    seen = []
    a = Value(2.0)
    Value.__del__ = lambda self: seen.append(self.data)
    try:
        for i in range(20):
            x = a * float(i)
            del x
    finally:
        del Value.__del__
    assert seen == [2.0 * i for i in range(20)]


def test_after_reloading_engine_every_op_makes_a_value_of_the_new_class():
    import subprocess

    code = """
import importlib
import micrograd_c.engine as engine
old = engine.Value
a = old(1.0)
for _ in range(100):
    a * 2.0  # freed at once: their memory may be kept for the next Values
engine = importlib.reload(engine)
assert engine.Value is not old
b = engine.Value(1.0)
assert all(type(b * 2.0) is engine.Value and type(a * 2.0) is engine.Value for _ in range(300))
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout == "ok\n", run.stderr
