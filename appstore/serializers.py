"""API shapes of the app store: stores (the state dict every view shares) and catalogue apps."""

from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.serializers import consent_paths_field, placement_field
from casaos_site.i18n import ShownField

from .install import install_fields
from .models import CatalogApp
from .parsing import pick, project_name
from .risk import RiskReport
from .selectors import catalog_mark


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
    message = ShownField(help_text=gettext_lazy("what the sync is doing now, in your language"))
    error = ShownField(help_text=gettext_lazy("the last sync's error as the download or the reader said it"))
    error_code = serializers.CharField(
        help_text=gettext_lazy("its kind: dns, offline, refused, timeout, http, too_large, ...")
    )
    problem = serializers.CharField(
        help_text=gettext_lazy("the same in plain words, e.g. 'No network: github.com ...'")
    )
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
            raise serializers.ValidationError(_("Give either a URL or a folder."))
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
    installed = serializers.SerializerMethodField()
    update_available = serializers.SerializerMethodField()

    class Meta:
        model = CatalogApp
        fields = [
            "id",
            "store",
            "store_app_id",
            "title",
            "tagline",
            "category",
            "author",
            "developer",
            "author_type",
            "icon_url",
            "architectures",
            "version",
            "needs_consent",
            "featured",
            "recommended",
            "content_hash",
            "installed",
            "update_available",
        ]

    def _marked(self, app) -> CatalogApp:
        if not hasattr(app, "installed"):
            catalog_mark([app], self.context.get("marks"))  # the view reads the marks once per request
        return app

    def get_installed(self, app) -> bool:
        return self._marked(app).installed

    def get_update_available(self, app) -> bool:
        """The store's template changed (image tag or content) since this app was installed from it."""
        return self._marked(app).update_available

    def get_title(self, app) -> str:
        return pick(app.title, _language(self))

    def get_tagline(self, app) -> str:
        return pick(app.tagline, _language(self))

    def get_icon_url(self, app) -> str:
        if app.icon:
            return reverse("appstore-asset", args=[app.icon])
        return reverse("appstore-placeholder", args=[app.pk])


class InstallFieldSerializer(serializers.Serializer):
    """One value of the template a person may set before installing (the install form's fields)."""

    key = serializers.CharField(
        help_text="the key to use in `values`: env__<service>__<VAR>, port__<service>__<i>, vol__<service>__<i>, "
        "var__<NAME> (a variable the template requires)"
    )
    kind = serializers.ChoiceField(choices=["env", "port", "volume", "variable"])
    service = serializers.CharField()
    label = serializers.CharField()
    initial = serializers.CharField(help_text=gettext_lazy("the default for this machine"))
    container = serializers.CharField(help_text=gettext_lazy("the variable name, container port or container path"))
    protocol = serializers.CharField()
    required = serializers.BooleanField(help_text=gettext_lazy("the install is refused without a value"))
    help = serializers.CharField(
        help_text=gettext_lazy("what the template says about the value (its ${NAME:?message})")
    )


class CatalogInstallSerializer(serializers.Serializer):
    """POST /api/catalog/{id}/install/: the app name, values by field key (defaults for the rest), consent."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=63)
    values = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=4096), required=False)
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("needed, with a fresh step-up, when the app asks for host access"),
    )
    consent_paths = consent_paths_field()
    placement = placement_field()


class CatalogInstallAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=gettext_lazy("the installed app (GET /api/apps/{id}/)"))
    name = serializers.CharField()
    status = serializers.CharField()
    url = serializers.CharField(help_text=gettext_lazy("GET this for status and progress"))
    websocket = serializers.CharField(help_text=gettext_lazy("the same events as JSON"))


class RiskFlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField(help_text=gettext_lazy("high (host access: consent), refused (never), warning"))
    service = serializers.CharField()
    detail = serializers.CharField()
    reason = serializers.CharField(help_text=gettext_lazy("the engine payload key and value, in plain words"))
    explicit = serializers.BooleanField(help_text=gettext_lazy("consent must name `detail` in consent_paths"))
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
    install_fields = serializers.SerializerMethodField()

    class Meta(CatalogAppSerializer.Meta):
        fields = [
            *CatalogAppSerializer.Meta.fields,
            "titles",
            "description",
            "descriptions",
            "release_notes",
            "tips",
            "screenshot_urls",
            "links",
            "package_id",
            "main",
            "port_map",
            "index",
            "scheme",
            "services",
            "images",
            "update_at",
            "compose",
            "risk",
            "install_fields",
        ]

    def get_description(self, app) -> str:
        return pick(app.description, _language(self))

    def get_screenshot_urls(self, app) -> list[str]:
        return [reverse("appstore-asset", args=[name]) for name in app.screenshots]

    def get_risk(self, app) -> dict:
        report = RiskReport.from_dict(app.risk)
        return RiskReportSerializer(
            {"needs_consent": report.needs_consent, "phrases": report.phrases(), "flags": report.flags}
        ).data

    @extend_schema_field(InstallFieldSerializer(many=True))
    def get_install_fields(self, app) -> list[dict]:
        """What POST /api/catalog/{id}/install/ accepts in `values`, with the defaults for this machine."""
        name = project_name(app.store_app_id)
        return InstallFieldSerializer(install_fields(app, name=name, language=_language(self)), many=True).data


class CategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
