"""tornado.platform.caresresolver: c-ares lookups driven by the IOLoop.

Lookups stay on this machine: names come from /etc/hosts, and the failure
case asks a "name server" on a closed loopback port.
"""

import socket

import pytest

pycares = pytest.importorskip("pycares")

from tornado.platform.caresresolver import CaresResolver  # noqa: E402
from support import run  # noqa: E402


def test_localhost_from_hosts_file() -> None:
    async def main() -> None:
        resolver = CaresResolver()
        result = await resolver.resolve("localhost", 80)
        assert (socket.AF_INET, ("127.0.0.1", 80)) in result or (
            socket.AF_INET6,
            ("::1", 80),
        ) in result
        assert all(len(addr) in (2, 4) and addr[1] == 80 for _, addr in result)
        v4 = await resolver.resolve("localhost", 443, socket.AF_INET)
        assert v4 == [(socket.AF_INET, ("127.0.0.1", 443))]
        # Answered from /etc/hosts: no socket was left with the loop.
        assert resolver.fds == {}

    run(main)


def test_ip_literals_need_no_query() -> None:
    async def main() -> None:
        resolver = CaresResolver()
        assert await resolver.resolve("10.1.2.3", 8080) == [
            (socket.AF_INET, ("10.1.2.3", 8080))
        ]
        assert await resolver.resolve("::1", 80, socket.AF_INET6) == [
            (socket.AF_INET6, ("::1", 80))
        ]
        with pytest.raises(IOError, match="Requested socket family"):
            await resolver.resolve("::1", 80, socket.AF_INET)

    run(main)


def test_lookup_failure_is_an_ioerror() -> None:
    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            dead_port = probe.getsockname()[1]
        resolver = CaresResolver()
        # Point the channel at a name server that isn't there.
        resolver.channel = pycares.Channel(
            sock_state_cb=resolver._sock_state_cb,
            servers=["127.0.0.1"],
            udp_port=dead_port,
            tcp_port=dead_port,
            timeout=0.2,
            tries=1,
            lookups="b",
        )
        with pytest.raises(IOError, match="C-Ares returned error"):
            await resolver.resolve("name.invalid", 80)

    run(main)
