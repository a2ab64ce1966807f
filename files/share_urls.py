"""Public share-link routes under /s/ (anonymous by design: the token is the credential)."""

from django.urls import path

from . import api_uploads, share_views

urlpatterns = [
    path("<str:token>/", share_views.share_page, name="files-share"),
    path("<str:token>/download/", share_views.share_download, name="files-share-download"),
    path("<str:token>/zip/", share_views.share_zip, name="files-share-zip"),
    path("<str:token>/uploads/", api_uploads.share_uploads, name="files-share-uploads"),
    path("<str:token>/uploads/<uuid:upload_id>/", api_uploads.share_upload, name="files-share-upload"),
]
