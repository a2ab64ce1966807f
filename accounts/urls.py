"""Account pages under /accounts/ (the login's second step and the step-up re-check)."""

from django.urls import path

from .views import auth

urlpatterns = [
    path("login/otp/", auth.otp_view, name="login-otp"),
    path("stepup/", auth.stepup_view, name="stepup"),
]
