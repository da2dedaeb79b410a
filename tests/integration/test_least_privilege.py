"""The shipped least-privilege roles (docs/rbac/) are enough and each of their rules is needed.

A 2-cluster kubesim fleet (HTTPS, token authentication, RBAC evaluated as kube-apiserver's RBAC
authorizer) where the cluster admin has installed cert-manager and istiod (kubesim's ``preinstall``,
what their release manifests create). Then, as ServiceAccount ``meshpki-system/meshpki`` with a
TokenRequest token in a per-host kubeconfig and bound to exactly one playbook's roles at a time:
deploy.yml sets up the CA, report.yml reads it, rotate.yml rotates, restore.yml restores — each must
succeed without a single 403 and use every rule of its roles.

Minimal: every rule is the only one of its roles that allows some request of those runs (kubesim's
request log through its transcription of requestinfo.go ``NewRequestInfo``; RBAC allows the union of
the bound rules, so without that rule the request is a 403). Together: complete and minimal for what
the playbooks do.

What a user then reads: for one rule on each path a 403 takes through the collection (``REMOVALS``) the
rule is removed, the playbook that needs it runs on cluster-1 only, and must fail with the server's own
sentence (``User "..." cannot <verb> resource "<resource>"``, responsewriters/errors.go
``forbiddenMessage``), readable (not escaped Status JSON), and naming the docs/rbac file that grants it.
"""

from __future__ import annotations

import copy
import json

import pytest

import deploy_support as ds
import rbac_support as rs
import rotation_fleet as rf
from helpers_ansible import run_playbook
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import object_path
from kubesim import Fleet
from offline_root_support import OFFLINE_VARS, check_issuing_chain
from kubesim.manifests import preinstall

pytestmark = pytest.mark.slow

# docs/rbac/<file>.yaml of each playbook: restore.yml runs with the rotate roles
RBAC_FILE = {"deploy": "deploy", "report": "report", "rotate": "rotate", "restore": "rotate"}
RBAC_FILES = ("deploy", "report", "rotate")
PASSWORD = "least privilege vault password"
ONE = "cluster-1"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The fleet, the inputs, and the ServiceAccount's inventory (tokens for both clusters)."""
    work = tmp_path_factory.mktemp("least-privilege")
    fleet = Fleet(n_clusters=2, workdir=work / "fleet", preinstall=("cert-manager", "istio"),
                  propagation_delay=0.2)
    fleet.start()
    root = ds.make_root(work / "pki")
    w = {"fleet": fleet, "work": work, "root": root, "inventory": rs.token_inventory(fleet, work / "sa"),
         "vault": {}, "used": {}}
    yield w
    fleet.stop()


def bind_only(fleet, playbook: str, clusters=None) -> None:
    """Bind the ServiceAccount to exactly ``playbook``'s roles (nothing else) on ``clusters``."""
    rbac = RBAC_FILE[playbook.split(":")[0]]
    for name in clusters or fleet.names:
        c = fleet[name]
        rs.revoke(c, RBAC_FILES)
        rs.grant(c, [rbac])
        assert rs.bound_role_names(c) == {f"meshpki-istio-ca-{rbac}"}


def extra_vars(w, playbook: str) -> dict:
    work = w["work"]
    if playbook == "deploy":
        # offline_root: the root key stays on the controller, each cluster gets its own issuing CA
        return {**ds.FAST_VARS, **OFFLINE_VARS, "cert_manager_install": "existing",
                "ca_setup_ca_cert": str(w["root"].cert_path), "ca_setup_ca_key": str(w["root"].key_path)}
    if playbook == "report":
        return {"report_dir": str(work / "report")}
    if playbook.startswith("rotate"):
        # two ways to rotate: a new duration (cert-manager re-issues on the spec change) or a forced
        # renewal (the status trigger cmctl renew writes); they need different permissions
        w["rotations"] = w.get("rotations", 0) + 1
        how = ({"ca_rotation_force": True} if playbook == "rotate:force"
               else {"ca_rotation_duration": f"{720 - w['rotations']}h"})
        return {"report_dir": str(work / "rotate"), "rotate_serial": [2], **how,
                "ca_rotation_reload_timeout": 30, "ca_rotation_backup_mode": "both",
                "ca_rotation_backup_dir": str(work / "backups"), "ca_rotation_backup_vault_password": PASSWORD,
                # keep one: every rotation after the first prunes the older backup Secret
                "ca_rotation_backup_keep": 1}
    return {}


