"""Connection settings resolve as kubernetes.core's do: the official loader, then options and K8S_AUTH_*.

The rules are kubernetes.core 6.x plugins/module_utils/k8s/client.py ``_create_auth_spec``,
``_create_configuration`` and ``_create_headers``; the kubeconfig itself is read by kubernetes.config.
"""

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
            {"name": "west", "cluster": {"server": "https://127.0.0.1:9999", "tls-server-name": "api.west",
                                         "proxy-url": "http://127.0.0.1:3128"}},
        ],
        "contexts": [
            {"name": "east", "context": {"cluster": "east", "user": "u"}},
            {"name": "west", "context": {"cluster": "west", "user": "u"}},
        ],
        "users": [{"name": "u", "user": user or {"token": "tok-123"}}],
    }


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("K8S_AUTH_") or name.startswith("KUBERNETES_SERVICE") or name == "KUBECONFIG":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def token(conn):
    return conn.configuration.get_api_key_with_prefix("BearerToken", alias="authorization")


def test_current_context_from_dict():
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict()})
    assert c.server == "https://east.example:6443"
    assert c.configuration.verify_ssl is False
    assert token(c) == "Bearer tok-123"


def test_named_context_from_file_with_tls_server_name_and_proxy(tmp_path):
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(kubeconfig_dict()))
    c = k8s_config.resolve({"kubeconfig": str(path), "context": "west"})
    assert c.server == "https://127.0.0.1:9999"
    assert c.configuration.tls_server_name == "api.west"
    assert c.configuration.proxy == "http://127.0.0.1:3128"
    assert "'west'" in c.source and "'kc'" in c.source and str(path) not in c.source


def test_env_fallbacks(tmp_path, monkeypatch):
    path = tmp_path / "kc"
    path.write_text(yaml.safe_dump(kubeconfig_dict()))
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(path))
    monkeypatch.setenv("K8S_AUTH_CONTEXT", "west")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "no")
    c = k8s_config.resolve({})
    assert c.server == "https://127.0.0.1:9999"
    assert c.configuration.verify_ssl is False


def test_option_name_env_wins_over_client_attribute_env(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_VALIDATE_CERTS", "true")
    monkeypatch.setenv("K8S_AUTH_VERIFY_SSL", "false")
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict()})
    assert c.configuration.verify_ssl is True


def test_module_option_wins_over_env(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", "https://from-env:6443")
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict(), "host": "https://from-option:6443/"})
    assert c.server == "https://from-option:6443"


def test_explicit_options_overlay_kubeconfig():
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict(), "host": "https://other:443", "api_key": "xyz",
                            "validate_certs": True})
    assert (c.server, token(c), c.configuration.verify_ssl) == ("https://other:443", "Bearer xyz", True)


def test_host_and_token_load_no_kubeconfig(tmp_path, monkeypatch):
    broken = tmp_path / "broken"
    broken.write_text("not: [a kubeconfig")
    monkeypatch.setenv("KUBECONFIG", str(broken))
    c = k8s_config.resolve({"host": "https://h:6443", "api_key": "t"})
    assert (c.server, token(c)) == ("https://h:6443", "Bearer t")
    assert c.source == "host option https://h:6443"


def test_in_cluster_before_default_kubeconfig(tmp_path, monkeypatch):
    from kubernetes.config import incluster_config
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("ca")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tmp_path / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    c = k8s_config.resolve({})
    # incluster_config.py sets the prefix "bearer" (lower case; the scheme is case-insensitive)
    assert (c.server, token(c), c.source) == ("https://10.0.0.1:443", "bearer sa-token",
                                              "the in-cluster service account")
    assert c.configuration.ssl_ca_cert == str(tmp_path / "ca.crt")


def test_unknown_context_is_named():
    with pytest.raises(K8sError) as err:
        k8s_config.resolve({"kubeconfig": kubeconfig_dict(), "context": "north"})
    assert "north" in str(err.value) and "Check kubeconfig/context" in str(err.value)


POINTERS = ("kubeconfig option", "K8S_AUTH_KUBECONFIG", "KUBECONFIG")


def test_missing_kubeconfig_file_is_clear(tmp_path):
    """The loader only says "Invalid kube-config file. No configuration found.": the error names the file
    looked for, where its path came from, why it gave nothing, and the three ways to point at one."""
    with pytest.raises(K8sError) as err:
        k8s_config.resolve({"kubeconfig": str(tmp_path / "nope")})
    text = str(err.value)
    assert "file 'nope' in directory %s (from the kubeconfig option) does not exist" % tmp_path in text
    assert all(p in text for p in POINTERS), text


def test_empty_kubeconfig_from_k8s_auth_kubeconfig(tmp_path, monkeypatch):
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n")
    monkeypatch.setenv("K8S_AUTH_KUBECONFIG", str(empty))
    with pytest.raises(K8sError) as err:
        k8s_config.resolve({})
    assert "file 'empty.yaml' in directory %s (from K8S_AUTH_KUBECONFIG) is empty" % tmp_path in str(err.value)


def test_no_configuration_at_all(tmp_path):
    with pytest.raises(K8sError) as err:
        k8s_config.resolve({})
    text = str(err.value)
    assert "No Kubernetes connection is configured" in text
    assert "file 'config' in directory %s (from the default location) does not exist" % (
        tmp_path / "home" / ".kube") in text
    assert all(p in text for p in POINTERS), text


def test_every_kubeconfig_path_is_named(tmp_path, monkeypatch):
    """KUBECONFIG may list several files (merged by the loader): each is named with its state."""
    (tmp_path / "b").write_text("")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    with pytest.raises(K8sError) as err:
        k8s_config.resolve({})
    text = str(err.value)
    assert "file 'a' in directory %s (from KUBECONFIG) does not exist" % tmp_path in text
    assert "file 'b' in directory %s (from KUBECONFIG) is empty" % tmp_path in text


def test_exec_credential_plugin(tmp_path):
    plugin = tmp_path / "cred.sh"
    plugin.write_text('#!/bin/sh\necho \'{"apiVersion":"client.authentication.k8s.io/v1",'
                      '"kind":"ExecCredential","status":{"token":"from-exec"}}\'\n')
    plugin.chmod(0o755)
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict(exec={
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "interactiveMode": "Never"})})
    assert token(c) == "Bearer from-exec"
    assert c.load_errors == []


def test_exec_credential_failure_is_kept_for_the_401(tmp_path):
    plugin = tmp_path / "cred.sh"
    plugin.write_text("#!/bin/sh\necho 'login expired' >&2\nexit 3\n")
    plugin.chmod(0o755)
    c = k8s_config.resolve({"kubeconfig": kubeconfig_dict(exec={
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), "interactiveMode": "Never"})})
    assert token(c) is None
    assert any("login expired" in m for m in c.load_errors)


def test_impersonation_headers():
    c = k8s_config.resolve({"host": "https://h", "api_key": "t", "impersonate_user": "jane",
                            "impersonate_groups": ["a", "b"]})
    assert c.headers == {"Impersonate-User": "jane", "Impersonate-Group": "a,b"}
