#!/usr/bin/env bash
# Makes sure Dovecot's POP3 server is installed for host-tests/servers (the tests start their
# own private Dovecot from a generated config; the system service is never used).
# Quiet and exit 0 when /usr/sbin/dovecot already exists; installs dovecot-pop3d when running
# as root with apt-get; otherwise says what to install and exits 1.
set -euo pipefail

if [ -x /usr/sbin/dovecot ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-dovecot: /usr/sbin/dovecot is missing." >&2
  echo "  Install Dovecot's POP3 server as root, e.g. on Debian/Ubuntu:" >&2
  echo "    apt-get install dovecot-pop3d" >&2
  echo "  (the mail-server tests run Dovecot themselves as root from a private config)." >&2
  exit 1
fi

echo "ensure-dovecot: installing dovecot-pop3d with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 tells invoke-rc.d not to start the system service during installation;
# only install it for the duration if the admin has none of their own.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
fi
remove_policy() { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap remove_policy EXIT

apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends dovecot-pop3d >/dev/null

# Belt and braces: if a service manager still started the system dovecot, stop it so it holds
# no ports and leaves no process behind (the tests never use it).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
  systemctl stop dovecot >/dev/null 2>&1 || true
  systemctl disable dovecot >/dev/null 2>&1 || true
fi
if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  kill "$(cat /run/dovecot/master.pid)"
fi

if [ ! -x /usr/sbin/dovecot ]; then
  echo "ensure-dovecot: dovecot-pop3d installed but /usr/sbin/dovecot is still missing" >&2
  exit 1
fi
echo "ensure-dovecot: dovecot $(/usr/sbin/dovecot --version) installed" >&2
