"""micrograd's Value, with its nodes in C.

A Value is a thin wrapper around the id of a node that lives in the C arena (csrc/micrograd.c):
data, grad, op and children are all there, and backward() is one C call. The wrapper holds the
node id and the owner object of the node's block; the design note at the top of micrograd.c
says how those owners let the arena reclaim a graph once no wrapper refers into it.
"""
import gc
import numbers
import sys
import threading
import weakref

try:
    from micrograd_c._core import ffi, lib
except ImportError as exc:  # a source checkout that was never built
    raise ImportError(
        "micrograd_c's C core is not built here (%s). Install it with `pip install .` and run "
        "from another directory, or build it in place with `pip install -e .`" % exc) from exc

if not lib.mg_glue_holds_gil():
    raise ImportError(
        "micrograd_c: this build of the cffi glue releases the GIL around calls into C, "
        "which the core relies on not happening; rebuild micrograd_c against a cffi it supports"
    )

__all__ = ["Value", "arena_bytes", "collect", "live_nodes"]

_SHIFT = lib.MG_BLOCK_SHIFT
_ERROR = 1 << lib.MG_ERROR_SHIFT
_OP_NAME = [ffi.string(lib.mg_op_name(op)).decode() for op in range(lib.MG_OP_COUNT)]
_new = object.__new__

# --- lifetime ------------------------------------------------------------------------------

_BLOCK = 1 << _SHIFT
_slot_owner = []                # one owner object per C slot number, for good; a Value refers
_owners = []                    # to its node's. The same by node id (no shift on the hot path),
_growing = threading.Lock()     # for the slots it covers: a trigger's are left out (open_block)


def _count_alone():
    held = [object()] * _BLOCK  # as _owners holds an owner; the slice, as _slot_owner does
    return list(map(sys.getrefcount, held[:1]))[0]


_BASE = _count_alone()          # the count of an owner _owners covers, with no Value on it
_BASE_PAST = _BASE - _BLOCK     # of one it does not


def _collect_once(idle):
    """One collection; it keeps the nodes made since the one before (see micrograd.c), and
    unless idle, those of this thread's last call, which it may be wrapping."""
    token = lib.mg_collect_begin()
    covered = len(_owners) >> _SHIFT
    bases = [_BASE] * covered + [_BASE_PAST] * (len(_slot_owner) - covered)
    # One C-level pass with no bytecode in it, so no other thread runs while the counts are
    # read. Slots covered or added since bases was made only count as more rooted than they are.
    counts = list(map(sys.getrefcount, _slot_owner))
    rooted = bytes(map(int.__lt__, bases, counts))
    lib.mg_collect(ffi.from_buffer("uint8_t[]", rooted), len(rooted), token, idle)


def collect():
    """Reclaims now the C nodes that no Value can reach (it also happens on its own)."""
    _collect_once(True)
    _collect_once(True)


def live_nodes():
    """How many C nodes the arena holds now (reachable or not yet reclaimed)."""
    return lib.mg_live_nodes()


def arena_bytes(spares=False):
    """Bytes the C arena holds now: the blocks that hold nodes and their tables (the Python
    objects aside), and with spares=True the freed blocks it keeps for the nodes to come."""
    return lib.mg_arena_bytes() + (lib.mg_spare_bytes() if spares else 0)


def _owner_slow(i):
    """The owner for node i when _owners does not cover its slot; or raises for a failed op.
    A trigger's first Value collects; a slot new to the arena is covered from now on."""
    if i >= _ERROR:
        raise _exception(i - _ERROR)
    slot = i >> _SHIFT
    with _growing:
        while len(_slot_owner) < lib.mg_slots():
            _slot_owner.append(object())
        trigger = lib.mg_slot_trigger(slot)
        if not trigger:
            for owner in _slot_owner[len(_owners) >> _SHIFT:slot + 1]:
                _owners.extend([owner] * _BLOCK)
            lib.mg_cover(len(_owners) >> _SHIFT)
    if trigger == lib.MG_TRIGGER_OPEN or lib.mg_should_collect():
        _collect_once(False)
    return _slot_owner[slot]


def _owner_of(i):
    """The owner a Value of node i refers to; or raises for a failed op."""
    try:
        return _owners[i]
    except IndexError:
        return _owner_slow(i)


