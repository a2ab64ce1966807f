"""The Settings pages under /settings/: the user's own account, and for admins users, security and audit."""

from django.urls import path

from .views import account, admin_pages

urlpatterns = [
    path("", account.settings_index, name="settings"),
    path("language/", account.settings_language, name="settings-language"),
    path("theme/", account.settings_theme, name="settings-theme"),
    path("mfa/", account.settings_mfa, name="settings-mfa"),
    path("mfa/backup-codes/", account.settings_mfa_codes, name="settings-mfa-codes"),
    path("mfa/remove/", account.settings_mfa_remove, name="settings-mfa-remove"),
    path("tokens/", account.settings_tokens, name="settings-tokens"),
    path("tokens/<int:pk>/revoke/", account.settings_token_revoke, name="settings-token-revoke"),
    path("sessions/", account.settings_sessions, name="settings-sessions"),
    path("sessions/<int:pk>/end/", account.settings_session_end, name="settings-session-end"),
    path("users/", admin_pages.users_index, name="settings-users"),
    path("users/new/", admin_pages.user_create_view, name="settings-user-create"),
    path("users/<int:pk>/", admin_pages.user_detail, name="settings-user"),
    path("users/<int:pk>/password/", admin_pages.user_password, name="settings-user-password"),
    path("users/<int:pk>/delete/", admin_pages.user_delete_view, name="settings-user-delete"),
    path("users/<int:pk>/unlock/", admin_pages.user_unlock, name="settings-user-unlock"),
    path("users/<int:pk>/mfa-remove/", admin_pages.user_mfa_remove, name="settings-user-mfa-remove"),
    path("security/", admin_pages.security_view, name="settings-security"),
    path("audit/", admin_pages.audit_view, name="settings-audit"),
]
