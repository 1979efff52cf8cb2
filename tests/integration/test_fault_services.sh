#!/usr/bin/env bash
# Fault matrix, services: healthd under a real ExaBGP peering with a real BIRD probes
# servers that misbehave (tests/integration/faultserver.py) and an exec check that
# ignores SIGTERM and forks. One healthd, one service per fault, all at once:
#
#   tcp and http: accepts and never answers; answers just after the timeout; resets on
#                 connect (SO_LINGER 0); no listener
#   http only:    endless body; head one byte a second; Content-Length 1 GB, then
#                 silence; a redirect to itself
#   exec:         ignores SIGTERM, forks children and a grandchild that ignore it too
#
# Every service is announced at BIRD while its server is good, withdrawn once it
# misbehaves (with the reason in /status and `healthd status`), and announced again
# once the server is good again. Meanwhile a steady service stays announced, healthd's
# memory stays bounded, no process of the exec check outlives its run, and healthd
# keeps running and answering.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_services.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_faultsrv.sh
. "$(dirname "$0")/lib_faultsrv.sh"

fault_init
healthd_scale

INTERVAL=$(ms 500) FAST=$(ms 200) TIMEOUT=$(ms 400)
# "answers just after the timeout": 300 ms after it
SLOW_ANSWER=$(awk -v s="$FAULT_S" 'BEGIN { print 0.7 * s }')
# The head-one-byte-a-second check gets a longer timeout, so that bytes do arrive
# during a run: progress must not push the deadline back.
SLOWHEAD_TIMEOUT=$(ms 1500) SLOWHEAD_INTERVAL=$(ms 2000)
# Withdrawn within: the slowest case (2 s interval, then two runs of 1.5 s at fall 2),
# plus ExaBGP -> BIRD; generous, and x4 under valgrind.
DOWN_BOUND=$((10 * FAULT_S))
UP_BOUND=$((10 * FAULT_S))
DWELL=${FAULT_DWELL:-$((4 * FAULT_S))} # seconds the faults go on after the withdrawal (memory, processes)
rss_bound $((24 * 1024)) # RSS_GROWTH_KB: healthd's RSS may grow this much under the faults
LEAK_AGE=$((2 * FAULT_S)) # seconds: an exec run lives 0.4 s; anything older escaped its kill

# service  check  server  fault mode  expected reason  detail part
CASES=(
	"tcp-hang       tcp  hang        hang            timeout         -"
	"tcp-slow       tcp  slow        slow_$SLOW_ANSWER timeout       -"
	"tcp-reset      tcp  reset       reset           reset           reset"
	"tcp-nolisten   tcp  nolisten    STOP            refused         refused"
	"http-hang      http hang        hang            timeout         -"
	"http-slow      http slow        slow_$SLOW_ANSWER timeout       -"
	"http-reset     http reset       reset           reset           reset"
	"http-nolisten  http nolisten    STOP            refused         refused"
	"http-endless   http endless     endless         body-mismatch   (max_body)"
	"http-slowhead  http slowheaders slowheaders     timeout         $SLOWHEAD_TIMEOUT"
	"http-bigcl     http bigcl       bigcl           timeout         -"
	"http-redirect  http redirect    redirect        bad-status      HTTP 302"
	"exec-sigterm   exec -           -               timeout         -"
)
STEADY=192.0.2.10/32

# The exec check: with the fault file present it ignores SIGTERM, starts two children
# and a subshell with a grandchild (all inheriting the ignored SIGTERM) and never ends.
# The children are "sleep" under a name in $T, so pgrep -f finds ours only.
MARK=$T/fault-sleep
ln -s "$(command -v sleep)" "$MARK"
EXEC_FAULT=$T/exec.fault
cat >"$T/exec-check.sh" <<EOF
#!/bin/sh
[ -e "$EXEC_FAULT" ] || exit 0
trap '' TERM
"$MARK" 301 &
"$MARK" 302 &
( "$MARK" 303 & exec "$MARK" 304 ) &
wait
EOF
markers() { pgrep -f -- "$MARK" 2>/dev/null; }

# ---------------------------------------------------------------- servers, config
for s in steady hang slow reset nolisten endless slowheaders bigcl redirect; do
	fault_start "$s" stream good || {
		not_ok "faultserver $s starts"
		it_finish
		exit
	}
done