def restore_inventory(w, hosts) -> str:
    """The ServiceAccount's inventory with per-host restore choices: cluster-1 from its newest in-cluster
    backup, cluster-2 from its controller vault file (which restore.yml turns into a backup Secret)."""
    inv = rs.yaml.safe_load(w["inventory"].read_text())
    all_hosts = inv["all"]["children"]["clusters"]["hosts"]
    for name in list(all_hosts):
        if name not in hosts:
            del all_hosts[name]
        elif name == ONE and len(hosts) > 1:
            all_hosts[name]["restore_backup"] = "latest"
        else:
            all_hosts[name].update(restore_vault_file=w["vault"][name], restore_vault_password=PASSWORD)
    path = w["work"] / f"restore-{'-'.join(hosts)}.yml"
    path.write_text(json.dumps(inv))
    return str(path)


def run_as_service_account(w, playbook: str, hosts=None):
    """Run playbooks/<playbook>.yml with the ServiceAccount's inventory; returns (result, requests by cluster)."""
    fleet = w["fleet"]
    hosts = list(hosts or fleet.names)
    marks = {n: len(fleet[n].requests) for n in hosts}
    inventory = restore_inventory(w, hosts) if playbook == "restore" else str(w["inventory"])
    limit = None if playbook == "restore" or len(hosts) == len(fleet.names) else ",".join(hosts)
    res = run_playbook(f"playbooks/{playbook.split(':')[0]}.yml", inventory, extra_vars(w, playbook), limit=limit)
    return res, {n: rs.requested(fleet[n], marks[n]) for n in hosts}


def assert_no_denial(playbook: str, res, requests) -> set:
    """The run succeeded and no request was refused; returns the requests' attributes."""
    assert res.rc == 0, res.explain()
    denied = sorted({a for reqs in requests.values() for a, status in reqs if status == 403})
    assert not denied, f"{playbook}.yml was refused: {denied}"
    return {a for reqs in requests.values() for a, _ignored in reqs}


# ------------------------------------------------------------------------------------ helpers: each rule removed

# Minimal, from kubesim's request log: a rule is needed when some request of the full runs is allowed by it
# and by no other rule of the same roles (RBAC allows the union of the rules bound: removing that rule makes
# the request a 403). That is checked for every rule, without a run per rule.
#
# What the user then reads, by a run with the rule removed: one rule per path a 403 takes through the
# collection (each once turned into a success or a misleading message, now failing with the API's sentence
# and the pointer to docs/rbac/<playbook>.yaml). Keyed (docs/rbac file, role namespace, rule label).
REMOVALS = {
    ("deploy", "", "list configmaps [istio-ca-root-cert]"): "istiod_reload_check's root ConfigMap list (deploy.yml)",
    ("deploy", "", "create clusterissuers"): "a kubernetes.core task retried until: the cert_manager API check",
    ("report", "istio-system", "get pods/log"): "report.yml's final failure names each cluster's problem",
    ("rotate", "istio-system", "get pods/log"): "rotate.yml's preflight (istiod_reload_check on istiod's logs)",
    ("rotate", "cert-manager", "list certificates"): "the root rotationPolicy check (certificate, root_policy.py)",
    ("rotate", "istio-system", "delete secrets"): "backup pruning (ca_rotation_backup_keep), before the change",
}


