"""The CI stages, one nox session each; .ci/run runs them all, in order, on a clean copy.

    nox                     # lint and tests; `nox -l` lists the sessions
    nox -s asan             # one stage alone, from any checkout
    nox -s format           # ruff and clang-format applied to the whole tree

The sdist, the wheel built from it with this machine's compiler and the manylinux2014 wheel
are built when a session first needs them, into DIST (the environment's MICROGRAD_C_DIST,
else .nox/dist), and kept there while the sources they come from are unchanged: a session
works alone on a fresh clone, and a run of several builds each artifact once.
"""

import ast
import atexit
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
DIST = Path(os.environ.get("MICROGRAD_C_DIST") or ROOT / ".nox" / "dist").resolve()
# the Debian sid chroot of scripts/cpython314.sh: outside any checkout, so that no copy or
# removal of a tree walks into it, and kept between runs (setup leaves a complete one as it is)
CHROOT = Path(os.environ.get("MICROGRAD_C_CHROOT") or Path.home() / ".cache/micrograd_c/sid-chroot")

MYPY = "mypy==2.4.1"  # pinned: a new mypy can find new errors
CIBUILDWHEEL = "cibuildwheel==4.3.5"  # scripts/check_release.py checks the workflow pins the same
PRE_COMMIT = "pre-commit==4.7.0"
PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")  # the CPythons wheels tests the wheel on
NO_CC = {"CC": "/nonexistent/cc"}

os.environ.pop("PYTHONPATH", None)  # micrograd_c must come from a venv, never from a path set by hand
os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")

nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "no"  # a fresh venv each run: what CI sees
nox.options.sessions = ["lint", "tests"]  # plain `nox`: the quick checks before a commit


# ---------------------------------------------------------------------------------------
# the sources, the pins, the interpreters


def _gitignored(rel, is_dir, patterns):
    """Whether .gitignore's patterns cover the path rel, as git reads the simple ones it holds
    (no negation): `name/` a directory anywhere, `/path` or `a/b` from the root, else a glob on
    any component."""
    parts = rel.split("/")
    for pattern in patterns:
        dir_only, pattern = pattern.endswith("/"), pattern.rstrip("/")
        if dir_only and not is_dir:
            continue
        if "/" in pattern:
            if fnmatch(rel, pattern.lstrip("/")):
                return True
        elif fnmatch(parts[-1], pattern):
            return True
    return False


def sources():
    """The files a clean clone of this tree would hold: what git tracks plus what it does not
    ignore; without git (.ci/run's copy), every file .gitignore does not cover."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            check=True,
        ).stdout
        return sorted(p for p in os.fsdecode(out).split("\0") if p and (ROOT / p).is_file())
    except (OSError, subprocess.CalledProcessError):
        pass
    ignore = [".git/", ".nox/"]
    if (ROOT / ".gitignore").exists():
        ignore += [
            line.strip()
            for line in (ROOT / ".gitignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
    found = []
    for top, dirs, files in os.walk(ROOT):
        base = Path(top).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else base + "/"
        dirs[:] = sorted(d for d in dirs if not _gitignored(prefix + d, True, ignore))
        found += [prefix + f for f in files if not _gitignored(prefix + f, False, ignore)]
    return sorted(found)


def copy_sources(dest, *tops):
    """Copies the source files under the paths tops (all of them without tops) into dest."""
    for rel in sources():
        if not tops or any(rel == t or rel.startswith(t + "/") for t in tops):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)


def pin(tool):
    """The `tool==version` that .pre-commit-config.yaml installs: the one record of it."""
    found = set(
        re.findall(rf"[\"']({re.escape(tool)}==[^\"']+)[\"']", (ROOT / ".pre-commit-config.yaml").read_text())
    )
    if len(found) != 1:
        raise RuntimeError(f".pre-commit-config.yaml pins {tool} {len(found)} ways: {sorted(found)}")
    return found.pop()


def ziglang_pin():
    """The ziglang that scripts/manylinux_wheel.sh builds with; the strict compiles use it too."""
    text = (ROOT / "scripts/manylinux_wheel.sh").read_text()
    return re.search(r"^ZIGLANG=(ziglang==\S+)", text, re.M).group(1)


def cpythons(session):
    """Each CPython of PYTHONS on this machine: pyenv's newest X.Y.Z, else pythonX.Y on PATH."""
    try:
        pyenv_root = Path(subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip())
    except OSError:
        pyenv_root = Path.home() / ".pyenv"
    found = []
    for v in PYTHONS:
        builds = [
            p
            for p in (pyenv_root / "versions").glob(f"{v}.*")
            if re.fullmatch(rf"{re.escape(v)}\.\d+", p.name) and (p / "bin/python3").exists()
        ]
        builds.sort(key=lambda p: int(p.name.rsplit(".", 1)[1]))
        path = str(builds[-1] / "bin/python3") if builds else shutil.which(f"python{v}")
        if path:
            found.append((v, path))
        else:
            session.log(
                f"skipped: no CPython {v} on this machine (neither {pyenv_root}/versions/{v}.* nor python{v})"
            )
    return found


