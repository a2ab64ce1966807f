"""The worker's two queues in one process: the default queue reads with the short slots' credit, the long queue on a
channel of its own with the long slots' credit, and both feed the same pool of short + long slots.

Celery's one task consumer shares its prefetch credit across all its queues, so with one consumer a pool full of
long operations leaves a short one waiting. Two channels, each with its own credit (the Redis transport counts the
unacknowledged messages per channel), keep `long_slots` of the pool for long operations at most, and at least
`short_slots` free for the rest. Never more messages reserved than slots: the reconcilers read the queues to tell a
waiting task from a lost one, and a reserved message is no longer in them.
"""

import logging

from celery import bootsteps
from celery.worker.consumer import Consumer
from django.conf import settings
from kombu import Consumer as MessageConsumer

from .queues import LONG, slots_split

log = logging.getLogger(__name__)


class WorkerConsumer(Consumer):
    """Celery's consumer with the default queue's credit cut to the short slots (CELERY_WORKER_CONSUMER)."""

    class Blueprint(Consumer.Blueprint):
        default_steps = [
            *Consumer.Blueprint.default_steps[:-2],
            "casaos_site.worker_queues:LongQueue",
            *Consumer.Blueprint.default_steps[-2:],
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        slots = self.initial_prefetch_count // max(self.prefetch_multiplier, 1)
        self.short_slots, self.long_slots = slots_split(slots, settings.WORKER_LONG_SLOTS)
        self.initial_prefetch_count = self.short_slots * self.prefetch_multiplier
        log.info("worker slots: %d short, %d long", self.short_slots, self.long_slots)

    @property
    def max_prefetch_count(self) -> int:
        # Celery restores the credit to this after a lost connection; the long slots are the other channel's.
        return self.short_slots * self.prefetch_multiplier


class LongQueue(bootsteps.ConsumerStep):
    """Reads the long queue on its own channel, `long_slots` messages at most, into the same task handler."""

    requires = ("celery.worker.consumer.tasks:Tasks",)  # the task strategies exist once Tasks has started

    def __init__(self, c, **kwargs) -> None:
        super().__init__(c, **kwargs)
        c.app.amqp.queues.deselect([LONG])  # never read with the default queue's credit as well

    def start(self, c) -> None:
        channel = c.connection.channel()
        queue = c.app.amqp.queues[LONG]  # created as the router creates it when it first sends there
        consumer = MessageConsumer(
            channel,
            queues=[queue],
            on_message=c.create_task_handler(),
            accept=c.app.conf.accept_content,
            prefetch_count=c.long_slots * c.prefetch_multiplier,
        )
        self.consumers = [consumer]
        consumer.consume()
