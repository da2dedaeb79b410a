"""The cert-manager certificate pipeline: trigger → keymanager → requestmanager → issuer → issuing.

One ``reconcile_certificate`` step does what cert-manager's separate controllers would do
next, then returns; the writes it makes come back as watch events that schedule the next
step a little later on the simulated clock, so issuance always takes simulated time.
Upstream: cert-manager pkg/controller/certificates/{trigger,issuing,readiness,requestmanager,
revisionmanager} (conditions, triggers, backoff, revisions), pkg/controller/certificates/issuing/internal/secret.go
(the Secret) and cmctl's renew (the Issuing condition as a manual trigger).
"""

from __future__ import annotations

import copy
import datetime as _dt
import secrets as _secrets
import uuid
from typing import List, Optional

from cryptography.x509.oid import NameOID

from . import dn as certmanager_dn
from . import duration as gd
from . import issuers
from ... import pki
from . import policies as pol
from ..base import ApiError, rfc3339

API = "cert-manager.io/v1"
NEXT_KEY_LABEL = "cert-manager.io/next-private-key"
FAO_LABEL = "controller.cert-manager.io/fao"
KEY_ANN = issuers.PRIVATE_KEY_ANNOTATION
# Annotation prefixes not copied from a Certificate to its CertificateRequests (controller defaults).
NOT_COPIED = ("kubectl.kubernetes.io/", "fluxcd.io/", "argocd.argoproj.io/")
CONTROLLER_IDENTITY = {
    "username": "system:serviceaccount:cert-manager:cert-manager",
    "groups": ["system:serviceaccounts", "system:serviceaccounts:cert-manager", "system:authenticated"],
}
MIN_BACKOFF = gd.HOUR
MAX_BACKOFF = 32 * gd.HOUR
STEP = 0.15  # simulated seconds between pipeline steps under the instant latency profile


def get_condition(obj: dict, ctype: str) -> Optional[dict]:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def set_condition(status: dict, ctype: str, cstatus: str, reason: str, message: str,
                  generation: Optional[int], now: _dt.datetime) -> None:
    """apiutil.SetCertificateCondition: keep lastTransitionTime while the status is unchanged."""
    conds = status.setdefault("conditions", [])
    for c in conds:
        if c.get("type") == ctype:
            if c.get("status") != cstatus:
                c["lastTransitionTime"] = rfc3339(now)
            c["status"] = cstatus
            c["reason"] = reason
            c["message"] = message
            if generation is not None:
                c["observedGeneration"] = generation
            return
    cond = {"type": ctype, "status": cstatus, "lastTransitionTime": rfc3339(now), "reason": reason,
            "message": message}
    if generation is not None:
        cond["observedGeneration"] = generation
    conds.append(cond)


def remove_condition(status: dict, ctype: str) -> None:
    status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != ctype]


