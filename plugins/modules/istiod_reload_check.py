#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: istiod_reload_check
short_description: Prove that every istiod pod signs with the intermediate CA now in the cacerts Secret
version_added: 0.1.0
description:
  - Reads the C(cacerts) Secret (intermediate = first certificate of C(tls.crt), root = C(ca.crt); or the
    Istio-native C(ca-cert.pem) and C(root-cert.pem) when there is no C(tls.crt), as istiod itself decides),
    lists the istiod pods of every revision (label C(app=istiod)), and waits until each of them has loaded
    that intermediate, or until O(timeout).
  - Evidence per pod, from the pods/log subresource since O(since) only (istiod logs the same certificate
    lines at startup, so older lines never count) - the success line
    C(Istiod has detected the newly added intermediate CA and updated its key and certs accordingly) and the
    C(x509 cert - Issuer ..., Subject ..., SN ...) lines of istiod's re-issued serving chain, where the
    intermediate's C(SN) must equal the expected serial and the leaf's C(Issuer) that intermediate's
    C(Subject).
  - A pod that started after the Secret changed and logged C(Use local CA certificate) with the right
    C(x509 cert) lines has loaded the intermediate at start; RV(pods[].loaded_at_start) says so.
  - On Istio 1.24 and later, when the log alone cannot decide, the metric
    C(citadel_server_cert_chain_expiry_timestamp) (port 15014, through the pods/proxy subresource) equal
    to the intermediate's NotAfter also proves it. Older versions do not refresh that metric on reload.
  - Reads istiod's log level from the C(--log_output_level) argument of its C(discovery) container (Helm chart
    value C(global.logging.level)). Above info for the default scope (for example C(default:warn)) the success
    marker and the C(x509 cert) lines are never written; on 1.24 and later the metric is then asked at once and
    is the only proof, before 1.24 (or when the metric cannot be read) the pod fails at once with problem
    V(log_level_hides_reload) naming the cause and the fix, instead of waiting for O(timeout).
  - Explains every pod that has not reloaded with a cause and a fix in RV(problems) - hot reload off (Istio
    1.12 to 1.17 without C(AUTO_RELOAD_PLUGIN_CERTS=true), 1.12 and 1.13 never reload from a Secret volume,
    1.11 and older cannot reload), istiod running its self-signed CA (it never watches C(cacerts) then),
    a root change refused without multi-root (C(Multi root is disabled, updating new ROOT-CA not supported),
    before 1.20 C(Updating new ROOT-CA not supported)), rejected material
    (C(Failed to update new Plug-in CA certs), istiod keeps the old CA), an undetectable file format, a
    stopped watcher, no istiod at all, and a timeout (kubelet may take a minute or more to update a Secret
    volume).
  - Compares the C(root-cert.pem) of every namespace's C(istio-ca-root-cert) ConfigMap with the Secret's root,
    byte for byte as istiod does, and names the namespaces that differ (RV(root_consistent),
    RV(mismatched_namespaces)); a difference in whitespace, order or PEM encoding alone is pointed out,
    since istiod still treats it as a root change.
  - Read-only; never reads the values of C(tls.key) or C(ca-key.pem) and never returns key material.
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  namespace:
    description:
      - Namespace of istiod and of the C(cacerts) Secret.
    type: str
    default: istio-system
  secret_name:
    description:
      - Name of the Secret istiod mounts at C(/etc/cacerts).
    type: str
    default: cacerts
  expected_serial:
    description:
      - Serial number of the intermediate istiod should have loaded.
      - A string is read as hexadecimal, the way istiod logs it (C(SN) of its C(x509 cert) lines); a C(0x)
        prefix and colon separators are allowed. An integer is the serial number itself.
      - Defaults to the serial of the first certificate of C(tls.crt) (or C(ca-cert.pem)) in the Secret.
        When given and different from the Secret's, RV(problems) says so.
    type: raw
  since:
    description:
      - Only log lines at or after this time count as evidence. RFC 3339 (V(2025-01-31T12:00:00Z); UTC
        when no offset is given) or Unix seconds.
      - Defaults to when the Secret's data last changed - the newest C(managedFields) entry that owns
        C(data) (its time moves whenever that field manager changes the data), else the newest
        C(managedFields) time, else the Secret's C(creationTimestamp). RV(since_source) says which.
      - Required when the Secret does not exist.
    type: raw
  timeout:
    description:
      - Seconds to wait for every pod to show the reload. Unset, it is the reload window kubelet's sync cadence
        implies - O(kubelet_sync_frequency) x 1.5 (kubelet requeues each pod after a jittered sync interval,
        factor 0.5, so each istiod pod sees the new files at its own moment) + O(kubelet_cache_ttl) + 30 s margin;
        120 s with the defaults. RV(timeout) and RV(reload_window) return what was used.
      - The check polls every 2 seconds at first, slowing to every 5 seconds, and stops early once every pod
        has either reloaded or cannot reload without someone acting (for example hot reload off).
      - V(0) looks once.
    type: float
  kubelet_sync_frequency:
    description:
      - The kubelets' C(syncFrequency) (KubeletConfiguration; default V(1m)), a Go duration. Used for the default
        O(timeout).
    type: str
    default: 1m
    version_added: 0.2.0
  kubelet_cache_ttl:
    description:
      - How long kubelet may serve a Secret from its cache - V(0s) with the default C(Watch) change-detection
        strategy; with C(Cache), the nodes' C(node.alpha.kubernetes.io/ttl) (0 s up to 100 nodes, then 15 s, 30 s,
        60 s, 300 s, 600 s as the cluster grows). Used for the default O(timeout).
    type: str
    default: 0s
    version_added: 0.2.0
  fail_on_not_reloaded:
    description:
      - Fail the task (with the full result, RV(problems) included) when not every istiod pod has reloaded.
      - With V(false) the task succeeds and RV(reloaded) is false.
      - Root ConfigMap differences alone never fail the task; test RV(root_consistent).
    type: bool
    default: true
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - meshpki.istio_ca.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
notes:
  - Needs C(get) on C(secrets), C(list) on C(pods) and C(get) on C(pods/log) in O(namespace), C(list) on
    C(configmaps) in all namespaces, and C(get) on C(pods/proxy) for the metric (optional).
  - Istio's version comes from the istiod image tag (else the C(app.kubernetes.io/version) label); with an
    unknown version hot reload is assumed on. Env values set through C(valueFrom) count as unset.
  - Namespaces without an C(istio-ca-root-cert) ConfigMap are not reported; istiod skips some namespaces on
    purpose (discovery selectors, C(kube-public), ...).
  - The log is the evidence, so it must still hold the lines written since O(since). When it does not (kubelet
    rotated the container log, or the Secret was written back with the bytes istiod already had, so istiod saw
    no change and logged nothing), only the metric can prove the reload, on Istio 1.24 and later; older
    versions then end in a timeout.
  - O(since) has whole-second precision when it comes from the Secret, so lines of the same second count. A pod
    that started in that second is judged on its serial numbers, which old startup lines do not match.
  - Cost per call - one Secret read, then per poll one pod list plus one log request (from O(since) on) per pod
    not yet decided, and one ConfigMap list at the end; metrics and the head of a pod's log only when the log
    since O(since) cannot decide. RV(api_requests) reports the count.
