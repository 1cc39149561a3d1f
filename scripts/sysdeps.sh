#!/usr/bin/env bash
# Installs the Debian packages otemachi needs when run as root on Debian; otherwise says what
# is missing and how to install it. `sysdeps.sh venv` checks only that Python can make a venv.
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
if [ "${1:-}" = venv ]; then
  need=()
  "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
  PACKAGES=("${need[@]+"${need[@]}"}")
else
  # Debian packages the systems use: markets' Redis bus, signatures' PostgreSQL store,
  # picking's voices (espeak-ng speaks questions; espeak-ng and festival speak the recogniser's
  # training speech; flite is a third synthesiser the speech benchmark tests on), and the browser
  # the web app's tests drive (Playwright cannot download its own here)
  PACKAGES=(redis-server postgresql espeak-ng festival festvox-kallpc16k festvox-us-slt-hts flite
            chromium)
fi

missing=()
for pkg in "${PACKAGES[@]+"${PACKAGES[@]}"}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
  echo "missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
