"""micrograd_c.draw_dot: what trace_graph.ipynb's draw_dot shows, rendered by Graphviz's dot and
read back from the SVG, against an independent walk of the graph; for micrograd's Values too."""

import random
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from _helpers import has_tanh_exp, trace

from micrograd_c import draw, draw_dot

NO_GRAPHVIZ = "the graphviz Python package is not installed (pip install graphviz)"
NO_DOT = "Graphviz's dot program is not installed (apt-get install -y graphviz)"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason=NO_DOT)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def graphviz():
    return pytest.importorskip("graphviz", reason=NO_GRAPHVIZ)


# ----------------------------------------------------------------------------------------
# reading a drawing back, and what it should show


def svg_graph(svg):
    """The nodes (title -> the texts drawn in it) and edges (tail title, head title) of an SVG
    that dot made: `<g class="node">` and `<g class="edge">` with their `<title>`s."""
    nodes, edges = {}, []
    for g in ET.fromstring(svg).iter(SVG + "g"):
        kind = g.get("class")
        if kind not in ("node", "edge"):
            continue
        title = g.find(SVG + "title").text
        if kind == "node":
            nodes[title] = tuple((t.text or "").strip() for t in g.iter(SVG + "text"))
        else:
            tail, head = title.split("->")
            edges.append((tail, head))
    return nodes, edges


def record_texts(v):
    """The fields of v's record, as the lecture's `{ %s | data %.4f | grad %.4f }` shows them."""
    label = getattr(v, "label", "")
    fields = (f"data {v.data:.4f}", f"grad {v.grad:.4f}")
    return (label,) + fields if label else fields


def expected_signature(root):
    """From an independent walk (trace): the records, the op nodes and the edges that the
    drawing must hold, each node named by what it shows (an op node by its op and the record
    it points to), as multisets."""
    values, child_edges = trace(root)
    records = Counter(record_texts(v) for v in values)
    ops = Counter((v._op, record_texts(v)) for v in values if v._op)

    def head(v):
        return ("op", v._op, record_texts(v)) if v._op else ("record", record_texts(v))

    edges = Counter((("record", record_texts(c)), head(v)) for c, v in child_edges)
    edges.update((("op", v._op, record_texts(v)), ("record", record_texts(v))) for v in values if v._op)
    return records, ops, edges


def drawn_signature(svg):
    """The same three multisets, read from dot's SVG."""
    nodes, edges = svg_graph(svg)
    is_record = {t: any(s.startswith("data ") for s in texts) for t, texts in nodes.items()}
    records = Counter(texts for t, texts in nodes.items() if is_record[t])
    # an op node points to exactly one record: its Value's
    points_to = {}
    for tail, head in edges:
        if not is_record[tail]:
            assert tail not in points_to, f"op node {tail} has two outgoing edges"
            assert is_record[head], f"op node {tail} points to another op node"
            points_to[tail] = nodes[head]
    assert set(points_to) == {t for t in nodes if not is_record[t]}, "an op node with no Value"

    def name(t):
        if is_record[t]:
            return ("record", nodes[t])
        (op,) = nodes[t]
        return ("op", op, points_to[t])

    ops = Counter(name(t)[1:] for t in nodes if not is_record[t])
    return records, ops, Counter((name(a), name(b)) for a, b in edges)


def relu_expression(eng):
    x = eng.Value(1.0)
    return (x * 2 + 1).relu()


def neuron_call(eng):
    random.seed(1337)
    n = eng.nn.Neuron(2)
    return n([eng.Value(1.0), eng.Value(-2.0)])


def shared_operands(eng):
    a, b = eng.Value(-1.5), eng.Value(0.25)
    return a * a + a * b + b  # a three times, b twice: each one record


def labelled_tanh(eng):
    a, b = eng.Value(0.5), eng.Value(-2.0)
    a.label, b.label = "a", "b"
    c = a * b
    c.label = "c"
    d = c.tanh()
    d.label = "d"
    return d


GRAPHS = [relu_expression, neuron_call, shared_operands]


# ----------------------------------------------------------------------------------------
# the structure, through dot