requirements:
  - cryptography >= 42.0
  - prometheus-client >= 0.8.0 (istiod's metrics)
seealso:
  - module: meshpki.istio_ca.x509_inspect
  - name: Istio plug-in CA certificates
    description: How istiod reads a plugged-in intermediate CA from the cacerts Secret.
    link: https://istio.io/latest/docs/tasks/security/cert-management/plugin-ca-cert/
"""

EXAMPLES = r"""
- name: Wait until every istiod pod loaded the intermediate now in cacerts
  meshpki.istio_ca.istiod_reload_check:
    kubeconfig: "{{ kubeconfig_path }}"
    context: "{{ inventory_hostname }}"
    timeout: 300
  register: reload

- name: Show which pods reloaded and how
  ansible.builtin.debug:
    msg: "{{ reload.pods | map(attribute='name') | zip(reload.pods | map(attribute='how')) | list }}"

- name: Check a rotation without failing the play, then decide
  meshpki.istio_ca.istiod_reload_check:
    expected_serial: "{{ issued.serial_hex }}"
    since: "{{ rotation_started }}"
    timeout: 120
    fail_on_not_reloaded: false
  register: reload

- name: Stop when the mesh root is not the same everywhere
  ansible.builtin.assert:
    that:
      - reload.reloaded
      - reload.root_consistent
    fail_msg: "{{ reload.problems | map(attribute='cause') | join(' ') }}"

- name: Use the shared connection defaults of the k8s action group
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ kubeconfig_path }}"
      context: "{{ inventory_hostname }}"
  block:
    - name: Check istiod in a non-default namespace and Secret
      meshpki.istio_ca.istiod_reload_check:
        namespace: istio-control
        secret_name: cacerts
