"""The peer a user would write: bench/peer_kubernetes_core.yml, a plain kubernetes.core playbook.

It does the upstream tutorial's steps (apply the Certificate change, wait for the ``cacerts`` Secret to
change, wait for istiod's reload line) in rotate.yml's serial batches, and nothing else. As for the
kubectl baseline, each cluster's manifest (the live Certificate spec with the new duration) is written
before timing starts: what a user has as a YAML file.
"""

import os

import baseline

PLAYBOOK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_kubernetes_core.yml")


def prepare_manifests(kubeconfig, contexts, duration, workdir):
    """Write ``<dir>/<context>.json`` for every context; return the directory."""
    directory = os.path.join(workdir, "peer-manifests-%s" % duration)
    os.makedirs(directory, exist_ok=True)
    plans = baseline.prepare_fleet(kubeconfig, contexts, duration, directory)
    for context, _kubectl, path in plans:
        os.rename(path, os.path.join(directory, "%s.json" % context))
    return directory


def extra_vars(manifest_dir):
    """The playbook's variables: where the manifests are, and the baseline's poll interval."""
    return {"peer_manifest_dir": manifest_dir, "peer_poll_s": baseline.POLL_S}
