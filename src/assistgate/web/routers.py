"""Every router of the service: each module of `assistgate.web.routes` that defines `router`.

A new screen or API is a new module there; nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

from assistgate.web import routes


def all_routers() -> list[APIRouter]:
    """Import every module of `assistgate.web.routes` and return their routers, by name."""
    found: list[APIRouter] = []
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
