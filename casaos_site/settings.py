"""Django settings for the CasaOS home cloud. Every knob is a CASAOS_* environment variable (see README)."""

import ipaddress
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path

import dj_database_url

from runtime.subnets import DEFAULT_POOL, DEFAULT_PREFIX, SubnetPool

from .env import ConfigError, env_bool, env_int, env_list, env_path, env_str
from .secrets import load_or_create_key

BASE_DIR = Path(__file__).resolve().parent.parent


def _fail(message: str) -> None:
    # Bad configuration is reported as one line an operator can act on, not a traceback.
    sys.stderr.write(f"casaos: configuration error: {message}\n")
    raise SystemExit(2)


def _prepare_data_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "logs").mkdir(exist_ok=True)
        (path / "staticfiles").mkdir(exist_ok=True)
        # A name of its own: every process checks at start, and a shared name let one delete another's probe.
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test-")
        os.close(fd)
        Path(probe).unlink()
        _private(path, 0o700)  # the database, keys and logs are for our processes alone
    except OSError as exc:
        _fail(f"data directory {path} is not writable ({exc.strerror}); set CASAOS_DATA_DIR")
    return path


def _memory_total() -> int:
    """Bytes of RAM of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _private(path: Path, mode: int) -> None:
    """Restrict a path of ours (created first if it is a file) to its owner; another owner's path is left alone."""
    if mode == 0o600 and not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # SQLite takes an empty file as a new database
    info = path.stat()
    if info.st_uid == os.geteuid() and info.st_mode & 0o777 != mode:
        path.chmod(mode)


# ---------------------------------------------------------------------------- paths and secrets
try:
    DATA_DIR = _prepare_data_dir(env_path("DATA_DIR", BASE_DIR / "var"))
    SECRET_KEY = load_or_create_key(DATA_DIR / "secret_key")
    # Encrypts stored credentials (TOTP keys; later SMB, remote and backup passwords), made at first use, 0600:
    # casaos_site/credentials.py. Back it up with the database: without it they cannot be read.
    CREDENTIALS_KEY_FILE = DATA_DIR / "credentials.key"
    DEBUG = env_bool("DEBUG", False)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ("*",))
    BIND = env_str("BIND", "127.0.0.1:8000")
    REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
    ENGINE_URL = env_str("ENGINE_URL", "unix:///var/run/docker.sock")
    TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
    STATS_INTERVAL = env_int("STATS_INTERVAL", 1)
    HEALTH_TIMEOUT = env_int("HEALTH_TIMEOUT", 3)
except ConfigError as exc:
    _fail(str(exc))

LOG_DIR = DATA_DIR / "logs"

# ---------------------------------------------------------------------------- applications
# No "daphne" app: `manage.py serve` runs daphne's server itself, and the app's only use (its runserver) would
# import Twisted into every process, the worker included (15 MB PSS there).
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "casaos_site",
    "accounts",
    "appstore",
    "apps",
    "files",
    "storage",
    "home",
    "notifications",
    "monitoring",
    "system",
    "network",
    "backups",
    "remotes",
    "shares",
    "proxy",
    "vpn",
    "firewall",
    "nodes",
]

MIDDLEWARE = [
    # First: after a whole-box restore this process's secret key is the old one (casaos_site/restart.py).
    "casaos_site.restart.RestartOnNewKeyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "accounts.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # LocaleMiddleware guessed from the cookie and Accept-Language; a logged-in user's own choice wins.
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After auth, OTP and htmx: setup redirect while no admin exists, then the MFA step gate.
    "accounts.middleware.FirstRunMiddleware",
    "accounts.middleware.MFAGateMiddleware",
]

