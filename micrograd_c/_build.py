"""The cffi build of micrograd_c's core (out-of-line API mode).

setuptools runs this file (setup.py names it in cffi_modules) before the package exists, so it
imports only cffi and the standard library, and finds csrc/ next to the package. The header is the cdef: the C
API is declared once, in csrc/micrograd.h. The core (arena.c, ops.c, nn.c, compose.c) is portable C11;
the Python type glue (value.c and the others csrc/glue.h lists) is compiled with it into the
module cffi generates, all against Python's limited API.
"""

import os
import sysconfig

from cffi import FFI

# setuptools wants paths relative to setup.py's directory, where it runs this file from.
CSRC = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "csrc"))
CORE = ["arena.c", "ops.c", "nn.c", "compose.c"]
# the Python type glue (csrc/glue.h lists what each file does), against Python's limited API
GLUE_FILES = [
    "value.c",
    "compose_glue.c",
    "functional_glue.c",
    "backward_glue.c",
    "nn_glue.c",
    "optim_glue.c",
    "recycle.c",
    "module.c",
]

# Every call into the core is short and the core keeps no locks of its own: the glue holds the
# GIL for the whole call, which is what makes the core safe under Python threads (design note
# 8 in csrc/arena.c), and skips cffi's errno bookkeeping (the core never touches errno). These
# are cffi's names for the two. mg_glue_holds_gil() answers 1 only from inside our redefined
# macro, so the import check in micrograd_c/_glue.py fails if a new cffi stops using them.
GLUE = """
#include "micrograd.h"
static int glue_in_call;
#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS { glue_in_call = 1;
#define Py_END_ALLOW_THREADS glue_in_call = 0; }
#undef _cffi_save_errno
#undef _cffi_restore_errno
#define _cffi_save_errno() ((void)0)
#define _cffi_restore_errno() ((void)0)

int mg_glue_holds_gil(void) { return glue_in_call; }
"""

# Floating point must round as Python's does: no FMA contraction, no fast-math, anywhere.
if os.name == "nt":  # MSVC: /fp:precise contracts nothing unless /fp:contract is given
    FLAGS = ["/O2", "/fp:precise"]
else:  # gcc and clang
    # -fno-semantic-interposition: the glue's files call each other's mg_ functions, which
    # a shared object would otherwise keep out of line (in case another library replaced them)
    FLAGS = [
        "-O3",
        "-ffp-contract=off",
        "-fno-fast-math",
        "-std=c11",
        "-g0",
        "-fno-semantic-interposition",
        "-Werror=switch",
        "-Werror=implicit-function-declaration",
    ]

# The limited API of 3.9 (the wheel is abi3, cp39 up), named here: cffi's own default is the
# 3.2 one, which lacks calls the glue makes. A free-threaded Python has no limited API; the
# package refuses to import there anyway (micrograd_c/_glue.py), but it builds.
MACROS = [] if sysconfig.get_config_var("Py_GIL_DISABLED") else [("Py_LIMITED_API", "0x03090000")]


def _cdef(path):
    with open(path) as f:
        return "".join(line for line in f if not line.lstrip().startswith("#"))


ffibuilder = FFI()
ffibuilder.cdef(_cdef(os.path.join(CSRC, "micrograd.h")))
ffibuilder.set_source(
    "micrograd_c._core",
    GLUE,
    sources=[os.path.join(CSRC, name) for name in CORE + GLUE_FILES],
    include_dirs=[CSRC],
    define_macros=MACROS,
    extra_compile_args=FLAGS,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=False)
