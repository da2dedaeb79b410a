"""Version rules of docs/upstream/istiod.md (hot-reload-versions, multi-root, metrics-refresh, tls-secret-names)."""

import pytest

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions as v


@pytest.mark.parametrize("text,key,pre", [
    ("1.22.3", (1, 22, 3), None),
    ("v1.27.0-rc.0", (1, 27, 0), "rc.0"),
    ("1.27.0-beta.0", (1, 27, 0), "beta.0"),
    ("1.22.3-distroless", (1, 22, 3), None),
    ("1.20", (1, 20, 0), None),
])
def test_parse_version(text, key, pre):
    version = v.parse_version(text)
    assert version.key() == key
    assert version.pre == pre
    assert str(version) == text


@pytest.mark.parametrize("text", ["latest", "", None, "sha256", "1", "master-2025"])
def test_parse_version_rejects(text):
    assert v.parse_version(text) is None


@pytest.mark.parametrize("image,tag", [
    ("docker.io/istio/pilot:1.22.3", "1.22.3"),
    ("registry:5000/istio/pilot:1.22.3-distroless", "1.22.3-distroless"),
    ("gcr.io/istio-release/pilot:1.24.1@sha256:abcd", "1.24.1"),
    ("registry:5000/istio/pilot", None),
    ("pilot@sha256:abcd", None),
    (None, None),
])
def test_image_tag(image, tag):
    assert v.image_tag(image) == tag


@pytest.mark.parametrize("raw,expected", [
    ("true", True), ("1", True), ("T", True), ("TRUE", True), ("True", True),
    ("false", False), ("0", False), ("f", False),
    ("yes", None), ("", None), (None, None),
])
def test_go_bool(raw, expected):
    assert v.go_bool(raw) is expected


@pytest.mark.parametrize("version,flag,expected", [
    ("1.11.8", "true", v.RELOAD_UNSUPPORTED),
    ("1.12.0", "true", v.RELOAD_INEFFECTIVE),
    ("1.13.9", None, v.RELOAD_INEFFECTIVE),
    ("1.14.0", None, v.RELOAD_OFF),
    ("1.14.6", "true", v.RELOAD_ON),
    ("1.16.7", "1", v.RELOAD_ON),
    ("1.17.8", "false", v.RELOAD_OFF),
    ("1.17.8", "yes", v.RELOAD_OFF),  # not a Go bool: istiod keeps the default (false)
    ("1.18.0", None, v.RELOAD_ON),
    ("1.18.7", "false", v.RELOAD_OFF),
    ("1.19.0", "false", v.RELOAD_ON),  # flag removed: always on
    ("1.24.2", None, v.RELOAD_ON),
    (None, None, v.RELOAD_UNKNOWN),
])
def test_hot_reload(version, flag, expected):
    assert v.hot_reload(v.parse_version(version) if version else None, flag) == expected


def test_root_refusal_text_by_version():
    assert v.root_refusal_text(v.parse_version("1.19.4"), False) == "Updating new ROOT-CA not supported"
    assert v.root_refusal_text(v.parse_version("1.20.0"), False) == \
        "Multi root is disabled, updating new ROOT-CA not supported"
    assert v.root_refusal_text(v.parse_version("1.22.0"), True) == "Updating new ROOT-CA not supported"


@pytest.mark.parametrize("version,fresh", [("1.23.9", False), ("1.24.0", True), ("1.30.1", True)])
def test_metric_fresh(version, fresh):
    assert v.metric_fresh(v.parse_version(version)) is fresh
    assert v.metric_fresh(None) is True


@pytest.mark.parametrize("version,reads", [("1.13.9", False), ("1.14.1", False), ("1.14.2", True),
                                           ("1.15.0", True), ("1.22.0", True)])
def test_reads_tls_names(version, reads):
    assert v.reads_tls_names(v.parse_version(version)) is reads


def test_prerelease_regression_and_strict_bundle():
    assert v.ignores_intermediate_only(v.parse_version("1.27.0-rc.0"))
    assert not v.ignores_intermediate_only(v.parse_version("1.27.0"))
    assert not v.ignores_intermediate_only(v.parse_version("1.27.1"))
    assert v.strict_bundle(v.parse_version("1.27.0")) and not v.strict_bundle(v.parse_version("1.26.3"))
