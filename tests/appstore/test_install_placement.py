"""The catalogue install takes `placement` like POST /api/apps/: refused with a clear 400 on a box that manages no
swarm (the plain test engine), nothing installed."""

import pytest
from django.urls import reverse

from apps.models import Installation
from apps.services.placement import swarm_state_forget
from appstore.models import CatalogApp
from tests.appstore.test_install import hello_store  # noqa: F401 (the one-app store fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.docker]


@pytest.mark.parametrize(
    ("placement", "words"),
    [
        ({"where": "any"}, "Machines page"),
        ({"where": "label", "label": "disk=ssd && x"}, "key=value"),
    ],
)
def test_the_catalogue_install_refuses_a_placement_it_cannot_keep(
    client,
    admin_user,
    hello_store,  # noqa: F811 (imported above)
    docker_engine,
    app_name,
    placement,
    words,
):
    swarm_state_forget()
    client.force_login(admin_user)
    hello = CatalogApp.objects.get(store=hello_store, store_app_id="hello")
    response = client.post(
        reverse("api-catalog-install", args=[hello.pk]),
        {"name": app_name, "placement": placement},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "placement" and words in response.json()["detail"]
    assert not Installation.objects.filter(name=app_name).exists()
