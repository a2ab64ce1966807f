"""The system backup on PostgreSQL: pg_dump into the system's snapshot, pg_restore from it by `box_restore`.
It runs inside tests/core/test_postgres.py's PostgreSQL run (DATABASE_URL set); on SQLite it has nothing to prove."""

import pytest
from django.db import connection

from accounts.models import User
from backups.models import BackupJob, Repository
from backups.services import job_run_queue, run_backup
from backups.wholebox import box_restore
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL run (tests/core/test_postgres.py)")


def test_the_system_backs_up_with_pg_dump_and_comes_back_with_pg_restore(on_postgres, repository):
    boss = UserFactory(admin=True, username="pgboss")
    job = BackupJob.objects.create(name="system", repository=repository, created_by=boss, include_system=True)
    run = run_backup(run_id=job_run_queue(user=boss, job=job).pk)
    assert run.status == "done", run.error
    password = repository.password

    User.objects.all().delete()
    UserFactory(username="stranger")  # made after the backup: the restore takes it away
    fresh = Repository(kind="local", location=repository.location, password=password)
    assert box_restore(repo=fresh) == []

    assert User.objects.get(username="pgboss").check_password(PASSWORD)
    assert not User.objects.filter(username="stranger").exists()
