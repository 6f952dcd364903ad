"""Run the benchmarks once and write every figure they give: docs/benchmarks.md, its chart, the README's.

    python benchmarks/run.py                      # runs test_bench.py and test_gpt.py (minutes), then writes
    python benchmarks/run.py --instructions FILE  # with the counts `instructions.py --json FILE` saved
    python benchmarks/run.py --json FILE          # from a saved pytest-benchmark JSON report, not running
    python benchmarks/run.py --save FILE          # keeps this run's report, for --json later
    python benchmarks/run.py --no-write           # prints the table only
    python benchmarks/run.py -- -k backward       # after --: more pytest arguments (then use --no-write)

Ratios are medians from one run, micrograd's over micrograd_c's, for micrograd with the
collector on (as users run it) and with gc.disable(); for 'memory per node' they are bytes
over bytes. examples/gpt.py's training step (test_gpt.py), which micrograd cannot run, is timed
three ways instead, and its ratios are a pure-Python Value's step over micrograd_c's two ways'.
Absolute times drift from machine to machine; ratios measured in one run hold. It runs the
benchmarks beside it on the micrograd_c that is installed. Every sentence of docs/benchmarks.md
is written here, so the file is never edited by hand; the README's figures are the text between
its `<!-- begin: benchmarks/run.py ... -->` and `<!-- end: ... -->` lines.
Needs pip install "micrograd_c[bench]".
"""

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
import textwrap
from dataclasses import dataclass

ENGINES = ("micrograd", "micrograd-nogc", "micrograd_c")  # conftest.py's engine ids
VERSUS = {"micrograd": "vs micrograd, gc on", "micrograd-nogc": "vs micrograd, gc.disable()"}
HEADERS = ("micrograd", "micrograd, `gc.disable()`", "micrograd_c")  # ENGINES', in markdown
WAYS = ("python", "micrograd_c", "functional")  # test_gpt.py's way ids (examples/gpt.py's Ways)
WAY_HEADERS = ("pure-Python Value", "micrograd_c, same code", "micrograd_c.functional + optim")
SPEEDUPS = {"micrograd_c": "vs pure Python, same code", "functional": "vs pure Python, functional"}
HERE = os.path.dirname(os.path.abspath(__file__))
BENCHMARKS = [os.path.join(HERE, name) for name in ("test_bench.py", "test_gpt.py")]
COMMAND = "python benchmarks/run.py"
# absolute, as the README is also the package's page on PyPI, where a relative link leads nowhere
DOCS_URL = "https://github.com/micrograd-c/micrograd_c/blob/main/docs/benchmarks.md"

# The groups of test_bench.py and test_gpt.py and cases of instructions.py that the README and the
# notes name (test_run.py checks that each is there, so a rename cannot drop a note unseen).
ADD = "build a + b"
READ = "read v.data"
TRACE = "trace a 100k-node graph"
MLP = "MLP(2, [16, 16, 1]) call"
MLP_TANH = 'MLP call, activation="tanh"'
MLP_SIGMOID = 'MLP call, activation="sigmoid"'
SGD_LIST = "SGD step + zero_grad, 337 parameters (micrograd: loops over a list)"
SGD_DEMO = "SGD step + zero_grad, 337 parameters (micrograd: the demo's loops)"
MEMORY = "memory per node"
BACKWARD = "backward (demo loss graph)"
STEP = "demo step (forward, zero_grad, backward, update)"
GPT = "GPT training step (examples/gpt.py, one name)"
README_GROUPS = (ADD, READ, TRACE, MLP, SGD_DEMO, MEMORY, BACKWARD, STEP)  # the README's table
HEADLINE_GROUPS = (STEP, ADD, BACKWARD, MEMORY, GPT)
READ_CASE = "v.data"
SGD_PARAMETERS = 337


# -----------------------------------------------------------------------------
# running the benchmarks


