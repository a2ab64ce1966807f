"""Docker Swarm mode as the engine of several machines (plain Python, no Django).

SwarmEngine speaks the same Engine interface as DockerEngine; a container of an app is a Swarm service of one
task. `runtime.swarm.cluster` (the nodes: init, join, drain, labels) joins these names at merge.
"""

from __future__ import annotations

from runtime.swarm.engine import SwarmEngine
from runtime.swarm.placement import Placement
from runtime.swarm.tasks import TaskInfo

__all__ = ["Placement", "SwarmEngine", "TaskInfo"]
