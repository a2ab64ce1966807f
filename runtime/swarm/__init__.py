"""Docker Swarm mode: the swarm and its nodes (cluster.py); plain Python, no Django."""

from __future__ import annotations

from runtime.swarm.cluster import JoinInfo, NodeInfo, Swarm, SwarmState

__all__ = ["JoinInfo", "NodeInfo", "Swarm", "SwarmState"]
