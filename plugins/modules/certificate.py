#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certificate
short_description: Apply a cert-manager Certificate and see its issuance through
version_added: 0.1.0
description:
  - Creates, updates or deletes a cert-manager C(Certificate) (C(cert-manager.io/v1)) with server-side apply,
    and optionally waits until cert-manager has issued the certificate that the new spec asks for.
  - "Validates O(spec) before sending anything, with cert-manager's own webhook rules and messages
    (for example C(spec.renewBefore: Invalid value: 720h0m0s: certificate duration 720h0m0s must be greater than
    renewBefore 720h0m0s)), also in check mode, so an invalid rotation request fails before any cluster is touched."
  - Knows which spec changes make cert-manager re-issue on its own and which do not (adding C(duration) where none
    was set does not; C(renewBefore) only moves the renewal time), reports it in RV(reissue), and with
    O(renew=auto) forces a re-issue exactly when the applied change needs one that cert-manager would not start.
  - Reports the revision, validity, renewal time and serial of the certificate now in the Secret.
    The private key (C(tls.key)) is never read out or returned.
author:
  - meshpki.istio_ca maintainers (@meshpki)
options:
  name:
    description:
      - Name of the Certificate.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the Certificate (and of its Secret).
    type: str
    required: true
  spec:
    description:
      - The Certificate spec exactly as cert-manager's API writes it (camelCase), so upstream YAML pastes in,
        for example C(secretName), C(commonName), C(isCA), C(duration), C(renewBefore), C(privateKey), C(issuerRef).
      - Durations are Go durations (C(2160h), C(90m)); there is no C(d) unit.
      - Keys with a null value are treated as unset.
      - Server-side apply owns exactly the fields given here under the field manager C(meshpki.istio_ca);
        a field this module set before and that is left out now is removed.
      - Required when O(state=present).
    type: dict
  state:
    description:
      - V(present) applies O(spec); V(absent) deletes the Certificate.
      - Deleting the Certificate does not delete its Secret (cert-manager adds no owner reference unless it runs
        with C(--enable-certificate-owner-ref)); delete the Secret with M(kubernetes.core.k8s) if it must go.
    type: str
    choices: [present, absent]
    default: present
  renew:
    description:
      - V(true) forces a re-issue the way C(cmctl renew) does, after applying O(spec) - sets the C(Issuing) condition
        to C(True) with reason C(ManuallyTriggered) through the status subresource, keeping the other conditions.
        Every run with V(true) forces a new revision, so it is not idempotent; use it for on-demand rotation.
        Nothing is forced when the Certificate is created, since its first issuance happens anyway.
      - V(false) never forces.
      - V(auto) forces only when the applied spec changed something the issued certificate depends on
        (names, subject, C(isCA), usages, C(duration), issuer, key algorithm or size, C(signatureAlgorithm),
        C(nameConstraints)) and cert-manager would not re-issue on its own - for example C(duration) added where
        none was set, or changed while the current CertificateRequest is gone. Changes to C(renewBefore),
        C(renewBeforePercentage), C(secretTemplate), C(privateKey.encoding) or C(revisionHistoryLimit) never force.
      - In check mode nothing is written; RV(reissue) says what would happen.
    type: str
    choices: ['true', 'false', 'auto']
    default: auto
  wait:
    description:
      - Wait until the certificate the applied spec asks for is issued.
      - When a new certificate is expected (RV(reissue) is not V(none), or the Certificate is new), waits for
        C(status.revision) to exceed the revision before this task, the C(Issuing) condition to be gone and
        C(Ready=True) with C(observedGeneration) equal to C(metadata.generation). C(Ready) alone is not enough -
        it stays C(True) during a renewal.
      - Otherwise waits for C(Ready=True) of the current generation.
      - Fails at once when issuance fails (C(Issuing=False)), naming the CertificateRequest's reason, or when the
        issuer stays not Ready over two checks 3 s apart; fails after O(wait_timeout) with the last seen conditions.
      - With O(state=absent), waits until the Certificate is gone.
      - Ignored in check mode.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds O(wait) waits at most.
    type: int
    default: 120
  merge_live_spec:
    description:
      - V(true) - O(spec) holds only the fields to change. The live Certificate's spec is read and the top-level keys
        of O(spec) replace its keys (an object such as C(privateKey) is replaced whole, not merged key by key);
        a key given as null removes that field. C(renewBefore) and C(renewBeforePercentage) are mutually exclusive,
        so giving one drops the other from the live spec.
      - The merged spec is validated and applied exactly like a full O(spec) (same field manager, C(force=false)).
        A merge that changes nothing sends no apply at all, so O(spec={}) in check mode is a cheap read-only look
        at the Certificate (GET Certificate and GET Secret).
      - Fails, with RV(exists=false), when the Certificate does not exist (there is nothing to merge into);
        fails before any write when a field to remove is also owned by another field manager (server-side apply
        would keep it).
    type: bool
    default: false
  check_root_policy:
    description:
      - Check, read only (also in check mode), that the root of trust does not get a new key when it renews.
        Since cert-manager 1.18 the default C(privateKey.rotationPolicy) is C(Always), so a self-signed root
        Certificate made by cert-manager gets a new key at renewal; the clusters then stop sharing one root and
        istiod refuses the new root at hot reload.
      - Follows the (applied) spec's C(issuerRef) when it is a C(cert-manager.io) C(Issuer) or C(ClusterIssuer) -
        lists the Certificates where its CA Secret lives, and when a CA issuer's C(spec.ca.secretName) is made by
        an C(isCA) Certificate whose issuer is C(selfSigned), requires C(rotationPolicy=Never) on it.
      - Reports in RV(root_policy); a failed read (404, 5xx) is a warning there; a 401 or 403 (the credentials lack
        a rule, see the roles in C(docs/rbac/)) fails the task with the API server's message.
      - Also reads that root Certificate's C(status.renewalTime). A renewal keeps the key under C(Never) but gives
        the root new bytes, which istiod refuses at the next reload (C(Multi root is disabled)); a root renewal
        due now or before this Certificate's next rotation (its C(status.renewalTime), or O(root_renewal_horizon)
        from now when later) is a problem in RV(root_policy.problems).
    type: bool
    default: false
  root_renewal_horizon:
    description:
      - With O(check_root_policy), how far ahead (a Go duration, for example V(2160h)) a renewal of the root
        Certificate counts as a problem, when that is later than this Certificate's own next renewal.
    type: str
    version_added: 0.2.0
  cluster_resource_namespace:
    description:
      - cert-manager's C(--cluster-resource-namespace), where a C(ClusterIssuer)'s CA Secret lives (the Helm chart
        and the static manifest use C(cert-manager)). Used by O(check_root_policy).
    type: str
    default: cert-manager
  cert_manager_version:
    description:
      - The cluster's cert-manager version (for example C(v1.19.1), as the C(meshpki.istio_ca.cert_manager) role
        reports it in C(cert_manager_detected_version)). The pre-flight check then applies that release's webhook
        rules and feature-gate defaults (from v1.18 a C(signatureAlgorithm) must suit the key, from v1.17 keystore
        passwords are checked, C(otherNames) needs v1.20 or the C(OtherNames) gate, C(nameConstraints) v1.17 or
        its gate, C(renewal) is checked from v1.21).
      - Unset, or C(unknown), the check applies only the rules every release from v1.16 on shares and leaves the
        rest to the webhook, which still judges the spec (check mode dry-runs the apply).
    type: str
  cert_manager_feature_gates:
    description:
      - The webhook's C(--feature-gates) value (C(OtherNames=true,NameConstraints=false)), when the cluster sets
        any; the other gates keep their defaults for O(cert_manager_version).
    type: str
  backup:
    description:
      - Like C(backup) of M(ansible.builtin.copy) - before this task makes cert-manager replace what the Secret
        holds (RV(reissue) is V(spec_change) or V(forced), or the Certificate is new and its Secret already
        exists), copy the Secret (all data keys, its type) to a new Secret in the same namespace named
        C(<secretName>-backup-r<revision>-<first 12 hex digits of the serial>), labelled
        C(meshpki.istio_ca/backup-of=<secretName>) and annotated with source, serial, not-after, subject,
        root fingerprint and revision, as C(playbooks/restore.yml) expects.
      - Also backed up whenever the prediction is uncertain (RV(reissue_uncertain) is set), even when
        RV(reissue) is V(none).
      - The copy is created with POST and never overwrites; an existing Secret of that name is reused only when it
        holds the same data (a re-run), otherwise the task fails without changing anything. The copy is read back and
        proven restorable (same data, C(tls.key) belongs to the first certificate of C(tls.crt)) before anything
        is applied. To know whether a re-issue follows, the module first does a dry-run apply.
      - Afterwards the oldest backups beyond O(backup_keep) are deleted.
      - A missing Secret or one without C(tls.key) needs no backup (RV(backup) is null, RV(backup_note) says why).
        In check mode nothing is written; RV(backup_note) names the backup a real run would write.
    type: bool
    default: false
  backup_keep:
    description:
      - How many backups of the Secret (label C(meshpki.istio_ca/backup-of)) O(backup) keeps, the new one
        included; the newest by creation time (then name) stay. V(0) keeps all.
    type: int
    default: 5
