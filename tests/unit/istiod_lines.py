"""istiod log text for tests, built from the exact lines in docs/upstream/istiod.md#reload-steps.

Each helper returns lines as ``pods/log?timestamps=true`` serves them: kubelet's
RFC3339Nano prefix, then istiod's own ``time<TAB>level<TAB>message``.
"""

from __future__ import annotations

import datetime

UTC = datetime.timezone.utc
MARKER = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"


def ts(when: datetime.datetime, nanos: bool = True) -> str:
    when = when.astimezone(UTC)
    if nanos:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d123Z" % when.microsecond
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def line(when: datetime.datetime, message: str, level: str = "info") -> str:
    own = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "%s %s\t%s\t%s" % (ts(when), own, level, message)


def go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def x509_line(when, issuer: str, subject: str, serial: int, not_before="2025-01-01T00:00:00Z",
              not_after="2035-01-01T00:00:00Z") -> str:
    return line(when, "x509 cert - Issuer: %s, Subject: %s, SN: %x, NotBefore: %s, NotAfter: %s" % (
        go_quote(issuer), go_quote(subject), serial, go_quote(not_before), go_quote(not_after)))


def chain_lines(when, inter_cert, root_cert) -> list:
    """istiod's serving chain as loadIstiodCert logs it: DNS leaf, the intermediate, the root."""
    inter_subject = inter_cert.subject.rfc4514_string()
    root_subject = root_cert.subject.rfc4514_string()
    return [
        x509_line(when, inter_subject, "", 0x5eed0001),
        x509_line(when, root_subject, inter_subject, inter_cert.serial_number),
        x509_line(when, root_subject, root_subject, root_cert.serial_number),
    ]


def startup_plugged(when, inter_cert, root_cert, fmt="tls") -> list:
    step = datetime.timedelta(milliseconds=10)
    out = [line(when, "creating CA and initializing public key"),
           line(when, "Using kubernetes.io/tls secret type for signing ca files" if fmt == "tls"
                else "Using istiod file format for signing ca files"),
           line(when, "Use local CA certificate"),
           line(when + step, "Added cacerts files watcher at ./etc/cacerts"),
           line(when + step, "initializing Istiod DNS certificates host: istiod.istio-system.svc")]
    out += chain_lines(when + 2 * step, inter_cert, root_cert)
    out += [line(when + 2 * step, "Istiod certificates are reloaded"), line(when + 3 * step, "Istiod CA has started")]
    return out


def startup_self_signed(when) -> list:
    return [line(when, "creating CA and initializing public key"),
            line(when, "Use self-signed certificate as the CA certificate"),
            line(when, "Load signing key and cert from existing secret istio-system/istio-ca-secret"),
            line(when, "Use roots from istio-ca-secret"),
            line(when, "Istiod certificates are reloaded")]


def reload_ok(when, inter_cert, root_cert, fmt="tls") -> list:
    step = datetime.timedelta(milliseconds=5)
    out = [line(when, "Update Istiod cacerts"),
           line(when, "Using kubernetes.io/tls secret type for signing ca files" if fmt == "tls"
                else "Using istiod file format for signing ca files"),
           line(when + step, "update root cert and generate new dns certs")]
    out += chain_lines(when + 2 * step, inter_cert, root_cert)
    out += [line(when + 2 * step, "Istiod certificates are reloaded"), line(when + 3 * step, MARKER)]
    return out


def reload_root_refused(when, multiroot_text=True) -> list:
    text = ("Multi root is disabled, updating new ROOT-CA not supported" if multiroot_text
            else "Updating new ROOT-CA not supported")
    return [line(when, "Update Istiod cacerts"),
            line(when, "Using kubernetes.io/tls secret type for signing ca files"),
            line(when, text, "warn")]


def reload_failed(when, error="the cert does not match the key: tls: private key does not match public key") -> list:
    return [line(when, "Update Istiod cacerts"),
            line(when, "Using kubernetes.io/tls secret type for signing ca files"),
            line(when, "Failed to update new Plug-in CA certs: %s" % error, "error")]


def text(lines) -> str:
    return "".join(item + "\n" for item in lines)


def pod(name="istiod-abc-1", version="1.22.3", started=None, revision=None, env=None, namespace="istio-system",
        phase="Running", deleting=False, uid=None, args=None) -> dict:
    """An istiod Pod object as the API returns it."""
    labels = {"app": "istiod"}
    if revision:
        labels["istio.io/rev"] = revision
    rs = ("istiod-" + revision if revision else "istiod") + "-5d4f9c7b8"
    meta = {"name": name, "namespace": namespace, "uid": uid or "uid-" + name, "labels": labels,
            "ownerReferences": [{"kind": "ReplicaSet", "name": rs}]}
    if started is not None:
        meta["creationTimestamp"] = ts(started, nanos=False)
    if deleting:
        meta["deletionTimestamp"] = ts(started or datetime.datetime.now(UTC), nanos=False)
    container = {"name": "discovery", "image": "docker.io/istio/pilot:%s" % version if version else "pilot",
                 "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}
    if args is not None:
        container["args"] = list(args)
    status = {"phase": phase}
    if started is not None:
        status["startTime"] = ts(started, nanos=False)
        status["containerStatuses"] = [{"name": "discovery", "state": {"running": {
            "startedAt": ts(started, nanos=False)}}}]
    return {"metadata": meta, "spec": {"containers": [{"name": "istio-proxy", "image": "proxyv2:1"}, container]},
            "status": status}


def secret(inter, root, changed=None, created=None, fmt="tls", extra=None, name="cacerts",
           namespace="istio-system") -> dict:
    """A cacerts Secret (key values are placeholders: the check must never decode them)."""
    import base64

    def b64(text):
        return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()

    if fmt == "tls":
        data = {"tls.crt": b64(inter.pem), "ca.crt": b64(root.pem), "tls.key": "!!not-base64!!"}
    else:
        data = {"ca-cert.pem": b64(inter.pem), "root-cert.pem": b64(root.pem),
                "cert-chain.pem": b64(inter.pem + root.pem), "ca-key.pem": "!!not-base64!!"}
    data.update(extra or {})
    meta = {"name": name, "namespace": namespace}
    if created is not None:
        meta["creationTimestamp"] = ts(created, nanos=False)
    if changed is not None:
        later = ts(changed + datetime.timedelta(hours=1), nanos=False)
        meta["managedFields"] = [
            {"manager": "kubectl-label", "operation": "Update", "time": later,
             "fieldsV1": {"f:metadata": {"f:labels": {}}}},
            {"manager": "cert-manager-certificates-issuing", "operation": "Apply", "time": ts(changed, nanos=False),
             "fieldsV1": {"f:data": {".": {}}}},
        ]
    return {"kind": "Secret", "metadata": meta, "data": data, "type": "kubernetes.io/tls"}
