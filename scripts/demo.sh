#!/usr/bin/env bash
# Runs Lifebuoy with demo data on this machine: `scripts/demo.sh [more serve flags]`. Installs what the product
# needs beyond the binary where it is missing (the CJK font its PDF exports are set in: Debian's
# fonts-noto-cjk), then builds and serves. Everything else (SQLite, the search index, files) is embedded.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! fc-list 2>/dev/null | grep -qi 'noto sans cjk'; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing fonts-noto-cjk (Chinese text in PDF exports)"
    as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq fonts-noto-cjk >/dev/null
  else
    echo "!! no Noto Sans CJK font found: PDF exports will say so until one is installed (or LIFEBUOY_PDF_FONT names one)"
  fi
fi
exec cargo run --release -p lifebuoy -- serve --demo "$@"
