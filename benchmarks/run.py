"""Run the benchmarks once: a table and a chart of how many times faster micrograd_c is than micrograd.

    python benchmarks/run.py                  # runs benchmarks/test_bench.py (a minute or two)
    python benchmarks/run.py --json FILE      # tabulates a saved --benchmark-json file instead
    python benchmarks/run.py --chart out.png  # the chart's file (default benchmarks.png; --no-chart)
    python benchmarks/run.py -- -k backward   # after --: more pytest arguments

Ratios are medians from one run, micrograd's over micrograd_c's, for micrograd with the
collector on (as users run it) and with gc.disable(); for 'memory per node' they are bytes
over bytes. Absolute times drift from machine to machine; ratios measured in one run hold.
It runs the benchmarks beside it, on the micrograd_c that is installed, so it works from a
checkout or from a copy of benchmarks/ alike. Needs pip install "micrograd_c[bench]".
"""
import argparse
import importlib.util
import json
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass

ENGINES = ('micrograd', 'micrograd-nogc', 'micrograd_c')
VERSUS = {'micrograd': 'vs micrograd, gc on', 'micrograd-nogc': 'vs micrograd, gc.disable()'}
BENCHMARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'test_bench.py')


# -----------------------------------------------------------------------------
# running the benchmarks

def run_benchmarks(path, pytest_args):
    """Run pytest on `path` in this interpreter: returns the parsed JSON report."""
    import pytest

    fd, out = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        status = pytest.main([path, '-q', '-p', 'no:cacheprovider', '--benchmark-group-by=group',
                              f'--benchmark-json={out}', *pytest_args])
        if status != 0:
            sys.exit(f'pytest exited with status {status}')
        with open(out) as f:
            return json.load(f)
    finally:
        os.unlink(out)


# -----------------------------------------------------------------------------
# the report: one row per group

@dataclass
class Row:
    group: str
    per: str        # what a value is per: 'op', 'node' or 'call'
    unit: str       # 's' or 'B'
    values: dict    # engine: seconds or bytes

    def ratio(self, engine):
        """engine's value over micrograd_c's, or None where one of them is missing."""
        c = self.values.get('micrograd_c')
        return self.values[engine] / c if c and engine in self.values else None

    def cells(self):
        """Each engine's value as text, then the two ratios."""
        show = format_bytes if self.unit == 'B' else format_time
        values = [show(self.values[e]) if e in self.values else '-' for e in ENGINES]
        ratios = [format_ratio(r) if r else '-' for r in map(self.ratio, VERSUS)]
        return [self.group, self.per, *values, *ratios]


def measure(bench):
    """(value, per, unit) of one benchmark: the median of a call, or what extra_info holds
    per op or per node in its place (a time, or a graph's bytes per node)."""
    info = bench['extra_info']
    if 'bytes_per_node' in info:
        return info['bytes_per_node'], 'node', 'B'
    for key in ('ns_per_op', 'ns_per_node'):
        if key in info:
            return info[key] * 1e-9, key[len('ns_per_'):], 's'
    return bench['stats']['median'], 'call', 's'


def rows(report):
    """The report's groups, in the order of their first benchmark."""
    groups = {}
    for bench in report['benchmarks']:
        value, per, unit = measure(bench)
        row = groups.setdefault(bench['group'], Row(bench['group'], per, unit, {}))
        row.values[bench['params']['engine']] = value
    return list(groups.values())


def format_time(s):
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6)):
        if s >= scale:
            return f'{s / scale:.3g} {unit}'
    return f'{s * 1e9:.3g} ns'


def format_bytes(b):
    return f'{b:.0f} B'


def format_ratio(r):
    return f'{r:.1f}x' if r >= 1 else f'{r:.2f}x'  # below 1, micrograd_c is the slower


def table(report):
    """Lines of text: per group, each engine's value and micrograd's over micrograd_c's."""
    lines = [['group', 'per', *ENGINES, 'micrograd / c', 'nogc / c']]
    lines += [row.cells() for row in rows(report)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return ['  '.join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
            for line in lines]


def machine(report):
    """'<cpu>, CPython 3.11.7', from the report's machine_info."""
    info = report.get('machine_info', {})
    cpu = info.get('cpu', {}).get('brand_raw') or info.get('machine') or 'an unknown CPU'
    return f"{cpu}, {info.get('python_implementation', 'Python')} {info.get('python_version', '')}".rstrip()


# -----------------------------------------------------------------------------
# the chart

def chart(report, path):
    """Write a bar chart of the ratios to `path` (a PNG): per group, one bar against micrograd
    with the collector on and one with it off, on a log scale. ImportError without matplotlib."""
    from matplotlib.figure import Figure  # no pyplot: no backend, no global state

    shown = [row for row in rows(report) if any(map(row.ratio, VERSUS))]
    fig = Figure(figsize=(max(8, 1.3 * len(shown) + 2), 6), layout='constrained')
    ax = fig.subplots()
    width = 0.38
    for k, (engine, label) in enumerate(VERSUS.items()):
        xs = [i + (k - 0.5) * width for i in range(len(shown))]
        ratios = [row.ratio(engine) or 1 for row in shown]  # a missing ratio: no bar
        # bars grow from 1, up where micrograd_c is faster, down where it is slower
        bars = ax.bar(xs, [r - 1 for r in ratios], width, bottom=1, label=label)
        ax.bar_label(bars, [format_ratio(r) if row.ratio(engine) else '' for r, row in zip(ratios, shown)],
                     fontsize=8)
    ax.set_yscale('log')
    ax.axhline(1, color='grey', linewidth=0.8)
    ax.margins(y=0.08)  # room for the labels above the tallest bar
    ax.set_xticks(range(len(shown)), [textwrap.fill(row.group, 16) for row in shown], fontsize=8)
    ax.set_ylabel('micrograd / micrograd_c (times faster; memory: times smaller)')
    ax.set_title(f'micrograd / micrograd_c: ratios from one run on {machine(report)}')
    ax.legend()
    fig.savefig(path, dpi=120)


# -----------------------------------------------------------------------------
# the command line

def main(argv=None):
    parser = argparse.ArgumentParser(prog='python benchmarks/run.py', description=__doc__.splitlines()[0])
    parser.add_argument('--json', metavar='FILE', help='tabulate a saved pytest-benchmark JSON report')
    parser.add_argument('--chart', metavar='FILE', default='benchmarks.png',
                        help='where to write the bar chart (default: benchmarks.png)')
    parser.add_argument('--no-chart', action='store_true', help='print the table only')
    parser.add_argument('pytest_args', nargs='*', help='more pytest arguments (after --)')
    args = parser.parse_args(argv)

    if args.json:
        with open(args.json) as f:
            report = json.load(f)
    else:
        if not importlib.util.find_spec('pytest') or not importlib.util.find_spec('pytest_benchmark'):
            parser.exit(1, 'the benchmarks need pytest and pytest-benchmark: pip install -e ".[bench]"\n')
        report = run_benchmarks(BENCHMARKS, args.pytest_args)

    print()
    print('\n'.join(table(report)))
    print(f'\nfrom one run on {machine(report)}')
    if args.no_chart:
        return 0
    try:
        chart(report, args.chart)
    except ImportError:
        print('no chart: it needs matplotlib (pip install matplotlib)')
        return 0
    print(f'chart: {args.chart}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
