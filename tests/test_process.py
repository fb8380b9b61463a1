"""tornado.process: Subprocess with pipe streams and exit notification, and
fork_processes (run in a child interpreter, since it forks)."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tornado import process
from tornado.iostream import PipeIOStream
from tornado.process import Subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX only")


def run(coro_fn: Any, timeout: float = 30) -> Any:
    async def main() -> Any:
        try:
            return await asyncio.wait_for(coro_fn(), timeout)
        finally:
            Subprocess.uninitialize()

    return asyncio.run(main())


def test_cpu_count_and_task_id() -> None:
    assert process.cpu_count() >= 1
    assert process.task_id() is None


def test_stream_pipes_in_both_directions() -> None:
    async def main() -> None:
        proc = Subprocess(
            [sys.executable, "-u", "-c", "import sys\nfor l in sys.stdin: print(l.upper(), end='')"],
            stdin=Subprocess.STREAM,
            stdout=Subprocess.STREAM,
        )
        assert isinstance(proc.stdin, PipeIOStream)
        assert isinstance(proc.stdout, PipeIOStream)
        await proc.stdin.write(b"hello\n")
        assert await proc.stdout.read_until(b"\n") == b"HELLO\n"
        proc.stdin.close()  # the child sees end of input and exits
        assert await proc.stdout.read_until_close() == b""
        assert await proc.wait_for_exit() == 0
        assert proc.returncode == 0 and proc.proc.returncode == 0

    run(main)


def test_stderr_stream_and_plain_pipe() -> None:
    async def main() -> None:
        proc = Subprocess(
            [sys.executable, "-c", "import sys; sys.stderr.write('oops'); print('out')"],
            stdout=subprocess.PIPE,
            stderr=Subprocess.STREAM,
        )
        assert await proc.stderr.read_until_close() == b"oops"
        # A non-STREAM argument behaves as with Popen.
        assert proc.stdout.read() == b"out\n"
        proc.stdout.close()
        await proc.wait_for_exit()

    run(main)


def test_wait_for_exit_raises_on_failure_unless_told_not_to() -> None:
    async def main() -> None:
        failing = [sys.executable, "-c", "import sys; sys.exit(3)"]
        with pytest.raises(subprocess.CalledProcessError) as info:
            await Subprocess(failing).wait_for_exit()
        assert info.value.returncode == 3
        assert await Subprocess(failing).wait_for_exit(raise_error=False) == 3

    run(main)


def test_exit_callback_and_signal_status() -> None:
    async def main() -> None:
        Subprocess.initialize()
        proc = Subprocess([sys.executable, "-c", "import time; time.sleep(30)"])
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        proc.set_exit_callback(got.set_result)
        await asyncio.sleep(0.1)
        os.kill(proc.pid, signal.SIGTERM)
        assert await got == -signal.SIGTERM
        assert proc.returncode == -signal.SIGTERM

    run(main)


def test_exit_callback_for_already_exited_process() -> None:
    async def main() -> None:
        proc = Subprocess([sys.executable, "-c", "pass"])
        while proc.proc.poll() is None:
            await asyncio.sleep(0.01)
        # Popen reaped it already; the callback still learns the status.
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        proc.set_exit_callback(got.set_result)
        assert await got == 0
        assert proc.returncode == 0

    run(main)


def test_popen_failure_leaks_no_pipes() -> None:
    async def main() -> None:
        before = set(os.listdir("/proc/self/fd"))
        with pytest.raises(FileNotFoundError):
            Subprocess(["/no/such/program"], stdin=Subprocess.STREAM, stdout=Subprocess.STREAM)
        after = set(os.listdir("/proc/self/fd"))
        assert after <= before

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    run(main)


def test_fork_processes_restarts_failed_children() -> None:
    code = textwrap.dedent(
        """
        import os, sys
        from tornado.process import fork_processes, task_id
        marker = sys.argv[1]
        try:
            tid = fork_processes(2, max_restarts=2)
        except SystemExit as e:
            assert e.code == 0
            assert task_id() is None
            print("parent done", flush=True)
            raise
        assert tid == task_id()
        # Child 1 fails once; its replacement succeeds.
        if tid == 1 and not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(7)
        # One write: the two children share the pipe (print() writes
        # its pieces separately, which could interleave).
        os.write(1, b"child %d\\n" % tid)
        """
    )
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        marker = os.path.join(d, "failed-once")
        env = dict(os.environ, PYTHONPATH=ROOT)
        proc = subprocess.run(
            [sys.executable, "-c", code, marker],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    lines = sorted(proc.stdout.splitlines())
    assert lines == ["child 0", "child 1", "parent done"]
    # The restart is logged (to stderr, by logging's last-resort handler).
    assert "exited with status 7, restarting" in proc.stderr