extends_documentation_fragment:
  - meshpki.istio_ca.k8s_auth
  - meshpki.istio_ca.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    details:
      - A server-side dry run (C(dryRun=All)), so the API server and cert-manager's webhook judge the spec;
        no status is written and nothing is waited for.
  diff_mode:
    support: full
    details:
      - Before and after of the spec only; no status, never Secret data.
notes:
  - Server-side apply runs with C(force=false). When another field manager owns a field with a different value,
    the task fails naming the manager and the field instead of taking it over.
  - "API requests per call (measured against the simulated cluster): an unchanged re-run costs 3
    (GET Certificate, apply, GET Secret); a create with O(wait=true) costs 3 plus one GET per poll (0.5 s growing
    to 2 s); reading the current CertificateRequest, the issuer or writing the renewal trigger adds one each, only
    when needed. O(merge_live_spec) with nothing to change sends no apply (check mode with O(spec={}) costs 2).
    O(backup) adds a dry-run apply, and when a re-issue follows a GET of the Secret, a POST and a GET of the copy,
    and one LIST plus one DELETE per pruned backup. O(check_root_policy) adds one LIST and up to two GETs.
    RV(api_requests) returns the count."
  - Needs RBAC get/patch/delete on C(certificates), update on C(certificates/status) (for O(renew)), get on
    C(certificaterequests), C(issuers)/C(clusterissuers) (for failure diagnosis) and on the Secret; with O(backup)
    also create and list/delete on Secrets of the namespace; with O(check_root_policy) list on C(certificates)
    where the issuer's CA Secret lives.
