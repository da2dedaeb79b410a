"""go-ldap's DN parser (literalSubject), as cert-manager's webhook uses it: one port, shared with the collection.

The port lives in plugins/module_utils/common/go_dn.py (the module's pre-flight check uses it too); kubesim
re-exports it rather than keep a second copy. Both uses are checked against cert-manager's own validation
table (tests/unit/plugins/module_utils/certificate/test_certificate_validation_table.py), so a bug in the port
shows there against Go's verdicts, not only against each other.
"""

from __future__ import annotations

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.go_dn import *  # noqa: F401,F403  pylint: disable=wildcard-import,unused-wildcard-import
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.go_dn import ATTRIBUTE_TYPES, parse_dn, parse_oid  # noqa: F401  (used below)


def to_x509_name(text):
    """The subject cert-manager puts in the CSR for a literalSubject (the RDNSequence above, ASN.1 order).

    Go's encoding/asn1 does not check attribute lengths (``C=Spain`` is fine there), so neither does this;
    the webhook has already refused unknown attribute types.
    """
    from cryptography import x509

    rdns = []
    for rdn in reversed(parse_dn(text)):
        attributes = []
        for attr_type, value in rdn:
            oid = ATTRIBUTE_TYPES.get(attr_type) or parse_oid(attr_type)
            attributes.append(x509.NameAttribute(x509.ObjectIdentifier(oid), value, _validate=False))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)
