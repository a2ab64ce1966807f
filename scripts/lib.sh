# Shared helpers for the set-up scripts (sourced, not run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="${CASAOS_DATA_DIR:-$ROOT/var}"
RUN_DIR="$VAR/run"
mkdir -p "$RUN_DIR" "$VAR/logs"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'casaos: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else die "need root for: $*"; fi
}

# Debian packages pip needs to build our compiled dependencies on this machine (`uname -m`), one per line; none
# where PyPI has wheels (x86_64, aarch64). armhf (32-bit Raspberry Pi OS) has no wheels for ten of them, so pip
# builds them there; psycopg runs in pure Python on the system's libpq (docs/performance.md, "CPU architectures").
build_deps() {
  case "$1" in
    armv6l | armv7l | armv8l | armhf) printf '%s\n' build-essential python3-dev libffi-dev libyaml-dev libjpeg-dev zlib1g-dev libpq5 ;;
  esac
}

APT_UPDATED=""
apt_install() {
  # Installs only the Debian packages that are missing; a second run does nothing.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

warn() { printf 'casaos: warning: %s\n' "$*" >&2; }

poll() {
  # poll seconds command...: true once the command succeeds, false when the time is up.
  local seconds="$1"; shift
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

wait_for() {
  # wait_for "description" seconds command...: polls until the command succeeds, or stops the set-up.
  local what="$1" seconds="$2"; shift 2
  poll "$seconds" "$@" || die "$what did not come up within ${seconds}s"
}

redis_url() { echo "${CASAOS_REDIS_URL:-redis://127.0.0.1:6379/0}"; }
engine_url() { echo "${CASAOS_ENGINE_URL:-unix:///var/run/docker.sock}"; }
