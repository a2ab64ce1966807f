"""Who may reach each URL route. A test (accounts) walks every route and checks it against this table:
a route with no entry here fails the suite, so every new page, fragment, API endpoint and admin view is
placed in it on purpose.

Key: the URL pattern name (or, for unnamed admin routes, the route string). Value: a dict with
    "access": one of PUBLIC, ANONYMOUS_ONLY, MEMBER, ADMIN (see below),
    "kwargs": (optional) URL kwargs for reverse(), with ids that need not exist (404 counts as "reached"),
    "methods": (optional) the HTTP methods to try, default ["GET"].
"""

PUBLIC = "public"  # anyone, logged in or not (health check, login page assets)
ANONYMOUS_ONLY = "anonymous"  # pages for logged-out people (login, first-run setup)
MEMBER = "member"  # any logged-in, MFA-verified user
ADMIN = "admin"  # admins only

ROUTES: dict[str, dict] = {
    "healthz": {"access": PUBLIC},
    "favicon": {"access": PUBLIC},
    "login": {"access": ANONYMOUS_ONLY},
    "logout": {"access": MEMBER, "methods": ["POST"]},
    "dashboard": {"access": MEMBER},
    "system-stats": {"access": MEMBER},
    "system-status": {"access": MEMBER},
    "storage": {"access": MEMBER},
    "appstore": {"access": MEMBER},
    "apps": {"access": MEMBER},
    "files": {"access": MEMBER},
    "settings": {"access": MEMBER},
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
