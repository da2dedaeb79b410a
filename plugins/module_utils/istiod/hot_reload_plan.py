# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Per istiod Deployment: its Istio version, whether it hot-reloads cacerts, and what the istio role must do.

One decision, made here and nowhere else (the istio role reads it through the
``istio_hot_reload_plan`` filter, the fleet report through ``deployment_facts``):

- the Istio version is the image tag of istiod's container (``.../pilot:1.16.7[-distroless]``)
  unless the role's ``istio_version`` overrides it;
- ``AUTO_RELOAD_PLUGIN_CERTS`` is read the way istiod reads it: istio ``pkg/env/var.go``
  ``BoolVar.Lookup`` runs Go's ``strconv.ParseBool`` (``1``, ``t``, ``T``, ``TRUE``, ``true``, ``True``
  are true) and falls back to the flag's default on anything else, an empty value included; a
  ``valueFrom`` entry cannot be read from the spec and counts as unset;
- the hot-reload verdict per version is ``versions.hot_reload``; the role sets the flag to ``true``
  exactly where the verdict is ``off`` (1.14-1.17 without it, 1.18 with it false);
- istiod before 1.14.2 cannot read the ``tls.crt``/``tls.key``/``ca.crt`` names cert-manager writes
  (``versions.reads_tls_names``, istio/istio#39732), so the role refuses it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions

AUTO_RELOAD_ENV = "AUTO_RELOAD_PLUGIN_CERTS"
REVISION_LABEL = "istio.io/rev"
DISCOVERY_CONTAINER = "discovery"


def container_of(pod_spec, name=DISCOVERY_CONTAINER):
    """istiod's container of a pod spec: the one called ``name``, else the first; {} when there is none."""
    containers = (pod_spec or {}).get("containers") or []
    for container in containers:
        if isinstance(container, dict) and container.get("name") == name:
            return container
    return containers[0] if containers and isinstance(containers[0], dict) else {}


def literal_env(container):
    """``{name: value}`` of the env entries with a literal value; ``valueFrom`` entries are left out (unknown)."""
    return dict((item.get("name"), item.get("value")) for item in (container or {}).get("env") or []
                if isinstance(item, dict) and "value" in item)


def deployment_facts(deployment, container_name=DISCOVERY_CONTAINER, version_override=""):
    """What one istiod Deployment runs: name, revision, image, parsed version, raw AUTO_RELOAD_PLUGIN_CERTS."""
    meta = (deployment or {}).get("metadata") or {}
    template = ((deployment or {}).get("spec") or {}).get("template") or {}
    container = container_of(template.get("spec"), container_name)
    image = container.get("image") or ""
    tag = versions.image_tag(image)
    version = versions.parse_version(version_override) if version_override else versions.parse_version(tag)
    return {
        "name": meta.get("name"),
        "revision": (meta.get("labels") or {}).get(REVISION_LABEL) or "default",
        "image": image,
        "tag": tag,
        "version": version,
        "auto_reload_env": literal_env(container).get(AUTO_RELOAD_ENV),
    }


def _problem(facts):
    version = facts["version"]
    if version is None:
        return ("Cannot tell the Istio version of istiod %s from its image %s: set istio_version."
                % (facts["name"], facts["image"] or "(none)"))
    if versions.reads_tls_names(version):
        return ""
    older = " and 1.12-1.13 cannot hot-reload a Secret volume at all" if version.at_least(1, 12) else ""
    return ("istiod %s runs Istio %s, which reads only the Istio-native cacerts key names (ca-cert.pem, ca-key.pem, "
            "root-cert.pem, cert-chain.pem); the tls.crt/tls.key/ca.crt names cert-manager writes are read from "
            "1.14.2 on (istio/istio#39732)%s. Upgrade Istio to 1.14.2 or later." % (facts["name"], version, older))


def plan(deployment, container_name=DISCOVERY_CONTAINER, version_override=""):
    """One entry of the istio role's ``istio_istiod`` fact (see istio_hot_reload_plan.yml for the keys)."""
    facts = deployment_facts(deployment, container_name, version_override)
    version = facts["version"]
    verdict = versions.hot_reload(version, facts["auto_reload_env"])
    return {
        "name": facts["name"],
        "revision": facts["revision"],
        "image": facts["image"],
        "version": "%d.%d.%d" % version.key() if version else "",
        "auto_reload_env": facts["auto_reload_env"] if facts["auto_reload_env"] is not None else "",
        "auto_reload_env_value": versions.go_bool(facts["auto_reload_env"]),
        "hot_reload": verdict,
        "needs_auto_reload_env": verdict == versions.RELOAD_OFF,
        "problem": _problem(facts),
    }
