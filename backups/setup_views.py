"""The setup page's "Restore from backup": the form (setup token and repository), then the restore's progress.

Open to anonymous visitors like the setup page itself: the setup token is the proof of ownership, and the progress
pages answer only the holder of the restore's watch key.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_safe

from accounts.selectors import admin_exists
from accounts.services.setup import SetupError

from .forms import BoxRestoreForm
from .services.box import BoxRestoreError, BoxTarget, box_restore_context, box_restore_request, box_restore_watched


@never_cache
@sensitive_post_parameters("token", "password", "secret")
def setup_restore(request):
    """The form; a valid one queues the restore and leads to its progress."""
    if admin_exists():
        raise Http404
    form = BoxRestoreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        token = data.pop("token")
        try:
            watch = box_restore_request(request=request, token=token, target=BoxTarget(**data))
        except SetupError as exc:
            form.add_error("token", exc.message)
        except ValidationError as exc:
            form.add_error("location", exc)
        except BoxRestoreError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("setup-restore-progress", watch=watch)
    status = 400 if form.is_bound else 200
    return render(request, "backups/setup_restore.html", {"form": form}, status=status)


@never_cache
@require_safe
def setup_restore_progress(request, watch: str):
    return render(request, "backups/setup_restore_progress.html", _context(watch))


@never_cache
@require_safe
def setup_restore_status(request, watch: str):
    """The progress partial, for the page's polling while its socket is down (a restart)."""
    return render(request, "backups/partials/_box_restore.html", _context(watch))


def _context(watch: str) -> dict:
    status = box_restore_watched(watch)
    if status is None:
        raise Http404
    return box_restore_context(watch, status)
