"""tornado.platform.twisted: Deferreds in coroutines, the asyncio reactor on
our loop, and TwistedResolver.

Installing a reactor is process-wide, so those checks run in a child
interpreter.  Name lookups stay local (/etc/hosts, or a stub chain).
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("twisted")

from twisted.internet.defer import inlineCallbacks  # noqa: E402

import tornado.platform.twisted  # noqa: E402,F401  (registers Deferred)
from tornado import gen  # noqa: E402
from tornado.ioloop import IOLoop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_coroutine_yields_deferred_result_and_failure() -> None:
    @inlineCallbacks
    def answer():  # type: ignore[no-untyped-def]
        if False:
            yield
        return 42

    @inlineCallbacks
    def broken():  # type: ignore[no-untyped-def]
        if False:
            yield
        raise KeyError("missing")

    @gen.coroutine
    def main():  # type: ignore[no-untyped-def]
        value = yield answer()
        assert value == 42
        with pytest.raises(KeyError, match="missing"):
            yield broken()
        return value

    loop = IOLoop(make_current=False)
    try:
        assert loop.run_sync(main) == 42
    finally:
        loop.close()


def run_child(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_install_runs_twisted_on_our_loop() -> None:
    out = run_child(
        """
        import asyncio
        from tornado.ioloop import IOLoop
        from tornado.platform.twisted import install

        async def main():
            install()
            from twisted.internet import reactor
            assert reactor._asyncioEventloop is asyncio.get_running_loop()
            fired = asyncio.get_running_loop().create_future()
            reactor.callLater(0.01, fired.set_result, "from twisted")
            print(await fired)

        asyncio.run(main())
        """
    )
    assert out.strip() == "from twisted"


def test_twisted_resolver_asks_for_a_and_aaaa_records() -> None:
    out = run_child(
        """
        import asyncio, socket
        from twisted.internet import defer
        from twisted.names import dns
        from tornado.platform.twisted import install

        class Chain:
            # Stands in for Twisted's resolver chain; records what is asked.
            def __init__(self):
                self.asked = []
            def lookupAddress(self, name, timeout=None):
                self.asked.append("A")
                rr = dns.RRHeader(name, dns.A, payload=dns.Record_A("10.0.0.7"))
                return defer.succeed(([rr], [], []))
            def lookupIPV6Address(self, name, timeout=None):
                self.asked.append("AAAA")
                return defer.fail(dns.DomainError(name))
            def lookupAllRecords(self, name, timeout=None):
                raise AssertionError("ANY query")

        async def main():
            install()
            from tornado.platform.twisted import TwistedResolver
            resolver = TwistedResolver()
            # Real lookup, answered from /etc/hosts.
            result = await resolver.resolve("localhost", 80, socket.AF_INET)
            assert result == [(socket.AF_INET, ("127.0.0.1", 80))], result
            resolver.resolver = chain = Chain()
            both = await resolver.resolve("host.example", 443)
            assert both == [(socket.AF_INET, ("10.0.0.7", 443))], both
            assert chain.asked == ["A", "AAAA"], chain.asked
            chain.asked.clear()
            try:
                await resolver.resolve("host.example", 443, socket.AF_INET6)
            except IOError as e:
                print("v6 error:", e)
            assert chain.asked == ["AAAA"]
            print("ok")

        asyncio.run(main())
        """
    )
    assert out.splitlines()[-1] == "ok"
    assert "v6 error: Failed to resolve host.example" in out
