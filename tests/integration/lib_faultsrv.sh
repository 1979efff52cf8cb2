# shellcheck shell=bash
# Helpers for the fault-matrix tests (on top of lib_bird.sh and lib.sh): healthd under a
# real ExaBGP peering with a real BIRD (lib.sh's lab, on 127.0.111.0/24), misbehaving
# servers (faultserver.py, one process per case, switched by a mode file, stopped by
# PID), and what a user looks at: the routes at BIRD, healthd's control /status and
# `healthd status`.
#
#   fault_init                            # it_init, tools, traps, $CTL_PORT
#   fault_start NAME stream|dns [MODE]    # ${FAULT_PORT[NAME]}, listening when it returns
#   fault_mode NAME MODE                  # the next connection or query gets MODE
#   fault_stop NAME                       # by PID; fault_start NAME again: same port
#   status_lines                          # "SERVICE STATE ANNOUNCED REASON DETAIL" lines
#   check_reasons TRIES "SERVICE CODE DETAIL_PART"...   # /status and `healthd status`
#   rss_kb PID                            # VmRSS in kB
#   fault_lab_up WHAT GOOD                # check $T/healthd.json, start the lab, $ALL up
#   fault_lab_end                         # stop ExaBGP: healthd exits, no sanitizer report
#
# Not a target, ever: anything outside 127.0.0.0/8 and ::1.

# shellcheck source-path=SCRIPTDIR source=lib_bird.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_bird.sh"

# shellcheck disable=SC2034 # lib.sh's lab reads these
EXA_ADDR=127.0.111.2
# shellcheck disable=SC2034
BIRD_ADDR=127.0.111.3
SERVICE_ADDR=127.0.111.1
FAULT_PY=$(dirname "${BASH_SOURCE[0]}")/faultserver.py
declare -A FAULT_PID=() FAULT_PORT=()
CTL_PORT=""
STATUS_NOW=""

fault_exit() {
	local rc=$? n
	for n in "${!FAULT_PID[@]}"; do kill_pid "${FAULT_PID[$n]}" 2; done
	(exit "$rc")
	it_cleanup
}

fault_init() {
	it_init
	it_need exabgp bird birdc curl "$PY"
	it_need_healthd
	trap fault_exit EXIT
	CTL_PORT=$(free_port) || exit 1
}

fault_modefile() { printf '%s/fault-%s.mode\n' "$T" "$1"; }

