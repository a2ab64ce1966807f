"""The Celery application: Redis broker, tasks discovered in every Django app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casaos_site.settings")

app = Celery("casaos")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
