"""Chromium on the Storage page with real loop devices: a disk plugged in while the page is open appears, is
formatted through the typed confirmation with its progress arriving live, then unmounted and mounted again; two
mounted disks become a pool.

The page's server and worker are a stack of the test's own (`storage_stack`: its media root, loop devices listed, a
Redis database apart). Cards are found by device path: a blank disk's id changes from dev-loopN to uuid-… once it
has a filesystem. Needs root and the storage tools.
"""

import os
import re
import signal

import pytest

from storage.models import DiskJob, Mount, Pool
from storage.mounts import mount_create
from tests.conftest import ARTIFACTS, browser_login
from tests.factories import PASSWORD
from tests.storage.conftest import fs_uuid, make_fs

pytestmark = [pytest.mark.browser, pytest.mark.stack]

# Every message of /ws/storage/ the page receives, kept from its first script on (each page load starts a new list).
RECORD_EVENTS = """
window.storageEvents = [];
window.storageSocketOpen = false;
document.addEventListener("htmx:wsOpen", function (event) {
  if (event.detail.elt && event.detail.elt.id === "storage-live") { window.storageSocketOpen = true; }
});
document.addEventListener("htmx:wsBeforeMessage", function (event) {
  try { window.storageEvents.push(JSON.parse(event.detail.message)); } catch (error) {}
});
"""

JOB_ENDED = """() => window.storageEvents.some(
  (e) => e.event === "storage.job" && (e.data.status === "done" || e.data.status === "failed"))"""


def card(page, device: str):
    return page.locator(f'.disk-card[data-device="{device}"]')


def open_storage(page, stack) -> None:
    """The page, with its socket open (the header says "live")."""
    page.goto(f"{stack.url}/storage/")
    storage_socket_open(page)


def storage_socket_open(page) -> None:
    """The Storage page's own socket: the header's "live" also lights for the bell's."""
    page.wait_for_function("() => window.storageSocketOpen === true")


def step_up(page, stack) -> None:
    page.goto(f"{stack.url}/accounts/stepup/?next=/storage/")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/storage/$"))


def job_events(page) -> list[dict]:
    return [e["data"] for e in page.evaluate("window.storageEvents") if e["event"] == "storage.job"]


def format_through_the_page(page, stack, device: str, label: str) -> None:
    """Open the card's format panel, type the label, confirm with the typed model and serial in the dialog. The
    worker is held until the next page's socket is open, so every progress event of the job reaches it."""
    box = card(page, device)
    box.locator("[data-action=format-open]").click()
    box.locator("input[name=label]").fill(label)
    expect = box.locator("form[data-format-confirm]").get_attribute("data-format-confirm")
    box.locator("[data-action=format]").click()
    page.fill("#prompt-dialog-input", expect)
    os.killpg(stack.worker.pid, signal.SIGSTOP)
    try:
        with page.expect_navigation(url=re.compile(r"/storage/$")):  # already there: the form's answer reloads it
            page.click("#prompt-dialog-ok")
        storage_socket_open(page)
    finally:
        os.killpg(stack.worker.pid, signal.SIGCONT)


def test_a_disk_plugged_in_while_the_page_is_open_is_formatted_unmounted_and_mounted_again(
    page, loop_disks, storage_stack, admin_user, media_root
):
    page.add_init_script(RECORD_EVENTS)
    browser_login(page, storage_stack, admin_user.username)
    step_up(page, storage_stack)
    open_storage(page, storage_stack)
    page.evaluate("window.notReloaded = true")

    # Hotplug: the card appears through the socket, without a page load.
    device = loop_disks.make()
    card(page, device).wait_for(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    assert "storage.disk.added" in [e["event"] for e in page.evaluate("window.storageEvents")]
    assert "No filesystem on this disk." in card(page, device).inner_text()

    # Format: step-up done, model and serial typed; the progress arrives live, then the card shows the mount.
    format_through_the_page(page, storage_stack, device, "Backup")
    page.evaluate("window.notReloaded = true")
    target = str(media_root / "Backup")
    page.wait_for_function(JOB_ENDED, timeout=60_000)
    events = job_events(page)
    assert [e["status"] for e in events][-1] == "done", events  # a failed job says why in its error
    card(page, device).locator("[data-action=unmount]").wait_for(timeout=30_000)
    assert page.evaluate("window.notReloaded") is True
    running = [e["progress"] for e in events if e["status"] == "running"]
    assert running == sorted(running) and len(running) >= 3 and running[-1] < 100, events
    job = DiskJob.objects.get(pk=events[-1]["job"])
    assert (job.status, job.progress, job.mount.target) == (DiskJob.Status.DONE, 100, target)
    assert target in card(page, device).inner_text() and os.path.ismount(target)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "storage-formatted.png"), full_page=True)

    # Unmount, then mount the same filesystem again, each through the card's own button.
    card(page, device).locator("[data-action=unmount]").click()
    page.wait_for_url(re.compile(r"/storage/$"))
    assert not Mount.objects.filter(name="Backup").exists() and not os.path.ismount(target)
    assert "not mounted" in card(page, device).inner_text()
    card(page, device).locator("[data-action=mount]").click()
    page.wait_for_url(re.compile(r"/storage/$"))
    assert Mount.objects.get(name="Backup").state == Mount.State.MOUNTED and os.path.ismount(target)
    assert target in card(page, device).inner_text()


def test_two_mounted_disks_become_a_pool_through_the_page(page, loop_disks, storage_stack, admin_user):
    for label in ("One", "Two"):
        device = loop_disks.make()
        make_fs(device, "ext4", label)
        mount_create(fs_uuid=fs_uuid(device))
    page.add_init_script(RECORD_EVENTS)
    browser_login(page, storage_stack, admin_user.username)
    open_storage(page, storage_stack)
    form = page.locator("#pool-create")
    form.locator("input[name=name]").fill("Both")
    for box in form.locator("input[name=members]").all():
        box.check()
    form.locator("[data-action=pool-create]").click()
    page.wait_for_url(re.compile(r"/storage/$"))
    pool = page.locator('[data-pool="Both"]')
    assert pool.is_visible() and "Pool usage" in pool.inner_text()
    assert Pool.objects.get(name="Both").members.count() == 2
    assert "Both" in page.locator(".message").first.inner_text()
