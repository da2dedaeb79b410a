# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""issuing_ca's work: keep a cluster's valid issuing CA, or make one and put it in the CA Secret.

Order (nothing changes until every input is judged): the options, the offline signer (read by the
action from controller files, vault decrypted in memory), the Secret there now. Then one of:
- kept: the Secret holds an issuing CA signed by this signer, its key matches, ``ca.crt`` is the root
  byte for byte, and it stays valid at least ``min_remaining`` — nothing is written (idempotence);
- created: no Secret yet;
- rotated (``rotate: true``): a new key and certificate replace the old ones in place, so the old
  issuing CA's key leaves the cluster with that write. It is not kept anywhere: an issuing CA can
  always be re-made from the offline root, and the ``cacerts`` below it carries its own copy of the
  chain until cert-manager re-issues it.
A Secret that exists but cannot be kept fails with the reasons unless ``rotate`` is set: replacing a
CA under a running mesh is a rotation, with its re-issue and reload proof (rotate.yml).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import CollectionError
from ansible_collections.meshpki.istio_ca.plugins.module_utils.k8s.client import K8sClient, object_path
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.time_inputs import parse_min_remaining
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca import issue
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca.authority import load_signer
from ansible_collections.meshpki.istio_ca.plugins.plugin_utils.issuing_ca.secret import judge, secret_object, summary


def _inputs(params):
    seconds = parse_min_remaining(params["duration"], "duration")
    min_remaining = parse_min_remaining(params["min_remaining"], "min_remaining")
    if min_remaining >= seconds:
        raise CollectionError("min_remaining (%s) must be shorter than duration (%s): an issuing CA made now "
                              "would already be due for rotation" % (params["min_remaining"], params["duration"]))
    if params["path_length"] < 1:
        raise CollectionError("path_length must be at least 1: istiod's cacerts intermediate is a CA below the "
                              "issuing CA")
    algorithm, size = params["key_algorithm"], params["key_size"]
    if (algorithm == "ECDSA" and size not in issue.CURVES) or (algorithm == "RSA" and size < 2048):
        raise CollectionError("key_algorithm %s with key_size %d: use ECDSA 256/384 or RSA 2048 and up"
                              % (algorithm, size))
    return seconds, min_remaining


def ensure(params, check_mode, read_file, client_factory=None):
    """The result dict (never key material). ``read_file(path) -> bytes`` reads a controller file."""
    seconds, min_remaining = _inputs(params)
    now = rfc3339.now()
    signer = load_signer(read_file(params["root_cert"]), read_file(params["root_key"]),
                         "root_cert %s" % params["root_cert"], "root_key %s" % params["root_key"],
                         now, seconds, params["path_length"])
    client = (client_factory or (lambda: K8sClient.from_params(params)))()
    name, namespace = params["secret_name"], params["namespace"]
    path = object_path("v1", "secrets", namespace, name)
    secret = client.get_or_none(path)
    current, reasons = judge(secret, signer, now, min_remaining)
    where = "%s/%s" % (namespace, name)
    before = summary(current, signer) if current is not None else {}
    result = {"secret": where, "root_fingerprint_sha256": signer.root_fingerprint(),
              "root_public_key_sha256": signer.root_public_key_fingerprint()}
    if not reasons and not params["rotate"]:
        result.update(changed=False, outcome="kept", issuing_ca=before, diff={"before": before, "after": before})
        return result
    if secret is not None and not params["rotate"]:
        raise CollectionError(
            "Secret %s holds an issuing CA that cannot be kept: %s. Replacing it is a rotation: run "
            "playbooks/rotate.yml -e ca_rotation_issuing_ca=true for this cluster." % (where, "; ".join(reasons)))
    outcome = "rotated" if secret is not None else "created"
    result.update(changed=True, outcome=outcome)
    if current is not None:
        result["previous_issuing_ca"] = before
    if check_mode:
        planned = {"subject": "(a new issuing CA for %s)" % params["cluster_name"]}
        result.update(issuing_ca={}, diff={"before": before, "after": planned})
        return result
    key = issue.generate_key(params["key_algorithm"], params["key_size"])
    cert = issue.sign_issuing_ca(signer, key, issue.subject_for(params["cluster_name"], params["common_name"],
                                                                params["organization"]),
                                 seconds, params["path_length"], now)
    obj = secret_object(name, namespace, params["cluster_name"], cert, issue.key_pem(key), signer,
                        previous_serial=before.get("serial_hex"))
    del key
    client.apply(path, obj, params["field_manager"], force=True)
    after = summary(cert, signer)
    result.update(issuing_ca=after, diff={"before": before, "after": after})
    return result