def rule_cases(rbac: str):
    cases = []
    for role, index, rule in rs.rules_of(rbac):
        ns = role["metadata"].get("namespace", "")
        if (rbac, ns, rs.rule_label(rule)) not in REMOVALS:
            continue
        cases.append(pytest.param(rbac, role["kind"], ns, index,
                                  id=f"{rbac}:{role['kind']}:{ns or '-'}:{index}:{rs.rule_label(rule).replace(' ', '_')}"))
    assert len(cases) == sum(1 for key in REMOVALS if key[0] == rbac), f"a REMOVALS rule is gone from {rbac}.yaml"
    return cases


def assert_each_rule_needed(rbac: str, used: set, what: str) -> None:
    """Every rule of docs/rbac/<rbac>.yaml is the only one allowing some request of the runs."""
    rules = [(role["metadata"].get("namespace", ""), rule, role) for role, _ignored, rule in rs.rules_of(rbac)]
    for i, (ns, rule, role) in enumerate(rules):
        alone = [a for a in used if rs.rule_matches(rule, ns, a)
                 and not any(rs.rule_matches(other, ons, a) for j, (ons, other, _ignored) in enumerate(rules) if j != i)]
        assert alone, (f"{role['kind']} {ns}/{role['metadata']['name']} rule {rs.rule_label(rule)}: every request "
                       f"of {what} it allows is allowed by another rule too (or it allows none): not needed")


def unplug_istiod(fleet, name: str) -> None:
    """Back to "istiod installed before the CA" on one cluster, so deploy.yml must rollout-restart it:
    no Certificate, no cacerts, and istiod re-created (it starts with its self-signed root)."""
    c = fleet[name]
    for api_version, plural, obj in (("cert-manager.io/v1", "certificates", "cacerts"), ("v1", "secrets", "cacerts"),
                                     ("apps/v1", "deployments", "istiod")):
        if c.get(api_version, plural, "istio-system", obj) is not None:
            c.delete(api_version, plural, "istio-system", obj)
    rf.wait_for(lambda: not c.list("v1", "pods", "istio-system", label_selector="app=istiod"), what="istiod gone")
    preinstall(c, ["istio"])
    rf.wait_for(lambda: rf.istiod_signing_serial(fleet, name), what="istiod serving self-signed")


def drop_backup_secrets(fleet, name: str) -> None:
    """Remove a cluster's backup Secrets, so restore.yml from a vault file must create one again."""
    for sec in rf.backups(fleet, name):
        fleet[name].delete("v1", "secrets", "istio-system", sec["metadata"]["name"])


def playbook_needing(world, rbac: str, namespace: str, rule: dict) -> str:
    """The playbook whose full run (above) made a request this rule allows: the rotate roles serve
    rotate.yml and restore.yml; a rule only restore.yml uses is checked with restore.yml."""
    if rbac != "rotate":
        return rbac
    for playbook in ("rotate:duration", "rotate:force", "restore"):
        if playbook not in world["used"]:
            pytest.skip(f"needs the full {playbook} run")
        if any(rs.rule_matches(rule, namespace, a) for a in world["used"][playbook]):
            return playbook
    pytest.fail(f"no playbook uses {rs.rule_label(rule)}")


def prepare(world, playbook: str, rule: dict) -> None:
    """The state on cluster-1 in which the playbook reaches the request this rule allows."""
    fleet = world["fleet"]
    c = fleet[ONE]
    if playbook == "deploy" and "patch" in rule["verbs"] and "deployments" in rule["resources"]:
        unplug_istiod(fleet, ONE)
    # restore.yml detached the Certificate: give it back before the next restore, and before deploy.yml (whose
    # roles then find the Certificate they made; re-creating it over a kept Secret is restore's business)
    if playbook in ("restore", "deploy") and world.get("certificate") \
            and c.get("cert-manager.io/v1", "certificates", "istio-system", "cacerts") is None:
        # re-attach what restore.yml detached, server-side applied as the certificate module's field
        # manager (as deploy.yml applied it), so the next apply of the spec meets no conflict
        api = rf.client(fleet, ONE)
        api.apply(object_path("cert-manager.io/v1", "certificates", "istio-system", "cacerts"),
                  copy.deepcopy(world["certificate"]), rf.CERT_MANAGER_FIELD_MANAGER)
        api.close()
        rf.wait_for(lambda: ((c.get("cert-manager.io/v1", "certificates", "istio-system", "cacerts") or {})
                             .get("status") or {}).get("conditions"), what="the re-attached Certificate seen")
    if playbook == "report":
        (world["work"] / "report" / "report.md").unlink(missing_ok=True)
    if playbook == "restore":
        drop_backup_secrets(fleet, ONE)  # restore from the vault file, which creates the backup Secret


