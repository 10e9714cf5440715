"""A TCP proxy on a loopback port that a test controls, to put between the shop and its broker.

``cut()`` drops every connection and refuses new ones (the broker went away: the network failed, the node
restarted); ``freeze()`` keeps connections open but stops passing bytes (a broker that hangs); ``restore()`` lets
traffic through again. The real broker is never touched."""

from __future__ import annotations

import contextlib
import socket
import threading
import time


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port: int = self.listener.getsockname()[1]
        self._state = "open"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept_loop, name=f"tcp-proxy-{self.port}", daemon=True).start()

    @property
    def state(self) -> str:
        return self._state

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._state == "cut":
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update({client, upstream})
            for source, destination in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, destination), daemon=True).start()

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self._state == "frozen":
                    time.sleep(0.02)
                if self._state == "cut":
                    break
                destination.sendall(data)
        except OSError:
            pass
        finally:
            self._forget(source)
            self._forget(destination)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        _close(sock)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self._state = "cut"
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            _close(sock)

    def freeze(self) -> None:
        """Keep connections open but pass no more bytes until :meth:`restore` (or :meth:`cut`)."""
        self._state = "frozen"

    def restore(self) -> None:
        self._state = "open"

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self.listener)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
