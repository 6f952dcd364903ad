"""Run the benchmarks once and print how many times faster micrograd_c is than micrograd.

    python benchmarks/report.py                 # runs pytest on this directory (about a minute)
    python benchmarks/report.py --json FILE     # tabulates a saved --benchmark-json file instead
    python benchmarks/report.py -- -k backward  # after --: more pytest arguments

Ratios are medians from one run, micrograd's time over micrograd_c's, for micrograd with
the collector on (as users run it) and with gc.disable(). Absolute times drift from machine
to machine; ratios measured in one run hold.
"""
import argparse
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ('micrograd', 'micrograd-nogc', 'micrograd_c')
PER_ITEM = ('ns_per_op', 'ns_per_node')  # extra_info keys, shown in place of the whole call


def run_benchmarks(pytest_args):
    """Run pytest on this directory in this interpreter: returns the parsed JSON report."""
    import pytest

    fd, path = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        status = pytest.main([HERE, '-q', '-p', 'no:cacheprovider', '--benchmark-group-by=group',
                              f'--benchmark-json={path}', *pytest_args])
        if status != 0:
            sys.exit(f'pytest exited with status {status}')
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


def seconds(bench):
    """The median of one benchmark, per op or per node where the benchmark says so."""
    for key in PER_ITEM:
        if key in bench['extra_info']:
            return bench['extra_info'][key] * 1e-9, key[3:].replace('_', ' ')
    return bench['stats']['median'], 'call'


def format_time(s):
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6)):
        if s >= scale:
            return f'{s / scale:.3g} {unit}'
    return f'{s * 1e9:.3g} ns'


def table(report):
    """Rows of text: per group, each engine's time and micrograd's time over micrograd_c's."""
    groups = {}
    for bench in report['benchmarks']:
        groups.setdefault(bench['group'], {})[bench['params']['engine']] = seconds(bench)

    head = ['group', 'per', *ENGINES, 'micrograd / c', 'nogc / c']
    rows = [head]
    for group, times in groups.items():
        per = next(iter(times.values()))[1]
        cells = [format_time(times[e][0]) if e in times else '-' for e in ENGINES]
        c = times.get('micrograd_c', (None,))[0]
        ratios = [f'{times[e][0] / c:.1f}x' if c and e in times else '-' for e in ENGINES[:2]]
        rows.append([group, per, *cells, *ratios])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return ['  '.join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
            for row in rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--json', metavar='FILE', help='a saved pytest-benchmark JSON report')
    parser.add_argument('pytest_args', nargs='*', help='more pytest arguments (after --)')
    args = parser.parse_args(argv)
    if args.json:
        with open(args.json) as f:
            report = json.load(f)
    else:
        report = run_benchmarks(args.pytest_args)
    print()
    print('\n'.join(table(report)))
    info = report.get('machine_info', {})
    print(f"\n{info.get('python_implementation', '')} {info.get('python_version', '')}"
          f" on {info.get('cpu', {}).get('brand_raw', info.get('machine', 'unknown'))}")


if __name__ == '__main__':
    main()
