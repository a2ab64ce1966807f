"""A file task's error is stored as its English message id with parameters: each reader (page, API, socket) reads
it in their own language, whoever the owner was when the worker ran it; API errors answer in the caller's."""

import errno

import pytest
from django.utils import translation

from accounts.services.language import user_language_set
from casaos_site.i18n import shown
from files.models import FileTask
from files.paths import from_os_error
from files.services import filetask_create
from files.tasks import filetask_run

pytestmark = pytest.mark.django_db
GONE = {"en": "“a.txt” no longer exists.", "de": "„a.txt“ gibt es nicht mehr.", "zh-hans": "“a.txt”已不存在。"}


@pytest.fixture
def failed_copy(admin_user, root):
    (root / "src").mkdir()
    (root / "dst").mkdir()
    (root / "src" / "a.txt").write_text("a")
    user_language_set(user=admin_user, language="de")  # the owner's language when the worker ran the task
    task = filetask_create(user=admin_user, kind="copy", sources=["src/a.txt"], destination="dst")
    (root / "src" / "a.txt").unlink()  # gone before the worker got to it
    filetask_run(task.pk)
    task.refresh_from_db()
    assert task.status == FileTask.Status.FAILED
    return task


def test_a_failed_task_is_read_in_each_readers_language(failed_copy):
    for language, text in GONE.items():
        with translation.override(language):
            assert shown(failed_copy.error) == text


def test_the_api_answers_a_failed_task_in_the_callers_language(failed_copy, admin_user, admin_api):
    user_language_set(user=admin_user, language="zh-hans")
    assert admin_api.get(f"/api/files/tasks/{failed_copy.pk}/").json()["error"] == GONE["zh-hans"]
    assert [t["error"] for t in admin_api.get("/api/files/tasks/").json()] == [GONE["zh-hans"]]


def test_a_system_error_is_said_in_our_words_and_kept_for_later():
    error = from_os_error(FileNotFoundError(errno.ENOENT, "No such file or directory", "/srv/files/a.txt"))
    assert error.status == 404 and error.message == "No such file or folder: a.txt"
    with translation.override("de"):
        assert shown(error.stored) == "Keine solche Datei und kein solcher Ordner: a.txt"
    with translation.override("zh-hans"):
        assert shown(error.stored) == "没有这个文件或文件夹：a.txt"  # noqa: RUF001 (full-width colon)


def test_an_api_error_answers_in_the_callers_language(admin_user, admin_api):
    user_language_set(user=admin_user, language="de")
    answer = admin_api.post("/api/files/mkdir/", {"path": "", "name": "a/b"}, format="json")
    assert answer.status_code == 400
    assert "ist kein gültiger Name" in str(answer.json())
