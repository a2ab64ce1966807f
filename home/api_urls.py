from django.urls import path

from .api import SearchView, WidgetsView

urlpatterns = [
    path("search/", SearchView.as_view(), name="api-search"),
    path("home/widgets/", WidgetsView.as_view(), name="api-home-widgets"),
]
