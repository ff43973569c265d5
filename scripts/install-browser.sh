#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the end-to-end browser tests, if missing.
# Needs root (apt-get); elsewhere it says what to install and the browser tests skip.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium/chromium-driver missing and not root: browser tests will be skipped" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
