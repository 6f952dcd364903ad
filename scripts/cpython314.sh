#!/usr/bin/env bash
# CPython 3.14 for CI, from Debian's sid in a chroot: pyenv has no 3.14 here, and sid has
# python3.14 and its debug build, python3.14-dbg (python3.14d).
#
#   scripts/cpython314.sh setup CHROOT
#       debootstrap sid into CHROOT with python3.14 (and -venv, -dev), python3.14-dbg and its
#       headers, gcc, libffi's headers and graphviz; a CHROOT that has them all is left as it is
#   scripts/cpython314.sh tests CHROOT WHEEL CHECKDIR
#       the wheel (the manylinux2014 abi3 one) in a fresh python3.14 venv: the tests in
#       CHECKDIR (a copy of tests/, benchmarks/, pyproject.toml and README.md), then the demo
#   scripts/cpython314.sh refcount CHROOT SDIST
#       the sdist built against python3.14d's headers, then scripts/refcount_loop.py under
#       python3.14d: sys.gettotalrefcount() flat over every op and API
#
# The chroot reaches no package index: the host's pip downloads what it installs, cp314 wheels,
# and for the debug interpreter, whose ABI (cp314d) no wheel on PyPI carries, cffi's sdist,
# compiled in the chroot by its gcc. Runs as root on a Debian x86_64 host with python3 (3.9+,
# with venv) and a package index; installs debootstrap with apt-get where it is missing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
# what `setup` installs; libpython3.14-dbg holds python3.14d's headers, libffi-dev the headers
# cffi's sdist compiles against, graphviz the dot program the draw_dot tests render with
PACKAGES=(python3.14 python3.14-venv python3.14-dev python3.14-dbg libpython3.14-dbg gcc
          libffi-dev graphviz)
export PIP_DISABLE_PIP_VERSION_CHECK=1

fail() { echo "error: $*" >&2; exit 1; }
usage() {
  echo "usage: $0 setup CHROOT | tests CHROOT WHEEL CHECKDIR | refcount CHROOT SDIST" >&2
  exit 2
}

