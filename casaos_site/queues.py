"""Which queue a task goes to: long operations have a queue (and worker slots) of their own, so a short one never
waits behind them. Light on purpose: the web process imports it to route what it queues.
"""

DEFAULT = "celery"  # Celery's default queue name (CELERY_TASK_DEFAULT_QUEUE is not changed)
LONG = "long"
QUEUES = (DEFAULT, LONG)

# Minutes, not seconds: a graceful stop of every container, a copy of a folder, a catalogue download, a look at
# every app's registry.
LONG_TASKS = frozenset(
    {
        "apps.uninstall",
        "apps.update_check",
        "appstore.sync_store",
        "files.tasks.filetask_run",
        "files.tasks.files_cleanup",
        # backups (issue 18): a backup stops apps and reads gigabytes, a restore writes them, a check reads it all
        "backups.backup_run",
        "backups.restore_run",
        "backups.check_run",
        "backups.box_restore",
        "remotes.sync_run",
    }
)
# apps.operation runs every operation on an installed app; these two stop containers and pull images.
LONG_OPERATIONS = frozenset({"uninstall", "update"})


def route(name, args, kwargs, options, task=None, **kw) -> dict | None:
    """Celery's router (CELERY_TASK_ROUTES): long tasks to the long queue, the rest to the default one."""
    return {"queue": LONG} if name in LONG_TASKS else None


def operation_queue(operation: str) -> str:
    """The queue of one operation on an installed app (apps.operation carries both kinds)."""
    return LONG if operation in LONG_OPERATIONS else DEFAULT


def slots_split(concurrency: int, long_slots: int) -> tuple[int, int]:
    """(short, long) slots out of the pool's: each queue gets at least one, short ones keep the rest."""
    if concurrency < 2:
        return 1, 1  # solo (or one slot): both queues are still read, and the one slot runs them in turn
    long = max(1, min(long_slots, concurrency - 1))
    return concurrency - long, long
