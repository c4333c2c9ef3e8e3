#!/usr/bin/env python3
"""One poll cycle of registry watching: N images (default 200) on 3 real registries (Debian's
docker-registry on 127.0.0.1: two anonymous, one with htpasswd auth), 30 tags each, followed by
N apps x 3 environments with `imagePolicy: {semver: ">=1.0.0 <2.0.0"}`:

  1. `glueops images --config DIR` (load the config, one tag list per image, decide 3N
     deployments), against the floor measured in the same run: the same N tag lists fetched by
     curl, one process per registry reusing its connection, and `glueops validate DIR` (the
     config load alone);
  2. the registry requests of one cycle, as glueops reports them, for the semver policy (no
     manifest read) and for `{newest: true}` (every tag's manifest and config, once).

Medians of GLUEOPS_BENCH_RUNS runs (default 7). Build first: cargo build --profile dist -p glueops-cli
The registry binary: .venv/docker-registry (installed by the registry tests, or here with
apt-get download + dpkg-deb).

usage: benches/registry_poll.py [N]
"""
import base64
import hashlib
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILE = os.environ.get("GLUEOPS_PROFILE", "dist")
GLUEOPS = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), PROFILE, "glueops")
RUNS = int(os.environ.get("GLUEOPS_BENCH_RUNS", "7"))
TAGS = 30
USER, PASSWORD = "glueops", "registry-test-password"
REGISTRY = os.path.join(ROOT, ".venv/docker-registry/usr/bin/docker-registry")


def install_registry():
    if os.path.exists(REGISTRY):
        return
    venv = os.path.join(ROOT, ".venv/docker-registry")
    debs = os.path.join(venv, "debs")
    os.makedirs(debs, exist_ok=True)
    subprocess.run(["apt-get", "download", "-qq", "docker-registry"], cwd=debs, check=True)
    deb = [f for f in os.listdir(debs) if f.endswith(".deb")][0]
    subprocess.run(["dpkg-deb", "-x", os.path.join(debs, deb), venv], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_registry(tmp, name, htpasswd):
    port = free_port()
    data = os.path.join(tmp, name)
    os.makedirs(data)
    auth = ""
    if htpasswd:
        path = os.path.join(tmp, f"{name}.htpasswd")
        with open(os.path.join(ROOT, "crates/glueops-testkit/fixtures/registry.htpasswd")) as f, open(path, "w") as out:
            out.write(f.read())
        auth = f"auth: {{htpasswd: {{realm: bench, path: {path}}}}}\n"
    config = os.path.join(tmp, f"{name}.yml")
    with open(config, "w") as f:
        f.write(f"version: 0.1\nlog: {{level: error, accesslog: {{disabled: true}}}}\n"
                f"storage: {{filesystem: {{rootdirectory: {data}}}}}\nhttp: {{addr: 127.0.0.1:{port}}}\n{auth}")
    proc = subprocess.Popen([REGISTRY, "serve", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, f"127.0.0.1:{port}", htpasswd


def push(host, auth, repo, tags):
    conn = http.client.HTTPConnection(host)
    headers = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()} if auth else {}

    def call(method, path, body=b"", extra=None):
        conn.request(method, path, body=body, headers={**headers, **(extra or {})})
        r = conn.getresponse()
        data = r.read()
        if r.status >= 300:
            sys.exit(f"{method} {path}: {r.status} {data[:200]}")
        return r

    def blob(data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        loc = call("POST", f"/v2/{repo}/blobs/uploads/").getheader("Location")
        loc = re.sub(r"^https?://[^/]+", "", loc)
        call("PUT", f"{loc}&digest={digest}", data, {"Content-Type": "application/octet-stream"})
        return digest, len(data)

    layer = blob(f"layer {repo}".encode())
    config = json.dumps({"created": "2026-12-01T00:00:00Z", "architecture": "amd64", "os": "linux",
                         "config": {}, "rootfs": {"type": "layers", "diff_ids": [layer[0]]}}).encode()
    cfg = blob(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg[0], "size": cfg[1]},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer[0], "size": layer[1]}]}).encode()
    for tag in tags:
        call("PUT", f"/v2/{repo}/manifests/{tag}", manifest, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    conn.close()


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def config_repo(root, images, policy):
    write(os.path.join(root, "glueops.yaml"), """apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: bench}
spec:
  delivery: argocd
  manifestRepo: {url: "https://github.com/acme/manifests.git"}
  secretStore: {name: vault-backend, kind: ClusterSecretStore}
  clusters:
    - {name: nonprod, server: "https://nonprod.example:6443", captainDomain: nonprod.acme.example}
    - {name: prod, server: "https://prod.example:6443", captainDomain: prod.acme.example}
  environments:
    - {name: dev, cluster: nonprod, promotion: {auto: true}}
    - {name: staging, cluster: nonprod, promotion: {auto: true}}
    - {name: production, cluster: prod, promotion: {from: staging}}
""")
    for i, (host, repo) in enumerate(images):
        app = f"app{i:03d}"
        write(os.path.join(root, f"apps/{app}/base/base-values.yaml"),
              f"image: {{registry: \"{host}\", repository: {repo}, port: 8080}}\nimagePolicy: {policy}\n"
              "deployment: {enabled: true}\nservice: {enabled: true}\n")
        for env in ["dev", "staging", "production"]:
            write(os.path.join(root, f"apps/{app}/envs/{env}/values.yaml"), "image: {tag: 1.0.0}\n")


def run(args):
    out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)}: {out.stderr.decode()}{out.stdout.decode()[:500]}")
    return out.stdout.decode()


