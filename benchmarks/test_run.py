"""benchmarks/run.py on a hand-written report: its ratios, its table, docs/benchmarks.md, the
README's figures and the chart. No benchmark runs here; every expected figure is worked out by
hand from the report below."""

import json
import pathlib
import re
import sys

import pytest
import run  # pytest puts this file's folder first on sys.path
import test_gpt

HERE = pathlib.Path(__file__).parent


def benchmark(group, engine, median, **extra_info):
    return {
        "group": group,
        "params": {"engine": engine},
        "stats": {"median": median},
        "extra_info": extra_info,
    }


GPT_NAMES = ["ellamae", "estefana", "taren"]


def gpt_step(way, median, rounds):
    """A benchmark of test_gpt.py's group: parametrized by way, not engine."""
    info = {"names": GPT_NAMES, "parameters": 4192, "rounds": rounds}
    return {"group": run.GPT, "params": {"way": way}, "stats": {"median": median}, "extra_info": info}


REPORT = {
    "machine_info": {
        "cpu": {"brand_raw": "Test CPU 9000", "count": 2, "flags": ["avx", "hypervisor"]},
        "python_implementation": "CPython",
        "python_version": "3.11.7",
    },
    "commit_info": {"id": "0123456789abcdef", "dirty": False},
    "datetime": "2026-01-02T03:04:05.678+00:00",
    "benchmarks": [
        # per op: micrograd 3 us, 1.5 us without the collector, micrograd_c 750 ns
        benchmark(run.ADD, "micrograd", 3e-4, ns_per_op=3000.0),
        benchmark(run.ADD, "micrograd-nogc", 1.5e-4, ns_per_op=1500.0),
        benchmark(run.ADD, "micrograd_c", 7.5e-5, ns_per_op=750.0),
        # micrograd_c the slower: a ratio below 1
        benchmark(run.READ, "micrograd", 2.5e-6, ns_per_op=25.0),
        benchmark(run.READ, "micrograd-nogc", 2.5e-6, ns_per_op=25.0),
        benchmark(run.READ, "micrograd_c", 1.6e-5, ns_per_op=160.0),
        # micrograd lacks tanh: only micrograd_c ran
        benchmark("build a.tanh()", "micrograd_c", 6e-5, ns_per_op=600.0),
        # bytes per node: shown in place of the (irrelevant) build time; micrograd_c's 34 B are
        # 4 B of Python objects and 30 B of arena a node
        benchmark(
            run.MEMORY, "micrograd", 1.5, bytes_per_node=680.0, nodes=1000, python_bytes=680_000, c_bytes=0
        ),
        benchmark(
            run.MEMORY,
            "micrograd-nogc",
            0.07,
            bytes_per_node=680.0,
            nodes=1000,
            python_bytes=680_000,
            c_bytes=0,
        ),
        benchmark(
            run.MEMORY,
            "micrograd_c",
            0.01,
            bytes_per_node=34.0,
            nodes=1000,
            python_bytes=4000,
            c_bytes=30_000,
        ),
        # per node
        benchmark(run.BACKWARD, "micrograd", 0.1, ns_per_node=2000.0, nodes=50000),
        benchmark(run.BACKWARD, "micrograd-nogc", 0.05, ns_per_node=1000.0, nodes=50000),
        benchmark(run.BACKWARD, "micrograd_c", 5e-4, ns_per_node=10.0, nodes=50000),
        benchmark(run.TRACE, "micrograd", 0.08, ns_per_node=800.0),
        benchmark(run.TRACE, "micrograd-nogc", 0.08, ns_per_node=800.0),
        benchmark(run.TRACE, "micrograd_c", 0.16, ns_per_node=1600.0),
        # per MLP call; the tanh and sigmoid calls take 1.25x and 1.10x the relu one's 4 us
        benchmark(run.MLP, "micrograd", 0.01, ns_per_op=1e6),
        benchmark(run.MLP, "micrograd-nogc", 0.005, ns_per_op=5e5),
        benchmark(run.MLP, "micrograd_c", 4e-5, ns_per_op=4000.0),
        benchmark(run.MLP_TANH, "micrograd_c", 5e-5, ns_per_op=5000.0),
        benchmark(run.MLP_SIGMOID, "micrograd_c", 4.4e-5, ns_per_op=4400.0),
        # per call: the median itself; 337 ns for 337 parameters is 1 ns a parameter
        benchmark(run.SGD_LIST, "micrograd", 2.5e-5),
        benchmark(run.SGD_LIST, "micrograd-nogc", 4e-5),
        benchmark(run.SGD_LIST, "micrograd_c", 3.37e-7),
        benchmark(run.SGD_DEMO, "micrograd", 6.74e-5),
        benchmark(run.SGD_DEMO, "micrograd-nogc", 6.74e-5),
        benchmark(run.SGD_DEMO, "micrograd_c", 3.37e-7),
        benchmark(run.STEP, "micrograd", 2.0),
        benchmark(run.STEP, "micrograd-nogc", 0.25),
        benchmark(run.STEP, "micrograd_c", 0.0125),
        # the GPT step: 250 ms over 10 ms and over 1.6 ms are 25x and 156.25x
        gpt_step("python", 0.25, rounds=3),
        gpt_step("micrograd_c", 0.01, rounds=12),
        gpt_step("functional", 0.0016, rounds=12),
    ],
}
ENGINE_GROUPS = {b["group"] for b in REPORT["benchmarks"] if "engine" in b["params"]}

