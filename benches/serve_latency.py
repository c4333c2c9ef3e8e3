#!/usr/bin/env python3
"""`glueops serve`: from a webhook's request to the commit pushed to the manifest remote, at
N apps x 3 environments (default N = 1000), local bare remotes, one run:

  1. push to the config branch (a one-app change) -> sync;
  2. pull request opened on an app's source repo -> its preview;
  3. image published for an app -> bump of its `promotion.auto` environment in the config
     repo, then sync (two pushes: the config's, then the manifests').

Each is measured from the start of the signed POST until the manifest remote's `main` moves
(the 202 comes back at once; the work follows). Between events the bench waits for the server
to go idle. Beside it, in the same run: each event's git transport floor — the `git` CLI
fetching the config commit a push names (syncs), and pushing exactly the commits the server
pushed (the manifest commit; for a bump the config commit first) to packed copies of the
remotes standing at their parents (the server knows both branch tips from its last fetch or
push) — and the peers' polling intervals. The remotes are packed, as a hosting server keeps
them.

GLUEOPS_BENCH_RUNS events of each kind (default 40). Build first:
cargo build --profile dist -p glueops-cli

usage: benches/serve_latency.py [N]
"""
import hashlib
import hmac
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loop_sync  # noqa: E402  (the generated config repo and the transport floor)

ROOT = loop_sync.ROOT
GLUEOPS = loop_sync.GLUEOPS
RUNS = int(os.environ.get("GLUEOPS_BENCH_RUNS", "40"))
FIXTURES = os.path.join(ROOT, "crates/glueops-git/tests/fixtures/github")
SECRET = b"bench secret"
PEERS = [("Argo CD (git polling)", 180), ("Argo CD Image Updater", 120),
         ("GitOps Promoter", 300), ("ApplicationSet pull-request generator", 1800)]


def fixture(path, edits):
    with open(os.path.join(FIXTURES, path)) as f:
        v = json.load(f)
    for pointer, value in edits.items():
        parts = pointer.strip("/").split("/")
        node = v
        for p in parts[:-1]:
            node = node[p]
        node[parts[-1]] = value
    # The events glueops checks for freshness happened now, and pull requests come from the
    # repository itself (a fork's would be refused).
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for key in ("pull_request", "package", "registry_package", "workflow_run"):
        if isinstance(v.get(key), dict) and "updated_at" in v[key]:
            v[key]["updated_at"] = now
    if "pull_request" in v:
        v["pull_request"]["head"]["repo"]["full_name"] = v["repository"]["full_name"]
    return json.dumps(v).encode()