@needs_dot
@pytest.mark.parametrize("build", GRAPHS + [labelled_tanh], ids=lambda f: f.__name__)
@pytest.mark.parametrize("backward", [False, True], ids=["fresh", "after_backward"])
def test_drawing_shows_every_value_op_and_edge(graphviz, either, build, backward):
    if build is labelled_tanh and not has_tanh_exp(either):
        pytest.skip("micrograd 0.1.0 has no tanh")
    root = build(either)
    if backward:
        root.backward()
    dot = draw_dot(root)
    assert isinstance(dot, graphviz.Digraph)
    svg = dot.pipe(format="svg")

    values, child_edges = trace(root)
    n_ops = sum(1 for v in values if v._op)
    nodes, edges = svg_graph(svg)
    assert len(nodes) == len(values) + n_ops
    assert len(edges) == sum(len(v._prev) for v in values) + n_ops
    assert len(edges) == len(child_edges) + n_ops
    assert len(set(edges)) == len(edges)
    assert drawn_signature(svg) == expected_signature(root)


@needs_dot
def test_the_relu_expression_in_numbers(graphviz, impl):
    x = impl.Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    nodes, edges = svg_graph(draw_dot(y).pipe(format="svg"))
    # x, 2, x*2, 1, x*2+1, relu: six records; *, +, ReLU: three op nodes; 5 + 3 edges
    assert len(nodes) == 9 and len(edges) == 8
    shown = Counter(nodes.values())
    assert shown == Counter(
        [
            ("data 1.0000", "grad 2.0000"),  # x
            ("data 2.0000", "grad 1.0000"),  # the leaf 2
            ("data 2.0000", "grad 1.0000"),  # x * 2
            ("data 1.0000", "grad 1.0000"),  # the leaf 1
            ("data 3.0000", "grad 1.0000"),  # x * 2 + 1
            ("data 3.0000", "grad 1.0000"),  # relu
            ("*",),
            ("+",),
            ("ReLU",),
        ]
    )


@needs_dot
def test_the_neuron_has_its_parameters_and_inputs(graphviz, either):
    random.seed(1337)
    n = either.nn.Neuron(2)
    x = [either.Value(1.0), either.Value(-2.0)]
    y = n(x)
    y.backward()
    nodes, _ = svg_graph(draw_dot(y).pipe(format="svg"))
    # 2 inputs, 2 weights, bias, 2 products, 2 sums, ReLU; two *, two +, one ReLU
    assert len(nodes) == 10 + 5
    records = Counter(t for t in nodes.values() if len(t) > 1)
    for v in n.parameters() + x:
        assert records[record_texts(v)] >= 1


# ----------------------------------------------------------------------------------------
# the records


def test_records_show_label_data_and_grad_to_four_places(graphviz, impl):
    a = impl.Value(2.0)
    a.label = "a"
    b = impl.Value(-3.14159265)
    c = a * b
    c.label = "c"
    c.backward()
    source = draw_dot(c).source
    assert '"{ a | data 2.0000 | grad -3.1416 }"' in source
    assert '"{ data -3.1416 | grad 2.0000 }"' in source  # no label: no label field
    assert '"{ c | data -6.2832 | grad 1.0000 }"' in source
    assert source.count("shape=record") == 3


def test_micrograd_values_have_no_label_field(graphviz, ref):
    x = ref.Value(1.5)
    assert not hasattr(x, "label")
    y = x * x
    y.backward()
    source = draw_dot(y).source
    assert '"{ data 1.5000 | grad 3.0000 }"' in source
    assert '"{ data 2.2500 | grad 1.0000 }"' in source
    assert source.count("shape=record") == 2


def test_a_user_label_on_a_micrograd_value_is_shown(graphviz, ref):
    x = ref.Value(1.0)
    x.label = "x"
    assert '"{ x | data 1.0000 | grad 0.0000 }"' in draw_dot(x).source


WEIRD = 'a|b{c}<d> "e" \\ f'


