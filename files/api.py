"""REST API of the file manager. Paths are relative to the caller's view of the root (see docs/files.md)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts.permissions import IsAdmin, IsMember

from . import selectors, services
from .downloads import file_response, thumbnail_file_response, zip_response
from .models import FileTask, FolderGrant, ShareLink, TrashItem
from .paths import PathError, from_os_error, resolve, resolve_many
from .serializers import (
    CompressInSerializer,
    EntrySerializer,
    ExtractInSerializer,
    FileTaskSerializer,
    FolderGrantSerializer,
    ListingSerializer,
    NameInSerializer,
    PathsInSerializer,
    PermissionsInSerializer,
    ShareLinkSerializer,
    TextInSerializer,
    TransferInSerializer,
    TrashItemSerializer,
)
from .tus import TusError

PATH_PARAM = OpenApiParameter("path", str, description="Relative to your view of the root; empty for the top.")


class FilesView(GenericAPIView):
    """Base: members and admins; a refused path is a 4xx with a `detail` message."""

    permission_classes = [IsMember]
    pagination_class = None

    def handle_exception(self, exc):
        if isinstance(exc, OSError):
            exc = from_os_error(exc)
        if isinstance(exc, PathError | TusError):
            return Response({"detail": exc.message}, status=exc.status)
        return super().handle_exception(exc)

    def valid(self, serializer_class=None):
        serializer = (serializer_class or self.get_serializer_class())(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def query_path(self) -> str:
        return self.request.query_params.get("path", "")


class ListView(FilesView):
    """List a folder: `?path=&sort=name|size|modified|type&reverse=1&hidden=1&page=&page_size=`."""

    serializer_class = ListingSerializer

    @extend_schema(
        parameters=[
            PATH_PARAM,
            OpenApiParameter("sort", str),
            OpenApiParameter("reverse", bool),
            OpenApiParameter("hidden", bool),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ]
    )
    def get(self, request):
        q = request.query_params
        try:
            page, page_size = int(q.get("page", 1)), int(q.get("page_size", 200))
        except ValueError:
            raise PathError(_("page and page_size must be numbers.")) from None
        listing = selectors.folder_list(
            user=request.user,
            path=self.query_path(),
            sort=q.get("sort", "name"),
            reverse=q.get("reverse") in ("1", "true"),
            hidden=q.get("hidden") in ("1", "true"),
            page=page,
            page_size=page_size,
        )
        listing["entries"] = [e.as_dict() for e in listing["entries"]]
        return Response(listing)


class InfoView(FilesView):
    """Details of one entry (owner, group, mode, link status)."""

    serializer_class = EntrySerializer

    @extend_schema(parameters=[PATH_PARAM])
    def get(self, request):
        return Response(selectors.entry_info(user=request.user, path=self.query_path()).as_dict())


class SizeView(FilesView):
    """Size of a folder tree, computed on demand."""

    @extend_schema(parameters=[PATH_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response(selectors.folder_size(user=request.user, path=self.query_path()))


class SearchView(FilesView):
    """Entries under `path` whose name contains `q`."""

    serializer_class = EntrySerializer

    @extend_schema(parameters=[PATH_PARAM, OpenApiParameter("q", str)], responses={200: EntrySerializer(many=True)})
    def get(self, request):
        found = selectors.folder_search(
            user=request.user,
            path=self.query_path(),
            query=request.query_params.get("q", ""),
            hidden=request.query_params.get("hidden") in ("1", "true"),
        )
        return Response([e.as_dict() for e in found])


class ContentView(FilesView):
    """GET downloads (Range, `inline=1` to view media); PUT saves text (send the ETag you read as If-Match)."""

    serializer_class = TextInSerializer

    @extend_schema(parameters=[PATH_PARAM, OpenApiParameter("inline", bool)], responses={200: OpenApiTypes.BINARY})
    def get(self, request):
        target = resolve(request.user, self.query_path())
        return file_response(request._request, target, inline=request.query_params.get("inline") == "1")

    @extend_schema(parameters=[PATH_PARAM], responses={200: OpenApiTypes.OBJECT})
    def put(self, request):
        etag = (request.headers.get("If-Match") or "").strip('"') or None
        content = self.valid()["content"]
        new = services.text_save(user=request.user, path=self.query_path(), content=content, etag=etag)
        return Response({"etag": new}, headers={"ETag": f'"{new}"'})


class TextView(FilesView):
    """The text of a file for the editor, with the ETag to send back when saving."""

    @extend_schema(parameters=[PATH_PARAM], responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        text, etag = services.text_read(user=request.user, path=self.query_path())
        return Response({"content": text, "etag": etag}, headers={"ETag": f'"{etag}"'})


class ZipView(FilesView):
    """A streamed zip of a selection: `?path=a&path=b`."""

    @extend_schema(parameters=[OpenApiParameter("path", str, many=True)], responses={200: OpenApiTypes.BINARY})
    def get(self, request):
        paths = request.query_params.getlist("path")
        if not paths:
            raise PathError(_("Choose at least one file or folder."))
        targets = resolve_many(request.user, paths, follow=False)
        if not all(t.exists() for t in targets):
            raise PathError(_("No such file or folder."), 404)
        name = (targets[0].name if len(targets) == 1 else "files") + ".zip"
        return zip_response(targets, name or "files.zip")


class ThumbnailView(FilesView):
    """An image's thumbnail (202 while the worker makes it)."""

    @extend_schema(parameters=[PATH_PARAM], responses={200: OpenApiTypes.BINARY})
    def get(self, request):
        target = resolve(request.user, self.query_path())
        if not target.is_file() or not services.is_image(target.name):
            raise PathError(_("No thumbnail for this file."), 404)
        thumb = services.thumbnail_request(target=target)
        if thumb is None:
            return Response({"detail": _("Being made.")}, status=status.HTTP_202_ACCEPTED)
        return thumbnail_file_response(thumb)


