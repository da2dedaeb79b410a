"""The baseline people use today: the upstream tutorial's steps, scripted with kubectl.

One cluster after another: apply the new Certificate spec (plain ``kubectl apply -f``,
as the tutorial writes it), poll until the ``cacerts`` Secret holds a new certificate, then
poll istiod's log until it reports loading the new intermediate. Polls run every
``BASELINE_POLL_S`` seconds (1 s: generous to the baseline; a person watching by hand
is slower). Preparing each cluster's manifest (what a person has as a YAML file)
is done before timing starts.
"""

import datetime
import json
import os
import subprocess
import tempfile
import time

RELOAD_LINE = "Istiod has detected the newly added intermediate CA and updated its key and certs accordingly"
POLL_S = float(os.environ.get("BASELINE_POLL_S", "1"))
NAMESPACE = "istio-system"
SECRET = "cacerts"


class BaselineError(Exception):
    """A cluster did not complete the tutorial steps in time."""


class Kubectl(object):
    """kubectl against one context of the fleet kubeconfig (own discovery cache, like a fresh shell)."""

    def __init__(self, kubeconfig, context, cache_dir):
        self.base = ["kubectl", "--kubeconfig", kubeconfig, "--context", context, "--cache-dir", cache_dir,
                     "--request-timeout", "20s"]

    def run(self, *args, **kwargs):
        proc = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=60,
                              input=kwargs.get("input"))
        if proc.returncode != 0 and not kwargs.get("ok_fail"):
            raise BaselineError("kubectl %s: %s" % (" ".join(args[:3]), proc.stderr.strip()[-400:]))
        return proc.stdout


def prepare(kubectl, duration):
    """The Certificate manifest a person would apply: the cacerts Certificate with the new duration."""
    certs = json.loads(kubectl.run("get", "certificates.cert-manager.io", "-n", NAMESPACE, "-o", "json"))["items"]
    cert = next((c for c in certs if c.get("spec", {}).get("secretName") == SECRET), None)
    if cert is None:
        raise BaselineError("no Certificate writes Secret %s/%s; was the fleet deployed?" % (NAMESPACE, SECRET))
    spec = dict(cert["spec"])
    spec["duration"] = duration
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": {"name": cert["metadata"]["name"], "namespace": NAMESPACE}, "spec": spec}


def _secret_cert(kubectl):
    return kubectl.run("get", "secret", SECRET, "-n", NAMESPACE, "-o", "jsonpath={.data.tls\\.crt}", ok_fail=True)


def rotate_one(kubectl, manifest_path, timeout):
    """The tutorial's steps on one cluster; returns seconds spent."""
    started = time.monotonic()
    deadline = started + timeout
    before = _secret_cert(kubectl)
    kubectl.run("apply", "-f", manifest_path)
    while True:
        current = _secret_cert(kubectl)
        if current and current != before:
            break
        if time.monotonic() > deadline:
            raise BaselineError("the cacerts Secret did not change within %ss" % timeout)
        time.sleep(POLL_S)
    # Logs since a little before the Secret changed (the reload can only come after it).
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=POLL_S + 2)) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")
    while True:
        logs = kubectl.run("logs", "-n", NAMESPACE, "-l", "app=istiod", "--since-time", since, "--tail=-1",
                           ok_fail=True)
        if RELOAD_LINE in logs:
            break
        if time.monotonic() > deadline:
            raise BaselineError("istiod did not log the reload within %ss" % timeout)
        time.sleep(POLL_S)
    return time.monotonic() - started


def prepare_fleet(kubeconfig, contexts, duration, workdir):
    """Manifest files per context, written before timing starts.

    The discovery cache warmed here is kept for the timed run, as a person's would be.
    """
    cache = tempfile.mkdtemp(prefix="kubectl-cache-", dir=workdir)
    plans = []
    for context in contexts:
        kubectl = Kubectl(kubeconfig, context, cache)
        path = os.path.join(workdir, "baseline-%s.json" % context)
        with open(path, "w") as handle:
            json.dump(prepare(kubectl, duration), handle)
        plans.append((context, kubectl, path))
    return plans


def run(plans, timeout=180.0):
    """Rotate every cluster in turn; returns per-cluster seconds and failures."""
    per_cluster, failures = {}, {}
    for context, kubectl, path in plans:
        try:
            per_cluster[context] = round(rotate_one(kubectl, path, timeout), 2)
        except (BaselineError, subprocess.TimeoutExpired) as exc:
            failures[context] = str(exc)
    return per_cluster, failures
