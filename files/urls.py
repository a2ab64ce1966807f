from django.urls import path

from . import views

# The index ("files") is routed in casaos_site/urls.py at /files/; these live beside it.
urlpatterns = [
    path("view/", views.preview, name="files-view"),
    path("tasks/", views.tasks_fragment, name="files-tasks"),
    path("trash/", views.trash, name="files-trash"),
    path("shares/", views.shares, name="files-shares"),
    path("grants/", views.grants, name="files-grants"),
]
