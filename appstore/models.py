"""App stores and their catalogues: a Store row per source, a CatalogApp row per app template it offers."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppstoreSettings(models.Model):
    """The one row of admin settings for stores (pk=1)."""

    allow_lan_stores = models.BooleanField(
        _("allow LAN stores"),
        default=False,
        help_text=_(
            "Allow stores that are folders on this machine, and store URLs that lead to this machine or the local "
            "network (loopback, private ranges)."
        ),
    )

    class Meta:
        verbose_name = _("app store settings")
        verbose_name_plural = _("app store settings")

    def __str__(self) -> str:
        return str(_("App store settings"))

    @classmethod
    def load(cls) -> "AppstoreSettings":
        """The settings row, created on first use."""
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class Store(models.Model):
    """A source of app templates: a zip URL (v1), a v2 static store URL, or a folder on this machine."""

    class Kind(models.TextChoices):
        ZIP = "zip", _("Zip archive (v1)")
        V2 = "v2", _("Static store (v2)")
        FOLDER = "folder", _("Folder on this machine")

    class Status(models.TextChoices):
        NEW = "new", _("Never synced")
        QUEUED = "queued", _("Queued")
        SYNCING = "syncing", _("Syncing")
        OK = "ok", _("Up to date")
        ERROR = "error", _("Error")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    url = models.URLField(_("URL"), max_length=1000, blank=True)
    path = models.CharField(_("folder"), max_length=1000, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    is_default = models.BooleanField(_("default store"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    message = models.CharField(_("progress message"), max_length=300, blank=True)
    error = models.TextField(_("last error"), blank=True)
    # What kind of failure `error` is (appstore.fetch.FetchError / sync.SyncError codes: dns, offline, http...):
    # it picks the plain words the App Store page shows, and whether a retry may help.
    error_code = models.CharField(_("kind of error"), max_length=32, blank=True)
    problems = models.JSONField(_("apps that could not be imported"), default=list, blank=True)
    app_count = models.PositiveIntegerField(_("apps"), default=0)
    # Conditional download state: the validators of the last good download.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    content_length = models.BigIntegerField(null=True, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(_("last good sync"), null=True, blank=True)
    attempted_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def source(self) -> str:
        return self.url or self.path

    @property
    def is_busy(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.SYNCING)


class CatalogApp(models.Model):
    """One app template offered by a store; a sync replaces a store's rows in one transaction."""

    class AuthorType(models.TextChoices):
        OFFICIAL = "official", _("Official")
        BY_CASAOS = "by_casaos", _("By the CasaOS team")
        COMMUNITY = "community", _("Community")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="apps")
    store_app_id = models.CharField(max_length=200, db_index=True)
    package_id = models.CharField(max_length=200, blank=True)  # x-casaos.id, e.g. org.icewhale.jellyfin
    folder = models.CharField(max_length=300, blank=True)
    title = models.JSONField(default=dict)  # {locale: text}
    title_sort = models.CharField(max_length=200, db_index=True)
    tagline = models.JSONField(default=dict)
    description = models.JSONField(default=dict)
    release_notes = models.JSONField(default=dict)
    tips = models.JSONField(default=dict)  # {section: {locale: text}}
    category = models.CharField(max_length=100, db_index=True, blank=True)
    author = models.CharField(max_length=200, blank=True)
    developer = models.CharField(max_length=200, blank=True)
    author_type = models.CharField(max_length=16, choices=AuthorType.choices, default=AuthorType.COMMUNITY)
    icon = models.CharField(max_length=100, blank=True)  # asset name served by our own origin; "" = placeholder
    thumbnail = models.CharField(max_length=100, blank=True)
    screenshots = models.JSONField(default=list, blank=True)
    architectures = models.CharField(max_length=200, blank=True)  # ",amd64,arm64," (searchable on every backend)
    version = models.CharField(max_length=100, blank=True)
    update_at = models.CharField(max_length=50, blank=True)
    links = models.JSONField(default=dict, blank=True)  # website, repo, support, docs
    main = models.CharField(max_length=200, blank=True)
    port_map = models.CharField(max_length=20, blank=True)
    index = models.CharField(max_length=300, blank=True)
    scheme = models.CharField(max_length=10, blank=True)
    services = models.JSONField(default=dict, blank=True)  # {service: {envs|ports|volumes: [{container, description}]}}
    images = models.JSONField(default=list, blank=True)
    compose = models.TextField()
    content_hash = models.CharField(max_length=64)
    risk = models.JSONField(default=dict, blank=True)  # the report computed at sync (see appstore/risk.py)
    needs_consent = models.BooleanField(default=False, db_index=True)
    featured = models.BooleanField(default=False)
    recommended = models.BooleanField(default=False)
    search_text = models.TextField(blank=True)  # case-folded titles, taglines, descriptions of every locale

    class Meta:
        ordering = ["title_sort", "pk"]
        constraints = [models.UniqueConstraint(fields=["store", "store_app_id"], name="appstore_unique_app_per_store")]

    def __str__(self) -> str:
        return self.title_sort

    @property
    def architecture_list(self) -> list[str]:
        return [a for a in self.architectures.split(",") if a]


class InstalledTemplate(models.Model):
    """The store template an installed app came from, as it was when installed: a sync compares it with the
    store's current template and marks the app "update available" (the update itself belongs to apps/)."""

    installation = models.OneToOneField(
        "apps.Installation", primary_key=True, on_delete=models.CASCADE, related_name="store_template"
    )
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    store_app_id = models.CharField(max_length=200, db_index=True)
    content_hash = models.CharField(max_length=64)  # of the template installed
    images = models.JSONField(default=list, blank=True)
    version = models.CharField(max_length=100, blank=True)
    # The store's title in each of its locales ({locale: text}): the apps pages show the reader's own language
    # (Installation.title keeps the English one, for the admin, logs and anything without a reader).
    title = models.JSONField(default=dict, blank=True)
    compose_hash = models.CharField(max_length=64, blank=True)  # of the installation's compose when recorded
    update_available = models.BooleanField(_("update available"), default=False, db_index=True)
    available_version = models.CharField(max_length=100, blank=True)  # what the store offers now
    available_images = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("installed store template")
        verbose_name_plural = _("installed store templates")

    def __str__(self) -> str:
        return f"{self.installation_id}: {self.store_app_id}"