ROOT_URLCONF = "casaos_site.urls"
ASGI_APPLICATION = "casaos_site.asgi.application"
WSGI_APPLICATION = None
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# ---------------------------------------------------------------------------- database
# SQLite in the data directory is the embedded default; DATABASE_URL (e.g. postgres://...) replaces it.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'casaos.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # TOTP keys and session keys live in it: 0600 (SQLite gives its -wal and -shm files the same mode).
    _private(Path(DATABASES["default"]["NAME"]), 0o600)
    # Web, worker and beat share the file: wait for locks instead of failing, and let readers run beside a writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # DRF imports django.contrib.postgres's fields, and with them psycopg, whenever psycopg is installed (it is,
    # for DATABASE_URL): 6 MB in each of web and worker that nothing uses on SQLite. DRF treats the ImportError
    # this makes as "no PostgreSQL" (rest_framework/compat.py).
    sys.modules.setdefault("django.contrib.postgres.fields", None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------- passwords
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# ---------------------------------------------------------------------------- language and time
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TZ", "UTC")
USE_I18N = True
USE_TZ = True

# ---------------------------------------------------------------------------- static files
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Without collectstatic (a try-out), whitenoise serves straight from the finders.
WHITENOISE_USE_FINDERS = True

# ---------------------------------------------------------------------------- redis, channels, celery
# channels-redis waits up to 5 s (its brpop_timeout) in BZPOPMIN on each socket's channel; the client's read timeout
# must outlast that wait, or every socket that hears nothing for 5 s dies (redis-py 8 defaults to exactly 5 s).
CHANNEL_LAYER_READ_TIMEOUT = 20
# A burst of sockets connecting together waits (up to `timeout` s) for one of `max_connections` pooled connections.
CHANNEL_LAYER_POOL = {"max_connections": 64, "timeout": 10}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "casaos_site.channel_layer.PooledRedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": REDIS_URL,
                    "socket_timeout": CHANNEL_LAYER_READ_TIMEOUT,
                    "socket_connect_timeout": 2,
                    **CHANNEL_LAYER_POOL,
                }
            ],
            "prefix": "casaos:channels",
        },
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Threads, not forked children: installs and copies wait on the engine and the disk, and each forked child held
# ~75 MB of its own. Under 2 GB of RAM (a Pi) a prefork pool, if chosen, gets fewer children.
LOW_MEMORY = _memory_total() < 2 * 1024**3
CELERY_WORKER_POOL = env_str("WORKER_POOL", "threads")
if CELERY_WORKER_POOL not in ("threads", "prefork", "solo"):
    _fail(f"CASAOS_WORKER_POOL must be threads, prefork or solo, not {CELERY_WORKER_POOL!r}")
try:
    # Two queues, each with slots of its own (casaos_site/worker_queues.py): long operations (uninstall, update,
    # copy, store sync) never take the slots of short ones (installs, start, stop, settings, thumbnails).
    # A prefork pool under 2 GB keeps its two children (~75 MB each): one per queue.
    WORKER_SHORT_SLOTS = env_int("WORKERS", 1 if LOW_MEMORY and CELERY_WORKER_POOL == "prefork" else 4)
    WORKER_LONG_SLOTS = env_int("LONG_WORKERS", 1 if LOW_MEMORY and CELERY_WORKER_POOL == "prefork" else 2)
except ConfigError as exc:
    _fail(str(exc))
if WORKER_SHORT_SLOTS < 1 or WORKER_LONG_SLOTS < 1:
    _fail("CASAOS_WORKERS and CASAOS_LONG_WORKERS must be at least 1")
CELERY_WORKER_CONCURRENCY = WORKER_SHORT_SLOTS + WORKER_LONG_SLOTS  # `--concurrency` overrides it: then split
CELERY_WORKER_CONSUMER = "casaos_site.worker_queues:WorkerConsumer"
CELERY_TASK_ROUTES = ("casaos_site.queues.route",)
# The sampler and the engine-events listener run as threads of the worker (casaos_site/background.py)...
WORKER_BACKGROUND = env_bool("WORKER_BACKGROUND", True)
WORKER_BEAT = env_bool("WORKER_BEAT", True)  # ... and so does beat, unless it runs apart (`celery beat`)
WORKER_HOTPLUG = env_bool("WORKER_HOTPLUG", True)  # ... and the disk hotplug listener (`manage.py storage_hotplug`)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request must never hang because Redis is down: publishing gives up quickly and the caller reports it.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5, "max_retries": 1}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 3, "interval_start": 0, "interval_step": 1}}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# ---------------------------------------------------------------------------- REST API
REST_FRAMEWORK = {
    # Tokens only from the Authorization header; the session (with CSRF) serves the pages and the browsable API.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsMember"],
    "DEFAULT_METADATA_CLASS": "casaos_site.metadata.Metadata",
    "DEFAULT_PARSER_CLASSES": [
        "casaos_site.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Keyed on the client address as NUM_PROXIES (below) resolves it, so a forged X-Forwarded-For changes nothing.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": f"{env_int('API_RATE_ANON', 300)}/minute",
        "user": f"{env_int('API_RATE_USER', 3000)}/minute",
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "NUM_PROXIES": len(TRUSTED_PROXIES),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CasaOS home cloud API",
    "DESCRIPTION": "Everything the web admin does, for scripts and other tools.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.permissions.IsMember"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a field named "kind": each choice set gets a name of its own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "StoreKindEnum": "appstore.models.Store.Kind",
        "FileTaskKindEnum": "files.models.FileTask.Kind",
        "DiskKindEnum": "storage.models.Disk.Kind",
        "GrantAccessEnum": "files.models.FolderGrant.Access",  # shares' ShareGrant.Access: the same read/write
        "RemoteKindEnum": "remotes.models.Remote.Kind",
        "JobStatusEnum": "storage.models.DiskJob.Status",  # backups' runs and remotes' syncs: the same four states
        "FirewallAccessEnum": "firewall.serializers.ACCESS",  # who may reach a port: the LAN only, or anyone
        "UserRoleEnum": "accounts.models.User.Role",
        "SwarmRoleEnum": "runtime.swarm.cluster.ROLES",  # a swarm node's role (worker, manager), not a user's
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "casaos_site.schema.add_error_responses",
    ],
}

