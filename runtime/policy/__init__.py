"""The container policy: an allowlist over the final engine payloads (runtime.payload) of a translated project.

Whatever syntax a compose file used, the same bodies reach the engine, so the same bodies are checked here. Each
value outside the allowlist is a Finding: `refused` (never allowed) or `host_access` (an admin's explicit consent
and a fresh step-up; `explicit` ones only when the consent names them). Plain Python: callers pass the Context.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from runtime.compose.model import Project
from runtime.payload import create_body, network_body, volume_body
from runtime.policy.container import container_findings
from runtime.policy.model import HOST_ACCESS, REFUSED, Context, Finding
from runtime.policy.namespaces import network_mode
from runtime.policy.objects import network_findings, volume_findings
from runtime.policy.paths import allowed, real
from runtime.specs import ContainerSpec

__all__ = [
    "ANY",
    "HOST_ACCESS",
    "REFUSED",
    "Context",
    "Finding",
    "allowed",
    "check_container",
    "check_project",
    "project_context",
    "real",
    "uncovered",
]

ANY = "*"  # a consent record of an app installed before records existed: what it runs was consented to then


def project_context(project: Project, ctx: Context) -> Context:
    """The context completed with the project's own containers, volumes and networks."""
    return replace(
        ctx,
        containers=ctx.containers | {c.name for c in project.containers},
        volumes=ctx.volumes | {v.name for v in project.volumes if not v.external},
        networks=ctx.networks | {n.name for n in project.networks},
    )


def check_project(project: Project, ctx: Context) -> list[Finding]:
    """Every finding of every payload the project sends: containers, then networks and volumes it creates."""
    ctx = project_context(project, ctx)
    findings = [f for spec in project.containers for f in check_container(spec, ctx)]
    findings += [f for n in project.networks if not n.external for f in network_findings(network_body(n), ctx)]
    findings += [f for v in project.volumes if not v.external for f in volume_findings(volume_body(v), ctx)]
    return list(dict.fromkeys(findings))


def check_container(spec: ContainerSpec, ctx: Context) -> list[Finding]:
    """The create body, and the networks the container joins after it is created."""
    findings = container_findings(create_body(spec), ctx, spec.service)
    return findings + [f for att in spec.networks[1:] for f in network_mode("networks", att.network, ctx, spec.service)]


def uncovered(findings: list[Finding], consented: Collection[str]) -> list[Finding]:
    """What the consented finding ids do not allow: refused ones always, host access not consented to."""
    return [f for f in findings if f.refused or (f.id not in consented and ANY not in consented)]
