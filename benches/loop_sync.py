#!/usr/bin/env python3
"""The platform loop's speed, whole processes against local bare remotes, in one run:

  1. sync after a one-app change in an N-apps x 3-env config repo (default N = 1000):
     `glueops sync` vs the peer way of doing it, `glueops render` into a manifest work tree
     + `git add -A && git commit && git push`, for the same change;
  2. bump + sync (`glueops bump --manifests`): the config edit, its commit and push, and the sync;
  and the transport floor: the same fetches and push with the `git` CLI alone (fetch the config
     commit, fetch the manifest branch, push one commit changing one file);
  3. the first sync of M apps x 3 (default M = 10000; GLUEOPS_BENCH_FIRST=0 skips it) against
     the floor of writing the same blobs and trees with git's own plumbing
     (`git hash-object -w --stdin-paths`, `git mktree --batch` bottom-up, `git commit-tree`).

Medians of GLUEOPS_BENCH_RUNS runs (default 7). Build first: cargo build --profile dist -p glueops-cli

usage: benches/loop_sync.py [N [M]]
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILE = os.environ.get("GLUEOPS_PROFILE", "dist")
GLUEOPS = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), PROFILE, "glueops")
RUNS = int(os.environ.get("GLUEOPS_BENCH_RUNS", "7"))
ENVS = ["dev", "staging", "production"]
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@glueops.dev", "-c", "init.defaultBranch=main"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def config_repo(root, n):
    """The generated repo of glueops-testkit (`generated::repo_files`), written by Python."""
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
    - {name: staging, cluster: nonprod, promotion: {from: dev}}
    - {name: production, cluster: prod, promotion: {from: staging, approval: {required: 1, approvers: [alice]}}}
  previews: {enabled: true, cluster: nonprod}
""")
    write(os.path.join(root, "common/common-values.yaml"),
          "image: {registry: ghcr.io}\ndeployment:\n  resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 250m, memory: 256Mi}}\n")
    for env in ENVS:
        write(os.path.join(root, f"env-overlays/{env}/env-values.yaml"),
              f"deployment:\n  envVariables: [{{name: ENVIRONMENT, value: {env}}}]\n")
    for i in range(n):
        app = f"app{i:05d}"
        write(os.path.join(root, f"apps/{app}/base/base-values.yaml"), f"""source: {{provider: github, repo: acme/{app}, branch: main}}
image: {{repository: acme/{app}, port: 8080}}
deployment:
  enabled: true
  readinessProbe: {{httpGet: {{path: /ready, port: http}}}}
service: {{enabled: true}}
configMap:
  enabled: true
  configs:
    settings: {{dataMap: {{FEATURE_X: "yes", TIMEOUT: "30s"}}}}
externalSecret:
  enabled: true
  secrets: {{db: {{data: {{url: {{envName: DATABASE_URL, remoteRef: {{key: {app}/db, property: url}}}}}}}}}}
""")
        for k, env in enumerate(ENVS):
            write(os.path.join(root, f"apps/{app}/envs/{env}/values.yaml"),
                  f"image: {{tag: 1.{i}.{k}}}\ndeployment: {{replicas: {k + 1}}}\ningress:\n  enabled: true\n"
                  f"  entries: [{{name: public, hosts: [{{hostname: \"{{{{ .Values.glueops_app_name }}}}.{{{{ .Values.captain_domain }}}}\"}}]}}]\n")


