"""draw_dot: a Value's graph as a graphviz drawing, as the lecture and trace_graph.ipynb draw it.

One record per Value, `{ label | data | grad }`, and one small node per operation between the
Values it combines and the Value it makes. The walk reads only `data`, `grad`, `_prev`, `_op`
and `label`, so micrograd's own Values draw the same way. graphviz is an optional dependency
(`pip install "micrograd_c[draw]"`), imported when draw_dot is called.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

__all__ = ["draw_dot"]

RANKDIRS = ("LR", "RL", "TB", "BT")

# the most characters of a label or op name drawn; a longer one is cut to MAX_LABEL - 1 and "…".
# Graphviz 2.43's dot cannot read a quoted string with more than 16381 bytes between two
# backslashes ("longer than 16384?") and fails on the whole graph; MAX_LABEL characters are at
# most 5 bytes each between backslashes ("&amp;", or 4 of UTF-8).
MAX_LABEL = 1000

# what dot 2.43 cannot take in a label, shown as repr() writes it: control characters but the
# newline (dot stops reading at a NUL, drops the others from a record and copies them raw into
# a plain label's SVG, which no XML parser reads then), U+FFFE and U+FFFF (copied raw too; not
# XML characters) and lone surrogates (no UTF-8 for them, so Python cannot hand them to dot)
_UNDRAWABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# characters with a meaning in a record label (fields, ports, quoting), and the backslash that
# escapes them; a newline becomes graphviz's centred line break; "&" would start a character
# entity ("&lt;" is drawn as "<")
_RECORD_ESCAPES = str.maketrans({**{c: "\\" + c for c in '\\{}|<>"'}, "\n": "\\n", "&": "&amp;"})
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "&": "&amp;"})


def draw_dot(root: Any, format: str = "svg", rankdir: str = "LR", max_nodes: int = 5000) -> Any:
    """The graph that ends in `root`, as a graphviz.Digraph (Jupyter shows it inline).

    Each Value is a record `{ label | data %.4f | grad %.4f }` (no label field when the Value
    has no label, or an empty one); each Value with an `_op` gets a node showing it, with
    edges from its children's records to it and from it to the Value's record. Each distinct
    Value object appears once, however often it is used. `format` ("svg", "png", ...) and
    `rankdir` ("LR", "TB", ...) are the Digraph's. A graph of more than `max_nodes` Values is
    refused with a ValueError (graphviz's layout takes minutes on tens of thousands of nodes).

    Labels and op names are drawn as `str()` makes them, a newline as a line break. What
    Graphviz cannot draw is shown as `repr()` writes it: other control characters (`\\x00`,
    `\\t`), lone surrogates (`\\udc80`), U+FFFE and U+FFFF. One longer than MAX_LABEL = 1000
    characters is cut to its first 999 and "…" (dot 2.43 cannot read 16 KB of one). None is
    refused: an odd label should not stop a drawing, and what it shows says what was changed.

        >>> from micrograd_c import Value, draw_dot
        >>> x = Value(2.0, label='x')
        >>> y = (x * 3).relu(); y.label = 'y'
        >>> y.backward()
        >>> dot = draw_dot(y)                     # in Jupyter: the last line of a cell shows it
        >>> svg = dot.pipe(format="svg")          # needs Graphviz's `dot` program
    """
    try:
        graphviz = importlib.import_module("graphviz")
    except ImportError as err:
        raise ImportError(
            'draw_dot needs the graphviz Python package: pip install "micrograd_c[draw]" '
            "(and Graphviz's dot program to render, e.g. apt-get install graphviz)"
        ) from err
    if not all(hasattr(root, a) for a in ("data", "grad", "_prev", "_op")):
        raise TypeError(f"draw_dot expects a Value (data, grad, _prev and _op), got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise TypeError(f"max_nodes must be an int, got {type(max_nodes).__name__}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")

    values, children = _walk(root, max_nodes)

    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for i, v in enumerate(values):
        dot.node(f"v{i}", label=_record(v), shape="record")
        target = f"v{i}"
        op = v._op
        if op:
            target = f"op{i}"
            dot.node(target, label=graphviz.nohtml(_shown(str(op)).translate(_TEXT_ESCAPES)))
            dot.edge(target, f"v{i}")
        for k in children[i]:
            dot.edge(f"v{k}", target)
    return dot


def _walk(root: Any, max_nodes: int) -> tuple[list[Any], list[list[int]]]:
    """Every Value reachable from root through `_prev`, once each (breadth first, root first),
    and for each the indices of its children. Iterative: any depth. `values` holds every Value
    it has seen, so no id() in `index` can be reused by a new object during the walk."""
    values = [root]
    index = {id(root): 0}
    children: list[list[int]] = []
    for v in values:  # grows as the walk finds new Values
        kids = []
        for child in v._prev:
            k = index.get(id(child))
            if k is None:
                k = len(values)
                if k == max_nodes:
                    raise ValueError(
                        f"draw_dot: the graph has more than max_nodes={max_nodes} Values "
                        f"(found {k + 1} and stopped counting); draw a smaller graph, or "
                        f"raise the limit with draw_dot(root, max_nodes=...) (graphviz's "
                        f"layout gets slow past a few thousand nodes)"
                    )
                index[id(child)] = k
                values.append(child)
            kids.append(k)
        children.append(kids)
    return values, children


def _record(v: Any) -> str:
    fields = "data %.4f | grad %.4f" % (v.data, v.grad)
    label = getattr(v, "label", "")
    if label is None or label == "":
        return "{ " + fields + " }"
    text = _shown(str(label)).translate(_RECORD_ESCAPES)
    # dot 2.43 drops the spaces of a record field that starts with a non-ASCII character until
    # its first ASCII one ("é b" is drawn "éb"); a backslash before that character, which dot
    # then drops, keeps them
    start = len(text) - len(text.lstrip(" "))
    if text[start : start + 1] >= "\x80" and " " in text[start:]:
        text = text[:start] + "\\" + text[start:]
    return "{ " + text + " | " + fields + " }"


def _shown(text: str) -> str:
    """text as the drawing shows it: cut to MAX_LABEL characters, what dot cannot take (in
    _UNDRAWABLE) as repr() writes it."""
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "\u2026"
    return _UNDRAWABLE.sub(lambda m: repr(m.group())[1:-1], text)
