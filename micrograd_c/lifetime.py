"""When the C arena's memory comes back: the collector's Python face.

A node is kept while a Value reaches it: its own, or one of a node above it (csrc/arena.c,
design notes 2 to 7). Collections run on their own as the arena grows, and after every full
run of Python's garbage collector (gc.collect(), or the collector's own), which is when the
last Values of a graph held in a reference cycle go. collect() runs one now.
"""

import gc

from micrograd_c._glue import check, core, lib

__all__ = ["arena_bytes", "collect", "collections", "live_nodes"]


def collect() -> None:
    """Reclaims now the C nodes that no Value can reach (it also happens on its own)."""
    check(lib.mg_collect())


def live_nodes() -> int:
    """How many C nodes the arena holds now (reachable or not yet reclaimed)."""
    return int(lib.mg_live_nodes())


def arena_bytes(spares: bool = False) -> int:
    """Bytes the C arena holds now: the blocks that hold nodes and their tables (the Python
    objects aside), and with spares=True the freed blocks it keeps for the nodes to come."""
    return int(lib.mg_arena_bytes() + (lib.mg_spare_bytes() if spares else 0))


def collections() -> int:
    """How many collections have run in this process."""
    return int(lib.mg_collections())


# After each full run of Python's collector: a C function (csrc/module.c), so no Python frame
# runs in the collector's callback, where a Ctrl-C could land and be swallowed. Once, however
# often this module is loaded (importlib.reload).
if core.after_gc not in gc.callbacks:
    gc.callbacks.append(core.after_gc)