@needs_dot
def test_a_label_with_record_syntax_is_escaped(graphviz, impl):
    v = impl.Value(1.0)
    v.label = WEIRD
    w = v.relu()
    w.label = "<html>"
    nodes, edges = svg_graph(draw_dot(w).pipe(format="svg"))
    # still two records of three fields each, the labels drawn as they are
    assert sorted(t for t in nodes.values() if len(t) > 1) == sorted(
        [
            (WEIRD, "data 1.0000", "grad 0.0000"),
            ("<html>", "data 1.0000", "grad 0.0000"),
        ]
    )
    assert len(edges) == 2


@needs_dot
def test_an_op_with_odd_characters_is_drawn_as_it_is(graphviz, ref):
    # micrograd lets a user name an op anything
    a = ref.Value(1.0)
    out = ref.Value(2.0, (a,), '<f "x"> \\ |{}')
    nodes, _ = svg_graph(draw_dot(out).pipe(format="svg"))
    assert ('<f "x"> \\ |{}',) in nodes.values()
    assert len(nodes) == 3


def drawn(eng, where, text):
    """The lines dot draws for `text` as a Value's label (its record's fields before data and
    grad) or as an op's name (its op node), read back from the SVG (which must parse)."""
    a = eng.Value(1.0)
    if where == "label":
        a.label = text
        root = a
    else:
        root = eng.Value(2.0, (a,), text)
    nodes, edges = svg_graph(draw_dot(root).pipe(format="svg"))
    records = [t for t in nodes.values() if any(s.startswith("data ") for s in t)]
    ops = [t for t in nodes.values() if t not in records]
    if where == "label":
        assert len(nodes) == 1 and not edges
        (shown,) = records
        assert shown[-2:] == ("data 1.0000", "grad 0.0000")  # still three fields
        return shown[:-2]
    assert len(records) == 2 and len(edges) == 2
    (shown,) = ops
    return shown


WHERE = ["label", "op"]

# (text, the lines drawn): control characters but newline, lone surrogates and U+FFFE/U+FFFF
# as Python's repr() writes them. dot 2.43 stops reading at a NUL, drops C0 characters from a
# record and copies them into a plain label's SVG raw, which no XML parser reads; it copies
# U+FFFE/U+FFFF raw too; Python cannot encode a lone surrogate as UTF-8 for dot at all.
UNDRAWABLE = [
    ("a\x00b", ("a\\x00b",)),
    ("\x00", ("\\x00",)),
    ("a\x01b", ("a\\x01b",)),
    ("a\tb", ("a\\tb",)),
    ("a\rb", ("a\\rb",)),
    ("a\x0bb\x0cc", ("a\\x0bb\\x0cc",)),
    ("esc\x1b[31m", ("esc\\x1b[31m",)),
    ("a\x1fb", ("a\\x1fb",)),
    ("a\x7fb", ("a\\x7fb",)),
    ("a\x80b\x85c\x9fd", ("a\\x80b\\x85c\\x9fd",)),
    ("a\r\nb", ("a\\r", "b")),
    ("a\udc80b", ("a\\udc80b",)),
    ("\ud83d\ude00", ("\\ud83d\\ude00",)),  # two lone surrogates, not an emoji
    ("a\ufffeb\uffff", ("a\\ufffeb\\uffff",)),
]


# (text, the lines drawn): what dot reads with a meaning of its own is drawn as it is.
# Record syntax and backslash escapes, and character entities (dot shows "&lt;" as "<").
LITERAL = [
    (WEIRD, (WEIRD,)),
    ("<html>", ("<html>",)),
    ("<<b>x</b>>", ("<<b>x</b>>",)),
    ('<f "x"> \\ |{}', ('<f "x"> \\ |{}',)),
    ("\\N \\G \\E \\T \\H \\L", ("\\N \\G \\E \\T \\H \\L",)),
    ("a\\lb\\rc\\nd", ("a\\lb\\rc\\nd",)),
    ("ends in \\", ("ends in \\",)),
    ("x\ny", ("x", "y")),  # a newline is a line break
    ("&amp;", ("&amp;",)),
    ("&lt;b&gt;", ("&lt;b&gt;",)),
    ("&#65;&#x42;", ("&#65;&#x42;",)),
    ("&nbsp;", ("&nbsp;",)),
    ("a & b &c", ("a & b &c",)),
    ("ab é ∑ 😀 \u2028 \xa0 z", ("ab é ∑ 😀 \u2028 \xa0 z",)),
    # dot 2.43 drops a record field's spaces before its first ASCII character
    ("é b", ("é b",)),
    ("α β γ", ("α β γ",)),
    ("  😀 x", ("😀 x",)),
]


