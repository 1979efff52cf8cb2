#!/usr/bin/env bash
# The schedule's own metrics (docs/control.md): healthd_schedule_lateness_seconds, how late
# each check run started against its timer, and healthd_schedule_missed_total, the whole
# intervals runs started late. healthd runs 20 tcp checks every 200ms against a listener
# on loopback, with the control endpoint on a unix socket and no speaker:
#   the histogram is well formed (promtool; cumulative buckets; +Inf = count) and counts
#   every run: at least the results, at most the results plus one run in flight per check;
#   stopped (SIGSTOP) for 1.5 s, healthd then reports runs more than 1 s late and at
#   least one missed interval per check; nothing is asserted about a quiet machine's
#   lateness (that is bench/'s to measure).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_schedule_metrics.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ADDR=127.0.115.1 # this test's own loopback address
N=20

it_init
it_need curl
it_need_healthd

PORT=$(free_port)
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(128)
while True:
    c, _ = s.accept()
    c.close()
' "$ADDR" "$PORT" </dev/null >/dev/null 2>&1 &
LISTENER=$!
wait_tcp "$ADDR" "$PORT" 5 || not_ok "the listener starts on $ADDR:$PORT"

{
	printf '{ "control": { "listen": "unix:%s/ctl.sock" },\n' "$T"
	printf '  "defaults": { "interval": "200ms", "fast_interval": "200ms", "timeout": "150ms", "rise": 1, "fall": 1 },\n'
	printf '  "services": [\n'
	for ((i = 0; i < N; i++)); do
		[ "$i" -gt 0 ] && printf ',\n'
		printf '    { "name": "s%d", "prefixes": [ "10.115.%d.0/24" ], "checks": [ { "type": "tcp", "host": "%s", "port": %s } ] }' \
			"$i" "$i" "$ADDR" "$PORT"
	done
	printf '\n  ]\n}\n'
} >"$T/healthd.json"

mkfifo "$T/in"
exec 7<>"$T/in" # stdin held open: healthd ends at its EOF
"$HEALTHD" run -c "$T/healthd.json" --no-state-file <&7 >"$T/healthd.out" 2>"$T/healthd.err" &
HEALTHD_PID=$!
HEALTHD_START=$(pid_start "$HEALTHD_PID")
for ((i = 0; i < 50; i++)); do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done

metrics() { curl -s --max-time 5 --unix-socket "$T/ctl.sock" http://healthd/metrics; }
# value FILE NAME: the sample NAME (the full series, labels included) in FILE.
value() { awk -v n="$2" '$1 == n { print $2; exit }' "$1"; }
sum_of() { awk -v p="$2{" 'index($1, p) == 1 { s += $2 } END { print s + 0 }' "$1"; }

sleep 2
metrics >"$T/m1.txt"
count=$(value "$T/m1.txt" healthd_schedule_lateness_seconds_count)
inf=$(value "$T/m1.txt" 'healthd_schedule_lateness_seconds_bucket{le="+Inf"}')
runs=$(sum_of "$T/m1.txt" healthd_check_runs_total)
mono=$(awk '$1 ~ /^healthd_schedule_lateness_seconds_bucket/ { if ($2 < last) bad = 1; last = $2 } END { print bad ? "no" : "yes" }' "$T/m1.txt")
note "after 2 s: $count runs started, $runs results; missed $(value "$T/m1.txt" healthd_schedule_missed_total)"
if [ -n "$count" ] && [ "$count" = "$inf" ] && [ "$mono" = yes ] && [ "$runs" -gt 0 ] &&
	[ "$count" -ge "$runs" ] && [ "$count" -le $((runs + N)) ]; then
	ok "lateness histogram: cumulative buckets, +Inf = count = $count, between $runs results and $runs + $N"
else not_ok "lateness histogram well formed and counting runs" "count=$count +Inf=$inf results=$runs cumulative=$mono"; fi
if command -v promtool >/dev/null; then
	if promtool check metrics <"$T/m1.txt" >"$T/promtool.out" 2>&1; then ok "promtool check metrics: no problem"
	else not_ok "promtool check metrics" "$(head -5 "$T/promtool.out")"; fi
fi

# Stopped for 1.5 s: every check's run is due meanwhile, so each starts over 1 s late.
le1=$(value "$T/m1.txt" 'healthd_schedule_lateness_seconds_bucket{le="1"}')
missed1=$(value "$T/m1.txt" healthd_schedule_missed_total)
kill -STOP "$HEALTHD_PID"
sleep 1.5
kill -CONT "$HEALTHD_PID"
sleep 1
metrics >"$T/m2.txt"
count2=$(value "$T/m2.txt" healthd_schedule_lateness_seconds_count)
le2=$(value "$T/m2.txt" 'healthd_schedule_lateness_seconds_bucket{le="1"}')
missed2=$(value "$T/m2.txt" healthd_schedule_missed_total)
late=$((count2 - le2 - (count - le1)))
note "after SIGSTOP 1.5 s: $late runs over 1 s late, missed $missed1 -> $missed2"
if [ "$late" -ge "$N" ] && [ $((missed2 - missed1)) -ge "$N" ]; then
	ok "a stopped healthd: $late runs started over 1 s late, $((missed2 - missed1)) intervals missed (at least $N)"
else not_ok "a stopped healthd shows late runs and missed intervals" "over 1 s late: $late; missed $missed1 -> $missed2"; fi
if alive "$HEALTHD_PID"; then ok "healthd still running"; else not_ok "healthd still running" "$(tail -5 "$T/healthd.err")"; fi
kill_pid "$LISTENER" 2

it_finish
