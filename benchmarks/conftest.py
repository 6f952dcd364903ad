"""The `engine` fixture: every benchmark runs on micrograd and on micrograd_c, side by side.

Engines (the fixture's ids):
  micrograd       micrograd 0.1.0 with the cyclic garbage collector on, as users run it
  micrograd-nogc  micrograd with gc.disable() while the benchmark runs (re-enabled after)
  micrograd_c     this package, collector on
Each benchmark names its group, so `--benchmark-group-by=group` prints the engines of
one measurement in one table.
"""

import gc
import os
from dataclasses import dataclass

# NumPy's BLAS threads would spin beside the timed code on a small machine; nothing here needs them
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from micrograd_c.demo import load_engine

ENGINES = {  # fixture id: (package, collector on during the timed call)
    "micrograd": ("micrograd", True),
    "micrograd-nogc": ("micrograd", False),
    "micrograd_c": ("micrograd_c", True),
}


@dataclass(frozen=True)
class Engine:
    name: str
    package: str
    gc_enabled: bool
    Value: type
    MLP: type

    @property
    def is_micrograd(self):
        return self.package == "micrograd"

    def measure(self, benchmark, group, target, *args, **pedantic):
        """Time target(*args) in `group`: benchmark(...), or benchmark.pedantic(...) when
        pedantic options are given. The collector is set for this engine during the
        call; garbage is collected before and after, outside the timing."""
        benchmark.group = group
        gc.collect()
        if not self.gc_enabled:
            gc.disable()
        try:
            if pedantic:
                return benchmark.pedantic(target, args=args, **pedantic)
            return benchmark(target, *args)
        finally:
            gc.enable()
            gc.collect()


@pytest.fixture(params=list(ENGINES))
def engine(request):
    package, gc_enabled = ENGINES[request.param]
    try:
        Value, MLP = load_engine(package)
    except ImportError as exc:
        pytest.skip(f"{package} is not importable: {exc}")
    return Engine(request.param, package, gc_enabled, Value, MLP)
