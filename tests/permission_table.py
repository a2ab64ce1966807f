"""Who may reach each URL route. A test (accounts) walks every route and checks it against this table:
a route with no entry here fails the suite, so every new page, fragment, API endpoint and admin view is
placed in it on purpose.

Key: the URL pattern name (or, for unnamed admin routes, the route string). Value: a dict with
    "access": one of PUBLIC, ANONYMOUS_ONLY, MFA_STEP, MEMBER, ADMIN, NOBODY (see below),
    "kwargs": (optional) URL kwargs for reverse(), with ids that need not exist (404 counts as "reached"),
    "methods": (optional) the HTTP methods to try, default ["GET"],
    "mfa_step": (optional) True when a password-only session may use it too (logging out),
    "lands_on_login": (optional) True when its success is a redirect to the login page (logging out),
    "admin_may_be_refused": (optional) True when an admin may get a 403 from the model's own rules.
Keys ending in ":*" cover a whole URL namespace (the Django admin). Missing URL kwargs are filled with ids
that do not exist. The walk tries four callers: anonymous, a member, an admin, and a session that gave an MFA
admin's password but not the code (which must reach nothing but the MFA step).
"""

PUBLIC = "public"  # anyone, logged in or not (health check, login page assets)
ANONYMOUS_ONLY = "anonymous"  # pages for logged-out people (login, first-run setup)
MFA_STEP = "mfa-step"  # the second login step: sessions that gave the password of an MFA user, not yet the code
MEMBER = "member"  # any logged-in, MFA-verified user
ADMIN = "admin"  # admins only
NOBODY = "nobody"  # closed to everyone (secrets nobody may read back, e.g. another person's TOTP key)