def run_benchmarks(paths, pytest_args):
    """Run pytest on `paths` in this interpreter: returns the parsed JSON report."""
    import pytest

    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        status = pytest.main(
            [
                *paths,
                "-q",
                "-p",
                "no:cacheprovider",
                "--benchmark-group-by=group",
                f"--benchmark-json={out}",
                *pytest_args,
            ]
        )
        if status != 0:
            sys.exit(f"pytest exited with status {status}")
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


# -----------------------------------------------------------------------------
# the report: one row per group, its columns test_bench.py's engines or test_gpt.py's ways


@dataclass
class Row:
    group: str
    per: str  # what a value is per: 'op', 'node' or 'call'
    unit: str  # 's' or 'B'
    values: dict  # engine (or way): seconds or bytes
    info: dict  # engine (or way): the benchmark's extra_info

    def over(self, slow, fast):
        """slow's value over fast's, or None where one of them is missing."""
        fast = self.values.get(fast)
        return self.values[slow] / fast if fast and slow in self.values else None

    def ratio(self, engine):
        """engine's value over micrograd_c's, or None where one of them is missing."""
        return self.over(engine, "micrograd_c")

    def speedup(self, way):
        """The GPT group's pure-Python step over way's, or None where one of them is missing."""
        return self.over("python", way)

    def show(self, column):
        """column's value as text: '1.37 us', '43 B', or '-' where it did not run."""
        if column not in self.values:
            return "-"
        return format_bytes(self.values[column]) if self.unit == "B" else format_time(self.values[column])

    def cells(self):
        """Each engine's value as text, then the two ratios."""
        ratios = [format_ratio(r) if r else "-" for r in map(self.ratio, VERSUS)]
        return [self.group, self.per, *map(self.show, ENGINES), *ratios]

    def way_cells(self):
        """Each way's value as text, then the pure-Python one's over the other two."""
        ratios = [format_ratio(r) if r else "-" for r in map(self.speedup, SPEEDUPS)]
        return [self.group, *map(self.show, WAYS), *ratios]


def measure(bench):
    """(value, per, unit) of one benchmark: the median of a call, or what extra_info holds
    per op or per node in its place (a time, or a graph's bytes per node)."""
    info = bench["extra_info"]
    if "bytes_per_node" in info:
        return info["bytes_per_node"], "node", "B"
    for key in ("ns_per_op", "ns_per_node"):
        if key in info:
            return info[key] * 1e-9, key[len("ns_per_") :], "s"
    return bench["stats"]["median"], "call", "s"


def rows(report, column="engine"):
    """The report's groups whose benchmarks are parametrized by `column` ('engine' for
    test_bench.py's, 'way' for test_gpt.py's), in the order of their first benchmark."""
    groups = {}
    for bench in report["benchmarks"]:
        key = (bench["params"] or {}).get(column)
        if key is None:
            continue
        value, per, unit = measure(bench)
        row = groups.setdefault(bench["group"], Row(bench["group"], per, unit, {}, {}))
        row.values[key] = value
        row.info[key] = bench["extra_info"]
    return list(groups.values())


def format_time(s):
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s * 1e9:.3g} ns"


def format_bytes(b):
    return f"{b:.0f} B"


def format_ratio(r):
    if r >= 100:
        return f"{r:.0f}x"
    return f"{r:.1f}x" if r >= 1 else f"{r:.2f}x"  # below 1, micrograd_c is the slower


def format_count(n, per):
    """An instruction count: millions for a whole step, else every instruction."""
    return f"{n / 1e6:,.2f} M" if per == "step" else f"{n:,.0f}"


def table(report):
    """Lines of text: per group, each engine's value and micrograd's over micrograd_c's."""
    return aligned([["group", "per", *ENGINES, "micrograd / c", "nogc / c"], *map(Row.cells, rows(report))])


def gpt_table(report):
    """Lines of text: the GPT step of each way and the pure-Python one's over the others';
    none where the run has no GPT group."""
    found = rows(report, "way")
    header = ["group", *WAYS, "python / c", "python / functional"]
    return aligned([header, *map(Row.way_cells, found)]) if found else []


