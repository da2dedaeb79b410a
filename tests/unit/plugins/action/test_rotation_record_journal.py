"""The journal append of the rotation_record action (plugins/action/rotation_record.py).

The clusters of a batch write the same run's journal at once, each from its own forked worker; the lines
must never interleave or be lost (the step lineinfile had ``throttle: 1`` for that).
"""

import json
import multiprocessing
import os
import stat

from ansible_collections.meshpki.istio_ca.plugins.action.rotation_record import append_line


def _writer(path, cluster, count):
    for step in range(count):
        append_line(path, json.dumps({"cluster": cluster, "step": step, "pad": "x" * 5000}, sort_keys=True))


def test_concurrent_writers_leave_every_line_whole(tmp_path):
    path = str(tmp_path / "journal" / "run.jsonl")  # the directory does not exist yet
    procs = [multiprocessing.Process(target=_writer, args=(path, "cluster-%d" % i, 50)) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    lines = open(path, encoding="utf-8").read().splitlines()
    entries = [json.loads(line) for line in lines]  # a torn line would not parse
    assert sorted((e["cluster"], e["step"]) for e in entries) == sorted(
        ("cluster-%d" % i, s) for i in range(4) for s in range(50))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
