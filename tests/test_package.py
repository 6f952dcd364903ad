"""The installed package's face: one version string, and the typing files it ships."""
import importlib.metadata
import pathlib
import re

import micrograd_c

PACKAGE = pathlib.Path(micrograd_c.__file__).parent
PYPROJECT = pathlib.Path(__file__).parent.parent / "pyproject.toml"


def test_version_is_the_installed_metadata():
    assert micrograd_c.__version__ == importlib.metadata.version("micrograd_c")
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z]+\d+)?", micrograd_c.__version__)


def test_version_is_pyproject_s():
    text = PYPROJECT.read_text()
    declared = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    assert micrograd_c.__version__ == declared


def test_typing_files_are_shipped():
    assert (PACKAGE / "py.typed").is_file()
    stub = (PACKAGE / "_core.pyi").read_text()
    assert "class ValueBase" in stub


def test_the_stub_names_every_method_the_op_table_gives():
    # a unary op of the table (csrc/ops.c) becomes a Value method; the stub must type it
    from micrograd_c._glue import ffi, lib

    stub = (PACKAGE / "_core.pyi").read_text()
    for op in range(lib.MG_OP_COUNT):
        name = ffi.string(lib.mg_op_method(op)).decode()
        if name:
            assert f"def {name}(self) -> Value: ..." in stub, name
