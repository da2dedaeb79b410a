# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Connection settings from the official client's loader, with kubernetes.core's options on top.

Our modules share one ``module_defaults`` group and one inventory with kubernetes.core's, so both
must read a kubeconfig the same way. Everything a kubeconfig can say (contexts, ``exec`` plugins,
``auth-provider`` refresh, ``tls-server-name``, ``proxy-url``, ``tokenFile``, in-cluster service
accounts) is read by ``kubernetes.config``; this file only decides *which* loader runs and
overlays the module options, step for step as kubernetes.core 6.x does in
plugins/module_utils/k8s/client.py:

- ``_create_auth_spec``: each option from the module, else ``K8S_AUTH_<OPTION>`` or
  ``K8S_AUTH_<CLIENT ATTRIBUTE>`` (``K8S_AUTH_VALIDATE_CERTS`` or ``K8S_AUTH_VERIFY_SSL``);
  booleans are false for ``0``/``false``/``no``; ``proxy_headers`` from ``K8S_AUTH_PROXY_HEADERS_*``.
- ``_create_configuration``: ``host`` with ``api_key`` (or username+password, or client cert+key)
  loads nothing; a ``kubeconfig`` or ``context`` loads the kubeconfig (path or dict); otherwise the
  in-cluster service account, then ``$KUBECONFIG`` / ``~/.kube/config``. Then every option that is
  set overwrites the loaded ``Configuration`` attribute of the same meaning (``api_key`` as
  ``Bearer <token>``).
- ``_create_headers``: ``impersonate_user`` / ``impersonate_groups`` (or their ``K8S_AUTH_*``,
  groups comma-separated) become ``Impersonate-User`` / ``Impersonate-Group`` headers.

Unlike kubernetes.core we load into a fresh ``Configuration`` instead of the process-wide default
(the result is the same; nothing leaks into another client of the same process).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import logging
import os

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sError

try:
    import kubernetes.client
    import kubernetes.config
    import urllib3
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by K8sClient before any request
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc

# kubernetes.core plugins/module_utils/args_common.py AUTH_ARG_MAP: client attribute -> option name.
AUTH_ARG_MAP = {
    "kubeconfig": "kubeconfig",
    "context": "context",
    "host": "host",
    "api_key": "api_key",
    "username": "username",
    "password": "password",
    "verify_ssl": "validate_certs",
    "ssl_ca_cert": "ca_cert",
    "cert_file": "client_cert",
    "key_file": "client_key",
    "proxy": "proxy",
    "no_proxy": "no_proxy",
    "proxy_headers": "proxy_headers",
    "persist_config": "persist_config",
}
BOOL_OPTIONS = ("validate_certs", "persist_config")
PROXY_HEADER_OPTIONS = {"proxy_basic_auth": "str", "basic_auth": "str", "user_agent": "str"}
# kubernetes.core _create_headers
IMPERSONATION_HEADERS = (("impersonate_user", "Impersonate-User", False),
                         ("impersonate_groups", "Impersonate-Group", True))


class Connection(object):
    """What one API server connection needs: the client Configuration, extra headers, a description."""

    def __init__(self, configuration, headers=None, source=None, load_errors=None):
        self.configuration = configuration
        self.headers = headers or {}
        self.source = source or "host option %s" % configuration.host
        self.load_errors = load_errors or []  # what the loader logged and went on without (a failed exec plugin)

    @property
    def server(self):
        return self.configuration.host


def _env_bool(value):
    return value.lower() not in ("0", "false", "no")


def auth_spec(params):
    """kubernetes.core ``_create_auth_spec``: client attribute -> value, env fallbacks included."""
    auth = {}
    for true_name, arg_name in AUTH_ARG_MAP.items():
        if params.get(arg_name) is not None:
            auth[true_name] = params.get(arg_name)
        elif arg_name == "proxy_headers":
            headers = {}
            for key in PROXY_HEADER_OPTIONS:
                value = os.environ.get("K8S_AUTH_PROXY_HEADERS_%s" % key.upper())
                if value is not None:
                    headers[key] = value
            auth[true_name] = headers
        else:
            value = (os.environ.get("K8S_AUTH_%s" % arg_name.upper())
                     or os.environ.get("K8S_AUTH_%s" % true_name.upper()))
            if value is not None:
                auth[true_name] = _env_bool(value) if arg_name in BOOL_OPTIONS else value
    return auth


