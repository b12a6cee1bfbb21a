#!/usr/bin/env bash
# Usage: system-deps.sh package:path-that-proves-it-is-installed ...
# Installs missing Debian packages with apt-get when run as root; otherwise names them and fails.
set -euo pipefail
missing=()
for spec in "$@"; do
  pkg=${spec%%:*}
  probe=${spec#*:}
  if [[ "$probe" == /* ]]; then
    [[ -e "$probe" ]] || missing+=("$pkg")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
