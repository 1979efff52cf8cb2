#!/usr/bin/env bash
# bench/mix.sh: the 1,000-service mix in one healthd, beside as many Python healthcheck
# processes as the machine holds. See bench/README.md.
#
#   bash bench/mix.sh > mix.md
#   N=1000 WARMUP=15 WINDOW=60 PY_STEPS="10 20 40 80 160" TSV=out.tsv bash bench/mix.sh
#
# healthd: N services, each with a tcp (bench/listener.c on 127.0.0.1), an http (nginx)
# and a dns check (Knot, SOA), interval 1 s: 3 x N probes a second, counted by the servers.
# Over a steady window (WINDOW seconds from WARMUP): healthd's CPU (schedstat), RSS, PSS
# and Private_Dirty (/proc/PID/smaps_rollup), and from its /metrics (scraped at both ends
# of the window over the control socket): how late runs started against their timers
# (healthd_schedule_lateness_seconds) and the intervals missed (healthd_schedule_missed_total).
#
# Python: ExaBGP's healthcheck runs one command per process, so each process gets the
# same three checks as one command (bash /dev/tcp, curl, kdig against the same servers).
# Processes are added in steps (PY_STEPS, each the new total); each step is measured over
# PY_WINDOW seconds after PY_WARMUP. The growth stops after a step that used more than
# CPU_BUDGET % of one core (the Python processes and their commands together), whose
# probes a second per process fell under 80 % of the first step's (the machine no longer
# keeps up), or whose summed PSS passed MEM_BUDGET_MIB; and before a step when less than
# a quarter of the machine's memory is left. The last step within the budget is the one
# "the machine holds".
#
# Loopback only (nginx and Knot on ADDR=127.0.115.1, the listener on 127.0.0.1); every
# process is stopped by PID at exit. Markdown on stdout, progress on stderr; TSV (if set)
# gets rows "scenario<TAB>role<TAB>who<TAB>metric<TAB>value" for bench/compare.py.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000}
WARMUP=${WARMUP:-15}
WINDOW=${WINDOW:-60}
PY_STEPS=${PY_STEPS:-"10 20 40 80 160"}
PY_WARMUP=${PY_WARMUP:-10}
PY_WINDOW=${PY_WINDOW:-20}
CPU_BUDGET=${CPU_BUDGET:-100}
MEM_BUDGET_MIB=${MEM_BUDGET_MIB:-4096}
TSV=${TSV:-}
ADDR=127.0.115.1
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}
PY=/usr/bin/python3
PYHC=("$PY" -m exabgp healthcheck)
HZ=$(getconf CLK_TCK)
FAILED=0

log() { printf '[mix %s] %s\n' "$(date +%T)" "$*" >&2; }
[ -x "$HEALTHD" ] || {
	log "HEALTHD=$HEALTHD is not an executable (make)"
	exit 1
}
for c in nginx knotd knotc kdig curl openssl cc; do
	command -v "$c" >/dev/null || {
		log "$c not found (bash tests/deps.sh)"
		exit 1
	}
