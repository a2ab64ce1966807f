"""The swarm itself lives in the engine; only the making of it ("swarm init", seconds long) is recorded here, so a
page reloaded meanwhile still says "initialising" and a failure stays readable after the task is gone."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SwarmInit(models.Model):
    """One request to make this box a swarm manager, and how it went (the newest row is the one shown)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Initialising")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    advertise_addr = models.GenericIPAddressField(_("address"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)  # a deferred() message: said in each reader's language
    node_id = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"swarm init on {self.advertise_addr}: {self.state}"

    @property
    def open(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)
