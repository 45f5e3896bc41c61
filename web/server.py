"""Running the application: uvicorn on loopback by default, one or several worker processes.

uvicorn starts its workers from an import string, so the index location travels in the
environment (``GOALSEARCH_WEB_INDEX``) and each worker builds its own application (``app_from_environment``)
with its own open index; the memory-mapped sides are shared through the page cache.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
from pathlib import Path

from .app import HOSTS_ENV, INDEX_ENV

LOOPBACK = ("localhost",)


def is_loopback(host: str) -> bool:
    """Does ``host`` (an address or ``localhost``) reach only this machine?"""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, no such address), or None: asked before uvicorn, whose
    own failure is six lines of log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use (another goalsearch serve?): choose another with --port" \
                if exc.errno == errno.EADDRINUSE else f"cannot be listened on ({exc.strerror})"
            return f"{host} port {port} {reason}"
    return None


def serve(index_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "info", allowed_hosts: tuple[str, ...] = ()) -> None:
    """Serve the index at ``index_dir`` until interrupted (Ctrl-C), answering requests addressed to this
    machine's loopback names, ``host``, and ``allowed_hosts`` (the names a reverse proxy or a LAN uses)."""
    import uvicorn

    os.environ[INDEX_ENV] = str(Path(index_dir).resolve())
    os.environ[HOSTS_ENV] = ",".join([f"[{host}]" if ":" in host else host, *allowed_hosts])
    uvicorn.run(f"{__package__}.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, server_header=False, proxy_headers=False)