# ---------------------------------------------------------------------------- security
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# ---------------------------------------------------------------------------- logging
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / "casaos.log"),
            "maxBytes": 5 * 1024 * 1024,
            "backupCount": 3,
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console", "file"], "level": "INFO"},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# ---------------------------------------------------------------------------- files (file manager)
# The data root users browse (`/DATA` on a real host). Our own DATA_DIR and code are never reachable
# through it, even when the root is set above them (files/paths.py enforces that on every verb).
try:
    FILES_ROOT = env_path("FILES_ROOT", DATA_DIR / "files")
    FILES_HOME_DIR = env_str("FILES_HOME_DIR", "home")  # per-user home folders: <root>/<this>/<username>
    FILES_UPLOAD_MAX_SIZE = env_int("FILES_UPLOAD_MAX_SIZE", 64 * 1024**3)  # bytes per uploaded file
    # Bytes per tus PATCH request. No limit of its own by default: PATCH bodies stream into the upload's partial
    # file (never staged), and tus clients send a whole file in one request unless told to chunk.
    FILES_UPLOAD_CHUNK_MAX = env_int("FILES_UPLOAD_CHUNK_MAX", FILES_UPLOAD_MAX_SIZE)
    # Largest request body the web server accepts at all, tus PATCH bodies of a declared length aside (the upload
    # view checks those against the upload before a byte is written): daphne stages every other body on the system
    # disk before any login check, and nothing else we accept comes near this.
    MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 65 * 1024**2)
    FILES_UPLOAD_EXPIRY_HOURS = env_int("FILES_UPLOAD_EXPIRY_HOURS", 24)  # abandoned partial uploads removed after
    FILES_FREE_SPACE_RESERVE = env_int("FILES_FREE_SPACE_RESERVE", 256 * 1024**2)  # never fill a disk past this
    FILES_TRASH_DAYS = env_int("FILES_TRASH_DAYS", 30)
    FILES_EXTRACT_MAX_SIZE = env_int("FILES_EXTRACT_MAX_SIZE", 16 * 1024**3)  # unpacked bytes per archive
    FILES_EXTRACT_MAX_ENTRIES = env_int("FILES_EXTRACT_MAX_ENTRIES", 100_000)
    FILES_EXTRACT_MAX_RATIO = env_int("FILES_EXTRACT_MAX_RATIO", 200)  # unpacked/packed: more is a bomb
    FILES_THUMBNAIL_MAX_PIXELS = env_int("FILES_THUMBNAIL_MAX_PIXELS", 64_000_000)
    FILES_EDIT_MAX_SIZE = env_int("FILES_EDIT_MAX_SIZE", 2 * 1024**2)  # text editor limit
    # Also never reachable when the root is "/": system folders and anything that runs at boot.
    FILES_PROTECTED = [BASE_DIR, DATA_DIR] + [
        Path(p)
        for p in env_list(
            "FILES_PROTECTED",
            (
                "/etc",
                "/boot",
                "/usr",
                "/bin",
                "/sbin",
                "/lib",
                "/lib64",
                "/proc",
                "/sys",
                "/dev",
                "/run",
                "/var/lib/docker",
                "/root",
            ),
        )
    ]
except ConfigError as exc:
    _fail(str(exc))
CELERY_BEAT_SCHEDULE["files-cleanup"] = {"task": "files.tasks.files_cleanup", "schedule": 3600.0}

# ---------------------------------------------------------------------------- app store (appstore/)
# Stores are fetched into DATA_DIR/appstore; icons and screenshots are served from there, never hotlinked.
try:
    APPSTORE_DIR = DATA_DIR / "appstore"
    APPSTORE_SYNC_MINUTES = env_int("APPSTORE_SYNC_MINUTES", 60)  # periodic sync of every enabled store; 0: off
    APPSTORE_SYNC_AT_START = env_bool("APPSTORE_SYNC_AT_START", True)  # sync due stores when the worker starts
    APPSTORE_DEFAULT_STORE_URL = env_str(
        "APPSTORE_DEFAULT_STORE_URL", "https://github.com/IceWhaleTech/CasaOS-AppStore/archive/refs/heads/main.zip"
    )
    # Real community stores are zips of 150 MB and more (screenshots): streamed to disk, never held in memory.
    APPSTORE_MAX_ARCHIVE = env_int("APPSTORE_MAX_ARCHIVE", 512 * 1024**2)  # bytes of a store zip
    APPSTORE_MAX_UNPACKED = env_int("APPSTORE_MAX_UNPACKED", 1024**3)  # bytes once unpacked
    APPSTORE_MAX_ENTRIES = env_int("APPSTORE_MAX_ENTRIES", 20_000)
    APPSTORE_MAX_ASSET = env_int("APPSTORE_MAX_ASSET", 2 * 1024**2)  # bytes per icon / screenshot
    APPSTORE_CONNECT_TIMEOUT = env_int("APPSTORE_CONNECT_TIMEOUT", 5)  # seconds
    APPSTORE_READ_TIMEOUT = env_int("APPSTORE_READ_TIMEOUT", 15)  # seconds without a byte
    APPSTORE_DOWNLOAD_DEADLINE = env_int("APPSTORE_DOWNLOAD_DEADLINE", 900)  # seconds for a whole download
    APPSTORE_ASSET_BUDGET = env_int("APPSTORE_ASSET_BUDGET", 90)  # seconds of remote asset fetching per sync
    # Where installed apps keep their data by default (CasaOS: /DATA/AppData/<app id>).
    APPSTORE_APPS_DATA_ROOT = env_path("APPS_DATA_ROOT", DATA_DIR / "AppData")