# What this run made, undone on exit however it ends: the mounts, then the directories.
mounts=()
dirs=()
cleanup() {
  local m
  for m in "${mounts[@]}"; do umount "$m" || echo "error: could not unmount $m" >&2; done
  # --one-file-system: never into a mount left inside (by an interrupted debootstrap)
  (( ${#dirs[@]} == 0 )) || rm -rf --one-file-system "${dirs[@]}"
}
trap cleanup EXIT

# The packages of PACKAGES that the Debian system in $1 lacks, as dpkg there records them.
missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    [[ $(dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] ||
      printf '%s ' "$p"
  done
}

need_chroot() {
  [[ -d $1 ]] || fail "no chroot at $1: run '$0 setup $1' first"
  local lacks
  lacks=$(missing "$1")
  [[ -z $lacks ]] || fail "the chroot $1 lacks ${lacks% }: run '$0 setup' on a new directory"
}

# A fresh directory under the chroot's /tmp for this run, removed on exit; /proc mounted in the
# chroot (tests/test_lifetime.py reads the process's memory there, and skips without it) and
# unmounted on exit.
# Sets $work (its path on the host) and $in (the same in the chroot).
enter() {
  root=$(realpath "$1")
  work=$(mktemp -d -p "$root/tmp" micrograd_c.XXXXXX)
  dirs+=("$work")
  mkdir "$work/tmp"
  in=${work#"$root"}
  if ! mountpoint -q "$root/proc"; then
    mount -t proc proc "$root/proc"
    mounts+=("$root/proc")
  fi
}

# Runs the rest of the arguments in the chroot, from $in/$1, with the environment given here
# alone (none of the host's pip settings or paths), the venv $in/venv first on PATH, and temporary
# files in $in/tmp, so that what the tests leave there goes with $work.
# shellcheck disable=SC2016  # the chroot's sh expands $0 and $@
in_chroot() {
  local dir=$in/$1
  shift
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH="$in/venv/bin:/usr/bin:/bin" TMPDIR="$in/tmp" \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 ${CI:+CI="$CI"} \
    ${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE="$OPENBLAS_CORETYPE"} \
    ${OPENBLAS_L2_SIZE:+OPENBLAS_L2_SIZE="$OPENBLAS_L2_SIZE"} \
    /bin/sh -c 'cd "$0" && exec "$@"' "$dir" "$@"
}

# The host's pip, in a venv of its own under $work (removed with it): downloads for the chroot.
host_pip() {
  if [[ ! -x $work/.pip/bin/pip ]]; then
    "$python" -m venv "$work/.pip"
    "$work/.pip/bin/python" -m pip install -q --upgrade pip
  fi
  "$work/.pip/bin/pip" "$@"
}

setup() {
  local target=$1
  # an empty directory (a caller's mktemp -d) is a new one
  [[ -d $target && -z $(ls -A "$target") ]] && rmdir "$target"
  if [[ -e $target ]]; then
    local lacks
    lacks=$(missing "$target")
    [[ -z $lacks ]] ||
      fail "$target exists but lacks ${lacks% } (or is no Debian system): remove it, or name a new directory"
    echo "$target: Debian sid with ${PACKAGES[*]} is there"
    return
  fi
  if ! command -v debootstrap >/dev/null; then
    if ! { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }; then
      fail "could not install debootstrap (apt-get install debootstrap)"
    fi
  fi
  # into a directory of its own first, so that an interrupted run leaves no half-made CHROOT
  # that a later one would take for a finished one
  local partial=$target.partial
  if [[ -e $partial ]]; then
    [[ -z $(findmnt -rn -o TARGET | awk -v p="$partial/" 'index($0, p) == 1') ]] ||
      fail "$partial, left by an earlier run, has mounts in it: unmount them, then remove it"
    rm -rf --one-file-system "$partial"
  fi
  mkdir -p "$(dirname "$target")"
  dirs+=("$partial")
  echo "debootstrap sid into $target: ${PACKAGES[*]}"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" sid "$partial" \
    > "$partial.log" 2>&1 || { tail -20 "$partial.log" >&2; fail "debootstrap failed (the log: $partial.log)"; }
  rm -f "$partial.log"
  mv "$partial" "$target"
  local lacks
  lacks=$(missing "$target")
  [[ -z $lacks ]] || fail "debootstrap left out ${lacks% }"
  chroot "$target" python3.14 -VV
  chroot "$target" python3.14d -c 'import sys; print(sys.version.split()[0], "debug build:", hasattr(sys, "gettotalrefcount"))'
}

tests() {
  local wheel checkdir
  wheel=$(realpath "$2")
  checkdir=$(realpath "$3")
  [[ -f $wheel && $wheel == *.whl ]] || fail "$2 is not a wheel"
  [[ -d $checkdir/tests ]] || fail "$3 holds no tests/"
  need_chroot "$1"
  enter "$1"
  # the wheel's own requirements for its test and demo extras, as cp314 wheels
  mkdir "$work/wheels"
  cp "$wheel" "$work/wheels/"
  host_pip download -q --python-version 3.14 --only-binary=:all: -d "$work/wheels" "${wheel}[test,demo]"
  cp -r "$checkdir" "$work/check"
  in_chroot . python3.14 -m venv venv
  # wheels only: nothing may compile here
  in_chroot . pip install -q --no-index --only-binary=:all: --find-links wheels \
    "wheels/$(basename "$wheel")[test,demo]"
  in_chroot . python -VV
  # from the tests' copy, which holds no micrograd_c sources: the package must be the venv's
  local where
  where=$(in_chroot check python -c 'import micrograd_c; print(micrograd_c.__file__)')
  echo "micrograd_c imported from $where"
  [[ $where == "$in"/venv/lib/python3.14/site-packages/micrograd_c/__init__.py ]] ||
    fail "micrograd_c came from $where, not the venv's wheel"
  in_chroot check python -m pytest tests -q -p no:cacheprovider
  in_chroot check python -m micrograd_c.demo --quiet --compare-steps 1
}

refcount() {
  local sdist
  sdist=$(realpath "$2")
  [[ -f $sdist && $sdist == *.tar.gz ]] || fail "$2 is not an sdist (.tar.gz)"
  need_chroot "$1"
  enter "$1"
  mkdir "$work/wheels"
  cp "$sdist" "$here/refcount_loop.py" "$work/"
  # cffi as its sdist (the package's requirement), and as wheels what is pure Python: cffi's
  # pycparser, the sdist's build requirements (pyproject.toml's [build-system]) and graphviz
  # (the draw extra), which draw_dot builds its graphs with
  host_pip download -q --no-deps --no-binary=:all: -d "$work/wheels" "cffi>=1.17"
  host_pip download -q --python-version 3.14 --only-binary=:all: -d "$work/wheels" \
    pycparser "setuptools>=77" wheel graphviz
  in_chroot . python3.14d -m venv venv
  in_chroot . python -VV
  # cffi's backend compiled for the debug ABI, as a wheel beside the others: the sdist's
  # isolated build and its install both take it from there
  in_chroot . pip wheel -q --no-index --find-links wheels -w wheels cffi
  in_chroot . pip install -q --no-index --find-links wheels "$(basename "$sdist")[draw]"
  # against python3.14d's headers, the limited API's Py_INCREF and Py_DECREF are calls into
  # the interpreter (Py_IncRef, Py_DecRef), which count into the total; against release
  # headers they are inline, count nothing, and the total drifts with no leak
  local core
  core=$(ls "$work"/venv/lib/python3.14/site-packages/micrograd_c/_core*.so) ||
    fail "no compiled micrograd_c in the debug venv"
  # shellcheck disable=SC2016  # the chroot's sh expands $0
  in_chroot . sh -c 'nm -D --undefined-only "$0" | grep -qwE "_?Py_IncRef"' "${core#"$root"}" ||
    fail "$core was not built against python3.14d's headers (it calls no Py_IncRef)"
  in_chroot . python refcount_loop.py
}

(( $# >= 1 )) || usage
[[ $(id -u) -eq 0 ]] || fail "run as root (debootstrap, chroot and mount need it)"
start=$SECONDS
case $1 in
  setup) (( $# == 2 )) || usage; setup "$2" ;;
  tests) (( $# == 4 )) || usage; tests "$2" "$3" "$4" ;;
  refcount) (( $# == 3 )) || usage; refcount "$2" "$3" ;;
  *) usage ;;
esac
echo "cpython314.sh $1: done in $((SECONDS - start)) s"