def _wrap(i):
    """A new Value for node i, or the exception of the failed op that returned i."""
    out = _new(Value)
    out._id = i
    out._blk = _owner_of(i)
    return out


def _exception(status):
    if status == lib.MG_NOMEM:
        return MemoryError("micrograd_c: out of memory for graph nodes")
    if status == lib.MG_ZERODIV:
        return ZeroDivisionError("0.0 cannot be raised to a negative power")
    if status == lib.MG_OVERFLOW:
        return OverflowError("math range error")
    if status == lib.MG_DOMAIN:
        return ValueError("negative number cannot be raised to a fractional power")
    return ValueError("micrograd_c: not a live node (status %d)" % status)


def _check(status):
    if status:
        raise _exception(status)


# --- numbers -------------------------------------------------------------------------------

_REAL = {float, int, bool}      # types seen to hold real numbers: the check is an ABC's, and slow


def _number(x):
    """x as a float if it is a real number (int, float, bool, a NumPy scalar), else None."""
    t = type(x)
    if t in _REAL:
        return float(x)
    if isinstance(x, numbers.Real) or (t.__module__ == "numpy" and t.__name__ in ("bool", "bool_")):
        _REAL.add(t)
        return float(x)
    return None


def _is_array(x):
    """Whether x is a NumPy array: one defers its operators to Value (see __array_priority__)."""
    if type(x) in _REAL:
        return False
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.ndarray)


def _array_op(ufunc, array, value):
    """array <op> value as micrograd gets it from NumPy: an object array, elementwise."""
    return getattr(sys.modules["numpy"], ufunc)(array, value)


# --- the graph as micrograd shows it -------------------------------------------------------

_tags = []                      # _op of hand-built nodes, by the tag stored in C
_tag_of = {}
_index = weakref.WeakValueDictionary()  # node id -> its live Value, for _prev
_indexed = {}                   # slot -> lib.mg_created() when its Values were last indexed


def _value_of(n):
    """The live Value of node n (the user's own object where there is one), else a new one."""
    slot, created = n >> _SHIFT, lib.mg_created()
    if _indexed.get(slot) != created and slot < len(_slot_owner):
        # Every Value into the slot refers to its owner: ask the collector which do.
        for o in gc.get_referrers(_slot_owner[slot]):
            if issubclass(type(o), Value):
                _index[o._id] = o
        _indexed[slot] = created
    v = _index.get(n)
    if v is None:
        v = _wrap(n)
        _index[n] = v
    return v


def _custom(x, children, op):
    """A node built by hand, Value(x, children, op): micrograd's edges, no local derivative."""
    kids = []
    for c in children:
        if not isinstance(c, Value):
            raise TypeError("Value children must be Values, not %s" % type(c).__name__)
        if c not in kids:
            kids.append(c)
    if len(kids) > 2:
        raise ValueError("micrograd_c: a hand-built Value takes at most two distinct children")
    tag = _tag_of.get(op)
    if tag is None:
        tag = _tag_of[op] = len(_tags)
        _tags.append(op)
    a, b = [k._id for k in kids] + [-1] * (2 - len(kids))
    return lib.mg_custom(x, a, b, tag)


# --- Value ---------------------------------------------------------------------------------

_leaf = lib.mg_leaf
_pow = lib.mg_pow


# _binary and _unary inline _wrap: two more Python calls would cost about a third of an op.

def _binary(op, op_number, ufunc):
    """A binary dunder over op(a, b) for a Value b, op_number(a, k) for a number k; ufunc is
    NumPy's name for it, for an array operand."""
    def method(self, other):
        t = type(other)
        if t is Value:
            i = op(self._id, other._id)
        elif t is float or t is int:
            i = op_number(self._id, other)
        elif isinstance(other, Value):
            i = op(self._id, other._id)
        else:
            k = _number(other)
            if k is None:
                return _array_op(ufunc, other, self) if _is_array(other) else NotImplemented
            i = op_number(self._id, k)
        out = _new(Value)
        out._id = i
        try:
            out._blk = _owners[i]
        except IndexError:
            out._blk = _owner_slow(i)
        return out
    return method


def _unary(op):
    def method(self):
        i = op(self._id)
        out = _new(Value)
        out._id = i
        try:
            out._blk = _owners[i]
        except IndexError:
            out._blk = _owner_slow(i)
        return out
    return method


