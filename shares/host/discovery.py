"""Discovery on the LAN: the Avahi service file that announces the shares to macOS and Linux (`_smb._tcp`, and
`_device-info._tcp` so Finder draws the box as a server). Windows finds the box through wsdd, and `<hostname>.local`
resolves through avahi-daemon's own host name records; both are started by scripts/services.sh, not here."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from .samba import write_atomic

# %h: avahi-daemon puts the host name in, and follows it when the name changes (Settings → System).
SERVICE = """<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<!-- Written by CasaOS (the Shares page): the box's SMB shares, announced over mDNS. -->
<service-group>
  <name replace-wildcards="yes">%h</name>
  <service>
    <type>_smb._tcp</type>
    <port>{port}</port>
  </service>
  <service>
    <type>_device-info._tcp</type>
    <port>0</port>
    <txt-record>model={model}</txt-record>
  </service>
</service-group>
"""


def render_service(*, port: int, model: str = "RackMac") -> str:
    """The service file for smbd on `port` (RackMac: Finder's icon for a server)."""
    return SERVICE.format(port=int(port), model=escape(model))


def smb_port(ports: str) -> int:
    """The first of Samba's `smb ports` ("445 139" → 445)."""
    first = (ports or "445").replace(",", " ").split()[0]
    return int(first)


def service_install(*, path: Path, text: str | None) -> bool:
    """Write the service file (None: remove it, nothing left to announce); True when something changed."""
    if text is None:
        if not path.exists():
            return False
        path.unlink()
        return True
    if path.exists() and path.read_text() == text:
        return False
    write_atomic(path, text, mode=0o644)
    return True