def aligned(lines):
    """Cells as lines of text in columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
        for line in lines
    ]


def machine(report):
    """'AMD EPYC (2 CPUs, a virtual machine), CPython 3.11.7', from the report's machine_info."""
    info = report.get("machine_info", {})
    cpu = info.get("cpu", {})
    what = [f"{cpu['count']} CPUs"] if cpu.get("count") else []
    if "hypervisor" in cpu.get("flags", ()):
        what.append("a virtual machine")
    name = cpu.get("brand_raw") or info.get("machine") or "an unknown CPU"
    if what:
        name += f" ({', '.join(what)})"
    return f"{name}, {info.get('python_implementation', 'Python')} {info.get('python_version', '')}".rstrip()


def date(report):
    """The day the run started (pytest-benchmark's datetime, UTC), or 'an unknown date'."""
    return report.get("datetime", "")[:10] or "an unknown date"


def commit(report):
    """'commit 0123456789', the run's git commit, with a warning where the tree had changes."""
    info = report.get("commit_info", {})
    if not info.get("id"):
        return "no git commit"
    return f"commit {info['id'][:10]}" + (" with uncommitted changes" if info.get("dirty") else "")


# -----------------------------------------------------------------------------
# the markdown: docs/benchmarks.md and the README's figures


def escape(text):
    """text as markdown shows it literally (a group name in a table cell)."""
    return re.sub(r"([\\`*_|\[\]])", r"\\\1", text).replace("<", "&lt;")


def paragraph(text):
    """text as one paragraph of lines up to 100 columns, never broken inside a code span, a
    link or between a number and its unit."""
    spans = r"`[^`]*`|\[[^]]*\]\([^)]*\)"  # code spans and links
    text = re.sub(spans, lambda m: m.group().replace(" ", "\0"), " ".join(text.split()))
    text = re.sub(r"(\d) (?=[a-zA-Z])", "\\1\0", text)
    return textwrap.fill(text, 100, break_long_words=False, break_on_hyphens=False).replace("\0", " ")


def markdown_table(header, lines, left=2):
    """A markdown table: the first `left` columns (a name, what a figure is per) left-aligned,
    the figures right-aligned."""
    out = ["| " + " | ".join(header) + " |", "|---" * left + "|---:" * (len(header) - left) + "|"]
    return out + ["| " + " | ".join(line) + " |" for line in lines]


def times_table(all_rows):
    header = ["group", "per", *HEADERS, VERSUS["micrograd"], VERSUS["micrograd-nogc"]]
    return markdown_table(header, [[escape(row.group), *row.cells()[1:]] for row in all_rows])


def gpt_markdown_table(gpt_rows):
    header = ["group", *WAY_HEADERS, *SPEEDUPS.values()]
    return markdown_table(header, [[escape(row.group), *row.way_cells()[1:]] for row in gpt_rows], left=1)


def instructions_table(counts):
    def cells(row):
        shown = [format_count(row["counts"][e], row["per"]) if e in row["counts"] else "-" for e in ENGINES]
        return [escape(row["case"]), row["per"], *shown]

    return markdown_table(["case", "per", *HEADERS], [cells(row) for row in counts["rows"]])


def headline(by, report):
    """The README's first-screen sentences: the demo step, `a + b`, backward, memory, and the
    GPT step against a pure-Python Value."""
    step, add, back, mem, gpt = by[STEP], by[ADD], by[BACKWARD], by[MEMORY], by[GPT]
    return paragraph(f"""
        Speed against micrograd 0.1.0, from one run of `{COMMAND}` on {machine(report)}, {date(report)}:
        demo.ipynb's training step takes {step.show("micrograd_c")}, against {step.show("micrograd")}
        for micrograd as users run it ({format_ratio(step.ratio("micrograd"))}) and
        {step.show("micrograd-nogc")} with `gc.disable()` ({format_ratio(step.ratio("micrograd-nogc"))});
        `a + b` is {format_ratio(add.ratio("micrograd"))} faster; `backward()` costs
        {back.show("micrograd_c")} a node ({format_ratio(back.ratio("micrograd"))}); a node of the demo's
        graph takes {mem.show("micrograd_c")} (micrograd: {mem.show("micrograd")}).
        examples/gpt.py's GPT training step, which micrograd cannot run, takes {gpt.show("micrograd_c")}
        with micrograd_c's Value and the same code and {gpt.show("functional")} with `functional` and
        `optim`, against {gpt.show("python")} for a pure-Python scalar Value in microgpt's style
        ({format_ratio(gpt.speedup("micrograd_c"))} and {format_ratio(gpt.speedup("functional"))}).
        [Every figure, notes on them and a chart]({DOCS_URL}).""")