# ---------------------------------------------------------------------------------------
# venvs and commands (through subprocess, not session.run, where a command is another venv's:
# session.run puts the session's own venv first on PATH)


def run(session, *args, cwd=None, env=None, outer_env=True, silent=False):
    """Runs args in cwd, with env over this process's environment (or alone): the session
    fails if it does. Its output is shown, or, if silent, returned."""
    session.log(" ".join(map(str, args)) + (f"   (in {cwd})" if cwd else ""))
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**(os.environ if outer_env else {}), **(env or {})},
        stdout=subprocess.PIPE if silent else None,
        text=True,
    )
    if proc.returncode:
        session.error(f"{args[0]} exited {proc.returncode}")
    return proc.stdout


def in_venv(session, py, *args, cwd, env=None, silent=False):
    """Runs args in cwd as in the venv of python py, activated (the README's commands assume
    one): the venv's bin first on PATH."""
    bin_ = Path(py).parent
    if (bin_ / args[0]).exists():
        args = (bin_ / args[0], *args[1:])
    env = {"VIRTUAL_ENV": str(bin_.parent), "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    return run(session, *args, cwd=cwd, env=env, silent=silent)


def new_venv(session, where, python):
    """A fresh venv of the interpreter python at where, with an up-to-date pip: its python."""
    shutil.rmtree(where, ignore_errors=True)
    run(session, python, "-m", "venv", where)
    py = str(where / "bin/python")
    run(session, py, "-m", "pip", "install", "-q", "--upgrade", "pip")
    return py


def session_python(session):
    """The python of the session's own venv, pip up to date (nox makes the venv afresh)."""
    session.install("-q", "--upgrade", "pip")
    return str(Path(session.virtualenv.location) / "bin/python")


def tee(session, args, log, cwd=None, env=None):
    """Runs args, its output shown and kept in the file log: whether it succeeded."""
    session.log(" ".join(map(str, args)))
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in proc.stdout:
            sys.stdout.write(line)
            out.write(line)
    sys.stdout.flush()
    return proc.wait() == 0


def tmpdir(session):
    """The session's own temporary directory, as an absolute path."""
    return Path(session.create_tmp()).resolve()


def outside(name):
    """A new directory outside the tree, removed at exit: pytest and mypy look for their
    settings in the directories above the one they run in, and must not find this tree's."""
    path = Path(tempfile.mkdtemp(prefix=f"micrograd_c-{name}-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def check_import(session, py, cwd, where):
    """The venv of py, run from cwd, imports micrograd_c from where (a glob pattern)."""
    out = in_venv(
        session, py, "python", "-c", "import micrograd_c; print(micrograd_c.__file__)", cwd=cwd, silent=True
    )
    got = out.strip().splitlines()[-1]
    session.log(f"micrograd_c imported from {got}")
    if not fnmatch(got, str(where)):
        session.error(f"expected micrograd_c from {where}")


# ---------------------------------------------------------------------------------------
# the shared artifacts


def fingerprint(inputs):
    """What the artifacts are made from: the names of all the source files (a new one may be
    packed) and the contents of inputs, the files the sdist packs and the manylinux script."""
    digest = hashlib.sha256()
    for rel in sources():
        digest.update(rel.encode() + b"\0")
    for rel in inputs:
        path = ROOT / rel
        digest.update(rel.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return digest.hexdigest()


def dist(session, manylinux=False):
    """DIST's sdist and host wheel, and its manylinux2014 wheel if asked, each built first if
    missing or made from other sources: {"sdist": path, "wheel": path[, "manylinux": path]}."""
    kinds = {"sdist": "*.tar.gz", "wheel": "*.whl"}
    if manylinux:
        kinds["manylinux"] = "*manylinux_2_17_x86_64*.whl"
    stamp, inputs = DIST / "fingerprint", DIST / "inputs.txt"
    if not (
        stamp.exists() and inputs.exists() and stamp.read_text() == fingerprint(inputs.read_text().split())
    ):
        for kind in ("sdist", "wheel", "manylinux"):
            shutil.rmtree(DIST / kind, ignore_errors=True)
    found = {kind: next(DIST.glob(f"{kind}/{pattern}"), None) for kind, pattern in kinds.items()}
    if not found["sdist"] or not found["wheel"]:
        build_sdist_and_wheel(session)
        with tarfile.open(next(DIST.glob("sdist/*.tar.gz"))) as tar:
            packed = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
        made_from = sorted(packed & set(sources())) + ["scripts/manylinux_wheel.sh"]
        inputs.write_text("\n".join(made_from) + "\n")
        stamp.write_text(fingerprint(made_from))
    if manylinux and not found["manylinux"]:
        build_manylinux(session, next(DIST.glob("sdist/*.tar.gz")))
    found = {kind: next(DIST.glob(f"{kind}/{pattern}"), None) for kind, pattern in kinds.items()}
    missing = [kind for kind, path in found.items() if path is None]
    if missing:
        session.error(f"not built in {DIST}: {', '.join(missing)}")
    return {kind: str(path) for kind, path in found.items()}


def store(session, kind, files):
    """Puts the built files in DIST/kind, in place of what it held."""
    shutil.rmtree(DIST / kind, ignore_errors=True)
    (DIST / kind).mkdir(parents=True)
    for f in files:
        shutil.move(str(f), DIST / kind)
        session.log(f"built {DIST / kind / f.name}")


def build_sdist_and_wheel(session):
    """python -m build on a copy of the sources (so build/, *.so and other leftovers in this
    tree take no part): the sdist, then a wheel from that sdist. The build must not warn."""
    session.log("build the sdist, and the wheel from the sdist")
    tmp = tmpdir(session)
    export, out = tmp / "export", tmp / "out"
    for d in (export, out):
        shutil.rmtree(d, ignore_errors=True)
    copy_sources(export)
    session.install("-q", "build")
    log = tmp / "build.txt"
    if not tee(session, [session_python(session), "-m", "build", "--outdir", out, export], log):
        session.error("python -m build failed")
    # no warnings of the package's own making (byte-compiling is off when the environment says
    # so; pip's notes on the machine's index settings are the machine's)
    warnings = [
        line
        for line in log.read_text().splitlines()
        if "warning" in line.lower()
        and not re.search(r"byte-compiling is disabled|Location .* is ignored", line)
    ]
    if warnings:
        session.error("the build warns:\n" + "\n".join(warnings))
    store(session, "sdist", out.glob("*.tar.gz"))
    store(session, "wheel", out.glob("*.whl"))


def build_manylinux(session, sdist):
    """scripts/manylinux_wheel.sh: zig cc for glibc 2.17, auditwheel repair and show."""
    session.log("the manylinux2014 wheel: zig cc for glibc 2.17, auditwheel repair and show")
    out = tmpdir(session) / "wheelhouse"
    shutil.rmtree(out, ignore_errors=True)
    run(session, ROOT / "scripts/manylinux_wheel.sh", sdist, out, env={"PYTHON": sys.executable})
    store(session, "manylinux", out.glob("micrograd_c-*manylinux_2_17_x86_64*.whl"))


def checkdir():
    """Tests, benchmarks and the settings and README they read, with no package sources beside
    them, so the installed micrograd_c is the one imported."""
    check = outside("check")
    copy_sources(check, "tests", "benchmarks", "pyproject.toml", "README.md")
    return check


def test_installed(session, py, check):
    """In the venv of py, which has micrograd_c installed: the tests, then the demo, which
    fails if its losses leave micrograd's."""
    check_import(session, py, check, Path(py).parent.parent / "lib/*/site-packages/micrograd_c/__init__.py")
    in_venv(session, py, "python", "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", cwd=check)
    in_venv(session, py, "python", "-m", "micrograd_c.demo", "--quiet", "--compare-steps", "1", cwd=check)


# ---------------------------------------------------------------------------------------
# the sessions, in .ci/run's order


def c_files():
    return [str(ROOT / p) for p in sources() if re.fullmatch(r"csrc/[^/]+\.[ch]", p)]


@nox.session
def lint(session):
    """ruff check, ruff format --check, clang-format --dry-run -Werror; the pins agree.

    The repo's own configs, and the versions .pre-commit-config.yaml pins."""
    session.install("-q", pin("ruff"), pin("clang-format"), PRE_COMMIT)
    session.run("pre-commit", "validate-config")
    session.run("ruff", "--version")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "--diff", ".")
    session.run("clang-format", "--version")
    session.run("clang-format", "--dry-run", "-Werror", *c_files())
    # .ci/run and the workflow's lint job install one nox
    pins = {
        p: set(re.findall(r"nox==[\w.]+", (ROOT / p).read_text()))
        for p in (".ci/run", ".github/workflows/ci.yml")
    }
    if len(set().union(*pins.values())) != 1 or not all(pins.values()):
        session.error(f"nox is pinned differently: {pins}")


@nox.session
def format(session):
    """Applies ruff (its fixes, then its format) and clang-format to the whole tree."""
    session.install("-q", pin("ruff"), pin("clang-format"))
    session.run("ruff", "format", ".")
    session.run("ruff", "check", "--fix", ".")
    session.run("ruff", "format", ".")  # what a fix left to lay out
    session.run("clang-format", "-i", *c_files())


# The core is portable C11 (arena.c, ops.c, nn.c; optim.h): gcc and clang compile it with
# -pedantic and every warning an error, natively and for the other platforms the release
# workflow builds (Linux aarch64 and musl, Windows, macOS). The Python type glue likewise,
# each file alone, against the limited API and without -pedantic (PyType_Slot holds functions
# as void *). clang is zig cc (the ziglang package on PyPI, which scripts/manylinux_wheel.sh
# builds with): a current clang that brings every target's C library headers, from the
# package index, where Debian's clang would be an older one and a second install.


def _build_list(name):
    """A list of C files micrograd_c/_build.py names (CORE, GLUE_FILES), read without running it
    (it imports cffi, which nox's own environment lacks)."""
    tree = ast.parse((ROOT / "micrograd_c/_build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
            return tuple(ast.literal_eval(node.value))
    raise RuntimeError(f"micrograd_c/_build.py has no {name}")


CORE = _build_list("CORE") + ("optim.h",)  # a header alone: its inline functions go unused
GLUE = _build_list("GLUE_FILES")
TARGETS = (
    "aarch64-linux-gnu.2.17 x86_64-linux-musl aarch64-linux-musl "
    "x86_64-windows-gnu aarch64-macos x86_64-macos"
)


@nox.session
def cross(session):
    """The C files, each alone: gcc and clang, -std=c11 -pedantic -Wall -Wextra -Werror."""
    unlisted = [p for p in sources() if re.fullmatch(r"csrc/[^/]+\.c", p) and p[5:] not in CORE + GLUE]
    if unlisted:
        session.error(f"in neither CORE nor GLUE of noxfile.py: {', '.join(unlisted)}")
    session.install("-q", ziglang_pin())
    py = str(Path(session.virtualenv.location) / "bin/python")
    zig = [py, "-m", "ziglang", "cc"]
    run(session, *zig, "--version")
    obj = tmpdir(session) / "check.o"
    strict = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-ffp-contract=off", "-c", "-o", obj]
    core = [*strict, "-pedantic", "-Wno-unused-function", "-x", "c"]
    pyinc = run(session, py, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])", silent=True)
    glue = [*strict, "-DPy_LIMITED_API=0x03090000", f"-I{pyinc.strip()}", f"-I{ROOT / 'csrc'}"]
    for name, cc in (("gcc", ["gcc"]), ("clang (zig cc)", zig)):
        for f in CORE:
            run(session, *cc, *core, ROOT / "csrc" / f)
        for f in GLUE:
            run(session, *cc, *glue, ROOT / "csrc" / f)
        session.log(f"{name}: clean")
    for target in TARGETS.split():
        for f in CORE:
            run(session, *zig, "-target", target, *core, ROOT / "csrc" / f)
        session.log(f"zig cc -target {target}: clean")


@nox.session(python=False)
def release(session):
    """scripts/check_release.py: cibuildwheel's build identifiers and options, the workflow."""
    found = [py for v, py in cpythons(session) if v not in ("3.9", "3.10")]
    if not found:
        session.error("no CPython 3.11 or later here, which cibuildwheel needs")
    py = new_venv(session, tmpdir(session) / "release", found[-1])
    run(session, py, "-m", "pip", "install", "-q", CIBUILDWHEEL, "pyyaml")
    run(session, py, ROOT / "scripts/check_release.py", ROOT)


@nox.session
def wheels(session):
    """The sdist and wheels: their files, no compiler, the tests on every CPython 3.9 to 3.13.

    What the sdist and both wheels hold; a source build with no compiler stopping with what to
    install; the manylinux2014 wheel installed with no compiler on PATH into every CPython 3.9
    to 3.13 here, and the host's wheel into this session's Python, each tested from a
    directory without the sources; mypy on user code against the installed annotations."""
    pythons = cpythons(session)
    if len(pythons) < 3:
        session.error(f"only {len(pythons)} of CPython {PYTHONS[0]} to {PYTHONS[-1]} found; three are needed")
    art = dist(session, manylinux=True)
    tmp = tmpdir(session)
    own = session_python(session)

    with tarfile.open(art["sdist"]) as tar:
        in_sdist = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    wanted = {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "setup.py", "MANIFEST.in"}
    package = (
        r"csrc/[^/]+\.[ch]|micrograd_c/([^/]+\.pyi?|py\.typed)|(tests|benchmarks|examples)/.+\.py"
        r"|examples/.+\.txt"
    )
    wanted |= {p for p in sources() if re.fullmatch(package, p)}
    if wanted - in_sdist:
        session.error(f"not in {art['sdist']}: {', '.join(sorted(wanted - in_sdist))}")
    session.log(f"the sdist holds all {len(wanted)} files it should")
    for kind in ("wheel", "manylinux"):
        with zipfile.ZipFile(art[kind]) as whl:
            names = whl.namelist()
        for what, pattern in (
            ("compiled module", r"micrograd_c/[^/]+\.(so|pyd)"),
            ("py.typed", r"micrograd_c/py\.typed"),
            ("stubs", r"micrograd_c/[^/]+\.pyi"),
        ):
            if not any(re.fullmatch(pattern, n) for n in names):
                session.error(f"no {what} in {art[kind]}")
    session.log("both wheels hold the compiled module, py.typed and the stubs")

    session.log("a source build with no C compiler stops with what to install")
    nocc = [own, "-m", "pip", "wheel", "-q", "--no-cache-dir", "--no-deps", "-w", tmp / "nocc", art["sdist"]]
    if tee(session, nocc, tmp / "nocc.txt", cwd=tmp, env=NO_CC):
        session.error("the sdist built with CC=/nonexistent/cc")
    if "micrograd_c: no C compiler found" not in (tmp / "nocc.txt").read_text():
        session.error("no clear error (above)")

    check = checkdir()
    for v, python in pythons:
        session.log(f"CPython {v}: the manylinux wheel in a fresh venv, no compiler on PATH")
        py = new_venv(session, tmp / f"py{v}", python)
        # only the venv's own bin on PATH, and CC pointing nowhere: nothing could compile
        bare = {
            "HOME": str(Path.home()),
            "PATH": str(Path(py).parent),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            **NO_CC,
        }
        run(
            session,
            py,
            "-m",
            "pip",
            "install",
            "-q",
            f"{art['manylinux']}[test,demo]",
            env=bare,
            outer_env=False,
        )
        test_installed(session, py, check)

    # user code as micrograd's README and demo write it, type-checked against the installed
    # wheel's annotations (py.typed, _core.pyi) from a directory holding nothing else, with
    # mypy's own defaults as a user's would be; on the newest Python (three found: 3.11 or
    # later, which NumPy's own annotations need)
    newest, py = pythons[-1][0], str(tmp / f"py{pythons[-1][0]}/bin/python")
    session.log(f"mypy: user code against the manylinux wheel's annotations (CPython {newest})")
    typing = outside("typing")
    shutil.copy2(ROOT / "tests/typing/usage.py", typing)
    in_venv(session, py, "pip", "install", "-q", MYPY, cwd=typing)
    in_venv(session, py, "python", "-m", "mypy", "--strict", "--warn-unused-ignores", "usage.py", cwd=typing)

    session.log("the sdist's wheel (this machine's compiler) in this session's fresh venv")
    in_venv(session, own, "pip", "install", "-q", f"{art['wheel']}[test,demo]", cwd=tmp)
    test_installed(session, own, check)


@nox.session
def tests(session):
    """The README's set-up commands from this checkout, in a fresh venv; mypy --strict."""
    # an editable install builds the C core in place, so `python -m`, which puts the current
    # directory first on sys.path, finds it
    py = session_python(session)
    session.log('README: pip install -e ".[demo]" && python -m micrograd_c.demo')
    in_venv(session, py, "pip", "install", "-q", "-e", ".[demo]", cwd=ROOT)
    check_import(session, py, ROOT, ROOT / "micrograd_c/__init__.py")
    in_venv(session, py, "python", "-m", "micrograd_c.demo", "--quiet", cwd=ROOT)
    session.log('README: pip install -e ".[test]" && python -m pytest tests')
    in_venv(session, py, "pip", "install", "-q", "-e", ".[test]", cwd=ROOT)
    in_venv(session, py, "python", "-m", "pytest", "tests", "-q", cwd=ROOT)
    session.log("mypy --strict over the package (pyproject.toml's [tool.mypy])")
    in_venv(session, py, "pip", "install", "-q", MYPY, cwd=ROOT)
    in_venv(session, py, "python", "-m", "mypy", cwd=ROOT)


@nox.session
def bench(session):
    """The benchmarks, once and untimed, against the sdist's wheel."""
    art = dist(session)
    check = checkdir()
    copy_sources(check, "examples")  # benchmarks/test_gpt.py times examples/gpt.py's model
    py = session_python(session)
    in_venv(session, py, "pip", "install", "-q", f"{art['wheel']}[bench]", cwd=check)
    check_import(session, py, check, Path(py).parent.parent / "lib/*/site-packages/micrograd_c/__init__.py")
    in_venv(
        session,
        py,
        "python",
        "-m",
        "pytest",
        "benchmarks",
        "-q",
        "-p",
        "no:cacheprovider",
        "--benchmark-disable",
        cwd=check,
    )


@nox.session
def asan(session):
    """The core built from the sdist with AddressSanitizer and UBSan: the whole test suite."""
    art = dist(session)
    check = checkdir()
    py = session_python(session)
    san = "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    # --no-cache-dir: a wheel pip cached from this sdist would be the unsanitized one
    flags = {"CFLAGS": san, "LDFLAGS": san}
    in_venv(
        session, py, "pip", "install", "-q", "--no-cache-dir", f"{art['sdist']}[test]", cwd=check, env=flags
    )
    core = next(Path(py).parent.parent.glob("lib/*/site-packages/micrograd_c/_core*.so"))
    symbols = run(session, "nm", "-D", core, silent=True)
    for needed, what in (("__asan_report", "AddressSanitizer"), ("__ubsan_handle", "UBSan")):
        if needed not in symbols:
            session.error(f"{core} is not built with {what}")
    # ASan's runtime must load before the interpreter's own libraries; Python's own
    # allocations are not ours to account, so leak detection is off. Any report ends the run
    # non-zero.
    env = {
        "LD_PRELOAD": run(session, "gcc", "-print-file-name=libasan.so", silent=True).strip(),
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    }
    log = tmpdir(session) / "san.txt"
    if not tee(
        session, [py, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"], log, cwd=check, env=env
    ):
        session.error("the sanitized test run failed")
    if re.search(r"ERROR: AddressSanitizer|runtime error:", log.read_text()):
        session.error("a sanitizer report above")


def cpython314(session):
    """scripts/cpython314.sh, once it has set up the chroot CHROOT."""
    script = ROOT / "scripts/cpython314.sh"
    run(session, script, "setup", CHROOT)
    return script


@nox.session
def py314(session):
    """The manylinux2014 wheel on CPython 3.14 in a Debian sid chroot: the tests, the demo."""
    script = cpython314(session)
    art = dist(session, manylinux=True)
    run(session, script, "tests", CHROOT, art["manylinux"], checkdir())


@nox.session
def refcount(session):
    """The sdist built for a CPython debug build, then the refcount loop under it: python3.14d
    (Debian sid's, in the chroot), and python3.11d (this Debian's python3.11-dbg), where an op's
    Value may be made in a freed one's memory (csrc/recycle.c: 3.9 to 3.12 only)."""
    script = cpython314(session)
    sdist = dist(session)["sdist"]
    run(session, script, "refcount", CHROOT, sdist)
    refcount_311(session, sdist)


def refcount_311(session, sdist):
    """The refcount loop under Debian's python3.11d, installed with apt-get where missing."""
    debug = shutil.which("python3.11d")
    if not debug:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        run(session, *sudo, "apt-get", "update", "-qq")
        packages = ["python3.11-dbg", "python3.11-venv", "libffi-dev"]
        run(session, *sudo, "apt-get", "install", "-y", "-qq", *packages)
        debug = shutil.which("python3.11d") or session.error("apt-get gave no python3.11d")
    py = new_venv(session, tmpdir(session) / "venv311d", debug)
    # cffi's backend built from its sdist against the debug headers: a release-built one's
    # references count nothing in sys.gettotalrefcount(), and the total drifts with no leak
    pip = (py, "-m", "pip", "install", "-q")
    run(session, *pip, "--no-binary", "cffi", "cffi>=1.17", "setuptools>=77", "wheel")
    run(session, *pip, "--no-build-isolation", f"{sdist}[draw]")
    check = outside("refcount311")
    shutil.copy(ROOT / "scripts/refcount_loop.py", check)
    run(session, py, "refcount_loop.py", cwd=check)