class Value:
    """A scalar and its gradient, as micrograd's Value; the node itself lives in C."""

    __slots__ = ("_id", "_blk", "__dict__", "__weakref__")
    label = ""
    __array_priority__ = 1000.0     # NumPy scalars and arrays leave `np.float64(2) * v` to Value

    def __init__(self, data, _children=(), _op="", label=""):
        x = data if type(data) is float else _number(data)
        if x is None:
            raise TypeError("Value data must be a real number, not %s" % type(data).__name__)
        i = _custom(x, _children, _op) if _children or _op else _leaf(x)
        self._id = i
        try:                            # _owner_of(i), inline: Value(x) is the leaves' hot path
            self._blk = _owners[i]
        except IndexError:
            self._blk = _owner_slow(i)
        if label:
            self.label = label

    __add__ = __radd__ = _binary(lib.mg_add, lib.mg_add_k, "add")
    __mul__ = __rmul__ = _binary(lib.mg_mul, lib.mg_mul_k, "multiply")

    def __pow__(self, other):
        if not isinstance(other, (int, float)):
            raise AssertionError("only supporting int/float powers for now")
        out = _wrap(_pow(self._id, other, isinstance(other, int)))
        if type(other) is not float and (type(other) is bool or float(other) != other):
            out.__dict__["_op_name"] = f"**{other}"    # **True, or an int a float cannot hold
        return out

    relu = _unary(lib.mg_relu)
    tanh = _unary(lib.mg_tanh)
    exp = _unary(lib.mg_exp)

    def __neg__(self):  # -self
        return self * -1

    def __sub__(self, other):  # self - other
        return self + (-other)

    def __rsub__(self, other):  # other - self
        if _is_array(other):
            return _array_op("subtract", other, self)
        return other + (-self)

    def __truediv__(self, other):  # self / other
        if not isinstance(other, Value):
            k = _number(other)          # so that NumPy ints divide too; k**-1 is Python's
            if k is not None:
                other = k
        return self * other**-1

    def __rtruediv__(self, other):  # other / self
        if _is_array(other):
            return _array_op("true_divide", other, self)
        return other * self**-1

    def backward(self):
        """Sets this node's grad to 1 and adds d(self)/d(node) into every node it reaches."""
        _check(lib.mg_backward(self._id))

    @property
    def _backward(self):
        """This node's local chain rule alone, to call by hand as in the lecture."""
        return self._local_backward

    @_backward.setter
    def _backward(self, fn):
        raise AttributeError(
            "micrograd_c computes backward in C and cannot run a Python _backward; build the op "
            "from Value's operations (+, *, **, relu, tanh, exp) instead")

    def _local_backward(self):
        _check(lib.mg_backward_node(self._id))

    @property
    def _prev(self):
        """The set of this node's children, the same Value objects on every access."""
        d = self.__dict__
        prev = d.get("_prev_cache")
        if prev is None:
            kids = {lib.mg_child(self._id, 0), lib.mg_child(self._id, 1)} - {-1}
            prev = d["_prev_cache"] = set(map(_value_of, kids))
        return prev

    @property
    def _op(self):
        name = self.__dict__.get("_op_name")
        if name is not None:
            return name
        i = self._id
        op = lib.mg_op(i)
        if op == lib.MG_POW_INT:
            return "**%d" % lib.mg_aux(i)
        if op == lib.MG_POW_FLOAT:
            return "**%r" % lib.mg_aux(i)
        if op == lib.MG_CUSTOM:
            return _tags[int(lib.mg_aux(i))]
        return _OP_NAME[op]

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __reduce__(self):
        # copy, deepcopy and pickle give a new leaf with the same data, grad and attributes.
        state = {k: v for k, v in self.__dict__.items() if k not in ("_prev_cache", "_op_name")}
        return (_restore, (self.data, self.grad, state))


# data and grad: C descriptors that read the node in the arena (csrc/py_fields.c); a property
# would run a Python function on every read, several times micrograd's plain attribute.
if lib.mg_glue_install_fields(__name__.encode(), b"Value"):
    raise ImportError("micrograd_c: the C glue could not give Value its data and grad")


def _restore(data, grad, state):
    v = Value(data)
    v.grad = grad
    v.__dict__.update(state)
    return v
