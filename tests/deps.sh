#!/usr/bin/env bash
# Installs the Debian packages that building and testing healthd need, when missing.
#
#   bash tests/deps.sh            # everything: build, unit, integration, fuzz
#   bash tests/deps.sh PKG...     # only these packages
#
# As root: "apt-get update" (only when something is missing), then one
# "apt-get install". Not root: prints the apt-get line to run, exits 1.
# Package scripts are not allowed to start nginx, BIRD or ExaBGP on their default
# ports (a temporary policy-rc.d answers 101), so nothing is left running.
set -eu

DEFAULT_PKGS=(
	build-essential pkg-config libevent-dev libjansson-dev libcurl4-openssl-dev libssl-dev libldns-dev check
	exabgp bird2 gobgpd frr nginx-light iproute2 procps
	knot knot-dnsutils
	openssl ca-certificates python3 curl
	prometheus python3-prometheus-client
	clang libclang-rt-dev
	man-db groff-base systemd prometheus
	debhelper lintian fakeroot
	strace
	faketime
)
if [ $# -gt 0 ]; then PKGS=("$@"); else PKGS=("${DEFAULT_PKGS[@]}"); fi

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing: ${missing[*]}; as root, run:" >&2
	echo "sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
	exit 1
fi

# Daemons of these packages that may run already (the operator's own): left alone.
running_before() { pgrep -x "$1" >/dev/null 2>&1; }
declare -A before=()
FRR_DAEMONS="watchfrr zebra bgpd staticd"
for d in nginx bird exabgp $FRR_DAEMONS; do running_before "$d" && before[$d]=1; done

POLICY=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
	if [ "$made_policy" = 1 ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# healthd tests/deps.sh: no service starts during package installation\nexit 101\n' >"$POLICY"
	chmod 755 "$POLICY"
	made_policy=1
fi

echo "deps: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"

# Belt and braces: a daemon that a package script started anyway (it was not
# running before) is stopped through the package's own pid file.
for d in nginx bird exabgp $FRR_DAEMONS; do
	[ -n "${before[$d]:-}" ] && continue
	for pf in "/run/$d.pid" "/run/$d/$d.pid" "/var/run/$d.pid" "/var/run/$d/$d.pid" "/run/frr/$d.pid"; do
		[ -s "$pf" ] || continue
		pid=$(cat "$pf")
		case $pid in '' | *[!0-9]*) continue ;; esac
		if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$d" ]; then
			echo "deps: stopping $d (pid $pid) that its package started"
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
done

still=()
for p in "${missing[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps: installed ${#missing[@]} packages"
