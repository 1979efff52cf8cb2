# shellcheck shell=bash
# Helpers for the speaker-side fault tests (test_fault_*.sh), on top of lib.sh or
# lib_bird.sh (source one of them first): the lab moves to its own loopback addresses,
# a service whose answers the test switches, healthd's metrics and memory.
#
#   fault_addresses                      # every lab address in 127.0.112.0/24
#   start_switch NAME MODE               # $SW_PORT[NAME]; MODE: up, down or alt
#   switch_mode NAME MODE                # takes effect at the next connection
#   metrics_fetch                        # $T/metrics.txt from healthd's control endpoint
#   metric NAME [LABEL_MATCH]            # the sum of NAME's samples (from metrics.txt)
#   rss_kib PID                          # VmRSS
#   healthd_instrumented                 # true under ASan or valgrind (RSS says little)
#
# A "switch" answers every connection at once with "PASS" (mode up) or "FAIL" (mode
# down), or the one and the other in turn (alt: PASS first), and logs each answer with
# its CLOCK_MONOTONIC time in $T/sw-NAME.log: the test knows what every run was told.

# shellcheck disable=SC2034 # globals for the scripts that source this file
declare -A SW_PORT=() SW_PID=()
CTL_ADDR=127.0.112.6
CTL_PORT=""

# The lab's addresses, away from the other tests' 127.0.0.x (runs may overlap).
fault_addresses() {
	SERVICE_ADDR=127.0.112.1
	EXA_ADDR=127.0.112.2
	BIRD_ADDR=127.0.112.3
	SPK_ADDR=127.0.112.4
	PEER_ADDR=127.0.112.5
	CTL_PORT=$(free_port)
}

# healthd_instrumented: $HEALTHD runs under valgrind (a wrapper script) or is built with
# ASan (its quarantine holds freed memory, so RSS grows without a leak).
healthd_instrumented() {
	[ "$(head -c 2 "$HEALTHD")" = "#!" ] && return 0
	nm -D "$HEALTHD" 2>/dev/null | grep -q '__asan_init' && return 0
	ldd "$HEALTHD" 2>/dev/null | grep -q 'libasan'
}
healthd_valgrind() { [ "$(head -c 2 "$HEALTHD")" = "#!" ]; }

_write_switch() {
	[ -f "$T/switch.py" ] && return 0
	cat >"$T/switch.py" <<'EOF'
import os, socket, sys, time
host, port, modefile, logfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, port))
s.listen(128)
log = open(logfile, "a", buffering=1)
n = 0
while True:
    c, _ = s.accept()
    try:
        with open(modefile) as f:
            mode = f.read().strip()
    except OSError:
        mode = "down"
    if mode == "alt":
        ans = "PASS" if n % 2 == 0 else "FAIL"
        n += 1
    else:
        ans = "PASS" if mode == "up" else "FAIL"
        n = 0
    try:
        c.sendall(ans.encode() + b"\n")
    except OSError:
        pass
    c.close()
    log.write("%.6f %s\n" % (time.monotonic(), ans))
EOF
}

# start_switch NAME MODE: the switch NAME on $SERVICE_ADDR:${SW_PORT[NAME]}.
start_switch() {
	_write_switch
	[ -n "${SW_PORT[$1]:-}" ] || SW_PORT[$1]=$(free_port) || return 1
	printf '%s\n' "$2" >"$T/sw-$1.mode"
	# Ahead of the other processes where allowed (root): an answer that comes late is a
	# timeout at a 10 ms interval, and the test wants the switch's answer to be the result.
	nice -n -10 /usr/bin/python3 "$T/switch.py" "$SERVICE_ADDR" "${SW_PORT[$1]}" "$T/sw-$1.mode" "$T/sw-$1.log" \
		</dev/null >/dev/null 2>>"$T/switch.err" &
	SW_PID[$1]=$!
	wait_tcp "$SERVICE_ADDR" "${SW_PORT[$1]}" 5
}

# switch_mode NAME MODE: replaced atomically, so a connection never reads half a file.
switch_mode() {
	printf '%s\n' "$2" >"$T/sw-$1.mode.new" && mv -f "$T/sw-$1.mode.new" "$T/sw-$1.mode"
}

stop_switches() {
	local n
	for n in "${!SW_PID[@]}"; do kill_pid "${SW_PID[$n]}" 2; done
	SW_PID=()
}

# switch_check NAME: the JSON of a tcp check against switch NAME.
switch_check() {
	printf '{ "type": "tcp", "host": "%s", "port": %s, "expect": "PASS" }' "$SERVICE_ADDR" "${SW_PORT[$1]}"
}

# control_json: the config's "control" section on $CTL_ADDR:$CTL_PORT (fault_addresses
# picked the port: in a $(...) the choice would be lost).
control_json() {
	printf '"control": { "listen": [ "%s:%s" ] }' "$CTL_ADDR" "$CTL_PORT"
}

# metrics_fetch: healthd's /metrics into $T/metrics.txt; false when it did not answer
# within 2 s (healthd blocked or gone).
metrics_fetch() {
	curl -sf --max-time 2 "http://$CTL_ADDR:$CTL_PORT/metrics" >"$T/metrics.txt.new" 2>/dev/null &&
		mv -f "$T/metrics.txt.new" "$T/metrics.txt"
}

# metric NAME [SUBSTRING]: the sum of NAME's samples whose labels contain SUBSTRING,
# from the last metrics_fetch ("" when there is none).
metric() {
	awk -v n="$1" -v m="${2:-}" '
		{ name = $1; sub(/\{.*/, "", name) }
		name == n && index($1, m) { s += $NF; f = 1 }
		END { if (f) printf "%.0f\n", s }' "$T/metrics.txt" 2>/dev/null
}

rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null
}

# sanitizer_clean FILE: no AddressSanitizer, LeakSanitizer or UBSan report in FILE (where
# healthd's stderr went). Call it once healthd has exited: the leak check runs at exit.
sanitizer_clean() {
	local r
	r=$(grep -E 'ERROR: [A-Za-z]+Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$1" 2>/dev/null | head -n 3)
	if [ -z "$r" ]; then ok "no sanitizer report"; else not_ok "no sanitizer report" "$r"; fi
}
