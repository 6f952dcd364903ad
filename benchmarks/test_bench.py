"""micrograd_c against micrograd: graph building, backward, and the demo's training step.

    pip install -e ".[bench]"
    python -m pytest benchmarks --benchmark-group-by=group   # about a minute
    python benchmarks/run.py                                 # a run, as a table and chart of ratios

Each group holds one measurement on every engine (see conftest.py); extra_info gives
the time per operation or per node, or the bytes a graph node takes. The training code
is micrograd_c.demo's, so these are the steps `python -m micrograd_c.demo` prints.
"""

import gc
import itertools
import tracemalloc

import pytest

from micrograd_c.demo import setup, train_step

# -----------------------------------------------------------------------------
# building the graph one op at a time

N = 100  # ops per timed call: spreads the harness's own call over many ops


def add(a, b):
    for _ in range(N):
        a + b


def mul(a, b):
    for _ in range(N):
        a * b


def add_number(a, b):
    for _ in range(N):
        a + 1.0


def mul_number(a, b):
    for _ in range(N):
        a * 2.0


def relu(a, b):
    for _ in range(N):
        a.relu()


def tanh(a, b):
    for _ in range(N):
        a.tanh()


def read_data(a, b):
    for _ in range(N):
        a.data


def make_value(a, b):
    for _ in range(N):
        type(a)(0.5)


def fresh_prev(a, b):
    for _ in range(N):
        (a * b)._prev


BUILD = {  # group: loop, operation micrograd 0.1.0 lacks (or None)
    "build a + b": (add, None),
    "build a * b": (mul, None),
    "build a + 1.0": (add_number, None),
    "build a * 2.0": (mul_number, None),
    "build a.relu()": (relu, None),
    "build a.tanh()": (tanh, "tanh"),
    "read v.data": (read_data, None),
    "build Value(x)": (make_value, None),
    "fresh (a * b)._prev, 2M objects alive": (fresh_prev, None),
}


def per_item_ns(benchmark, key, count):
    """Record the median time divided by `count` as extra_info[key], in ns."""
    if benchmark.stats:  # None under --benchmark-disable
        benchmark.extra_info[key] = round(benchmark.stats.stats.median / count * 1e9, 1)


@pytest.mark.benchmark(max_time=0.5)  # micrograd-nogc keeps every node: bounds its memory
@pytest.mark.parametrize("group", list(BUILD))
def test_build(benchmark, engine, group):
    loop, needs = BUILD[group]
    if needs and not hasattr(engine.Value, needs):
        pytest.skip(f"{engine.package} has no Value.{needs}")
    a, b = engine.Value(0.5), engine.Value(-1.5)
    crowd = [[i] for i in range(2_000_000)] if "2M objects" in group else None  # noqa: F841
    engine.measure(benchmark, group, loop, a, b)
    per_item_ns(benchmark, "ns_per_op", N)


# -----------------------------------------------------------------------------
# walking a graph: trace_graph.ipynb's trace, written as a loop (its recursion would stop
# at micrograd's recursion limit), on a fresh graph each round


def walk(root):
    nodes, edges, todo = set(), set(), [root]
    while todo:
        v = todo.pop()
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                todo.append(child)
    return nodes, edges


def trace_and_draw(root):
    """The notebook's draw_dot, but for graphviz: trace, draw from the sets, let them go."""
    nodes, edges = walk(root)
    return len(nodes), len(edges)


def test_walk(benchmark, engine):
    def fresh_graph():
        V = engine.Value
        root = sum(V(0.5 * i) * V(1.0 - i) for i in range(25_000))  # 100k nodes
        gc.collect()  # the build's garbage (micrograd's is cyclic) is not the walk's cost
        return (root,), {}

    engine.measure(benchmark, "trace a 100k-node graph", trace_and_draw, setup=fresh_graph, rounds=5)
    per_item_ns(benchmark, "ns_per_node", 100_000)


# -----------------------------------------------------------------------------
# an MLP call, with and without attributes set between calls that its plan does not read

CALLS = 10


def mlp_calls(model, x, other):
    for _ in range(CALLS):
        model(x)


def mlp_calls_changing(model, x, other):
    for i in range(CALLS):
        model.step = i  # neither is what an MLP's call reads
        other.tag = i
        model(x)


@pytest.mark.parametrize(
    "group, loop",
    [
        ("MLP(2, [16, 16, 1]) call", mlp_calls),
        ("MLP call, unrelated attributes set between calls", mlp_calls_changing),
    ],
)
def test_mlp_call(benchmark, engine, group, loop):
    model, other = engine.MLP(2, [16, 16, 1]), engine.MLP(1, [1])
    x = [engine.Value(0.5), engine.Value(-1.5)]
    engine.measure(benchmark, group, loop, model, x, other)
    per_item_ns(benchmark, "ns_per_op", CALLS)


