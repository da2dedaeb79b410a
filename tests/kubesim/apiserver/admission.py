"""Built-in admission plugins of kube-apiserver that change what clients see of workloads.

ServiceAccount (plugin/pkg/admission/serviceaccount/admission.go ``Plugin.Admit``): a Pod is
given ``spec.serviceAccountName: default`` when it names none, and its ServiceAccount must
exist, else the create is refused with 403 ``pods "<name>" is forbidden: error looking up
service account <ns>/<sa>: serviceaccount "<sa>" not found`` (``admission.NewForbidden``
wrapping the lister's NotFound). This applies to every creator, the ReplicaSet controller
included: a Deployment whose template names a missing ServiceAccount gets no Pods and never
becomes available. Not modelled: the projected token volume the plugin mounts, mirror pods,
image pull secrets.

After the built-in plugins, as kube-apiserver runs MutatingAdmissionWebhook after them: Istio's sidecar injector
(``controllers/mesh/injector.py``) on a cluster with simulated workloads.
"""

from __future__ import annotations

from . import errors as E


def admit_pod_create(cluster, rt, obj: dict) -> None:
    """The ServiceAccount plugin on a Pod CREATE (raises the 403)."""
    spec = obj.setdefault("spec", {})
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    md = obj.get("metadata") or {}
    ns, sa = md.get("namespace"), spec["serviceAccountName"]
    if cluster._stored(cluster.registry.by_rid[("", "serviceaccounts")], ns, sa) is None:
        name = md.get("name") or md.get("generateName") or ""
        raise E.forbidden(rt, name, f'pods "{name}" is forbidden: error looking up service account {ns}/{sa}: '
                                    f'serviceaccount "{sa}" not found')


def admit(cluster, operation: str, rt, obj: dict) -> None:
    """Run the built-in plugins for one write (before the controllers' webhooks)."""
    if operation == "CREATE" and rt.rid == ("", "pods"):
        admit_pod_create(cluster, rt, obj)
        if getattr(cluster, "workload_sim", None) is not None:
            from ..controllers.mesh import injector  # the mesh package loads only with workloads
            injector.inject(cluster, obj)
