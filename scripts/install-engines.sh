#!/usr/bin/env bash
# Installs the cache engines cachectl drives, from Debian's packages, when they are missing:
#   scripts/install-engines.sh [varnish] [nginx] [ats]      (no argument: all three)
# Needs root (apt-get). No service is started: while installing, a policy-rc.d forbids it, so the
# packages' default instances never take the standard ports; cachectl starts its own instances.
set -euo pipefail
engines=("$@")
[ ${#engines[@]} -eq 0 ] && engines=(varnish nginx ats)
pkgs=()
for e in "${engines[@]}"; do
  case "$e" in
    varnish) pkgs+=(varnish varnish-modules gcc libc6-dev) ;;   # VCL is compiled to C at load time
    nginx) pkgs+=(nginx libnginx-mod-http-cache-purge) ;;
    ats) pkgs+=(trafficserver) ;;
    *) echo "install-engines: unknown engine '$e' (varnish, nginx, ats)" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
fi
trap '[ $added_policy = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
