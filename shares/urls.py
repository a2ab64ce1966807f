from django.urls import path

from . import views

urlpatterns = [
    path("shares/", views.shares_index, name="shares"),
    path("shares/cards/", views.shares_cards, name="shares-cards"),
    path("shares/new/", views.share_create_view, name="shares-create"),
    path("shares/apply/", views.shares_apply_view, name="shares-apply"),
    path("shares/password/", views.smb_password_view, name="shares-password"),
    path("shares/<int:pk>/", views.share_change_view, name="shares-change"),
    path("shares/<int:pk>/delete/", views.share_delete_view, name="shares-delete"),
]
