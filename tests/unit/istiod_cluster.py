"""An istio-system on the one fake API (unit.fake_api.FakeApi): cacerts, istiod pods, their logs, metrics, root ConfigMaps.

Not a fake of its own: it only installs routes on FakeApi, so the reload check talks to it through the
real K8sClient methods (get_or_none, get, pod_log, proxy_get, request). Log lines become visible at a
given second of the fake clock, as istiod writes them while the check polls.
"""

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError
from unit.fake_api import FakeApi

_NS = r"/api/v1/namespaces/(?P<ns>[^/]+)"


class IstiodCluster(FakeApi):
    """FakeApi with the routes istiod_reload_check reads; ``secret``/``pods``/``metrics`` may change mid-test."""

    def __init__(self, secret=None, pods=(), configmaps=None, root_pem=""):
        super(IstiodCluster, self).__init__()
        self.secret = secret
        self.pods = list(pods)
        self.logs = {}  # pod -> [(visible_at, line)]
        self.metrics = {}
        self.configmaps = configmaps if configmaps is not None else [
            {"metadata": {"namespace": ns, "name": "istio-ca-root-cert"}, "data": {"root-cert.pem": root_pem}}
            for ns in ("istio-system", "default")]
        self.route("GET", _NS + r"/secrets/(?P<name>[^/]+)", self._secret)
        self.route("GET", _NS + r"/pods", lambda match, body, query: {"items": list(self.pods)})
        self.route("GET", _NS + r"/pods/(?P<pod>[^/:]+)/log", self._log)
        self.route("GET", _NS + r"/pods/(?P<pod>[^/:]+):(?P<port>\d+)/proxy/(?P<path>.*)", self._metrics)
        self.route("GET", r"/api/v1/configmaps", lambda match, body, query: {"items": self.configmaps})

    def add(self, pod, lines, at=0.0):
        """``lines`` of ``pod``'s log, visible from second ``at`` of the fake clock."""
        self.logs.setdefault(pod, []).extend((at, line) for line in lines)

    def requests(self):
        """The recorded requests, named by what they read: ("secret", path), ("pods", selector),
        ("configmaps", path, selector), ("log", pod, sinceTime, container), ("head", pod, limitBytes),
        ("metrics", pod, port, path)."""
        named = []
        for _method, path, _body, query in self.calls:
            parts = path.strip("/").split("/")
            if "/secrets/" in path:
                named.append(("secret", path))
            elif path.endswith("/pods"):
                named.append(("pods", query.get("labelSelector")))
            elif "configmaps" in path:
                named.append(("configmaps", path, query.get("fieldSelector")))
            elif path.endswith("/log") and "limitBytes" in query:
                named.append(("head", parts[-2], query["limitBytes"]))
            elif path.endswith("/log"):
                named.append(("log", parts[-2], query.get("sinceTime"), query.get("container")))
            else:
                pod, port = parts[5].split(":")
                named.append(("metrics", pod, int(port), "/".join(parts[7:])))
        return named

    def _secret(self, match, body, query):
        if self.secret is None:
            return K8sApiError(404, "NotFound", 'secrets "%s" not found' % match.group("name"),
                               {"name": match.group("name"), "kind": "secrets"}, "GET")
        return self.secret

    def _visible(self, pod):
        if not any(p["metadata"]["name"] == pod for p in self.pods):
            raise K8sApiError(404, "NotFound", 'pods "%s" not found' % pod)
        return [line for at, line in self.logs.get(pod, []) if at <= self.now]

    def _log(self, match, body, query):
        lines = self._visible(match.group("pod"))
        if "limitBytes" not in query and query.get("sinceTime"):
            since = rfc3339.parse(query["sinceTime"])
            lines = [line for line in lines if rfc3339.parse(line.split(" ", 1)[0]) >= since]
        return "".join(line + "\n" for line in lines)

    def _metrics(self, match, body, query):
        if match.group("pod") not in self.metrics:
            return K8sApiError(503, "ServiceUnavailable", "error trying to reach service")
        return self.metrics[match.group("pod")]
