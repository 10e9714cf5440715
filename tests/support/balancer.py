"""A readiness-aware TCP load balancer on a loopback port, standing in for a Kubernetes Service in front of several
instances of one role: it polls each backend's ``/readyz`` and sends each new connection to the next ready one
(as kube-proxy does once the endpoints controller has dropped an unready pod). Connections already open stay with
their backend until either side closes them."""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time

import httpx

POLL_SECONDS = 0.1


class ReadinessBalancer:
    def __init__(self, backends: list[int]) -> None:
        self.backends = list(backends)
        self.ready: set[int] = set()
        self.connections: dict[int, int] = dict.fromkeys(self.backends, 0)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port: int = self.listener.getsockname()[1]
        self._closed = False
        self._lock = threading.Lock()
        self._turn = itertools.count()
        threading.Thread(target=self._poll_loop, daemon=True).start()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _poll_loop(self) -> None:
        with httpx.Client(timeout=1.0) as client:
            while not self._closed:
                for port in self.backends:
                    try:
                        ready = client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
                    except httpx.HTTPError:
                        ready = False
                    with self._lock:
                        (self.ready.add if ready else self.ready.discard)(port)
                time.sleep(POLL_SECONDS)

    def _pick(self) -> list[int]:
        with self._lock:
            ready = [port for port in self.backends if port in self.ready]
        if not ready:
            return []
        start = next(self._turn) % len(ready)
        return ready[start:] + ready[:start]

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        # Nothing has been read from the client yet: a backend that refuses the connection is skipped safely.
        for port in self._pick():
            try:
                upstream = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                continue
            upstream.settimeout(None)
            with self._lock:
                self.connections[port] += 1
            answers = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
            answers.start()
            _pump(client, upstream)
            answers.join()
            _close(upstream)
            _close(client)
            return
        _close(client)

    def close(self) -> None:
        self._closed = True
        _close(self.listener)


def _pump(source: socket.socket, destination: socket.socket) -> None:
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        # Half-close towards the other side, so a response still being read is not cut.
        with contextlib.suppress(OSError):
            destination.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            source.shutdown(socket.SHUT_RD)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