class MkdirView(FilesView):
    """Create a folder `name` inside `path`."""

    serializer_class = NameInSerializer

    @extend_schema(responses={201: EntrySerializer})
    def post(self, request):
        data = self.valid()
        made = services.folder_create(user=request.user, path=data["path"], name=data["name"])
        return Response(selectors.entry_of(*made).as_dict(), status=201)


class NewFileView(MkdirView):
    """Create an empty file `name` inside `path`."""

    def post(self, request):
        data = self.valid()
        made = services.file_create(user=request.user, path=data["path"], name=data["name"])
        return Response(selectors.entry_of(*made).as_dict(), status=201)


class RenameView(FilesView):
    """Rename the entry at `path` to `name` (409 when the name is taken)."""

    serializer_class = NameInSerializer

    @extend_schema(responses={200: EntrySerializer})
    def post(self, request):
        data = self.valid()
        made = services.entry_rename(user=request.user, path=data["path"], name=data["name"])
        return Response(selectors.entry_of(*made).as_dict())


class TransferView(FilesView):
    """Queue a copy or move; follow it at /api/files/tasks/<id>/ or over the websocket."""

    serializer_class = TransferInSerializer
    kind = FileTask.Kind.COPY

    @extend_schema(responses={202: FileTaskSerializer})
    def post(self, request):
        data = self.valid()
        task = services.filetask_create(
            user=request.user,
            kind=self.kind,
            sources=data["sources"],
            destination=data["destination"],
            conflict=data["conflict"],
        )
        return Response(FileTaskSerializer(task).data, status=202)


class MoveView(TransferView):
    kind = FileTask.Kind.MOVE


class DeleteView(FilesView):
    """Move entries to your trash."""

    serializer_class = PathsInSerializer

    @extend_schema(responses={200: TrashItemSerializer(many=True)})
    def post(self, request):
        items = services.entries_trash(user=request.user, paths=self.valid()["paths"])
        return Response(TrashItemSerializer(items, many=True).data)


class ExtractView(FilesView):
    """Queue the extraction of a zip or tar archive into a folder."""

    serializer_class = ExtractInSerializer

    @extend_schema(responses={202: FileTaskSerializer})
    def post(self, request):
        data = self.valid()
        task = services.extract_create(user=request.user, path=data["path"], destination=data["destination"])
        return Response(FileTaskSerializer(task).data, status=202)


