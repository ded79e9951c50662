#!/usr/bin/env bash
# Makes sure the Debian packages are installed that building the firmware for lin
# (`mcconfig -m -p lin`) and running it in the Moddable simulator headless take (the SDK's
# README): gcc make pkg-config libglib2.0-dev for the build, libgtk-3-0 and xvfb for mcsim.
# Quiet and exit 0 when all are there; installs the missing ones when running as root with
# apt-get; otherwise says what to install and exits 1.
set -euo pipefail

packages=(gcc make pkg-config libglib2.0-dev libgtk-3-0 xvfb)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-moddable-packages: missing ${missing[*]}." >&2
  echo "  Install them as root, e.g. on Debian/Ubuntu:" >&2
  echo "    apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "ensure-moddable-packages: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ensure-moddable-packages: installed ${missing[*]}" >&2