def readme_table(by):
    return "\n".join(times_table([by[group] for group in README_GROUPS]))


# Notes on the figures: each a function of the rows by group and the instruction counts by
# case, written under the table. A note whose group did not run (KeyError) is left out.


def note_noise(by, cases):
    steady = " The instruction counts below do not move with it." if cases else ""
    return (
        """On a shared or virtual machine, single ops and micrograd's own demo step move
        noticeably from run to run: compare the ratios of one run, not times across runs."""
        + steady
    )


def note_step(by, cases):
    step = by[STEP]
    return f"""**The demo step** is `python -m micrograd_c.demo`'s training step on demo.ipynb's moons:
        forward, `zero_grad`, `backward()` and the SGD update. micrograd_c's
        {step.show("micrograd_c")} is the median of the demo's 100 steps, the steady step the demo
        prints (its first few steps map the arena's pages); micrograd's, of fewer steps."""


def note_memory(by, cases):
    mem = by[MEMORY]
    c, m = mem.info["micrograd_c"], mem.info["micrograd"]
    return f"""**Memory**: the demo's loss graph ({c["nodes"]:,} nodes) takes {c["c_bytes"]:,} bytes
        of C arena and {c["python_bytes"]:,} of Python heap (tracemalloc) on micrograd_c,
        {mem.show("micrograd_c")} a node; on micrograd, {m["python_bytes"]:,} bytes of Python
        objects, {mem.show("micrograd")} a node."""


def note_read(by, cases):
    read = by[READ]
    counted = ""
    if READ_CASE in cases and {"micrograd", "micrograd_c"} <= cases[READ_CASE]["counts"].keys():
        n = cases[READ_CASE]["counts"]
        counted = (
            f" ({format_count(n['micrograd_c'], 'op')} instructions against "
            f"{format_count(n['micrograd'], 'op')})"
        )
    return f"""**Reading `v.data`** takes {read.show("micrograd_c")} against micrograd's
        {read.show("micrograd")}{counted}: `data` is a getter that makes a float of the node's data
        at each read, where micrograd's is an instance attribute, which CPython 3.11 and later read
        inline (they specialize reads of slots and instance dicts, not of getters). A float kept
        beside the node would read as fast, but every optimizer step would then make a new float
        for each parameter; so the arena is the one place data lives, and no float is ever
        written in place."""


def note_trace(by, cases):
    trace = by[TRACE]
    return f"""**The trace** of a 100k-node graph (trace_graph.ipynb's walk over `_prev`) takes
        {trace.show("micrograd_c")} a node against micrograd's {trace.show("micrograd")}: a first
        walk makes a `Value` for every node it visits, where micrograd's exist already, and
        Python's collector, set off by those new objects over a heap that holds little else (the
        graph itself is in C), makes up most of the difference. A second walk of the same graph
        finds those Values kept."""


def note_activations(by, cases):
    relu = by[MLP].values["micrograd_c"]
    tanh, sigmoid = by[MLP_TANH].values["micrograd_c"], by[MLP_SIGMOID].values["micrograd_c"]
    return f"""**Activations**: the tanh and sigmoid MLP calls take {tanh / relu:.2f}x and
        {sigmoid / relu:.2f}x the relu call's time. A tanh is libm's, as `math.tanh` is, so that its
        values are Python's to the bit."""


