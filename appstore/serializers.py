"""API shapes of the app store: stores (the state dict every view shares) and catalogue apps."""

from django.urls import reverse
from django.utils.translation import get_language
from rest_framework import serializers

from .models import CatalogApp
from .parsing import pick
from .risk import RiskReport
from .selectors import catalog_is_installed


class StoreSerializer(serializers.Serializer):
    """A store and its sync state (read only)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    source = serializers.CharField()
    enabled = serializers.BooleanField()
    is_default = serializers.BooleanField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    message = serializers.CharField()
    error = serializers.CharField()
    app_count = serializers.IntegerField()
    problem_count = serializers.IntegerField()
    synced_at = serializers.CharField(allow_null=True)


class StoreDetailSerializer(StoreSerializer):
    problems = serializers.ListField(child=serializers.DictField())


class StoreCreateSerializer(serializers.Serializer):
    """Either `url` (zip of a v1 store, or a v2 index.json) or `path` (a folder on this machine)."""

    url = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    path = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate(self, attrs):
        if bool(attrs.get("url")) == bool(attrs.get("path")):
            raise serializers.ValidationError("Give either a url or a path.")
        return attrs


class StoreUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()


def _language(serializer) -> str:
    return get_language() or "en"


class CatalogAppSerializer(serializers.ModelSerializer):
    """An app in a catalogue list, texts in the request's language (en_US fallback)."""

    title = serializers.SerializerMethodField()
    tagline = serializers.SerializerMethodField()
    icon_url = serializers.SerializerMethodField()
    architectures = serializers.ListField(source="architecture_list", child=serializers.CharField())

    class Meta:
        model = CatalogApp
        fields = ["id", "store", "store_app_id", "title", "tagline", "category", "author", "developer",
                  "author_type", "icon_url", "architectures", "version", "needs_consent", "featured", "recommended",
                  "content_hash"]

    def get_title(self, app) -> str:
        return pick(app.title, _language(self))

    def get_tagline(self, app) -> str:
        return pick(app.tagline, _language(self))

    def get_icon_url(self, app) -> str:
        if app.icon:
            return reverse("appstore-asset", args=[app.icon])
        return reverse("appstore-placeholder", args=[app.pk])


class RiskFlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    service = serializers.CharField()
    detail = serializers.CharField()
    phrase = serializers.CharField()


class RiskReportSerializer(serializers.Serializer):
    needs_consent = serializers.BooleanField()
    summary = serializers.ListField(child=serializers.CharField(), source="phrases")
    flags = RiskFlagSerializer(many=True)


class CatalogAppDetailSerializer(CatalogAppSerializer):
    """One app with every locale, its compose file and its risk report."""

    titles = serializers.JSONField(source="title")
    description = serializers.SerializerMethodField()
    descriptions = serializers.JSONField(source="description")
    screenshot_urls = serializers.SerializerMethodField()
    risk = serializers.SerializerMethodField()
    installed = serializers.SerializerMethodField()

    class Meta(CatalogAppSerializer.Meta):
        fields = [*CatalogAppSerializer.Meta.fields, "titles", "description", "descriptions", "release_notes",
                  "tips", "screenshot_urls", "links", "package_id", "main", "port_map", "index", "scheme",
                  "services", "images", "update_at", "compose", "risk", "installed"]

    def get_description(self, app) -> str:
        return pick(app.description, _language(self))

    def get_screenshot_urls(self, app) -> list[str]:
        return [reverse("appstore-asset", args=[name]) for name in app.screenshots]

    def get_risk(self, app) -> dict:
        report = RiskReport.from_dict(app.risk)
        return RiskReportSerializer({"needs_consent": report.needs_consent, "phrases": report.phrases(),
                                     "flags": report.flags}).data

    def get_installed(self, app) -> bool:
        return catalog_is_installed(app)


class CategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
