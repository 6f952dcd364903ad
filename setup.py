# Metadata lives in pyproject.toml. This file hooks the cffi build into setuptools, names the
# wheel abi3 (one wheel serves CPython 3.9 and every later one), and says what to do when a
# source build finds no C compiler.
import os
import shutil
import sys
import sysconfig

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, PlatformError

WHEELS = (
    "CPython 3.9 to 3.14 on Linux (x86_64 and aarch64, glibc 2.17+ or musl), macOS "
    "(x86_64 and arm64) and Windows (AMD64)"
)

INSTALL_COMPILER = """\
  Debian, Ubuntu:  sudo apt install gcc python3-dev
  Fedora, RHEL:    sudo dnf install gcc python3-devel
  Alpine:          apk add gcc musl-dev python3-dev
  macOS:           xcode-select --install
  Windows:         the Microsoft C++ Build Tools,
                   https://visualstudio.microsoft.com/visual-cpp-build-tools/"""


def build_failure(what):
    """The error for a source build that cannot compile: what is missing, and the two ways on."""
    return PlatformError(
        f"micrograd_c: {what}.\n"
        f"pip is building micrograd_c from source, as no wheel matched this machine "
        f"(CPython {sys.version_info[0]}.{sys.version_info[1]}, {sysconfig.get_platform()}), "
        f"and its core is C. Either install a C compiler and Python's headers:\n"
        f"{INSTALL_COMPILER}\n"
        f"or install a wheel on a platform that has one ({WHEELS}):\n"
        f"  pip install --only-binary micrograd_c micrograd_c"
    )


class BuildExt(build_ext):
    """build_ext, with a clear error when the compiler or Python.h is missing."""

    def build_extension(self, ext):
        headers = sysconfig.get_paths()["include"]
        if os.name != "nt" and not os.path.exists(os.path.join(headers, "Python.h")):
            raise build_failure(f"Python's C headers are not installed (no Python.h in {headers})")
        try:
            super().build_extension(ext)
        except PlatformError as exc:  # MSVC not found
            raise build_failure(f"no C compiler found ({exc})") from exc
        except CompileError:
            cc = getattr(self.compiler, "compiler_so", None)
            if cc and not shutil.which(cc[0]):
                raise build_failure(f"no C compiler found (looked for {cc[0]!r})") from None
            raise


# abi3 needs the limited API, which a free-threaded CPython lacks: that build is per version.
ABI3 = not sysconfig.get_config_var("Py_GIL_DISABLED")

setup(
    cffi_modules=["micrograd_c/_build.py:ffibuilder"],
    cmdclass={"build_ext": BuildExt},
    options={"bdist_wheel": {"py_limited_api": "cp39"}} if ABI3 else {},
)
