from rest_framework.routers import SimpleRouter

from .api import CatalogViewSet, StoreViewSet

router = SimpleRouter()
router.register("stores", StoreViewSet, basename="api-stores")
router.register("catalog", CatalogViewSet, basename="api-catalog")

urlpatterns = router.urls
