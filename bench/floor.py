"""The floor of a fleet rotation: serial batches x Secret-volume propagation delay.

No tool can beat it: within a batch every cluster waits at least one propagation
delay for kubelet to put the new ``cacerts`` into istiod's volume, and batches run one
after the other. Batches are computed with Ansible's own ``pct_to_int`` rule, the same
way ``serial: [1, '25%']`` splits a play's hosts.
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


def floor_seconds(hosts, serial, propagation_delay):
    sizes = batches(hosts, serial)
    return {"batches": sizes, "batch_count": len(sizes), "floor_s": round(len(sizes) * propagation_delay, 2)}


def describe(serial):
    return "[%s]" % ", ".join(str(s) if isinstance(s, int) else "'%s'" % s for s in serial)


if __name__ == "__main__":
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    s = rotate_serial(os.path.join(here, "playbooks", "rotate.yml"))
    for n in (10, 50, 100):
        print(n, describe(s), floor_seconds(n, s, 10.0))
