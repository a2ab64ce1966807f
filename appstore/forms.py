"""Forms of the app store: adding a store, the LAN setting, and the install form built from a template."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.forms import placement_fields_add

from .install import InstallField, data_on_disk
from .models import CatalogApp


class StoreAddForm(forms.Form):
    """A store by URL (zip or v2 index.json) or by folder on this machine."""

    url = forms.CharField(
        label=_("Store URL"),
        required=False,
        max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://github.com/owner/repo/archive/main.zip"}),
    )
    path = forms.CharField(
        label=_("or a folder on this machine"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"placeholder": "/srv/my-appstore"}),
    )
    name = forms.CharField(label=_("Name (optional)"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if bool(data.get("url")) == bool(data.get("path")):
            raise forms.ValidationError(_("Give either a URL or a folder."))
        return data


class LanSettingForm(forms.Form):
    allow_lan_stores = forms.BooleanField(label=_("Allow stores on this machine and the local network"), required=False)


class InstallForm(forms.Form):
    """The app's name, every env/port/volume of its template, and consent when it asks for host access."""

    name = forms.RegexField(
        label=_("App name"),
        regex=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        max_length=63,
        help_text=_("Lowercase letters, digits, '-' and '_'."),
    )

    def __init__(self, *args, fields: list[InstallField], needs_consent: bool, disks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.install_fields = fields
        if disks and any(f.kind == "volume" for f in fields):
            self.fields["data_disk"] = _disk_field(disks)
        for f in fields:
            label = f.label or f.container
            if f.kind == "variable":
                self.fields[f.key] = _variable_field(f, label)
            elif f.kind == "port":
                self.fields[f.key] = forms.IntegerField(
                    label=label,
                    min_value=1,
                    max_value=65535,
                    initial=int(f.initial),
                    help_text=_("host port → container port %(port)s/%(protocol)s")
                    % {"port": f.container, "protocol": f.protocol},
                )
            else:
                help_text = f.container if f.kind == "volume" else f"{f.service}: {f.container}"
                self.fields[f.key] = forms.CharField(
                    label=label, initial=f.initial, required=False, max_length=4096, help_text=help_text, strip=False
                )
        placement_fields_add(self)
        # Always present: values typed into the form can turn a harmless template into one that needs consent.
        self.fields["consent"] = forms.BooleanField(
            label=_("I understand what this app asks for and want to give it this access."), required=needs_consent
        )

    def group(self, kind: str):
        return [self[f.key] for f in self.install_fields if f.kind == kind]

    def values(self) -> dict[str, str]:
        values = {f.key: str(self.cleaned_data[f.key]) for f in self.install_fields if f.key in self.cleaned_data}
        disk, name = self.cleaned_data.get("data_disk"), self.cleaned_data.get("name")
        if not (disk and name):
            return values
        volumes = {f.key for f in self.install_fields if f.kind == "volume"}
        return {k: data_on_disk(v, app_id=name, disk=disk) if k in volumes else v for k, v in values.items()}


def _disk_field(disks) -> forms.ChoiceField:
    """Where the app's own folders go: this machine's app data folder, or a disk or pool we mounted (only those)."""
    return forms.ChoiceField(
        label=_("Place for the app's data"),
        choices=[("", _("This machine's app data folder")), *[(target, name) for name, target in disks]],
        required=False,
        help_text=_("The app's own folders go into the AppData folder of the disk chosen."),
    )


def _variable_field(f: InstallField, label: str) -> forms.CharField:
    """A variable the template requires: its ${NAME:?message} is the help text and the refusal."""
    return forms.CharField(
        label=label,
        required=f.required,
        max_length=4096,
        strip=False,
        help_text=f.help or f.container,
        error_messages={"required": _("The app cannot start without this value.")},
    )


class CatalogFilterForm(forms.Form):
    """The App Store's address: search, category, author, "runs here" and store. A value that names nothing (a
    category no store has, a store that is gone) is an error of its field: the page drops it and says so."""

    q = forms.CharField(label=_("Search"), required=False, strip=True)
    category = forms.CharField(label=_("Category"), required=False)
    author_type = forms.ChoiceField(label=_("Author"), required=False, choices=[])
    runs_here = forms.BooleanField(label=_("Runs on this machine"), required=False)
    store = forms.TypedChoiceField(label=_("Store"), required=False, choices=[], coerce=int, empty_value=None)

    def __init__(self, data, *, categories: list[str], stores: list[tuple[int, str]]):
        super().__init__(data)
        self.categories = {c.casefold(): c for c in categories}
        self.fields["author_type"].choices = [("", _("Any author")), *CatalogApp.AuthorType.choices]
        self.fields["store"].choices = [("", _("Every store")), *stores]

    def clean_q(self) -> str:
        # Truncated, not refused: a long paste still searches (the index reads at most 8 words anyway).
        return self.cleaned_data["q"].replace("\x00", "")[:200]

    def clean_category(self) -> str:
        name = self.cleaned_data["category"].strip()
        if name and name.casefold() not in self.categories:
            raise forms.ValidationError(_("No store has this category."), code="unknown")
        return self.categories.get(name.casefold(), "")
