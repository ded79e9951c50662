#!/usr/bin/env bash
# Makes sure Dovecot's POP3 server can run for sim/servers (the tests, the simulator and
# the demo start their own private Dovecot, as root, from a generated config; the system service
# is never used). `npm test` and `npm start` run it first.
#   exit 0  Dovecot is there and this is root (quiet), or it was just installed with apt-get
#   exit 2  it cannot run or be installed here; one line on stderr says what to do
#   exit 1  the installation failed
# SIMMAIL_DOVECOT names the binary (default /usr/sbin/dovecot, the only place apt-get puts it).
set -euo pipefail

default=/usr/sbin/dovecot
dovecot=${SIMMAIL_DOVECOT:-$default}

if [ -x "$dovecot" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    exit 0
  fi
  echo "ensure-dovecot: $dovecot is installed, but simmail runs its private Dovecot as root; run as root" >&2
  exit 2
fi
if [ "$dovecot" != "$default" ]; then
  echo "ensure-dovecot: SIMMAIL_DOVECOT=$dovecot does not exist (apt-get would install $default)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-dovecot: $default is missing and this is not root; as root: apt-get install dovecot-pop3d" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-dovecot: $default is missing and there is no apt-get; install Dovecot's POP3 server with this system's package manager" >&2
  exit 2
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

if ! apt-get update -qq >/dev/null || ! apt-get install -y -qq --no-install-recommends dovecot-pop3d >/dev/null; then
  echo "ensure-dovecot: apt-get could not install dovecot-pop3d (see its messages above)" >&2
  exit 1
fi

# Belt and braces: if a service manager still started the system dovecot, stop it so it holds
# no ports and leaves no process behind (the tests never use it).
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet dovecot 2>/dev/null; then
  systemctl stop dovecot >/dev/null 2>&1 || true
  systemctl disable dovecot >/dev/null 2>&1 || true
fi
if [ -f /run/dovecot/master.pid ] && kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
  kill "$(cat /run/dovecot/master.pid)"
fi

if [ ! -x "$default" ]; then
  echo "ensure-dovecot: dovecot-pop3d installed but $default is still missing" >&2
  exit 1
fi
echo "ensure-dovecot: dovecot $("$default" --version) installed" >&2
