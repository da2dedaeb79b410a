# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""The root every cluster of a rotation must chain to, known without looking at the other clusters.

Why: AWX job slicing runs rotate.yml once per slice, each on its own share of the inventory (AWX
``Inventory.get_script_data``: ``hosts[offset::slice_count]``), and a job is not told whether it is a
slice (AWX's ``awx_meta_vars`` carry the job's id, not a slice number). A check that compares the roots
of the play's clusters then only spans one slice: a slice of one cluster, or a slice whose clusters all
carry the same wrong root, passes it. The root must come from outside the clusters: the fingerprint the
operator pins (``ca_rotation_expected_root_fingerprint``) or the root certificate file the fleet was
deployed from (``ca_setup_ca_cert``, offline_root / ca_keypair). Both are read before any cluster is.

A cluster's own CA ClusterIssuer Secret is not such a source: cert-manager's CA issuer puts the root of
the chain in that Secret into the issued ``ca.crt`` (``Sign`` in cert-manager
``pkg/controller/certificaterequests/ca/ca.go``; docs/upstream/cert-manager.md#ca-issuer), so a cluster whose
issuer holds a wrong CA agrees with itself.

Served as the ``rotation_trust_root`` filter by plugins/filter/trust_root.py (documented there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.info import fingerprint
from ansible_collections.meshpki.istio_ca.plugins.module_utils.x509.load import X509Error, load_certificates

_HEX = re.compile(r"^[0-9a-f]{64}$")


def normalize_fingerprint(value, what="ca_rotation_expected_root_fingerprint"):
    """A SHA-256 fingerprint as colon-separated lowercase hex (x509_inspect's form), from any case, with or
    without colons (``openssl x509 -fingerprint -sha256`` prints ``SHA256 Fingerprint=AB:CD:...``)."""
    text = str(value or "").strip()
    if "=" in text:
        text = text.split("=", 1)[1]
    digits = text.replace(":", "").replace(" ", "").lower()
    if not _HEX.match(digits):
        raise AnsibleFilterError(
            "%s=%r is not a SHA-256 fingerprint: give the 64 hex digits of the SHA-256 of the root's DER, "
            "colons allowed (openssl x509 -in root.pem -noout -fingerprint -sha256)" % (what, str(value)))
    return ":".join(digits[i:i + 2] for i in range(0, 64, 2))


def _root_of_file(pem, path):
    """The fingerprint of the root in a CA certificate file: its self-signed certificate, else its last one
    (ca_setup wants the CA first and its chain up to the root after it)."""
    try:
        certs = load_certificates(pem, "ca_setup_ca_cert (%s)" % path)
    except X509Error as exc:
        raise AnsibleFilterError("cannot take the fleet root from ca_setup_ca_cert: %s" % exc)
    roots = [c for c in certs if c.subject == c.issuer]
    return fingerprint(roots[0] if roots else certs[-1]), bool(roots)


def rotation_trust_root(expected_fingerprint="", ca_cert_pem="", ca_cert_path="", require=None, in_awx=False):
    """``{fingerprint, source, problems}``: the root every cluster of this run must chain to.

    ``fingerprint`` is None when no trust source was given; ``problems`` (for every cluster of the play)
    then says why that refuses the rotation when it must be known: ``require`` true, or ``require`` unset
    (None) in an AWX job (``in_awx``), where the job may be one slice of several. A pinned fingerprint and
    the root of ``ca_setup_ca_cert`` that disagree are a problem too: one of them is wrong.
    """
    pinned = normalize_fingerprint(expected_fingerprint) if str(expected_fingerprint or "").strip() else None
    from_file = None
    self_signed = None
    if str(ca_cert_pem or "").strip():
        from_file, self_signed = _root_of_file(ca_cert_pem, ca_cert_path or "the CA certificate file")
    problems = []
    if pinned and from_file and pinned != from_file:
        problems.append("ca_rotation_expected_root_fingerprint (%s...) is not the root of ca_setup_ca_cert %s "
                        "(%s...): one of them is wrong" % (pinned[:23], ca_cert_path, from_file[:23]))
    if pinned:
        source = "ca_rotation_expected_root_fingerprint"
    elif from_file:
        what = "its self-signed root" if self_signed else "its last certificate: the file holds no self-signed root"
        source = "ca_setup_ca_cert %s (%s)" % (ca_cert_path, what)
    else:
        source = None
    must = bool(in_awx) if require is None else bool(require)
    if source is None and must:
        problems.append(
            "no trust root is known for this run: %s, so its clusters' roots can only be compared with each "
            "other and a slice of one cluster would pass any root; set ca_rotation_expected_root_fingerprint "
            "(SHA-256 of the fleet root) or ca_setup_ca_cert (the fleet root's file)"
            % ("an AWX job may be one slice of several" if require is None else "ca_rotation_require_trust_root is true"))
    return {"fingerprint": pinned or from_file, "source": source, "problems": problems}