def impersonation_headers(params):
    """kubernetes.core ``_create_headers``."""
    headers = {}
    for name, header, is_list in IMPERSONATION_HEADERS:
        value = params.get(name)
        if value is None:
            value = os.environ.get("K8S_AUTH_%s" % name.upper())
            if value is not None and is_list:
                value = [item for item in value.split(",") if item != ""]
        if value:
            headers[header] = ",".join(value) if is_list else value
    return headers


def shown(path):
    """A kubeconfig path as a person can read it in an error.

    The kubeconfig option is no_log (a kubeconfig given as a dict holds credentials), so Ansible masks
    every occurrence of the option's value in a result: a path printed whole would read "********".
    A file name and its directory, printed apart, are not the masked value; a path is no secret.
    """
    path = str(path)
    directory, name = os.path.split(path)
    return "file %r in directory %s" % (name, directory or ".") if directory else "file %r" % name


def _describe(auth, kubeconfig_used):
    """Where the settings came from, for error messages (never the kubeconfig's content)."""
    context = auth.get("context")
    where = "context %r of " % context if context else ""
    kubeconfig = auth.get("kubeconfig")
    if kubeconfig_used == "in-cluster":
        return "the in-cluster service account"
    if isinstance(kubeconfig, dict):
        return where + "the kubeconfig given as a dict"
    if kubeconfig:
        return where + "kubeconfig " + shown(kubeconfig)
    if kubeconfig_used == "default":
        path = os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0]
        return where + "the default kubeconfig " + shown(os.path.expanduser(path))
    return "host option %s" % auth.get("host")


def _load_kubeconfig(auth, configuration):
    """kubernetes.core ``_load_config``, into ``configuration``."""
    kubeconfig = auth.get("kubeconfig")
    optional = {"context": auth.get("context"), "persist_config": auth.get("persist_config"),
                "client_configuration": configuration}
    if isinstance(kubeconfig, dict):
        kubernetes.config.load_kube_config_from_dict(config_dict=kubeconfig, **optional)
    elif kubeconfig:
        kubernetes.config.load_kube_config(config_file=kubeconfig, **optional)
    else:
        kubernetes.config.load_kube_config(config_file=None, **optional)


class _LoaderErrors(logging.Handler):
    """What ``kube_config`` logs and then carries on without.

    The loader logs a failing ``exec`` credential plugin (``_load_from_exec_plugin``) and goes on
    with no credentials, so kubernetes.core's modules get a bare 401. We keep that outcome and keep
    the loader's words, to name the cause when the server answers 401.
    """

    def __init__(self):
        super(_LoaderErrors, self).__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage().strip()[:300])


POINT_AT_ONE = ("Point at a kubeconfig file with the module's kubeconfig option (host var k8s_kubeconfig in this "
                "collection's playbooks), or the K8S_AUTH_KUBECONFIG or KUBECONFIG environment variable; "
                "or give host with api_key (or client_cert and client_key).")