def run(args, cwd=None, stdin=None):
    out = subprocess.run(args, cwd=cwd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if out.returncode != 0:
        sys.exit(f"{' '.join(args)}: {out.stderr.decode()}")
    return out.stdout


def timed(args, cwd=None):
    start = time.perf_counter()
    run(args, cwd=cwd)
    return time.perf_counter() - start


def git(*args, cwd=None, stdin=None):
    return run(GIT + list(args), cwd=cwd, stdin=stdin)


def clone_packed(src, dst):
    """A bare clone whose objects are in a pack, as a hosting server keeps a repository (a
    plain local clone hard-links loose objects: thousands of them make every connectivity
    check of a fetch or push read loose files, 150 ms at 1,000 apps, a state no hosted remote
    stays in)."""
    git("clone", "-q", "--bare", "--no-local", src, dst)


def setup(tmp, n):
    work = os.path.join(tmp, "config")
    config_repo(work, n)
    git("init", "-q", work)
    git("add", "-A", cwd=work)
    git("commit", "-qm", "config", cwd=work)
    cfg = os.path.join(tmp, "config.git")
    clone_packed(work, cfg)
    man = os.path.join(tmp, "manifests.git")
    git("init", "-q", "--bare", man)
    return work, cfg, man


def change(work, cfg, app, run_no):
    path = os.path.join(work, f"apps/{app}/envs/staging/values.yaml")
    with open(path) as f:
        lines = f.read().split("\n")
    lines[1] = f"deployment: {{replicas: {run_no + 3}}}"
    with open(path, "w") as f:
        f.write("\n".join(lines))
    git("commit", "-qam", f"change {run_no}", cwd=work)
    git("push", "-q", cfg, "HEAD:main", cwd=work)


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def loop(n):
    with tempfile.TemporaryDirectory() as tmp:
        work, cfg, man = setup(tmp, n)
        cache = os.path.join(tmp, "cache")
        sync = [GLUEOPS, "sync", "--config", cfg, "--manifests", man, "--cache", cache]
        first = timed(sync)
        # The peer: a manifest work tree rendered into and committed with git add -A.
        peer_remote = os.path.join(tmp, "peer.git")
        git("init", "-q", "--bare", peer_remote)
        peer = os.path.join(tmp, "peer")
        git("clone", "-q", peer_remote, peer)
        run([GLUEOPS, "render", work, "--out", peer])
        git("add", "-A", cwd=peer)
        git("commit", "-qm", "first", cwd=peer)
        git("push", "-q", "origin", "HEAD:main", cwd=peer)
        floor_cfg = os.path.join(tmp, "floor-config.git")
        clone_packed(cfg, floor_cfg)
        floor_remote = os.path.join(tmp, "floor-manifests.git")
        clone_packed(man, floor_remote)
        floor_clone = os.path.join(tmp, "floor-clone.git")
        clone_packed(floor_remote, floor_clone)
        config_remote = os.path.join(tmp, "floor-config-remote.git")
        clone_packed(cfg, config_remote)
        config_clone = os.path.join(tmp, "floor-config-clone.git")
        clone_packed(config_remote, config_clone)
        ours, theirs, bumps, floors, bump_floors = [], [], [], [], []
        for r in range(RUNS):
            change(work, cfg, f"app{(r * 37) % n:05d}", r)
            floors.append(transport_floor(cfg, floor_cfg, floor_remote, floor_clone, r))
            # A bump is one more round trip on the config repo before the sync's.
            bump_floors.append(floors[-1] + transport_floor(cfg, floor_cfg, config_remote, config_clone, r, fetch_config=False))
            ours.append(timed(sync))
            start = time.perf_counter()
            run([GLUEOPS, "render", work, "--out", peer])
            git("add", "-A", cwd=peer)
            git("commit", "-qm", f"change {r}", cwd=peer)
            git("push", "-q", "origin", "HEAD:main", cwd=peer)
            theirs.append(time.perf_counter() - start)
            # bump + sync, pulling the bump back into the work tree afterwards (not timed).
            bumps.append(timed([GLUEOPS, "bump", "--config", cfg, "--app", f"app{(r * 53) % n:05d}",
                                "--env", "staging", "--tag", f"9.{r}.0", "--manifests", man, "--cache", cache]))
            git("pull", "-q", "--ff-only", cfg, "main", cwd=work)
        a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(bumps)
        f = statistics.median(floors)
        print(f"N = {n} apps x 3 environments, {RUNS} runs each (first sync {ms(first)})")
        print(f"  sync after a one-app change : {ms(a)}")
        print(f"  git transport floor         : {ms(f)}  (sync = floor + {ms(a - f)}, {a / f:.2f}x)")
        print(f"  render + git add/commit/push: {ms(b)}  ({b / a:.1f}x slower)")
        g = statistics.median(bump_floors)
        print(f"  bump + sync                 : {ms(c)}")
        print(f"  its git transport floor     : {ms(g)}  (bump + sync = {c / g:.2f}x)")


FETCH = ["-c", "fetch.writeCommitGraph=false", "-c", "maintenance.auto=false", "fetch", "--quiet", "--no-tags",
         "--no-write-fetch-head"]


def prepare_commit(clone, r):
    """A commit changing one file on `main` of the bare `clone`, made beforehand (not timed)."""
    env = dict(os.environ, GIT_INDEX_FILE=os.path.join(clone, "bench-index"), GIT_DIR=clone)
    subprocess.run(["git", "read-tree", "main"], env=env, check=True)
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], input=f"run {r}\n".encode(), env=env,
                          stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    subprocess.run(["git", "update-index", "--add", "--cacheinfo", f"100644,{blob},clusters/bench/run.yaml"], env=env, check=True)
    tree = subprocess.run(["git", "write-tree"], env=env, stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    commit = subprocess.run(GIT + ["commit-tree", tree, "-p", "main", "-m", f"run {r}"], env=env,
                            stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    subprocess.run(["git", "update-ref", "refs/heads/main", commit], env=env, check=True)
    return commit


def fetch(repo, remote):
    run(["git", "-C", repo] + FETCH + [remote, "+refs/heads/main:refs/glueops/remotes/main"])


def push(clone, remote, commit):
    run(["git", "-C", clone, "push", "--quiet", remote, f"{commit}:refs/heads/main"])


def transport_floor(cfg, floor_cfg, floor_remote, floor_clone, r, fetch_config=True):
    """What any sync must do with git: fetch the new config commit, fetch the manifest branch,
    push one commit changing one file. The commit is made beforehand (not timed)."""
    commit = prepare_commit(floor_clone, r)
    start = time.perf_counter()
    if fetch_config:
        fetch(floor_cfg, cfg)
    fetch(floor_clone, floor_remote)
    push(floor_clone, floor_remote, commit)
    return time.perf_counter() - start


def plumbing_floor(tree_dir):
    """Blobs with `git hash-object -w --stdin-paths`, trees with `git mktree --batch` (one
    process, bottom-up), one commit."""
    repo = tempfile.mkdtemp()
    git("init", "-q", "--bare", repo)
    env = dict(os.environ, GIT_DIR=repo)
    start = time.perf_counter()
    files = []
    for folder, _, names in os.walk(tree_dir):
        files.extend(os.path.join(folder, name) for name in names)
    files.sort()
    ids = subprocess.run(["git", "hash-object", "-w", "--stdin-paths"], input="\n".join(files).encode(),
                         stdout=subprocess.PIPE, env=env, check=True).stdout.decode().split()
    blobs = dict(zip(files, ids))
    trees = {}
    mktree = subprocess.Popen(["git", "mktree", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    for folder, dirs, names in sorted(os.walk(tree_dir), key=lambda w: -w[0].count(os.sep)):
        entries = [f"100644 blob {blobs[os.path.join(folder, n)]}\t{n}" for n in names]
        entries += [f"040000 tree {trees[os.path.join(folder, d)]}\t{d}" for d in dirs]
        mktree.stdin.write(("\n".join(entries) + "\n\n").encode())
        mktree.stdin.flush()
        trees[folder] = mktree.stdout.readline().decode().strip()
    mktree.stdin.close()
    mktree.wait()
    subprocess.run(GIT + ["commit-tree", trees[tree_dir], "-m", "floor"], stdout=subprocess.PIPE, env=env, check=True)
    took = time.perf_counter() - start
    shutil.rmtree(repo)
    return took, len(files)


def first_sync(m):
    with tempfile.TemporaryDirectory() as tmp:
        work, cfg, man = setup(tmp, m)
        rendered = os.path.join(tmp, "rendered")
        run([GLUEOPS, "render", work, "--out", rendered])
        floor, count = plumbing_floor(os.path.join(rendered, "clusters"))
        cache = os.path.join(tmp, "cache")
        ours = timed([GLUEOPS, "sync", "--config", cfg, "--manifests", man, "--cache", cache])
        print(f"M = {m} apps x 3 environments: first sync of {count} files")
        print(f"  glueops sync (load, render, commit, push): {ms(ours)}")
        print(f"  git plumbing floor (blobs and trees only): {ms(floor)}  (sync = {ours / floor:.2f}x the floor)")


def main():
    if not os.path.exists(GLUEOPS):
        sys.exit(f"{GLUEOPS} is missing: cargo build --profile {PROFILE} -p glueops-cli")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    loop(n)
    if os.environ.get("GLUEOPS_BENCH_FIRST", "1") != "0":
        first_sync(m)


if __name__ == "__main__":
    main()
