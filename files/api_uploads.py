"""tus endpoints: POST /api/files/uploads/ creates, HEAD/PATCH/DELETE /api/files/uploads/<id>/ resume, append,
terminate. The same handlers serve upload-only share links (anonymous) under /s/<token>/uploads/."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from accounts.permissions import IsMember

from . import services, tus
from .models import ShareLink, Upload
from .paths import PathError, from_os_error
from .selectors import upload_of


def _answer(status: int, headers: dict | None = None, detail: str = "") -> HttpResponse:
    response = HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
    for key, value in {**tus.base_headers(), **(headers or {})}.items():
        response[key] = value
    return response


def _gone() -> HttpResponse:
    return _answer(404, detail=_("This upload no longer exists."))


def _refused(exc: Exception) -> HttpResponse:
    """A refusal in the protocol's shape; a file-system error met on the way is a 4xx (or 507) in the user's words,
    never a server error (a folder swapped for a link mid-request is ELOOP: 409)."""
    if isinstance(exc, OSError):
        exc = from_os_error(exc)
    return _answer(exc.status, detail=exc.message)


def tus_create(request, *, user=None, share=None, location_name: str, location_kwargs: dict) -> HttpResponse:
    """Creation extension: Upload-Length + Upload-Metadata (filename, path, relativePath, conflict)."""
    try:
        tus.check_version(request.headers)
        length = tus.parse_int(request.headers.get("Upload-Length"), "Upload-Length")
        metadata = tus.parse_metadata(request.headers.get("Upload-Metadata"))
        upload = services.upload_create(
            user=user, share=share, directory=metadata.get("path", "") if user else "", length=length, metadata=metadata
        )
    except (tus.TusError, PathError, OSError) as exc:
        return _refused(exc)
    location = reverse(location_name, kwargs={**location_kwargs, "upload_id": upload.pk})
    return _answer(201, {"Location": request.build_absolute_uri(location), "Upload-Offset": str(upload.offset)})


def tus_head(upload: Upload) -> HttpResponse:
    """Where to resume: the offset the server holds (it survives restarts: it is in the database)."""
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
    return _answer(200, headers)


def tus_patch(request, upload: Upload) -> HttpResponse:
    """Append the body at Upload-Offset (checksum extension: Upload-Checksum verifies this chunk)."""
    try:
        tus.check_version(request.headers)
        if request.content_type != tus.OFFSET_CONTENT_TYPE:
            raise tus.TusError(415, _("Content-Type must be application/offset+octet-stream."))
        offset = tus.parse_int(request.headers.get("Upload-Offset"), "Upload-Offset")
        length = request.headers.get("Content-Length")
        checksum = tus.parse_checksum(request.headers.get("Upload-Checksum"))
        new_offset = services.upload_write(
            upload=upload,
            offset=offset,
            stream=getattr(request, "streamed_body", None) or request,
            content_length=int(length) if length and length.isdigit() else None,
            checksum=checksum,
        )
    except (tus.TusError, PathError, OSError) as exc:
        return _refused(exc)
    return _answer(204, {"Upload-Offset": str(new_offset)})


def tus_delete(request, upload: Upload) -> HttpResponse:
    """Termination extension."""
    try:
        tus.check_version(request.headers)
        services.upload_terminate(upload=upload)
    except (tus.TusError, OSError) as exc:
        return _refused(exc)
    return _answer(204)


class UploadsView(APIView):
    """tus upload creation (POST) and discovery (OPTIONS). Metadata `path` names the target folder."""

    permission_classes = [IsMember]

    def options(self, request, *args, **kwargs):
        return _answer(204, tus.discovery_headers())

    @extend_schema(request=None, responses={201: OpenApiResponse(description="Location of the new upload")})
    def post(self, request):
        return tus_create(request._request, user=request.user, location_name="api-files-upload", location_kwargs={})


class UploadView(APIView):
    """One tus upload: HEAD (offset), PATCH (append), DELETE (terminate)."""

    permission_classes = [IsMember]

    def _upload(self, request, upload_id) -> Upload | None:
        return upload_of(user=request.user, upload_id=upload_id)

    def options(self, request, *args, **kwargs):
        return _answer(204, tus.discovery_headers())

    @extend_schema(request=None, responses={200: OpenApiResponse(description="Upload-Offset header")})
    def head(self, request, upload_id):
        upload = self._upload(request, upload_id)
        return tus_head(upload) if upload else _gone()

    @extend_schema(request=None, responses={200: OpenApiResponse(description="Upload-Offset header")})
    def get(self, request, upload_id):
        return self.head(request, upload_id)

    @extend_schema(request=None, responses={204: OpenApiResponse(description="New Upload-Offset header")})
    def patch(self, request, upload_id):
        upload = self._upload(request, upload_id)
        return tus_patch(request._request, upload) if upload else _gone()

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Terminated")})
    def delete(self, request, upload_id):
        upload = self._upload(request, upload_id)
        return tus_delete(request._request, upload) if upload else _gone()


# ---------------------------------------------------------------------------- upload-only share links
def _share_for_upload(request, token: str) -> ShareLink:
    share = get_object_or_404(ShareLink.objects.select_related("user"), token=token)
    services.sharelink_target(share=share, upload=True)
    if share.password and token not in request.session.get("files_shares", []):
        raise PathError(_("This link needs its password."), 403)
    return share


@csrf_exempt  # anonymous, no session to ride: the token in the URL is the credential
def share_uploads(request, token: str):
    """Anonymous tus creation into an upload-only shared folder."""
    if request.method == "OPTIONS":
        return _answer(204, tus.discovery_headers())
    if request.method != "POST":
        return _answer(405)
    try:
        share = _share_for_upload(request, token)
    except (PathError, OSError) as exc:
        return _refused(exc)
    return tus_create(request, share=share, location_name="files-share-upload", location_kwargs={"token": token})


@csrf_exempt
def share_upload(request, token: str, upload_id):
    """HEAD/PATCH/DELETE of an anonymous upload; it must belong to this link."""
    if request.method == "OPTIONS":
        return _answer(204, tus.discovery_headers())
    try:
        share = _share_for_upload(request, token)
    except (PathError, OSError) as exc:
        return _refused(exc)
    upload = Upload.objects.filter(pk=upload_id, share=share).first()
    if upload is None:
        return _gone()
    handler = {
        "HEAD": lambda: tus_head(upload),
        "PATCH": lambda: tus_patch(request, upload),
        "DELETE": lambda: tus_delete(request, upload),
    }.get(request.method)
    return handler() if handler else _answer(405)
