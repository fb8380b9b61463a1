"""Soak: 1,000,000 keep-alive requests; the server's memory must not grow.

h2load (from nghttp2-client, speaking HTTP/1.1 here) sends the requests over
32 keep-alive connections, in rounds of 100,000.  The first round warms the
server up; its resident memory after each later round may exceed the
figure after warm-up by less than 5 MB.

    python3 tests/soak/keepalive.py [--requests 1000000]
"""

import argparse
import re
import subprocess
import sys

from common import load, running_server, stats

LIMIT_KIB = 5 * 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--round", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with running_server() as (proc, port):
        url = "http://127.0.0.1:%d/" % port
        done = 0
        baseline = None
        peak_growth = 0
        while done < args.requests:
            out = subprocess.run(
                ["h2load", "--h1", "-n", str(args.round), "-c", str(args.connections), "-t", "1", url],
                capture_output=True, text=True, check=True,
            ).stdout
            succeeded = int(re.search(r"(\d+) succeeded", out).group(1))
            rate = re.search(r"finished in [^,]+, ([\d.]+) req/s", out).group(1)
            assert succeeded == args.round, out
            done += succeeded
            rss = stats(port)["rss_kib"]
            if baseline is None:
                baseline = rss
            growth = rss - baseline
            peak_growth = max(peak_growth, growth)
            print("%9d requests  %6.0f req/s  RSS %d KiB (%+d KiB after warm-up)  load %s"
                  % (done, float(rate), rss, growth, load()), flush=True)
        print("RSS growth after warm-up: %+d KiB (limit %d KiB)" % (peak_growth, LIMIT_KIB))
        return 0 if peak_growth < LIMIT_KIB else 1


if __name__ == "__main__":
    sys.exit(main())