COUNTS = {  # as instructions.py --json saves them
    "valgrind": "valgrind-3.19.0",
    "python": "CPython 3.11.7",
    "date": "2026-01-03",
    "quick": False,
    "rows": [
        {
            "case": "a + b",
            "per": "op",
            "counts": {"micrograd": 10054.2, "micrograd-nogc": 10256.0, "micrograd_c": 775.4},
        },
        {
            "case": run.READ_CASE,
            "per": "op",
            "counts": {"micrograd": 86.0, "micrograd-nogc": 86.0, "micrograd_c": 300.0},
        },
        {"case": "a.tanh()", "per": "op", "counts": {"micrograd_c": 844.0}},
        {
            "case": "demo training step",
            "per": "step",
            "counts": {"micrograd": 1.626e9, "micrograd-nogc": 1.058e9, "micrograd_c": 9.58e6},
        },
    ],
}

README = """# a project

<!-- begin: benchmarks/run.py headline -->
old figures
<!-- end: benchmarks/run.py headline -->

Words in between.

<!-- begin: benchmarks/run.py table -->
| old | table |
<!-- end: benchmarks/run.py table -->

A GPT.

<!-- begin: benchmarks/run.py gpt -->
| old | gpt |
<!-- end: benchmarks/run.py gpt -->

The end.
"""


