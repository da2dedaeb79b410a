"""The floor of a fleet rotation: the sum over serial batches of the slowest istiod pod's propagation delay.

No tool can beat it: a cluster's rotation is done only when every istiod pod loaded the new ``cacerts``,
which kubelet puts into each pod's Secret volume on that pod's own sync (kubelet's secret volume
refresh, jittered per pod on a real node); a batch is done when its slowest pod is, and batches run one
after the other. So floor = sum over batches of max(delay of every istiod pod of every cluster in the
batch). With one fixed delay for every pod (kubesim's ``propagation_delay`` today) that is
batches x delay. Batches are computed with Ansible's own ``pct_to_int`` rule, the same way
``serial: [1, '25%']`` splits a play's hosts, in the play's host order (the ``--limit`` order here).

The per-pod delays come from the fleet (``fleet_pod_delays``): what each pod experienced for the last
``cacerts`` change, so the floor is computed after the step it bounds, from the same jitter the step saw.
"""

import os
import re

from ansible.utils.helpers import pct_to_int

DEFAULT_SERIAL = [1, "25%"]  # playbooks/rotate.yml's default rotate_serial: a canary, then 25% batches


def batches(hosts, serial):
    """Batch sizes for ``hosts`` hosts under a play ``serial`` list (ansible's _get_serialized_batches)."""
    serial = list(serial) if isinstance(serial, (list, tuple)) else [serial]
    sizes, left, item = [], hosts, 0
    while left > 0:
        size = pct_to_int(serial[item], hosts)
        if size <= 0:
            sizes.append(left)
            break
        take = min(size, left)
        sizes.append(take)
        left -= take
        item = min(item + 1, len(serial) - 1)
    return sizes


def rotate_serial(playbook_path):
    """The serial list rotate.yml uses by default (its literal, or the default() of its expression)."""
    try:
        with open(playbook_path) as handle:
            text = handle.read()
    except OSError:
        return list(DEFAULT_SERIAL)
    match = re.search(r"^\s*serial:\s*(.+)$", text, re.M)
    if not match:
        return [-1]
    value = match.group(1).strip().strip("\"'")
    inner = re.search(r"default\((\[.*?\])\)", value) or re.search(r"^(\[.*\])$", value)
    if inner:
        items = [i.strip().strip("\"'") for i in inner.group(1).strip("[]").split(",") if i.strip()]
        return [int(i) if re.match(r"^-?\d+$", i) else i for i in items]
    if re.match(r"^\d+%?$", value):
        return [int(value) if value.isdigit() else value]
    return list(DEFAULT_SERIAL)


def fleet_pod_delays(fleet, names, namespace="istio-system", secret="cacerts"):
    """Per cluster in ``names`` (in that order), the Secret-volume propagation delay of each istiod pod.

    Asks each kubesim cluster for ``pod_propagation_delays(namespace, secret)`` - {pod name: seconds from the
    Secret's last change to that pod's volume holding it} - the report a jittered kubelet model gives. A
    cluster without that report (the fixed-delay kubesim of today), or with nothing to report yet, gives
    its single ``propagation_delay`` for all its pods. Returns ``(delays, source)``: a list of lists of seconds,
    and ``"per-pod"`` when every cluster reported its pods, ``"fixed"`` when none did, else ``"mixed"``.
    """
    delays, reported = [], 0
    for name in names:
        cluster = fleet[name]
        report = getattr(cluster, "pod_propagation_delays", None)
        pods = report(namespace, secret) if callable(report) else None
        if pods:
            delays.append([float(v) for v in pods.values()])
            reported += 1
        else:
            delays.append([float(getattr(cluster, "propagation_delay", 0.0) or 0.0)])
    source = "per-pod" if reported == len(names) else "fixed" if not reported else "mixed"
    return delays, source


def floor_seconds(hosts, serial, propagation_delay, pod_delays=None):
    """The floor for ``hosts`` clusters under ``serial``.

    ``pod_delays``: per cluster, in play order, the delays of its istiod pods (``fleet_pod_delays``); a
    cluster with no entry, or an empty one, counts ``propagation_delay``. Without ``pod_delays`` every pod
    has ``propagation_delay`` and the floor is batches x delay.
    """
    sizes = batches(hosts, serial)
    pod_delays = list(pod_delays or [])
    per_cluster = [max(pod_delays[i]) if i < len(pod_delays) and pod_delays[i] else float(propagation_delay)
                   for i in range(hosts)]
    per_batch, start = [], 0
    for size in sizes:
        per_batch.append(max(per_cluster[start:start + size]))
        start += size
    return {"batches": sizes, "batch_count": len(sizes), "batch_delays_s": [round(d, 3) for d in per_batch],
            "floor_s": round(sum(per_batch), 2), "sequential_floor_s": round(sum(per_cluster), 2)}


def describe(serial):
    return "[%s]" % ", ".join(str(s) if isinstance(s, int) else "'%s'" % s for s in serial)


if __name__ == "__main__":
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    s = rotate_serial(os.path.join(here, "playbooks", "rotate.yml"))
    for n in (10, 50, 100, 200):
        print(n, describe(s), floor_seconds(n, s, 10.0))
