"""Nodes: the machines of a Docker Swarm this box manages (Network → Machines, /api/nodes/).

An app of its own rather than part of `apps/` or `network/`: it manages machines, not installed apps (apps/ asks it
only "is there a swarm, and where may an app go") nor this box's interfaces (network/ owns those; nodes only reads
the box's addresses to offer one for `swarm init`). It has a model (the init's progress), a task, a socket, a page and
an API of its own, and the engine calls it makes (runtime/swarm/cluster.py) are Swarm mode's, which no other app uses.
"""