def cells(line):
    """The cells of a markdown table row, with markdown's escapes undone."""
    return [re.sub(r"\\(.)", r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", line)[1:-1]]


def table_rows(text):
    """{first cell: cells} of every markdown table row in text."""
    return {c[0]: c for c in map(cells, text.splitlines()) if c and c[0] and not set(c[0]) <= {"-"}}


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A directory holding the report, the counts and a README, the current one."""
    (tmp_path / "report.json").write_text(json.dumps(REPORT))
    (tmp_path / "counts.json").write_text(json.dumps(COUNTS))
    (tmp_path / "README.md").write_text(README)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_rows_and_ratios():
    rows = {row.group: row for row in run.rows(REPORT)}
    assert list(rows)[:4] == [run.ADD, run.READ, "build a.tanh()", run.MEMORY]
    expected = {  # group: per, unit, micrograd / micrograd_c, nogc / micrograd_c
        run.ADD: ("op", "s", 4.0, 2.0),
        run.READ: ("op", "s", 0.15625, 0.15625),
        "build a.tanh()": ("op", "s", None, None),
        run.MEMORY: ("node", "B", 20.0, 20.0),
        run.BACKWARD: ("node", "s", 200.0, 100.0),
        run.SGD_LIST: ("call", "s", 25e-6 / 337e-9, 40e-6 / 337e-9),
        run.STEP: ("call", "s", 160.0, 20.0),
    }
    for group, (per, unit, gc_on, gc_off) in expected.items():
        row = rows[group]
        assert (row.per, row.unit) == (per, unit), group
        assert row.ratio("micrograd") == pytest.approx(gc_on), group
        assert row.ratio("micrograd-nogc") == pytest.approx(gc_off), group
    assert rows[run.ADD].values["micrograd_c"] == pytest.approx(750e-9)
    assert rows[run.MEMORY].values["micrograd"] == 680.0
    assert rows[run.MEMORY].info["micrograd_c"]["c_bytes"] == 30_000
    assert run.GPT not in rows  # its columns are ways, not engines


def test_gpt_row_and_ratios():
    (row,) = run.rows(REPORT, "way")
    assert (row.group, row.per, row.unit) == (run.GPT, "call", "s")
    assert row.values == {"python": 0.25, "micrograd_c": 0.01, "functional": 0.0016}
    assert row.speedup("micrograd_c") == pytest.approx(25.0)
    assert row.speedup("functional") == pytest.approx(156.25)
    assert row.speedup("python") == 1.0
    assert row.ratio("micrograd") is None  # no engine ran it
    assert row.info["functional"]["rounds"] == 12
    partial = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["params"].get("way") != "python"])
    (row,) = run.rows(partial, "way")
    assert row.speedup("functional") is None
    assert row.way_cells() == [run.GPT, "-", "10 ms", "1.6 ms", "-", "-"]


def test_table():
    lines = [re.split(" {2,}", line) for line in run.table(REPORT)]  # columns: 2 spaces or more
    assert lines[0] == [
        "group",
        "per",
        "micrograd",
        "micrograd-nogc",
        "micrograd_c",
        "micrograd / c",
        "nogc / c",
    ]
    shown = {line[0]: line[1:] for line in lines[1:]}
    assert shown[run.ADD] == ["op", "3 us", "1.5 us", "750 ns", "4.0x", "2.0x"]
    assert shown[run.READ] == ["op", "25 ns", "25 ns", "160 ns", "0.16x", "0.16x"]
    assert shown["build a.tanh()"] == ["op", "-", "-", "600 ns", "-", "-"]
    assert shown[run.MEMORY] == ["node", "680 B", "680 B", "34 B", "20.0x", "20.0x"]
    assert shown[run.BACKWARD] == ["node", "2 us", "1 us", "10 ns", "200x", "100x"]
    assert shown[run.SGD_LIST] == ["call", "25 us", "40 us", "337 ns", "74.2x", "119x"]
    assert shown[run.STEP] == ["call", "2 s", "250 ms", "12.5 ms", "160x", "20.0x"]
    assert len(shown) == len(ENGINE_GROUPS)
    assert len(set(map(len, run.table(REPORT)))) == 1  # the columns line up


def test_gpt_table():
    lines = [re.split(" {2,}", line) for line in run.gpt_table(REPORT)]
    assert lines == [
        ["group", "python", "micrograd_c", "functional", "python / c", "python / functional"],
        [run.GPT, "250 ms", "10 ms", "1.6 ms", "25.0x", "156x"],
    ]
    assert len(set(map(len, run.gpt_table(REPORT)))) == 1
    no_gpt = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["group"] != run.GPT])
    assert run.gpt_table(no_gpt) == []


def test_escape():
    text = r"a * b | zero_grad `x` [1] \ end"
    assert cells("| " + run.escape(text) + " |") == [text]
    assert run.escape("<b>") == "&lt;b>"  # shown, not read as an HTML tag


def test_paragraph():
    """Lines up to 100 columns, none broken inside a code span, a link or between a number and
    its unit."""
    for k in range(1, 40):  # every place a line can end, for one span or another
        text = "x" * k + " " + " ".join(["`a + b`", "1.5 us", "[a link](url)"] * 10)
        lines = run.paragraph(text).splitlines()
        assert " ".join(lines) == text
        for line in lines:
            assert len(line) <= 100 and line.count("`") % 2 == 0, line
            assert line.count("[") == line.count("]"), line
            assert not re.search(r"\d$|^us", line), line


def test_markdown():
    doc = run.markdown(REPORT)
    main, gpt = doc.split("\n## A GPT training step\n")
    lines = doc.splitlines()
    assert lines[0] == "<!-- Written by `python benchmarks/run.py`: do not edit by hand, run it again. -->"
    assert lines[1] == "# Benchmarks"
    prose = " ".join(doc.split())
    assert (
        "One run of `python benchmarks/run.py` on 2026-01-02, on Test CPU 9000 (2 CPUs, a virtual "
        "machine), CPython 3.11.7, at commit 0123456789."
    ) in prose
    rows = table_rows(main)
    assert rows["group"] == [
        "group",
        "per",
        "micrograd",
        "micrograd, `gc.disable()`",
        "micrograd_c",
        "vs micrograd, gc on",
        "vs micrograd, gc.disable()",
    ]
    assert rows[run.ADD] == [run.ADD, "op", "3 us", "1.5 us", "750 ns", "4.0x", "2.0x"]
    assert rows[run.STEP] == [run.STEP, "call", "2 s", "250 ms", "12.5 ms", "160x", "20.0x"]
    assert rows["build a.tanh()"] == ["build a.tanh()", "op", "-", "-", "600 ns", "-", "-"]
    assert len(rows) == 1 + len(ENGINE_GROUPS)
    assert "![micrograd over micrograd_c, the ratios of this run](benchmarks.png)" in lines
    # the notes' figures, worked out from the report
    assert ("micrograd_c's 12.5 ms is the median of the demo's 100 steps") in prose
    assert (
        "the demo's loss graph (1,000 nodes) takes 30,000 bytes of C arena and 4,000 of Python heap "
        "(tracemalloc) on micrograd_c, 34 B a node; on micrograd, 680,000 bytes of Python objects, "
        "680 B a node."
    ) in prose
    assert "**Reading `v.data`** takes 160 ns against micrograd's 25 ns: `data` is a getter" in prose
    assert "takes 1.6 us a node against micrograd's 800 ns" in prose
    assert "the tanh and sigmoid MLP calls take 1.25x and 1.10x the relu call" in prose
    assert "take 337 ns for the 337 parameters, 1 ns a parameter" in prose
    assert (
        "micrograd's loops take 25 us over a list it already holds, 67.4 us as the demo writes them"
    ) in prose
    assert "## Instruction counts" not in doc
    assert "instruction counts below" not in prose
    assert '```sh\npip install -e ".[bench]"\n' in doc
    # the GPT section, after the notes: its own table, the pure-Python Value's time over each way's
    assert table_rows(gpt.split("## Running them")[0]) == {
        "group": [
            "group",
            "pure-Python Value",
            "micrograd_c, same code",
            "micrograd_c.functional + optim",
            "vs pure Python, same code",
            "vs pure Python, functional",
        ],
        run.GPT: [run.GPT, "250 ms", "10 ms", "1.6 ms", "25.0x", "156x"],
    }
    assert "|---|---:|---:|---:|---:|---:|" in gpt.splitlines()
    assert "has a section of its own after the notes." in " ".join(main.split())
    gpt_prose = " ".join(gpt.split())
    assert "16-wide character GPT (4,192 parameters) takes one training step on one name" in gpt_prose
    assert "the same 3 names in the same order (ellamae, estefana, taren), after one pass" in gpt_prose
    assert "of 3 for the pure-Python Value and of 12 for micrograd_c's two ways" in gpt_prose


def test_markdown_with_instruction_counts():
    doc = run.markdown(REPORT, COUNTS)
    prose = " ".join(doc.split())
    assert "Counted by callgrind (valgrind-3.19.0, CPython 3.11.7, 2026-01-03) by" in prose
    rows = table_rows(doc[doc.index("## Instruction counts") :])
    assert rows["case"] == ["case", "per", "micrograd", "micrograd, `gc.disable()`", "micrograd_c"]
    assert rows["a + b"] == ["a + b", "op", "10,054", "10,256", "775"]
    assert rows["a.tanh()"] == ["a.tanh()", "op", "-", "-", "844"]
    assert rows["demo training step"] == ["demo training step", "step", "1,626.00 M", "1,058.00 M", "9.58 M"]
    assert "takes 160 ns against micrograd's 25 ns (300 instructions against 86): `data` is a getter" in prose
    assert "The instruction counts below do not move with it." in prose
    quick = run.markdown(REPORT, dict(COUNTS, quick=True))
    assert "2026-01-03, `--quick`: micrograd_c only)" in " ".join(quick.split())


def test_markdown_of_some_groups():
    """A note whose group did not run is left out; the rest is written."""
    report = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["group"] in (run.ADD, run.READ)])
    doc = run.markdown(report)
    assert set(table_rows(doc)) == {"group", run.ADD, run.READ}
    assert "**Reading `v.data`**" in doc
    assert "**Memory**" not in doc and "**Activations**" not in doc
    assert "## A GPT training step" not in doc


def test_markdown_of_some_ways():
    """A GPT group where a way did not run (a run with -k): its table, without the paragraph
    that gives every way's rounds."""
    report = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["params"].get("way") != "python"])
    gpt = run.markdown(report).split("## A GPT training step")[1].split("## Running them")[0]
    assert table_rows(gpt)[run.GPT] == [run.GPT, "-", "10 ms", "1.6 ms", "-", "-"]
    assert "parameters" not in gpt


