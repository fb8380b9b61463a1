"""HTTP client load: GET requests per second made by one client library.

Runs inside the environment of the implementation measured (the harness
pins it to its CPU).  ``--impl tornado`` uses ``AsyncHTTPClient`` (whichever
Tornado that environment has, with its default simple client),
``--impl aiohttp`` a ``ClientSession`` (which keeps connections alive).
``--keep-alive`` turns on the keep-alive opt-in of our ``AsyncHTTPClient``
(``keep_alive=True``; the reference release has no such keyword, and closes
each connection after its request).  ``--concurrency 1`` is the
sequential case; more runs that many requests in flight at once.  Prints
``RESULT requests_per_sec=... errors=...``.
"""

import argparse
import asyncio


#: With --keep-alive: Tornado's client keeps connections alive (an opt-in of
#: this package, ``keep_alive=True``; Tornado itself has no such keyword).
_KEEP_ALIVE = False


async def tornado_load(url: str, concurrency: int, duration: float, warmup: float) -> tuple[int, int, float]:
    from tornado.httpclient import AsyncHTTPClient

    extra = {"keep_alive": True} if _KEEP_ALIVE else {}
    client = AsyncHTTPClient(max_clients=max(concurrency, 10), force_instance=True, **extra)

    async def one() -> None:
        await client.fetch(url)

    return await _drive(one, concurrency, duration, warmup)


async def aiohttp_load(url: str, concurrency: int, duration: float, warmup: float) -> tuple[int, int, float]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=max(concurrency, 10))
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            async with session.get(url) as response:
                await response.read()
                response.raise_for_status()

        return await _drive(one, concurrency, duration, warmup)


#: With --requests: how many requests to make in all (no timing).
_COUNT = 0


async def _drive(one, concurrency: int, duration: float, warmup: float) -> tuple[int, int, float]:
    """Run ``one()`` back to back in ``concurrency`` workers; count after warmup."""
    if _COUNT:
        return await _drive_count(one, concurrency, _COUNT)
    done = 0
    errors = 0
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + duration
    first = None

    async def worker() -> None:
        nonlocal done, errors, first
        while True:
            now = loop.time()
            if now >= stop_at:
                return
            try:
                await one()
            except Exception:
                errors += 1
            if now >= measure_from:
                if first is None:
                    first = now
                done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = loop.time() - (first if first is not None else measure_from)
    return done, errors, elapsed


async def _drive_count(one, concurrency: int, total: int) -> tuple[int, int, float]:
    left = total
    errors = 0

    async def worker() -> None:
        nonlocal left, errors
        while left > 0:
            left -= 1
            try:
                await one()
            except Exception:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total, errors, 1.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", choices=("tornado", "aiohttp"), required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--requests", type=int, default=0,
                        help="make exactly this many requests, then stop (no warm-up, no "
                             "timing: for instruction counts)")
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop the measured client runs on")
    parser.add_argument("--keep-alive", action="store_true",
                        help="tornado: AsyncHTTPClient(keep_alive=True), this package's opt-in")
    args = parser.parse_args()
    if args.keep_alive:
        global _KEEP_ALIVE
        _KEEP_ALIVE = True
    load = tornado_load if args.impl == "tornado" else aiohttp_load
    if args.requests:
        global _COUNT
        _COUNT = args.requests
    coro = load(args.url, args.concurrency, args.duration, args.warmup)
    if args.loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            done, errors, elapsed = runner.run(coro)
    else:
        done, errors, elapsed = asyncio.run(coro)
    print(f"RESULT requests_per_sec={done / elapsed:.1f} errors={errors}", flush=True)


if __name__ == "__main__":
    main()