class CompressView(FilesView):
    """Queue a zip of a selection into a folder."""

    serializer_class = CompressInSerializer

    @extend_schema(responses={202: FileTaskSerializer})
    def post(self, request):
        data = self.valid()
        task = services.compress_create(
            user=request.user, paths=data["paths"], destination=data["destination"], name=data["name"]
        )
        return Response(FileTaskSerializer(task).data, status=202)


class PermissionsView(FilesView):
    """Change mode, owner and group (admins; `recursive` for a tree)."""

    permission_classes = [IsAdmin]
    serializer_class = PermissionsInSerializer

    @extend_schema(responses={200: EntrySerializer})
    def post(self, request):
        data = self.valid()
        made = services.permissions_change(user=request.user, request=request, **data)
        return Response(selectors.entry_of(*made).as_dict())


# ---------------------------------------------------------------------------- tasks, trash, shares, grants
class TaskListView(FilesView):
    """Your recent file tasks."""

    serializer_class = FileTaskSerializer

    def get(self, request):
        return Response(FileTaskSerializer(selectors.tasks_of(user=request.user), many=True).data)


class TaskDetailView(FilesView):
    serializer_class = FileTaskSerializer

    @extend_schema(operation_id="files_task_retrieve")  # the list's id would be the same
    def get(self, request, pk: int):
        return Response(FileTaskSerializer(get_object_or_404(FileTask, pk=pk, user=request.user)).data)


class TaskCancelView(FilesView):
    """Ask a running task to stop."""

    serializer_class = FileTaskSerializer

    @extend_schema(request=None)
    def post(self, request, pk: int):
        task = services.filetask_cancel(user=request.user, task=get_object_or_404(FileTask, pk=pk, user=request.user))
        return Response(FileTaskSerializer(task).data)


class TrashListView(FilesView):
    serializer_class = TrashItemSerializer

    def get(self, request):
        return Response(TrashItemSerializer(selectors.trash_list(user=request.user), many=True).data)


class TrashItemView(FilesView):
    """DELETE removes one trashed entry for good."""

    serializer_class = TrashItemSerializer

    def delete(self, request, pk: int):
        services.trash_delete(user=request.user, item=get_object_or_404(TrashItem, pk=pk, user=request.user))
        return Response(status=204)


class TrashRestoreView(FilesView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, pk: int):
        path = services.trash_restore(user=request.user, item=get_object_or_404(TrashItem, pk=pk, user=request.user))
        return Response({"path": path})


class TrashEmptyView(FilesView):
    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        return Response({"deleted": services.trash_empty(user=request.user)})


class ShareListView(FilesView):
    """Your share links; POST creates one (`access`: read or upload, optional `expires_at`, `password`)."""

    serializer_class = ShareLinkSerializer

    def get(self, request):
        return Response(self.get_serializer(selectors.sharelinks_of(user=request.user), many=True).data)

    def post(self, request):
        data = self.valid()
        share = services.sharelink_create(
            user=request.user,
            path=data["path"],
            access=data.get("access", "read"),
            expires_at=data.get("expires_at"),
            password=data.get("password", ""),
        )
        return Response(self.get_serializer(share).data, status=201)


class ShareDetailView(FilesView):
    """DELETE revokes a share link."""

    serializer_class = ShareLinkSerializer

    def delete(self, request, pk: int):
        services.sharelink_revoke(user=request.user, share=get_object_or_404(ShareLink, pk=pk, user=request.user))
        return Response(status=204)


class GrantListView(FilesView):
    """Admins: folders shared with members (`path` relative to the root, `name` in the member's view)."""

    permission_classes = [IsAdmin]
    serializer_class = FolderGrantSerializer

    def get(self, request):
        return Response(self.get_serializer(selectors.grants_all(), many=True).data)

    def post(self, request):
        data = self.valid()
        grant = services.grant_create(
            admin=request.user,
            user=data["user"],
            path=data["path"],
            name=data["name"],
            access=data["access"],
            request=request,
        )
        return Response(self.get_serializer(grant).data, status=201)


class GrantDetailView(FilesView):
    permission_classes = [IsAdmin]
    serializer_class = FolderGrantSerializer

    def delete(self, request, pk: int):
        services.grant_delete(admin=request.user, grant=get_object_or_404(FolderGrant, pk=pk), request=request)
        return Response(status=204)
