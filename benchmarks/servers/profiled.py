"""Run one of the benchmark servers under cProfile (used by ``profile_server.py``).

``profiled.py --out FILE SERVER_SCRIPT [server args...]``: profiles the
whole server process until SIGTERM or SIGINT, then writes the pstats file.
"""

import asyncio
import cProfile
import os
import runpy
import signal
import sys


def main() -> None:
    at = sys.argv.index("--out")
    out, script = sys.argv[at + 1], sys.argv[at + 2]
    sys.argv = [script] + sys.argv[at + 3:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    module = runpy.run_path(script, run_name="profiled_server")
    args = module["parse_args"]()
    profiler = cProfile.Profile()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.ensure_future(module["main"](args))
        await stop.wait()
        task.cancel()

    profiler.enable()
    try:
        asyncio.run(run())
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
