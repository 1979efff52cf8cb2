#!/usr/bin/env bash
# healthd in two minutes, on one Debian 12 machine, all on loopback:
#
#   sudo bash examples/demo.sh
#
# Installs what is missing (build tools, libraries, exabgp, bird2, nginx-light),
# builds healthd, then runs a small lab: nginx is the service on 127.0.0.1, ExaBGP
# (127.0.0.2) runs healthd and announces the service's address to BIRD (127.0.0.3).
# You watch the route in BIRD go away when nginx stops and come back when it
# starts. Everything it starts is stopped at the end; nothing touches the host's
# routing table (BIRD here has no kernel protocol) or the default ports.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=203.0.113.80/32

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() {
	printf '\n'
	bold "== $*"
}
die() {
	printf '\ndemo: %s\n' "$*" >&2
	it_diag 2>/dev/null
	exit 1
}
# show CMD...: print a command as a user would type it, then its output, indented.
show() {
	printf '   $ %s\n' "$*"
	"$@" 2>&1 | sed 's/^/     /'
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run it as root: sudo bash examples/demo.sh" >&2
	exit 1
fi

step "1. Packages"
bash "$ROOT/tests/deps.sh" build-essential pkg-config libevent-dev libjansson-dev \
	libcurl4-openssl-dev libssl-dev libldns-dev check exabgp bird2 nginx-light iproute2 procps ||
	die "could not install the packages"

step "2. Build"
# BIN is named because ./healthd is the source directory (and build/healthd/ holds
# its objects).
mkdir -p "$ROOT/build/bin"
make -C "$ROOT" -j2 BUILD=build BIN=build/bin/healthd >"$ROOT/build-demo.log" 2>&1 ||
	{
		tail -n 30 "$ROOT/build-demo.log" >&2
		die "make failed (full log: build-demo.log)"
	}
rm -f "$ROOT/build-demo.log"
HEALTHD=$ROOT/build/bin/healthd
echo "   built $HEALTHD ($("$HEALTHD" version 2>/dev/null))"

# shellcheck source-path=SCRIPTDIR source=../tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
it_init

step "3. The lab (everything under $T)"
start_nginx || die "nginx did not start"
echo "   nginx     listens on $SERVICE_ADDR:$NGINX_PORT (the service)"
start_bird || die "BIRD did not start"
echo "   BIRD      AS $BIRD_AS on $BIRD_ADDR:$BGP_PORT, control socket $BIRD_SOCK"
cat >"$T/healthd.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "1s", "fast_interval": "200ms", "timeout": "500ms", "rise": 2, "fall": 2 },
	"services": [
		{
			"name": "web",
			"prefixes": [ "$PREFIX" ],
			"announce": { "next_hop": "self", "med": 100, "communities": [ "65000:80" ] },
			"checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT } ]
		}
	]
}
EOF
"$HEALTHD" check -c "$T/healthd.json" >/dev/null || die "healthd refused its configuration"
start_exabgp "$HEALTHD run -c $T/healthd.json"
echo "   ExaBGP    AS $EXA_AS on $EXA_ADDR, runs: healthd run -c $T/healthd.json"
echo
echo "   healthd.json:"
sed 's/^/     /' "$T/healthd.json"
echo "   exabgp.conf (process stanza):"
sed -n '/^process/,/^}/p' "$T/exabgp.conf" | sed 's/^/     /'
wait_established 20 || die "the BGP session ExaBGP -> BIRD did not come up"
echo "   BGP session ExaBGP -> BIRD: Established"

step "4. nginx is healthy: BIRD has the route"
wait_route_present "$PREFIX" 15 || die "the route did not appear in BIRD"
echo "   announced ${ELAPSED}s after the session came up (rise = 2 good checks)"
show birdc -s "$BIRD_SOCK" show route all "$PREFIX"
echo "   ('unreachable': this lab's BIRD cannot resolve the loopback next hop $EXA_ADDR;"
echo "    the route itself, with its MED and community, is what ExaBGP sent.)"

step "5. Stop nginx: healthd withdraws the route"
stop_nginx || die "nginx did not stop"
echo "   nginx stopped"
wait_route_absent "$PREFIX" 15 || die "the route is still in BIRD"
echo "   withdrawn ${ELAPSED}s later (the next check fails within 1s, then fall = 2 failed checks 200ms apart)"
show birdc -s "$BIRD_SOCK" show route "$PREFIX"

step "6. Start nginx again: the route comes back"
start_nginx || die "nginx did not start again"
echo "   nginx started"
wait_route_present "$PREFIX" 15 || die "the route did not come back"
echo "   announced again ${ELAPSED}s later"
show birdc -s "$BIRD_SOCK" show route "$PREFIX"

step "7. Clean up"
find_helper 2 >/dev/null
stop_exabgp 5
echo "   ExaBGP stopped (it told healthd to shut down)"
echo "   nginx, BIRD and $T go next"
echo
bold "Done. Next: examples/ has configs to start from; 'healthd help' lists the commands."
