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
#   expect_reason SERVICE CODE [DETAIL_PART]
#   rss_kb PID                            # VmRSS in kB
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

# expect_reason SERVICE CODE [DETAIL_PART]: one ok line when /status (as last read into
# STATUS_NOW) shows SERVICE DOWN, not announced, its check's reason CODE and a detail
# holding DETAIL_PART.
expect_reason() {
	local svc=$1 code=$2 part=${3:-} line state announced reason detail
	line=$(awk -v s="$svc" '$1 == s' <<<"$STATUS_NOW")
	read -r _ state announced reason detail <<<"$line"
	if [ "$state" = DOWN ] && [ "$announced" = false ] && [ "$reason" = "$code" ] &&
		[[ $detail == *"$part"* ]]; then
		ok "$svc: /status says DOWN, withdrawn, $code${part:+ (\"$part\")}"
	else
		not_ok "$svc: /status says DOWN, withdrawn, $code${part:+ (\"$part\")}" \
			"status: ${line:-no such service}"
	fi
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# healthd_scale: FAULT_S, the factor for waits: 1, or 4 when $HEALTHD is a wrapper
# that runs healthd under valgrind (make valgrind).
healthd_scale() {
	FAULT_S=1
	if [ "$(head -c 2 "$HEALTHD")" = "#!" ] && grep -q valgrind "$HEALTHD"; then
		FAULT_S=4
		note "healthd runs under valgrind: waits x$FAULT_S"
	fi
}
