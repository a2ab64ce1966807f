from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from accounts.views import auth as account_auth
from files import views as files_views

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    # Pages we do not template (the browsable API, the admin) still make browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("system/status/", views.status_page, name="system-status"),
    path("login/", account_auth.login_view, name="login"),
    path("logout/", account_auth.logout_view, name="logout"),
    path("setup/", account_auth.setup_view, name="setup"),
    # Each app owns its pages; the "coming" placeholders give way as the apps' issues land.
    path("files/", files_views.index, name="files"),
    path("settings/", include("accounts.settings_urls")),
    path("accounts/", include("accounts.urls")),
    path("appstore/", include("appstore.urls")),
    path("apps/", include("apps.urls")),
    path("files/", include("files.urls")),
    path("s/", include("files.share_urls")),
    path("django-admin/", admin.site.urls),
    path("api/", include("casaos_site.api_urls")),
    path("", include("home.urls")),
    path("", include("storage.urls")),
]

# A database that refuses writes answers 503 naming it (JSON under /api/), not a bare 500 page.
handler500 = "casaos_site.views.server_error"