seealso:
  - name: cert-manager Certificate resource
    description: The fields of the Certificate spec.
    link: https://cert-manager.io/docs/usage/certificate/
  - name: cmctl renew
    description: The manual trigger O(renew) reproduces.
    link: https://cert-manager.io/docs/reference/cmctl/#renew
  - module: kubernetes.core.k8s
requirements:
  - PyYAML (to read kubeconfig files)
  - cryptography (to read the issued certificate)
"""

EXAMPLES = r"""
- name: Istio intermediate CA in cacerts, issued by the root ClusterIssuer, waited for
  meshpki.istio_ca.certificate:
    name: cacerts
    namespace: istio-system
    spec:
      secretName: cacerts
      isCA: true
      commonName: istio-intermediate-ca
      subject:
        organizations: [acme]
      duration: 720h
      renewBefore: 240h
      privateKey:
        algorithm: ECDSA
        size: 256
        rotationPolicy: Always
      usages: [digital signature, cert sign, crl sign]
      issuerRef:
        kind: ClusterIssuer
        name: mesh-root
        group: cert-manager.io
    wait: true
    wait_timeout: 180
  register: intermediate

- name: Show what istiod will log for the new intermediate
  ansible.builtin.debug:
    msg: "revision {{ intermediate.revision }}, SN {{ intermediate.serial }}, valid until {{ intermediate.not_after }}"

- name: Rotate now, like cmctl renew, and wait for the new revision
  meshpki.istio_ca.certificate:
    name: cacerts
    namespace: istio-system
    spec: "{{ cacerts_spec }}"
    renew: true
    wait: true

- name: Connection options once for every task of the group (kubernetes.core modules included)
  module_defaults:
    group/meshpki.istio_ca.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: "{{ k8s_context }}"
  block:
    - name: Preview a change (server-side dry run, spec diff only)
      meshpki.istio_ca.certificate:
        name: cacerts
        namespace: istio-system
        spec: "{{ cacerts_spec | combine({'duration': '1440h'}) }}"
      check_mode: true
      diff: true

