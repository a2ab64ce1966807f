"""Celery tasks of the proxy: each only looks up and calls a service."""

import contextlib

from celery import shared_task


@shared_task(name="proxy.push", autoretry_for=(), ignore_result=True)
def proxy_push_task() -> None:
    """Load Caddy's configuration as the database has it now (a failure is recorded on the settings row)."""
    from .host.caddy import CaddyError
    from .services import proxy_push

    # A failure is recorded and logged by the service; the next change or Caddy's next start pushes again.
    with contextlib.suppress(CaddyError):
        proxy_push()


@shared_task(name="proxy.cleanup", ignore_result=True)
def proxy_cleanup_task() -> None:
    """Forget expired tickets and app sessions."""
    from .sso import sso_cleanup

    sso_cleanup()