@pytest.mark.parametrize(
    "group, activation",
    [('MLP call, activation="tanh"', "tanh"), ('MLP call, activation="sigmoid"', "sigmoid")],
)
def test_mlp_call_activation(benchmark, engine, group, activation):
    if engine.is_micrograd:
        pytest.skip("micrograd has no activation= (its MLP is relu only)")
    model, other = engine.MLP(2, [16, 16, 1], activation=activation), engine.MLP(1, [1])
    x = [engine.Value(0.5), engine.Value(-1.5)]
    engine.measure(benchmark, group, mlp_calls, model, x, other)
    per_item_ns(benchmark, "ns_per_op", CALLS)


# -----------------------------------------------------------------------------
# an SGD update and zero_grad of the demo's 337 parameters: micrograd's Python loops, and
# micrograd_c.optim's two C calls

LR = 1e-9  # the parameters barely move, round after round


def loops_over_list(model, params, opt):
    for p in params:
        p.data -= LR * p.grad
    for p in params:
        p.grad = 0


def loops_of_demo(model, params, opt):
    model.zero_grad()
    for p in model.parameters():
        p.data -= LR * p.grad


def optim_calls(model, params, opt):
    opt.step()
    opt.zero_grad()


# micrograd_c's call takes under a microsecond: a round of many calls, so that the timer's own
# cost (a round of one call would hold two perf_counter calls) is not counted as the step's
@pytest.mark.benchmark(min_time=0.0005)
@pytest.mark.parametrize(
    "group, loops",
    [
        ("SGD step + zero_grad, 337 parameters (micrograd: loops over a list)", loops_over_list),
        ("SGD step + zero_grad, 337 parameters (micrograd: the demo's loops)", loops_of_demo),
    ],
)
def test_optimizer_step(benchmark, engine, group, loops):
    model = engine.MLP(2, [16, 16, 1])
    params = model.parameters()
    opt = None
    if not engine.is_micrograd:
        from micrograd_c import optim

        opt, loops = optim.SGD(params, lr=LR), optim_calls
    engine.measure(benchmark, group, loops, model, params, opt)


# -----------------------------------------------------------------------------
# the demo's loss graph: its memory, backward on it, and the whole training step


def count_nodes(root):
    """Nodes reachable from root through _prev, each counted once."""
    seen, todo = {id(root)}, [root]
    while todo:
        for child in todo.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                todo.append(child)
    return len(seen)


def rounds(engine):
    # a micrograd demo graph takes seconds to build with the collector on
    return 3 if engine.is_micrograd else 20


def arena_bytes(engine):
    """The bytes of micrograd_c's C arena once dead nodes are reclaimed; 0 for micrograd."""
    if engine.is_micrograd:
        return 0
    import micrograd_c.engine

    micrograd_c.engine.collect()
    return micrograd_c.engine.arena_bytes()


def graph_bytes(engine, loss):
    """Build one loss graph, keeping only its root: returns (root, Python heap bytes, C bytes)
    it added. The heap is traced by tracemalloc, which does not see the C arena's malloc."""
    gc.collect()
    arena = arena_bytes(engine)
    tracemalloc.start()
    try:
        heap = tracemalloc.get_traced_memory()[0]
        root = loss()[0]
        heap = tracemalloc.get_traced_memory()[0] - heap
    finally:
        tracemalloc.stop()
    return root, heap, arena_bytes(engine) - arena


def test_memory(benchmark, engine):
    model, loss = setup(engine.Value, engine.MLP)
    # timed as a build; the report shows the bytes, measured untimed after
    engine.measure(benchmark, "memory per node", loss, rounds=rounds(engine))
    root, heap, arena = graph_bytes(engine, loss)
    nodes = count_nodes(root)
    benchmark.extra_info.update(
        nodes=nodes, python_bytes=heap, c_bytes=arena, bytes_per_node=round((heap + arena) / nodes, 1)
    )


def test_backward(benchmark, engine):
    model, loss = setup(engine.Value, engine.MLP)
    nodes = count_nodes(loss()[0])

    def fresh_graph():
        return (loss()[0],), {}

    engine.measure(
        benchmark,
        "backward (demo loss graph)",
        engine.Value.backward,
        setup=fresh_graph,
        rounds=rounds(engine),
    )
    benchmark.extra_info["nodes"] = nodes
    per_item_ns(benchmark, "ns_per_node", nodes)


def test_demo_step(benchmark, engine):
    model, loss = setup(engine.Value, engine.MLP)
    k = itertools.count()
    # micrograd_c: the demo's whole run of 100 steps, whose median the demo prints; its first
    # few steps map the arena's pages (about 650 page faults each) and do not set the median
    steps = rounds(engine) if engine.is_micrograd else 100
    engine.measure(
        benchmark,
        "demo step (forward, zero_grad, backward, update)",
        lambda: train_step(model, loss, next(k) % 100),
        rounds=steps,
        warmup_rounds=1,
    )
