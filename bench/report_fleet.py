"""The benchmark's fleets: N kubesim clusters already in the state deploy.yml leaves them in.

Why not deploy.yml: deploy.yml costs ~20 controller CPU-s per cluster (it is kubernetes.core work by
design, docs/performance.md), so deploying 50 + 100 clusters would take most of an hour on 2 cores
before rotate.yml and report.yml - the things measured - even start. The integration tests' helper
(tests/integration/rotation_fleet.py) builds the same objects the ca_setup role makes (root Secret,
CA ClusterIssuer, the cacerts Certificate with the certificate module's field manager) and starts
istiod after cacerts exists, in well under a second per cluster. BENCH_DEPLOY=playbook uses deploy.yml.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, os.path.join(REPO, "tests"))

import meshpki_test_root  # noqa: E402
import rotation_fleet  # noqa: E402
from fleet import ISTIO_VERSION  # noqa: E402


def start_deployed_fleet(clusters, workdir, propagation_delay):
    """A started kubesim Fleet of ``clusters`` with one shared root, cacerts issued and istiod plugged."""
    from kubesim import Fleet  # test infrastructure, only needed here
    fleet = Fleet(n_clusters=clusters, workdir=workdir, preinstall=("cert-manager",),
                  istio_version=ISTIO_VERSION, propagation_delay=propagation_delay)
    fleet.start()
    try:
        rotation_fleet.setup_ca(fleet, meshpki_test_root.make_root_ca("Bench Root CA", organization="meshpki bench"),
                                istio_version=ISTIO_VERSION)
    except BaseException:
        fleet.stop()
        raise
    return fleet
