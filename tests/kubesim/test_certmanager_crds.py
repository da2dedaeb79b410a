"""The cert-manager CRDs kubesim serves have the schemas cert-manager publishes for that release.

The published CRDs (cert-manager's deploy/crds/ at each tag) are read at test time from
``<repo>/../shared/data/cert-manager-crds/<tag>/`` (or the first ``shared/data`` above the
checkout); kubesim's own schemas are written from
cert-manager's Go API types (kubesim/manifests/cert_manager_crd). Every schema keyword the API
server acts on is compared — types, formats, enums, patterns, lengths, required, defaults,
nullable, x-kubernetes-* markers and CEL rules; only ``description`` is ignored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# ``<repo>/../shared/data``, or the same layout above a git worktree of the repository.
DATA = next((d / "shared" / "data" / "cert-manager-crds" for d in REPO.parents
             if (d / "shared" / "data" / "cert-manager-crds").is_dir()), None)
TAGS = ["v1.16.5", "v1.18.2", "v1.19.1", "v1.21.1"]
PLURALS = ["certificates", "certificaterequests", "issuers", "clusterissuers"]

pytestmark = pytest.mark.skipif(DATA is None, reason="cert-manager's published CRDs not found in ../shared/data "
                                                      "(needed to compare kubesim's CRD schemas with them)")


def published(tag: str, plural: str) -> dict:
    """The openAPIV3Schema of version v1 of ``<plural>.cert-manager.io`` as cert-manager publishes it."""
    for f in sorted((DATA / tag).glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition" and \
                    doc["spec"]["names"]["plural"] == plural:
                return next(v for v in doc["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    raise AssertionError(f"{plural} not in {DATA / tag}")


def differences(served, want, path: str = "") -> List[str]:
    """Every place where ``served`` and ``want`` differ, ignoring ``description`` keys."""
    if isinstance(want, dict) and isinstance(served, dict):
        out = []
        for k in sorted(set(want) | set(served)):
            if k == "description":
                continue
            p = f"{path}/{k}"
            if k not in served:
                out.append(f"{p}: missing (published: {json.dumps(want[k])[:120]})")
            elif k not in want:
                out.append(f"{p}: not in the published schema (served: {json.dumps(served[k])[:120]})")
            else:
                out += differences(served[k], want[k], p)
        return out
    if isinstance(want, list) and isinstance(served, list) and len(want) == len(served) and \
            all(isinstance(x, dict) for x in want + served):
        return [d for i, (s, w) in enumerate(zip(served, want)) for d in differences(s, w, f"{path}[{i}]")]
    if served != want or type(served) is not type(want):
        return [f"{path}: served {json.dumps(served)[:120]}, published {json.dumps(want)[:120]}"]
    return []


@pytest.fixture(scope="module", params=TAGS)
def served_crds(request, kubesim_module_fleet_factory):
    """{plural: served openAPIV3Schema of v1} from a cluster running simulated cert-manager ``tag``."""
    fleet = kubesim_module_fleet_factory(n_clusters=1, preinstall=("cert-manager",),
                                         cert_manager_version=request.param)
    conn = fleet.connection()
    out = {}
    for plural in PLURALS:
        conn.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.cert-manager.io")
        resp = conn.getresponse()
        body = json.loads(resp.read())
        assert resp.status == 200, body
        out[plural] = next(v for v in body["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    conn.close()
    return request.param, out


@pytest.mark.parametrize("plural", PLURALS)
def test_served_schema_matches_published(served_crds, plural):
    tag, served = served_crds
    diffs = differences(served[plural], published(tag, plural))
    assert not diffs, f"{plural}.cert-manager.io {tag}: " + "\n".join(diffs)


def test_differences_reports_each_kind_of_mismatch():
    want = {"type": "object", "description": "x", "required": ["a"],
            "properties": {"a": {"type": "string", "pattern": "^a$"}, "b": {"type": "integer"}}}
    assert differences(json.loads(json.dumps(want)), want) == []
    served = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}, "c": {"type": "integer"},
                                                                   "b": {"type": "integer", "format": "int32"}}}
    assert differences(served, want) == [
        '/properties/a/pattern: missing (published: "^a$")',
        '/properties/b/format: not in the published schema (served: "int32")',
        '/properties/c: not in the published schema (served: {"type": "integer"})']
