#!/usr/bin/env python3
"""Offline checks of deploy/: the Kubernetes manifests hang together (every selector matches a
pod template, every mounted volume and referenced ConfigMap/Secret exists, StatefulSets name a
Service and keep their state on a volume claim), `kubectl kustomize` renders them when kubectl is
installed, as does deploy/k8s/regions (a shard per data-residency region: names suffixed, pods
pinned to the region, each agent on its own shard's dispatcher), and every Grafana panel queries
metrics the servers export.

    /usr/bin/python3 deploy/check.py [REPO_ROOT]    exits 1 naming every problem
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import yaml

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if len(sys.argv) <= 1:
    ROOT = ROOT.parent.parent  # the repository holding this script
K8S = ROOT / "deploy" / "k8s"
problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def load_kustomization(directory):
    """The objects of `directory`'s kustomization, following directories it lists (no renames:
    the base has none)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects = []
    for name in kustomization["resources"]:
        path = directory / name
        if path.is_dir():
            objects += load_kustomization(path)
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                objects.append((str(path.relative_to(K8S)), doc))
    return objects


def load_k8s():
    return load_kustomization(K8S)


def check_k8s(objects):
    known = {("v1", "Namespace"), ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"),
             ("apps/v1", "StatefulSet"), ("apps/v1", "Deployment")}
    by_kind = {}
    for file, o in objects:
        where = f"{file} {o.get('kind')}/{o.get('metadata', {}).get('name')}"
        if (o.get("apiVersion"), o.get("kind")) not in known:
            problem(where, f"unexpected apiVersion/kind {o.get('apiVersion')}/{o.get('kind')}")
        if not o.get("metadata", {}).get("name"):
            problem(where, "metadata.name is missing")
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = (file, o)

    workloads = {**by_kind.get("StatefulSet", {}), **by_kind.get("Deployment", {})}
    for name, (file, o) in workloads.items():
        where = f"{file} {o['kind']}/{name}"
        spec = o["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        for k, v in spec["selector"]["matchLabels"].items():
            if labels.get(k) != v:
                problem(where, f"selector {k}={v} does not match the pod template's labels")
        pod = spec["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
        if o["kind"] == "StatefulSet":
            if spec.get("serviceName") not in by_kind.get("Service", {}):
                problem(where, f"serviceName {spec.get('serviceName')} is not a Service here")
            if not claims:
                problem(where, "a StatefulSet here keeps RocksDB state: it needs a volume claim")
        for v in volumes.values():
            if "configMap" in v and v["configMap"]["name"] not in by_kind.get("ConfigMap", {}):
                problem(where, f"volume {v['name']}: no ConfigMap {v['configMap']['name']}")
            if "secret" in v and v["secret"]["secretName"] not in by_kind.get("Secret", {}):
                problem(where, f"volume {v['name']}: no Secret {v['secret']['secretName']}")
        for c in pod["containers"]:
            cw = f"{where} container {c['name']}"
            if not c.get("image"):
                problem(cw, "no image")
            if "resources" not in c or "requests" not in c["resources"]:
                problem(cw, "no resource requests")
            for m in c.get("volumeMounts", []):
                if m["name"] not in volumes and m["name"] not in claims:
                    problem(cw, f"mounts {m['name']}, which is neither a volume nor a claim")
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                port = c.get(probe, {}).get("grpc", {}).get("port")
                if port is not None and port not in {p["containerPort"] for p in c["ports"]}:
                    problem(cw, f"{probe} checks port {port}, which the container does not open")
            c["_ports"] = ports

    for name, (file, svc) in by_kind.get("Service", {}).items():
        where = f"{file} Service/{name}"
        selector = svc["spec"].get("selector", {})
        targets = [w for w in workloads.values()
                   if all(w[1]["spec"]["template"]["metadata"]["labels"].get(k) == v
                          for k, v in selector.items())]
        if not targets:
            problem(where, f"selector {selector} matches no pod template")
            continue
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort")
            if isinstance(tp, str) and not any(
                    tp in c.get("_ports", set())
                    for _, w in targets for c in w["spec"]["template"]["spec"]["containers"]):
                problem(where, f"targetPort {tp} is not a named port of the selected pods")


def render(directory):
    """`kubectl kustomize directory` as objects, or None (and a problem) when it fails."""
    out = subprocess.run([shutil.which("kubectl"), "kustomize", str(directory)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        problem(f"kubectl kustomize {directory.relative_to(ROOT)}", out.stderr.strip())
        return None
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def check_kustomize(objects):
    if shutil.which("kubectl") is None:
        return
    rendered = render(K8S)
    if rendered is None:
        return
    if len(rendered) != len(objects):
        problem("kubectl kustomize", f"rendered {len(rendered)} objects, expected {len(objects)}")
    for d in rendered:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "microwork":
            problem("kubectl kustomize", f"{d['kind']}/{d['metadata']['name']} not in microwork")


def check_regions(objects):
    """deploy/k8s/regions: a whole shard per region, its names suffixed, every reference kept
    inside the shard, its pods pinned to the region, its agent talking to its own dispatcher."""
    if shutil.which("kubectl") is None:
        return
    regions = K8S / "regions"
    rendered = render(regions)
    if rendered is None:
        return
    listed = yaml.safe_load((regions / "kustomization.yaml").read_text())["resources"]
    shards = [r for r in listed if (regions / r).is_dir() and not r.startswith("..")]
    shard_objects = len(objects) - 1  # the base without its namespace
    if len(rendered) != 1 + shard_objects * len(shards):
        problem("regions", f"rendered {len(rendered)} objects for {len(shards)} shards of "
                           f"{shard_objects}")
    # The rendered objects pass the same checks as the base: references resolve after renaming.
    check_k8s([(f"regions {d.get('metadata', {}).get('labels', {}).get('microwork.org/shard')}",
                d) for d in rendered])
    for shard in shards:
        mine = [d for d in rendered
                if d.get("metadata", {}).get("labels", {}).get("microwork.org/shard") == shard]
        if len(mine) != shard_objects:
            problem(f"regions/{shard}", f"{len(mine)} objects carry its label, expected "
                                        f"{shard_objects}")
        for d in mine:
            where = f"regions/{shard} {d['kind']}/{d['metadata']['name']}"
            if not d["metadata"]["name"].endswith(f"-{shard}"):
                problem(where, f"name without the shard's suffix -{shard}")
            if d["kind"] == "StatefulSet":
                terms = (d["spec"]["template"]["spec"].get("affinity", {}).get("nodeAffinity", {})
                         .get("requiredDuringSchedulingIgnoredDuringExecution", {})
                         .get("nodeSelectorTerms", []))
                keys = [e["key"] for t in terms for e in t.get("matchExpressions", [])]
                if "topology.kubernetes.io/region" not in keys:
                    problem(where, "not pinned to its region (topology.kubernetes.io/region)")
            if d["kind"] == "ConfigMap" and "agent.toml" in d.get("data", {}):
                want = f'dispatcher = "mw-dispatcher-{shard}.microwork.svc:7070"'
                if want not in d["data"]["agent.toml"]:
                    problem(where, f"the agent does not talk to its shard's dispatcher ({want})")


def check_images(objects):
    """Every workload runs the image deploy/Containerfile builds from the package at the
    project's version, with one of the package's binaries as its command."""
    version = re.search(r"project\(microwork VERSION ([0-9.]+)",
                        (ROOT / "CMakeLists.txt").read_text()).group(1)
    containerfile = (ROOT / "deploy" / "Containerfile").read_text()
    if f"ARG VERSION={version}" not in containerfile or \
            "microwork_${VERSION}_amd64.deb" not in containerfile:
        problem("deploy/Containerfile", f"does not install the package microwork_{version}")
    installed = set(re.findall(r"TARGETS ([\w -]+) RUNTIME",
                               (ROOT / "cmake" / "Packaging.cmake").read_text())[0].split())
    for file, o in objects:
        if o.get("kind") not in ("StatefulSet", "Deployment"):
            continue
        for c in o["spec"]["template"]["spec"]["containers"]:
            where = f"{file} {o['kind']}/{o['metadata']['name']} container {c['name']}"
            if c.get("image") != f"ghcr.io/microwork/microwork:{version}":
                problem(where, f"image {c.get('image')} is not the one deploy/Containerfile "
                               f"builds (ghcr.io/microwork/microwork:{version})")
            command = c.get("command", [""])[0]
            if not command.startswith("/usr/bin/") or command[len("/usr/bin/"):] not in installed:
                problem(where, f"command {command} is not a binary the package installs")


def check_dashboard():
    exported = set()
    for src in ("dispatcher/metrics.cc", "worker-agent/metrics.cc"):
        exported |= set(re.findall(r'"(mw_[a-z_]+)"', (ROOT / src).read_text()))
    dashboard = json.loads((ROOT / "deploy/grafana/microwork-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"\b(mw_[a-z_]+)", target["expr"]):
                if name not in exported:
                    problem(f"dashboard panel {panel['title']!r}", f"{name} is not exported")
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in re.findall(r"\b(mw_[a-z_]+)", rule["expr"]):
                if name not in exported:
                    problem(f"alert {rule['alert']}", f"{name} is not exported")


def main():
    objects = load_k8s()
    check_k8s(objects)
    check_kustomize(objects)
    check_regions(objects)
    check_images(objects)
    check_dashboard()
    if problems:
        for p in problems:
            print(p)
        return 1
    print(f"deploy/ OK: {len(objects)} Kubernetes objects, dashboard and alerts use exported metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