def _suffix() -> str:
    return "".join(_secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def rotation_policy(spec: dict, version: tuple) -> str:
    """Runtime default: Always from v1.18.0, Never before (cert-manager v1.18 release: the default flipped)."""
    pk = spec.get("privateKey") or {}
    if pk.get("rotationPolicy"):
        return pk["rotationPolicy"]
    return "Always" if version >= (1, 18, 0) else "Never"


def revision_history_limit(spec: dict, version: tuple) -> Optional[int]:
    if spec.get("revisionHistoryLimit") is not None:
        return int(spec["revisionHistoryLimit"])
    return 1 if version >= (1, 18, 0) else None


class CertificatePipeline:
    """Per-cluster certificate/request reconcilers; ``sim`` is the CertManagerSim."""

    def __init__(self, sim):
        self.sim = sim

    @property
    def cluster(self):
        return self.sim.cluster

    # ------------------------------------------------------------------ helpers

    def _requests_for(self, crt: dict) -> List[dict]:
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        uid = crt["metadata"].get("uid")
        out = []
        for cr in self.cluster.list(API, "certificaterequests", ns):
            ann = cr["metadata"].get("annotations") or {}
            if ann.get(pol.CERT_NAME) != name:
                continue
            owners = cr["metadata"].get("ownerReferences") or []
            if uid and owners and not any(o.get("uid") == uid for o in owners):
                continue
            out.append(cr)
        return out

    @staticmethod
    def _revision_of(cr: dict) -> int:
        try:
            return int((cr["metadata"].get("annotations") or {}).get(pol.REVISION, "0"))
        except ValueError:
            return 0

    def _write_status(self, plural: str, ns: Optional[str], name: str, mutate) -> Optional[dict]:
        obj = self.cluster.get(API, plural, ns, name)
        if obj is None:
            return None
        before = copy.deepcopy(obj.get("status") or {})
        status = copy.deepcopy(before)
        mutate(obj, status)
        if status == before:
            return obj
        obj["status"] = status
        return self.cluster.update_status(obj)

    # ------------------------------------------------------------------ certificates

    def reconcile_certificate(self, ns: str, name: str) -> None:
        try:
            self._reconcile_certificate(ns, name)
        except ApiError as exc:
            if exc.code == 409:
                self.sim.later(self.sim.requeue_after_failure(), ("crt", ns, name), self.reconcile_certificate, ns, name)
            elif exc.code == 404:
                self.sim.later(self.sim.hop(STEP), ("crt", ns, name), self.reconcile_certificate, ns, name)
            else:
                raise

    def _reconcile_certificate(self, ns: str, name: str) -> None:
        crt = self.cluster.get(API, "certificates", ns, name)
        if crt is None:
            return
        now = self.sim.now()
        version = self.sim.version
        spec = crt.get("spec") or {}
        status = crt.get("status") or {}
        secret = self.cluster.get("v1", "secrets", ns, spec.get("secretName") or "") if spec.get("secretName") else None
        revision = int(status.get("revision") or 0)
        requests = self._requests_for(crt)
        current = next((r for r in requests if self._revision_of(r) == revision and revision > 0), None)
        nxt = next((r for r in requests if self._revision_of(r) == revision + 1), None)
        inp = pol.Input(crt, secret, current, now, version)

        # The readiness, trigger/issuing and revision controllers each look at the same state.
        self._readiness(crt, inp)
        crt = self.cluster.get(API, "certificates", ns, name) or crt
        issuing = get_condition(crt, "Issuing")
        if issuing and issuing.get("status") == "True":
            self._issue(crt, secret, nxt, inp)
        else:
            self._cleanup_next_key(crt)
            if not self._trigger(crt, inp, nxt):
                self._post_issuance(crt, secret)
        self._revision_gc(crt)

    def _post_issuance(self, crt: dict, secret: Optional[dict]) -> None:
        """SecretTemplateMismatchesSecret: copy secretTemplate labels/annotations, never re-issue."""
        if secret is None:
            return
        tmpl = (crt.get("spec") or {}).get("secretTemplate") or {}
        md = secret.get("metadata") or {}
        labels, ann = dict(md.get("labels") or {}), dict(md.get("annotations") or {})
        want_l, want_a = tmpl.get("labels") or {}, tmpl.get("annotations") or {}
        if all(labels.get(k) == v for k, v in want_l.items()) and all(ann.get(k) == v for k, v in want_a.items()):
            return
        labels.update(want_l)
        ann.update(want_a)
        obj = copy.deepcopy(secret)
        obj["metadata"]["labels"] = labels
        obj["metadata"]["annotations"] = ann
        self.sim.write("update", obj)

    def _trigger(self, crt: dict, inp: pol.Input, nxt: Optional[dict]) -> bool:
        """Trigger controller: set Issuing=True for the first failing trigger policy."""
        v = pol.evaluate(pol.TRIGGER_CHAIN, inp)
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        if v is None:
            self._schedule_renewal(crt, inp)
            return False
        status = crt.get("status") or {}
        last_failure = pol.parse_rfc3339(status.get("lastFailureTime"))
        if last_failure is not None:
            skip = False
            if nxt is not None:
                try:
                    skip = bool(pol.request_matches_spec(nxt, inp.spec))
                except ValueError:
                    skip = False
            if not skip:
                attempts = max(int(status.get("failedIssuanceAttempts") or 1), 1)
                backoff = min(MIN_BACKOFF * (2 ** (attempts - 1)), MAX_BACKOFF)
                until = last_failure + _dt.timedelta(microseconds=backoff // 1000)
                if inp.now < until:
                    self.sim.later((until - inp.now).total_seconds(), ("crt", ns, name),
                                   self.reconcile_certificate, ns, name)
                    return False
        reason, message = v
        gen = crt["metadata"].get("generation")

        def mutate(_obj, st):
            set_condition(st, "Issuing", "True", reason, message, gen, inp.now)

        self._write_status("certificates", ns, name, mutate)
        self.sim.event(crt, "Normal", "Issuing", message)
        return True

    def _schedule_renewal(self, crt: dict, inp: pol.Input) -> None:
        try:
            cert = pki.load_certs(pol.b64(inp.data, "tls.crt"))[0]
        except pki.PKIError:
            return
        rt = pol.renewal_time(pki.not_before(cert), pki.not_after(cert), inp.spec, inp.version)
        if rt is None:
            return
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        delay = max((rt - inp.now).total_seconds(), 0.0)
        self.sim.later(delay, ("renew", ns, name), self.reconcile_certificate, ns, name)

    def _readiness(self, crt: dict, inp: pol.Input) -> None:
        """Readiness controller: Ready condition plus notBefore/notAfter/renewalTime."""
        v = pol.evaluate(pol.READINESS_CHAIN, inp)
        cert = None
        if inp.secret is not None:
            try:
                cert = pki.load_certs(pol.b64(inp.data, "tls.crt"))[0]
            except pki.PKIError:
                cert = None
        gen = crt["metadata"].get("generation")
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]

        def mutate(_obj, st):
            if v is None:
                set_condition(st, "Ready", "True", "Ready", "Certificate is up to date and has not expired",
                              gen, inp.now)
            else:
                set_condition(st, "Ready", "False", v[0], v[1], gen, inp.now)
            if cert is not None:
                st["notBefore"] = rfc3339(pki.not_before(cert))
                st["notAfter"] = rfc3339(pki.not_after(cert))
                rt = pol.renewal_time(pki.not_before(cert), pki.not_after(cert), inp.spec, inp.version)
                if rt is not None:
                    st["renewalTime"] = rfc3339(rt)
                else:
                    st.pop("renewalTime", None)
            else:
                for k in ("notBefore", "notAfter", "renewalTime"):
                    st.pop(k, None)

        self._write_status("certificates", ns, name, mutate)

    # ------------------------------------------------------------------ issuance

    def _issue(self, crt: dict, secret: Optional[dict], nxt: Optional[dict], inp: pol.Input) -> bool:
        """Issuing=True: move the issuance one step on. Returns True when it wrote something."""
        ns = crt["metadata"]["namespace"]
        status = crt.get("status") or {}
        key_secret_name = status.get("nextPrivateKeySecretName")
        key_secret = self.cluster.get("v1", "secrets", ns, key_secret_name) if key_secret_name else None
        key = None
        if key_secret is not None:
            try:
                key = pki.parse_private_key(pol.b64(key_secret.get("data") or {}, "tls.key"))
            except pki.PKIError:
                key = None
        if key is None or pol.private_key_matches_spec(key, inp.spec):
            return self._keymanager(crt, secret, inp)

        # requestmanager: the CertificateRequest for the next revision
        if nxt is not None:
            try:
                mismatch = pol.request_matches_spec(nxt, inp.spec)
                from cryptography import x509 as _x509
                csr = _x509.load_pem_x509_csr(pol.b64(nxt.get("spec") or {}, "request"))
                key_differs = not pki.public_keys_equal(csr.public_key(), key.public_key())
            except ValueError:
                mismatch, key_differs = ["spec.request"], True
            ready = get_condition(nxt, "Ready")
            retry = False
            if ready is not None and ready.get("reason") in ("Failed", "Denied"):
                failed_at = pol.parse_rfc3339(ready.get("lastTransitionTime"))
                last_failure = pol.parse_rfc3339(status.get("lastFailureTime"))
                retry = last_failure is not None and failed_at is not None and last_failure >= failed_at
            if mismatch or key_differs or retry:
                self.cluster.delete(API, "certificaterequests", ns, nxt["metadata"]["name"])
                return True
            if ready is None or ready.get("status") != "True":
                if ready is not None and ready.get("reason") in ("Failed", "Denied"):
                    self._fail(crt, ready, inp)
                    return True
                return False  # still pending at the issuer
            self._store(crt, secret, nxt, key, inp)
            return True
        self._create_request(crt, key, key_secret_name, inp)
        return True

    def _keymanager(self, crt: dict, secret: Optional[dict], inp: pol.Input) -> bool:
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        policy = rotation_policy(inp.spec, inp.version)
        key = None
        if policy == "Never" and secret is not None and pol.b64((secret.get("data") or {}), "tls.key"):
            try:
                existing = pki.parse_private_key(pol.b64(secret.get("data") or {}, "tls.key"))
            except pki.PKIError:
                existing = None
            if existing is not None:
                violations = pol.private_key_matches_spec(existing, inp.spec)
                if violations:
                    self.sim.event(crt, "Warning", "Manual",
                                   f"User intervention required: existing private key in Secret "
                                   f"{ns}/{inp.spec.get('secretName')} does not match requirements on "
                                   f"Certificate resource, mismatching fields: {violations}, but "
                                   "cert-manager cannot create new private key as the Certificate's "
                                   ".spec.privateKey.rotationPolicy is unset or set to Never. To allow "
                                   "cert-manager to create a new private key you can set "
                                   ".spec.privateKey.rotationPolicy to 'Always' (this will result in the "
                                   "private key being regenerated every time a cert is renewed) ")
                    return False
                key = existing
        reused = key is not None
        if key is None:
            pk = inp.spec.get("privateKey") or {}
            key = pki.generate_key(pk.get("algorithm") or "RSA", pk.get("size") or 0)
        self._cleanup_next_key(crt, keep=None)
        key_name = f"{name}-{_suffix()}"
        owner = self._owner_ref(crt)
        self.cluster.create({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": key_name, "namespace": ns, "labels": {NEXT_KEY_LABEL: "true"},
                         "ownerReferences": [owner]},
            "type": "Opaque",
            "data": {"tls.key": issuers.b64encode(pki.encode_key(key, "PKCS8"))},
        })

        def mutate(_obj, st):
            st["nextPrivateKeySecretName"] = key_name

        self._write_status("certificates", ns, name, mutate)
        if reused:
            self.sim.event(crt, "Normal", "Reused", "Reusing private key stored in existing Secret resource "
                                                    f'"{inp.spec.get("secretName")}"')
        else:
            self.sim.event(crt, "Normal", "Generated", "Stored new private key in temporary Secret resource "
                                                       f'"{key_name}"')
        return True

    @staticmethod
    def _owner_ref(crt: dict) -> dict:
        return {"apiVersion": API, "kind": "Certificate", "name": crt["metadata"]["name"],
                "uid": crt["metadata"].get("uid", ""), "controller": True, "blockOwnerDeletion": True}

    def _cleanup_next_key(self, crt: dict, keep: Optional[str] = None) -> None:
        """keymanager: temporary key Secrets exist only while Issuing=True."""
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        issuing = get_condition(crt, "Issuing")
        for s in self.cluster.list("v1", "secrets", ns, label_selector=f"{NEXT_KEY_LABEL}=true"):
            owners = s["metadata"].get("ownerReferences") or []
            if not any(o.get("kind") == "Certificate" and o.get("name") == name for o in owners):
                continue
            if keep and s["metadata"]["name"] == keep:
                continue
            self.cluster.delete("v1", "secrets", ns, s["metadata"]["name"])
        issuing_now = bool(issuing and issuing.get("status") == "True")
        if (crt.get("status") or {}).get("nextPrivateKeySecretName") and not issuing_now:
            def mutate(_obj, st):
                st.pop("nextPrivateKeySecretName", None)

            self._write_status("certificates", ns, name, mutate)

    def _create_request(self, crt: dict, key, key_secret_name: str, inp: pol.Input) -> None:
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        spec = inp.spec
        revision = int((crt.get("status") or {}).get("revision") or 0) + 1
        subject = (pki.build_name(spec.get("commonName") or "", spec.get("subject"))
                   if not spec.get("literalSubject") else
                   certmanager_dn.to_x509_name(spec["literalSubject"]))  # as pki.UnmarshalSubjectStringToRDNSequence
        san = pki.san_extension(spec.get("dnsNames"), spec.get("ipAddresses"), spec.get("uris"),
                                spec.get("emailAddresses"))
        csr = pki.build_csr(key, subject, san)
        from cryptography.hazmat.primitives import serialization
        csr_pem = csr.public_bytes(serialization.Encoding.PEM)
        ann = {k: v for k, v in (crt["metadata"].get("annotations") or {}).items()
               if not k.startswith(NOT_COPIED)}
        ann.update({pol.CERT_NAME: name, pol.REVISION: str(revision), KEY_ANN: key_secret_name})
        cr_spec = {"issuerRef": copy.deepcopy(spec.get("issuerRef") or {}),
                   "request": issuers.b64encode(csr_pem)}
        if spec.get("duration"):
            cr_spec["duration"] = gd.to_string(gd.parse(spec["duration"]))  # metav1.Duration JSON form
        if spec.get("isCA"):
            cr_spec["isCA"] = True
        if spec.get("usages"):
            cr_spec["usages"] = list(spec["usages"])
        cr_spec.update(copy.deepcopy(CONTROLLER_IDENTITY))
        cr_spec["uid"] = self.sim.controller_uid
        cr_name = f"{name}-{revision}"
        self.cluster.create({
            "apiVersion": API, "kind": "CertificateRequest",
            "metadata": {"name": cr_name, "namespace": ns, "annotations": ann,
                         "labels": dict(crt["metadata"].get("labels") or {}),
                         "ownerReferences": [self._owner_ref(crt)]},
            "spec": cr_spec,
        })
        self.sim.event(crt, "Normal", "Requested", f'Created new CertificateRequest resource "{cr_name}"')

    def _fail(self, crt: dict, ready: dict, inp: pol.Input) -> None:
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        gen = crt["metadata"].get("generation")
        message = "The certificate request has failed to complete and will be retried: " + (ready.get("message") or "")

        def mutate(_obj, st):
            set_condition(st, "Issuing", "False", ready.get("reason") or "Failed", message, gen, inp.now)
            st["lastFailureTime"] = rfc3339(inp.now)
            st["failedIssuanceAttempts"] = int(st.get("failedIssuanceAttempts") or 0) + 1

        self._write_status("certificates", ns, name, mutate)
        self.sim.event(crt, "Warning", "Failed", message)

    def _store(self, crt: dict, secret: Optional[dict], cr: dict, key, inp: pol.Input) -> None:
        """Issuing controller: write the Secret, bump the revision, drop Issuing."""
        ns, name = crt["metadata"]["namespace"], crt["metadata"]["name"]
        spec = inp.spec
        cr_status = cr.get("status") or {}
        chain = pol.b64(cr_status, "certificate")
        ca = pol.b64(cr_status, "ca")
        leaf = pki.load_certs(chain)[0]
        encoding = (spec.get("privateKey") or {}).get("encoding") or "PKCS1"
        ref = spec.get("issuerRef") or {}
        ann = {
            pol.CERT_NAME: name,
            pol.ISSUER_NAME: ref.get("name", ""),
            pol.ISSUER_KIND: ref.get("kind") or "Issuer",
            pol.ISSUER_GROUP: ref.get("group") or "",
        }
        ann.update(self._cert_annotations(leaf))
        tmpl = spec.get("secretTemplate") or {}
        data = {"tls.crt": issuers.b64encode(chain),
                "tls.key": issuers.b64encode(pki.encode_key(key, encoding))}
        if ca:
            data["ca.crt"] = issuers.b64encode(ca)
        if secret is None:
            obj = {"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": spec["secretName"], "namespace": ns, "annotations": {}, "labels": {}},
                   "type": "kubernetes.io/tls", "data": {}}
        else:
            obj = copy.deepcopy(secret)
        md = obj.setdefault("metadata", {})
        md.setdefault("annotations", {})
        md.setdefault("labels", {})
        subject_keys = ("organizations", "organizationalunits", "countries", "provinces", "localities",
                        "postalcodes", "streetaddresses", "serialnumber")
        managed = set(ann) | {"cert-manager.io/email-sans"} | {"cert-manager.io/subject-" + x for x in subject_keys}
        md["annotations"] = {k: v for k, v in (md.get("annotations") or {}).items() if k not in managed}
        md["annotations"].update(tmpl.get("annotations") or {})
        md["annotations"].update(ann)
        md["labels"].update(tmpl.get("labels") or {})
        md["labels"][FAO_LABEL] = "true"
        new_data = dict(obj.get("data") or {})
        new_data.pop("ca.crt", None)
        new_data.update(data)
        obj["data"] = new_data
        obj.pop("stringData", None)
        if secret is None:
            self.sim.write("create", obj)
        else:
            self.sim.write("update", obj)
        revision = self._revision_of(cr)

        def mutate(_obj, st):
            st["revision"] = revision
            remove_condition(st, "Issuing")
            for k in ("nextPrivateKeySecretName", "lastFailureTime", "failedIssuanceAttempts"):
                st.pop(k, None)

        fresh = self._write_status("certificates", ns, name, mutate)
        self.sim.event(crt, "Normal", "Issuing", "The certificate has been successfully issued")
        if fresh is not None:
            # The readiness controller reacts to the new Secret at once (milliseconds on a real cluster),
            # so notBefore/notAfter/renewalTime follow the revision bump without a visible gap.
            new_secret = self.cluster.get("v1", "secrets", ns, spec["secretName"])
            self._readiness(fresh, pol.Input(fresh, new_secret, cr, self.sim.now(), self.sim.version))
        key_secret = (crt.get("status") or {}).get("nextPrivateKeySecretName")
        if key_secret:
            try:
                self.cluster.delete("v1", "secrets", ns, key_secret)
            except ApiError:
                pass

    @staticmethod
    def _cert_annotations(cert) -> dict:
        """AnnotationsForCertificate: always common-name/alt-names/ip-sans/uri-sans, others when set.

        Every list is ``cmutil.JoinWithEscapeCSV`` (``internal/controller/certificates/secrets.go``
        ``addCSVEncodedAnnotation``): one CSV record, so an organisation "Acme, Inc." is written quoted.
        """
        from cryptography import x509 as _x509

        def attrs(oid):
            return [a.value for a in cert.subject.get_attributes_for_oid(oid)]

        try:
            sans = cert.extensions.get_extension_for_class(_x509.SubjectAlternativeName).value
        except _x509.ExtensionNotFound:
            sans = _x509.SubjectAlternativeName([])
        cn = attrs(NameOID.COMMON_NAME)
        out = {
            "cert-manager.io/common-name": cn[-1] if cn else "",
            "cert-manager.io/alt-names": join_with_escape_csv(sans.get_values_for_type(_x509.DNSName)),
            "cert-manager.io/ip-sans": join_with_escape_csv(str(i) for i in sans.get_values_for_type(_x509.IPAddress)),
            "cert-manager.io/uri-sans": join_with_escape_csv(sans.get_values_for_type(_x509.UniformResourceIdentifier)),
        }
        optional = {
            "cert-manager.io/email-sans": sans.get_values_for_type(_x509.RFC822Name),
            "cert-manager.io/subject-organizations": attrs(NameOID.ORGANIZATION_NAME),
            "cert-manager.io/subject-organizationalunits": attrs(NameOID.ORGANIZATIONAL_UNIT_NAME),
            "cert-manager.io/subject-countries": attrs(NameOID.COUNTRY_NAME),
            "cert-manager.io/subject-provinces": attrs(NameOID.STATE_OR_PROVINCE_NAME),
            "cert-manager.io/subject-localities": attrs(NameOID.LOCALITY_NAME),
            "cert-manager.io/subject-postalcodes": attrs(NameOID.POSTAL_CODE),
            "cert-manager.io/subject-streetaddresses": attrs(NameOID.STREET_ADDRESS),
            "cert-manager.io/subject-serialnumber": attrs(NameOID.SERIAL_NUMBER),
        }
        for k, vals in optional.items():
            if vals:
                out[k] = join_with_escape_csv(vals)
        return out

    def _revision_gc(self, crt: dict) -> None:
        """revisionmanager: keep at most revisionHistoryLimit requests once Ready.

        As ``ProcessItem``/``certificateRequestsToDelete`` in cert-manager's
        ``pkg/controller/certificates/revisionmanager/revisionmanager_controller.go``: every request owned
        by the Certificate counts, the in-flight one (revision > status.revision) too, so with a limit of 1
        (the default from 1.18) a scheduled renewal deletes the current-revision request while Ready stays
        True; requests without a parsable revision annotation are counted but never deleted.
        """
        ready = get_condition(crt, "Ready")
        limit = revision_history_limit(crt.get("spec") or {}, self.sim.version)
        if limit is None or not ready or ready.get("status") != "True":
            return
        fresh = self.cluster.get(API, "certificates", crt["metadata"]["namespace"], crt["metadata"]["name"])
        if fresh is None:
            return
        owned = self._requests_for(fresh)
        if limit >= len(owned):
            return
        numbered = []
        for r in owned:
            try:
                numbered.append((int((r["metadata"].get("annotations") or {})[pol.REVISION]), r))
            except (KeyError, ValueError):
                continue
        numbered.sort(key=lambda item: item[0])
        for _rev, r in numbered[:max(len(numbered) - limit, 0)]:
            # apierrors.IsNotFound: already gone, upstream continues.
            self.sim._delete_quietly(API, "certificaterequests", r["metadata"]["namespace"], r["metadata"]["name"])

    # ------------------------------------------------------------------ certificate requests

    def reconcile_request(self, ns: str, name: str) -> None:
        try:
            self._reconcile_request(ns, name)
        except ApiError as exc:
            if exc.code == 409:
                self.sim.later(self.sim.requeue_after_failure(), ("cr", ns, name), self.reconcile_request, ns, name)
            elif exc.code != 404:
                raise

    def _reconcile_request(self, ns: str, name: str) -> None:
        cr = self.cluster.get(API, "certificaterequests", ns, name)
        if cr is None:
            return
        now = self.sim.now()
        ready = get_condition(cr, "Ready")
        if ready is not None and ready.get("reason") in ("Issued", "Failed", "Denied"):
            return
        approved = get_condition(cr, "Approved")
        denied = get_condition(cr, "Denied")
        if denied is not None and denied.get("status") == "True":
            def mutate_denied(_obj, st):
                set_condition(st, "Ready", "False", "Denied", "The CertificateRequest was denied by an approval "
                                                              "controller", None, now)
                st["failureTime"] = rfc3339(now)

            self._write_status("certificaterequests", ns, name, mutate_denied)
            return
        if approved is None:
            def mutate_approve(_obj, st):
                set_condition(st, "Approved", "True", "cert-manager.io",
                              "Certificate request has been approved by cert-manager.io", None, now)

            self._write_status("certificaterequests", ns, name, mutate_approve)
            return
        ref = (cr.get("spec") or {}).get("issuerRef") or {}
        group = ref.get("group") or "cert-manager.io"
        if group != "cert-manager.io":
            return  # an external issuer's controller would act; none is simulated
        kind = ref.get("kind") or "Issuer"
        plural = "clusterissuers" if kind == "ClusterIssuer" else "issuers"
        issuer = self.cluster.get(API, plural, None if kind == "ClusterIssuer" else ns, ref.get("name", ""))
        if issuer is None:
            result = issuers.SignResult("pending", "Pending",
                                        f'Referenced "{kind}" not found: {kind.lower()}.cert-manager.io '
                                        f'"{ref.get("name", "")}" not found')
        else:
            ir = get_condition(issuer, "Ready")
            if ir is None or ir.get("status") != "True":
                result = issuers.SignResult("pending", "Pending",
                                            "Referenced issuer does not have a Ready status condition")
            else:
                result = issuers.sign_request(self.cluster, cr, kind, issuer, now)

        def mutate(_obj, st):
            if result.outcome == "issued":
                st["certificate"] = issuers.b64encode(result.certificate)
                if result.ca:
                    st["ca"] = issuers.b64encode(result.ca)
                set_condition(st, "Ready", "True", "Issued", "Certificate fetched from issuer successfully",
                              None, now)
            elif result.outcome == "failed":
                set_condition(st, "Ready", "False", "Failed", result.message, None, now)
                st["failureTime"] = rfc3339(now)
            else:
                set_condition(st, "Ready", "False", "Pending", result.message, None, now)

        self._write_status("certificaterequests", ns, name, mutate)


def _go_csv_field(field: str) -> str:
    """One field as Go's encoding/csv Writer writes it (``fieldNeedsQuotes``: a comma, quote, CR or LF,
    the field ``\\.``, or a leading Unicode space make it quoted, quotes doubled)."""
    needs = field != "" and (field == "\\." or any(c in field for c in ',"\r\n') or field[0].isspace())
    return '"' + field.replace('"', '""') + '"' if needs else field


def join_with_escape_csv(values) -> str:
    """cert-manager ``pkg/util`` ``JoinWithEscapeCSV``: the list as one CSV record, without the newline."""
    return ",".join(_go_csv_field(str(v)) for v in values)


def new_uid() -> str:
    return str(uuid.uuid4())
