"""The meshpki.istio_ca.fleet stdout callback (ansible.cfg) on a small fleet: progress a person can follow.

Issue 18: deploy.yml printed nothing for 46 s on 3 clusters. Here a rotation in two batches must show which batch
of how many with its clusters, one line per cluster as it finishes a step (how many of the batch are done), one
final line per cluster, and still Ansible's PLAY RECAP; -v brings back the default task banners.
"""

from __future__ import annotations

import re

import pytest

import rotation_fleet as rf
from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_module_fleet_factory  # noqa: F401  pylint: disable=unused-import


@pytest.fixture(scope="module")
def fleet(kubesim_module_fleet_factory):  # noqa: F811
    fleet = kubesim_module_fleet_factory(n_clusters=3, preinstall=("cert-manager",), propagation_delay=0.5)
    rf.setup_ca(fleet, rf.make_root())
    return fleet


def _human(playbook, fleet, extra_vars, extra_args=None):
    res = run_playbook(playbook, inventory=fleet.inventory, extra_vars=extra_vars, json_output=False,
                       extra_args=extra_args)
    return res, res.stdout


def test_rotation_in_batches_shows_progress_and_final_state(fleet, tmp_path):
    res, out = _human("playbooks/rotate.yml", fleet, {"report_dir": str(tmp_path), "ca_rotation_force": True,
                                                      "rotate_serial": [1, 2], "ca_rotation_reload_timeout": 60})
    assert res.rc == 0, out
    assert "batch 1 of 2, 1 of 3 clusters: cluster-1\n" in out
    assert "batch 2 of 2, 2 of 3 clusters: cluster-2, cluster-3\n" in out
    # each cluster of the second batch as it finishes a step, counted against the batch
    done = re.findall(r"^(?:ok|changed)\s+(cluster-[23])\s+.+\(([12])/2, [\d.]+s\)$", out, re.M)
    assert {c for c, _n in done} == {"cluster-2", "cluster-3"} and {n for _c, n in done} == {"1", "2"}, out
    assert re.search(r"^changed\s+cluster-1\s+.+\(1/1, [\d.]+s\)$", out, re.M), out
    assert "TASK [meshpki.istio_ca.ca_rotation : Show the rotation summary]" in out  # debug output kept as is
    state, recap = out.index("FLEET STATE"), out.index("PLAY RECAP")
    assert state < recap
    for cluster in fleet.names:
        assert re.search(rf"^{cluster}\s+changed \(\d+ step\(s\)\), last step ", out[state:recap], re.M), out[state:]
        assert re.search(rf"^{cluster}\s+: ok=\d+\s+changed=\d+", out[recap:], re.M), out[recap:]
    assert "TASK [meshpki.istio_ca.ca_rotation : " in out and out.count("TASK [") < 10  # banners only for messages


def test_failed_cluster_final_line_names_step_and_cause(fleet, tmp_path):
    res, out = _human("playbooks/report.yml", fleet, {"report_dir": str(tmp_path), "report_dri": "x"})
    assert res.rc != 0, out
    final = out[out.index("FLEET STATE"):out.index("PLAY RECAP")]
    assert ("cluster-1  FAILED at 'Fail on a misspelled variable before anything runs': unknown variable "
            "report_dri — did you mean report_dir?") in final


def test_verbose_shows_the_default_output_too(fleet, tmp_path):
    # The fleet's clusters hold the root key (ca_keypair with the root), which report.yml reports as a failing
    # check; this test is about the output, so the report only informs.
    res, out = _human("playbooks/report.yml", fleet, {"report_dir": str(tmp_path), "report_fail_on_problems": False},
                      extra_args=["-v"])
    assert res.rc == 0, out
    assert "batch 1 of 1, 3 of 3 clusters: cluster-1, cluster-2, cluster-3" in out
    assert "TASK [meshpki.istio_ca.ca_rotation : Build this cluster's status entry]" in out
    assert re.search(r"^ok: \[cluster-3\]", out, re.M) and "FLEET STATE" in out and "PLAY RECAP" in out
