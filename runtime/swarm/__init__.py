"""Docker Swarm mode as the engine of several machines (plain Python, no Django).

SwarmEngine speaks the same Engine interface as DockerEngine; a container of an app is a Swarm service of one task.
Swarm (cluster.py) is the swarm itself and its nodes: init, join tokens, drain, labels, removal.

Names are loaded when first used: the web server imports this package at start-up (the install forms ask whether
this box manages a swarm), and the engine modules bring docker-py, which it loads only when an engine is asked.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "JoinInfo": "model",
    "NodeInfo": "model",
    "SwarmState": "model",
    "Swarm": "cluster",
    "SwarmEngine": "engine",
    "Placement": "placement",
    "TaskInfo": "tasks",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