def note_sgd(by, cases):
    ours, lists, demo = by[SGD_LIST].values["micrograd_c"], by[SGD_LIST], by[SGD_DEMO]
    return f"""**`optim.SGD`**'s `step()` and `zero_grad()` take {format_time(ours)} for the
        {SGD_PARAMETERS} parameters, {format_time(ours / SGD_PARAMETERS)} a parameter: they are C
        methods, a step writes only the arena (no float is made or changed), and `zero_grad` is a
        memset over the parameters' adjacent grads. micrograd's loops take {lists.show("micrograd")}
        over a list it already holds, {demo.show("micrograd")} as the demo writes them."""


NOTES = (note_noise, note_step, note_memory, note_read, note_trace, note_activations, note_sgd)


def notes(by, cases):
    """The paragraphs of NOTES whose groups ran."""
    out = []
    for note in NOTES:
        try:
            out.append(paragraph(note(by, cases)))
        except KeyError:
            continue
    return out


GROUPS_TEXT = """Every benchmark of the table below runs on three engines side by side
    (benchmarks/conftest.py):
    micrograd 0.1.0 with the garbage collector on, as users run it; micrograd with `gc.disable()`
    while the benchmark runs; and micrograd_c. The groups (benchmarks/test_bench.py) are single ops
    (`a + b`, `a * b`, `a + 1.0`, `a * 2.0`, `relu`, `tanh`, reading `.data`, `Value(x)`, `_prev` of
    a fresh node with two million other objects alive), trace_graph.ipynb's walk over a fresh
    100k-node graph, an `MLP(2, [16, 16, 1])` call with and without unrelated attributes set
    between calls (and with tanh and sigmoid, micrograd_c only), an SGD update and zero_grad of its
    337 parameters (micrograd's Python loops against `optim.SGD`'s `step()` and `zero_grad()`), the
    bytes a node of the demo's loss graph takes (the Python heap by tracemalloc, plus micrograd_c's C
    arena), `backward()` on that graph, and the demo's whole training step. A time is the median of
    many calls, per op for single ops and MLP calls, per node for the trace and `backward()`, per
    call for the optimizer and the training step; the ratios are micrograd's time, or bytes, over
    micrograd_c's, so above 1 micrograd_c is the faster (or smaller). examples/gpt.py's GPT training
    step, which micrograd cannot run, has a section of its own after the notes."""

GPT_TEXT = """examples/gpt.py's one-layer, four-head, 16-wide character GPT ({parameters:,}
    parameters) takes one training step on one name: forward, `backward()` and Adam's update. It is
    timed three ways in the same run (benchmarks/test_gpt.py): a pure-Python scalar Value in
    microgpt's style with Adam as a Python loop (benchmarks/scalar_value.py), micrograd_c's Value
    running the same code, and `micrograd_c.functional` with `optim.Adam`. micrograd 0.1.0 cannot
    run it (it has no `exp` or `log`). Every way trains on the same {count} names in the same order
    ({names}), after one pass over them as a warm-up (micrograd_c's first steps map the arena's
    pages), with the collector on; a time is the median step, of {python_rounds} for the pure-Python
    Value and of {rounds} for micrograd_c's two ways, each name as often as the others. The ratios
    are the pure-Python Value's time over micrograd_c's, so above 1 micrograd_c is the faster."""


def gpt_text(row):
    """The GPT section's paragraph, from the group's extra_info. KeyError where a way did not run."""
    python, c = row.info["python"], row.info["micrograd_c"]
    return GPT_TEXT.format(
        parameters=python["parameters"],
        count=len(python["names"]),
        names=", ".join(python["names"]),
        python_rounds=python["rounds"],
        rounds=c["rounds"],
    )


def gpt_section(gpt_rows):
    """The lines of docs/benchmarks.md's GPT section, for the rows of rows(report, 'way'): its
    paragraph where every way ran, and its table."""
    try:
        text = [paragraph(gpt_text(gpt_rows[0])), ""]
    except KeyError:
        text = []
    return ["## A GPT training step", "", *text, *gpt_markdown_table(gpt_rows), ""]


