"""Run the Autobahn WebSocket TestSuite against our server and our client.

The suite (``autobahntestsuite`` on PyPI, tool ``wstest``) runs only under
Python 2.7, so it lives in its own virtualenv outside the repository;
``--setup`` makes one under ``~/.cache/autobahn`` with pyenv's 2.7::

    python3 tests/autobahn/run.py --setup          # once
    python3 tests/autobahn/run.py                  # server and client, both modes
    python3 tests/autobahn/run.py --side server --mode deflate --cases '12.*'
    python3 tests/autobahn/run.py --tables-from /tmp/out1 /tmp/out2   # tables only

Case patterns are the suite's: ``*`` matches anything, and a pattern only
has to match the start of a case id (end it with ``$`` to anchor it).

Server side: an echo `tornado.websocket.WebSocketHandler` listens on an
ephemeral port of 127.0.0.1, once without and once with permessage-deflate,
and ``wstest -m fuzzingclient`` plays every case against it.  Client side:
``wstest -m fuzzingserver`` listens and our `tornado.websocket.websocket_connect`
echoes each case back (with ``compression_options={}`` in deflate mode).

Prints a table of outcomes per run (``--rst`` writes the same as
reStructuredText) and exits with status 1 when any case ends worse than
OK, NON-STRICT or INFORMATIONAL, or with a close other than OK or
INFORMATIONAL (which includes "failed by client": the suite had to drop a
connection that our server should have closed).  The suite's HTML reports
stay in ``--out`` (a temporary directory by default).

This is outside the default pytest run: a full run takes several minutes.
"""

import argparse
import asyncio
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from tornado import httpserver, netutil, web, websocket  # noqa: E402
from tornado.ioloop import IOLoop  # noqa: E402

VENV = os.path.expanduser("~/.cache/autobahn/venv")
SUITE_VERSION = "25.10.1"
# Cases 12 and 13 exercise permessage-deflate; without it they are
# UNIMPLEMENTED by definition.
DEFLATE_CASES = ["12.*", "13.*"]
# The 9.x cases send messages of up to 16 MiB.
MAX_MESSAGE_SIZE = 64 * 1024 * 1024
# Seconds one client case may take (the 9.x and 12.x cases send a thousand
# large messages; a loaded machine is slow).
CASE_TIMEOUT = 600
GOOD_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL"}
GOOD_CLOSE = {"OK", "INFORMATIONAL"}


def setup_venv() -> None:
    """Make the Python 2.7 virtualenv holding ``wstest``."""
    python2 = subprocess.run(
        ["pyenv", "prefix", "2.7.18"], capture_output=True, text=True, check=True
    ).stdout.strip() + "/bin/python"
    os.makedirs(os.path.dirname(VENV), exist_ok=True)
    subprocess.run([python2, "-m", "pip", "install", "--user", "virtualenv==20.15.1"], check=True)
    subprocess.run([python2, "-m", "virtualenv", VENV], check=True)
    subprocess.run(
        [os.path.join(VENV, "bin", "pip"), "install", "autobahntestsuite==" + SUITE_VERSION],
        check=True,
    )


# -- the testees -------------------------------------------------------------


class EchoHandler(websocket.WebSocketHandler):
    def on_message(self, message: Any) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class DeflateEchoHandler(EchoHandler):
    def get_compression_options(self) -> Dict[str, Any]:
        return {}


def start_server() -> int:
    app = web.Application(
        [("/", EchoHandler), ("/deflate", DeflateEchoHandler)],
        websocket_max_message_size=MAX_MESSAGE_SIZE,
    )
    sockets = netutil.bind_sockets(0, "127.0.0.1")
    server = httpserver.HTTPServer(app)
    server.add_sockets(sockets)
    return sockets[0].getsockname()[1]


async def echo_client(url: str, deflate: bool) -> None:
    conn = await websocket.websocket_connect(
        url,
        compression_options={} if deflate else None,
        max_message_size=MAX_MESSAGE_SIZE,
    )
    while True:
        message = await conn.read_message()
        if message is None:
            return
        try:
            await conn.write_message(message, binary=isinstance(message, bytes))
        except websocket.WebSocketClosedError:
            pass


async def read_one(url: str) -> Any:
    conn = await websocket.websocket_connect(url)
    message = await conn.read_message()
    conn.close()
    return message


