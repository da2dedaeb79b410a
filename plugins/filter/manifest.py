# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Filters that split a release manifest into what a check-mode (``--check``) run can dry-run now and what waits.

A server-side dry run (``dryRun=All``) persists nothing, so a dry-run create of a namespaced object
in a namespace that does not exist yet is 404 NotFound even when the same manifest creates that
namespace, and a custom resource cannot be dry-run before its CRD exists (docs/upstream/kubernetes-api.md#dry-run,
docs/upstream/kubernetes-api.md#dry-run-in-a-missing-namespace). These filters split what can be dry-run from
what a real run would create and can only be reported:

- ``manifest_dry_run_plan``: a release manifest (cert-manager, Istio) split into objects the
  cluster can dry-run now and objects that wait for a namespace or CRD the manifest itself creates.
- ``manifest_crds_needed``: the CRDs of a manifest that its own custom resources need (to look up).

Documentation of each filter is in the ``<filter name>.yml`` file beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.common.plain import plain as _plain

try:  # libyaml is much faster on a release manifest of a megabyte
    _YamlLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _YamlLoader = yaml.SafeLoader

_TAG = re.compile(r":([^:/@]+)(?:@|$)")


def _documents(manifest):
    """The objects of a manifest given as YAML text or as already parsed documents; ``List`` kinds flattened."""
    if isinstance(manifest, str):
        try:
            docs = list(yaml.load_all(manifest, Loader=_YamlLoader))
        except yaml.YAMLError as exc:
            raise AnsibleFilterError("the manifest is not valid YAML: %s" % exc)
    else:
        docs = _plain(manifest)
        if not isinstance(docs, list):
            raise AnsibleFilterError("a manifest is YAML text or a list of objects, got %s" % type(manifest).__name__)
    objects = []
    for doc in docs:
        if not doc:
            continue
        if not isinstance(doc, dict) or not doc.get("kind") or not doc.get("apiVersion"):
            raise AnsibleFilterError("the manifest holds a document that is not a Kubernetes object: %.80r" % (doc,))
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            objects.extend(item for item in doc["items"] if item)
        else:
            objects.append(doc)
    return objects


def _group(api_version):
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def _own_crds(objects):
    """{(group, kind): CRD name} for every CRD the manifest defines."""
    crds = {}
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition" and _group(obj["apiVersion"]) == "apiextensions.k8s.io":
            spec = obj.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            if spec.get("group") and kind:
                crds[(spec["group"], kind)] = (obj.get("metadata") or {}).get("name")
    return crds


def _label(obj):
    md = obj.get("metadata") or {}
    where = ("%s/" % md["namespace"]) if md.get("namespace") else ""
    return "%s %s%s" % (obj["kind"], where, md.get("name") or md.get("generateName") or "?")


def _matches(obj, deployment):
    """``deployment`` is a Deployment name, or one ``label=value`` its labels must have."""
    md = obj.get("metadata") or {}
    if "=" in deployment:
        key, value = deployment.split("=", 1)
        return (md.get("labels") or {}).get(key.strip()) == value.strip()
    return md.get("name") == deployment


def _image_tag(objects, deployment, container=None):
    """The image tag of a Deployment's container (the named one, else the first): the release's version."""
    for obj in objects:
        if obj["kind"] != "Deployment" or not _matches(obj, deployment):
            continue
        containers = ((((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
        named = [c for c in containers if c.get("name") == container]
        for candidate in named or containers:
            found = _TAG.findall(candidate.get("image") or "")
            if found:
                return found[0]
    return ""


def manifest_crds_needed(manifest):
    """Names of the CRDs defined in ``manifest`` that custom resources of the same manifest need."""
    objects = _documents(manifest)
    crds = _own_crds(objects)
    needed = set()
    for obj in objects:
        name = crds.get((_group(obj["apiVersion"]), obj["kind"]))
        if name:
            needed.add(name)
    return sorted(needed)


def manifest_dry_run_plan(manifest, namespaces, crds=None, version_from="", container=None):
    """Split ``manifest`` into what can be dry-run on the cluster now and what only a real run can create.

    ``namespaces``: names of the namespaces that exist; ``crds``: names of the CRDs that exist (only
    those of ``manifest_crds_needed`` matter). An object without ``metadata.namespace`` is treated as
    cluster-scoped (a namespaced one would need its namespace in the manifest to be applied at all).
    """
    objects = _documents(manifest)
    existing = set(_plain(namespaces) or [])
    established = set(_plain(crds) or [])
    own = _own_crds(objects)
    dry_run, deferred, missing_namespaces, missing_crds = [], [], set(), set()
    for obj in objects:
        namespace = (obj.get("metadata") or {}).get("namespace")
        crd = own.get((_group(obj["apiVersion"]), obj["kind"]))
        if namespace and namespace not in existing:
            missing_namespaces.add(namespace)
            deferred.append(obj)
        elif crd and crd not in established:
            missing_crds.add(crd)
            deferred.append(obj)
        else:
            dry_run.append(obj)
    because = ["namespace %s does not exist yet" % ns for ns in sorted(missing_namespaces)]
    because += ["CRD %s does not exist yet" % crd for crd in sorted(missing_crds)]
    return {
        "total": len(objects),
        "dry_run": dry_run,
        "deferred": [_label(obj) for obj in deferred],
        "missing_namespaces": sorted(missing_namespaces),
        "missing_crds": sorted(missing_crds),
        "because": "; ".join(because),
        "version": _image_tag(objects, version_from, container) if version_from else "",
    }


class FilterModule(object):
    """Release-manifest dry-run filters of meshpki.istio_ca."""

    def filters(self):
        return {
            "manifest_crds_needed": manifest_crds_needed,
            "manifest_dry_run_plan": manifest_dry_run_plan,
        }
