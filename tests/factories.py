"""Model factories for tests (traits: admin, installer; a member by default)."""

import factory

from accounts.models import User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    """A member by default; `UserFactory(admin=True)` makes an admin, `installer=True` a member who may install."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = User.Role.MEMBER

    class Params:
        admin = factory.Trait(role=User.Role.ADMIN)
        installer = factory.Trait(may_install_apps=True)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()