def test_readme():
    text = run.readme(README, REPORT)
    head, rest = text.split("<!-- end: benchmarks/run.py headline -->")
    assert "old figures" not in text and "| old | table |" not in text
    assert text.startswith(
        "# a project\n\n<!-- begin: benchmarks/run.py headline -->\nSpeed against micrograd"
    )
    assert rest.startswith("\n\nWords in between.\n\n<!-- begin: benchmarks/run.py table -->\n| group |")
    rest, gpt = rest.split("A GPT.")
    assert rest.endswith("|\n<!-- end: benchmarks/run.py table -->\n\n")
    assert "| old | gpt |" not in gpt and gpt.endswith("|\n<!-- end: benchmarks/run.py gpt -->\n\nThe end.\n")
    assert [cells(line)[-2:] for line in gpt.splitlines() if line.startswith("| GPT")] == [["25.0x", "156x"]]
    headline = " ".join(head.split())
    assert (
        "demo.ipynb's training step takes 12.5 ms, against 2 s for micrograd as users run it (160x) "
        "and 250 ms with `gc.disable()` (20.0x); `a + b` is 4.0x faster; `backward()` costs 10 ns a "
        "node (200x); a node of the demo's graph takes 34 B (micrograd: 680 B). examples/gpt.py's GPT "
        "training step, which micrograd cannot run, takes 10 ms with micrograd_c's Value and the same "
        "code and 1.6 ms with `functional` and `optim`, against 250 ms for a pure-Python scalar Value "
        "in microgpt's style (25.0x and 156x)."
    ) in headline
    assert "Test CPU 9000 (2 CPUs, a virtual machine), CPython 3.11.7, 2026-01-02" in headline
    assert "(https://github.com/micrograd-c/micrograd_c/blob/main/docs/benchmarks.md)" in headline
    assert set(table_rows(rest)) == {"group", *run.README_GROUPS}
    assert run.readme(text, REPORT) == text  # a second run changes nothing