- name: Change only the duration of the live spec, back up the Secret first, check the root's key policy
  meshpki.istio_ca.certificate:
    name: cacerts
    namespace: istio-system
    merge_live_spec: true
    spec:
      duration: 1440h
      renewBefore: 480h
    backup: true
    backup_keep: 3
    check_root_policy: true
    wait: true
  register: rotated

- name: Read-only look at the Certificate, its status and the root policy (no apply is sent)
  meshpki.istio_ca.certificate:
    name: cacerts
    namespace: istio-system
    merge_live_spec: true
    spec: {}
    check_root_policy: true
  check_mode: true
  register: cacerts_now

- name: Remove the Certificate (its Secret stays)
  meshpki.istio_ca.certificate:
    name: cacerts
    namespace: istio-system
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the stored spec changed (live spec compared with the applied result) or a re-issue was forced.
  returned: always
  type: bool
reissue:
  description:
    - V(none) - no new certificate follows from this task.
    - V(spec_change) - cert-manager issues a new certificate on its own because of the applied change
      (also for a new Certificate, whose first issuance follows).
    - V(forced) - the module triggered a re-issue like C(cmctl renew) (in check mode - would trigger).
  returned: always
  type: str
  sample: spec_change
reissue_reasons:
  description: Why, in cert-manager's terms (for example C(RequestChanged) with the field).
  returned: always
  type: list
  elements: str
  sample: ["RequestChanged: spec.dnsNames differs from the current CertificateRequest"]
reissue_uncertain:
  description:
    - Why the RV(reissue) prediction cannot be trusted, or null when it can.
    - Set when an issuance is in flight (C(Issuing=True)) or when a field that cert-manager compares with the
      current CertificateRequest changed while that request is gone (garbage-collected under
      C(revisionHistoryLimit)). With O(backup=true) the Secret is backed up whenever this is set.
  returned: when O(state=present)
  type: str
  sample: null
revision:
  description: C(status.revision), the revision of the last successful issuance (null before the first).
  returned: when O(state=present)
  type: int
  sample: 3
not_before:
  description: Start of validity of the certificate now in the Secret (RFC 3339, UTC).
  returned: when O(state=present)
  type: str
  sample: "2026-08-22T10:00:00Z"
not_after:
  description: End of validity of the certificate now in the Secret (RFC 3339, UTC).
  returned: when O(state=present)
  type: str
  sample: "2026-09-21T10:00:00Z"
renewal_time:
  description: C(status.renewalTime), when cert-manager renews next.
  returned: when O(state=present)
  type: str
  sample: "2026-09-11T10:00:00Z"
serial:
  description: Serial number of the first certificate of the Secret's C(tls.crt), lowercase hex as istiod logs it.
  returned: when O(state=present)
  type: str
  sample: 5e2f0c1a9b
serial_number:
  description: The same serial number as an integer.
  returned: when O(state=present)
  type: int
  sample: 404558117275
secret_name:
  description: The Secret holding the certificate (C(spec.secretName)).
  returned: always
  type: str
  sample: cacerts
conditions:
  description: C(status.conditions) of the Certificate when the task finished.
  returned: when O(state=present)
  type: list
  elements: dict
spec:
  description: The spec as stored after the apply (all managers' fields).
  returned: when O(state=present)
  type: dict
diff:
  description: Spec before and after (diff mode only).
  returned: when diff mode is on
  type: dict
exists:
  description:
    - Whether the Certificate existed when the task started.
    - Also returned on failure once the Certificate was read, with RV(live_spec) and RV(status) as read then, so
      that a refused change (validation, conflict) is not mistaken for an unreadable cluster.
  returned: when O(state=present), and on failure after the Certificate was read
  type: bool
  sample: true
live_spec:
  description: The Certificate's spec before this task (null when it did not exist).
  returned: when O(state=present), and on failure after the Certificate was read
  type: dict
status:
  description:
    - The Certificate's C(status) when the task finished, as cert-manager writes it (C(conditions), C(revision),
      C(notBefore), C(notAfter), C(renewalTime), ...). In check mode the live status (null when the Certificate
      does not exist). On failure, the status as read at the start.
  returned: when O(state=present), and on failure after the Certificate was read
  type: dict
  sample: {"revision": 3, "notAfter": "2026-09-21T10:00:00Z", "conditions": [{"type": "Ready", "status": "True"}]}
