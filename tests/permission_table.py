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
    "settings": {"access": MEMBER},
    "api-root": {"access": MEMBER},
    "api-schema": {"access": MEMBER},
    "api-docs": {"access": MEMBER},
    "api-system-status": {"access": MEMBER},
}
