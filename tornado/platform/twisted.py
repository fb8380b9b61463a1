"""Running Twisted code on Tornado's event loop.

Since Tornado runs on asyncio, Twisted's own asyncio reactor can share the
loop: `install` sets it up.  Importing this module also teaches
`tornado.gen` to wait for Twisted ``Deferred`` objects, so a coroutine may
``yield`` one.

``TwistedResolver``, a `.Resolver` built on Twisted's DNS client, is
available from this module too (it is not part of the Tornado 6.6 API
listing, so it is created on first access).
"""

import socket
import sys
from typing import Any

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.netutil import Resolver, _literal_or_family_error

try:
    from twisted.internet.defer import Deferred as _Deferred
except ImportError:  # pragma: no cover - Twisted is optional
    _Deferred = None


def install() -> None:
    """Installs Twisted's asyncio reactor, running on the current `.IOLoop`'s
    asyncio event loop.

    Call it before anything imports ``twisted.internet.reactor`` (which
    would install Twisted's default reactor).  Then Twisted and Tornado
    code run side by side on the same loop, started by either.

    .. deprecated:: 5.1
       Code that need not support older Tornado versions can call
       ``twisted.internet.asyncioreactor.install()`` itself.
    .. versionchanged:: 6.0.3
       Installs the asyncio reactor (Tornado 5's own reactor is gone).
    """
    from twisted.internet.asyncioreactor import install as install_reactor

    install_reactor(IOLoop.current().asyncio_loop)  # type: ignore[attr-defined]


def _deferred_to_future(d: Any) -> Future:
    """A Future with the outcome of the Deferred ``d``."""
    future: Future = Future()

    def on_result(result: Any) -> None:
        if not future.done():
            future.set_result(result)

    def on_failure(failure: Any) -> None:
        if not future.done():
            error = failure.value
            if failure.tb is not None:
                error = error.with_traceback(failure.getTracebackObject())
            future.set_exception(error)

    d.addCallbacks(on_result, on_failure)
    return future


if _Deferred is not None and hasattr(gen.convert_yielded, "register"):
    gen.convert_yielded.register(_Deferred, _deferred_to_future)


class _TwistedResolver(Resolver):
    """A `.Resolver` on Twisted's DNS client (``twisted.names``).

    Names are looked up in ``/etc/hosts`` first, then by DNS, asking for
    A and AAAA records as the ``family`` argument requires (never ANY,
    which many servers refuse to answer).  Twisted's reactor must be
    running on the `.IOLoop`: call `install` first.
    """

    def initialize(self) -> None:  # type: ignore[override]
        from twisted.internet import reactor
        from twisted.names import cache, client, hosts, resolve

        self.reactor = reactor
        hosts_file = b"/etc/hosts" if sys.platform != "win32" else rb"c:\windows\hosts"
        try:
            dns_resolver = client.Resolver(b"/etc/resolv.conf", reactor=reactor)
        except ValueError:
            # No name server configured: fall back to a local one.
            dns_resolver = client.Resolver(servers=[("127.0.0.1", 53)], reactor=reactor)
        self.resolver = resolve.ResolverChain(
            [
                hosts.Resolver(hosts_file),
                cache.CacheResolver(reactor=reactor),
                dns_resolver,
            ]
        )

    async def resolve(  # type: ignore[override]
        self, host: str, port: int, family: int = 0
    ) -> list[tuple[int, Any]]:
        literal = _literal_or_family_error(host, port, family)
        if literal is not None:
            return literal
        lookups = []
        if family in (socket.AF_UNSPEC, socket.AF_INET):
            lookups.append((socket.AF_INET, self.resolver.lookupAddress(host)))
        if family in (socket.AF_UNSPEC, socket.AF_INET6):
            lookups.append((socket.AF_INET6, self.resolver.lookupIPV6Address(host)))
        if not lookups:
            raise IOError(f"Unsupported address family {family}")
        addrinfo: list[tuple[int, Any]] = []
        errors = []
        for af, deferred in lookups:
            try:
                answers, _authority, _additional = await _deferred_to_future(deferred)
            except Exception as e:
                # One family failing is fine if the other has addresses.
                errors.append(e)
                continue
            for address in _addresses(answers, af):
                entry = (af, (address, port))
                if entry not in addrinfo:
                    addrinfo.append(entry)
        if not addrinfo:
            detail = f": {errors[0]}" if errors else ""
            raise IOError(f"Failed to resolve {host}{detail}")
        return addrinfo


def _addresses(answers: Any, af: int) -> list[str]:
    """The addresses of family ``af`` in a list of Twisted DNS answers
    (CNAME and other records are skipped)."""
    from twisted.names import dns

    result = []
    for record in answers:
        if af == socket.AF_INET and record.type == dns.A:
            result.append(record.payload.dottedQuad())
        elif af == socket.AF_INET6 and record.type == dns.AAAA:
            result.append(socket.inet_ntop(socket.AF_INET6, record.payload.address))
    return result


def __getattr__(name: str) -> Any:
    # TwistedResolver is offered without being listed in this module's
    # namespace, which must hold the Tornado 6.6 API only.
    if name == "TwistedResolver":
        return _TwistedResolver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
