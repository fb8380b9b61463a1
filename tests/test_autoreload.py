"""Tests for tornado.autoreload: programs that restart themselves, run in
subprocesses with the same interpreter."""

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Dict, List

import pytest

import tornado.autoreload as autoreload

REPO = str(Path(__file__).resolve().parent.parent)

# Shared tail of the test programs: on its first run (no marker in the
# environment, which exec keeps) it sets the marker and restarts itself; on
# the second it leaves with os._exit, which no wrapper can intercept.
RUN_TWICE = """
import os as _os, sys as _sys
import tornado.autoreload as _ar
print(end="", flush=True)
_first = _os.environ.setdefault("TESTAPP_STARTED", "first") == "first"
if _first:
    _os.environ["TESTAPP_STARTED"] = "again"
    _ar._reload()
_os._exit(0)
"""


def write_tree(base: Path, tree: Dict[str, object]) -> None:
    for name, content in tree.items():
        if isinstance(content, dict):
            (base / name).mkdir()
            write_tree(base / name, content)
        else:
            (base / name).write_text(textwrap.dedent(str(content)))


def run(args: List[str], cwd: Path, timeout: float = 20) -> str:
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("TESTAPP_STARTED", None)
    proc = subprocess.run(
        [sys.executable] + args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        timeout=timeout,
        encoding="utf-8",
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


MAIN = (
    "import sys\n"
    "spec = getattr(sys.modules[__name__], '__spec__', None)\n"
    "print('spec', getattr(spec, 'name', None), 'argv', sys.argv[1:],\n"
    "      'wrapped', 'tornado.autoreload' in sys.modules and\n"
    "      sys.modules['tornado.autoreload']._autoreload_is_main)\n"
) + RUN_TWICE


@pytest.mark.parametrize("wrapper", [False, True])
def test_module_mode_restarts_as_module(tmp_path: Path, wrapper: bool) -> None:
    write_tree(tmp_path, {"app": {"__init__.py": "", "__main__.py": MAIN}})
    prefix = ["-m", "tornado.autoreload"] if wrapper else []
    out = run(prefix + ["-m", "app", "x", "-m", "y"], tmp_path)
    line = "spec app.__main__ argv ['x', '-m', 'y'] wrapped %s\n" % wrapper
    assert out == line * 2


@pytest.mark.parametrize("wrapper", [False, True])
def test_script_mode_keeps_arguments(tmp_path: Path, wrapper: bool) -> None:
    write_tree(tmp_path, {"main.py": MAIN})
    prefix = ["-m", "tornado.autoreload"] if wrapper else []
    out = run(prefix + ["main.py", "--flag", "a b"], tmp_path)
    assert out == ("spec None argv ['--flag', 'a b'] wrapped %s\n" % wrapper) * 2


def test_until_success(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "main.py": """
                import os, sys
                if os.environ.get("TESTAPP_STARTED"):
                    print("clean exit")
                    sys.exit(0)
                os.environ["TESTAPP_STARTED"] = "1"
                print("failing")
                sys.stdout.flush()
                raise SystemExit(3)
            """
        },
    )
    # After a failure the wrapper waits for a change to the script (it polls
    # every 0.5s); a background thread gives it a new modification time once
    # the first poll has recorded the old one.
    script = tmp_path / "main.py"
    runner = tmp_path / "runner.py"
    runner.write_text(
        textwrap.dedent(
            """
            import os, sys, threading, time, runpy
            def touch():
                time.sleep(1.5)
                st = os.stat("main.py")
                os.utime("main.py", (st.st_atime, st.st_mtime + 5))
            threading.Thread(target=touch, daemon=True).start()
            sys.argv = [sys.argv[0], "--until-success", "main.py"]
            import tornado.autoreload
            runpy.run_module("tornado.autoreload", run_name="__main__")
            """
        )
    )
    assert script.exists()
    out = run(["runner.py"], tmp_path)
    assert out == "failing\nclean exit\n"


def test_file_change_triggers_reload(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "watched.txt": "v1",
            "server.py": """
                import os, sys, time
                from tornado import autoreload, ioloop
                if os.environ.get("TESTAPP_STARTED"):
                    print("restarted with", sys.argv[1:])
                    sys.exit(0)
                os.environ["TESTAPP_STARTED"] = "1"
                autoreload.watch("watched.txt")
                autoreload.add_reload_hook(lambda: print("hook ran", flush=True))
                loop = ioloop.IOLoop.current()
                autoreload.start(check_time=20)

                def change():
                    st = os.stat("watched.txt")
                    os.utime("watched.txt", (st.st_atime, st.st_mtime + 5))

                loop.call_later(0.2, change)
                loop.call_later(10, loop.stop)
                loop.start()
                print("no reload")
            """,
        },
    )
    out = run(["server.py", "--port=1"], tmp_path)
    assert out == "hook ran\nrestarted with ['--port=1']\n"


def test_restart_argv_for_scripts_and_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    class Spec:
        def __init__(self, name: str) -> None:
            self.name = name

    main = sys.modules["__main__"]
    monkeypatch.setattr(sys, "argv", ["prog.py", "a"])
    monkeypatch.setattr(main, "__spec__", None, raising=False)
    assert autoreload._restart_argv() == ["prog.py", "a"]
    # Run as a directory: the spec is named "__main__", restart like a file.
    monkeypatch.setattr(main, "__spec__", Spec("__main__"), raising=False)
    assert autoreload._restart_argv() == ["prog.py", "a"]
    # Run with -m: python dropped "-m pkg.mod" from argv; put it back.
    monkeypatch.setattr(main, "__spec__", Spec("pkg.mod"), raising=False)
    assert autoreload._restart_argv() == ["-m", "pkg.mod", "a"]


def test_source_of_points_at_python_files() -> None:
    fake = types.ModuleType("fake")
    fake.__file__ = "/srv/app/views.pyc"
    assert autoreload._source_of(fake) == "/srv/app/views.py"
    fake.__file__ = "/srv/app/native.so"
    assert autoreload._source_of(fake) == "/srv/app/native.so"
    # Built-in modules have no file; stand-ins in sys.modules are skipped.
    assert autoreload._source_of(sys) is None
    assert autoreload._source_of(object()) is None
