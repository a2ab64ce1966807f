"""Where a Swarm service may run: a node, node labels, or anywhere (the scheduler's choice)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    """An app's placement, as Swarm placement constraints; the default (no node, no labels) is any node."""

    node: str = ""  # a node id: node.id==<node>
    labels: tuple[tuple[str, str], ...] = ()  # node.labels.<k>==<v>, all of them

    def constraints(self) -> list[str]:
        """The Swarm constraints this placement means, in a stable order."""
        found = [f"node.id=={self.node}"] if self.node else []
        return found + [f"node.labels.{key}=={value}" for key, value in self.labels]

    @property
    def anywhere(self) -> bool:
        """True when the scheduler may pick any node (bind folders then pin the app to this box)."""
        return not self.node and not self.labels
