#!/usr/bin/env bash
# Installs the system packages viva builds and runs with. Idempotent: it only installs what is
# missing, and says clearly what to do when it lacks the rights to install.
set -euo pipefail

# Build: cmake + a C/C++ compiler for whisper.cpp, libclang for bindgen, libopus for Opus,
# libespeak-ng for the interviewer voice's phonemes. Run: espeak-ng data. Tests: sox, chromium.
PACKAGES=(build-essential cmake clang libclang-dev pkg-config libopus-dev espeak-ng libespeak-ng-dev sox python3 python3-pip)
if [[ "${VIVA_SETUP_BROWSER:-1}" == 1 ]]; then
  PACKAGES+=(chromium)
  # node + npm drive the browser tests (tests/browser); any node >= 18 on PATH will do.
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3-pip is only needed when no pip is on PATH (e.g. pyenv brings its own).
if python3 -m pip --version >/dev/null 2>&1; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == python3-pip || "$p" == python3 ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing packages: ${missing[*]}" >&2
    echo "setup: this is not a Debian/Ubuntu system; install the equivalents with your package manager." >&2
    exit 1
  fi
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO="sudo"
    else
      echo "setup: missing packages: ${missing[*]}" >&2
      echo "setup: installing them needs root. Run: sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install Rust (stable) with rustup, then rerun." >&2
  exit 1
fi

# The browser tests' npm packages (playwright-core drives the system chromium; axe-core checks
# accessibility), exactly as locked. Skipped when the lock file did not change since the last
# install; without a registry it says so and goes on (the browser test then reports it).
if [[ "${VIVA_SETUP_BROWSER:-1}" == 1 ]] && command -v npm >/dev/null 2>&1; then
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/browser"
  stamp="$dir/node_modules/.viva-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "setup: browser test packages present"
  elif (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error); then
    echo "$want" > "$stamp"
    echo "setup: browser test packages installed (tests/browser)"
  else
    echo "setup: could not install the browser test packages (npm ci in tests/browser); the browser tests will not run" >&2
  fi
fi

# The S3-compatible server the object-store tests talk to (moto's standalone server, from PyPI,
# in its own virtual environment). Idempotent: skipped when the pinned version is installed.
MOTO_VERSION=5.2.5
venv="${VIVA_S3_VENV:-$HOME/.cache/viva/moto-venv}"
if [[ -x "$venv/bin/moto_server" ]] && "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('moto') != '$MOTO_VERSION')" 2>/dev/null; then
  echo "setup: S3 test server present ($venv)"
elif python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q "moto[server]==$MOTO_VERSION"; then
  echo "setup: S3 test server installed (moto $MOTO_VERSION in $venv)"
else
  echo "setup: could not install the S3 test server (moto[server] into $venv); the object-store tests will fail under make test" >&2
fi
