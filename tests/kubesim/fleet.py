"""A fleet of simulated clusters in one process, plus the files clients need
(kubeconfig, Ansible inventory, ready marker).

Every cluster serves HTTPS with a certificate from the fleet's cluster CA, made fresh at start
(``apiserver/tls.py``); the kubeconfig carries ``certificate-authority-data`` and the admin's
client certificate (``CN=kubernetes-admin``, ``O=system:masters``), as kind's does. Set
``KUBESIM_PLAIN_HTTP=1`` (or ``Fleet(tls=False)``, ``kubesim --plain-http``) to serve plain HTTP
with no authentication required, as kubesim did before.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import yaml

from .cluster import Cluster
from .manifests import DEFAULT_CERT_MANAGER_VERSION, DEFAULT_ISTIO_VERSION, preinstall as _preinstall


PLAIN_HTTP_ENV = "KUBESIM_PLAIN_HTTP"
STATIC_TOKEN_USER = "kubesim-admin"
SEED_ENV = "KUBESIM_SEED"


def tls_default() -> bool:
    """HTTPS unless ``KUBESIM_PLAIN_HTTP`` is set to something true."""
    return os.environ.get(PLAIN_HTTP_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def seed_default() -> int:
    """``KUBESIM_SEED`` when set (to replay a run), else a fresh random seed."""
    env = os.environ.get(SEED_ENV, "").strip()
    if env:
        return int(env)
    return int.from_bytes(os.urandom(4), "big")


def _user_candidates() -> List[str]:
    out = []
    for fn in (os.getlogin, getpass.getuser):
        try:
            out.append(fn())
        except Exception:
            pass
    try:
        import pwd
        out.append(pwd.getpwuid(os.getuid()).pw_name)
    except Exception:
        pass
    return list(dict.fromkeys(u for u in out if u))


def discovery_cache_files(url: str) -> List[str]:
    """Discovery caches the Python client and kubernetes.core keep for ``url`` (kubernetes-client/python dynamic/discovery.py cache files; kubernetes.core's client cache)."""
    tmp = tempfile.gettempdir()
    files = [os.path.join(tmp, "osrcp-%s.json" % hashlib.md5(url.encode()).hexdigest())]
    ids = [url] + [f"{url}-{u}" for u in _user_candidates()]
    files += [os.path.join(tmp, "k8srcp-%s.json" % hashlib.sha256(i.encode()).hexdigest()) for i in ids]
    return files


def find_kubectl() -> Optional[str]:
    """kubectl to run: $KUBESIM_KUBECTL, else the one on PATH.

    The Google Cloud SDK's ``kubectl`` is a dispatcher that asks the server for
    /version and then runs ``kubectl.1.<minor>`` next to it; calling that build
    directly saves a request and ~0.3 s per invocation.
    """
    env = os.environ.get("KUBESIM_KUBECTL")
    if env:
        return env
    found = shutil.which("kubectl")
    if not found:
        return None
    from .apiserver.discovery import KUBE_VERSION
    direct = os.path.join(os.path.dirname(os.path.realpath(found)),
                          f"kubectl.{KUBE_VERSION['major']}.{KUBE_VERSION['minor']}")
    return direct if os.access(direct, os.X_OK) else found


class Fleet:
    """N clusters named ``cluster-1..N`` (or ``names``), each with its own API server port.

    ``start()`` makes them listen, pre-installs components, waits for controllers to
    settle and writes ``workdir/kubeconfig``, ``workdir/inventory.yml`` and ``workdir/ready``.
    """

    def __init__(self, n_clusters: int = 3, workdir: Union[str, Path, None] = None,
                 preinstall: Sequence[str] = (), istio_version: str = DEFAULT_ISTIO_VERSION,
                 cert_manager_version: str = DEFAULT_CERT_MANAGER_VERSION, propagation_delay: float = 0.0,
                 names: Optional[Sequence[str]] = None, sync_writes: bool = False, controllers: bool = True,
                 token: str = "kubesim", require_token: bool = False, tls: Optional[bool] = None,
                 anonymous_auth: bool = False, workloads: int = 0, workload_cert_ttl: float = 24 * 3600.0,
                 workload_proxy_version: Optional[str] = None, mtls_interval: float = 5.0,
                 propagation_jitter: float = 0.0, istio_managed_by: str = "none",
                 controller_latency=None, seed: Optional[int] = None):
        if isinstance(preinstall, str):
            preinstall = [p for p in preinstall.split(",") if p]
        self.names: List[str] = list(names) if names else [f"cluster-{i}" for i in range(1, n_clusters + 1)]
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="kubesim-"))
        self.preinstall = tuple(preinstall)
        self.istio_version = istio_version
        self.istio_managed_by = istio_managed_by
        self.cert_manager_version = cert_manager_version
        self.propagation_delay = float(propagation_delay)
        self.token = token
        self.require_token = require_token
        self.tls = tls_default() if tls is None else bool(tls)
        self.ca = None  # apiserver.tls.ClusterCA, made at start when tls
        self._admin_credentials = None
        if propagation_jitter < 0:
            raise ValueError("propagation_jitter must be >= 0")
        self.propagation_jitter = float(propagation_jitter)
        # One seed for the fleet's modelled controller latencies (controllers/latency.py): pass the
        # seed a failing run printed (fleet.seed, KUBESIM_SEED) to replay its timings.
        self.seed = seed_default() if seed is None else int(seed)
        self.sync_writes = bool(sync_writes)
        options = {"istio_version": istio_version, "cert_manager_version": cert_manager_version,
                   "propagation_delay": self.propagation_delay, "propagation_jitter": self.propagation_jitter,
                   "preinstall": self.preinstall}
        self.clusters: List[Cluster] = [Cluster(n, fleet=self, options=options, controllers=controllers,
                                                sync_writes=sync_writes, tls=self.tls, seed=self.seed,
                                                controller_latency=controller_latency) for n in self.names]
        self._by_name: Dict[str, Cluster] = {c.name: c for c in self.clusters}
        from .apiserver.authentication import MASTERS, UserInfo
        for c in self.clusters:
            c.anonymous_auth = anonymous_auth
            # a --token-auth-file line per cluster: the kubeconfig's token when require_token or plain HTTP
            c.static_tokens[self.token_for(c.name)] = UserInfo(name=STATIC_TOKEN_USER, groups=[MASTERS],
                                                              uid=STATIC_TOKEN_USER)
            if require_token:
                c.required_token = self.token_for(c.name)
        if workloads < 0 or workload_cert_ttl <= 0 or mtls_interval <= 0:
            raise ValueError("workloads must be >= 0, workload_cert_ttl and mtls_interval > 0")
        self.workloads = int(workloads)
        self.workload_cert_ttl = float(workload_cert_ttl)
        self.workload_proxy_version = workload_proxy_version
        self.mtls_interval = float(mtls_interval)
        self.mesh = None  # controllers.mesh.MeshTraffic when workloads
        self.started = False

    # ------------------------------------------------------------ container protocol

    def __getitem__(self, key) -> Cluster:
        if isinstance(key, int):
            return self.clusters[key]
        return self._by_name[key]

    def __iter__(self):
        return iter(self.clusters)

    def __len__(self):
        return len(self.clusters)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ lifecycle

    @property
    def kubeconfig(self) -> str:
        return str(self.workdir / "kubeconfig")

    @property
    def inventory(self) -> str:
        return str(self.workdir / "inventory.yml")

    @property
    def ready_file(self) -> str:
        return str(self.workdir / "ready")

    @property
    def kubectl_cache_dir(self) -> str:
        return str(self.workdir / "kubectl-cache")

    def start(self, settle_timeout: float = 60.0) -> "Fleet":
        if self.started:
            return self
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            os.unlink(self.ready_file)
        except FileNotFoundError:
            pass
        try:
            if self.tls and self.ca is None:
                from .apiserver.tls import ClusterCA
                self.ca = ClusterCA()
                self._admin_credentials = self.ca.admin_credentials()
                for c in self.clusters:
                    c.ca = self.ca
            for c in self.clusters:
                c.start()
            self.clean_discovery_caches()
            for c in self.clusters:
                _preinstall(c, self.preinstall, cert_manager_version=self.cert_manager_version,
                            istio_version=self.istio_version, istio_managed_by=self.istio_managed_by)
            self.settle(settle_timeout)
            if self.workloads:
                self._start_workloads(settle_timeout)
            self._write_kubeconfig()
            self._write_inventory()
            Path(self.ready_file).write_text("".join(f"{c.name} {c.url}\n" for c in self.clusters))
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def stop(self) -> None:
        if self.mesh is not None:
            self.mesh.stop()
        for c in self.clusters:
            c.stop()
        self.clean_discovery_caches()
        try:
            os.unlink(self.ready_file)
        except FileNotFoundError:
            pass
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.started = False

    def settle(self, timeout: float = 30.0) -> bool:
        return all([c.settle(timeout) for c in self.clusters])

    def advance(self, seconds: float) -> None:
        """Advance every cluster's simulated clock."""
        for c in self.clusters:
            c.clock.advance(seconds, wait=False)
        self.settle()

    # ------------------------------------------------------------ simulated workloads and mTLS (controllers/mesh)

    def _start_workloads(self, settle_timeout: float) -> None:
        from .controllers.mesh.handshakes import MeshTraffic
        from .controllers.mesh.workloads import WorkloadSim
        sims = []
        for c in self.clusters:
            sim = WorkloadSim(self.workloads, ttl=self.workload_cert_ttl, proxy_version=self.workload_proxy_version)
            c.workload_sim = sim
            c.add_controller(sim)
            sim.setup()
            sims.append(sim)
        self.settle(settle_timeout)
        self.mesh = MeshTraffic(self, sims, workdir=self.workdir, interval=self.mtls_interval)
        self.mesh.start()

    def _need_mesh(self):
        if self.mesh is None:
            raise RuntimeError("this fleet has no simulated workloads (Fleet(workloads=N), kubesim --workloads N)")
        return self.mesh

    def mtls_summary(self) -> dict:
        """The running tally: ``{"attempted": n, "failed": n, "since": ISO time, "rounds": n}``."""
        return self._need_mesh().summary()

    def mtls_failures(self) -> List[dict]:
        """Every failed handshake since the tally began: ``{"time", "client", "server", "reason"}``."""
        return self._need_mesh().failure_list()

    def mtls_reset(self) -> dict:
        """Start a new tally now (and truncate ``mtls-failures.jsonl``)."""
        self._need_mesh().reset()
        return self.mtls_summary()

    def mtls_round(self) -> dict:
        """Settle, run one round of handshakes now, return the summary."""
        self.settle()
        return self._need_mesh().round_now()

    def restart_workloads(self, namespace: Optional[str] = None) -> None:
        """``Cluster.restart_workloads`` on every cluster."""
        for c in self.clusters:
            c.restart_workloads(namespace, settle=False)
        self.settle()

    def clean_discovery_caches(self) -> None:
        for c in self.clusters:
            if c.server is None or not c.port:
                continue
            for f in discovery_cache_files(c.url):
                try:
                    os.unlink(f)
                except FileNotFoundError:
                    pass
        shutil.rmtree(self.kubectl_cache_dir, ignore_errors=True)

    def token_for(self, name: str) -> str:
        """The bearer token the kubeconfig gives for cluster ``name``."""
        return f"{self.token}-{name}"

    # ------------------------------------------------------------ files

    @property
    def ca_pem(self) -> Optional[bytes]:
        """The cluster CA certificate clients must trust (None over plain HTTP)."""
        return self.ca.cert_pem if self.ca is not None else None

    def _cluster_entry(self, c: Cluster) -> dict:
        entry = {"server": c.url}
        if self.ca is not None:
            entry["certificate-authority-data"] = base64.b64encode(self.ca.cert_pem).decode()
        return entry

    def _user_entry(self, c: Cluster) -> dict:
        """kind's admin: client certificate and key; the static token when required or over plain HTTP."""
        if self._admin_credentials is not None and not self.require_token:
            cert, key = self._admin_credentials
            return {"client-certificate-data": base64.b64encode(cert).decode(),
                    "client-key-data": base64.b64encode(key).decode()}
        return {"token": self.token_for(c.name)}

    def kubeconfig_dict(self) -> dict:
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": c.name, "cluster": self._cluster_entry(c)} for c in self.clusters],
            "users": [{"name": f"{c.name}-admin", "user": self._user_entry(c)} for c in self.clusters],
            "contexts": [{"name": c.name, "context": {"cluster": c.name, "user": f"{c.name}-admin",
                                                      "namespace": "default"}} for c in self.clusters],
            "current-context": self.clusters[0].name if self.clusters else "",
        }

    def _write_kubeconfig(self) -> None:
        path = Path(self.kubeconfig)
        path.write_text(yaml.safe_dump(self.kubeconfig_dict(), sort_keys=False))
        path.chmod(0o600)

    def inventory_dict(self) -> dict:
        hosts = {c.name: {"ansible_connection": "local",
                          "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                          "k8s_kubeconfig": str(Path(self.kubeconfig).resolve()),
                          "k8s_context": c.name} for c in self.clusters}
        return {"all": {"children": {"clusters": {"hosts": hosts}}}}

    def _write_inventory(self) -> None:
        Path(self.inventory).write_text(yaml.safe_dump(self.inventory_dict(), sort_keys=False))

    # ------------------------------------------------------------ clients

    def kubectl(self, *args: str, cluster: Union[str, Cluster, None] = None, input: Optional[str] = None,
                check: bool = False, timeout: float = 60.0, kubectl: Optional[str] = None,
                env: Optional[dict] = None) -> subprocess.CompletedProcess:
        """Run kubectl against one cluster with this fleet's kubeconfig and discovery cache dir."""
        binary = kubectl or find_kubectl()
        if not binary:
            raise FileNotFoundError("kubectl not found on PATH")
        c = cluster if isinstance(cluster, Cluster) else self[cluster or self.names[0]]
        cmd = [binary, f"--kubeconfig={self.kubeconfig}", f"--context={c.name}",
               f"--cache-dir={self.kubectl_cache_dir}", *args]
        full_env = dict(os.environ)
        full_env.pop("KUBECONFIG", None)
        full_env.update(env or {})
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout, check=check,
                              env=full_env)

    def client_ssl_context(self, client_certificate: bool = True):
        """An ``ssl.SSLContext`` trusting the fleet CA, with the admin client certificate unless told not to."""
        from .apiserver.tls import client_context
        if self.ca is None:
            raise RuntimeError("this fleet serves plain HTTP (tls=False)")
        cert, key = self._admin_credentials if client_certificate else (None, None)
        return client_context(self.ca.cert_pem, cert, key)

    def connection(self, cluster: Union[str, Cluster, None] = None, timeout: float = 10.0,
                   client_certificate: bool = True):
        """An ``http.client`` connection to one cluster's API server, as the admin (HTTPS when the fleet is)."""
        import http.client
        c = cluster if isinstance(cluster, Cluster) else self[cluster or self.names[0]]
        if c.tls:
            return http.client.HTTPSConnection("127.0.0.1", c.port, timeout=timeout,
                                               context=self.client_ssl_context(client_certificate))
        return http.client.HTTPConnection("127.0.0.1", c.port, timeout=timeout)

    def write_kubeconfig(self, path: Union[str, Path], user: dict, cluster: Union[str, Cluster, None] = None) -> str:
        """A kubeconfig for one cluster (context named after it) with ``user`` as its credentials,
        e.g. ``{"token": ...}`` for a ServiceAccount token. Returns the path."""
        c = cluster if isinstance(cluster, Cluster) else self[cluster or self.names[0]]
        doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
               "clusters": [{"name": c.name, "cluster": self._cluster_entry(c)}],
               "users": [{"name": "user", "user": dict(user)}],
               "contexts": [{"name": c.name, "context": {"cluster": c.name, "user": "user", "namespace": "default"}}],
               "current-context": c.name}
        path = Path(path)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        path.chmod(0o600)
        return str(path)

    def python_client(self, cluster: Union[str, Cluster, None] = None):
        """A ``kubernetes.client.ApiClient`` for one cluster (through the kubeconfig)."""
        from kubernetes import config as kconfig
        c = cluster if isinstance(cluster, Cluster) else self[cluster or self.names[0]]
        return kconfig.new_client_from_config(config_file=self.kubeconfig, context=c.name)
