#!/usr/bin/env python3
"""Offline checks of deploy/: the Kubernetes manifests hang together (every selector matches a
pod template, every mounted volume and referenced ConfigMap/Secret exists, StatefulSets name a
Service and keep their state on a volume claim), `kubectl kustomize` renders them when kubectl is
installed, and every Grafana panel queries metrics the servers export.

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


def load_k8s():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    objects = []
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                objects.append((name, doc))
    return objects


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


def check_kustomize(objects):
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return
    out = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True)
    if out.returncode != 0:
        problem("kubectl kustomize", out.stderr.strip())
        return
    rendered = [d for d in yaml.safe_load_all(out.stdout) if d]
    if len(rendered) != len(objects):
        problem("kubectl kustomize", f"rendered {len(rendered)} objects, expected {len(objects)}")
    for d in rendered:
        if d["kind"] != "Namespace" and d["metadata"].get("namespace") != "microwork":
            problem("kubectl kustomize", f"{d['kind']}/{d['metadata']['name']} not in microwork")


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
    check_dashboard()
    if problems:
        for p in problems:
            print(p)
        return 1
    print(f"deploy/ OK: {len(objects)} Kubernetes objects, dashboard and alerts use exported metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