ROUTES: dict[str, dict] = {
    "healthz": {"access": PUBLIC},
    "favicon": {"access": PUBLIC},
    "login": {"access": ANONYMOUS_ONLY},
    "logout": {"access": MEMBER, "methods": ["POST"], "mfa_step": True, "lands_on_login": True},
    "dashboard": {"access": MEMBER},
    "system-stats": {"access": MEMBER},
    "system-status": {"access": MEMBER},
    "storage": {"access": MEMBER},
    "appstore": {"access": MEMBER},
    # appstore: catalogue pages for everyone, stores for admins (the install form checks consent itself)
    "appstore-app": {"access": MEMBER},
    "appstore-install": {"access": MEMBER, "methods": ["GET", "POST"]},
    "appstore-placeholder": {"access": MEMBER},
    "appstore-asset": {"access": MEMBER},
    "appstore-stores": {"access": ADMIN, "methods": ["GET", "POST"]},
    "appstore-lan": {"access": ADMIN, "methods": ["POST"]},
    "appstore-store": {"access": ADMIN},
    "appstore-store-row": {"access": ADMIN},
    "appstore-store-action": {"access": ADMIN, "methods": ["POST"], "kwargs": {"action": "sync"}},
    "api-stores-list": {"access": MEMBER},  # POST (add) is admin-only: tests/appstore/test_api.py
    "api-stores-detail": {"access": MEMBER},  # PATCH/DELETE are admin-only: tests/appstore/test_api.py
    "api-stores-sync": {"access": ADMIN, "methods": ["POST"]},
    "api-catalog-list": {"access": MEMBER},
    "api-catalog-detail": {"access": MEMBER},
    "api-catalog-categories": {"access": MEMBER},
    "apps": {"access": MEMBER},
    # apps (install pipeline): members read, admins install, cancel and uninstall
    "app-install": {"access": ADMIN, "methods": ["GET", "POST"]},
    "app-detail": {"access": MEMBER},
    "app-state": {"access": MEMBER},
    "app-cancel": {"access": ADMIN, "methods": ["POST"]},
    "app-uninstall": {"access": ADMIN, "methods": ["POST"]},
    "api-apps": {"access": MEMBER},  # POST (install) is admin-only: tests/apps/test_api.py
    "api-app-detail": {"access": MEMBER},  # DELETE (uninstall) is admin-only: tests/apps/test_api.py
    "api-app-cancel": {"access": ADMIN, "methods": ["POST"]},
    "files": {"access": MEMBER},
    # accounts: login steps, first run, step-up, Settings pages, API, Django admin
    "setup": {"access": ANONYMOUS_ONLY},
    "login-otp": {"access": MFA_STEP},
    "stepup": {"access": MEMBER},
    "settings": {"access": MEMBER},
    "settings-mfa": {"access": MEMBER},
    "settings-mfa-codes": {"access": MEMBER, "methods": ["POST"]},
    "settings-mfa-remove": {"access": MEMBER, "methods": ["POST"]},
    "settings-tokens": {"access": MEMBER},
    "settings-token-revoke": {"access": MEMBER, "methods": ["POST"]},
    "settings-sessions": {"access": MEMBER},
    "settings-session-end": {"access": MEMBER, "methods": ["POST"]},
    "settings-users": {"access": ADMIN},
    "settings-user-create": {"access": ADMIN, "methods": ["POST"]},
    "settings-user": {"access": ADMIN, "methods": ["GET", "POST"]},
    "settings-user-password": {"access": ADMIN, "methods": ["POST"]},
    "settings-user-delete": {"access": ADMIN, "methods": ["POST"]},
    "settings-user-unlock": {"access": ADMIN, "methods": ["POST"]},
    "settings-user-mfa-remove": {"access": ADMIN, "methods": ["POST"]},
    "settings-security": {"access": ADMIN},
    "settings-audit": {"access": ADMIN},
    "api-me": {"access": MEMBER},
    "api-token-list": {"access": MEMBER, "methods": ["GET", "POST"]},
    "api-token-detail": {"access": MEMBER, "methods": ["DELETE"]},
    "api-session-list": {"access": MEMBER},
    "api-session-detail": {"access": MEMBER, "methods": ["DELETE"]},
    "api-user-list": {"access": ADMIN, "methods": ["GET", "POST"]},
    "api-user-detail": {"access": ADMIN, "methods": ["GET", "PATCH", "DELETE"]},
    "api-user-unlock": {"access": ADMIN, "methods": ["POST"]},
    "api-audit-list": {"access": ADMIN},
    # Model admins refuse some verbs to everyone (the audit log cannot be added to or deleted from).
    "admin:*": {"access": ADMIN, "admin_may_be_refused": True},
    "admin:index": {"access": ADMIN},
    "admin:logout": {"access": PUBLIC, "methods": ["POST"], "lands_on_login": True},  # logging out needs no rights
    "admin:otp_totp_totpdevice_config": {"access": NOBODY},  # an admin reading a TOTP key would defeat MFA
    "admin:otp_totp_totpdevice_qrcode": {"access": NOBODY},
    "api-root": {"access": MEMBER},
    "api-schema": {"access": MEMBER},
    "api-docs": {"access": MEMBER},
    "api-system-status": {"access": MEMBER},
    # files: pages and API for members (paths are checked per user by files/paths.py); grants are admin-only
    "files-view": {"access": MEMBER},
    "files-tasks": {"access": MEMBER},
    "files-trash": {"access": MEMBER},
    "files-shares": {"access": MEMBER},
    "files-grants": {"access": ADMIN},
    "api-files": {"access": MEMBER},
    "api-files-info": {"access": MEMBER},
    "api-files-size": {"access": MEMBER},
    "api-files-search": {"access": MEMBER},
    "api-files-content": {"access": MEMBER, "methods": ["GET", "PUT"]},
    "api-files-text": {"access": MEMBER},
    "api-files-zip": {"access": MEMBER},
    "api-files-thumbnail": {"access": MEMBER},
    "api-files-mkdir": {"access": MEMBER, "methods": ["POST"]},
    "api-files-newfile": {"access": MEMBER, "methods": ["POST"]},
    "api-files-rename": {"access": MEMBER, "methods": ["POST"]},
    "api-files-copy": {"access": MEMBER, "methods": ["POST"]},
    "api-files-move": {"access": MEMBER, "methods": ["POST"]},
    "api-files-delete": {"access": MEMBER, "methods": ["POST"]},
    "api-files-extract": {"access": MEMBER, "methods": ["POST"]},
    "api-files-compress": {"access": MEMBER, "methods": ["POST"]},
    "api-files-permissions": {"access": ADMIN, "methods": ["POST"]},
    "api-files-tasks": {"access": MEMBER},
    "api-files-task": {"access": MEMBER},
    "api-files-task-cancel": {"access": MEMBER, "methods": ["POST"]},
    "api-files-trash": {"access": MEMBER},
    "api-files-trash-empty": {"access": MEMBER, "methods": ["POST"]},
    "api-files-trash-item": {"access": MEMBER, "methods": ["DELETE"]},
    "api-files-trash-restore": {"access": MEMBER, "methods": ["POST"]},
    "api-files-shares": {"access": MEMBER, "methods": ["GET", "POST"]},
    "api-files-share": {"access": MEMBER, "methods": ["DELETE"]},
    "api-files-grants": {"access": ADMIN, "methods": ["GET", "POST"]},
    "api-files-grant": {"access": ADMIN, "methods": ["DELETE"]},
    "api-files-uploads": {"access": MEMBER, "methods": ["POST"]},
    "api-files-upload": {"access": MEMBER, "methods": ["PATCH", "DELETE"]},
    # files: public share links; the token in the URL is the credential and reaches exactly one file or folder
    "files-share": {"access": PUBLIC},
    "files-share-download": {"access": PUBLIC},
    "files-share-zip": {"access": PUBLIC},
    "files-share-uploads": {"access": PUBLIC, "methods": ["POST"]},
    "files-share-upload": {"access": PUBLIC, "methods": ["PATCH"]},
}
