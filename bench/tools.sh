#!/usr/bin/env bash
# What `make bench` runs besides Python: PostgreSQL's binaries (a throwaway server), wrk, nginx
# and Redis, all from Debian's packages. Installs the missing ones when run as root; otherwise
# names them and stops.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || test -x /usr/sbin/nginx || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "make bench needs these Debian packages: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts the packaged services; the bench runs its own on free ports.
for service in nginx redis-server; do
  if command -v systemctl >/dev/null; then systemctl stop "$service" 2>/dev/null || true; fi
  service "$service" stop 2>/dev/null || true
done