done
W=$(mktemp -d /tmp/healthd-mix.XXXXXX)
PIDS=()
stop_pids() { # SIGTERM, up to 5 s, then SIGKILL; reaps
	local p i alive
	for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1 && break; done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in "$@"; do kill -KILL "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
	return 0
}
cleanup() {
	trap - EXIT INT TERM
	[ "${#PIDS[@]}" -gt 0 ] && stop_pids "${PIDS[@]}"
	exec 7>&- 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source-path=SCRIPTDIR source=servers.sh
. "$ROOT/bench/servers.sh"

tsv() { [ -n "$TSV" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; return 0; }
probes() { echo $(($(listener_count) + $(nginx_count) + $(knot_count))); }
smaps_sum() { # smaps_sum KEY PID...: summed kB
	local k=$1 s=0 p x
	shift
	for p in "$@"; do
		x=$(kb /proc/"$p"/smaps_rollup "$k")
		s=$((s + ${x:-0}))
	done
	echo "$s"
}
child_ticks() { # reaped children's CPU (cutime + cstime), summed
	local s=0 p x
	for p in "$@"; do
		read -r x <"/proc/$p/stat" 2>/dev/null || continue
		x=${x##*) }
		# shellcheck disable=SC2086 # split on purpose
		set -- $x
		s=$((s + ${14} + ${15}))
	done
	echo "$s"
}
mem_avail_pct() { awk '/^MemTotal/ { t = $2 } /^MemAvailable/ { a = $2 } END { printf "%d", 100 * a / t }' /proc/meminfo; }

log "healthd $HEALTHD; N=$N WARMUP=$WARMUP WINDOW=$WINDOW; PY_STEPS=$PY_STEPS; load $(cut -d' ' -f1-3 /proc/loadavg)"
if ! { listener_start && nginx_start && knot_start; }; then
	log "the servers did not start (see $W)"
	KEEP=1
	exit 1
fi
mkfifo "$W/stdin"
exec 7<>"$W/stdin"

# ---- healthd: N services x (tcp, http, dns) ---------------------------------------------
mix_config "$N" "tcp http dns" >"$W/healthd.json"
"$HEALTHD" check -c "$W/healthd.json" >/dev/null 2>"$W/check.err" || {
	log "config rejected: $(head -n 3 "$W/check.err")"
	exit 1
}
scrape() { curl -s --max-time 10 --unix-socket "$W/ctl.sock" -o "$1" http://h/metrics; }

log "healthd: $N services x 3 checks, warm-up ${WARMUP}s, window ${WINDOW}s"
"$HEALTHD" run -c "$W/healthd.json" --no-state-file <&7 >"$W/healthd.out" 2>"$W/healthd.err" &
HPID=$!
PIDS+=("$HPID")
sleep "$WARMUP"
m0=$EPOCHREALTIME
scrape "$W/m0.txt"
c0=$(probes) p0=$(cpu_ns "$HPID") w0=$EPOCHREALTIME
sleep "$WINDOW"
c1=$(probes) p1=$(cpu_ns "$HPID") w1=$EPOCHREALTIME
rss=$(kb /proc/"$HPID"/smaps_rollup Rss) pss=$(kb /proc/"$HPID"/smaps_rollup Pss)
priv=$(kb /proc/"$HPID"/smaps_rollup Private_Dirty) hwm=$(kb /proc/"$HPID"/status VmHWM)
scrape "$W/m1.txt"
m1=$EPOCHREALTIME
up=$(awk '/^healthd_service_announced/ { s += $2 } END { print s + 0 }' "$W/m1.txt" 2>/dev/null)
alive=1
kill -0 "$HPID" 2>/dev/null || alive=0
stop_pids "$HPID"
if [ "$alive" != 1 ] || [ ! -s "$W/m0.txt" ] || [ ! -s "$W/m1.txt" ]; then
	log "healthd: FAILED (alive $alive; see $W/healthd.err)"
	FAILED=1
	KEEP=1
fi

# The window's lateness from the two scrapes: per bucket, the difference.
sched=$(awk '
	FNR == 1 { f++ }
	/^healthd_schedule_lateness_seconds_bucket/ { match($1, /le="[^"]*"/); le = substr($1, RSTART + 4, RLENGTH - 5)
		if (f == 1) a[le] = $2; else { b[le] = $2; if (!(le in seen)) { seen[le] = 1; order[++n] = le } } }
	/^healthd_schedule_lateness_seconds_sum/ { s[f] = $2 }
	/^healthd_schedule_missed_total/ { m[f] = $2 }
	/^healthd_check_runs_total/ { r[f] += $2 }
	/^healthd_check_skipped_total/ { k[f] += $2 }
	END {
		tot = b["+Inf"] - a["+Inf"]
		if (tot <= 0) { print "0 - - - - - - 0 0 0"; exit }
		for (q = 1; q <= 3; q++) { want = (q == 1 ? 0.5 : q == 2 ? 0.99 : 0.999) * tot; p[q] = "-"
			for (i = 1; i <= n; i++) if (b[order[i]] - a[order[i]] >= want) { p[q] = order[i]; break } }
		# the largest: the bound of the first bucket that holds every run of the window
		mx = "-"
		for (i = 1; i <= n; i++) if (b[order[i]] - a[order[i]] >= tot) { mx = order[i]; break }
		printf "%d %s %s %s %s %.6f %d %d %d %d\n", tot, p[1], p[2], p[3], mx, (s[2] - s[1]) / tot,
			m[2] - m[1], r[2] - r[1], k[2] - k[1], 0 }' "$W/m0.txt" "$W/m1.txt")
read -r s_runs s_p50 s_p99 s_p999 s_max s_mean s_missed s_results s_skipped _ <<<"$sched"
ms() { awk -v x="$1" 'BEGIN { if (x == "-" || x == "+Inf") print x; else printf "%g", x * 1000 }'; }
H_ROW=$(awk -v n="$N" -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v p0="$p0" -v p1="$p1" \
	-v rss="$rss" -v pss="$pss" -v priv="$priv" -v hwm="$hwm" 'BEGIN {
	w = w1 - w0; c = c1 - c0; cpu = (p1 - p0) / 1e9
	printf "%.1f %.1f %.2f %.2f %.1f %.1f %.1f %.1f %d", w, c / w, (c > 0 ? cpu / c * 1e6 : 0), 100 * cpu / w,
		rss / 1024, pss / 1024, priv / 1024, hwm / 1024, c }')
read -r h_w h_ps h_us h_pct h_rss h_pss h_priv h_hwm h_c <<<"$H_ROW"
log "healthd: $h_ps probes/s, $h_us µs/probe, $h_pct% of a core, RSS $h_rss MiB, Private_Dirty $h_priv MiB; lateness p99 <= $(ms "$s_p99") ms, missed $s_missed"
SC="1,000-service mix"
[ "$N" = 1000 ] || SC="$N-service mix"
WHO="healthd run -c ($N services x tcp+http+dns)"
tsv "$SC" healthd "$WHO" services "$N"
tsv "$SC" healthd "$WHO" probes_per_s "$h_ps"
tsv "$SC" healthd "$WHO" cpu_us_per_probe "$h_us"
tsv "$SC" healthd "$WHO" cpu_us_per_probe_with_commands "$h_us"
tsv "$SC" healthd "$WHO" cpu_pct "$h_pct"
tsv "$SC" healthd "$WHO" cpu_pct_per_service "$(awk -v a="$h_pct" -v n="$N" 'BEGIN { printf "%.5f", a / n }')"
tsv "$SC" healthd "$WHO" rss_mib "$h_rss"
tsv "$SC" healthd "$WHO" pss_mib "$h_pss"
tsv "$SC" healthd "$WHO" private_dirty_mib "$h_priv"
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.5f", a / n }'; }
tsv "$SC" healthd "$WHO" rss_mib_per_service "$(per "$h_rss" "$N")"
tsv "$SC" healthd "$WHO" pss_mib_per_service "$(per "$h_pss" "$N")"
tsv "$SC" healthd "$WHO" private_dirty_mib_per_service "$(per "$h_priv" "$N")"
tsv "$SC" healthd "$WHO" lateness_p99_ms "$(ms "$s_p99")"
tsv "$SC" healthd "$WHO" missed_runs "$s_missed"

# ---- Python: the same three checks as one command per process -----------------------
CMD="bash -c 'exec 3<>/dev/tcp/127.0.0.1/$LISTEN_PORT' && curl -fsS -o /dev/null --max-time 0.9 http://$ADDR:$NGINX_PORT/ && kdig @$ADDR -p $DNS_PORT +time=1 +retry=0 +short bench.test SOA >/dev/null"
PY_PIDS=()
PY_ROWS=()
HELD=""
HELD_TSV=()
RATE1=
for target in $PY_STEPS; do
	add=$((target - ${#PY_PIDS[@]}))
	[ "$add" -gt 0 ] || continue
	if [ "$(mem_avail_pct)" -lt 25 ]; then
		log "python: less than 25% of memory available; not growing to $target"
		break
	fi
	log "python: $add more healthcheck processes ($target in all), warm-up ${PY_WARMUP}s, window ${PY_WINDOW}s"
	for ((i = 0; i < add; i++)); do
		j=${#PY_PIDS[@]}
		"${PYHC[@]}" --cmd "$CMD" --ip "10.200.$((j / 256)).$((j % 256))" --interval 1 --fast-interval 0.5 \
			--rise 2 --fall 2 --no-ack --no-syslog --no-ip-setup <&7 >"$W/py.out.$j" 2>"$W/py.err.$j" &
		PIDS+=($!)
		PY_PIDS+=($!)
		sleep 0.02 # spread their phases, as healthd spreads its first runs
	done
	sleep "$PY_WARMUP"
	cpu_sum "${PY_PIDS[@]}"
	p0=$CPU_SUM w0=$EPOCHREALTIME t0=$(child_ticks "${PY_PIDS[@]}") c0=$(probes)
	sleep "$PY_WINDOW"
	cpu_sum "${PY_PIDS[@]}"
	p1=$CPU_SUM w1=$EPOCHREALTIME t1=$(child_ticks "${PY_PIDS[@]}") c1=$(probes) dead=0
	for p in "${PY_PIDS[@]}"; do kill -0 "$p" 2>/dev/null || dead=$((dead + 1)); done
	rss=$(smaps_sum Rss "${PY_PIDS[@]}") pss=$(smaps_sum Pss "${PY_PIDS[@]}")
	priv=$(smaps_sum Private_Dirty "${PY_PIDS[@]}")
	row=$(awk -v n="$target" -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v p0="$p0" -v p1="$p1" \
		-v t0="$t0" -v t1="$t1" -v hz="$HZ" -v rss="$rss" -v pss="$pss" -v priv="$priv" 'BEGIN {
		w = w1 - w0; c = c1 - c0; cpu = (p1 - p0) / 1e9; ch = (t1 - t0) / hz
		printf "%.1f %.1f %.2f %.2f %.2f %.2f %.1f %.1f %.1f %d", w, c / w, (c > 0 ? cpu / c * 1e6 : 0),
			(c > 0 ? (cpu + ch) / c * 1e6 : 0), 100 * cpu / w, 100 * (cpu + ch) / w, rss / 1024, pss / 1024,
			priv / 1024, c }')
	read -r y_w y_ps y_us y_usall y_pct y_pctall y_rss y_pss y_priv y_c <<<"$row"
	why=""
	awk -v a="$y_pctall" -v b="$CPU_BUDGET" 'BEGIN { exit !(a > b) }' && why="over the CPU budget ($y_pctall% > $CPU_BUDGET% of a core)"
	# Each process sleeps its interval after its command ends, so it runs less than 3
	# probes a second by design; saturation shows as a lower rate per process than at
	# the first step.
	rate=$(awk -v a="$y_ps" -v n="$target" 'BEGIN { printf "%.3f", a / n }')
	[ -n "$RATE1" ] || RATE1=$rate
	awk -v a="$rate" -v b="$RATE1" 'BEGIN { exit !(a < 0.8 * b) }' && why="${why:+$why; }$rate probes/s per process, under 80% of the first step's $RATE1"
	awk -v a="$y_pss" -v b="$MEM_BUDGET_MIB" 'BEGIN { exit !(a > b) }' && why="${why:+$why; }PSS $y_pss MiB > $MEM_BUDGET_MIB MiB"
	[ "$dead" -gt 0 ] && why="${why:+$why; }$dead processes exited"
	PY_ROWS+=("| $target | $y_c in ${y_w} s ($y_ps/s) | $y_us µs | $y_usall µs | $y_pct% | $y_pctall% | $y_rss MiB | $y_pss MiB | $y_priv MiB | ${why:-within} |")
	log "python: ${PY_ROWS[-1]}"
	if [ -n "$why" ] && [ -n "$HELD" ]; then break; fi
	HELD=$target
	SCP="$SC"
	WHOP="python3 -m exabgp healthcheck x $target (one command: bash /dev/tcp, curl, kdig)"
	HELD_TSV=()
	HELD_TSV+=("services $target" "probes_per_s $y_ps" "cpu_us_per_probe $y_us" "cpu_us_per_probe_with_commands $y_usall"
		"cpu_pct $y_pctall" "cpu_pct_per_service $(per "$y_pctall" "$target")"
		"rss_mib $y_rss" "pss_mib $y_pss" "private_dirty_mib $y_priv"
		"rss_mib_per_service $(per "$y_rss" "$target")" "pss_mib_per_service $(per "$y_pss" "$target")"
		"private_dirty_mib_per_service $(per "$y_priv" "$target")")
	[ -n "$why" ] && break # the first step already over: it is what the machine held
done
[ "${#PY_PIDS[@]}" -gt 0 ] && stop_pids "${PY_PIDS[@]}"
for kv in "${HELD_TSV[@]}"; do tsv "$SCP" peer "$WHOP" "${kv%% *}" "${kv#* }"; done
[ -n "$HELD" ] || FAILED=1

cat <<EOF
### The 1,000-service mix (bench/mix.sh)

$N services in one healthd, each with a tcp check (bench/listener.c, 127.0.0.1), an http
check (nginx, one worker, \`GET /\`) and a dns check (Knot, \`bench.test SOA\`) on
$ADDR, interval 1 s, fast interval 0.5 s, timeout 0.9 s, rise 2, fall 2: $((3 * N))
probes a second, counted by the servers. Steady window: ${WINDOW}s from ${WARMUP}s after
the start. Lateness is how late each run started against its timer, from the difference
of \`healthd_schedule_lateness_seconds\` between a scrape of /metrics at each end of the
window (a percentile is the upper bound of its bucket: 0.1, 0.25, 0.5, 1, 2.5, 5, 10 ms
...); one scrape (rendering about $((3 * N)) checks' series) falls inside the window.

| | healthd | target |
|---|---|---|
| probes in the window | $h_c in ${h_w} s ($h_ps/s) | $((3 * N))/s |
| CPU per probe | $h_us µs | |
| CPU, % of one core | $h_pct% | < 17% |
| RSS (smaps_rollup) | $h_rss MiB (peak VmHWM $h_hwm MiB) | < 32 MiB |
| Private_Dirty | $h_priv MiB | |
| PSS | $h_pss MiB | |
| runs started between the scrapes ($(awk -v a="$m0" -v b="$m1" 'BEGIN { printf "%.1f", b - a }') s; failing checks run at the fast interval) | $s_runs (results: $s_results; skipped, previous still going: $s_skipped) | |
| lateness p50 / p99 / p99.9 / largest bucket | <= $(ms "$s_p50") / <= $(ms "$s_p99") / <= $(ms "$s_p999") / <= $(ms "$s_max") ms (mean $(awk -v x="$s_mean" 'BEGIN { printf "%.3f", x * 1000 }') ms) | p99 < 5 ms |
| missed runs (\`healthd_schedule_missed_total\`) | $s_missed | none |
| services announced at the end (\`healthd_service_announced\`) | $up of $N | |

Python: ExaBGP's healthcheck runs one command per process, so each process (one service)
runs the same three checks as one command, \`$(printf '%s' "$CMD" | sed "s/$LISTEN_PORT/PORT/; s/$NGINX_PORT/PORT/; s/$DNS_PORT/PORT/")\`,
interval 1 s, fast interval 0.5 s, rise 2, fall 2. Processes were added in steps
(PY_STEPS="$PY_STEPS", each the new total, started 20 ms apart; each step measured over
${PY_WINDOW}s after ${PY_WARMUP}s); growth stopped after a step over CPU_BUDGET=$CPU_BUDGET% of
one core (programs and their commands), a rate per process under 80% of the first
step's (each process sleeps its interval after its command ends, so its own rate is
under 3 probes a second by design), PSS over MEM_BUDGET_MIB=$MEM_BUDGET_MIB, or under
25% of memory left. Held: **${HELD:-none}**
processes. "Programs" is the healthcheck processes' own CPU; "with commands" adds their
reaped children's (bash, curl, kdig; 1/$HZ s ticks).

| processes (services) | probes in the window | programs' CPU per probe | with commands, per probe | programs, % of one core | with commands, % of one core | RSS (summed) | PSS (summed) | Private_Dirty (summed) | budget |
|---|---|---|---|---|---|---|---|---|---|
EOF
printf '%s\n' "${PY_ROWS[@]}"
exit "$FAILED"