def timed(args):
    start = time.perf_counter()
    out = run(args)
    return time.perf_counter() - start, out


def requests_of(out):
    m = re.search(r"(\d+) image\(s\) read in (\d+) registry request\(s\)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    install_registry()
    with tempfile.TemporaryDirectory() as tmp:
        registries = [start_registry(tmp, f"r{i}", htpasswd=(i == 2)) for i in range(3)]
        try:
            images = []
            started = time.perf_counter()
            for i in range(n):
                _, host, auth = registries[i % 3]
                repo = f"acme/app{i:03d}"
                push(host, auth, repo, [f"1.{k // 10}.{k % 10}" for k in range(TAGS - 2)] + ["2.0.0", "latest"])
                images.append((host, repo))
            print(f"pushed {n} images x {TAGS} tags in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            auth_file = os.path.join(tmp, "docker-config.json")
            with open(auth_file, "w") as f:
                json.dump({"auths": {registries[2][1]: {"auth": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}}}, f)
            config = os.path.join(tmp, "config")
            config_repo(config, images, '{semver: ">=1.0.0 <2.0.0"}')
            poll = [GLUEOPS, "images", "--config", config, "--registry-auth-file", auth_file, "--cache", os.path.join(tmp, "cache")]
            validate = [GLUEOPS, "validate", config]
            curls, parallel = [], []
            for proc, host, auth in registries:
                urls = [f"http://{h}/v2/{r}/tags/list?n=1000" for h, r in images if h == host]
                user = ["-u", f"{USER}:{PASSWORD}"] if auth else []
                curls.append(["curl", "-sf"] + user + [a for u in urls for a in ("-o", "/dev/null", u)])
                parallel.append(["curl", "-sf", "-Z", "--parallel-max", "8"] + user + [a for u in urls for a in ("-o", "/dev/null", u)])
            timed(poll)  # warm the page cache
            polls, loads, floors, wide = [], [], [], []
            for _ in range(RUNS):
                t, out = timed(poll)
                polls.append(t)
                loads.append(timed(validate)[0])
                floors.append(sum(timed(c)[0] for c in curls))
                wide.append(sum(timed(c)[0] for c in parallel))
            counted, requests = requests_of(out)
            p, l = statistics.median(polls), statistics.median(loads)
            f, w = statistics.median(floors), statistics.median(wide)
            print(f"| `glueops images` ({n} images, {3 * n} deployments) | {p * 1000:.1f} ms |")
            print(f"| floor: curl, the {n} tag lists one after another (a process per registry) | {f * 1000:.1f} ms |")
            print(f"| floor: curl -Z --parallel-max 8, the same | {w * 1000:.1f} ms |")
            print(f"| floor: `glueops validate` (the config load) | {l * 1000:.1f} ms |")
            print(f"| ratio to parallel curl + load | {p / (w + l):.2f}x |")
            print(f"| ratio to sequential curl + load | {p / (f + l):.2f}x |")
            print(f"| requests in one cycle, semver | {requests} for {counted} images |")
            config_repo(config, images, "{newest: true}")
            _, out = timed(poll)
            counted, requests = requests_of(out)
            print(f"| requests in one cycle, newest (first poll) | {requests} for {counted} images |")
        finally:
            for proc, _, _ in registries:
                proc.kill()
                proc.wait()


if __name__ == "__main__":
    main()
