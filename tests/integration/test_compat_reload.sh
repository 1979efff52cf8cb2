#!/usr/bin/env bash
# The healthcheck drop-in's reload (SIGHUP re-reads --config), judged at a real BIRD peer
# of a real ExaBGP that runs it:
#   the same file again: nothing written to ExaBGP, no route changes at the peer;
#   a new --up-metric: the new MED is seen at the peer, written once;
#   a file with an error, or one that changes --user: nothing changes, it keeps running;
#   an --ip removed (with --no-ip-setup): withdrawn, the other route untouched;
#   no --config: SIGHUP changes nothing and the process survives it.
# ExaBGP's own healthcheck dies of SIGHUP (printed as a note).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_compat_reload.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_compat.sh
. "$(dirname "$0")/lib_compat.sh"

# This test's own loopback addresses, apart from the other tests' lab.
EXA_ADDR=127.0.99.2
BIRD_ADDR=127.0.99.3

it_init
compat_init
it_need exabgp bird birdc

A=203.0.113.41/32 B=203.0.113.42/32 C=203.0.113.43/32
CFG=$T/hc.conf
# --interval 100: no periodic announcement during the test, so every line written after
# the first one is the reload's.
write_cfg() {
	cat >"$CFG.tmp" <<EOF
# the drop-in's options, one per line
ip = ${A%/32}
ip = ${B%/32}
rise = 1
interval = 100
command = true
up-metric = $1
EOF
	mv "$CFG.tmp" "$CFG"
}