backup:
  description: The backup written (or reused) before the re-issue; null when none was needed (see RV(backup_note)).
  returned: when O(backup=true) and O(state=present)
  type: dict
  contains:
    name:
      description: Name of the backup Secret.
      type: str
      sample: cacerts-backup-r3-5e2f0c1a9b4d
    namespace:
      description: Its namespace (the Certificate's).
      type: str
    created:
      description: Whether this task created it (false when an identical backup of that name was reused).
      type: bool
    serial:
      description: Serial (lowercase hex) of the certificate backed up.
      type: str
    root_fingerprint:
      description: SHA-256 fingerprint (colon-separated hex, as RV(meshpki.istio_ca.x509_inspect#module:chain.root_fingerprint_sha256))
        of the root its chain ends at; null when it ends at none.
      type: str
    pruned:
      description: Older backups deleted to keep O(backup_keep).
      type: list
      elements: str
backup_note:
  description: Why RV(backup) is null (no re-issue, no Secret, no C(tls.key)), or in check mode which backup a real run would write.
  returned: when O(backup=true) and O(state=present)
  type: str
root_policy:
  description: The result of O(check_root_policy).
  returned: when O(check_root_policy=true) and O(state=present)
  type: dict
  contains:
    checked:
      description: Whether the check reached a verdict (false for an issuer that is not a cert-manager
        C(Issuer)/C(ClusterIssuer), or when a read failed - see RV(root_policy.warnings)).
      type: bool
    issuer:
      description: The Certificate's issuer, C(Kind/name).
      type: str
      sample: ClusterIssuer/mesh-root
    root_certificate:
      description: C(namespace/name) of the cert-manager Certificate that makes the CA issuer's key pair, null when none does.
      type: str
    self_signed:
      description: Whether that Certificate's issuer is a C(selfSigned) issuer (null when not known).
      type: bool
    rotation_policy:
      description: Its C(spec.privateKey.rotationPolicy) (null when unset, which means C(Always) since cert-manager 1.18).
      type: str
    root_renewal_time:
      description: The root Certificate's C(status.renewalTime) (null when unknown or when its renewal is disabled).
      type: str
    root_not_after:
      description: The root Certificate's C(status.notAfter).
      type: str
    root_renewal_policy:
      description: The root Certificate's C(spec.renewal.policy) (cert-manager 1.21+; null when unset).
      type: str
    problems:
      description:
        - What must be fixed, one actionable sentence each (a self-signed root without C(rotationPolicy) C(Never);
          a root renewal due before the next rotation).
      type: list
      elements: str
    warnings:
      description: Reads that failed, so the check is incomplete.
      type: list
      elements: str
api_requests:
  description: How many API requests this task sent (retries included).
  returned: always
  type: int
  sample: 3
validation_errors:
  description: The field errors when the spec fails pre-flight validation.
  returned: on validation failure
  type: list
  elements: str
api_error:
  description: Code, reason, message and causes of the API error behind a failure.
  returned: on API failure
  type: dict
"""

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.meshpki.istio_ca.plugins.module_utils.certificate.backend import CertificateBackend
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.args_common import AUTH_ARG_SPEC
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.module_runner import run_module


def argument_spec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        spec=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        renew=dict(type="str", choices=["true", "false", "auto"], default="auto"),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=120),
        merge_live_spec=dict(type="bool", default=False),
        check_root_policy=dict(type="bool", default=False),
        cluster_resource_namespace=dict(type="str", default="cert-manager"),
        root_renewal_horizon=dict(type="str"),
        cert_manager_version=dict(type="str"),
        cert_manager_feature_gates=dict(type="str"),
        backup=dict(type="bool", default=False),
        backup_keep=dict(type="int", default=5),
    )
    return spec


# Module keywords besides the argument spec; the action plugin validates with the same ones.
MODULE_KWARGS = dict(
    supports_check_mode=True,
    required_if=[("state", "present", ("spec",))],
)


def run(module):
    """Run the module's work on ``module`` (an AnsibleModule, or the action plugin's in-process stand-in)."""
    def work():
        backend = CertificateBackend(K8sClient.from_params(module.params), module.params,
                                     check_mode=module.check_mode, diff=module._diff)
        try:
            return backend.run()
        finally:
            for warning in backend.warnings:
                module.warn(warning)

    run_module(module, work)


def main():
    run(AnsibleModule(argument_spec=argument_spec(), **MODULE_KWARGS))


if __name__ == "__main__":
    main()
