"""The istio role's decision per istiod Deployment: version, AUTO_RELOAD_PLUGIN_CERTS as istiod parses it, what to set."""

from __future__ import annotations

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.hot_reload_plan import plan


def deployment(image="docker.io/istio/pilot:1.16.7", env=None, name="istiod", rev=None, container="discovery",
               extra_containers=()):
    labels = {"app": "istiod"}
    if rev:
        labels["istio.io/rev"] = rev
    main = {"name": container, "image": image}
    if env is not None:
        main["env"] = env
    return {"metadata": {"name": name, "labels": labels},
            "spec": {"template": {"spec": {"containers": list(extra_containers) + [main]}}}}


def flag(value):
    return [{"name": "PILOT_TRACE_SAMPLING", "value": "1"}, {"name": "AUTO_RELOAD_PLUGIN_CERTS", "value": value}]


@pytest.mark.parametrize("image, env, needs, verdict", [
    # 1.14-1.17: default false; Go ParseBool's true spellings all count (the role's old Jinja took only 'true').
    ("pilot:1.16.7", None, True, "off"),
    ("pilot:1.16.7", flag("true"), False, "on"),
    ("pilot:1.16.7", flag("1"), False, "on"),
    ("pilot:1.16.7", flag("t"), False, "on"),
    ("pilot:1.16.7", flag("TRUE"), False, "on"),
    ("pilot:1.16.7", flag("True"), False, "on"),
    ("pilot:1.16.7", flag("tRuE"), True, "off"),  # not a ParseBool spelling: istiod falls back to false
    ("pilot:1.16.7", flag("yes"), True, "off"),
    ("pilot:1.16.7", flag(""), True, "off"),
    ("pilot:1.16.7", flag("false"), True, "off"),
    ("pilot:1.14.2", None, True, "off"),
    ("pilot:1.16.7", [{"name": "AUTO_RELOAD_PLUGIN_CERTS", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "y"}}}],
     True, "off"),  # unreadable from the spec: unset
    # 1.18: default true; only a false spelling turns it off.
    ("pilot:1.18.0", None, False, "on"),
    ("pilot:1.18.2", flag("false"), True, "off"),
    ("pilot:1.18.2", flag("0"), True, "off"),
    ("pilot:1.18.2", flag("F"), True, "off"),
    ("pilot:1.18.2", flag("nope"), False, "on"),  # invalid: the default, true
    # 1.19+: the flag is gone, always on.
    ("pilot:1.19.0", flag("false"), False, "on"),
    ("pilot:1.22.3-distroless", None, False, "on"),
    ("pilot:v1.27.0-rc.0", None, False, "on"),
])
def test_needs_auto_reload_env_follows_istiod(image, env, needs, verdict):
    entry = plan(deployment(image=image, env=env))
    assert entry["needs_auto_reload_env"] is needs
    assert entry["hot_reload"] == verdict
    assert entry["problem"] == ""


def test_entry_fields():
    entry = plan(deployment(image="reg:5000/istio/pilot:1.16.7-distroless@sha256:abc", env=flag("1"), name="istiod-canary",
                            rev="canary", extra_containers=[{"name": "sidecar", "image": "other:9.9.9"}]))
    assert entry == {"name": "istiod-canary", "revision": "canary", "image": "reg:5000/istio/pilot:1.16.7-distroless@sha256:abc",
                     "version": "1.16.7", "auto_reload_env": "1", "auto_reload_env_value": True, "hot_reload": "on",
                     "needs_auto_reload_env": False, "problem": ""}
    assert plan(deployment())["revision"] == "default" and plan(deployment())["auto_reload_env"] == ""


def test_container_by_name_else_first():
    dep = deployment(image="pilot:1.16.7", container="istiod-main")
    assert plan(dep, container_name="istiod-main")["version"] == "1.16.7"
    assert plan(dep, container_name="missing")["version"] == "1.16.7"  # only one container: the first


def test_version_override_wins_over_the_tag():
    entry = plan(deployment(image="my-registry/pilot:latest"), version_override="1.17.2")
    assert entry["version"] == "1.17.2" and entry["needs_auto_reload_env"] is True and entry["problem"] == ""


@pytest.mark.parametrize("image, fragment", [
    ("my-registry/pilot:latest", "Cannot tell the Istio version of istiod istiod from its image my-registry/pilot:latest"),
    ("my-registry/pilot", "set istio_version"),
    ("pilot:1.14.1", "runs Istio 1.14.1, which reads only the Istio-native cacerts key names"),
    ("pilot:1.13.9", "1.12-1.13 cannot hot-reload a Secret volume at all"),
    ("pilot:1.11.0", "Upgrade Istio to 1.14.2 or later"),
])
def test_unusable_versions_say_what_to_do(image, fragment):
    assert fragment in plan(deployment(image=image))["problem"]


def test_old_version_without_hot_reload_message_before_112():
    assert "cannot hot-reload" not in plan(deployment(image="pilot:1.11.0"))["problem"]
