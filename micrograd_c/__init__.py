"""micrograd_c: micrograd's Value and nn, with the graph and backward in C.

Change `micrograd` to `micrograd_c` in your imports; everything else stays as it is.
"""
from micrograd_c.engine import Value

__all__ = ["Value"]
__version__ = "0.1.0"
