from django.urls import path

from . import api

urlpatterns = [
    path("notifications/", api.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read-all/", api.ReadAllView.as_view(), name="api-notifications-read-all"),
    path("notifications/rules/", api.RulesView.as_view(), name="api-notification-rules"),
    path("notifications/channels/", api.ChannelsView.as_view(), name="api-notification-channels"),
    path("notifications/channels/<int:pk>/", api.ChannelView.as_view(), name="api-notification-channel"),
    path("notifications/channels/<int:pk>/test/", api.ChannelTestView.as_view(), name="api-notification-channel-test"),
    path("notifications/smtp/", api.SmtpView.as_view(), name="api-notification-smtp"),
    path("notifications/smtp/test/", api.SmtpTestView.as_view(), name="api-notification-smtp-test"),
    path("notifications/push-key/", api.PushKeyView.as_view(), name="api-notification-push-key"),
    path(
        "notifications/<int:pk>/read/",
        api.NotificationActionView.as_view(verb="read"),
        name="api-notification-read",
    ),
    path(
        "notifications/<int:pk>/unread/",
        api.NotificationActionView.as_view(verb="unread"),
        name="api-notification-unread",
    ),
    path(
        "notifications/<int:pk>/dismiss/",
        api.NotificationActionView.as_view(verb="dismiss"),
        name="api-notification-dismiss",
    ),
]
