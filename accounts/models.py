"""Accounts: the custom user model (roles arrive with it so the first migration never has to change shape)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who may log in: an admin (everything) or a member (what an admin grants)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Admin")
        MEMBER = "member", _("Member")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)

    @property
    def is_admin(self) -> bool:
        return self.is_active and (self.role == self.Role.ADMIN or self.is_superuser)

    def save(self, *args, **kwargs):
        # createsuperuser and the admin's "superuser" box mean the admin role, and the other way round.
        if self.is_superuser:
            self.role = self.Role.ADMIN
        if self.role == self.Role.ADMIN:
            self.is_staff = True
        super().save(*args, **kwargs)