except ConfigError as exc:
    _fail(str(exc))
if APPSTORE_SYNC_MINUTES > 0:
    CELERY_BEAT_SCHEDULE["appstore-sync"] = {"task": "appstore.sync_all", "schedule": APPSTORE_SYNC_MINUTES * 60.0}

# ---------------------------------------------------------------------------- apps (install pipeline)
try:
    APPS_PUID = env_int("PUID", 1000)  # what compose files see as ${PUID}/${PGID}
    APPS_PGID = env_int("PGID", 1000)
    APPS_HEALTH_TIMEOUT = env_int("APPS_HEALTH_TIMEOUT", 300)  # seconds a service may take to become healthy
    APPS_WEB_TIMEOUT = env_int("APPS_WEB_TIMEOUT", 120)  # seconds the web port may take to answer
    APPS_STALE_SECONDS = env_int("APPS_STALE_SECONDS", 60)  # an install without heartbeat this long was orphaned
    APPS_MAX_ATTEMPTS = env_int("APPS_MAX_ATTEMPTS", 3)  # resumes after a dead worker before we give up
    APPS_ENGINE_WAIT = env_int("APPS_ENGINE_WAIT", 600)  # seconds an install waits for an engine that went away
    # App networks take a small subnet each from this pool (Docker's defaults give each a /16 and run out after
    # about 30); the default keeps clear of 192.168.0.0/16 and 10.0.0.0/8, which home networks use.
    APPS_SUBNET_POOL = env_list("APPS_SUBNET_POOL", DEFAULT_POOL)
    APPS_SUBNET_PREFIX = env_int("APPS_SUBNET_PREFIX", DEFAULT_PREFIX)  # /24: 254 addresses per app network
    SubnetPool.parse(APPS_SUBNET_POOL, APPS_SUBNET_PREFIX)
except ConfigError as exc:
    _fail(str(exc))
except ValueError as exc:
    _fail(f"CASAOS_APPS_SUBNET_POOL / CASAOS_APPS_SUBNET_PREFIX: {exc}")
# Every 20 s: a lost queued task is queued again, and an orphaned install resumed, within a minute.
CELERY_BEAT_SCHEDULE["apps-reconcile"] = {"task": "apps.reconcile", "schedule": 20.0}

# ---------------------------------------------------------------------------- installed apps (issue 6)
try:
    APPS_UPDATE_CHECK_HOURS = env_int("APPS_UPDATE_CHECK_HOURS", 6)  # periodic update check of every app; 0: off
    APPS_UPDATE_CACHE_MINUTES = env_int("APPS_UPDATE_CACHE_MINUTES", 60)  # a check younger than this is reused
    APPS_LOG_TAIL_MAX = env_int("APPS_LOG_TAIL_MAX", 10_000)  # most log lines a page or download may ask for
    # Processes a container may run when its compose sets no pids_limit (0: the engine's own default, none on Docker).
    APPS_PIDS_LIMIT = env_int("APPS_PIDS_LIMIT", 4096)
    # A container its restart policy brought back this many times within the window is in a loop: it is stopped.
    APPS_RESTART_LOOP_COUNT = env_int("APPS_RESTART_LOOP_COUNT", 5)
    APPS_RESTART_LOOP_WINDOW = env_int("APPS_RESTART_LOOP_WINDOW", 300)  # seconds
except ConfigError as exc:
    _fail(str(exc))
if APPS_PIDS_LIMIT < 0 or APPS_RESTART_LOOP_COUNT < 1 or APPS_RESTART_LOOP_WINDOW < 1:
    _fail("CASAOS_APPS_PIDS_LIMIT must be 0 or more, CASAOS_APPS_RESTART_LOOP_COUNT and _WINDOW 1 or more")
if APPS_UPDATE_CHECK_HOURS > 0:
    CELERY_BEAT_SCHEDULE["apps-update-check"] = {
        "task": "apps.update_check",
        "schedule": APPS_UPDATE_CHECK_HOURS * 3600.0,
    }
CELERY_BEAT_SCHEDULE["apps-operation-reconcile"] = {"task": "apps.operation_reconcile", "schedule": 20.0}

