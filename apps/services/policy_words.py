"""What each kind of host access means for the person installing, as the end of "This app asks for: ..."."""

from django.utils.translation import gettext_lazy as _

PHRASES = {
    "privileged": _("full control of this machine (privileged mode)"),
    "engine_socket": _("full control of Docker"),
    "engine_data": _("the container engine's data (every app's files and settings)"),
    "casaos_data": _("this home cloud's own data (its database and secret key)"),
    "casaos_code": _("this home cloud's own code"),
    "root_bind": _("your whole disk"),
    "system_bind": _("system folders of this machine"),
    "host_folder": _("folders of this machine outside its own folder and your files"),
    "other_app_folder": _("the folder of another app"),
    "host_network": _("this machine's network (host network)"),
    "host_pid": _("every process on this machine (host PID)"),
    "host_ipc": _("this machine's shared memory (host IPC)"),
    "host_uts": _("this machine's host name (host UTS)"),
    "host_userns": _("to run without user isolation (host user namespace)"),
    "host_cgroup": _("this machine's control groups (host cgroup namespace)"),
    "other_container": _("the inside of a container that is not part of this app"),
    "namespace": _("a namespace that is not its own"),
    "unconfined": _("to run without its full security profile (AppArmor, seccomp or no-new-privileges off)"),
    "cap_add": _("extra kernel powers"),
    "devices": _("hardware devices"),
    "gpu": _("the graphics card (GPU)"),
    "sysctl": _("kernel settings of this machine"),
    "ulimit": _("more resources than this machine gives one program"),
    "oom_score_adj": _("to outlive this machine's own programs when memory runs out"),
    "cgroup_parent": _("a control group of this machine's choosing"),
    "runtime": _("another container runtime"),
    "log_driver": _("to send its logs elsewhere"),
    "mount_option": _("to share mounts with this machine"),
    "volume_driver": _("a disk, device or network share mounted for it"),
    "network_driver": _("this machine's network interfaces (a network driver)"),
    "foreign_volume": _("a volume that is not this app's"),
    "other_app_volume": _("another app's data (never allowed)"),
    "labels": _("to pass for another app (never allowed)"),
    "unknown_key": _("settings we do not know to be safe"),
    "unreadable": _("settings we could not read"),
    "mount_type": _("a kind of mount we do not support"),
    "latest_image": _("an image that can change without notice (latest or no tag)"),
    "unknown_registry": _("images from a registry we do not know"),
    "analysis_failed": _("settings we could not check"),
}


def phrase(code: str) -> str:
    return str(PHRASES.get(code, code))


def phrases(findings) -> list[str]:
    """Distinct plain-words phrases of some findings, in their order."""
    return list(dict.fromkeys(phrase(f.code) for f in findings))
