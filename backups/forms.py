"""Forms of the Backups page (the API validates the same fields through its serializers and the same services)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.models import Installation
from remotes.models import Remote
from remotes.selectors import remotes_rclone_serves

from .models import BackupJob, Repository
from .services.schedule import cron_parse


class RepositoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Target"), choices=Repository.Kind.choices)
    remote = forms.ModelChoiceField(
        label=_("Cloud drive or remote"),
        queryset=Remote.objects.none(),
        required=False,
        empty_label=_("— choose one —"),
        help_text=_("One of the Remotes page (Storage); it need not be mounted."),
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=500,
        help_text=_("A folder, host:/path (SFTP), an address (S3, REST), or a folder inside the remote"),
    )
    username = forms.CharField(label=_("User name or access key"), max_length=200, required=False)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, required=False)
    secret = forms.CharField(
        label=_("Secret key, password or private key"), required=False, widget=forms.PasswordInput, strip=False
    )
    password = forms.CharField(
        label=_("Repository password (only to connect an existing repository)"),
        required=False,
        widget=forms.PasswordInput,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        remotes = self.fields["remote"]
        remotes.queryset = remotes_rclone_serves(user=user)
        remotes.label_from_instance = lambda remote: f"{remote.name} ({remote.get_kind_display()})"
        if not remotes.queryset.exists():
            remotes.help_text = _("No remote yet: add a cloud drive or a network share on the Remotes page first.")

    def clean_remote(self) -> int | None:
        """The service takes the id, and checks it against the user's remotes again (as it does for the API)."""
        remote = self.cleaned_data["remote"]
        return remote.pk if remote else None


class JobForm(forms.ModelForm):
    apps = forms.MultipleChoiceField(
        label=_("Apps with their data"), required=False, widget=forms.CheckboxSelectMultiple
    )
    folders = forms.CharField(
        label=_("Folders (one per line, as the Files page names them)"), required=False, widget=forms.Textarea
    )

    class Meta:
        model = BackupJob
        fields = ["name", "repository", "include_system", "apps", "folders", "schedule"]
        fields += ["keep_last", "keep_daily", "keep_weekly", "keep_monthly"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        names = Installation.objects.exclude(status__in=Installation.ENDED).values_list("name", flat=True)
        self.fields["apps"].choices = [(n, n) for n in names]
        self.fields["schedule"].help_text = _("Cron: minute hour day month weekday, e.g. 0 3 * * * (empty: by hand)")

    def clean_schedule(self) -> str:
        value = self.cleaned_data["schedule"].strip()
        if value:
            cron_parse(value)
        return value

    def clean_folders(self) -> list[str]:
        from files.paths import PathError, resolve

        paths = [line.strip() for line in self.cleaned_data["folders"].splitlines() if line.strip()]
        for path in paths:
            try:
                if not resolve(self.user, path).is_dir():
                    raise ValidationError(_("%(path)s is not a folder.") % {"path": path})
            except PathError as exc:
                raise ValidationError(f"{path}: {exc.message}") from None
        return paths


class BoxRestoreForm(forms.Form):
    """The setup page's "Restore from backup": the setup token, then where the backup is (as `manage.py restore`)."""

    token = forms.CharField(
        label=_("Setup token (printed on the server's console)"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    kind = forms.ChoiceField(label=_("Where the backup is"), choices=Repository.Kind.choices)
    location = forms.CharField(
        label=_("Location"),
        max_length=500,
        # No remotes exist yet on a fresh install: a cloud drive is named in rclone's own configuration.
        help_text=_(
            "As the recovery sheet gives it: a folder, host:/path (SFTP), an address (S3, REST) or REMOTE:path"
        ),
    )
    username = RepositoryForm.base_fields["username"]
    port = RepositoryForm.base_fields["port"]
    secret = RepositoryForm.base_fields["secret"]
    password = forms.CharField(
        label=_("Repository password (from the recovery sheet)"), strip=False, widget=forms.PasswordInput
    )
    snapshot = forms.CharField(
        label=_("System snapshot (empty: the newest)"), max_length=64, required=False, strip=True
    )

    def clean_snapshot(self) -> str:
        value = self.cleaned_data["snapshot"]
        if value and not all(c in "0123456789abcdef" for c in value.lower()):
            raise ValidationError(_("A snapshot id is made of the letters a to f and digits."))
        return value.lower()
