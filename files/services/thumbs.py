"""Image thumbnails, made by a worker and kept in <data dir>/thumbs (outside the files root)."""

# fd-level work (os.open flags O_EXCL/O_NOFOLLOW, renameat2, copy_file_range) reads clearer with os.*:
# ruff: noqa: PTH105, PTH123

import hashlib
import os
import time
import warnings
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from .. import fs
from ..fs import held
from ..paths import PathError, Target, open_real

SIZE = (320, 320)
# A request that finds no thumbnail claims its making with a marker file beside it: one task per file version
# and size, however many requests (a grid of 200 images, each retried) ask meanwhile. A claim older than this
# is taken over (the worker died); a file that cannot be thumbnailed is remembered, not retried.
CLAIM_SECONDS = 300
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".avif")


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def thumbnail_path(real: Path) -> Path:
    """Where the thumbnail of this file version lives (a new mtime or size makes a new one)."""
    with held(open_real(real)) as fd:
        st = os.fstat(fd)
    key = hashlib.sha256(f"{real}:{st.st_mtime_ns}:{st.st_size}".encode()).hexdigest()
    return Path(settings.DATA_DIR) / "thumbs" / key[:2] / f"{key}-{SIZE[0]}.webp"


def _claimed(out: Path) -> bool:
    """True for the one request that gets to queue the work (O_EXCL makes the claim atomic across processes)."""
    claim = out.with_suffix(".pending")
    claim.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return True
    except FileExistsError:
        try:
            stale = time.time() - claim.stat().st_mtime > CLAIM_SECONDS
        except FileNotFoundError:
            return False  # the worker just finished
        if stale:
            os.utime(claim)
        return stale


def thumbnail_make(*, real: Path) -> Path | None:
    """Decode at most FILES_THUMBNAIL_MAX_PIXELS pixels (decompression bombs are refused, not decoded)."""
    out = thumbnail_path(real)
    try:
        made = _make(real, out)
    finally:
        out.with_suffix(".pending").unlink(missing_ok=True)
    if made is None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".failed").touch()
    return made


def _make(real: Path, out: Path) -> Path | None:
    if out.exists():
        return out
    from PIL import Image, ImageOps  # loaded on the first thumbnail, not at start-up of every process

    Image.MAX_IMAGE_PIXELS = settings.FILES_THUMBNAIL_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with open(open_real(real, fs.READ), "rb") as fh, Image.open(fh) as im:
                if im.width * im.height > settings.FILES_THUMBNAIL_MAX_PIXELS:
                    return None
                im.draft("RGB", SIZE)  # JPEG decodes straight at a reduced scale
                im = ImageOps.exif_transpose(im)
                im.thumbnail(SIZE)
                out.parent.mkdir(parents=True, exist_ok=True)
                temp = out.with_suffix(f".{os.getpid()}.tmp")
                im.convert("RGBA" if im.mode in ("RGBA", "LA", "P") else "RGB").save(temp, "WEBP", quality=80)
                os.replace(temp, out)
    except (OSError, PathError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning, SyntaxError):
        return None
    return out


def thumbnail_request(*, target: Target) -> Path | None:
    """The thumbnail if it exists; otherwise queue its making (once) and answer None for now."""
    out = thumbnail_path(target.real)
    if out.exists():
        return out
    if out.with_suffix(".failed").exists():
        raise PathError(_("No thumbnail for this file."), 404)
    if _claimed(out):
        from ..tasks import thumbnail_make as make_task

        make_task.delay(str(target.real))
    return None
