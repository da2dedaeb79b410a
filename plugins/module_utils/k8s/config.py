# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Resolve connection settings the way kubernetes.core does, without the kubernetes client.

Order (kubernetes.core ``k8s/client.py`` ``_create_configuration``, docs/upstream/kubernetes-core.md#config-loading-order):
explicit module options, then ``K8S_AUTH_*`` environment variables, then the kubeconfig
(path or dict; ``context`` or its current-context), then in-cluster service account, then
``~/.kube/config``. Explicit options overlay what the kubeconfig gives.

Importing the official client costs about half a second of CPU per module run; a
fleet rotation runs our modules many times per cluster, so this small resolver keeps
module start-up cheap. Exotic ``auth-provider`` users fall back to the official loader.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import subprocess

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sError

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - reported by the module at start-up
    HAS_YAML = False

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# Ansible option name -> alternative name kubernetes.core also reads from K8S_AUTH_<NAME>.
ENV_ALIASES = {
    "kubeconfig": None,
    "context": None,
    "host": None,
    "api_key": None,
    "username": None,
    "password": None,
    "validate_certs": "verify_ssl",
    "ca_cert": "ssl_ca_cert",
    "client_cert": "cert_file",
    "client_key": "key_file",
    "proxy": None,
    "no_proxy": None,
    "impersonate_user": None,
    "impersonate_groups": None,
}
BOOL_OPTIONS = ("validate_certs",)


def _env(name, alias):
    value = os.environ.get("K8S_AUTH_%s" % name.upper())
    if value is None and alias:
        value = os.environ.get("K8S_AUTH_%s" % alias.upper())
    return value


def options_with_env(params):
    """Module options, each missing one filled from its K8S_AUTH_* variable."""
    merged = {}
    for name, alias in ENV_ALIASES.items():
        value = params.get(name)
        if value is None:
            value = _env(name, alias)
            if value is not None and name in BOOL_OPTIONS:
                value = value.lower() not in ("0", "false", "no")
            if value is not None and name == "impersonate_groups":
                value = [g.strip() for g in value.split(",") if g.strip()]
        merged[name] = value
    return merged


class Settings(object):
    """Everything the transport needs. Secrets live here only in memory."""

    def __init__(self):
        self.server = None
        self.token = None
        self.username = None
        self.password = None
        self.verify = True
        self.ca_file = None
        self.ca_data = None
        self.cert_file = None
        self.key_file = None
        self.cert_data = None
        self.key_data = None
        self.proxy = None
        self.no_proxy = None
        self.impersonate_user = None
        self.impersonate_groups = None
        self.source = None  # where the settings came from, for error messages


def _shown(path):
    """The kubeconfig path as a person can read it in an error.

    The kubeconfig option is no_log (a kubeconfig given as a dict holds credentials), so Ansible masks
    every occurrence of the option's value in a result: a path printed whole would read "********".
    A file name and its directory, printed apart, are not the masked value; a path is no secret.
    """
    path = str(path)
    directory, name = os.path.split(path)
    return "file %r in directory %s" % (name, directory or ".") if directory else "file %r" % name


def _load_yaml_file(path):
    try:
        with open(path, "r") as handle:
            return yaml.safe_load(handle) or {}
    except (IOError, OSError) as exc:
        raise K8sError("Cannot read kubeconfig %s: %s." % (_shown(path), exc.strerror or exc),
                       "Set kubeconfig (or K8S_AUTH_KUBECONFIG) to a readable file.")
    except yaml.YAMLError as exc:
        raise K8sError("Kubeconfig %s is not valid YAML: %s." % (_shown(path), str(exc).splitlines()[0]))


def _named(items, name, what, source):
    for item in items or []:
        if item.get("name") == name:
            return item.get(what) or {}
    known = ", ".join(sorted(i.get("name", "?") for i in items or [])) or "none"
    raise K8sError("%s %r is not defined in kubeconfig %s (defined: %s)." % (what.capitalize(), name, source, known),
                   "Check the context name (host var k8s_context) against the kubeconfig.")


def _decode(data, what):
    try:
        return base64.b64decode(data)
    except (TypeError, ValueError):
        raise K8sError("The kubeconfig field %s is not valid base64." % what)


def _relative(path, base_dir):
    if path and base_dir and not os.path.isabs(path):
        return os.path.join(base_dir, path)
    return path


def _exec_credential(spec, source):
    """Run a client-go credential plugin (``users[].user.exec``) and return its status."""
    command = [spec.get("command")] + list(spec.get("args") or [])
    env = dict(os.environ)
    for item in spec.get("env") or []:
        env[item.get("name")] = item.get("value", "")
    env["KUBERNETES_EXEC_INFO"] = json.dumps({
        "apiVersion": spec.get("apiVersion", "client.authentication.k8s.io/v1"),
        "kind": "ExecCredential", "spec": {"interactive": False}})
    try:
        out = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise K8sError("The credential plugin %r of kubeconfig %s failed to run: %s." % (command[0], source, exc),
                       spec.get("installHint") or "")
    if out.returncode != 0:
        raise K8sError("The credential plugin %r of kubeconfig %s exited with %d: %s" % (
            command[0], source, out.returncode, out.stderr.decode("utf-8", "replace").strip()[:300]))
    try:
        return json.loads(out.stdout.decode("utf-8")).get("status") or {}
    except ValueError:
        raise K8sError("The credential plugin %r did not print an ExecCredential JSON object." % command[0])


def _auth_provider_token(kubeconfig, context_name):
    """Legacy auth-provider entries (oidc, gcp, azure): let the official loader do it."""
    try:
        from kubernetes.config import kube_config  # pylint: disable=import-outside-toplevel
        from kubernetes.client import Configuration  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise K8sError("This kubeconfig uses an auth-provider, which needs the kubernetes Python package.",
                       "Install it (pip install kubernetes) or use an exec credential plugin.")
    config = Configuration()
    kube_config.load_kube_config_from_dict(kubeconfig, context=context_name, client_configuration=config)
    header = (config.api_key or {}).get("authorization", "")
    return header.split(" ", 1)[-1] if header else None


def _from_kubeconfig(settings, kubeconfig, context_name, source, base_dir):
    contexts = kubeconfig.get("contexts") or []
    context_name = context_name or kubeconfig.get("current-context")
    if not context_name:
        raise K8sError("Kubeconfig %s has no current-context and no context was given." % source,
                       "Set context (host var k8s_context or K8S_AUTH_CONTEXT).")
    context = _named(contexts, context_name, "context", source)
    cluster = _named(kubeconfig.get("clusters"), context.get("cluster"), "cluster", source)
    user = {}
    if context.get("user"):
        user = _named(kubeconfig.get("users"), context.get("user"), "user", source)
    settings.server = cluster.get("server")
    settings.verify = not cluster.get("insecure-skip-tls-verify", False)
    if cluster.get("certificate-authority-data"):
        settings.ca_data = _decode(cluster["certificate-authority-data"], "certificate-authority-data")
    settings.ca_file = _relative(cluster.get("certificate-authority"), base_dir)
    settings.proxy = cluster.get("proxy-url")
    if user.get("client-certificate-data"):
        settings.cert_data = _decode(user["client-certificate-data"], "client-certificate-data")
    if user.get("client-key-data"):
        settings.key_data = _decode(user["client-key-data"], "client-key-data")
    settings.cert_file = _relative(user.get("client-certificate"), base_dir)
    settings.key_file = _relative(user.get("client-key"), base_dir)
    settings.token = user.get("token")
    if not settings.token and user.get("tokenFile"):
        with open(_relative(user["tokenFile"], base_dir)) as handle:
            settings.token = handle.read().strip()
    settings.username = user.get("username")
    settings.password = user.get("password")
    settings.impersonate_user = user.get("as")
    settings.impersonate_groups = user.get("as-groups")
    if user.get("exec"):
        status = _exec_credential(user["exec"], source)
        settings.token = status.get("token") or settings.token
        if status.get("clientCertificateData"):
            settings.cert_data = status["clientCertificateData"].encode("utf-8")
            settings.key_data = status["clientKeyData"].encode("utf-8")
    elif user.get("auth-provider"):
        settings.token = _auth_provider_token(kubeconfig, context_name)
    settings.source = "context %r of kubeconfig %s" % (context_name, source)


def resolve(params):
    """Return ``Settings`` for the options of one module run (env fallbacks included)."""
    if not HAS_YAML:
        raise K8sError("The PyYAML Python package is required to read kubeconfig files.")
    opts = options_with_env(params)
    settings = Settings()
    kubeconfig = opts["kubeconfig"]
    explicit_auth = opts["host"] and (opts["api_key"] or opts["client_cert"] or opts["username"])
    if kubeconfig or opts["context"] or not explicit_auth:
        base_dir = None
        if isinstance(kubeconfig, dict):
            data, source = kubeconfig, "(given as a dict)"
        elif kubeconfig:
            paths = [p for p in str(kubeconfig).split(os.pathsep) if p]
            path = os.path.expanduser(paths[0])
            data, source, base_dir = _load_yaml_file(path), path, os.path.dirname(os.path.abspath(path))
        elif os.path.exists(os.path.join(SA_DIR, "token")) and os.environ.get("KUBERNETES_SERVICE_HOST"):
            data, source = None, "in-cluster service account"
            settings.server = "https://%s:%s" % (os.environ["KUBERNETES_SERVICE_HOST"],
                                                 os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
            with open(os.path.join(SA_DIR, "token")) as handle:
                settings.token = handle.read().strip()
            settings.ca_file = os.path.join(SA_DIR, "ca.crt")
            settings.source = source
        else:
            path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
            if not os.path.exists(path) and not opts["host"]:
                raise K8sError("No Kubernetes connection is configured: no kubeconfig option, no K8S_AUTH_* "
                               "variables, no in-cluster service account and no %s." % path,
                               "Set kubeconfig/context (host vars k8s_kubeconfig/k8s_context) for this cluster.")
            data, source = (_load_yaml_file(path), path) if os.path.exists(path) else (None, None)
            base_dir = os.path.dirname(path)
        if data is not None:
            if not isinstance(data, dict):
                raise K8sError("Kubeconfig %s does not hold a kubeconfig mapping." % source)
            _from_kubeconfig(settings, data, opts["context"], source, base_dir)
    # Explicit options overlay the kubeconfig (kubernetes.core semantics).
    if opts["host"]:
        settings.server = opts["host"]
        settings.source = settings.source or "host option %s" % opts["host"]
    if opts["api_key"]:
        settings.token = opts["api_key"]
    if opts["username"]:
        settings.username, settings.password = opts["username"], opts["password"]
    if opts["validate_certs"] is not None:
        settings.verify = bool(opts["validate_certs"])
    if opts["ca_cert"]:
        settings.ca_file, settings.ca_data = opts["ca_cert"], None
    if opts["client_cert"]:
        settings.cert_file, settings.cert_data = opts["client_cert"], None
    if opts["client_key"]:
        settings.key_file, settings.key_data = opts["client_key"], None
    if opts["proxy"]:
        settings.proxy = opts["proxy"]
    settings.no_proxy = opts["no_proxy"] or os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    if opts["impersonate_user"]:
        settings.impersonate_user = opts["impersonate_user"]
    if opts["impersonate_groups"]:
        settings.impersonate_groups = opts["impersonate_groups"]
    if not settings.server:
        raise K8sError("No API server address found in %s." % (settings.source or "the options"),
                       "Set host, or a kubeconfig whose cluster has a server.")
    return settings