# -- running the suite -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_listening(port: int, timeout: float = 60) -> None:
    deadline = IOLoop.current().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if IOLoop.current().time() > deadline:
                raise
            await asyncio.sleep(0.2)
        else:
            writer.close()
            return


def case_lists(side: str, mode: str, cases: List[str]) -> Tuple[List[str], List[str]]:
    """The case patterns to run and to leave out."""
    if mode == "plain":
        return cases, DEFLATE_CASES
    if side == "server" and cases == ["*"]:
        # The suite offers permessage-deflate to a server only in these
        # cases; the others would repeat the run without compression.
        return DEFLATE_CASES, []
    return cases, []


async def start_wstest(args: List[str], log: str) -> "asyncio.subprocess.Process":
    with open(log, "w") as out:
        return await asyncio.create_subprocess_exec(
            os.path.join(VENV, "bin", "wstest"), *args, stdout=out, stderr=subprocess.STDOUT
        )


async def run_wstest(args: List[str], log: str) -> None:
    proc = await start_wstest(args, log)
    await proc.wait()
    if proc.returncode:
        raise RuntimeError("wstest %s exited with %d (see %s)" % (" ".join(args), proc.returncode, log))


async def test_server(mode: str, cases: List[str], outdir: str) -> Dict[str, Any]:
    port = start_server()
    agent = "tornado-server-" + mode
    include, exclude = case_lists("server", mode, cases)
    spec = {
        "outdir": outdir,
        "servers": [{
            "agent": agent,
            "url": "ws://127.0.0.1:%d/%s" % (port, "deflate" if mode == "deflate" else ""),
        }],
        "cases": include,
        "exclude-cases": exclude,
        "exclude-agent-cases": {},
    }
    spec_file = os.path.join(outdir, "fuzzingclient.json")
    with open(spec_file, "w") as f:
        json.dump(spec, f)
    await run_wstest(["-m", "fuzzingclient", "-s", spec_file], os.path.join(outdir, "wstest.log"))
    with open(os.path.join(outdir, "index.json")) as f:
        return json.load(f)[agent]


async def test_client(mode: str, cases: List[str], outdir: str) -> Dict[str, Any]:
    port = free_port()
    agent = "tornado-client-" + mode
    include, exclude = case_lists("client", mode, cases)
    base = "ws://127.0.0.1:%d" % port
    spec = {
        "url": base,
        "outdir": outdir,
        "cases": include,
        "exclude-cases": exclude,
        "exclude-agent-cases": {},
    }
    spec_file = os.path.join(outdir, "fuzzingserver.json")
    with open(spec_file, "w") as f:
        json.dump(spec, f)
    suite = await start_wstest(
        ["-m", "fuzzingserver", "-s", spec_file, "--webport", "0"],
        os.path.join(outdir, "wstest.log"),
    )
    try:
        await wait_listening(port)
        count = int(await read_one(base + "/getCaseCount"))
        for case in range(1, count + 1):
            url = "%s/runCase?case=%d&agent=%s" % (base, case, agent)
            try:
                await asyncio.wait_for(echo_client(url, mode == "deflate"), CASE_TIMEOUT)
            except Exception as e:  # the report tells what went wrong
                print("case %d: %r" % (case, e), file=sys.stderr)
        conn = await websocket.websocket_connect("%s/updateReports?agent=%s" % (base, agent))
        await conn.read_message()  # the suite closes once the reports are written
        with open(os.path.join(outdir, "index.json")) as f:
            return json.load(f)[agent]
    finally:
        suite.terminate()
        await suite.wait()


# -- reporting ---------------------------------------------------------------


def case_key(case_id: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in case_id.split("."))


def summarize(results: Dict[str, Any]) -> Tuple[collections.Counter, List[str]]:
    """Counts of outcomes (``behavior`` and ``behaviorClose``) and the list
    of bad cases."""
    counts: collections.Counter = collections.Counter()
    bad = []
    for case_id in sorted(results, key=case_key):
        r = results[case_id]
        if r["behavior"] == "UNIMPLEMENTED":
            continue
        counts[r["behavior"]] += 1
        counts["close " + r["behaviorClose"]] += 1
        if r["behavior"] not in GOOD_BEHAVIOR or r["behaviorClose"] not in GOOD_CLOSE:
            bad.append("%s: %s, close %s" % (case_id, r["behavior"], r["behaviorClose"]))
    return counts, bad


