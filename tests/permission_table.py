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
}
