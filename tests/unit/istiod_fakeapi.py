"""A scripted stand-in for K8sClient: log lines become visible at a given fake-clock second."""

from ansible_collections.meshpki.istio_ca.plugins.module_utils.common import rfc3339
from ansible_collections.meshpki.istio_ca.plugins.module_utils.common.errors import K8sApiError


class FakeApi(object):
    """Just enough of K8sClient; log lines become visible at a given fake-clock second."""

    def __init__(self, secret=None, pods=(), configmaps=None, root_pem=""):
        self.now = 0.0
        self.secret = secret
        self.pods = list(pods)
        self.logs = {}  # pod -> [(visible_at, line)]
        self.metrics = {}
        self.configmaps = configmaps if configmaps is not None else [
            {"metadata": {"namespace": ns, "name": "istio-ca-root-cert"}, "data": {"root-cert.pem": root_pem}}
            for ns in ("istio-system", "default")]
        self.calls = []
        self.request_count = 0

    def add(self, pod, lines, at=0.0):
        self.logs.setdefault(pod, []).extend((at, line) for line in lines)

    def sleep(self, seconds):
        self.now += seconds

    def monotonic(self):
        return self.now

    def _count(self, what):
        self.request_count += 1
        self.calls.append(what)

    def get_or_none(self, path, query=None):
        self._count(("secret", path))
        return self.secret

    def get(self, path, query=None):
        if path.endswith("/pods"):
            self._count(("pods", query["labelSelector"]))
            return {"items": list(self.pods)}
        self._count(("configmaps", path, query["fieldSelector"]))
        return {"items": self.configmaps}

    def _visible(self, pod):
        if not any(p["metadata"]["name"] == pod for p in self.pods):
            raise K8sApiError(404, "NotFound", 'pods "%s" not found' % pod)
        return [line for at, line in self.logs.get(pod, []) if at <= self.now]

    def pod_log(self, namespace, pod, container=None, since_time=None, tail_lines=None):
        self._count(("log", pod, since_time, container))
        since = rfc3339.parse(since_time) if since_time else None
        return "".join(line + "\n" for line in self._visible(pod)
                       if since is None or rfc3339.parse(line.split(" ", 1)[0]) >= since)

    def request(self, method, path, body=None, query=None, content_type=None, raw=False):
        pod = path.split("/")[-2]
        self._count(("head", pod, query.get("limitBytes")))
        return "".join(line + "\n" for line in self._visible(pod))

    def proxy_get(self, namespace, pod, port, path):
        self._count(("metrics", pod, port, path))
        if pod not in self.metrics:
            raise K8sApiError(503, "ServiceUnavailable", "error trying to reach service")
        return self.metrics[pod]