# ---------------------------------------------------------------------------- accounts (accounts/)
# Lockout (password, OTP, setup token): LOCKOUT_ACCOUNT_FAILURES failures of one account name from one address, or
# LOCKOUT_ADDRESS_FAILURES from one address, within LOCKOUT_SECONDS lock that pair / that address for LOCKOUT_SECONDS.
# An account is never locked from elsewhere: past LOCKOUT_THROTTLE_AFTER failures from all addresses, each further
# attempt waits 1, 2, 4... seconds after the last failure, at most LOCKOUT_DELAY_MAX. Bad API tokens count in a
# bucket of their own per address: past LOCKOUT_TOKEN_FAILURES they are refused with 429, valid tokens and logins are
# never locked by them. `manage.py unlock <username> [--address ...]` lifts locks and delays.
try:
    LOCKOUT_ACCOUNT_FAILURES = env_int("LOCKOUT_ACCOUNT_FAILURES", 5)
    LOCKOUT_ADDRESS_FAILURES = env_int("LOCKOUT_ADDRESS_FAILURES", 20)
    # Twice the pair's limit: one address alone, locked at its 5th failure, never slows the owner down.
    LOCKOUT_THROTTLE_AFTER = env_int("LOCKOUT_THROTTLE_AFTER", 10)
    LOCKOUT_DELAY_MAX = env_int("LOCKOUT_DELAY_MAX", 60)
    LOCKOUT_TOKEN_FAILURES = env_int("LOCKOUT_TOKEN_FAILURES", 30)
    LOCKOUT_SECONDS = env_int("LOCKOUT_SECONDS", 15 * 60)
    SESSION_COOKIE_AGE = env_int("SESSION_DAYS", 14) * 24 * 3600
except ConfigError as exc:
    _fail(str(exc))
SESSION_ENGINE = "django.contrib.sessions.backends.db"  # sessions are listed and ended from the Settings page
CSRF_COOKIE_HTTPONLY = True  # pages hand the token to htmx in hx-headers; scripts never read the cookie
OTP_TOTP_ISSUER = "CasaOS"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # nobody reads a TOTP key back, admins included
# Our lockout (per account and address, liftable by an admin) limits code guessing; django-otp's own per-device
# delay on top would refuse a right code typed within seconds of a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # local health probes speak plain HTTP
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload would pin a home server's name into every browser for good; an owner opts in, not us.
    "security.W021",
]

# ---------------------------------------------------------------------------- storage (disks, mounts, pools)
try:
    # Disks are mounted under <media root>/<label>, pools under <media root>/pools/<name>.
    MEDIA_ROOT_DISKS = env_path("MEDIA_ROOT", Path("/media"))
    # Paths whose disk is a system disk (never formatted, unmounted or ejected), besides / and DATA_DIR.
    STORAGE_SYSTEM_PATHS = env_list("STORAGE_SYSTEM_PATHS", ("/var/lib/docker", "/var/lib/containers"))
    # Loop devices are listed only when asked (tests, trying things out): snaps make dozens of them.
    STORAGE_LOOP_DEVICES = env_bool("STORAGE_LOOP_DEVICES", False)
    STORAGE_HEALTH_INTERVAL = env_int("STORAGE_HEALTH_INTERVAL", 3600)  # seconds between SMART checks (beat)
    # Hotplug hears kernel uevents; where netlink is unavailable it looks at the disks this often instead (seconds).
    STORAGE_HOTPLUG_POLL = env_int("STORAGE_HOTPLUG_POLL", 10)
    STORAGE_FULL_INTERVAL = env_int("STORAGE_FULL_INTERVAL", 60)  # seconds between looks at how full mounts are
    # Pages and the API show the stored inventory (hotplug and actions keep it current); one older than this many
    # seconds is read again, for what nobody announced (a mount made by hand).
    STORAGE_INVENTORY_MAX_AGE = env_int("STORAGE_INVENTORY_MAX_AGE", 30)
except ConfigError as exc:
    _fail(str(exc))
CELERY_BEAT_SCHEDULE["storage-health"] = {
    "task": "storage.health_check_all",
    "schedule": float(STORAGE_HEALTH_INTERVAL),
}
CELERY_BEAT_SCHEDULE["storage-full"] = {"task": "storage.full_check", "schedule": float(STORAGE_FULL_INTERVAL)}
STORAGE_GROUP = "storage"  # the Channels group that disk jobs and inventory changes are published to