# what dot cannot take is shown as repr() writes it; what it reads with a meaning of its own
# is drawn as it is
@needs_dot
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("text, lines", UNDRAWABLE + LITERAL, ids=[repr(t) for t, _ in UNDRAWABLE + LITERAL])
def test_labels_are_drawn_as_promised(graphviz, either, where, text, lines):
    assert drawn(either, where, text) == lines


def test_the_label_limit_is_documented(graphviz):
    assert draw.MAX_LABEL == 1000
    assert str(draw.MAX_LABEL) in draw.draw_dot.__doc__


@needs_dot
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("size", [16 * 1024, 1024 * 1024], ids=["16KB", "1MB"])
def test_a_long_label_is_cut_with_an_ellipsis(graphviz, either, where, size):
    # dot 2.43 reads at most 16381 bytes of a quoted string between backslashes
    text = "x" * size
    assert drawn(either, where, text) == ("x" * (draw.MAX_LABEL - 1) + "\u2026",)


@needs_dot
@pytest.mark.parametrize("where", WHERE)
def test_labels_up_to_the_limit_are_drawn_whole(graphviz, either, where):
    n = draw.MAX_LABEL
    assert drawn(either, where, "y" * n) == ("y" * n,)
    assert drawn(either, where, "y" * (n + 1)) == ("y" * (n - 1) + "\u2026",)
    assert drawn(either, where, "\U0001f600" * n) == ("\U0001f600" * n,)  # 4 bytes each
    assert drawn(either, where, "&" * n) == ("&" * n,)


@needs_dot
@pytest.mark.parametrize("where", WHERE)
def test_a_long_label_is_cut_before_it_is_escaped(graphviz, either, where):
    n = draw.MAX_LABEL
    assert drawn(either, where, "\x00" * (2 * n)) == ("\\x00" * (n - 1) + "\u2026",)
    cut = ("z\n" * n)[: n - 1] + "\u2026"  # newlines count as characters
    assert drawn(either, where, "z\n" * (2 * n)) == tuple(cut.split("\n"))


def test_ordinary_labels_keep_their_dot_source(graphviz, impl):
    a, b = impl.Value(1.0), impl.Value(2.0)
    a.label, b.label = "x1*w1 + x2*w2 (é)", "σ(x)"
    out = impl.Value(3.0, (a, b), "+ x")
    source = draw_dot(out).source
    assert '"{ x1*w1 + x2*w2 (é) | data 1.0000 | grad 0.0000 }"' in source
    assert '"{ σ(x) | data 2.0000 | grad 0.0000 }"' in source
    assert '[label="+ x"]' in source


def test_a_value_used_twice_is_drawn_once(graphviz, impl):
    a = impl.Value(3.0)
    source = draw_dot(a + a).source
    assert source.count("shape=record") == 2
    assert source.count("->") == 2  # a -> '+', '+' -> a + a


def test_a_value_with_children_and_no_op_gets_edges_straight_to_it(graphviz, ref):
    a, b = ref.Value(1.0), ref.Value(2.0)
    out = ref.Value(3.0, (a, b))  # micrograd's default _op is ''
    source = draw_dot(out).source
    assert source.count("shape=record") == 3
    assert source.count("->") == 2
    assert source.count("[label=") == 3  # the three records, no op node


# ----------------------------------------------------------------------------------------
# options


@needs_dot
def test_format_and_rankdir_reach_the_digraph(graphviz, impl):
    y = relu_expression(impl)
    dot = draw_dot(y, format="png", rankdir="TB")
    assert dot.format == "png"
    assert dot.graph_attr["rankdir"] == "TB"
    assert "rankdir=TB" in dot.source
    assert dot.pipe().startswith(b"\x89PNG")  # the Digraph's own format
    assert draw_dot(y).format == "svg"
    assert "rankdir=LR" in draw_dot(y).source
    assert draw_dot(y).pipe().lstrip().startswith(b"<?xml")