COLUMNS = ["OK", "NON-STRICT", "INFORMATIONAL", "FAILED", "close OK",
           "close INFORMATIONAL", "close FAILED BY CLIENT", "close other"]


def table_row(name: str, counts: collections.Counter) -> List[str]:
    row = [name, str(sum(v for k, v in counts.items() if not k.startswith("close ")))]
    for col in COLUMNS:
        if col == "FAILED":
            value = sum(v for k, v in counts.items()
                        if not k.startswith("close ") and k not in GOOD_BEHAVIOR)
        elif col == "close other":
            value = sum(v for k, v in counts.items() if k.startswith("close ")
                        and k not in ("close OK", "close INFORMATIONAL", "close FAILED BY CLIENT"))
        else:
            value = counts.get(col, 0)
        row.append(str(value))
    return row


def rst_table(rows: List[List[str]]) -> str:
    header = ["run", "cases"] + COLUMNS
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    rule = " ".join("=" * w for w in widths)
    lines = [rule, " ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(), rule]
    lines += [" ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(rule)
    return "\n".join(lines)


def run_name(side: str, mode: str) -> str:
    return "%s, %s" % (side, "permessage-deflate" if mode == "deflate" else "no compression")


def tables_from(dirs: List[str]) -> Tuple[List[List[str]], List[str]]:
    """Print (and with --rst write) the table of runs already made: each
    directory is an ``--out`` of an earlier run."""
    rows = []
    bad = []
    for out in dirs:
        for side in ("server", "client"):
            for mode in ("plain", "deflate"):
                index = os.path.join(out, "%s-%s" % (side, mode), "index.json")
                if not os.path.exists(index):
                    continue
                with open(index) as f:
                    counts, wrong = summarize(json.load(f)["tornado-%s-%s" % (side, mode)])
                rows.append(table_row(run_name(side, mode), counts))
                bad += wrong
    print(rst_table(rows))
    for line in bad:
        print("BAD", line)
    return rows, bad


async def main(args: argparse.Namespace) -> int:
    if not os.path.exists(os.path.join(VENV, "bin", "wstest")):
        print("no wstest in %s; run with --setup first" % VENV, file=sys.stderr)
        return 2
    out = args.out or tempfile.mkdtemp(prefix="autobahn-")
    rows = []
    all_bad = []
    for side in (["server", "client"] if args.side == "both" else [args.side]):
        for mode in (["plain", "deflate"] if args.mode == "both" else [args.mode]):
            outdir = os.path.join(out, "%s-%s" % (side, mode))
            os.makedirs(outdir, exist_ok=True)
            run = test_server if side == "server" else test_client
            started = IOLoop.current().time()
            results = await run(mode, args.cases, outdir)
            counts, bad = summarize(results)
            name = run_name(side, mode)
            rows.append(table_row(name, counts))
            all_bad += ["%s %s" % (name, b) for b in bad]
            print("%s: %s (%.0f s)" % (name, dict(counts), IOLoop.current().time() - started))
    table = rst_table(rows)
    print(table)
    for line in all_bad:
        print("BAD", line)
    print("reports in", out)
    if args.rst:
        with open(args.rst, "w") as f:
            f.write(table + "\n")
    return 1 if all_bad else 0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setup", action="store_true", help="create the wstest virtualenv and exit")
    parser.add_argument("--side", choices=["server", "client", "both"], default="both")
    parser.add_argument("--mode", choices=["plain", "deflate", "both"], default="both")
    parser.add_argument("--cases", nargs="+", default=["*"], help="case patterns, e.g. '1.*' 2.10")
    parser.add_argument("--out", help="directory for the suite's reports")
    parser.add_argument("--rst", help="also write the summary table to this file")
    parser.add_argument("--tables-from", nargs="+", metavar="OUT",
                        help="only summarize the reports of earlier runs (their --out)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    options = parse_args()
    if options.setup:
        setup_venv()
        sys.exit(0)
    if options.tables_from:
        rows, bad = tables_from(options.tables_from)
        if options.rst:
            with open(options.rst, "w") as f:
                f.write(rst_table(rows) + "\n")
        sys.exit(1 if bad else 0)
    sys.exit(asyncio.run(main(options)))
