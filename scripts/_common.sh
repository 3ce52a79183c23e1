# Shared by scripts/quickstart and scripts/test: system packages, virtualenv, install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${FIELDKIT_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

# What each system package is for:
#   libportaudio2      sounddevice's audio I/O library (recording, playback)
#   libsndfile1        soundfile's codec library (FLAC/WAV read and write)
#   espeak-ng, sox     speech synthesis and conversion for the tests' spoken audio
#   pulseaudio, pulseaudio-utils, libasound2-plugins
#                      the tests' real-time virtual microphone (null sink + paplay)
#   tmux               the end-to-end smoke test drives the real app in tmux
#   postgresql         the team-server tests start a throwaway PostgreSQL 15 (initdb in a
#                      temporary folder, 127.0.0.1 only; as root it runs as the postgres user)
#   python3-venv       creating the virtualenv on Debian/Ubuntu
APT_RUNTIME=(libportaudio2 libsndfile1)
APT_TEST=(espeak-ng sox pulseaudio pulseaudio-utils libasound2-plugins tmux postgresql)

need_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    # not Debian/Ubuntu: say what to install; the tests that need it skip and name it
    echo "==> Please install with your package manager: ${missing[*]} (continuing without them)" >&2
    return 0
  fi
  echo "==> Installing system packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> Creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.fieldkit-installed-$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    echo "==> Installing fieldkit[$extras] (first time: a few minutes, ~300 MB of offline models)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}