# ---------------------------------------------------------------------------- remotes (network shares, cloud drives)
try:
    # Each remote is mounted at <this folder>/<its name>: a folder of ours under the media root, which a disk's
    # folder can never be (storage strips leading dots from disk names).
    REMOTES_MOUNT_ROOT = env_path("REMOTES_MOUNT_ROOT", MEDIA_ROOT_DISKS / ".remotes")
    # rclone's VFS write cache: files written to a cloud drive wait here until uploaded. It must lie on the data
    # disk, never the system disk (a Pi's SD card wears out and fills up): see docs/remotes.md.
    REMOTES_CACHE_DIR = env_path("REMOTES_CACHE_DIR", DATA_DIR / "remotes" / "cache")
    # Generated rclone configs and credential files (0600) in a folder of mode 0700.
    REMOTES_CONFIG_DIR = env_path("REMOTES_CONFIG_DIR", DATA_DIR / "remotes" / "config")
    # Seconds a server gets to answer before its remote is "missing" (start-up never waits longer per remote).
    REMOTES_CONNECT_TIMEOUT = env_int("REMOTES_CONNECT_TIMEOUT", 10)
    REMOTES_RCLONE = env_str("REMOTES_RCLONE", "rclone")  # the rclone program (Debian's)
except ConfigError as exc:
    _fail(str(exc))
# One look per minute: mounts that died are mounted again, missing servers retried, due sync jobs started.
CELERY_BEAT_SCHEDULE["remotes-watch"] = {"task": "remotes.watch", "schedule": 60.0}
CELERY_BEAT_SCHEDULE["remotes-sync-due"] = {"task": "remotes.sync_due", "schedule": 60.0}
REMOTES_GROUP = "remotes"  # the Channels group that mount states and sync progress are published to

# ---------------------------------------------------------------------------- notifications (notifications/)
try:
    NOTIFY_KEEP_DAYS = env_int("NOTIFY_KEEP_DAYS", 90)  # notifications and deliveries older than this are deleted
    # Web Push endpoints are URLs a browser hands us: only the push services' hosts are called (no SSRF door).
    NOTIFY_PUSH_HOSTS = env_list(
        "NOTIFY_PUSH_HOSTS",
        (
            "fcm.googleapis.com",
            "updates.push.services.mozilla.com",
            "web.push.apple.com",
            "*.notify.windows.com",
            "*.push.apple.com",
        ),
    )
    # Plain-HTTP push endpoints (a local push relay, the tests' receiver); real push services speak HTTPS only.
    NOTIFY_PUSH_HTTP = env_bool("NOTIFY_PUSH_HTTP", False)
    # The address people open from an email or a push message (e.g. https://home.example); links stay relative
    # without it. The contact is what push services may write to about our messages (VAPID's "sub").
    NOTIFY_SITE_URL = env_str("NOTIFY_SITE_URL", "").rstrip("/")
    NOTIFY_PUSH_CONTACT = env_str("NOTIFY_PUSH_CONTACT", "mailto:casaos@example.invalid")
    NOTIFY_RETRIES = env_int("NOTIFY_RETRIES", 5)  # attempts of a failing channel, with backoff, before giving up
    NOTIFY_RETRY_SECONDS = env_int("NOTIFY_RETRY_SECONDS", 30)  # the first retry's delay; doubled at each attempt
    NOTIFY_SEND_TIMEOUT = env_int("NOTIFY_SEND_TIMEOUT", 15)  # seconds an SMTP server or a web hook may take
except ConfigError as exc:
    _fail(str(exc))
CELERY_BEAT_SCHEDULE["notifications-cleanup"] = {"task": "notifications.cleanup", "schedule": 24 * 3600.0}
# Where the clean-shutdown marker lives: present while we run, so finding it at start means we did not stop cleanly.
NOTIFY_RUNNING_MARKER = DATA_DIR / "running"

# ---------------------------------------------------------------------------- monitoring (metrics history, /metrics)
try:
    # Ring files of the metrics history (docs/monitoring.md): about 200 KB per series, whatever the uptime.
    METRICS_DIR = env_path("METRICS_DIR", DATA_DIR / "metrics")
    # At most this many series (207,360 bytes each): the store's bound, whatever gets mounted or installed.
    METRICS_MAX_SERIES = env_int("METRICS_MAX_SERIES", 300)
    # Addresses or networks (CIDR) that may read /metrics without a token: a Prometheus on the LAN.
    METRICS_SCRAPERS = env_list("METRICS_SCRAPERS")
    for _scraper in METRICS_SCRAPERS:
        try:
            ipaddress.ip_network(_scraper, strict=False)
        except ValueError as exc:
            raise ConfigError(f"CASAOS_METRICS_SCRAPERS: {exc}") from None
except ConfigError as exc:
    _fail(str(exc))

# ---------------------------------------------------------------------------- shares (shares/: SMB with Samba)
try:
    # The host's smb.conf: we add one line to it, `include = <SAMBA_INCLUDE>`, once, and never touch the rest.
    SAMBA_CONF = env_path("SAMBA_CONF", Path("/etc/samba/smb.conf"))
    SAMBA_INCLUDE = env_path("SAMBA_INCLUDE", Path("/etc/samba/casaos-shares.conf"))  # ours, made from the database
    # Files written over SMB belong to this user and its group (made with useradd --system when missing); files the
    # file manager writes are handed to them too, so both sides read and write the same files (docs/shares.md).
    SHARES_USER = env_str("SHARES_USER", "casaos-share")
    # The Avahi service file that announces the shares (_smb._tcp) and the box (_device-info._tcp) on the LAN.
    SHARES_AVAHI_SERVICE = env_path("SHARES_AVAHI_SERVICE", Path("/etc/avahi/services/casaos-smb.service"))