def check_rule_is_needed(world, rbac: str, role_kind: str, namespace: str, index: int, only: str = "") -> None:
    fleet = world["fleet"]
    c = fleet[ONE]
    role = next(r for r in rs.roles(rbac)
                if r["kind"] == role_kind and r["metadata"].get("namespace", "") == namespace)
    rule = role["rules"][index]
    if only == "rotate":
        used = world["used"].get("rotate:duration", set()) | world["used"].get("rotate:force", set())
        if not used:
            pytest.skip("needs test_rotate_as_the_service_account")
        if not any(rs.rule_matches(rule, namespace, a) for a in used):
            pytest.skip("only restore.yml uses this rule")
    playbook = playbook_needing(world, rbac, namespace, rule)
    if only == "restore" and playbook != "restore":
        pytest.skip("rotate.yml uses this rule (checked before the restore)")
    bind_only(fleet, playbook, [ONE])
    prepare(world, playbook, rule)
    rs.put(c, rs.without_rule(role, index))
    try:
        res, requests = run_as_service_account(world, playbook, [ONE])
    finally:
        rs.put(c, role)
    assert res.rc != 0, f"{playbook}.yml succeeded without {rs.rule_label(rule)}\n{res.explain()}"
    denied = [a for a, status in requests[ONE] if status == 403]
    assert any(rs.rule_matches(rule, namespace, a) for a in denied), (rs.rule_label(rule), denied, res.explain())
    # what the user reads: a failed task's message names a verb of the rule, its resource and the user, as the
    # API's sentence (not escaped Status JSON), and the docs/rbac file that grants it
    text = " ".join(m for _ignored, _ignored, m in res.failed_tasks())
    wanted = [rs.forbidden_text(v, r) for v in rule["verbs"] for r in rule["resources"]]
    assert any(f'User "{rs.SA_USER}" {w}' in text for w in wanted), (
        f"no failed task of {playbook}.yml names the missing permission (one of {wanted}):\n{res.explain()}")
    assert f"docs/rbac/{rbac}.yaml" in text or "docs/rbac/<playbook>.yaml" in text, res.explain()
    assert '{"kind":"Status"' not in text and '\\"' not in text, f"escaped API JSON:\n{res.explain()}"


# ------------------------------------------------------------------------------------ the tests, in this order
# Complete: each playbook succeeds with its roles (no 403). Minimal: each rule alone allows some request of
# those runs. Readable: one rule per 403 path removed, the playbook that needs it runs on cluster-1 only and
# fails naming it. Each playbook's removals run right after its full run, in the state it left.

def test_nothing_bound_is_refused_with_the_missing_permission(world):
    fleet = world["fleet"]
    for name in fleet.names:
        rs.revoke(fleet[name], RBAC_FILES)
    res, _ignored = run_as_service_account(world, "deploy", [ONE])
    assert res.rc != 0
    text = " ".join(m for _ignored, _ignored, m in res.failed_tasks())
    assert f'User "{rs.SA_USER}" cannot' in text, res.explain()


def test_deploy_as_the_service_account(world):
    fleet = world["fleet"]
    bind_only(fleet, "deploy")
    res, requests = run_as_service_account(world, "deploy")
    assert_each_rule_needed("deploy", assert_no_denial("deploy", res, requests), "deploy.yml")
    ds.assert_reloaded(res, fleet)
    for cluster in fleet.clusters:
        assert ds.check_cacerts(cluster)[1] == world["root"].cert


