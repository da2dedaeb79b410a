# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Connection options shared by every module of the meshpki.istio_ca.k8s action group."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - When neither this nor O(host) with credentials is given, the in-cluster service account
        is used, then C(~/.kube/config) (or the first file of E(KUBECONFIG)).
      - Falls back to the E(K8S_AUTH_KUBECONFIG) environment variable.
      - Same name and meaning as in C(kubernetes.core), so one C(module_defaults) block serves both collections.
    type: raw
  context:
    description:
      - The kubeconfig context to use. Defaults to the kubeconfig's current-context.
      - Falls back to E(K8S_AUTH_CONTEXT).
    type: str
  host:
    description:
      - URL of the Kubernetes API server. Overrides the kubeconfig's cluster server.
      - Falls back to E(K8S_AUTH_HOST).
    type: str
  api_key:
    description:
      - Bearer token for the API server. Falls back to E(K8S_AUTH_API_KEY).
    type: str
  username:
    description:
      - User name for basic authentication. Falls back to E(K8S_AUTH_USERNAME).
    type: str
  password:
    description:
      - Password for basic authentication. Falls back to E(K8S_AUTH_PASSWORD).
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Falls back to E(K8S_AUTH_VERIFY_SSL) (or E(K8S_AUTH_VALIDATE_CERTS)); defaults to the kubeconfig's
        C(insecure-skip-tls-verify) inverse, else V(true).
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to a CA bundle that verifies the API server. Falls back to E(K8S_AUTH_SSL_CA_CERT).
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate for TLS client authentication. Falls back to E(K8S_AUTH_CERT_FILE).
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert). Falls back to E(K8S_AUTH_KEY_FILE).
    type: path
    aliases: [key_file]
  proxy:
    description:
      - HTTP(S) proxy URL for the API connection (C(CONNECT) tunnel for https). Falls back to E(K8S_AUTH_PROXY).
    type: str
  no_proxy:
    description:
      - Comma-separated hosts or domains that bypass O(proxy). Falls back to E(K8S_AUTH_NO_PROXY) or E(NO_PROXY).
    type: str
  impersonate_user:
    description:
      - User name to impersonate (C(Impersonate-User) header). Falls back to E(K8S_AUTH_IMPERSONATE_USER).
    type: str
  impersonate_groups:
    description:
      - Accepted for C(module_defaults) compatibility with C(kubernetes.core); group impersonation
        is sent only together with O(impersonate_user).
    type: list
    elements: str
notes:
  - Transient API errors (connection refused, HTTP 429 and 5xx) are retried with bounded exponential backoff
    where repeating the request is safe; 401 and 403 fail at once with the reason.
  - These modules talk to fixed API paths and skip API discovery, so each call costs only the requests it needs.
"""
