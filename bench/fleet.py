"""A benchmark fleet: kubesim clusters in this process plus one shared root CA on disk.

kubesim runs in the benchmark's own process so each cluster's request log can be read
directly; the clusters still serve real HTTP on 127.0.0.1, and Ansible and kubectl
reach them through the kubeconfig like any cluster. One root CA (ECDSA P-256, made
here) signs every cluster's issuing CA through ``ca_setup_trust_source: offline_root`` (the root key stays
on the controller), so the clusters share one root as a multi-cluster mesh needs.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

import meshpki_test_root  # noqa: E402  (tests/meshpki_test_root.py: the one test root CA maker)

ISTIO_VERSION = os.environ.get("BENCH_ISTIO_VERSION", "1.22.3")


def make_root_ca(directory):
    """Write root-cert.pem / root-key.pem (0600) for offline_root (read on the controller only); return their paths."""
    files = meshpki_test_root.make_root_ca("Bench Root CA", organization="meshpki bench").write(directory)
    return files["ca_setup_ca_cert"], files["ca_setup_ca_key"]


def start_fleet(clusters, workdir, propagation_delay):
    """A started kubesim Fleet with cert-manager and istiod preinstalled."""
    from kubesim import Fleet  # imported late: kubesim is test infrastructure, only needed here
    fleet = Fleet(n_clusters=clusters, workdir=workdir, preinstall=("cert-manager", "istio"),
                  istio_version=ISTIO_VERSION, propagation_delay=propagation_delay)
    fleet.start()
    return fleet


def deploy_vars(root_cert, root_key):
    """Extra vars for deploy.yml on a preinstalled fleet with one shared root."""
    return {
        "cert_manager_install": "existing",
        "istio_install": "existing",
        "ca_setup_trust_source": "offline_root",
        "ca_setup_issuing_ca_key_algorithm": "ECDSA",
        "ca_setup_issuing_ca_key_size": "256",
        "ca_setup_ca_cert": root_cert,
        "ca_setup_ca_key": root_key,
        "ca_setup_key_algorithm": "ECDSA",
        "ca_setup_key_size": "256",
    }
