from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="dashboard"),  # the home page keeps the name every "back home" link uses
    path("search/", views.search, name="home-search"),
    path("home/widgets/", views.widgets, name="home-widgets"),
]
