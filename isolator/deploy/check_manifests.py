"""Consistency checks of the Kubernetes manifests that no schema can make.

Run by check.sh (with the kubernetes-validate venv's python, which has PyYAML):
    python check_manifests.py isolator/deploy/kubernetes

- kustomization.yaml lists every *.yaml manifest of the directory, and only
  existing ones;
- the ConfigMap's isolator.toml parses as TOML (after the ${POD_IP}
  substitution the init container makes) and policy.toml parses too;
- the server's `listen` and `[metrics] listen` ports are the container ports
  the Services and the probes use; the probes ask the metrics port for
  /livez and /readyz;
- terminationGracePeriodSeconds = [cluster] drain_grace_secs + 60;
- the secret files the config names are where the Secrets are mounted, and
  the config's data_dir and policy file sit on mounted volumes;
- the HPA's target is below sessions.max and scales the StatefulSet, which
  sets no `replicas` of its own.

Every problem is printed as `file: problem`; the exit status is 1 if any.
"""

import sys
import tomllib
from pathlib import Path

import yaml

problems = []


def problem(file, text):
    problems.append(f"{file}: {text}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def find(docs, kind, name=None):
    for file, doc in docs:
        if doc.get("kind") == kind and (name is None or doc["metadata"]["name"] == name):
            return file, doc
    return None, None


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


def main(directory):
    root = Path(directory)
    manifests = sorted(p.name for p in root.glob("*.yaml") if p.name != "kustomization.yaml")
    kust = yaml.safe_load((root / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = kust.get("resources", [])
    for name in manifests:
        if name not in listed:
            problem("kustomization.yaml", f"does not list {name} under resources")
    for name in listed:
        if not (root / name).is_file():
            problem("kustomization.yaml", f"lists {name}, which does not exist")

    docs = [(name, d) for name in manifests for d in load_all(root / name)]

    cm_file, cm = find(docs, "ConfigMap", "isolator-config")
    sts_file, sts = find(docs, "StatefulSet", "isolator")
    if cm is None or sts is None:
        problem(directory, "needs the ConfigMap isolator-config and the StatefulSet isolator")
        return
    try:
        config = tomllib.loads(cm["data"]["isolator.toml"].replace("${POD_IP}", "10.0.0.1"))
    except (KeyError, tomllib.TOMLDecodeError) as e:
        problem(cm_file, f"data.isolator.toml is not valid TOML: {e}")
        return
    try:
        tomllib.loads(cm["data"]["policy.toml"])
    except (KeyError, tomllib.TOMLDecodeError) as e:
        problem(cm_file, f"data.policy.toml is not valid TOML: {e}")

    pod = sts["spec"]["template"]["spec"]
    containers = [c for c in pod["containers"] if c["name"] == "isolator"]
    if len(containers) != 1:
        problem(sts_file, "needs exactly one container named isolator")
        return
    c = containers[0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}

    listen = config.get("listen")
    metrics = config.get("metrics", {}).get("listen")
    if listen is None or port_of(listen) != ports.get("http"):
        problem(cm_file, f"listen = {listen!r} is not the container port `http` ({ports.get('http')}) of {sts_file}")
    if metrics is None or port_of(metrics) != ports.get("metrics"):
        problem(cm_file, f"[metrics] listen = {metrics!r} is not the container port `metrics` ({ports.get('metrics')}) of {sts_file}")
    for addr, key in ((listen, "listen"), (metrics, "[metrics] listen")):
        if addr is not None and not addr.startswith("0.0.0.0:"):
            problem(cm_file, f"{key} = {addr!r} must listen on 0.0.0.0 in a pod")

    for probe, path in (("startupProbe", "/livez"), ("livenessProbe", "/livez"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet")
        if get is None:
            problem(sts_file, f"container isolator has no {probe} with httpGet")
            continue
        port = get.get("port")
        if port not in ("metrics", ports.get("metrics")):
            problem(sts_file, f"{probe} asks port {port!r}, not the metrics port ({metrics})")
        if get.get("path") != path:
            problem(sts_file, f"{probe} asks {get.get('path')!r}, should ask {path}")

    cluster = config.get("cluster", {})
    drain = cluster.get("drain_grace_secs", 300)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace != drain + 60:
        problem(sts_file, f"terminationGracePeriodSeconds = {grace}, should be drain_grace_secs ({drain}) + 60")
    if "http://${POD_IP}:" not in cm["data"]["isolator.toml"]:
        problem(cm_file, "[cluster] advertise_url should name ${POD_IP}, the pod's own address")

    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}

    def mounted(path):
        """The volume holding `path`, the longest mount path that is its prefix."""
        best = None
        for mount in mounts:
            if path == mount or path.startswith(mount.rstrip("/") + "/"):
                if best is None or len(mount) > len(best):
                    best = mount
        return volumes.get(mounts[best]) if best else None

    store = config.get("audit", {}).get("object_store", {})
    for key, path, secret in (
        ("[cluster] database_url_file", cluster.get("database_url_file"), "isolator-database"),
        ("[audit.object_store] secret_access_key_file", store.get("secret_access_key_file"), "isolator-s3"),
    ):
        vol = mounted(path) if path else None
        if vol is None or vol.get("secret", {}).get("secretName") != secret:
            problem(cm_file, f"{key} = {path!r} is not in a mount of the Secret {secret}")
            continue
        _, sec = find(docs, "Secret", secret)
        filename = path.rsplit("/", 1)[1]
        if sec is not None and filename not in {**sec.get("stringData", {}), **sec.get("data", {})}:
            problem(cm_file, f"{key} names {filename}, which is not a key of the Secret {secret}")
    for key, path in (("data_dir", config.get("data_dir")), ("[policies] file", config.get("policies", {}).get("file"))):
        if path is None or mounted(path) is None:
            problem(cm_file, f"{key} = {path!r} is not on a volume of the container")
    if config.get("chromium", {}).get("cgroup", True):
        problem(cm_file, "[chromium] cgroup must be false in a pod (the pod's limits bound Chromium)")

    hpa_file, hpa = find(docs, "HorizontalPodAutoscaler")
    if hpa is not None:
        ref = hpa["spec"]["scaleTargetRef"]
        if (ref["kind"], ref["name"]) != ("StatefulSet", sts["metadata"]["name"]):
            problem(hpa_file, f"scales {ref['kind']}/{ref['name']}, not the StatefulSet")
        if "replicas" in sts["spec"]:
            problem(sts_file, "sets replicas although the HPA owns the count (every apply would reset it)")
        max_sessions = config.get("sessions", {}).get("max", 20)
        for m in hpa["spec"]["metrics"]:
            target = m.get("pods", {}).get("target", {}).get("averageValue")
            if target is not None and not 0 < float(target) < max_sessions:
                problem(hpa_file, f"averageValue {target} should be below sessions.max ({max_sessions})")


if __name__ == "__main__":
    main(sys.argv[1])
    for p in problems:
        print(f"deploy-check: {p}", file=sys.stderr)
    if problems:
        print(f"deploy-check: FAILED: {len(problems)} problem(s)", file=sys.stderr)
        sys.exit(1)