class Server:
    def __init__(self, args):
        self.proc = subprocess.Popen([GLUEOPS, "serve", "--listen", "127.0.0.1:0", "--log-json"] + args,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait(lambda l: "glueops serve listening" in l, 600)
        host, port = json.loads(line)["address"].rsplit(":", 1)
        self.addr = (host, int(port))

    def _read(self):
        for raw in self.proc.stderr:
            with self.lock:
                self.lines.append(raw.decode(errors="replace"))

    def count(self, needle):
        with self.lock:
            return sum(1 for l in self.lines if needle in l)

    def wait(self, match, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for l in self.lines:
                    if match(l):
                        return l
            time.sleep(0.01)
        with self.lock:
            sys.exit("glueops serve: timed out\n" + "".join(self.lines[-40:]))

    def get(self, path):
        c = http.client.HTTPConnection(*self.addr, timeout=60)
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()

    def post(self, event, delivery, body):
        sig = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        c = http.client.HTTPConnection(*self.addr, timeout=60)
        c.request("POST", "/webhooks/github", body=body, headers={
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sig,
            "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 202:
            sys.exit(f"{event} {delivery}: HTTP {r.status}")

    def idle(self, refreshed_before):
        deadline = time.time() + 120
        while self.count('"status refreshed"') <= refreshed_before:
            if time.time() > deadline:
                sys.exit("glueops serve did not go idle")
            time.sleep(0.01)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def head(man):
    with open(os.path.join(man, "refs/heads/main")) as f:
        return f.read().strip()


def until_moved(server, man, before, start):
    while time.perf_counter() - start < 120:
        try:
            if head(man) != before:
                return time.perf_counter() - start
        except FileNotFoundError:
            pass
        time.sleep(0.0005)
    with server.lock:
        sys.exit("the manifest remote did not move:\n" + "".join(server.lines[-20:]))


def measure(server, man, event, delivery, body):
    before, refreshed = head(man), server.count('"status refreshed"')
    start = time.perf_counter()
    server.post(event, delivery, body)
    took = until_moved(server, man, before, start)
    server.idle(refreshed)
    return took


class Replay:
    """git alone moving exactly the commit glueops moved: fetched (not timed) into a clone,
    then pushed (timed) to a packed copy of the remote standing at the commit's parent."""

    def __init__(self, tmp, name, remote):
        self.remote = remote
        self.copy = os.path.join(tmp, f"floor-{name}.git")
        self.clone = os.path.join(tmp, f"floor-{name}-clone.git")
        loop_sync.clone_packed(remote, self.copy)
        loop_sync.clone_packed(remote, self.clone)

    def rev(self, repo, name):
        return loop_sync.git("-C", repo, "rev-parse", name).decode().strip()

    def push_last(self):
        """Seconds git takes to push the remote's `main` from its parent."""
        loop_sync.git("-C", self.clone, "fetch", "-q", "--no-tags", self.remote, "+refs/heads/main:refs/heads/main")
        commit = self.rev(self.clone, "main")
        parent = self.rev(self.clone, "main^")
        if self.rev(self.copy, "main") != parent:
            loop_sync.git("-C", self.clone, "push", "-q", "--force", self.copy, f"{parent}:refs/heads/main")
        start = time.perf_counter()
        loop_sync.push(self.clone, self.copy, commit)
        return time.perf_counter() - start


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round((len(xs) - 1) * q))]


def main():
    if not os.path.exists(GLUEOPS):
        sys.exit(f"{GLUEOPS} is missing: cargo build --profile {loop_sync.PROFILE} -p glueops-cli")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work, cfg, man = loop_sync.setup(tmp, n)
        # The apps whose pull requests get previews declare them.
        # Previews read throwaway keys, never the environments' own.
        for r in range(RUNS):
            app = f"app{(r * 53) % n:05d}"
            loop_sync.write(os.path.join(work, f"apps/{app}/envs/previews/common/values.yaml"),
                            "deployment: {replicas: 1}\nexternalSecret:\n  secrets: {db: {data: {url: "
                            f"{{envName: DATABASE_URL, remoteRef: {{key: {app}/db-preview, property: url}}}}}}}}}}\n")
        loop_sync.git("add", "-A", cwd=work)
        loop_sync.git("commit", "-qm", "previews", cwd=work)
        loop_sync.git("push", "-q", cfg, "HEAD:main", cwd=work)
        secret = os.path.join(tmp, "secret")
        with open(secret, "wb") as f:
            f.write(SECRET)
        start = time.perf_counter()
        server = Server(["--config", cfg, "--manifests", man, "--config-repo", "acme/config",
                         "--github-secret-file", secret, "--cache", os.path.join(tmp, "cache"), "--resync", "1h"])
        server.wait(lambda l: '"status refreshed"' in l, 900)
        first = time.perf_counter() - start
        # What git alone takes for each event's transport, in the same run: fetching the config
        # commit a push event names, and pushing exactly the commits the server pushed.
        floor_cfg = os.path.join(tmp, "floor-config-fetch.git")
        loop_sync.clone_packed(cfg, floor_cfg)
        manifests, config = Replay(tmp, "manifests", man), Replay(tmp, "config", cfg)
        pushes, previews, images = [], [], []
        floors = {"sync": [], "preview": [], "bump": []}
        for r in range(RUNS):
            loop_sync.change(work, cfg, f"app{(r * 37) % n:05d}", r)
            start = time.perf_counter()
            loop_sync.fetch(floor_cfg, cfg)
            fetched = time.perf_counter() - start
            after = loop_sync.git("rev-parse", "HEAD", cwd=work).decode().strip()
            body = fixture("push/payload.json", {"/repository/full_name": "acme/config", "/ref": "refs/heads/main",
                                                 "/after": after, "/deleted": False})
            pushes.append(measure(server, man, "push", f"push-{r}", body))
            floors["sync"].append(fetched + manifests.push_last())
            app = f"app{(r * 53) % n:05d}"
            body = fixture("pull_request/opened.payload.json", {
                "/repository/full_name": f"acme/{app}", "/number": 1000 + r, "/pull_request/number": 1000 + r,
                "/pull_request/head/sha": f"{r:040d}"})
            previews.append(measure(server, man, "pull_request", f"pr-{r}", body))
            floors["preview"].append(manifests.push_last())
            body = fixture("package/published.docker.payload.json", {
                "/repository/full_name": f"acme/{app}", "/package/name": app,
                "/package/package_version/container_metadata/tag/name": f"7.{r}.0"})
            images.append(measure(server, man, "package", f"pkg-{r}", body))
            floors["bump"].append(config.push_last() + manifests.push_last())
            loop_sync.git("pull", "-q", "--ff-only", cfg, "main", cwd=work)
        status, metrics = server.get("/metrics")
        server.stop()
    print(f"N = {n} apps x 3 environments, {RUNS} events of each kind (start pass, first render: {first:.1f} s)")
    print("  request -> commit pushed to the manifest remote       p50       p90       p99       max"
          " | git alone: p50     p99 | p50/p50  p99/p99")
    for name, xs, fs, what in [("push to config -> sync", pushes, floors["sync"], "fetch the config commit, push the same manifest commit"),
                               ("pull request opened -> preview", previews, floors["preview"], "push the same manifest commit"),
                               ("image published -> bump + sync", images, floors["bump"], "push the same config commit, then manifest commit")]:
        print(f"  {name:<50} {quantile(xs, .5) * 1000:6.1f} ms {quantile(xs, .9) * 1000:6.1f} ms "
              f"{quantile(xs, .99) * 1000:6.1f} ms {max(xs) * 1000:6.1f} ms | {quantile(fs, .5) * 1000:6.1f} ms "
              f"{quantile(fs, .99) * 1000:6.1f} ms | {quantile(xs, .5) / quantile(fs, .5):.2f}x   "
              f"{quantile(xs, .99) / quantile(fs, .99):.2f}x   ({what})")
    print("  peers wait for their next poll instead: " + ", ".join(f"{p} every {s} s" for p, s in PEERS))
    if status != 200:
        sys.exit("/metrics did not answer")


if __name__ == "__main__":
    main()
