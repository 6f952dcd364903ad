#!/usr/bin/env python3
"""Check the release set-up as far as one Linux machine without docker can.

The wheels are built on GitHub's runners (.github/workflows/wheels.yml) by cibuildwheel,
configured in pyproject.toml ([tool.cibuildwheel]). Here, without building anything:

  * cibuildwheel --print-build-identifiers, for Linux, macOS and Windows (it prints for any
    platform from any platform), selects exactly the wheels in EXPECTED below;
  * through cibuildwheel's own code: no selector draws a warning, each later CPython takes
    the cp39 abi3 wheel instead of building again, every wheel is tested (test-skip: see
    TEST_SKIPPED) with the test command set, and Linux builds on manylinux2014 and
    musllinux_1_2;
  * the workflow parses, has the jobs JOBS, its matrix is RUNNERS, the wheels cibuildwheel
    does not test (TEST_SKIPPED) are tested by test_manylinux_cp314 before publish, and it pins
    the cibuildwheel version installed here.

Run it in a venv holding cibuildwheel and PyYAML (Python 3.11+, as cibuildwheel needs):

    python scripts/check_release.py [REPO_ROOT]

REPO_ROOT defaults to the checkout this script is in. One line per check; the exit status is
1 if any failed.
"""

import dataclasses
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path, PurePath

# ---------------------------------------------------------------------------------------
# What the release should build: the one place to change when a platform or a Python is
# added. CPython 3.9 builds each platform's abi3 wheel; cibuildwheel finds that wheel
# compatible with the later CPythons, skips their builds and tests the same wheel on them.
PYTHONS = ("cp39", "cp310", "cp311", "cp312", "cp313", "cp314")
PLATFORMS = {  # cibuildwheel platform: (--archs, the wheel kinds they select)
    "linux": (
        "x86_64,aarch64",
        ("manylinux_x86_64", "musllinux_x86_64", "manylinux_aarch64", "musllinux_aarch64"),
    ),
    "macos": ("x86_64,arm64", ("macosx_x86_64", "macosx_arm64")),
    "windows": ("AMD64", ("win_amd64",)),
}
EXPECTED = {
    platform: sorted(f"{py}-{kind}" for py in PYTHONS for kind in kinds)
    for platform, (_, kinds) in PLATFORMS.items()
}
# The platform tag of each kind's wheel, as the wheel is named (macOS: its deployment target).
WHEEL_TAGS = {
    "manylinux_x86_64": "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "musllinux_x86_64": "musllinux_1_2_x86_64",
    "manylinux_aarch64": "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_aarch64": "musllinux_1_2_aarch64",
    "macosx_x86_64": "macosx_10_13_x86_64",
    "macosx_arm64": "macosx_11_0_arm64",
    "win_amd64": "win_amd64",
}
# Identifiers whose wheel cibuildwheel does not test (test-skip): NumPy has no manylinux2014
# wheel for CPython 3.14, so its image cannot install the test extra there. The workflow's job
# CP314_JOB tests those wheels on CPython 3.14 on the Linux runners (CP314_RUNNERS) instead.
TEST_SKIPPED = frozenset({"cp314-manylinux_x86_64", "cp314-manylinux_aarch64"})
CP314_JOB = "test_manylinux_cp314"
CP314_RUNNERS = ("ubuntu-latest", "ubuntu-24.04-arm")
# The workflow's runners, each building its native arch (macos-13 and macos-14 are retired).
RUNNERS = {
    "ubuntu-latest": ("linux", "x86_64"),
    "ubuntu-24.04-arm": ("linux", "aarch64"),
    "macos-15-intel": ("macos", "x86_64"),
    "macos-15": ("macos", "arm64"),
    "windows-latest": ("windows", "AMD64"),
}
JOBS = ("build_wheels", "build_sdist", CP314_JOB, "publish")
WORKFLOW = Path(".github/workflows/wheels.yml")
# ---------------------------------------------------------------------------------------


