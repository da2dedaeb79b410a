"""Helpers for the multi-root and workload tests: a fleet whose istiods run a plugged CA written directly in
Istio's own file format (``ca-cert.pem``, ``ca-key.pem``, ``cert-chain.pem``, ``root-cert.pem``, as
tests/integration/security/cacert_rotation and samples/certs in istio/istio do), with simulated workloads."""

from __future__ import annotations

import base64
from typing import Dict, Optional, Sequence

import yaml
from cryptography.x509.oid import NameOID

from kubesim.controllers.istiod import IstiodSim
from kubesim.manifests import istio as istio_manifest
from kubesim.tests_support_fakecluster import CA, make_ca

FLAG_MESH = "PROXY_CONFIG_XDS_AGENT"


def root(cn: str = "Root CA") -> CA:
    return make_ca(cn, days=900)


def intermediate(parent: CA, cluster: str) -> CA:
    """A cluster's intermediate; its subject names the root, so leaves under old and new intermediates differ."""
    root_cn = parent.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return make_ca(f"Intermediate CA {cluster} under {root_cn}", parent, days=365)


def converge(fleet) -> None:
    """Let written Secrets reach istiod (propagation, the 100 ms debounce, the reload) and the agents react."""
    for _ in range(2):
        fleet.settle()
        fleet.advance(max(1.0, 2 * max(c.propagation_delay for c in fleet)))


def native_files(inter: CA, signing_root: CA, bundle: bytes) -> Dict[str, bytes]:
    """cacerts in Istio's file format: cert-chain.pem = intermediate + the root that signed it (tools/certs)."""
    return {"ca-cert.pem": inter.pem, "ca-key.pem": inter.key_pem, "cert-chain.pem": inter.pem + signing_root.pem,
            "root-cert.pem": bundle}


def write_cacerts(cluster, files: Dict[str, bytes]) -> None:
    data = {k: base64.b64encode(v).decode() for k, v in files.items()}
    cur = cluster.get("v1", "secrets", "istio-system", "cacerts")
    if cur is None:
        cluster.create({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": "cacerts", "namespace": "istio-system"}, "data": data})
    else:
        cur["data"] = data
        cluster.update(cur)


def install_istio(cluster, version: str, files: Dict[str, bytes], multiroot: bool = True, pcds: bool = True) -> None:
    """istiod of ``version`` started on ``files``; ISTIO_MULTIROOT_MESH on the Deployment and PROXY_CONFIG_XDS_AGENT
    in meshConfig.defaultConfig.proxyMetadata as the cacert_rotation test's values do."""
    objs = istio_manifest.objects(version)
    cluster.apply(objs[0])
    write_cacerts(cluster, files)
    for obj in objs[1:]:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "istio" and pcds:
            mesh = yaml.safe_load(obj["data"]["mesh"])
            mesh["defaultConfig"]["proxyMetadata"] = {FLAG_MESH: "true"}
            obj["data"]["mesh"] = yaml.safe_dump(mesh)
        if obj["kind"] == "Deployment" and multiroot:
            obj["spec"]["template"]["spec"]["containers"][0]["env"].append(
                {"name": "ISTIO_MULTIROOT_MESH", "value": "true"})
        cluster.apply(obj)


def mesh_fleet(factory, versions: Sequence[str], old_root: CA, workloads: int = 3, multiroot: bool = True,
               pcds: bool = True, propagation_delay: float = 0.0, ttl: float = 24 * 3600.0,
               proxy_version: Optional[str] = None, interval: float = 1.0):
    """A started fleet, one cluster per version, each with its own intermediate under ``old_root``; workloads
    restarted once istiod serves (so their sidecars are of istiod's version), then a fresh tally."""
    fleet = factory(n_clusters=len(versions), workloads=workloads, propagation_delay=propagation_delay,
                    workload_cert_ttl=ttl, workload_proxy_version=proxy_version, mtls_interval=interval)
    inters = {}
    for c, version in zip(fleet, versions):
        inters[c.name] = intermediate(old_root, c.name)
        install_istio(c, version, native_files(inters[c.name], old_root, old_root.pem), multiroot, pcds)
    converge(fleet)
    fleet.restart_workloads()
    fleet.mtls_reset()
    return fleet, inters


def istiod_lines(cluster, since_marker: int = 0):
    """istiod's log lines (level<TAB>message) of every istiod pod, in order."""
    out = []
    sim = IstiodSim.of(cluster)
    for name in sorted(sim.pods):
        out += [line.split("\t", 1)[1] for _t, line in cluster.pod_log_lines("istio-system", name, "discovery")]
    return out


def leaf_issuers(fleet) -> set:
    return {w["leaf_issuer"] for c in fleet for w in c.workloads}
