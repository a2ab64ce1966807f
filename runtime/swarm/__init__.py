"""Docker Swarm mode as the engine of several machines (plain Python, no Django).

SwarmEngine speaks the same Engine interface as DockerEngine; a container of an app is a Swarm service of one task.
Swarm (cluster.py) is the swarm itself and its nodes: init, join tokens, drain, labels, removal.
"""

from __future__ import annotations

from runtime.swarm.cluster import JoinInfo, NodeInfo, Swarm, SwarmState
from runtime.swarm.engine import SwarmEngine
from runtime.swarm.placement import Placement
from runtime.swarm.tasks import TaskInfo

__all__ = ["JoinInfo", "NodeInfo", "Placement", "Swarm", "SwarmEngine", "SwarmState", "TaskInfo"]
