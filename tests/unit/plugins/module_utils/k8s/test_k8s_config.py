"""Connection settings resolve like kubernetes.core's (options, K8S_AUTH_* env, kubeconfig)."""

import os

import pytest
import yaml

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s import config as k8s_config
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sError


def kubeconfig_dict(**user):
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "east",
        "clusters": [
            {"name": "east", "cluster": {"server": "https://east.example:6443", "insecure-skip-tls-verify": True}},
            {"name": "west", "cluster": {"server": "http://127.0.0.1:9999"}},
        ],
        "contexts": [
            {"name": "east", "context": {"cluster": "east", "user": "u"}},
            {"name": "west", "context": {"cluster": "west", "user": "u"}},
        ],
        "users": [{"name": "u", "user": user or {"token": "tok-123"}}],
    }


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("K8S_AUTH_") or name == "KUBECONFIG":
            monkeypatch.delenv(name)


def params(**kw):
    base = {name: None for name in k8s_config.ENV_ALIASES}
    base.update(kw)
    return base


def test_current_context_from_dict():
    s = k8s_config.resolve(params(kubeconfig=kubeconfig_dict()))
    assert s.server == "https://east.example:6443"
    assert s.verify is False
    assert s.token == "tok-123"


def test_named_context_from_file(tmp_path):
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(kubeconfig_dict()))
    s = k8s_config.resolve(params(kubeconfig=str(path), context="west"))
    assert s.server == "http://127.0.0.1:9999"
    assert "west" in s.source


def test_env_fallbacks(tmp_path, monkeypatch):
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(kubeconfig_dict()))
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(path))
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "west")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "no")
    s = k8s_config.resolve(params())
    assert s.server == "http://127.0.0.1:9999"
    assert s.verify is False


def test_explicit_options_overlay_kubeconfig():
    s = k8s_config.resolve(params(kubeconfig=kubeconfig_dict(), host="https://other:443", api_key="xyz",
                                  validate_certs=True))
    assert (s.server, s.token, s.verify) == ("https://other:443", "xyz", True)


def test_unknown_context_names_the_known_ones():
    with pytest.raises(K8sError) as err:
        k8s_config.resolve(params(kubeconfig=kubeconfig_dict(), context="north"))
    assert "'north'" in str(err.value) and "east, west" in str(err.value)


def test_missing_kubeconfig_file_is_clear(tmp_path):
    with pytest.raises(K8sError) as err:
        k8s_config.resolve(params(kubeconfig=str(tmp_path / "nope")))
    assert "Cannot read kubeconfig" in str(err.value) and "nope" in str(err.value)


def test_no_configuration_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(K8sError) as err:
        k8s_config.resolve(params())
    assert "No Kubernetes connection is configured" in str(err.value)


def test_exec_credential_plugin(tmp_path):
    plugin = tmp_path / "cred.sh"
    plugin.write_text('#!/bin/sh\necho \'{"kind":"ExecCredential","status":{"token":"from-exec"}}\'\n')
    plugin.chmod(0o755)
    s = k8s_config.resolve(params(kubeconfig=kubeconfig_dict(exec={"command": str(plugin)})))
    assert s.token == "from-exec"


def test_exec_credential_failure_is_reported(tmp_path):
    plugin = tmp_path / "cred.sh"
    plugin.write_text("#!/bin/sh\necho 'login expired' >&2\nexit 3\n")
    plugin.chmod(0o755)
    with pytest.raises(K8sError) as err:
        k8s_config.resolve(params(kubeconfig=kubeconfig_dict(exec={"command": str(plugin)})))
    assert "exited with 3" in str(err.value) and "login expired" in str(err.value)
