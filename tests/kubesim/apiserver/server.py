"""The HTTP/1.1 front of one cluster: a listening socket on 127.0.0.1, a thread blocked in
accept(), and one thread per keep-alive connection. Parsing is minimal on purpose (request
line, headers, Content-Length or chunked body) so a process can serve many clusters fast.

With an SSL context (the default for a fleet) every connection is TLS, as kube-apiserver
serves only HTTPS: the handshake runs on the connection's own thread, and the verified client
certificate's subject goes with each request to authentication (apiserver/tls.py).
"""

from __future__ import annotations

import http
import logging
import select
import socket
import ssl
import threading
import time
from typing import Optional, Set

from . import routing as api
from .tls import peer_identity

log = logging.getLogger("kubesim.server")

IDLE_TIMEOUT = 300.0
HANDSHAKE_TIMEOUT = 10.0
MAX_HEADER_LINE = 65536
_PHRASES = {s.value: s.phrase for s in http.HTTPStatus}


def warning_header(text: str) -> str:
    """The value kube-apiserver sends for an admission warning: RFC 7234 warn-code 299, no agent,
    quoted text with backslashes and quotes escaped (apimachinery util/net NewWarningHeader).
    Go's header writer turns CR/LF into spaces, so a warning never splits the header."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
    return f'299 - "{text}"'


class _ClientGone(Exception):
    pass


def _alive(conn: socket.socket) -> bool:
    """False once the peer has closed (a streaming response only writes on events)."""
    try:
        r, _, _ = select.select([conn], [], [], 0)
        if r:
            if isinstance(conn, ssl.SSLSocket):
                # TLS records cannot be peeked at; a client waiting on a stream sends nothing, so
                # something to read here is its close_notify or FIN
                return False
            return conn.recv(1, socket.MSG_PEEK) != b""
        return True
    except OSError:
        return False


class ClusterServer:
    def __init__(self, cluster, port: int = 0, host: str = "127.0.0.1", ssl_context: Optional[ssl.SSLContext] = None):
        self.cluster = cluster
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self._sock: Optional[socket.socket] = None
        self._conns: Set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = False

    # ------------------------------------------------------------ listening

    def _listen(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(256)
        self.port = s.getsockname()[1]
        self._sock = s
        t = threading.Thread(target=self._accept_loop, args=(s,), name=f"kubesim-accept-{self.cluster.name}",
                             daemon=True)
        t.start()

    def start(self) -> None:
        with self._lock:
            if self._running:
                return
            self._running = True
            self._listen()

    def _close_listener(self) -> None:
        s, self._sock = self._sock, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _drop_connections(self) -> None:
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def go_down(self) -> None:
        """Connection refused from now on; open connections are cut."""
        with self._lock:
            self._close_listener()
            self._drop_connections()

    def come_up(self) -> None:
        with self._lock:
            if self._running and self._sock is None:
                for attempt in range(50):
                    try:
                        self._listen()
                        return
                    except OSError:
                        time.sleep(0.05)
                raise OSError(f"kubesim: cannot listen again on port {self.port}")

    def stop(self) -> None:
        with self._lock:
            self._running = False
            self._close_listener()
            self._drop_connections()

    def _accept_loop(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _addr = sock.accept()
            except OSError:
                return
            if self.cluster.faults.down or not self._running:
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name=f"kubesim-conn-{self.cluster.name}",
                             daemon=True).start()

    # ------------------------------------------------------------ one connection

    def _serve(self, conn: socket.socket) -> None:
        raw, rfile, peer = conn, None, None
        try:
            if self.ssl_context is not None:
                conn.settimeout(HANDSHAKE_TIMEOUT)
                conn = self.ssl_context.wrap_socket(conn, server_side=True)  # a failed handshake ends here
                with self._lock:
                    self._conns.discard(raw)
                    self._conns.add(conn)
                peer = peer_identity(conn.getpeercert())
            conn.settimeout(IDLE_TIMEOUT)
            rfile = conn.makefile("rb", buffering=65536)
            while True:
                if not self._handle_one(conn, rfile, peer):
                    break
        except (OSError, _ClientGone, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
                self._conns.discard(raw)
            try:
                if rfile is not None:
                    rfile.close()
                conn.close()
            except OSError:
                pass

    def _handle_one(self, conn, rfile, peer=None) -> bool:
        line = rfile.readline(MAX_HEADER_LINE)
        if not line:
            return False
        t0 = time.monotonic()
        try:
            method, target, proto = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        except ValueError:
            self._send_plain(conn, 400, b"Bad Request", close=True)
            return False
        headers, repeated = {}, {}
        while True:
            h = rfile.readline(MAX_HEADER_LINE)
            if not h:
                return False
            if h in (b"\r\n", b"\n"):
                break
            k, _, v = h.decode("latin-1").partition(":")
            key = k.strip().lower()
            headers[key] = v.strip()
            repeated.setdefault(key, []).append(v.strip())
        keep_alive = proto == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if proto == "HTTP/1.0" and headers.get("connection", "").lower() == "keep-alive":
            keep_alive = True
        if headers.get("expect", "").lower() == "100-continue":
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        # always drain the body first: an early error must not leave bytes for the next request
        body = b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size_line = rfile.readline(MAX_HEADER_LINE)
                if not size_line:
                    return False
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while rfile.readline(MAX_HEADER_LINE) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(rfile.read(size))
                rfile.readline(MAX_HEADER_LINE)
            body = b"".join(parts)
        else:
            n = int(headers.get("content-length") or 0)
            if n:
                body = rfile.read(n)
                if len(body) < n:
                    return False
        path, _, raw_query = target.partition("?")
        if "%" in path:
            from urllib.parse import unquote
            path = unquote(path)
        head_only = method.upper() == "HEAD"
        req = api.Request(method="GET" if head_only else method.upper(), path=path,
                          query=api.parse_request_query(raw_query),
                          headers=headers, body=body, raw_query=raw_query, peer=peer,
                          header_lists={k: v for k, v in repeated.items() if len(v) > 1})
        cluster = self.cluster
        if cluster.faults.down:
            return False
        resp = api.handle(cluster, req)
        is_admin = path.startswith(api.ADMIN_PREFIX)
        if not is_admin:
            self._record(req, resp.code, t0)  # before the client can see the response
        if resp.stream is None:
            self._send(conn, resp, keep_alive, head_only)
            return keep_alive
        return self._send_stream(conn, resp, keep_alive)

    def _record(self, req, code, t0) -> None:
        self.cluster.requests.record({
            "cluster": self.cluster.name, "method": req.method, "path": req.path, "query": req.raw_query,
            "status": code, "time": time.time(), "sim_time": self.cluster.clock.timestamp(),
            "duration": round(time.monotonic() - t0, 6), "user_agent": req.user_agent,
            "content_type": req.content_type,
            # the audit event's user.username (staging/src/k8s.io/apiserver/pkg/audit/request.go); None before authentication
            "user": req.user.name if req.user is not None else None})

    def _head(self, resp, extra: str, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {resp.code} {_PHRASES.get(resp.code, 'Unknown')}",
                 f"Content-Type: {resp.content_type}",
                 "Cache-Control: no-cache, private",
                 f"Audit-Id: {self.cluster.name}-{id(resp) & 0xffffff:x}"]
        for k, v in resp.headers.items():
            lines.append(f"{k}: {v}")
        head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        for text in resp.warnings:
            head += b"Warning: " + warning_header(text).encode("utf-8") + b"\r\n"
        tail = [extra] + ([] if keep_alive else ["Connection: close"])
        return head + ("\r\n".join(tail) + "\r\n\r\n").encode("latin-1")

    def _send(self, conn, resp, keep_alive: bool, head_only: bool = False) -> None:
        head = self._head(resp, f"Content-Length: {len(resp.body)}", keep_alive)
        conn.sendall(head if head_only else head + resp.body)

    def _send_plain(self, conn, code: int, body: bytes, close: bool) -> None:
        self._send(conn, api.Response(code, body, "text/plain"), not close)

    def _send_stream(self, conn, resp, keep_alive: bool) -> bool:
        conn.sendall(self._head(resp, "Transfer-Encoding: chunked", keep_alive))
        gen = resp.stream
        try:
            for chunk in gen:
                if not chunk:
                    if not _alive(conn):
                        return False
                    continue
                conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            return False
        finally:
            close = getattr(gen, "close", None)
            if close:
                close()
        return keep_alive
