#!/usr/bin/env python3
"""Render the same deployments with `kubectl kustomize` and with glueops, in one run.

For each N, generates N apps x 3 environments twice:
  * a kustomize layout: base/<app>/ (Deployment, Service, configMapGenerator) and
    overlays/<env>/<app>/ (namespace, labels, images newTag, replicas, configMapGenerator merge),
    plus one root kustomization listing every overlay, built by ONE `kubectl kustomize` process;
  * the equivalent glueops config repo, rendered by `glueops render` into one stream
    (and, separately, into a tree of one file per object).
Prints the median wall times (kustomize: 3 runs up to N = 100, then 1; glueops: 21 runs) and
the ratio. Both layouts are synced to disk before anything is timed. Build first: cargo build --profile dist -p glueops-cli

usage: benches/kustomize_vs_glueops.py [N ...]        (default: 100 1000)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ENVS = ["dev", "staging", "production"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILE = os.environ.get("GLUEOPS_PROFILE", "dist")
GLUEOPS = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), PROFILE, "glueops")
RENDER = [GLUEOPS, "render"]


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def kustomize_layout(root, n):
    overlays = []
    for i in range(n):
        app = f"app{i:05d}"
        base = os.path.join(root, "base", app)
        write(os.path.join(base, "deployment.yaml"), f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {app}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app.kubernetes.io/name: {app}}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/name: {app}}}}}
    spec:
      containers:
        - name: {app}
          image: ghcr.io/acme/{app}:latest
          ports: [{{name: http, containerPort: 8080}}]
          envFrom: [{{configMapRef: {{name: {app}-settings}}}}]
""")
        write(os.path.join(base, "service.yaml"), f"""apiVersion: v1
kind: Service
metadata: {{name: {app}}}
spec:
  selector: {{app.kubernetes.io/name: {app}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
""")
        write(os.path.join(base, "kustomization.yaml"), f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [deployment.yaml, service.yaml]
configMapGenerator:
  - name: {app}-settings
    literals: [FEATURE_X=yes, TIMEOUT=30s]
""")
        for n_env, env in enumerate(ENVS):
            overlay = os.path.join(root, "overlays", env, app)
            write(os.path.join(overlay, "kustomization.yaml"), f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../../base/{app}]
namespace: {env}
nameSuffix: -{env}
labels:
  - pairs: {{app.kubernetes.io/instance: {app}-{env}, glueops.dev/environment: {env}}}
    includeSelectors: false
images:
  - {{name: ghcr.io/acme/{app}, newTag: "1.{i}.{n_env}"}}
replicas:
  - {{name: {app}, count: {n_env + 1}}}
configMapGenerator:
  - name: {app}-settings
    behavior: merge
    literals: [ENVIRONMENT={env}]
""")
            overlays.append(f"overlays/{env}/{app}")
    write(os.path.join(root, "kustomization.yaml"),
          "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
          + "".join(f"  - {o}\n" for o in overlays))


def glueops_layout(root, n):
    write(os.path.join(root, "glueops.yaml"), """apiVersion: glueops.dev/v1alpha1
kind: Platform
metadata: {name: bench}
spec:
  delivery: argocd
  manifestRepo: {url: "https://github.com/acme/manifests.git"}
  clusters: [{name: c, server: "https://c.example:6443", captainDomain: c.acme.example}]
  environments: [{name: dev, cluster: c}, {name: staging, cluster: c}, {name: production, cluster: c}]
""")
    for env in ENVS:
        write(os.path.join(root, "env-overlays", env, "env-values.yaml"),
              f"configMap: {{enabled: true, configs: {{settings: {{dataMap: {{ENVIRONMENT: {env}}}}}}}}}\n")
    for i in range(n):
        app = f"app{i:05d}"
        write(os.path.join(root, "apps", app, "base", "base-values.yaml"), f"""image: {{registry: ghcr.io, repository: acme/{app}, port: 8080}}
deployment: {{enabled: true}}
service: {{enabled: true}}
configMap: {{enabled: true, configs: {{settings: {{dataMap: {{FEATURE_X: "yes", TIMEOUT: 30s}}}}}}}}
""")
        for n_env, env in enumerate(ENVS):
            write(os.path.join(root, "apps", app, "envs", env, "values.yaml"),
                  f"image: {{tag: 1.{i}.{n_env}}}\ndeployment: {{replicas: {n_env + 1}}}\n")


def timed(cmd, stdout):
    start = time.perf_counter()
    with open(stdout, "w") as out:
        subprocess.run(cmd, stdout=out, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median_of(runs, cmd, stdout):
    ts = [timed(cmd, stdout) for _ in range(runs)]
    return statistics.median(ts)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [100, 1000]
    if not os.path.exists(GLUEOPS):
        sys.exit(f"build the binary first: cargo build --profile {PROFILE} -p glueops-cli ({GLUEOPS} missing)")
    kubectl = shutil.which("kubectl") or sys.exit("kubectl (with kustomize) is not installed")
    print(f"glueops: {GLUEOPS} (profile {PROFILE}, built {time.ctime(os.path.getmtime(GLUEOPS))})")
    print(f"{'N apps x 3':>10} {'kustomize':>10} {'glueops':>9} {'ratio':>7} {'glueops tree':>13}")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="glueops-bench-") as tmp:
            k, g = os.path.join(tmp, "kustomize"), os.path.join(tmp, "glueops")
            kustomize_layout(k, n)
            glueops_layout(g, n)
            # Flush the new files (and anything a build left dirty) so that writeback does not
            # land in either tool's timings.
            os.sync()
            t_k = median_of(3 if n <= 100 else 1, [kubectl, "kustomize", k], os.path.join(tmp, "kustomize.out"))
            t_g = median_of(21, RENDER + [g, "--stream", os.path.join(tmp, "glueops.yaml")], os.path.join(tmp, "log"))
            t_tree = timed(RENDER + [g, "--out", os.path.join(tmp, "tree")], os.path.join(tmp, "log"))
            print(f"{n:>10} {t_k:>9.2f}s {t_g * 1000:>7.1f}ms {t_k / t_g:>6.0f}x {t_tree:>12.2f}s")


if __name__ == "__main__":
    main()
