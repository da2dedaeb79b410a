"""The bench's floor and plot (bench/floor.py, bench/plot.py): what `make bench` compares rotate.yml against.

The floor of a rotation in serial batches is the sum over batches of the slowest istiod pod's Secret-volume
propagation delay in that batch; a wrong floor makes every "x the floor" the bench prints wrong.
"""

import importlib
import os
import sys
import xml.etree.ElementTree as ET

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench")


@pytest.fixture(scope="module")
def floor():
    sys.path.insert(0, BENCH)
    try:
        yield importlib.import_module("floor")
    finally:
        sys.path.remove(BENCH)


@pytest.fixture(scope="module")
def plot():
    sys.path.insert(0, BENCH)
    try:
        yield importlib.import_module("plot")
    finally:
        sys.path.remove(BENCH)


def test_fixed_delay_floor_is_batches_times_delay(floor):
    result = floor.floor_seconds(50, [1, "25%"], 10.0)
    assert result["batches"] == [1, 12, 12, 12, 12, 1]
    assert result["floor_s"] == 60.0
    assert result["sequential_floor_s"] == 500.0


def test_jittered_floor_sums_the_slowest_pod_of_each_batch(floor):
    # 5 clusters under serial [1, 2]: batches [1, 2, 2]; each cluster's istiod pods with their own delays.
    delays = [[61.0], [70.0, 88.5], [64.0], [90.0, 60.0], [75.0]]
    result = floor.floor_seconds(5, [1, 2], 10.0, delays)
    assert result["batches"] == [1, 2, 2]
    assert result["batch_delays_s"] == [61.0, 88.5, 90.0]
    assert result["floor_s"] == 239.5
    assert result["sequential_floor_s"] == 61.0 + 88.5 + 64.0 + 90.0 + 75.0


def test_cluster_without_reported_delays_counts_the_fixed_delay(floor):
    assert floor.floor_seconds(3, [3], 10.0, [[4.0], [], [12.0]])["floor_s"] == 12.0
    assert floor.floor_seconds(3, [3], 10.0, [[4.0], []])["floor_s"] == 10.0


class _Cluster(object):
    propagation_delay = 10.0

    def __init__(self, pods=None):
        self.pods = pods

    def pod_propagation_delays(self, namespace, secret):
        assert (namespace, secret) == ("istio-system", "cacerts")
        return self.pods


class _FixedCluster(object):
    propagation_delay = 7.0


def test_fleet_pod_delays_reads_the_fleets_report_and_falls_back(floor):
    fleet = {"a": _Cluster({"istiod-1": 61.0, "istiod-2": 80.0}), "b": _FixedCluster(), "c": _Cluster({})}
    delays, source = floor.fleet_pod_delays(fleet, ["a", "b", "c"])
    assert delays == [[61.0, 80.0], [7.0], [10.0]]
    assert source == "mixed"
    assert floor.fleet_pod_delays(fleet, ["b"]) == ([[7.0]], "fixed")
    assert floor.fleet_pod_delays(fleet, ["a"])[1] == "per-pod"


def test_plot_draws_every_measured_step_and_the_floor(plot):
    def step(wall, cpu, rc=0):
        return {"wall_s": wall, "cpu_s_per_cluster": cpu, "rc": rc}
    results = {"sizes": {
        "50": {"rotate": step(90.0, 1.2), "peer": step(200.0, 9.0), "baseline": step(570.0, 2.5),
               "floor": {"floor_s": 60.0}, "propagation_delay_s": 10},
        "100": {"rotate": step(100.0, 1.1), "peer": step(0, 0, rc=2), "floor": {"floor_s": 50.0},
                "propagation_delay_s": 10}}}
    doc = ET.fromstring(plot.svg(results))
    lines = doc.findall("{http://www.w3.org/2000/svg}polyline")
    # wall: rotate (2 sizes), peer (1: N=100 failed), baseline (1), floor (2); CPU: rotate, peer, baseline.
    assert [len(line.get("points").split()) for line in lines] == [2, 1, 1, 2, 2, 1, 1]
    assert lines[3].get("stroke-dasharray")  # the floor is the dashed line
    assert plot.points(results, "floor", "wall_s") == [(50, 60.0), (100, 50.0)]
