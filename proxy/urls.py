from django.urls import path

from . import views
from .host.config import AUTH_PATH, SSO_PATH

urlpatterns = [
    path(AUTH_PATH.lstrip("/"), views.forward_auth, name="proxy-auth"),
    path("proxy/start/", views.sso_start, name="proxy-start"),
    path(SSO_PATH.lstrip("/"), views.sso_callback, name="proxy-sso-callback"),
    path("proxy/root.crt", views.root_certificate, name="proxy-root-certificate"),
    path("settings/proxy/", views.proxy_settings_page, name="settings-proxy"),
    path("apps/<int:pk>/address/", views.app_address, name="app-address"),
]