except ConfigError as exc:
    _fail(str(exc))
SHARES_GROUP = "shares"  # the Channels group that share states are published to

# ---------------------------------------------------------------------------- system (Settings → System, Logs page)
# Host commands (host name, time zone, restart, shut down) go through system/host.py: SYSTEM_HOST_ROOT is where the
# host's files are, SYSTEM_HOST_WRAPPER an argv put before every command that changes the machine (tests: a recorder).
try:
    SYSTEM_HOST_ROOT = env_path("SYSTEM_HOST_ROOT", Path("/"))
    SYSTEM_HOST_WRAPPER = env_list("SYSTEM_HOST_WRAPPER")
    # Off by default (the box may be offline): a JSON feed of releases, looked at when the System page asks.
    SYSTEM_RELEASE_FEED_URL = env_str("RELEASE_FEED_URL", "")
    SYSTEM_RELEASE_TIMEOUT = env_int("RELEASE_TIMEOUT", 5)  # seconds for the whole fetch
    SYSTEM_LOG_MAX_BYTES = env_int("LOG_MAX_BYTES", 5 * 1024**2)  # per process file, then rotated
    SYSTEM_LOG_BACKUPS = env_int("LOG_BACKUPS", 3)  # rotated files kept per process
except ConfigError as exc:
    _fail(str(exc))
# ---------------------------------------------------------------------------- network (the Network page, network/)
# Reads go through `ip -j`, /sys and resolv.conf; changes through NetworkManager (nmcli, and gdbus for checkpoints).
try:
    NETWORK_HOST_PREFIX = env_list("NETWORK_HOST_PREFIX")  # an argv before every read (tests: `ip netns exec <ns>`)
    NETWORK_DBUS_ADDRESS = env_str("NETWORK_DBUS_ADDRESS", "")  # "" = the system bus, where NetworkManager lives
    # An unconfirmed interface change is rolled back by NetworkManager after this many seconds (Cockpit's 60).
    NETWORK_ROLLBACK_SECONDS = env_int("NETWORK_ROLLBACK_SECONDS", 60)
    if not 10 <= NETWORK_ROLLBACK_SECONDS <= 600:
        raise ConfigError("CASAOS_NETWORK_ROLLBACK_SECONDS must be between 10 and 600")
except ConfigError as exc:
    _fail(str(exc))
NETWORK_GROUP = "network"  # the Channels group interface changes are published to
CELERY_BEAT_SCHEDULE["network-expire"] = {"task": "network.expire_overdue", "schedule": 30.0}


# ---------------------------------------------------------------------------- firewall (firewall/, docs/firewall.md)
# Our own nftables table (`table inet casaos`): app ports and the admin port answer the LAN only, public apps
# everyone. Off by default (a try-out must not change a host's firewall); off removes our table again.
try:
    FIREWALL = env_bool("FIREWALL", False)
    # Who counts as the LAN: "auto" = the private subnets the box is connected to (RFC 1918, IPv6 ULA and
    # link-local), read from its interfaces at each apply; or a list of CIDRs.
    FIREWALL_LAN = env_list("FIREWALL_LAN", ("auto",))
    for _cidr in FIREWALL_LAN:
        if _cidr != "auto":
            ipaddress.ip_network(_cidr, strict=False)
    # The admin UI's ports (LAN-only whatever the apps say): the port of CASAOS_BIND unless given.
    FIREWALL_ADMIN_PORTS = [int(p) for p in env_list("FIREWALL_ADMIN_PORTS", (BIND.rpartition(":")[2],))]
    if not all(1 <= p <= 65535 for p in FIREWALL_ADMIN_PORTS):
        raise ConfigError("CASAOS_FIREWALL_ADMIN_PORTS must be ports between 1 and 65535")
except ConfigError as exc:
    _fail(str(exc))
except ValueError as exc:
    _fail(f"CASAOS_FIREWALL_LAN / CASAOS_FIREWALL_ADMIN_PORTS: {exc}")
# Re-applied now and then as well: the LAN's subnets follow the interfaces (DHCP), and a reboot empties nftables.
CELERY_BEAT_SCHEDULE["firewall-apply"] = {"task": "firewall.apply", "schedule": 300.0}

with (BASE_DIR / "pyproject.toml").open("rb") as _project:
    CASAOS_VERSION = tomllib.load(_project)["project"]["version"]
# The structured log the Logs page reads: JSON lines, a file per process (system/logs.py says why).
LOGGING["formatters"]["json"] = {"()": "system.logs.JsonFormatter"}
LOGGING["handlers"]["json"] = {
    "()": "system.logs.ProcessFileHandler",
    "directory": str(LOG_DIR),
    "maxBytes": SYSTEM_LOG_MAX_BYTES,
    "backupCount": SYSTEM_LOG_BACKUPS,
    "formatter": "json",
}
LOGGING["root"]["handlers"].append("json")

