"""Leak check: deploy, rotate (both backup kinds) and report with -vvv and --diff on a fresh fleet,
then look for key material in everything they produced: stdout, stderr, the Ansible log file, the
report directory, the rotation summary and the backup directory. Key material = any
``PRIVATE KEY`` PEM header, any private key of the fleet (the root's, every intermediate's, old and
new), as PEM text or as the base64 kept in the Secrets.
"""

from __future__ import annotations

import pytest

from helpers_ansible import run_playbook
from kubesim.fixtures import kubesim_fleet_factory  # noqa: F401  pylint: disable=unused-import
import rotation_fleet as rf

pytestmark = pytest.mark.slow


def _key_fragments(fleet, root):
    """Distinctive pieces of every private key (whole PEM bodies are matched line by line too)."""
    fragments = set()
    for text in rf.key_material(fleet) + [root.key_pem.decode()]:
        text = text.strip()
        if not text:
            continue
        fragments.add(text)
        for line in text.splitlines():
            if len(line) >= 40 and "PRIVATE KEY" not in line:
                fragments.add(line)
        if "PRIVATE KEY" not in text:  # base64 of a PEM: also look for a slice of it
            fragments.add(text[40:120])
    return fragments


def test_no_key_material_in_any_output(kubesim_fleet_factory, tmp_path):  # noqa: F811
    fleet = kubesim_fleet_factory(n_clusters=1, preinstall=("cert-manager", "istio"), propagation_delay=0.2)
    root = rf.make_root()
    common = root.write(tmp_path / "pki")
    log = tmp_path / "ansible.log"
    env = {"ANSIBLE_LOG_PATH": str(log)}
    outputs = []
    runs = [
        ("playbooks/deploy.yml", dict(common, cert_manager_install="existing", ca_setup_trust_source="ca_keypair",
                                      ca_setup_allow_root_key_in_cluster=True,
                                      ca_setup_key_algorithm="ECDSA", ca_setup_key_size=256)),
        ("playbooks/rotate.yml", {"ca_rotation_duration": "720h", "ca_rotation_backup_mode": "both",
                                  "ca_rotation_backup_dir": str(tmp_path / "backups"),
                                  "ca_rotation_backup_vault_password": "leak-test", "rotate_serial": [1, 1],
                                  "report_dir": str(tmp_path / "report"), "ca_rotation_reload_timeout": 30}),
        # ca_keypair with the root: report.yml's trust check fails the cluster (its output is checked for leaks too).
        ("playbooks/report.yml", {"report_dir": str(tmp_path / "report"), "report_fail_on_problems": False}),
    ]
    for playbook, extra in runs:
        res = run_playbook(playbook, inventory=fleet.inventory, extra_vars=extra, diff=True, extra_args=["-vvv"],
                           env=env, json_output=False)
        assert res.rc == 0, res.explain()
        outputs.append((playbook, res.stdout + res.stderr))
    rf.assert_fleet_sound(fleet, root.fingerprint)

    files = [log] + sorted(p for d in ("report", "backups") for p in (tmp_path / d).rglob("*") if p.is_file())
    assert any(p.name == "report.json" for p in files) and any(p.suffix == ".vault" for p in files)
    outputs += [(str(p), p.read_text(errors="replace")) for p in files]
    assert len(log.read_text()) > 10000, "the -vvv log is suspiciously short"

    fragments = _key_fragments(fleet, root)
    assert len(fragments) > 8
    leaks = []
    for where, text in outputs:
        if "PRIVATE KEY" in text:
            leaks.append((where, "PRIVATE KEY header"))
        for frag in fragments:
            if frag in text:
                leaks.append((where, frag[:16] + "..."))
    assert leaks == []
