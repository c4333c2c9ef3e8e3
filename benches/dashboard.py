#!/usr/bin/env python3
"""The dashboard's pages for N apps x 3 environments (default N = 1000), server side:
`glueops dashboard` (read only) on the generated config of benches/loop_sync.py after a first
sync, answering

  /                           the overview, first page of 50 apps (plus previews, releases, DORA)
  /?page=20                   the last page
  /?app=app00500              one app, filtered
  /apps/app00500/staging      one deployment's history

against the floor measured in the same run: `/status`, the same server's JSON of the status the
page is drawn from. Medians of GLUEOPS_BENCH_RUNS requests (default 50), each on a new
connection. Also: how long the server took to read the board (status + history + DORA), from
its log. Build first: cargo build --profile dist -p glueops-cli

usage: benches/dashboard.py [N]
"""
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loop_sync  # noqa: E402  (the generated config, the git helpers)

RUNS = int(os.environ.get("GLUEOPS_BENCH_RUNS", "50"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return r.status, len(body), elapsed


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work, cfg, man = loop_sync.setup(tmp, n)
        cache = os.path.join(tmp, "cache")
        loop_sync.run([loop_sync.GLUEOPS, "sync", "--config", cfg, "--manifests", man, "--cache", cache])
        port = free_port()
        log = open(os.path.join(tmp, "dashboard.log"), "w+")
        server = subprocess.Popen([loop_sync.GLUEOPS, "dashboard", "--config", cfg, "--manifests", man,
                                   "--cache", os.path.join(tmp, "dash-cache"), "--listen", f"127.0.0.1:{port}",
                                   "--refresh", "1h"], stdout=log, stderr=log)
        try:
            for _ in range(600):
                try:
                    if get(port, "/")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            paths = ["/", "/?page=20", "/?app=app00500", "/apps/app00500/staging", "/status"]
            results = {}
            for path in paths:
                get(port, path)  # warm
                times, size = [], 0
                for _ in range(RUNS):
                    status, size, t = get(port, path)
                    if status != 200:
                        sys.exit(f"{path}: {status}")
                    times.append(t)
                results[path] = (statistics.median(times), sorted(times)[int(len(times) * 0.9)], size)
            floor = results["/status"][0]
            print(f"| page ({n} apps x 3) | p50 | p90 | bytes | p50 / `/status` |")
            print("|---|---|---|---|---|")
            for path in paths:
                p50, p90, size = results[path]
                print(f"| `{path}` | {p50 * 1000:.2f} ms | {p90 * 1000:.2f} ms | {size} | {p50 / floor:.2f}x |")
            log.seek(0)
            text = log.read()
            total = re.findall(r"status refreshed ms=(\d+)", text)
            board = re.findall(r"board_ms=(\d+)", text)
            print(f"\nthe server's first read: status, board and DORA metrics {total[0] if total else '?'} ms, "
                  f"of which the board (history, causes, DORA per day) {board[0] if board else '?'} ms")
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
