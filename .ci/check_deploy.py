"""What the deployment files promise, checked on their rendered form (offline).

    python3 .ci/check_deploy.py sqlite.yaml postgres.yaml monitored.yaml deploy/

The JSON-schema validation is kubernetes-validate's (run by .ci/run); this checks what a
schema cannot: the probes, the read-only root file system, secrets from the Secret, one
SQLite replica with Recreate, several PostgreSQL replicas with RollingUpdate and a
PodDisruptionBudget that selects them, a ServiceMonitor that finds the Service, and the
compose files' shape (no Docker engine here to run `docker compose config`).
"""

import sys

import yaml


def docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(objects, kind):
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def matches(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def check_common(objects, name):
    dep = one(objects, "Deployment")
    svc = one(objects, "Service")
    pod = dep["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    probes = {p: c[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe", "startupProbe")}
    assert probes == {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}, f"{name}: probes {probes}"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True, f"{name}: root file system is writable"
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    res = c["resources"]
    assert res["requests"]["memory"] and res["limits"]["memory"], f"{name}: memory request and limit"
    env = {e["name"]: e for e in c["env"]}
    for var, key in (("LOCKWATCH_APP_ID", "app-id"), ("LOCKWATCH_WEBHOOK_SECRET", "webhook-secret")):
        ref = env[var]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "lockwatch", "key": key}, f"{name}: {var} from {ref}"
    for e in c["env"]:
        assert "value" not in e or "SECRET" not in e["name"], f"{name}: {e['name']} is a literal"
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["private-key"]["secret"]["secretName"] == "lockwatch"
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/var/lib/lockwatch", "/tmp", "/etc/lockwatch"} <= mounts, f"{name}: mounts {mounts}"
    assert matches(svc["spec"]["selector"], pod["metadata"]["labels"]), f"{name}: the Service selects no pod"
    assert matches(dep["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
    return dep, c, env, volumes


def check_sqlite(objects):
    dep, _, env, volumes = check_common(objects, "sqlite")
    assert dep["spec"]["replicas"] == 1, "sqlite: one replica"
    assert dep["spec"]["strategy"]["type"] == "Recreate", "sqlite: never two processes on one file"
    pvc = one(objects, "PersistentVolumeClaim")
    assert volumes["data"] == {"name": "data", "persistentVolumeClaim": {"claimName": pvc["metadata"]["name"]}}
    assert "LOCKWATCH_DATABASE_URL" not in env


def check_postgres(objects):
    dep, _, env, volumes = check_common(objects, "postgres")
    assert dep["spec"]["replicas"] >= 2, "postgres: several replicas"
    assert dep["spec"]["strategy"]["type"] == "RollingUpdate"
    assert env["LOCKWATCH_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "lockwatch", "key": "database-url"}
    assert "emptyDir" in volumes["data"], "postgres: caches per pod"
    pdb = one(objects, "PodDisruptionBudget")
    assert matches(pdb["spec"]["selector"]["matchLabels"], dep["spec"]["template"]["metadata"]["labels"]), "the PodDisruptionBudget selects no pod"
    assert not [o for o in objects if o["kind"] == "PersistentVolumeClaim"]


def check_monitored(objects):
    check_postgres(objects)
    svc = one(objects, "Service")
    sm = one(objects, "ServiceMonitor")
    assert matches(sm["spec"]["selector"]["matchLabels"], svc["metadata"]["labels"]), "the ServiceMonitor finds no Service"
    ports = {p["name"] for p in svc["spec"]["ports"]}
    for ep in sm["spec"]["endpoints"]:
        assert ep["port"] in ports and ep["path"] == "/metrics", ep


def check_compose(deploy_dir):
    single = docs(f"{deploy_dir}/compose.yaml")[0]
    assert set(single["services"]) == {"lockwatch"}
    replicas = docs(f"{deploy_dir}/compose.replicas.yaml")[0]
    s = replicas["services"]
    assert s["lockwatch"]["deploy"]["replicas"] == 2
    assert s["lockwatch"]["environment"]["LOCKWATCH_DATABASE_URL"].startswith("postgres://")
    assert s["lockwatch"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "ports" not in s["lockwatch"], "replicas must not share a host port"
    assert s["webhooks"]["ports"] == ["8080:8080"]
    conf = s["webhooks"]["volumes"][0].split(":")[0]
    with open(f"{deploy_dir}/{conf}", encoding="utf-8") as f:
        assert "server lockwatch:8080 resolve;" in f.read()


def main():
    sqlite, postgres, monitored, deploy_dir = sys.argv[1:5]
    check_sqlite(docs(sqlite))
    check_postgres(docs(postgres))
    check_monitored(docs(monitored))
    check_compose(deploy_dir)
    print("deploy: both overlays, the ServiceMonitor component and the compose files hold what they promise")


if __name__ == "__main__":
    main()