def _kubeconfig_files(params, auth):
    """(path, where the path came from) of each kubeconfig file the loader looked at (a dict: none)."""
    kubeconfig = auth.get("kubeconfig")
    if isinstance(kubeconfig, dict):
        return []
    if kubeconfig:
        origin = "the kubeconfig option" if params.get("kubeconfig") is not None else "K8S_AUTH_KUBECONFIG"
        return [(os.path.expanduser(str(kubeconfig)), origin)]
    # kube_config.py KUBE_CONFIG_DEFAULT_LOCATION: $KUBECONFIG (os.pathsep-separated, merged), else ~/.kube/config
    if os.environ.get("KUBECONFIG"):
        return [(os.path.expanduser(p), "KUBECONFIG") for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    return [(os.path.expanduser("~/.kube/config"), "the default location")]


def _file_state(path):
    """Why a kubeconfig file gave the loader no configuration: missing, unreadable, empty or without contexts."""
    if not os.path.exists(path):
        return "does not exist"
    if os.path.isdir(path):
        return "is a directory"
    try:
        with open(path, "rb") as handle:
            empty = not handle.read().strip()
    except (IOError, OSError) as exc:
        return "cannot be read (%s)" % (exc.strerror or exc)
    return "is empty" if empty else "holds no configuration (no clusters, users or contexts)"


def _no_configuration(params, auth, text):
    """The loader's "Invalid kube-config file. No configuration found." with the file(s) looked for and why."""
    files = _kubeconfig_files(params, auth)
    looked = "; ".join("%s (from %s) %s" % (shown(path), origin, _file_state(path)) for path, origin in files)
    if not auth.get("kubeconfig"):
        return K8sError("No Kubernetes connection is configured: no kubeconfig option, no K8S_AUTH_* variables, no "
                        "in-cluster service account, and the kubeconfig looked for: %s (the loader said: %s)."
                        % (looked or "none", text), POINT_AT_ONE)
    return K8sError("Cannot read a kubeconfig: %s (the loader said: %s)." % (looked or "the dict given", text),
                    POINT_AT_ONE)


def _config_error(exc, auth, source, params=None):
    """A loader error with what to check; the loader's own text says which part is wrong."""
    text = str(exc).strip() or exc.__class__.__name__
    hint = "Check kubeconfig/context (host vars k8s_kubeconfig/k8s_context or K8S_AUTH_KUBECONFIG/K8S_AUTH_CONTEXT)."
    if "No configuration found" in text:
        return _no_configuration(params or {}, auth, text)
    if text.rstrip(".").endswith("file is empty"):
        # kube_config.py KubeConfigMerger: "Invalid kube-config. <path> file is empty." (the whole path, which
        # the no_log kubeconfig option would mask: said again through shown())
        return _no_configuration(params or {}, auth, "Invalid kube-config: the file is empty")
    return K8sError("Cannot use %s: %s." % (source, text), hint)


def resolve(params):
    """The ``Connection`` for one module run's options (``K8S_AUTH_*`` fallbacks included)."""
    if not HAS_KUBERNETES:
        raise K8sError("The kubernetes Python package is required (%s)." % KUBERNETES_IMPORT_ERROR,
                       "Install it on the controller: pip install kubernetes.")
    auth = auth_spec(params)

    def auth_set(*names):
        return all(auth.get(name) for name in names)

    if auth_set("host"):
        auth["host"] = auth["host"].rstrip("/")
    configuration = kubernetes.client.Configuration()
    used = None
    captured = _LoaderErrors()
    root = logging.getLogger()
    root.addHandler(captured)
    # the loader raises many kinds of exception (ConfigException, OSError, yaml errors, ValueError...)
    try:
        if auth_set("username", "password", "host") or auth_set("api_key", "host") or \
                auth_set("cert_file", "key_file", "host"):
            pass  # enough to authenticate: no kubeconfig, no in-cluster config (kubernetes.core)
        elif auth_set("kubeconfig") or auth_set("context"):
            used = "kubeconfig"
            _load_kubeconfig(auth, configuration)
        else:
            try:
                kubernetes.config.load_incluster_config(client_configuration=configuration)
                used = "in-cluster"
            except kubernetes.config.ConfigException:
                used = "default"
                _load_kubeconfig(auth, configuration)
    except K8sError:
        raise
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise _config_error(exc, auth, _describe(auth, used), params)
    finally:
        root.removeHandler(captured)
    for key, value in auth.items():
        if value is None:
            continue
        if key == "api_key":
            configuration.api_key = {"authorization": "Bearer %s" % value}
        elif key == "proxy_headers":
            configuration.proxy_headers = urllib3.util.make_headers(**value)
        else:
            setattr(configuration, key, value)
    return Connection(configuration, impersonation_headers(params), _describe(auth, used), captured.messages)
