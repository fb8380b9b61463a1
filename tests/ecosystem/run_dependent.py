#!/usr/bin/env python3
"""Run the test suites of projects built on Tornado against this checkout.

Each dependent's source release ships its own tests.  This script runs them
twice, in two virtual environments that differ only in Tornado: one with the
reference release (its results are cached, since they do not change) and one
with this checkout installed in its place.  A test that passes with the
reference must pass here too.

The dependents (pinned; their requirements pinned in dependents.txt):

* terminado: terminals over WebSockets, Tornado handlers and a pty.
* jupyter_server_terminals: the Jupyter Server extension serving terminado's
  terminals (REST API, WebSocket, authentication).
* opentelemetry-instrumentation-tornado: OpenTelemetry's tracing of Tornado
  (it wraps handler methods and the HTTP client, and keeps spans in
  context variables across a request's callbacks).

Usage, from the root of the checkout::

    python3 tests/ecosystem/run_dependent.py               # all of them
    python3 tests/ecosystem/run_dependent.py terminado     # one of them
    python3 tests/ecosystem/run_dependent.py --failures    # list what fails
    python3 tests/ecosystem/run_dependent.py --min 40      # exit 1 below 40

Everything runs on 127.0.0.1.  The environments live in
``~/.cache/tornado-dependents`` (``TORNADO_DEPENDENTS_CACHE`` overrides it);
the first run installs them from the package index, later runs are offline.
The last line printed is the total:
``dependents: P of R reference-passing tests pass``.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import venv
import xml.etree.ElementTree as ET
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REFERENCE = "tornado==6.6.1"
# name: (release whose sdist holds the tests, test directory)
DEPENDENTS = {
    "terminado": ("terminado==0.18.1", "tests"),
    "jupyter_server_terminals": ("jupyter_server_terminals==0.5.4", "tests"),
    "opentelemetry-instrumentation-tornado": ("opentelemetry-instrumentation-tornado==0.66b1", "tests"),
}
CACHE = os.environ.get(
    "TORNADO_DEPENDENTS_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "tornado-dependents")
)
PIP = ["-m", "pip", "install", "-q", "--disable-pip-version-check"]
Results = Dict[str, Tuple[str, str]]


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def environment(kind: str) -> str:
    """The python of the ``kind`` ("ref" or "ours") environment, created
    (once) with the pinned requirements and the reference Tornado."""
    path = os.path.join(CACHE, "%s-py%d.%d" % ((kind,) + sys.version_info[:2]))
    python = os.path.join(path, "bin", "python")
    wanted = open(os.path.join(HERE, "dependents.txt")).read() + REFERENCE
    stamp = os.path.join(path, "requirements.stamp")
    if not (os.path.exists(stamp) and open(stamp).read() == wanted):
        say(f"dependents: installing the {kind} environment (once)...")
        shutil.rmtree(path, ignore_errors=True)
        venv.create(path, with_pip=True)
        subprocess.run([python] + PIP + ["-r", os.path.join(HERE, "dependents.txt"), REFERENCE],
                       check=True)
        with open(stamp, "w") as f:
            f.write(wanted)
    return python


def install_checkout(python: str) -> None:
    """Puts this checkout's tornado in place of the installed one (from a
    clean copy, so that the build writes nothing into the checkout)."""
    scratch = tempfile.mkdtemp(prefix="dependents-tornado-")
    try:
        copy = os.path.join(scratch, "tornado")
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
            ".git", ".ci", "build", "dist", "*.egg-info", "__pycache__", ".venv", "venv", ".tox"))
        done = subprocess.run([python] + PIP + ["--no-deps", "--force-reinstall", copy],
                              capture_output=True, text=True)
        if done.returncode:
            sys.exit("dependents: this checkout does not install:\n" + done.stdout + done.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def source_tree(release: str) -> str:
    """The unpacked source release of ``release`` (downloaded once)."""
    target = os.path.join(CACHE, "src", release.replace("==", "-"))
    if os.path.isdir(target):
        return target
    scratch = tempfile.mkdtemp(prefix="dependents-src-")
    try:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                        "--no-deps", "--no-binary", ":all:", release, "-d", scratch], check=True)
        (archive,) = [n for n in os.listdir(scratch) if n.endswith((".tar.gz", ".zip"))]
        with tarfile.open(os.path.join(scratch, archive)) as tar:
            tar.extractall(scratch, filter="data")
        (top,) = [n for n in os.listdir(scratch) if os.path.isdir(os.path.join(scratch, n))]
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(os.path.join(scratch, top), target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def junit_results(path: str) -> Results:
    """{test id: (outcome, first line of the message)} from a JUnit file; a
    test that passed and then errored in teardown counts as failed."""
    results: Results = {}
    if not os.path.exists(path):
        return results
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(tag)
            if element is not None:
                outcome = name
                lines = (element.get("message") or "").strip().splitlines()
                message = lines[0][:200] if lines else ""
                break
        if results.get(test_id, ("passed",))[0] == "passed":
            results[test_id] = (outcome, message)
    return results


def run_suite(python: str, name: str, keyword: str, timeout: int) -> Results:
    """Runs ``name``'s tests in a scratch copy of its source release."""
    release, tests = DEPENDENTS[name]
    scratch = tempfile.mkdtemp(prefix=f"dependents-{name}-")
    try:
        work = os.path.join(scratch, "src")
        shutil.copytree(source_tree(release), work)
        junit = os.path.join(scratch, "junit.xml")
        command = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no",
                   "--timeout", "60", "--junitxml", junit, tests]
        if keyword:
            command += ["-k", keyword]
        env = dict(os.environ, PATH=os.path.dirname(python) + os.pathsep + os.environ["PATH"])
        env.pop("PYTHONPATH", None)
        try:
            subprocess.run(command, cwd=work, env=env, timeout=timeout,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            say(f"dependents: {name} ran past {timeout} s; counting what finished")
        return junit_results(junit)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def reference_results(name: str, refresh: bool, timeout: int) -> Results:
    path = os.path.join(CACHE, "reference-%s-py%d.%d.json" % ((name,) + sys.version_info[:2]))
    if os.path.exists(path) and not refresh:
        with open(path) as f:
            return {k: tuple(v) for k, v in json.load(f).items()}  # type: ignore[misc]
    say(f"dependents: running {name}'s tests with the reference release (once)...")
    results = run_suite(environment("ref"), name, "", timeout)
    with open(path, "w") as f:
        json.dump(results, f, indent=0, sort_keys=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="some of: " + ", ".join(sorted(DEPENDENTS)))
    parser.add_argument("-k", dest="keyword", default="", help="pytest -k expression")
    parser.add_argument("--failures", action="store_true", help="list every failing test")
    parser.add_argument("--min", type=int, help="exit 1 when fewer tests pass in total")
    parser.add_argument("--reference", action="store_true", help="re-run the reference release")
    parser.add_argument("--timeout", type=int, default=900, help="seconds for one suite")
    args = parser.parse_args()
    names: List[str] = args.names or sorted(DEPENDENTS)
    unknown = set(names) - set(DEPENDENTS)
    if unknown:
        parser.error("unknown dependent(s): " + ", ".join(sorted(unknown)))
    os.makedirs(CACHE, exist_ok=True)
    ours = environment("ours")
    install_checkout(ours)
    total_passed = total_reference = 0
    for name in names:
        reference = reference_results(name, args.reference, args.timeout)
        expected = {t for t, (outcome, _) in reference.items() if outcome == "passed"}
        results = run_suite(ours, name, args.keyword, args.timeout)
        if args.keyword:
            expected &= set(results)
        passed = sorted(t for t in expected if results.get(t, ("missing",))[0] == "passed")
        failing = sorted(expected - set(passed))
        if args.failures or len(failing) <= 20:
            for test_id in failing:
                outcome, message = results.get(test_id, ("not run", ""))
                print(f"  {outcome:8} {test_id}  {message}")
        extra = sorted(t for t, (o, _) in results.items() if o == "passed" and t not in expected)
        if extra:
            print(f"  {name}: {len(extra)} pass here but not with the reference release")
        print(f"{name}: {len(passed)} of {len(expected)} reference-passing tests pass")
        total_passed += len(passed)
        total_reference += len(expected)
    print(f"dependents: {total_passed} of {total_reference} reference-passing tests pass")
    if args.min is not None and total_passed < args.min:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