# fault_start NAME KIND [MODE]: faultserver.py KIND on $SERVICE_ADDR, its port picked
# the first time and kept; waits (bounded) until it accepts TCP connections.
fault_start() {
	local name=$1 kind=$2
	[ $# -ge 3 ] && fault_mode "$name" "$3"
	[ -n "${FAULT_PORT[$name]:-}" ] || FAULT_PORT[$name]=$(free_port) || return 1
	"$PY" "$FAULT_PY" "$kind" "$SERVICE_ADDR" "${FAULT_PORT[$name]}" "$(fault_modefile "$name")" \
		</dev/null >>"$T/fault-$name.log" 2>&1 &
	FAULT_PID[$name]=$!
	wait_tcp "$SERVICE_ADDR" "${FAULT_PORT[$name]}" 5 || {
		echo "faultserver $name did not listen on $SERVICE_ADDR:${FAULT_PORT[$name]}" >&2
		return 1
	}
}

fault_mode() { printf '%s\n' "$2" >"$(fault_modefile "$1")"; }

fault_stop() {
	kill_pid "${FAULT_PID[$1]:-}" 2
	unset "FAULT_PID[$1]"
}

# status_lines: healthd's /status, one line per service and its first check:
# "SERVICE STATE ANNOUNCED REASON DETAIL"; non-zero when the endpoint does not answer.
status_lines() {
	local json
	json=$(curl -sf --max-time 5 "http://$SERVICE_ADDR:$CTL_PORT/status") || return 1
	"$PY" -c '
import json, sys
for s in json.loads(sys.argv[1])["services"]:
    c = s["checks"][0]
    print(s["name"], s["state"], "true" if s["announced"] else "false",
          c.get("reason") or "-", c.get("detail") or "")
' "$json"
}

# reason_shown SERVICE CODE [DETAIL_PART]: /status (as last read into STATUS_NOW) shows
# SERVICE DOWN, not announced, its check's reason CODE and a detail holding DETAIL_PART.
reason_shown() {
	local line state announced reason detail
	line=$(awk -v s="$1" '$1 == s' <<<"$STATUS_NOW")
	read -r _ state announced reason detail <<<"$line"
	[ "$state" = DOWN ] && [ "$announced" = false ] && [ "$reason" = "$2" ] &&
		[[ $detail == *"${3:-}"* ]]
}

# check_reasons TRIES "SERVICE CODE DETAIL_PART"...: what a user sees of each faulty
# service: /status (reason_shown) and `healthd status` (DOWN, and the code in its
# reason); one ok line per service and one for `healthd status`. DETAIL_PART is the
# rest of the string, "-" for none. Read up to TRIES times a second apart until all
# show: a run on a machine so loaded that an answer misses its deadline fails as
# timeout instead.
check_reasons() {
	local tries=$1 i e name code part bad answered=0
	shift
	for ((i = 0; i < tries; i++)); do
		[ "$i" -gt 0 ] && sleep 1
		STATUS_NOW=$(status_lines) || continue
		"$HEALTHD" status --url "http://$SERVICE_ADDR:$CTL_PORT" >"$T/status.out" 2>&1 || continue
		answered=1
		bad=""
		for e in "$@"; do
			read -r name code part <<<"$e"
			[ "$part" = - ] && part=""
			reason_shown "$name" "$code" "$part" || bad="$bad $name"
			grep -Eq "^$name +DOWN .*: $code, " "$T/status.out" || bad="$bad $name"
		done
		[ -z "$bad" ] && break
	done
	if [ "$answered" = 0 ]; then
		not_ok "healthd answers /status and healthd status during the faults" "$(head -n 3 "$T/status.out")"
		return
	fi
	for e in "$@"; do
		read -r name code part <<<"$e"
		[ "$part" = - ] && part=""
		if reason_shown "$name" "$code" "$part"; then
			ok "$name: /status says DOWN, withdrawn, $code${part:+ (\"$part\")}"
		else
			not_ok "$name: /status says DOWN, withdrawn, $code${part:+ (\"$part\")}" \
				"status: $(awk -v s="$name" '$1 == s' <<<"$STATUS_NOW")"
		fi
	done
	bad=""
	for e in "$@"; do
		read -r name code _ <<<"$e"
		grep -Eq "^$name +DOWN .*: $code, " "$T/status.out" || bad="$bad $name"
	done
	if [ -z "$bad" ]; then
		ok "healthd status shows every faulty service DOWN with its reason"
	else
		not_ok "healthd status shows every faulty service DOWN with its reason" "not shown:$bad" "$(head -n 20 "$T/status.out")"
	fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# healthd_scale: FAULT_S, the factor for timings and waits: 1, or 3 when $HEALTHD is a
# wrapper that runs healthd under valgrind (make valgrind), where a 64 KiB body or
# answer takes longer than a 400 ms timeout to go through.
healthd_scale() {
	FAULT_S=1
	if [ "$(head -c 2 "$HEALTHD")" = "#!" ] && grep -q valgrind "$HEALTHD"; then
		FAULT_S=3
		note "healthd runs under valgrind: timings and waits x$FAULT_S"
	fi
}

# ms N: the duration N milliseconds times FAULT_S, for the config ("1200ms").
ms() { printf '%sms\n' $(($1 * FAULT_S)); }

# rss_bound KB: RSS_GROWTH_KB, how much healthd's RSS may grow under the faults: KB,
# plus what a checker holds back on purpose: AddressSanitizer's quarantine of freed
# memory (256 MiB unless ASAN_OPTIONS sets quarantine_size_mb), valgrind's queue of
# freed blocks (20 MB of them by default, with their redzones and shadow: 256 MiB in
# all). The plain build is the one that measures healthd.
# shellcheck disable=SC2034 # RSS_GROWTH_KB is for the caller
rss_bound() {
	local q
	RSS_GROWTH_KB=$1
	if ldd "$HEALTHD" 2>/dev/null | grep -q libasan; then
		q=$(sed -n 's/.*quarantine_size_mb=\([0-9]*\).*/\1/p' <<<"${ASAN_OPTIONS:-}")
		q=${q:-256}
		RSS_GROWTH_KB=$(($1 + q * 1024 * 3 / 2)) # and its allocator's overhead
		note "healthd is built with AddressSanitizer: its quarantine (${q} MiB) counts in the RSS bound"
	elif [ "${FAULT_S:-1}" != 1 ]; then
		RSS_GROWTH_KB=$(($1 + 256 * 1024))
		note "healthd runs under valgrind: its queue of freed blocks counts in the RSS bound"
	fi
}

# fault_lab_up WHAT GOOD: the lab for $T/healthd.json: the config checked, BIRD, ExaBGP
# and healthd started, and every prefix of $ALL announced at BIRD, as ok or not_ok lines
# ("... while its server GOOD"); RSS0 := healthd's RSS then. WHAT names the servers in
# the lab's note. Ends the test when the config is invalid or the lab does not come up.
# shellcheck disable=SC2034 # RSS0 is for the caller
fault_lab_up() {
	if ! "$HEALTHD" check -c "$T/healthd.json" >"$T/check.out" 2>&1; then
		not_ok "the test's config is valid" "$(head -n 5 "$T/check.out")"
		it_finish
		exit
	fi
	note "lab in $T: $1 on $SERVICE_ADDR, BGP $EXA_ADDR -> $BIRD_ADDR, control :$CTL_PORT"
	if ! exa_lab_start "$T/healthd.json"; then
		not_ok "ExaBGP, BIRD and healthd come up"
		it_finish
		exit
	fi
	ok "healthd (pid $HEALTHD_PID) runs under ExaBGP, session with BIRD established"
	if wait_bird_routes "$ALL" $((15 * FAULT_S)); then
		ok "every service announced at BIRD while its server $2 (${ELAPSED}s)"
	else
		not_ok "every service announced at BIRD while its server $2" "want: $ALL" "BIRD: $BIRD_NOW"
	fi
	RSS0=$(rss_kb "$HEALTHD_PID")
}

# fault_lab_end: stop ExaBGP, which stops healthd; ok lines when healthd exited and its
# stderr (in ExaBGP's output) holds no sanitizer report (an ASan build checks leaks at
# exit).
fault_lab_end() {
	local pid=$HEALTHD_PID rep
	stop_exabgp 5
	if wait_gone "$pid" 5; then
		ok "healthd exits when ExaBGP stops"
		HEALTHD_PID=""
	else
		not_ok "healthd exits within 5s when ExaBGP stops"
	fi
	rep=$(grep -E -m 5 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' "$T/exabgp.out" 2>/dev/null)
	if [ -z "$rep" ]; then
		ok "no sanitizer report in healthd's stderr"
	else
		not_ok "no sanitizer report in healthd's stderr" "$rep"
	fi
}
