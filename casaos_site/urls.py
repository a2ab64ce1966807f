from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView
from django.views.i18n import JavaScriptCatalog

from accounts.views import auth as account_auth
from files import views as files_views
from notifications import pwa

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("monitoring.urls")),  # /metrics, for Prometheus
    # Pages we do not template (the browsable API, the admin) still make browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("system/status/", views.status_page, name="system-status"),
    # The installable app (notifications/pwa.py): the service worker must live at the root to cover every page.
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="pwa-service-worker"),
    path("login/", account_auth.login_view, name="login"),
    # Django's set_language: the login page's switch (a cookie); logged-in users choose in Settings.
    path("i18n/", include("django.conf.urls.i18n")),
    # gettext(), ngettext() and interpolate() for static/js, in the request's language (the djangojs domain).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("logout/", account_auth.logout_view, name="logout"),
    path("setup/", account_auth.setup_view, name="setup"),
    # Each app owns its pages; the "coming" placeholders give way as the apps' issues land.
    path("files/", files_views.index, name="files"),
    path("", include("system.urls")),  # Settings → System and Logs (before the other settings pages)
    path("settings/", include("accounts.settings_urls")),
    path("accounts/", include("accounts.urls")),
    path("appstore/", include("appstore.urls")),
    path("", include("proxy.urls")),  # before apps: the address form lives under /apps/<id>/
    path("apps/", include("apps.urls")),
    path("files/", include("files.urls")),
    path("s/", include("files.share_urls")),
    path("django-admin/", admin.site.urls),
    path("api/", include("casaos_site.api_urls")),
    path("", include("notifications.urls")),
    path("", include("home.urls")),
    path("", include("storage.urls")),
    path("", include("network.urls")),  # the Network page (issue 17)
    path("", include("backups.urls")),
    path("", include("remotes.urls")),
    path("", include("shares.urls")),
    path("", include("vpn.urls")),  # /network/vpn/ (issue 19 §5)
    path("nodes/", include("nodes.urls")),  # the Machines page (issue 20): namespace "nodes"
]

# A database that refuses writes answers 503 naming it (JSON under /api/), not a bare 500 page.
handler500 = "casaos_site.views.server_error"
# Errors are pages of the site (inside its layout, with a way back); the API answers them in JSON.
handler403 = "casaos_site.views.permission_denied"
handler404 = "casaos_site.views.page_not_found"
