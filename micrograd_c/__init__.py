"""micrograd_c: micrograd's Value and nn, with the graph and backward in C.

Change `micrograd` to `micrograd_c` in your imports; everything else stays as it is.
"""

# the core first: an interpreter it refuses (micrograd_c._glue) imports nothing more
from micrograd_c import _glue  # noqa: F401  # isort: skip

from importlib.metadata import PackageNotFoundError, version

from micrograd_c import optim
from micrograd_c.draw import draw_dot
from micrograd_c.engine import Value
from micrograd_c.gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "Value", "draw_dot", "gradcheck", "optim"]

try:
    __version__ = version("micrograd_c")  # pyproject.toml's, as installed: the one source
except PackageNotFoundError:  # sources on sys.path that were never installed
    __version__ = "unknown"
