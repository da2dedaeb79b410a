# -*- coding: utf-8 -*-
# Copyright: meshpki.istio_ca contributors
# Apache License 2.0 (see LICENSE)
"""Every problem the reload check can report, each as a cause and a fix.

Texts live here, in one place, so the per-pod verdicts, the Secret and root checks
and the docs all say the same thing. Facts are from docs/upstream/istiod.md (the anchor
noted per entry). A problem is a plain dict: ``code``, ``cause``, ``fix``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.meshpki.istio_ca.plugins.module_utils.istiod import versions

VALIDATE_HINT = ("Check new material with meshpki.istio_ca.x509_inspect (istio_signing_ca: true) before writing the "
                 "Secret: material accepted at reload can still crash-loop istiod at its next restart.")


def problem(code, cause, fix):
    return {"code": code, "cause": cause, "fix": fix}


def _restart(pod):
    return "kubectl -n %s rollout restart deployment/%s" % (pod.namespace, pod.deployment)


def no_istiod(namespace):
    return problem(
        "no_istiod",
        "No istiod pod (label app=istiod) runs in namespace %s, so nothing loads the cacerts Secret." % namespace,
        "Install istiod (the meshpki.istio_ca.istio role does), or set namespace to where istiod runs.")


def hot_reload_unsupported(pod):  # docs/upstream/istiod.md#hot-reload-versions: no flag before 1.12
    return problem(
        "hot_reload_unsupported",
        "Istio %s cannot hot-reload plugged CA certs (the reload arrived in 1.12), so pod %s keeps the old "
        "intermediate." % (pod.version, pod.name),
        "Restart istiod to load the new cacerts (%s), or upgrade to Istio 1.19+ where the reload is always on."
        % _restart(pod))


def hot_reload_ineffective(pod):  # docs/upstream/istiod.md#hot-reload-versions: 1.12-1.13 isValidCACertsFile filter
    return problem(
        "hot_reload_ineffective",
        "Istio %s's cacerts watcher ignores the '..data' symlink swap kubelet uses to update a Secret volume, so "
        "pod %s never reloads from the cacerts Secret, with or without AUTO_RELOAD_PLUGIN_CERTS (fixed in 1.14 by "
        "istio PR #38367)." % (pod.version, pod.name),
        "Restart istiod to load the new cacerts (%s), or upgrade to Istio 1.14+ with AUTO_RELOAD_PLUGIN_CERTS=true "
        "(1.18+ has it on by default)." % _restart(pod))


def hot_reload_off(pod):  # docs/upstream/istiod.md#hot-reload-versions
    if pod.version is not None and pod.version.key()[:2] == (1, 18):
        why = "sets AUTO_RELOAD_PLUGIN_CERTS=%s (1.18 defaults to true)" % pod.auto_reload
    elif pod.auto_reload is None:
        why = "does not set AUTO_RELOAD_PLUGIN_CERTS, which defaults to false before 1.18"
    else:
        why = "sets AUTO_RELOAD_PLUGIN_CERTS=%s" % pod.auto_reload
    return problem(
        "hot_reload_off",
        "Hot reload is off: pod %s (Istio %s) %s, so istiod never watches /etc/cacerts and keeps the old "
        "intermediate." % (pod.name, pod.version, why),
        "Set AUTO_RELOAD_PLUGIN_CERTS=true in istiod's env (values.pilot.env; the meshpki.istio_ca.istio role sets "
        "it), or restart istiod to load the new cacerts now (%s)." % _restart(pod))


def self_signed(pod, evidence):  # docs/upstream/istiod.md#file-watch, docs/upstream/istiod.md#startup-precedence
    return problem(
        "self_signed",
        "Pod %s runs istiod's self-signed CA (%s). istiod watches /etc/cacerts only when it started as a plugged "
        "CA, so a cacerts Secret created or fixed later is never loaded (istio issue #57853)." % (pod.name, evidence),
        "Restart istiod now that a complete cacerts exists (%s). This changes the mesh root: restart the workloads "
        "too, or migrate with the multi-root procedure (ISTIO_MULTIROOT_MESH=true) to avoid mTLS failures."
        % _restart(pod))


def root_refused(pod, line):  # docs/upstream/istiod.md#root-comparison
    cause = ("Pod %s refused the new cacerts because its root (ca.crt / root-cert.pem) differs byte for byte from "
             "the root istiod runs with ('%s'); it keeps the old intermediate." % (pod.name, line))
    if not versions.multiroot_supported(pod.version):
        fix = ("Put the previous root back byte-identical in the Secret. Istio %s cannot switch roots without "
               "restarts (multi-root needs 1.20+): restart istiod, then every workload." % pod.version)
    elif pod.multiroot:
        fix = ("With ISTIO_MULTIROOT_MESH=true the new root bundle must contain the old one (or be contained in it): "
               "publish old+new roots combined first, then the new intermediate, then the new root alone.")
    else:
        fix = ("Restore the previous root bytes in the Secret (keep ca.crt byte-identical across renewals; even a "
               "whitespace change counts as a new root), or change roots with the multi-root procedure: "
               "ISTIO_MULTIROOT_MESH=true on istiod and PROXY_CONFIG_XDS_AGENT=true for proxies, then root bundle "
               "old+new, then the new intermediate, then the new root alone.")
    return problem("root_change_refused", cause, fix)


_UPDATE_FIXES = (
    ("cannot verify the cert", "The intermediate does not verify against the root: issue it from the root in "
                               "ca.crt / root-cert.pem, keep every cert of the path within its validity, and use no "
                               "extendedKeyUsage (or one with both serverAuth and clientAuth)."),
    ("does not match the key", "tls.key / ca-key.pem is not the key of tls.crt / ca-cert.pem: write the matching key "
                               "and certificate together."),
    ("private key", "The key must be one PEM block of type 'RSA PRIVATE KEY', 'EC PRIVATE KEY' or 'PRIVATE KEY'."),
    ("PEM", "tls.crt / ca-cert.pem must start with the intermediate as a PEM certificate."),
    ("no such file", "A cacerts file is missing: the Secret needs tls.crt, tls.key and ca.crt (or ca-cert.pem, "
                     "ca-key.pem, cert-chain.pem and root-cert.pem)."),
)


def update_failed(pod, detail):  # docs/upstream/istiod.md#reload-steps (step 5)
    fix = "Fix the cacerts material and update the Secret; istiod tries again on the next change."
    for needle, text in _UPDATE_FIXES:
        if needle.lower() in (detail or "").lower():
            fix = text + " Then update the Secret; istiod tries again on the next change."
            break
    return problem(
        "update_failed",
        "Pod %s rejected the new cacerts: 'Failed to update new Plug-in CA certs: %s'. istiod keeps signing with "
        "the old intermediate." % (pod.name, detail),
        fix + " " + VALIDATE_HINT)


def root_read_failed(pod, detail):  # docs/upstream/istiod.md#bundle-completeness: the text says root-cert.pem even for ca.crt
    return problem(
        "root_file_missing",
        "Pod %s could not read the root file during the reload ('failed reading root-cert.pem: %s'); with "
        "kubernetes.io/tls names this is ca.crt." % (pod.name, detail),
        "Make the Secret carry the root as ca.crt (cert-manager writes it for a CA issuer backed by the root) or "
        "root-cert.pem, then update the Secret.")


def format_unknown(pod, line):
    return problem(
        "format_unknown",
        "Pod %s could not tell the cacerts file format ('%s')." % (pod.name, line),
        "Give cacerts either tls.crt, tls.key, ca.crt (Istio 1.14.2+) or ca-cert.pem, ca-key.pem, cert-chain.pem, "
        "root-cert.pem.")


def dns_cert_failed(pod, detail):  # docs/upstream/istiod.md#reload-steps (step 7)
    return problem(
        "dns_cert_failed",
        "Pod %s loaded the new CA but could not issue its own serving cert with it ('Failed generating plugged-in "
        "istiod key cert: %s')." % (pod.name, detail),
        "Use an RSA or ECDSA P-256/P-384 intermediate key, update the Secret, and restart istiod (%s) if it stays "
        "in this state." % _restart(pod))


def no_changes(pod):  # docs/upstream/istiod.md#known-regressions: 1.27.0-beta/rc
    return problem(
        "intermediate_update_ignored",
        "Pod %s (Istio %s) ignored an intermediate-only update ('No changes detected in root cert or CRL file data, "
        "skipping update'), a regression of the 1.27.0 pre-releases (fixed in 1.27.0 by istio PR #57271)."
        % (pod.name, pod.version),
        "Upgrade istiod to 1.27.0 or later, or restart it (%s) to load the new cacerts." % _restart(pod))


def watch_broken(pod, line):  # docs/upstream/istiod.md#file-watch
    return problem(
        "watcher_stopped",
        "Pod %s has no working cacerts watcher ('%s'), so it reloads nothing until it restarts." % (pod.name, line),
        "Restart istiod (%s)." % _restart(pod))


def ca_create_failed(pod, line):  # docs/upstream/istiod.md#bundle-completeness, docs/upstream/istiod.md#signing-ca-requirements
    return problem(
        "ca_start_failed",
        "Pod %s could not start its CA from cacerts ('%s')." % (pod.name, line),
        "Fix the Secret so it holds a complete, matching bundle (tls.crt intermediate first, tls.key, ca.crt root); "
        + VALIDATE_HINT)


def tls_names_unsupported(pod):  # docs/upstream/istiod.md#tls-secret-names
    return problem(
        "tls_names_unsupported",
        "Istio %s (pod %s) reads only the Istio-native cacerts names (ca-cert.pem, ca-key.pem, cert-chain.pem, "
        "root-cert.pem), but the Secret has only tls.crt/tls.key/ca.crt (read from 1.14.2 / 1.15.0)."
        % (pod.version, pod.name),
        "Add the native keys to the cacerts Secret, or upgrade Istio to 1.14.2+.")


def wrong_serial(pod, seen, expected):
    return problem(
        "other_intermediate_loaded",
        "Pod %s reloaded, but with intermediate serial %s, not the expected %s (a Secret update that kubelet "
        "delivered late, or the Secret changed again)." % (pod.name, seen, expected),
        "Wait for kubelet to deliver the current Secret (raise timeout); if the Secret changed again, check again "
        "with the new serial.")


def logs_unavailable(pod, error):
    return problem(
        "logs_unavailable",
        "The log of pod %s could not be read: %s" % (pod.name, error),
        "Grant get on pods/log in the istiod namespace, or wait until the pod runs.")


def timeout(pod, seconds, since_text):
    return problem(
        "timeout",
        "No evidence within %ss that pod %s loaded the new intermediate after the Secret changed at %s. kubelet "
        "updates Secret volumes on its periodic sync plus a cache delay, often a minute or more." %
        (_num(seconds), pod.name, since_text),
        "Raise timeout (for example 300) and check again; make sure the pod mounts the cacerts Secret at "
        "/etc/cacerts (no subPath).")


def _level_text(pod):
    return "--log_output_level=%s" % pod.log_flag if pod.log_flag else "its log level"


def log_level_hides_reload(pod, why):  # istio_ca.go handleEvent / certcontroller.go loadIstiodCert log at Info
    """istiod logs above info: the success marker and 'x509 cert' lines are never written."""
    return problem(
        "log_level_hides_reload",
        "Pod %s runs with %s (default scope at %s), so istiod never writes the Info lines that prove a reload "
        "(the success marker and the 'x509 cert' lines), and %s." % (pod.name, _level_text(pod), pod.log_level, why),
        "Let istiod log at info: Helm value global.logging.level=default:info (IstioOperator "
        "spec.values.global.logging.level), or the discovery container arg --log_output_level=default:info, then "
        "check again; on Istio 1.24+ the check can instead read the citadel_server_cert_chain_expiry_timestamp metric "
        "(grant get on pods/proxy in the istiod namespace).")


def marker_without_proof(pod):
    return problem(
        "reload_unproven",
        "Pod %s logged a successful reload, but neither its 'x509 cert' lines nor its metrics show the expected "
        "intermediate." % pod.name,
        "If istiod's serving cert comes from files (istio-csr), rely on the metric (Istio 1.24+); otherwise raise "
        "timeout and check again.")


def secret_missing(namespace, name):
    return problem(
        "secret_missing",
        "Secret %s/%s does not exist, so the intermediate and root could not be read." % (namespace, name),
        "Create it (the meshpki.istio_ca.ca_setup role issues it with cert-manager) or set secret_name.")


def secret_unreadable(namespace, name, error):
    return problem(
        "secret_unreadable",
        "The intermediate in Secret %s/%s cannot be read: %s" % (namespace, name, error),
        "Write the intermediate as the first PEM certificate of tls.crt (or ca-cert.pem). " + VALIDATE_HINT)


def secret_serial_mismatch(namespace, name, in_secret, expected):
    return problem(
        "secret_serial_mismatch",
        "Secret %s/%s holds intermediate serial %s, not the expected %s." % (namespace, name, in_secret, expected),
        "Pass the serial now in the Secret as expected_serial, or wait until the new intermediate is written "
        "(cert-manager Certificate Ready with the new revision).")


def no_root_in_secret(namespace, name):  # docs/upstream/istiod.md#bundle-completeness
    return problem(
        "secret_without_root",
        "Secret %s/%s has no root (ca.crt / root-cert.pem). istiod needs it: 1.27+ refuses to start, older versions "
        "fail the reload." % (namespace, name),
        "Issue the intermediate from a CA issuer that knows the root (cert-manager then writes ca.crt), or add the "
        "root to the Secret.")


def root_mismatch(namespaces, whitespace_only):  # docs/upstream/istiod.md#root-configmap
    cause = ("The istio-ca-root-cert ConfigMap of %d namespace(s) (%s) does not hold the Secret's root byte for "
             "byte, as istiod compares it." % (len(namespaces), ", ".join(namespaces[:10]) +
                                               (", ..." if len(namespaces) > 10 else "")))
    if whitespace_only:
        cause += (" The certificates are the same; only the bytes differ (whitespace, order or PEM encoding), which istiod "
                  "still treats as a root change.")
    return problem(
        "root_mismatch", cause,
        "Keep the Secret's root byte-identical to what istiod loaded (restore it), or finish the root change: with "
        "multi-root istiod rewrites the ConfigMaps itself; otherwise restart istiod, then the workloads.")


def no_root_configmaps():
    return problem(
        "root_configmaps_missing",
        "No istio-ca-root-cert ConfigMap exists in any namespace, so the mesh root could not be compared.",
        "Check that istiod runs and is the leader (it writes the ConfigMaps), and that trustBundleName is not "
        "overridden.")


def root_check_failed(error):
    return problem(
        "root_check_failed",
        "The istio-ca-root-cert ConfigMaps could not be listed: %s" % error,
        "Grant list on configmaps cluster-wide to the account running the check.")


def _num(value):
    return ("%.1f" % value).rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
