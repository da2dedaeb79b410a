"""A CA issuer whose Secret carries a chain (root → issuing CA), and istiod on the three-level result.

Reference: cert-manager pkg/util/kube ``SecretTLSKeyPairAndCA`` (every cert of tls.crt, then the first
of ca.crt appended), pkg/util/pki ``SignCSRTemplate`` → ``ParseSingleCertificateChain``/``toBundleAndCA``
(docs/upstream/cert-manager.md#chain-split: tls.crt = leaf up to the highest non-self-signed cert,
ca.crt = the self-signed root, else the highest cert, and nothing for a lone non-self-signed cert);
istio security/pkg/pki/util/keycertbundle.go ``Verify`` (root file as Roots, chain files as
Intermediates; docs/upstream/istiod.md#chain-building) and the root comparison at reload
(docs/upstream/istiod.md#root-comparison).
"""

from __future__ import annotations

import base64

import pytest

from kubesim import pki
from kubesim.controllers.istiod import IstiodSim
from kubesim.controllers.istiod.logs import MARKER
from kubesim.tests_support_fakecluster import (CM, certificate, condition, ensure_namespace, get_cert, issuer,
                                               istiod_pod, make_ca, new_fake, pod_log, secret_data, wait_issued)


@pytest.fixture(scope="module")
def pkis():
    root = make_ca("Offline Root", days=3650)
    return {"root": root, "issuing": make_ca("Issuing CA", root, days=365),
            "issuing2": make_ca("Issuing CA", root, days=365), "other_root": make_ca("Other Root")}


def _put_ca_secret(f, name, files):
    data = {k: base64.b64encode(v).decode() for k, v in files.items()}
    cur = f.get("v1", "secrets", "cert-manager", name)
    if cur is None:
        f.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                  "metadata": {"name": name, "namespace": "cert-manager"}, "data": data})
    else:
        cur["data"] = data
        f.update(cur)


def _cacerts(name, issuer_name):
    return certificate(name, "istio-system", issuer_name, isCA=True, commonName="Intermediate CA",
                       duration="1440h", dnsNames=["istiod.istio-system.svc"],
                       usages=["cert sign", "digital signature", "key encipherment"],
                       privateKey={"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"})


def _issue_under(f, name, files):
    _put_ca_secret(f, name, files)
    f.client_create(issuer(name, {"ca": {"secretName": name}}))
    assert f.run_until(lambda: (condition(f.get(CM, "clusterissuers", None, name), "Ready") or {}).get(
        "status") == "True", 5)
    f.client_create(_cacerts(name, name))
    wait_issued(f, "istio-system", name)
    return secret_data(f, "istio-system", name)


@pytest.fixture(scope="module")
def fake():
    f = new_fake("v1.19.1", istio=False)
    ensure_namespace(f, "istio-system")
    return f


@pytest.mark.parametrize("layout", ["chain_in_tls_crt", "root_only_in_ca_crt"])
def test_cacerts_carries_the_issuing_ca_and_the_root_as_ca(fake, pkis, layout):
    root, issuing = pkis["root"], pkis["issuing"]
    files = {"tls.crt": issuing.pem + (root.pem if layout == "chain_in_tls_crt" else b""),
             "tls.key": issuing.key_pem, "ca.crt": root.pem}
    data = _issue_under(fake, layout.replace("_", "-"), files)
    chain, ca = pki.load_certs(data["tls.crt"]), pki.load_certs(data["ca.crt"])
    assert chain[1:] == [issuing.cert]  # the self-signed root is left out of tls.crt
    assert ca == [root.cert]
    assert pki.check_signature_from(chain[0], issuing.cert)


def test_without_a_root_the_highest_certificate_is_the_ca(fake, pkis):
    """No self-signed certificate anywhere: upstream's best guess, the issuing CA, becomes ca.crt."""
    issuing = pkis["issuing"]
    data = _issue_under(fake, "no-root", {"tls.crt": issuing.pem, "tls.key": issuing.key_pem})
    assert pki.load_certs(data["tls.crt"])[1:] == [issuing.cert]
    assert pki.load_certs(data["ca.crt"]) == [issuing.cert]


def test_a_broken_chain_fails_the_request(fake, pkis):
    issuing = pkis["issuing"]
    name = "broken"
    _put_ca_secret(fake, name, {"tls.crt": issuing.pem + pkis["other_root"].pem, "tls.key": issuing.key_pem})
    fake.client_create(issuer(name, {"ca": {"secretName": name}}))
    fake.advance(0.5)
    fake.client_create(_cacerts(name, name))
    assert fake.run_until(lambda: "malformed or broken" in ((condition(get_cert(fake, "istio-system", name), "Ready")
                                                              or {}).get("message") or "")
                          or any("malformed or broken" in (condition(cr, "Ready") or {}).get("message", "")
                                 for cr in fake.list(CM, "certificaterequests", "istio-system")), 5)


def test_lone_non_self_signed_certificate_has_no_ca():
    ca = make_ca("Lonely Intermediate", make_ca("Somewhere Root"))
    chain_pem, ca_pem = pki.parse_single_certificate_chain([ca.cert])
    assert pki.load_certs(chain_pem) == [ca.cert] and ca_pem == b""
    root = make_ca("Self Root")
    assert pki.parse_single_certificate_chain([root.cert]) == (root.pem, root.pem)


def test_istiod_loads_and_hot_reloads_a_three_level_chain(pkis):
    """root → issuing CA → cacerts: istiod starts plugged, then reloads after the issuing CA is rotated
    (new key, same root): the root bytes in ca.crt do not change, so no root-change refusal."""
    f = new_fake("v1.19.1", istio=True, propagation_delay=1.0)
    ensure_namespace(f, "istio-system")
    root = pkis["root"]
    _put_ca_secret(f, "issuing", {"tls.crt": pkis["issuing"].pem + root.pem, "tls.key": pkis["issuing"].key_pem,
                                  "ca.crt": root.pem})
    f.client_create(issuer("issuing", {"ca": {"secretName": "issuing"}}))
    f.advance(0.5)
    f.client_create(_cacerts("cacerts", "issuing"))
    wait_issued(f, "istio-system", "cacerts")
    first = secret_data(f, "istio-system", "cacerts")
    istiod_pod(f, "1.22.3")
    f.advance(1)
    state = IstiodSim.of(f).pods["istiod-1"]
    assert state.mode == "plugged"
    assert state.signing_serial == pki.serial_hex(pki.load_certs(first["tls.crt"])[0])
    # Rotate the issuing CA in place and re-issue cacerts (as cmctl renew would).
    _put_ca_secret(f, "issuing", {"tls.crt": pkis["issuing2"].pem + root.pem, "tls.key": pkis["issuing2"].key_pem,
                                  "ca.crt": root.pem})
    crt = get_cert(f, "istio-system", "cacerts")
    crt["spec"]["duration"] = "1441h"  # a spec change cert-manager re-issues for
    f.client_update(crt)
    f.run_until(lambda: (get_cert(f, "istio-system", "cacerts").get("status") or {}).get("revision") == 2, 10)
    second = secret_data(f, "istio-system", "cacerts")
    assert second["ca.crt"] == first["ca.crt"]
    new_chain = pki.load_certs(second["tls.crt"])
    assert new_chain[1:] == [pkis["issuing2"].cert]
    f.advance(2)
    assert state.signing_serial == pki.serial_hex(new_chain[0])
    assert pod_log(f)[-1] == "info\t" + MARKER
    assert IstiodSim.of(f).errors == []