def test_readme_refused():
    with pytest.raises(ValueError, match="no <!-- begin: benchmarks/run.py table -->"):
        run.readme(README.replace("<!-- end: benchmarks/run.py table -->", ""), REPORT)
    partial = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["group"] != run.BACKWARD])
    with pytest.raises(ValueError, match=re.escape(f"no group '{run.BACKWARD}'")):
        run.readme(README, partial)
    no_gpt = dict(REPORT, benchmarks=[b for b in REPORT["benchmarks"] if b["group"] != run.GPT])
    with pytest.raises(ValueError, match=re.escape(f"no group '{run.GPT}'")):
        run.readme(README, no_gpt)


def test_main_writes(checkout, capsys):
    pytest.importorskip("matplotlib")
    assert run.main(["--json", "report.json", "--instructions", "counts.json"]) == 0
    out = capsys.readouterr().out
    assert "160x" in out
    assert run.gpt_table(REPORT)[1] in out.splitlines()
    assert "from one run on Test CPU 9000 (2 CPUs, a virtual machine), CPython 3.11.7, 2026-01-02" in out
    assert (checkout / "docs" / "benchmarks.md").read_text() == run.markdown(REPORT, COUNTS)
    assert (checkout / "docs" / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (checkout / "README.md").read_text() == run.readme(README, REPORT)


def test_main_writes_nothing_on_a_failure(checkout, capsys):
    pytest.importorskip("matplotlib")
    (checkout / "README.md").write_text("# no markers\n")
    with pytest.raises(SystemExit) as stop:
        run.main(["--json", "report.json"])
    assert stop.value.code == 1
    assert "README.md: no <!-- begin: benchmarks/run.py headline -->" in capsys.readouterr().err
    assert not (checkout / "docs").exists()
    assert (checkout / "README.md").read_text() == "# no markers\n"


def test_no_matplotlib(checkout, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # find_spec and import fail
    with pytest.raises(SystemExit) as stop:
        run.main(["--json", "report.json"])
    assert stop.value.code == 1
    assert "the chart needs matplotlib" in capsys.readouterr().err
    assert not (checkout / "docs").exists()
    assert run.main(["--json", "report.json", "--no-write"]) == 0
    assert "160x" in capsys.readouterr().out
    assert not (checkout / "docs").exists()
    assert (checkout / "README.md").read_text() == README


def test_named_groups_exist():
    """Every group and case the runner names is one the benchmarks make (quoted in their source)."""
    bench = (HERE / "test_bench.py").read_text()
    for group in (
        run.ADD,
        run.READ,
        run.TRACE,
        run.MLP,
        run.MLP_TANH,
        run.MLP_SIGMOID,
        run.SGD_LIST,
        run.SGD_DEMO,
        run.MEMORY,
        run.BACKWARD,
        run.STEP,
        *run.README_GROUPS,
    ):
        assert f'"{group}"' in bench or f"'{group}'" in bench, group
    assert (test_gpt.GROUP, test_gpt.WAYS) == (run.GPT, run.WAYS)
    assert set(run.HEADLINE_GROUPS) <= set(run.README_GROUPS) | {run.GPT}
    assert f'("{run.READ_CASE}", ' in (HERE / "instructions.py").read_text()