ALL="$STEADY"
svc_json() { # NAME PREFIX CHECK_JSON: one service, a comma before all but the first
	[ "$1" = steady ] || printf ',\n'
	printf '\t\t{ "name": "%s", "prefixes": [ "%s" ], "announce": { "next_hop": "self" },\n' "$1" "$2"
	printf '\t\t  "checks": [ %s ] }' "$3"
}
tcp_json() { printf '{ "type": "tcp", "host": "%s", "port": %s, "send": "PING\\r\\n", "expect": "PONG" }' "$SERVICE_ADDR" "${FAULT_PORT[$1]}"; }
http_json() { printf '{ "type": "http", "url": "http://%s:%s/health", "expect_status": [ 200 ], "expect_body": "healthy"%s }' "$SERVICE_ADDR" "${FAULT_PORT[$1]}" "${2:-}"; }
{
	cat <<EOF
{
	"allow_root_exec": true,
	"speaker": { "type": "exabgp" },
	"control": { "listen": [ "$SERVICE_ADDR:$CTL_PORT" ] },
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$FAST", "timeout": "$TIMEOUT",
	              "rise": 2, "fall": 2 },
	"services": [
EOF
	svc_json steady "$STEADY" "$(tcp_json steady)"
	i=11
	for c in "${CASES[@]}"; do
		read -r name type server _ <<<"$c"
		pfx=192.0.2.$i/32
		i=$((i + 1))
		ALL="$ALL $pfx"
		case $type in
		tcp) svc_json "$name" "$pfx" "$(tcp_json "$server")" ;;
		http)
			extra=""
			[ "$server" = slowheaders ] && extra=", \"timeout\": \"$SLOWHEAD_TIMEOUT\", \"interval\": \"$SLOWHEAD_INTERVAL\""
			svc_json "$name" "$pfx" "$(http_json "$server" "$extra")"
			;;
		exec) svc_json "$name" "$pfx" "{ \"type\": \"exec\", \"command\": [ \"/bin/sh\", \"$T/exec-check.sh\" ] }" ;;
		esac
	done
	printf '\n\t]\n}\n'
} >"$T/healthd.json"

# ---------------------------------------------------------------- 1. all good
fault_lab_up services "is good"

# ---------------------------------------------------------------- 2. faults
for c in "${CASES[@]}"; do
	read -r _ type server mode _ <<<"$c"
	case $mode in
	-) ;;
	STOP) [ -n "${FAULT_PID[$server]:-}" ] && fault_stop "$server" ;;
	*) fault_mode "$server" "${mode//_/ }" ;;
	esac
done
: >"$EXEC_FAULT"
note "faults on; RSS before: ${RSS0} kB"

if wait_bird_routes "$STEADY" "$DOWN_BOUND"; then
	ok "every faulty service withdrawn at BIRD, the steady one still announced (${ELAPSED}s)"
else
	not_ok "every faulty service withdrawn at BIRD within ${DOWN_BOUND}s, only $STEADY left" "BIRD: $BIRD_NOW"
fi

# What a user sees: /status (reason codes and details) and `healthd status`.
WANT=()
for c in "${CASES[@]}"; do
	read -r name _ _ _ code part <<<"$c"
	WANT+=("$name $code $part")
done
check_reasons $((3 * FAULT_S)) "${WANT[@]}"

# The same faults by hand, as an operator would look at them.
probe_cli() { # DESC EXPECTED_FIRST_LINE_PART ARGS...
	local desc=$1 want=$2 out
	shift 2
	out=$(timeout $((10 * FAULT_S)) "$HEALTHD" probe "$@" 2>&1 | head -n 1)
	if [[ $out == *"$want"* ]]; then ok "healthd probe: $desc"; else not_ok "healthd probe: $desc" "first line: $out"; fi
}
probe_cli "1 GB Content-Length, then silence: CRITICAL timeout" "HTTP CRITICAL - timeout" \
	http --url "http://$SERVICE_ADDR:${FAULT_PORT[bigcl]}/health" --expect-body healthy --timeout "$TIMEOUT"
probe_cli "endless body: CRITICAL body-mismatch at max_body" "HTTP CRITICAL - body-mismatch: HTTP 200 from $SERVICE_ADDR:${FAULT_PORT[endless]}: no \"healthy\" in 65536 bytes (max_body)" \
	http --url "http://$SERVICE_ADDR:${FAULT_PORT[endless]}/health" --expect-body healthy --timeout "$TIMEOUT"
probe_cli "reset on connect: CRITICAL reset" "TCP CRITICAL - reset: " \
	tcp --host "$SERVICE_ADDR" --port "${FAULT_PORT[reset]}" --send 'PING\r\n' --expect PONG --timeout "$TIMEOUT"

