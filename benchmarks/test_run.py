"""benchmarks/run.py on a hand-written report: its ratios, its table and its chart. No
benchmark runs here."""

import json
import re
import sys

import pytest

import run as bench  # pytest puts this file's folder first on sys.path


def benchmark(group, engine, median, **extra_info):
    return {'group': group, 'params': {'engine': engine}, 'stats': {'median': median},
            'extra_info': extra_info}


REPORT = {
    'machine_info': {'cpu': {'brand_raw': 'Test CPU 9000'},
                     'python_implementation': 'CPython', 'python_version': '3.11.7'},
    'benchmarks': [
        # per op: micrograd 3 us, 1.5 us without the collector, micrograd_c 750 ns
        benchmark('build a + b', 'micrograd', 3e-4, ns_per_op=3000.0),
        benchmark('build a + b', 'micrograd-nogc', 1.5e-4, ns_per_op=1500.0),
        benchmark('build a + b', 'micrograd_c', 7.5e-5, ns_per_op=750.0),
        # micrograd_c the slower: a ratio below 1
        benchmark('read v.data', 'micrograd', 2.5e-6, ns_per_op=25.0),
        benchmark('read v.data', 'micrograd-nogc', 2.5e-6, ns_per_op=25.0),
        benchmark('read v.data', 'micrograd_c', 1.6e-5, ns_per_op=160.0),
        # micrograd lacks tanh: only micrograd_c ran
        benchmark('build a.tanh()', 'micrograd_c', 6e-5, ns_per_op=600.0),
        # bytes per node: shown in place of the (irrelevant) build time
        benchmark('memory per node', 'micrograd', 1.5, bytes_per_node=680.0),
        benchmark('memory per node', 'micrograd-nogc', 0.07, bytes_per_node=680.0),
        benchmark('memory per node', 'micrograd_c', 0.01, bytes_per_node=34.0),
        # per node
        benchmark('backward', 'micrograd', 0.1, ns_per_node=2000.0, nodes=50000),
        benchmark('backward', 'micrograd-nogc', 0.05, ns_per_node=1000.0, nodes=50000),
        benchmark('backward', 'micrograd_c', 5e-4, ns_per_node=10.0, nodes=50000),
        # per call: the median itself
        benchmark('demo step', 'micrograd', 2.0),
        benchmark('demo step', 'micrograd-nogc', 0.25),
        benchmark('demo step', 'micrograd_c', 0.0125),
    ],
}


@pytest.fixture
def report_file(tmp_path):
    path = tmp_path / 'report.json'
    path.write_text(json.dumps(REPORT))
    return str(path)


def test_rows_and_ratios():
    rows = {row.group: row for row in bench.rows(REPORT)}
    assert list(rows) == ['build a + b', 'read v.data', 'build a.tanh()', 'memory per node', 'backward', 'demo step']
    expected = {  # group: per, unit, micrograd / micrograd_c, nogc / micrograd_c
        'build a + b': ('op', 's', 4.0, 2.0),
        'read v.data': ('op', 's', 0.15625, 0.15625),
        'build a.tanh()': ('op', 's', None, None),
        'memory per node': ('node', 'B', 20.0, 20.0),
        'backward': ('node', 's', 200.0, 100.0),
        'demo step': ('call', 's', 160.0, 20.0),
    }
    for group, (per, unit, gc_on, gc_off) in expected.items():
        row = rows[group]
        assert (row.per, row.unit) == (per, unit), group
        assert row.ratio('micrograd') == pytest.approx(gc_on), group
        assert row.ratio('micrograd-nogc') == pytest.approx(gc_off), group
    assert rows['build a + b'].values['micrograd_c'] == pytest.approx(750e-9)
    assert rows['memory per node'].values['micrograd'] == 680.0


def test_table():
    lines = [re.split(' {2,}', line) for line in bench.table(REPORT)]  # columns: 2 spaces or more
    assert lines[0] == ['group', 'per', 'micrograd', 'micrograd-nogc', 'micrograd_c', 'micrograd / c', 'nogc / c']
    assert lines[1:] == [
        ['build a + b', 'op', '3 us', '1.5 us', '750 ns', '4.0x', '2.0x'],
        ['read v.data', 'op', '25 ns', '25 ns', '160 ns', '0.16x', '0.16x'],
        ['build a.tanh()', 'op', '-', '-', '600 ns', '-', '-'],
        ['memory per node', 'node', '680 B', '680 B', '34 B', '20.0x', '20.0x'],
        ['backward', 'node', '2 us', '1 us', '10 ns', '200.0x', '100.0x'],
        ['demo step', 'call', '2 s', '250 ms', '12.5 ms', '160.0x', '20.0x'],
    ]
    assert len(set(map(len, bench.table(REPORT)))) == 1  # the columns line up


def test_json_without_chart(report_file, capsys):
    assert bench.main(['--json', report_file, '--no-chart']) == 0
    out = capsys.readouterr().out
    assert '160.0x' in out
    assert 'from one run on Test CPU 9000, CPython 3.11.7' in out
    assert 'chart' not in out


def test_chart(report_file, tmp_path, capsys):
    pytest.importorskip('matplotlib')
    path = tmp_path / 'ratios.png'
    assert bench.main(['--json', report_file, '--chart', str(path)]) == 0
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert f'chart: {path}' in capsys.readouterr().out


def test_no_matplotlib(report_file, tmp_path, monkeypatch, capsys):
    for name in ('matplotlib', 'matplotlib.figure'):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    monkeypatch.chdir(tmp_path)
    assert bench.main(['--json', report_file]) == 0
    out = capsys.readouterr().out
    assert '160.0x' in out
    assert out.strip().splitlines()[-1] == 'no chart: it needs matplotlib (pip install matplotlib)'
    assert not (tmp_path / 'benchmarks.png').exists()