def test_jupyter_can_show_it(graphviz, impl):
    assert hasattr(draw_dot(impl.Value(1.0)), "_repr_mimebundle_")


def test_bad_options_are_refused(graphviz, impl):
    v = impl.Value(1.0)
    with pytest.raises(ValueError, match="rankdir must be one of LR, RL, TB, BT"):
        draw_dot(v, rankdir="sideways")
    with pytest.raises(ValueError, match="format"):
        draw_dot(v, format="nonsense")
    with pytest.raises(ValueError, match="max_nodes must be at least 1"):
        draw_dot(v, max_nodes=0)
    with pytest.raises(TypeError, match="max_nodes must be an int"):
        draw_dot(v, max_nodes=10.0)
    with pytest.raises(TypeError, match="draw_dot expects a Value"):
        draw_dot(1.0)


# ----------------------------------------------------------------------------------------
# big graphs


def chain(eng, n):
    """A graph of n + 1 Values, each the relu of the one before: n deep."""
    v = eng.Value(1.0)
    for _ in range(n):
        v = v.relu()
    return v


def test_more_than_max_nodes_is_refused_with_what_to_do(graphviz, impl):
    root = chain(impl, 10)  # 11 Values
    assert draw_dot(root, max_nodes=11).source.count("shape=record") == 11
    with pytest.raises(ValueError) as err:
        draw_dot(root, max_nodes=10)
    msg = str(err.value)
    assert "more than max_nodes=10 Values" in msg
    assert "found 11" in msg
    assert "draw_dot(root, max_nodes=...)" in msg


def test_a_huge_graph_is_refused_after_max_nodes_values(graphviz, either):
    # the refusal reads _prev of at most max_nodes Values (and once to check root is one),
    # however big the graph: counted, on a chain of real Values
    class Counted(either.Value):
        reads = 0

        def __getattribute__(self, name):
            if name == "_prev":
                Counted.reads += 1
            return super().__getattribute__(name)

    kept = [Counted(1.0)]  # each Value kept: _prev gives the user's own
    for _ in range(50_000):
        kept.append(Counted(1.0, (kept[-1],), "ReLU"))
    Counted.reads = 0
    with pytest.raises(ValueError, match="more than max_nodes=5000 Values"):
        draw_dot(kept[-1])
    assert Counted.reads <= 5000 + 1, Counted.reads


class LazyChain:
    """A Value-like chain whose children are made when first asked for, counting how many
    nodes were expanded: a walk that stops early expands few."""

    expanded = 0

    def __init__(self, depth):
        self.depth, self.data, self.grad, self._op, self._kids = depth, 0.0, 0.0, "", None

    @property
    def _prev(self):
        if self._kids is None:
            LazyChain.expanded += 1
            self._kids = {LazyChain(self.depth + 1)} if self.depth < 200_000 else set()
        return self._kids


def test_the_walk_stops_at_the_limit(graphviz, monkeypatch):
    monkeypatch.setattr(LazyChain, "expanded", 0)
    with pytest.raises(ValueError, match="more than max_nodes=100 Values"):
        draw_dot(LazyChain(0), max_nodes=100)
    assert LazyChain.expanded <= 100


def test_a_deep_graph_is_walked_without_recursion(graphviz, impl):
    depth = 30_000  # far past the recursion limit
    assert depth > sys.getrecursionlimit()
    source = draw_dot(chain(impl, depth), max_nodes=depth + 1).source
    assert source.count("shape=record") == depth + 1
    assert source.count("->") == 2 * depth


# ----------------------------------------------------------------------------------------
# without graphviz


def test_without_graphviz_the_error_says_what_to_install(monkeypatch, impl):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    with pytest.raises(ImportError, match=r'pip install "micrograd_c\[draw\]"'):
        draw_dot(impl.Value(1.0))