# right after the full deploy.yml: a second run changes nothing but meets each removed rule (after a
# rotation it would re-issue over the rotated spec, which reads CertificateRequests: see the README)
@pytest.mark.parametrize("rbac,role_kind,namespace,index", rule_cases("deploy"))
def test_each_deploy_rule_is_needed(world, rbac, role_kind, namespace, index):
    check_rule_is_needed(world, rbac, role_kind, namespace, index)


def test_report_as_the_service_account(world):
    bind_only(world["fleet"], "report")
    res, requests = run_as_service_account(world, "report")
    assert_each_rule_needed("report", assert_no_denial("report", res, requests), "report.yml")
    report = json.loads((world["work"] / "report" / "report.json").read_text())
    assert report["fleet"]["ok"] is True, report["fleet"]


@pytest.mark.parametrize("rbac,role_kind,namespace,index", rule_cases("report"))
def test_each_report_rule_is_needed(world, rbac, role_kind, namespace, index):
    check_rule_is_needed(world, rbac, role_kind, namespace, index)


def test_rotate_as_the_service_account(world):
    fleet = world["fleet"]
    bind_only(fleet, "rotate")
    before = {n: rf.cacerts_serial(fleet, n) for n in fleet.names}
    res, first = run_as_service_account(world, "rotate:duration")
    world["used"]["rotate:duration"] = assert_no_denial("rotate.yml (new duration)", res, first)
    # a forced renewal, which also prunes the first rotation's backup Secret (ca_rotation_backup_keep: 1)
    res, second = run_as_service_account(world, "rotate:force")
    world["used"]["rotate:force"] = assert_no_denial("rotate.yml (forced)", res, second)
    summary = json.loads((world["work"] / "rotate" / "rotation-summary.json").read_text())
    keep = world["work"] / "vault-copies"  # later rotations prune the controller copies too
    keep.mkdir(exist_ok=True)
    for entry in summary["clusters"]:
        copy_path = keep / f"{entry['cluster']}.vault"
        copy_path.write_bytes(open(entry["backup"]["controller"], "rb").read())
        world["vault"][entry["cluster"]] = str(copy_path)
    for name in fleet.names:
        assert rf.cacerts_serial(fleet, name) not in (None, before[name])
        assert len(rf.backups(fleet, name)) == 1, f"{name}: the older backup was not pruned"


@pytest.mark.parametrize("rbac,role_kind,namespace,index", rule_cases("rotate"))
def test_each_rotate_rule_is_needed_by_rotate(world, rbac, role_kind, namespace, index):
    """The rotate roles' rules rotate.yml uses, checked while the fleet is as rotate.yml left it."""
    check_rule_is_needed(world, rbac, role_kind, namespace, index, only="rotate")


def test_restore_as_the_service_account(world):
    fleet = world["fleet"]
    if not world["vault"]:
        pytest.skip("needs test_rotate_as_the_service_account's backups")
    bind_only(fleet, "restore")
    crt = copy.deepcopy(fleet[ONE].get("cert-manager.io/v1", "certificates", "istio-system", "cacerts"))
    for key in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        crt["metadata"].pop(key, None)
    crt.pop("status", None)
    world["certificate"] = crt
    drop_backup_secrets(fleet, "cluster-2")  # cluster-2 restores from its vault file: the Secret is made again
    res, requests = run_as_service_account(world, "restore")
    world["used"]["restore"] = assert_no_denial("restore", res, requests)
    assert_each_rule_needed("rotate", set().union(*world["used"].values()), "rotate.yml and restore.yml")
    for name in fleet.names:
        st = rf.cluster_state(fleet, name)
        # offline_root: cacerts = intermediate + this cluster's issuing CA, ca.crt = the offline root
        check_issuing_chain(fleet[name], world["root"].cert)
        assert st["key_matches"] and st["istiod_serial"] == st["serial"], (name, st)