"""

RETURN = r"""
changed:
  description: Always false; the module only reads.
  returned: always
  type: bool
  sample: false
reloaded:
  description:
    - True when every istiod pod of every revision has loaded the expected intermediate.
    - False when there is no istiod pod.
  returned: success
  type: bool
  sample: true
pods:
  description: One entry per istiod pod (label C(app=istiod)), sorted by revision and name.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Pod name.
      type: str
      returned: success
      sample: istiod-6d8f9c7b5-x2k4q
    revision:
      description: The pod's C(istio.io/rev) label, V(default) when it has none.
      type: str
      returned: success
      sample: canary
    version:
      description: Istio version from the image tag; null when unknown.
      type: str
      returned: success
      sample: 1.22.3
    image:
      description: Image of the C(discovery) container.
      type: str
      returned: success
      sample: docker.io/istio/pilot:1.22.3
    auto_reload_plugin_certs:
      description:
        - The literal value of the C(AUTO_RELOAD_PLUGIN_CERTS) environment variable of the C(discovery) container,
          null when unset or set from a reference. It decides hot reload on Istio 1.14 to 1.18.
      type: str
      returned: success
      sample: "true"
    log_level:
      description:
        - The default scope's level from the C(discovery) container's C(--log_output_level) (V(info) without the
          flag); null when the flag cannot be parsed. Above V(info) the log cannot prove a reload.
      type: str
      returned: success
      sample: info
    started_at:
      description: When the C(discovery) container last started (RFC 3339 UTC).
      type: str
      returned: success
      sample: "2025-01-31T11:02:07Z"
    reloaded:
      description: True when this pod has loaded the expected intermediate.
      type: bool
      returned: success
      sample: true
    how:
      description:
        - V(hot_reload) (log lines of a reload), V(at_start) (the pod started after the Secret changed),
          V(metric) (the chain-expiry metric only), or null when not reloaded.
      type: str
      returned: success
      sample: hot_reload
    loaded_at_start:
      description: True when the pod started after the Secret changed and loaded the intermediate at start.
      type: bool
      returned: success
      sample: false
    evidence:
      description: The log lines (timestamp and message, shortened) or metric that decided the verdict.
      type: list
      elements: str
      returned: success
      sample:
        - "2025-01-31T12:00:41.120Z Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"
        - '2025-01-31T12:00:41.118Z x509 cert - Issuer: "CN=Intermediate CA,O=Istio", Subject: "", SN: 9c1e...'
    signing_serial:
      description: Serial (hex) of the signing intermediate last seen in the pod's C(x509 cert) lines since O(since).
      type: str
      returned: success
      sample: 4c1dd0a9e5b3f27b8c7f0a1b2c3d4e5f
    metric_chain_expiry:
      description: Value of C(citadel_server_cert_chain_expiry_timestamp) when it was fetched, else null.
      type: float
      returned: success
      sample: 1769860800.0
    notes:
      description: Remarks that are not problems (loaded at start, unknown version, proven by metric only).
      type: list
      elements: str
      returned: success
      sample: []
    problems:
      description: This pod's problems, each with RV(problems[].code), RV(problems[].cause) and RV(problems[].fix).
      type: list
      elements: dict
      returned: success
      sample: []
terminating_pods:
  description:
    - Names of the C(app=istiod) pods that are being deleted (they have a C(deletionTimestamp)), as in
      the last look.
    - A deleted pod keeps running and logging until its containers stop, e.g. the old pods of a
      rollout restart. They are not judged and not in RV(pods); wait until this list is empty
      before relying on the old pods being gone.
  returned: success
  type: list
  elements: str
  sample: [istiod-5c8f9d6b7-q9k2m]
root_consistent:
  description:
    - True when every C(istio-ca-root-cert) ConfigMap holds exactly the Secret's root bytes.
    - False when one differs, when none exists, or when the Secret has no root; null when the ConfigMaps could
      not be listed.
  returned: success
  type: bool
  sample: true
mismatched_namespaces:
  description: Namespaces whose C(istio-ca-root-cert) differs from the Secret's root, sorted.
  returned: success
  type: list
  elements: str
  sample: [payments]
root_configmaps_checked:
  description: How many C(istio-ca-root-cert) ConfigMaps were compared.
  returned: success
  type: int
  sample: 12
