"""Fixtures pairing the reference (micrograd 0.1.0) with the implementation under test.

`ref` is always micrograd. `impl` is micrograd_c, or whatever package the environment
variable MICROGRAD_C_TEST_IMPL names: pointing it at `micrograd` runs the suite against the
reference itself, which checks that the tests are right; tests marked `deliberate` (a
documented difference) or `c_only` (micrograd_c's extras) are then skipped. Both marks are
declared in pyproject.toml, which runs pytest with --strict-markers.
"""

import os

import pytest
from _helpers import load_engine

IMPL = os.environ.get("MICROGRAD_C_TEST_IMPL", "micrograd_c")


def pytest_collection_modifyitems(config, items):
    # the torch comparisons go last: once imported, torch stays in the process
    items.sort(key=lambda item: item.module.__name__ == "test_micrograd_suite")
    if IMPL != "micrograd":
        return
    skip = pytest.mark.skip(reason="not a property of micrograd itself")
    for item in items:
        if "deliberate" in item.keywords or "c_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def ref():
    """micrograd 0.1.0: .engine, .nn, .Value."""
    return load_engine("micrograd")


@pytest.fixture(scope="session")
def impl():
    """The implementation under test: .engine, .nn, .Value."""
    return load_engine(IMPL)


@pytest.fixture(params=["ref", "impl"])
def either(request, ref, impl):
    """Both engines in turn, for behaviour that must hold for micrograd and micrograd_c alike."""
    return ref if request.param == "ref" else impl
