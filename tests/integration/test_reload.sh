#!/usr/bin/env bash
# Reload (SIGHUP), judged at a real BIRD peer of a real ExaBGP that runs healthd:
#   the same file again: no route changes (BIRD's import time of every route stays);
#   a file with an error: nothing changes, healthd keeps running, the error is logged
#   with file:line:col;
#   a new file: an added service appears, a removed one disappears, a changed MED is
#   seen at the peer, an unchanged service's route is not touched;
#   a new file whose speaker section differs: refused, nothing changes.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_reload.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need exabgp bird birdc nginx
it_need_healthd

KEEP=203.0.113.90/32 CHANGE=203.0.113.91/32 GONE=203.0.113.92/32 ADDED=203.0.113.93/32

start_nginx || {
	not_ok "nginx starts"
	it_finish
	exit
}
start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}

# service NAME PREFIX MED: one service checked against nginx.
service() {
	cat <<EOF
		{ "name": "$1", "prefixes": [ "$2" ], "announce": { "next_hop": "self", "med": $3 },
		  "checks": [ { "type": "tcp", "host": "$SERVICE_ADDR", "port": $NGINX_PORT } ] }
EOF
}
# write_config FILE SERVICE-TEXT...: a config of these services.
write_config() {
	local f=$1 sep="" s
	shift
	{
		printf '{\n\t"speaker": { "type": "exabgp" },\n'
		printf '\t"defaults": { "interval": "500ms", "fast_interval": "100ms", "timeout": "300ms", "rise": 2, "fall": 2 },\n'
		printf '\t"services": [\n'
		for s in "$@"; do
			printf '%s%s' "$sep" "$s"
			sep=$',\n'
		done
		printf '\n\t]\n}\n'
	} >"$f.tmp" && mv "$f.tmp" "$f"
}

CFG=$T/healthd.json
write_config "$CFG" "$(service keep "$KEEP" 100)" "$(service change "$CHANGE" 100)" \
	"$(service gone "$GONE" 100)"
start_exabgp "$HEALTHD run -d -c $CFG"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session ExaBGP - BIRD established"
for p in "$KEEP" "$CHANGE" "$GONE"; do
	check "$p announced at start" wait_route_present "$p" 15
done

# The time BIRD imported a route: changes with every UPDATE for it.
med_of() { birdc_ show route "$1" all 2>/dev/null | awk '/BGP.med:/ { print $2; exit }'; }
log_count() { grep -c -- "$1" "$T/exabgp.out" 2>/dev/null; }
# wait_log TEXT N TIMEOUT_S: the helper's log has at least N lines with TEXT.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(log_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

sleep 1.2 # a route imported again after this reads more than a second later (route_same)
keep0=$(route_line "$KEEP") change0=$(route_line "$CHANGE")
# What healthd wrote to ExaBGP (-d logs each line): ExaBGP itself would hide a repeated
# announce from BIRD, so these counts are the real proof that nothing was sent.
sent() { grep -c -- "exabgp <- .* route $1" "$T/exabgp.out" 2>/dev/null; }
keep_sent=$(sent "$KEEP") change_sent=$(sent "$CHANGE")

# 1. The same file again.
n=$(log_count "reload: ")
kill -HUP "$HEALTHD_PID"
check "same file: reload logged as 3 unchanged" wait_log "reload: 3 unchanged, 0 changed, 0 added, 0 removed" 1 5
sleep 2
if [ "$(sent "$KEEP")" = "$keep_sent" ] && [ "$(sent "$CHANGE")" = "$change_sent" ]; then
	ok "same file: nothing written to ExaBGP"
else
	not_ok "same file: nothing written to ExaBGP" "$(grep -- "exabgp <- " "$T/exabgp.out" | tail -n 4)"
fi
if route_same "$KEEP" "$keep0" && route_same "$CHANGE" "$change0"; then
	ok "same file: no route changed at the peer"
else
	not_ok "same file: no route changed at the peer" "before: $keep0" "before: $change0" "${ROUTE_READS[@]}"
fi

# 2. A file with an error: a typo in a key.
cp "$CFG" "$T/good.json"
sed -i '0,/"port"/s//"prot"/' "$CFG"
kill -HUP "$HEALTHD_PID"
check "broken file: the error is logged with file:line:col and path" \
	wait_log "$CFG:[0-9]*:[0-9]*: services\[0\]\.checks\[0\]\.prot: unknown key" 1 5
check "broken file: the reload is refused" wait_log "refused" 1 5
sleep 2
check "broken file: healthd keeps running" alive "$HEALTHD_PID"
if route_same "$KEEP" "$keep0" && wait_route_present "$GONE" 1; then
	ok "broken file: no route changed at the peer"
else
	not_ok "broken file: no route changed at the peer" "before: $keep0" "${ROUTE_READS[@]}" \
		"$GONE present: $(route_present "$GONE" && echo yes || echo no)"
fi

# 3. A new file: keep unchanged, change's MED 100 -> 200, gone removed, added new.
write_config "$CFG" "$(service keep "$KEEP" 100)" "$(service change "$CHANGE" 200)" \
	"$(service added "$ADDED" 100)"
kill -HUP "$HEALTHD_PID"
check "new file: reload logged" wait_log "reload: 1 unchanged, 1 changed, 1 added, 1 removed" 1 5
check "new file: the removed service's route leaves the peer" wait_route_absent "$GONE" 5
check "new file: the added service's route reaches the peer (after rise)" wait_route_present "$ADDED" 10
med=""
for ((i = 0; i < 30; i++)); do
	med=$(med_of "$CHANGE")
	[ "$med" = 200 ] && break
	sleep 0.2
done
if [ "$med" = 200 ]; then ok "new file: the changed MED (200) is seen at the peer"; else not_ok "new file: the changed MED (200) is seen at the peer" "MED: $med"; fi
check "new file: the changed service's route never left" stays_present "$CHANGE" 1
if [ "$(sent "$KEEP")" = "$keep_sent" ]; then
	ok "new file: nothing written to ExaBGP for the unchanged service"
else
	not_ok "new file: nothing written to ExaBGP for the unchanged service" "$(grep -- "exabgp <- .*$KEEP" "$T/exabgp.out" | tail -n 3)"
fi
if [ "$(sent "$CHANGE")" = "$((change_sent + 1))" ]; then
	ok "new file: the changed service was announced again once"
else
	not_ok "new file: the changed service was announced again once" "$(grep -- "exabgp <- .*$CHANGE" "$T/exabgp.out" | tail -n 3)"
fi
if route_same "$KEEP" "$keep0"; then
	ok "new file: the unchanged service's route was not touched"
else
	not_ok "new file: the unchanged service's route was not touched" "before: $keep0" "${ROUTE_READS[@]}"
fi

# 4. Another speaker section: refused.
sed -i 's/"type": "exabgp"/"type": "exabgp", "reannounce": "1h"/' "$CFG"
kill -HUP "$HEALTHD_PID"
check "speaker changed: refused with 'restart to change the speaker'" \
	wait_log "restart to change the speaker" 1 5
check "speaker changed: routes stay" stays_present "$ADDED" 1
check "healthd still running" alive "$HEALTHD_PID"

# 5. SIGTERM still withdraws every route, the reloaded ones included.
kill -TERM "$HEALTHD_PID"
for p in "$KEEP" "$CHANGE" "$ADDED"; do
	check "SIGTERM: $p withdrawn" wait_route_absent "$p" 5
done

if [ "$FAIL" -ne 0 ]; then it_tail 40 "$T/exabgp.out"; fi
it_finish
