from rest_framework.routers import SimpleRouter

from .api import CatalogViewSet, StoreViewSet

router = SimpleRouter(use_regex_path=False)  # path converters: a non-integer id is no route (404)
router.register("stores", StoreViewSet, basename="api-stores")
router.register("catalog", CatalogViewSet, basename="api-catalog")

urlpatterns = router.urls