med_of() { birdc_ show route "$1" all 2>/dev/null | awk '/BGP.med:/ { print $2; exit }'; }
log_count() { grep -c -- "$1" "$T/exabgp.out" 2>/dev/null; }
# wait_log TEXT N TIMEOUT_S: the helper's log (via ExaBGP's stderr) has N lines with TEXT.
wait_log() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[ "$(log_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# The lines written to ExaBGP for one route (--debug logs each).
sent() { grep -c -- "exabgp: [a-z]* route ${1%/32}/" "$T/exabgp.out" 2>/dev/null; }
# wait_med PREFIX MED TIMEOUT_S
wait_med() {
	local i
	for ((i = 0; i < $3 * 5; i++)); do
		[ "$(med_of "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

start_bird || {
	not_ok "BIRD starts"
	it_finish
	exit
}
write_cfg 100
start_exabgp "$HEALTHD --no-syslog --debug --no-ip-setup --config $CFG"
find_helper 10 || not_ok "ExaBGP spawned healthd"
wait_established 20 || not_ok "BGP session ExaBGP - BIRD established"
check "$A announced at start" wait_route_present "$A" 15
check "$B announced at start" wait_route_present "$B" 15
check "MED 100 at start" wait_med "$A" 100 5
sleep 1.2 # a route imported again after this reads more than a second later (route_same)
a0=$(route_line "$A") b0=$(route_line "$B")
a_sent=$(sent "$A") b_sent=$(sent "$B")

# 1. The same file again.
kill -HUP "$HEALTHD_PID"
check "same file: reload logged as unchanged" wait_log "reload: $CFG unchanged; nothing written" 1 5
sleep 1
if [ "$(sent "$A")" = "$a_sent" ] && [ "$(sent "$B")" = "$b_sent" ]; then
	ok "same file: nothing written to ExaBGP"
else
	not_ok "same file: nothing written to ExaBGP" "$(grep -- "exabgp: " "$T/exabgp.out" | tail -n 4)"
fi
if route_same "$A" "$a0" && route_same "$B" "$b0"; then
	ok "same file: no route changed at the peer"
else
	not_ok "same file: no route changed at the peer" "before: $a0" "before: $b0" "${ROUTE_READS[@]}"
fi

# 2. A new --up-metric: the state's lines again, once, with the new MEDs.
write_cfg 200
kill -HUP "$HEALTHD_PID"
check "new metric: reload logged" wait_log "reload: 1 option changed (--up-metric); 2 lines to write" 1 5
check "new metric: MED 200 seen at the peer for $A" wait_med "$A" 200 5
check "new metric: MED 201 seen at the peer for $B (--increase)" wait_med "$B" 201 5
if [ "$(sent "$A")" = "$((a_sent + 1))" ] && [ "$(sent "$B")" = "$((b_sent + 1))" ]; then
	ok "new metric: each route written once"
else
	not_ok "new metric: each route written once" "$(grep -- "exabgp: " "$T/exabgp.out" | tail -n 4)"
fi
a_sent=$(sent "$A") b_sent=$(sent "$B")
sleep 1.2
a0=$(route_line "$A") b0=$(route_line "$B")

# 3. A file with an error: argparse's message, nothing changes, still running.
cp "$CFG" "$T/good.conf"
echo "rise = x" >>"$CFG"
kill -HUP "$HEALTHD_PID"
check "broken file: the error is logged, the reload refused" \
	wait_log "reload refused: $CFG: argument --rise: invalid int value: 'x'; nothing changed" 1 5
sleep 1
check "broken file: the drop-in keeps running" alive "$HEALTHD_PID"
ROUTE_READS=()
if [ "$(sent "$A")" = "$a_sent" ] && route_same "$A" "$a0" && [ "$(med_of "$A")" = 200 ]; then
	ok "broken file: nothing written, no route changed at the peer"
else
	not_ok "broken file: nothing written, no route changed" "before: $a0" "${ROUTE_READS[@]}" "MED $(med_of "$A")"
fi

# 4. A file that changes what cannot change while running: refused as a whole.
cp "$T/good.conf" "$CFG"
printf 'user = nobody\nup-metric = 300\n' >>"$CFG"
kill -HUP "$HEALTHD_PID"
check "--user changed: refused with 'restart to change --user'" \
	wait_log "reload refused: restart to change --user; nothing changed" 1 5
sleep 1
check "--user changed: the drop-in keeps running" alive "$HEALTHD_PID"
if [ "$(sent "$A")" = "$a_sent" ] && [ "$(med_of "$A")" = 200 ]; then
	ok "--user changed: the other changes are not applied either (MED still 200)"
else
	not_ok "--user changed: nothing applied" "MED $(med_of "$A")"
fi

# 5. An --ip removed: withdrawn; the other route is not touched.
cp "$T/good.conf" "$CFG"
sed -i "/${B%/32}/d" "$CFG"
kill -HUP "$HEALTHD_PID"
check "--ip removed: reload logged" wait_log "reload: 1 option changed (--ip); 1 line to write, 1 of them withdrawals" 1 5
check "--ip removed: $B leaves the peer" wait_route_absent "$B" 5
ROUTE_READS=()
if [ "$(sent "$A")" = "$a_sent" ] && route_same "$A" "$a0"; then
	ok "--ip removed: $A untouched (nothing written, same route at the peer)"
else
	not_ok "--ip removed: $A untouched" "before: $a0" "${ROUTE_READS[@]}"
fi

# 6. SIGTERM withdraws what the reloaded options announce.
kill -TERM "$HEALTHD_PID"
check "SIGTERM after the reloads: $A withdrawn" wait_route_absent "$A" 5
check "SIGTERM: the drop-in exits" wait_gone "$HEALTHD_PID" 5
stop_exabgp 5

# 7. Without --config: SIGHUP changes nothing, and does not kill it.
start_exabgp "$HEALTHD --no-syslog --debug --no-ip-setup --ip ${C%/32} --rise 1 --interval 100 --cmd true"
find_helper 10 || not_ok "ExaBGP spawned healthd (no --config)"
wait_established 20 || not_ok "BGP session ExaBGP - BIRD established again"
check "no --config: $C announced" wait_route_present "$C" 15
sleep 1.2
c0=$(route_line "$C") c_sent=$(sent "$C")
kill -HUP "$HEALTHD_PID"
check "no --config: SIGHUP logged as nothing to re-read" wait_log "there is no --config file to re-read; nothing changed" 1 5
sleep 1
check "no --config: the drop-in survives SIGHUP" alive "$HEALTHD_PID"
ROUTE_READS=()
if [ "$(sent "$C")" = "$c_sent" ] && route_same "$C" "$c0"; then
	ok "no --config: nothing written, no route changed at the peer"
else
	not_ok "no --config: nothing written, no route changed" "before: $c0" "${ROUTE_READS[@]}"
fi
stop_exabgp 5

# The original in the same place has no handler: Python's default ends it.
"${PYHC[@]}" --no-syslog --no-ip-setup --no-ack --ip 192.0.2.1 --rise 1 --interval 100 --cmd true \
	</dev/null >"$T/py.out" 2>"$T/py.err" &
py=$!
sleep 1.5
kill -HUP "$py"
wait_gone "$py" 3
wait "$py"
note "ExaBGP's healthcheck after SIGHUP: exit status $? (128+1: killed by SIGHUP, nothing withdrawn)"

it_finish
