"""Writes of the file manager (reads are in files/selectors.py). Split by topic; import from here."""

from .archives import archive_run, compress_create, extract_create, is_archive
from .ops import entry_rename, etag_of, file_create, folder_create, permissions_change, text_read, text_save
from .shares import (
    grant_create,
    grant_delete,
    sharelink_create,
    sharelink_resolve,
    sharelink_revoke,
    sharelink_target,
    sharelink_unlock,
)
from .thumbs import is_image, thumbnail_make, thumbnail_request
from .transfer import filetask_cancel, filetask_create, filetask_run, task_payload
from .trash import entries_trash, trash_delete, trash_empty, trash_purge_expired, trash_restore
from .uploads import upload_create, upload_terminate, upload_write, uploads_expire

__all__ = [
    "archive_run",
    "compress_create",
    "entries_trash",
    "entry_rename",
    "etag_of",
    "extract_create",
    "file_create",
    "filetask_cancel",
    "filetask_create",
    "filetask_run",
    "folder_create",
    "grant_create",
    "grant_delete",
    "is_archive",
    "is_image",
    "permissions_change",
    "sharelink_create",
    "sharelink_resolve",
    "sharelink_revoke",
    "sharelink_target",
    "sharelink_unlock",
    "task_payload",
    "text_read",
    "text_save",
    "thumbnail_make",
    "thumbnail_request",
    "trash_delete",
    "trash_empty",
    "trash_purge_expired",
    "trash_restore",
    "upload_create",
    "upload_terminate",
    "upload_write",
    "uploads_expire",
]