class Checks:
    """Runs checks, one line each; a check fails by raising Failed or any other error."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, check, *args):
        try:
            detail = check(*args)
        except KeyboardInterrupt:
            raise
        except Failed as exc:
            self.fail(name, exc)
        except BaseException as exc:  # noqa: BLE001 - a check that broke, as cibuildwheel's FatalError does
            self.fail(name, f"{type(exc).__name__}: {exc}")
        else:
            print(f"ok    {name}" + (f": {detail}" if detail else ""))
            self.passed += 1

    def fail(self, name, why):
        print(f"FAIL  {name}: {why}")
        self.failed += 1


class Failed(Exception):
    pass


def clean_env():
    """The environment without CIBW_* variables, which would change what cibuildwheel reads."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CIBW_")}


def check_config_present(root):
    import tomllib

    with open(root / "pyproject.toml", "rb") as f:
        pyproject = tomllib.load(f)
    if "cibuildwheel" not in pyproject.get("tool", {}):
        raise Failed("pyproject.toml has no [tool.cibuildwheel] section")


def check_identifiers(root, platform):
    archs = PLATFORMS[platform][0]
    cmd = [
        sys.executable,
        "-m",
        "cibuildwheel",
        "--print-build-identifiers",
        "--platform",
        platform,
        "--archs",
        archs,
        ".",
    ]
    proc = subprocess.run(cmd, cwd=root, env=clean_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise Failed(f"`{' '.join(cmd[2:])}` exited {proc.returncode}:\n{proc.stdout}{proc.stderr}".rstrip())
    printed = proc.stdout.split()
    expected = EXPECTED[platform]
    if sorted(printed) != expected or len(set(printed)) != len(printed):
        missing = sorted(set(expected) - set(printed))
        extra = sorted(set(printed) - set(expected))
        raise Failed(
            f"--archs {archs} selects {' '.join(printed) or 'nothing'}; "
            f"missing: {' '.join(missing) or '-'}; not expected: {' '.join(extra) or '-'}"
        )
    return " ".join(printed)


def cibuildwheel_options(root, platform):
    """cibuildwheel's resolved options for `platform`, read as a build would read them.

    This is cibuildwheel's Python API, not its CLI: it may change between versions, which the
    pinned version (checked below) brings here only on purpose."""
    from cibuildwheel.options import CommandLineArguments, compute_options

    args = dataclasses.replace(
        CommandLineArguments.defaults(),
        platform=platform,
        archs=PLATFORMS[platform][0],
        package_dir=Path("."),
    )
    cwd = os.getcwd()
    os.chdir(root)  # cibuildwheel reads {package}/pyproject.toml relative to the cwd
    try:
        return compute_options(platform=platform, command_line_arguments=args, env=clean_env())
    finally:
        os.chdir(cwd)


def check_options(root, platform):
    from cibuildwheel.__main__ import detect_warnings
    from cibuildwheel.util.packaging import find_compatible_wheel

    options = cibuildwheel_options(root, platform)
    problems = [f"cibuildwheel warns: {w.strip()}" for w in detect_warnings(options=options)]
    tested, no_command, images, reused = set(), [], set(), 0
    for identifier in EXPECTED[platform]:
        build = options.build_options(identifier)
        # what cibuildwheel does for a later CPython once the cp39 wheel is built
        python, kind = identifier.split("-", 1)
        wheel = PurePath(f"micrograd_c-0-cp39-abi3-{WHEEL_TAGS[kind]}.whl")
        if python != "cp39":
            if find_compatible_wheel([wheel], identifier) != wheel:
                problems.append(f"{identifier} would build again, not reuse {wheel.name}")
            reused += 1
        if options.globals.test_selector(identifier):
            tested.add(identifier)
            if not build.test_command:
                no_command.append(identifier)
        if platform == "linux":
            libc, arch = kind.split("_", 1)
            images_of = build.manylinux_images if libc == "manylinux" else build.musllinux_images
            image = images_of[arch]
            images.add((libc, arch, image.split("@")[0]))  # without the pinned digest
    if no_command:
        which = "any" if len(no_command) == len(tested) else " ".join(no_command)
        problems.append(f"no test-command for {which} of the tested wheels")
    for libc, arch, image in sorted(images):
        want = f"manylinux2014_{arch}" if libc == "manylinux" else f"musllinux_1_2_{arch}"
        if not image.endswith("/" + want):
            problems.append(f"{libc} {arch} builds on {image}, not {want}")
    skipped = set(EXPECTED[platform]) - tested
    if skipped != TEST_SKIPPED & set(EXPECTED[platform]):
        problems.append(
            f"untested: {' '.join(sorted(skipped)) or 'none'}; expected untested: "
            f"{' '.join(sorted(TEST_SKIPPED & set(EXPECTED[platform]))) or 'none'}"
        )
    if problems:
        raise Failed("; ".join(problems))
    built = len(EXPECTED[platform]) - reused
    return (
        f"built on cp39: {built}, the same wheel for a later CPython: {reused}, "
        f"tested: {len(tested)} of {len(EXPECTED[platform])}"
    )


def load_workflow(root):
    import yaml

    path = root / WORKFLOW
    with open(path, encoding="utf-8") as f:
        workflow = yaml.safe_load(f)
    if not isinstance(workflow, dict):
        raise Failed(f"{WORKFLOW} is not a mapping")
    return workflow


def check_workflow_parses(root):
    load_workflow(root)


def check_jobs(root):
    workflow = load_workflow(root)
    jobs = workflow.get("jobs") or {}
    missing = [job for job in JOBS if job not in jobs]
    if missing:
        raise Failed(f"no job {', '.join(missing)} (has {', '.join(jobs) or 'none'})")
    # YAML 1.1 reads the key `on` as true
    triggers = workflow.get("on", workflow.get(True)) or {}
    tags = (triggers.get("push") or {}).get("tags") or []
    if "v*" not in tags or "pull_request" not in triggers or "workflow_dispatch" not in triggers:
        raise Failed("expected triggers: push of tags v*, pull_request, workflow_dispatch")
    publish = jobs["publish"]
    needs = publish.get("needs") or []
    needs = [needs] if isinstance(needs, str) else needs
    problems = []
    if set(needs) != {"build_wheels", "build_sdist", CP314_JOB}:
        problems.append(f"publish needs {needs}, not build_wheels, build_sdist and {CP314_JOB}")
    if "refs/tags/v" not in str(publish.get("if", "")):
        problems.append("publish does not run on tags v* only")
    if (publish.get("permissions") or {}).get("id-token") != "write":
        problems.append("publish lacks permissions: id-token: write")
    env = publish.get("environment")
    if (env.get("name") if isinstance(env, dict) else env) != "pypi":
        problems.append("publish is not in the environment pypi")
    if not any(
        str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@") for s in publish.get("steps") or []
    ):
        problems.append("publish has no pypa/gh-action-pypi-publish step")
    if problems:
        raise Failed("; ".join(problems))
    return ", ".join(JOBS)


def check_matrix(root):
    job = load_workflow(root)["jobs"]["build_wheels"]
    include = ((job.get("strategy") or {}).get("matrix") or {}).get("include") or []
    runners = {entry.get("os"): entry.get("archs") for entry in include}
    want = {os_: archs for os_, (_, archs) in RUNNERS.items()}
    if runners != want or len(include) != len(RUNNERS):
        raise Failed(f"matrix is {runners}, expected {want}")
    # and together they build every arch that the identifier checks above cover
    for platform, (archs, _) in PLATFORMS.items():
        built = sorted(a for p, a in RUNNERS.values() if p == platform)
        if built != sorted(archs.split(",")):
            raise Failed(f"the runners build {platform} {built}, not {archs}")
    env = step_uses(job, "pypa/cibuildwheel@").get("env") or {}
    if "matrix.archs" not in str(env.get("CIBW_ARCHS")):
        raise Failed("the cibuildwheel step does not set CIBW_ARCHS from matrix.archs")
    return " ".join(f"{os_}={archs}" for os_, archs in runners.items())


def step_uses(job, prefix, name="build_wheels"):
    steps = [s for s in job.get("steps") or [] if str(s.get("uses", "")).startswith(prefix)]
    if len(steps) != 1:
        raise Failed(f"{name} has {len(steps)} steps using {prefix}..., expected 1")
    return steps[0]


def check_cp314_job(root):
    """The job that tests the manylinux wheels cibuildwheel leaves untested, on CPython 3.14."""
    job = load_workflow(root)["jobs"][CP314_JOB]
    problems = []
    if "build_wheels" not in str(job.get("needs")):
        problems.append("it does not need build_wheels")
    runners = ((job.get("strategy") or {}).get("matrix") or {}).get("os") or []
    if sorted(runners) != sorted(CP314_RUNNERS):
        problems.append(f"it runs on {runners}, not {list(CP314_RUNNERS)}")
    python = (step_uses(job, "actions/setup-python@", CP314_JOB).get("with") or {}).get("python-version")
    if str(python) != "3.14":
        problems.append(f"its Python is {python!r}, not '3.14'")
    if not any("pytest" in str(s.get("run", "")) for s in job.get("steps") or []):
        problems.append("it runs no pytest")
    if problems:
        raise Failed(f"{CP314_JOB}: " + "; ".join(problems))
    return f"{' '.join(sorted(TEST_SKIPPED))} tested on CPython 3.14 on {', '.join(CP314_RUNNERS)}"


def check_version(root):
    job = load_workflow(root)["jobs"]["build_wheels"]
    uses = step_uses(job, "pypa/cibuildwheel@")["uses"]
    pinned = re.fullmatch(r"pypa/cibuildwheel@v(\d+\.\d+\.\d+)", uses)
    installed = importlib.metadata.version("cibuildwheel")
    if not pinned:
        raise Failed(f"{uses} is not pinned to a release vX.Y.Z")
    if pinned.group(1) != installed:
        raise Failed(
            f"the workflow pins cibuildwheel {pinned.group(1)}, "
            f"these checks ran cibuildwheel {installed}: make them the same"
        )
    return installed


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.version_info < (3, 11):
        print("check_release: needs Python 3.11+ (as cibuildwheel does)", file=sys.stderr)
        return 2
    root = Path(argv[1] if len(argv) == 2 else Path(__file__).resolve().parent.parent).resolve()
    for need in ("cibuildwheel", "PyYAML"):
        try:
            importlib.metadata.version(need)
        except importlib.metadata.PackageNotFoundError:
            print(
                f"check_release: {need} is not installed here (pip install cibuildwheel pyyaml)",
                file=sys.stderr,
            )
            return 2
    print(f"check_release: {root}")

    checks = Checks()
    checks.run("pyproject.toml has [tool.cibuildwheel]", check_config_present, root)
    for platform in PLATFORMS:
        checks.run(f"{platform} identifiers", check_identifiers, root, platform)
    for platform in PLATFORMS:
        checks.run(f"{platform} options", check_options, root, platform)
    checks.run(f"{WORKFLOW} parses", check_workflow_parses, root)
    checks.run("workflow jobs and triggers", check_jobs, root)
    checks.run("workflow matrix", check_matrix, root)
    checks.run(f"workflow job {CP314_JOB}", check_cp314_job, root)
    checks.run("workflow pins the cibuildwheel checked here", check_version, root)

    if checks.failed:
        print(f"check_release: {checks.failed} of {checks.passed + checks.failed} checks failed")
        return 1
    print(f"check_release: all {checks.passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