INSTRUCTIONS_TEXT = """Counted by callgrind ({valgrind}, {python}, {date}{quick}) by
    `python benchmarks/instructions.py`: each case runs in a fresh interpreter, in a loop of two
    lengths, and the difference is one iteration's count with the empty loop's subtracted (per
    node of a fresh 100k-node graph for the trace, its build subtracted). Unlike times, these
    counts do not move with the machine's load."""

COMMANDS = f"""```sh
pip install -e ".[bench]"
python benchmarks/instructions.py --quick --json .benchmarks/instructions.json  # optional: needs valgrind
{COMMAND} --instructions .benchmarks/instructions.json  # this file, its chart, the README's figures
python -m pytest benchmarks --benchmark-group-by=group  # pytest-benchmark's own tables
```"""


def markdown(report, counts=None):
    """docs/benchmarks.md for `report` and, if given, instructions.py's counts."""
    all_rows = rows(report)
    by = {row.group: row for row in all_rows}
    cases = {row["case"]: row for row in counts["rows"]} if counts else {}
    out = [
        f"<!-- Written by `{COMMAND}`: do not edit by hand, run it again. -->",
        "# Benchmarks",
        "",
        paragraph(f"""One run of `{COMMAND}` on {date(report)}, on {machine(report)}, at
                     {commit(report)}. Everything in this file is written by that command; run
                     it again rather than edit it (the commands are at the end)."""),
        "",
        paragraph(GROUPS_TEXT),
        "",
        *times_table(all_rows),
        "",
        "![micrograd over micrograd_c, the ratios of this run](benchmarks.png)",
        "",
    ]
    for text in notes(by, cases):
        out += [text, ""]
    gpt_rows = rows(report, "way")
    if gpt_rows:
        out += gpt_section(gpt_rows)
    if counts:
        quick = ", `--quick`: micrograd_c only" if counts.get("quick") else ""
        out += [
            "## Instruction counts",
            "",
            paragraph(
                INSTRUCTIONS_TEXT.format(
                    valgrind=counts["valgrind"], python=counts["python"], date=counts["date"], quick=quick
                )
            ),
            "",
            *instructions_table(counts),
            "",
        ]
    out += ["## Running them", "", COMMANDS, ""]
    return "\n".join(out)


def replace_block(text, name, content):
    """text with the lines between its `<!-- begin: benchmarks/run.py name -->` and
    `<!-- end: benchmarks/run.py name -->` lines set to content. ValueError without them."""
    begin, end = f"<!-- begin: benchmarks/run.py {name} -->\n", f"<!-- end: benchmarks/run.py {name} -->"
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        raise ValueError(f"no {begin.strip()} ... {end} lines")
    return text[: start + len(begin)] + content + "\n" + text[stop:]


def readme(text, report):
    """The README `text` with its headline, its table and its GPT section's table from `report`."""
    by = {row.group: row for row in rows(report) + rows(report, "way")}
    missing = [group for group in dict.fromkeys(README_GROUPS + HEADLINE_GROUPS) if group not in by]
    if missing:
        raise ValueError(f"the run has no group {', '.join(map(repr, missing))}, which the README shows")
    text = replace_block(text, "headline", headline(by, report))
    text = replace_block(text, "table", readme_table(by))
    return replace_block(text, "gpt", "\n".join(gpt_markdown_table([by[GPT]])))


# -----------------------------------------------------------------------------
# the chart