# The faults go on: watch healthd's memory and the exec check's processes.
rss_max=$RSS0 leaked="" pgids=" " seen=0 judged=0 ign_bad="" looks=0 p="" g="" age="" ign="" name="" state="" k="" v=""
t0=$(now)
while le "$(since "$t0")" "$DWELL"; do
	r=$(rss_kb "$HEALTHD_PID")
	[ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r
	# one snapshot per look: the runs live 0.4 s, one ps per process would miss them
	while read -r p g age; do
		seen=$((seen + 1))
		[[ $pgids != *" $g "* ]] && pgids="$pgids$g "
		# ps shows a process started within its own clock tick as ~2^32 s old
		[ "$age" -ge "$LEAK_AGE" ] && [ "$age" -lt 86400 ] && leaked="$leaked $p(${age}s)"
		# SigIgn bit 15 (SIGTERM): the fault is real only when they do ignore it. Name
		# from the same read: the process may have ended since ps, and its pid gone to
		# another (pids wrap at 32768 here, fast on a busy machine). State too: a process
		# that has ended since ps (Z, or X while it is reaped) is not judged: once
		# reaping has released its signal handlers the kernel shows SigIgn as 0.
		ign="" name="" state=""
		while read -r k v; do
			[ "$k" = Name: ] && name=$v
			[ "$k" = State: ] && state=$v
			[ "$k" = SigIgn: ] && ign=$v
		done 2>/dev/null <"/proc/$p/status" # silent when it has ended: redirections apply in order
		if [ "$name" = "${MARK##*/}" ] && [ -n "$ign" ] && [[ $state != [ZX]* ]]; then
			judged=$((judged + 1))
			(((0x$ign & 0x4000) == 0)) && ign_bad="$ign_bad $p($state, SigIgn $ign)"
		fi
	done < <(ps -e -o pid=,pgid=,etimes=,args= | awk -v m="$MARK" '$4 == m { print $1, $2, $3 }')
	sleep 0.1
	looks=$((looks + 1))
done
growth=$((rss_max - RSS0))
if [ -n "$RSS0" ] && [ "$growth" -le "$RSS_GROWTH_KB" ]; then
	ok "healthd's RSS bounded under the faults: ${RSS0} kB -> at most ${rss_max} kB (+${growth} kB, bound +${RSS_GROWTH_KB} kB)"
else
	not_ok "healthd's RSS bounded under the faults" "${RSS0:-?} kB -> ${rss_max} kB, more than +${RSS_GROWTH_KB} kB"
fi
ngroups=$(wc -w <<<"$pgids")
if [ "$ngroups" -ge 2 ] && [ "$judged" -ge 1 ] && [ -z "$ign_bad" ]; then
	ok "runs of the exec check were seen, their processes ignoring SIGTERM ($seen sightings in $ngroups process groups, $judged judged alive, $looks looks)"
else
	not_ok "runs of the exec check were seen (2 or more), their processes ignoring SIGTERM" \
		"$seen sightings in $ngroups process groups ($judged judged alive, $looks looks), not ignoring:$ign_bad"
fi
if [ -z "$leaked" ]; then
	ok "no process of a timed-out exec run outlived it by ${LEAK_AGE}s"
else
	not_ok "no process of a timed-out exec run outlived it by ${LEAK_AGE}s" "leaked (age):$leaked"
fi
if route_present "$STEADY"; then ok "the steady service stayed announced through the faults"; else not_ok "the steady service stayed announced through the faults" "BIRD: $(bird_routes)"; fi

# ---------------------------------------------------------------- 3. recovery
for s in hang slow reset endless slowheaders bigcl redirect; do fault_mode "$s" good; done
fault_start nolisten stream good || not_ok "faultserver nolisten starts again"
rm -f -- "$EXEC_FAULT"
if wait_bird_routes "$ALL" "$UP_BOUND"; then
	ok "every service announced again at BIRD once its server is good (${ELAPSED}s)"
else
	not_ok "every service announced again within ${UP_BOUND}s" "want: $ALL" "BIRD: $BIRD_NOW"
fi

left=""
for ((i = 0; i < 20; i++)); do
	left=""
	for g in $pgids; do
		m=$(ps -e -o pid=,pgid= | awk -v g="$g" '$2 == g { printf " %s", $1 }')
		[ -n "$m" ] && left="$left pgid $g:$m"
	done
	m=$(markers | tr '\n' ' ')
	[ -n "$m" ] && left="$left markers: $m"
	[ -z "$left" ] && break
	sleep 0.1
done
if [ -z "$left" ]; then
	ok "no process is left of any exec run's process group"
else
	not_ok "no process is left of any exec run's process group" "$left"
fi

if alive "$HEALTHD_PID" && [ "$(pid_start "$HEALTHD_PID")" = "$HEALTHD_START" ]; then
	ok "healthd still runs (pid $HEALTHD_PID)"
else
	not_ok "healthd still runs" "pid $HEALTHD_PID is gone"
fi
if STATUS_NOW=$(status_lines) && ! awk '$2 != "UP" { bad = 1 } END { exit !bad }' <<<"$STATUS_NOW"; then
	ok "healthd answers /status: every service UP again"
else
	not_ok "healthd answers /status: every service UP again" "$(tr '\n' '|' <<<"$STATUS_NOW")"
fi
bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 5)
if [ -z "$bad" ]; then ok "ExaBGP understood every command healthd sent"; else not_ok "ExaBGP understood every command healthd sent" "$bad"; fi

fault_lab_end
it_finish
