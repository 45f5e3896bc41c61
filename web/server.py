"""Running the application: uvicorn on loopback by default, one or several worker processes.

uvicorn starts its workers from an import string, so the index location travels in the
environment (``GOALSEARCH_WEB_INDEX``) and each worker builds its own application (``app_from_environment``)
with its own open index; the memory-mapped sides are shared through the page cache.
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from .app import INDEX_ENV

LOOPBACK = ("localhost",)


def is_loopback(host: str) -> bool:
    """Does ``host`` (an address or ``localhost``) reach only this machine?"""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(index_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "info") -> None:
    """Serve the index at ``index_dir`` until interrupted (Ctrl-C)."""
    import uvicorn

    os.environ[INDEX_ENV] = str(Path(index_dir).resolve())
    uvicorn.run(f"{__package__}.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, server_header=False, proxy_headers=False)