def chart(report, path):
    """Write a bar chart of the ratios to `path` (a PNG): per group, one bar against micrograd
    with the collector on and one with it off, on a log scale."""
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    shown = [row for row in rows(report) if any(map(row.ratio, VERSUS))]
    fig = Figure(figsize=(max(8, 1.3 * len(shown) + 2), 6), layout="constrained")
    ax = fig.subplots()
    width = 0.38
    for k, (engine, label) in enumerate(VERSUS.items()):
        xs = [i + (k - 0.5) * width for i in range(len(shown))]
        ratios = [row.ratio(engine) or 1 for row in shown]  # a missing ratio: no bar
        # bars grow from 1, up where micrograd_c is faster, down where it is slower
        bars = ax.bar(xs, [r - 1 for r in ratios], width, bottom=1, label=label)
        ax.bar_label(
            bars, [format_ratio(r) if row.ratio(engine) else "" for r, row in zip(ratios, shown)], fontsize=8
        )
    ax.set_yscale("log")
    ax.axhline(1, color="grey", linewidth=0.8)
    ax.margins(y=0.08)  # room for the labels above the tallest bar
    ax.set_xticks(range(len(shown)), [textwrap.fill(row.group, 16) for row in shown], fontsize=8)
    ax.set_ylabel("micrograd / micrograd_c (times faster; memory: times smaller)")
    ax.set_title(f"micrograd / micrograd_c: ratios from one run on {machine(report)}, {date(report)}")
    ax.legend()
    fig.savefig(path, dpi=120)


# -----------------------------------------------------------------------------
# the command line


def main(argv=None):
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="FILE", help="tabulate a saved pytest-benchmark JSON report")
    parser.add_argument("--save", metavar="FILE", help="keep this run's pytest-benchmark JSON report in FILE")
    parser.add_argument(
        "--instructions",
        metavar="FILE",
        help="add the instruction counts benchmarks/instructions.py --json FILE saved",
    )
    parser.add_argument(
        "--docs",
        metavar="DIR",
        default="docs",
        help="where benchmarks.md and benchmarks.png go (default: docs)",
    )
    parser.add_argument(
        "--readme",
        metavar="FILE",
        default="README.md",
        help="the README whose figures are rewritten (default: README.md)",
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments (after --)")
    args = parser.parse_args(argv)

    # everything is checked and composed before the first file is written, so a failure leaves
    # the docs and the README as they were
    counts = None
    if args.instructions:
        with open(args.instructions) as f:
            counts = json.load(f)
    if args.save and args.json:
        parser.error("--save keeps the report of a run: not with --json")
    if not args.no_write:
        if not importlib.util.find_spec("matplotlib"):
            parser.exit(1, 'the chart needs matplotlib: pip install -e ".[bench]" (or pass --no-write)\n')
        if not os.path.isfile(args.readme):
            parser.exit(
                1, f"no {args.readme} here: run this from the checkout, or pass --readme FILE or --no-write\n"
            )
        with open(args.readme) as f:
            text = f.read()
    if args.json:
        with open(args.json) as f:
            report = json.load(f)
    else:
        if not importlib.util.find_spec("pytest") or not importlib.util.find_spec("pytest_benchmark"):
            parser.exit(1, 'the benchmarks need pytest and pytest-benchmark: pip install -e ".[bench]"\n')
        report = run_benchmarks(BENCHMARKS, args.pytest_args)
        if args.save:
            with open(args.save, "w") as f:
                json.dump(report, f, indent=1)

    print()
    print("\n".join(table(report)))
    if gpt_table(report):
        print()
        print("\n".join(gpt_table(report)))
    print(f"\nfrom one run on {machine(report)}, {date(report)}")
    if args.no_write:
        return 0
    try:
        text = readme(text, report)
    except ValueError as exc:
        parser.exit(1, f"{args.readme}: {exc}; nothing written (--no-write prints the table only)\n")
    doc = markdown(report, counts)

    os.makedirs(args.docs, exist_ok=True)
    chart(report, os.path.join(args.docs, "benchmarks.png"))
    with open(os.path.join(args.docs, "benchmarks.md"), "w") as f:
        f.write(doc)
    with open(args.readme, "w") as f:
        f.write(text)
    print(
        f"written: {os.path.join(args.docs, 'benchmarks.md')}, benchmarks.png beside it, "
        f"and the figures of {args.readme}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