expected_serial:
  description: The serial looked for, lowercase hex without leading zeros (as istiod logs it).
  returned: success
  type: str
  sample: 4c1dd0a9e5b3f27b8c7f0a1b2c3d4e5f
intermediate:
  description: The intermediate in the Secret; null when the Secret is missing or unreadable.
  returned: success
  type: dict
  contains:
    subject:
      description: RFC 4514 subject (most specific attribute first, as istiod logs it).
      type: str
      returned: success
      sample: CN=Intermediate CA,L=cluster-1,O=Istio
    issuer:
      description: RFC 4514 issuer.
      type: str
      returned: success
      sample: CN=Root CA,O=Istio
    serial:
      description: Serial in lowercase hex.
      type: str
      returned: success
      sample: 4c1dd0a9e5b3f27b8c7f0a1b2c3d4e5f
    not_after:
      description: End of validity, RFC 3339 UTC.
      type: str
      returned: success
      sample: "2026-01-31T12:00:00Z"
secret_format:
  description: V(tls) (C(tls.crt) present, so istiod uses C(tls.crt)/C(tls.key)/C(ca.crt)) or V(native); null without a Secret.
  returned: success
  type: str
  sample: tls
since:
  description: Start of the evidence window, RFC 3339 UTC.
  returned: success
  type: str
  sample: "2025-01-31T12:00:00Z"
since_source:
  description: V(option), V(managedFields (data)), V(managedFields) or V(creationTimestamp).
  returned: success
  type: str
  sample: managedFields (data)
elapsed:
  description: Seconds the check took.
  returned: success
  type: float
  sample: 6.21
timeout:
  description: The seconds the check waited at most (O(timeout), or the reload window when O(timeout) is unset).
  returned: success
  type: float
  sample: 120.0
reload_window:
  description: The reload window kubelet's sync cadence implies (see O(timeout)), in seconds.
  returned: success
  type: float
  sample: 120.0
api_requests:
  description: Kubernetes API requests this call made (retries included).
  returned: success
  type: int
  sample: 9
problems:
  description:
    - Everything that stands between the Secret and a reloaded istiod, each with a cause and a fix; pod problems
      carry the pod's name. Also Secret and root-ConfigMap problems.
  returned: success
  type: list
  elements: dict
  contains:
    code:
      description:
        - Stable identifier, for example V(hot_reload_off), V(hot_reload_ineffective), V(hot_reload_unsupported),
          V(self_signed), V(root_change_refused), V(update_failed), V(format_unknown), V(watcher_stopped),
          V(no_istiod), V(timeout), V(other_intermediate_loaded), V(secret_serial_mismatch), V(root_mismatch),
          V(log_level_hides_reload).
      type: str
      returned: success
      sample: hot_reload_off
    cause:
      description: What is wrong, in one or two sentences.
      type: str
      returned: success
      sample: "Hot reload is off: pod istiod-7c9d-abcde (Istio 1.16.7) does not set AUTO_RELOAD_PLUGIN_CERTS, ..."
    fix:
      description: What to do about it.
      type: str
      returned: success
      sample: "Set AUTO_RELOAD_PLUGIN_CERTS=true in istiod's env (values.pilot.env; ...), or restart istiod ..."
    pod:
      description: The pod the problem belongs to, when it belongs to one.
      type: str
      returned: when the problem belongs to a pod
      sample: istiod-7c9d-abcde
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module

try:
    import cryptography  # noqa: F401, pylint: disable=unused-import
    HAS_CRYPTOGRAPHY = True
except ImportError:
    HAS_CRYPTOGRAPHY = False

if HAS_CRYPTOGRAPHY:
    from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod.backend import check


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        namespace=dict(type="str", default="istio-system"),
        secret_name=dict(type="str", default="cacerts"),
        expected_serial=dict(type="raw"),
        since=dict(type="raw"),
        timeout=dict(type="float"),
        kubelet_sync_frequency=dict(type="str", default="1m"),
        kubelet_cache_ttl=dict(type="str", default="0s"),
        fail_on_not_reloaded=dict(type="bool", default=True),
    )
    return spec


# Module keywords besides the argument spec; the action plugin validates with the same ones.
MODULE_KWARGS = dict(supports_check_mode=True)


def run(module):
    """Run the module's work on ``module`` (an AnsibleModule, or the action plugin's in-process stand-in)."""
    run_module(module, lambda: check(K8sClient.from_params(module.params), module.params),
               required_libraries=[("cryptography", HAS_CRYPTOGRAPHY)])


def main():
    run(AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS))


if __name__ == "__main__":
    main()