# ---------------------------------------------------------------------------- backups (backups/, docs/backups.md)
# restic repositories, backup jobs and restores. One beat task a minute starts the jobs and the repository checks
# whose cron schedules came due (each job and repository keeps its own schedule in the database).
CELERY_BEAT_SCHEDULE["backups-tick"] = {"task": "backups.tick", "schedule": 60.0}
BACKUPS_GROUP = "backups"  # the Channels group of the Backups page: runs' progress and results

# ---------------------------------------------------------------------------- VPN (vpn/, docs/vpn.md)
# One WireGuard interface, made and configured by the worker (ip, wg, and wireguard-go where the kernel has no
# WireGuard). The range and the port are the defaults of the VPN page's settings; the server's private key is a 0600
# file under the data directory, never in the database.
try:
    VPN_INTERFACE = env_str("VPN_INTERFACE", "casaos-wg")
    VPN_ADDRESS = env_str("VPN_ADDRESS", "10.77.0.1/24")
    VPN_PORT = env_int("VPN_PORT", 51820)
    VPN_KEY_DIR = env_path("VPN_KEY_DIR", DATA_DIR / "vpn")
    # An argv before every WireGuard command: `ip netns exec <ns>` runs the interface in a namespace (the tests do);
    # the tests' recorder keeps a host from changing at all.
    VPN_HOST_PREFIX = env_list("VPN_HOST_PREFIX")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}", VPN_INTERFACE):
        raise ConfigError("CASAOS_VPN_INTERFACE must be an interface name: 1-15 letters, digits, '_', '.', '-'")
    if not 1 <= VPN_PORT <= 65535:
        raise ConfigError("CASAOS_VPN_PORT must be between 1 and 65535")
except ConfigError as exc:
    _fail(str(exc))
VPN_GROUP = "vpn"  # the Channels group the apply's state is published to
# ---------------------------------------------------------------------------- proxy (proxy/, docs/proxy.md)
# Caddy in front of the admin and the apps: HTTPS, app addresses (<name>.<domain>) and our login before apps.
# Off by default (a try-out serves plain HTTP on CASAOS_BIND); CASAOS_PROXY=1 makes `make run` start Caddy too.
try:
    PROXY = env_bool("PROXY", False)
    PROXY_HTTP_PORT = env_int("PROXY_HTTP_PORT", 80)
    PROXY_HTTPS_PORT = env_int("PROXY_HTTPS_PORT", 443)
    PROXY_LISTEN = env_str("PROXY_LISTEN", "")  # the address Caddy listens on; empty: every interface
    PROXY_DIR = env_path("PROXY_DIR", DATA_DIR / "caddy")  # certificates, the internal CA, the admin socket
    PROXY_AUTH_CACHE = env_int("PROXY_AUTH_CACHE", 10)  # seconds a forward-auth decision is kept per app session
    PROXY_SSO_DAYS = env_int("PROXY_SSO_DAYS", 1)  # an app's login lasts this long (and never past the admin's)
except ConfigError as exc:
    _fail(str(exc))
PROXY_ADMIN_SOCKET = PROXY_DIR / "admin.sock"
if PROXY:
    # Caddy on this box is the proxy in front of us: it replaces any X-Forwarded-For/-Proto a visitor sent, so
    # what it says is believed (the client's address for lockouts, HTTPS for secure cookies and HSTS).
    if "127.0.0.1" not in TRUSTED_PROXIES:
        TRUSTED_PROXIES = [*TRUSTED_PROXIES, "127.0.0.1"]
        REST_FRAMEWORK["NUM_PROXIES"] += 1  # Caddy is one more hop in front of us
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HSTS is sent on HTTPS requests only, so it follows the proxy's HTTPS switch (docs/proxy.md); secure cookies
    # likewise (proxy.middleware.SecureCookies). CASAOS_HTTPS=1 still forces both everywhere.
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# After SecurityMiddleware in the list, so it sees the cookies every later middleware set on the way out.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "proxy.middleware.SecureCookies"
)
CELERY_BEAT_SCHEDULE["proxy-cleanup"] = {"task": "proxy.cleanup", "schedule": 3600.0}
# ---------------------------------------------------------------------------- nodes (nodes/, docs/multi-node.md)
# Docker Swarm mode on the engine of ENGINE_URL: this box a manager, other machines joined as nodes.
try:
    # "Make this box a manager" may run `swarm init` (the test suite turns it off: its engine must stay a plain one).
    NODES_INIT = env_bool("NODES_INIT", True)
    NODES_ACTIVE_CACHE = env_int("NODES_ACTIVE_CACHE", 5)  # seconds "is this box a swarm manager" is remembered
except ConfigError as exc:
    _fail(str(exc))
NODES_GROUP = "nodes"  # the Channels group of the Nodes page: the init's progress and node changes
