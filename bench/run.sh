#!/usr/bin/env bash
# bench/run.sh: healthd against the same work done by ExaBGP's healthcheck (Debian's
# exabgp 4.2.21, `/usr/bin/python3 -m exabgp healthcheck`). See bench/README.md.
#
#   bash bench/run.sh                      # builds build/bin/healthd with make if missing
#   HEALTHD=/path/to/healthd bash bench/run.sh
#
# Environment: DURATION (s each load scenario runs, 20), WARMUP (s before the steady
# window opens, 5; 10 for the 50 Python processes), REPS (failure/recovery repetitions
# per program, 10), CALLGRIND (1: instruction counts; 0: skip), PY_N (Python processes
# in the many-services comparison, 50), SERVICES (healthd service counts, "1 50 200"),
# KEEP (1: keep the work directory), PARTS (which parts run: "load react callgrind"),
# TSV (a file: also append each result as rows "scenario<TAB>role<TAB>who<TAB>metric<TAB>
# value", role healthd or peer, for bench/compare.py).
#
# Everything runs on this machine: the only network targets are 127.0.0.1 ports of a
# listener this script starts. Every process started is killed by PID at the end, every
# wait is bounded. Progress goes to stderr; the Markdown report to stdout. Exit 0 when
# every scenario produced its numbers, 1 otherwise.
# shellcheck disable=SC2317 # cleanup and the count functions are called indirectly
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
REPS=${REPS:-10}
CALLGRIND=${CALLGRIND:-1}
PY_N=${PY_N:-50}
SERVICES=${SERVICES:-"1 50 200"}
KEEP=${KEEP:-0}
PARTS=${PARTS:-"load react callgrind"}
TSV=${TSV:-}
PY=/usr/bin/python3
PYHC=("$PY" -m exabgp healthcheck)
HZ=$(getconf CLK_TCK)
FAILED=0

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

# ---- healthd ----------------------------------------------------------------------
if [ -z "${HEALTHD:-}" ]; then
	HEALTHD=$ROOT/build/bin/healthd
	if [ ! -x "$HEALTHD" ]; then
		log "building $HEALTHD with make"
		make -C "$ROOT" >&2 || {
			log "make failed"
			exit 1
		}
	fi
fi
if [ ! -x "$HEALTHD" ]; then
	log "HEALTHD=$HEALTHD is not an executable"
	exit 1
fi
HEALTHD=$(cd "$(dirname "$HEALTHD")" && pwd)/$(basename "$HEALTHD")
if ! "${PYHC[@]}" --help >/dev/null 2>&1; then
	log "ExaBGP's healthcheck does not run (${PYHC[*]}): apt-get install exabgp"
	exit 1
fi
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
	log "valgrind not found: instruction counts skipped (apt-get install valgrind)"
	CALLGRIND=0
fi

# ---- work directory, processes, cleanup ----------------------------------------------
W=$(mktemp -d /tmp/healthd-bench.XXXXXX)
PIDS=() # every process this script starts, killed by PID at exit

stop_pids() { # stop_pids PID...: SIGTERM, up to 5 s, then SIGKILL; reaps them
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

forget() { # forget PID...: drop stopped (reaped) PIDs from PIDS, so a reused PID is never killed
	local p q keep=()
	for p in "${PIDS[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

cleanup() {
	trap - EXIT INT TERM
	[ -n "$NAP" ] && kill "$NAP" 2>/dev/null
	[ "${#PIDS[@]}" -gt 0 ] && stop_pids "${PIDS[@]}"
	exec 7>&- 2>/dev/null
	if [ "$KEEP" = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# stdin for every program: a FIFO held open (read-write) by this script, never written.
mkfifo "$W/stdin"
exec 7<>"$W/stdin"

cc -O2 -Wall -Wextra -o "$W/listener" "$BENCH/listener.c" || {
	log "cannot build bench/listener.c"
	exit 1
}
mkdir -p "$W/listen"
"$W/listener" "$W/listen" 1800 &
LISTENER=$!
PIDS+=("$LISTENER")
for ((i = 0; i < 50; i++)); do [ -s "$W/listen/port" ] && break; sleep 0.1; done
PORT=$(cat "$W/listen/port" 2>/dev/null)
if [ -z "$PORT" ]; then
	log "the listener did not start"
	exit 1
fi
log "healthd $HEALTHD; listener on 127.0.0.1:$PORT; work in $W"

# ---- measurement helpers ---------------------------------------------------------------
# cpu_ns PID, cpu_sum PID... (on-CPU ns from /proc/PID/task/*/schedstat) come from
# servers.sh, as do the servers' helpers; run.sh's own listener_count below replaces its.
# shellcheck source-path=SCRIPTDIR source=servers.sh
. "$ROOT/bench/servers.sh"
# utime stime cutime cstime (clock ticks) from /proc/PID/stat.
stat_ticks() {
	local s
	read -r s <"/proc/$1/stat" 2>/dev/null || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # split on purpose
	set -- $s
	echo "${12} ${13} ${14} ${15}"
}
# proc_kb FILE KEY: a "KEY: N kB" field; bash only, no fork (50 processes are sampled
# back to back, on a machine that may be loaded).
proc_kb() {
	local k v _
	while read -r k v _; do
		[ "$k" = "$2:" ] && echo "$v" && return 0
	done <"$1"
	echo 0
} 2>/dev/null
# tsv SCENARIO ROLE WHO METRIC VALUE: one row of the machine-readable output (TSV set)
tsv() { [ -n "$TSV" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; return 0; }
# What measure and react write to TSV: the scenario, healthd or peer, and which program.
TSV_SC="" TSV_ROLE="" TSV_WHO=""
NAP=
sleep_until() { # sleep_until EPOCH; a signal to this script interrupts it (wait, not sleep)
	local d
	d=$(awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { d = t - n; if (d > 0) printf "%.3f", d; else print 0 }')
	sleep "$d" &
	NAP=$!
	wait "$NAP"
	NAP=
}
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
listener_count() { cat "$W/listen/count"; }

ROWS=()
# measure LABEL COUNT_FN WARMUP PID...: the processes were started at $T0. Samples at
# T0+WARMUP and T0+DURATION, then stops them and adds one table row.
measure() {
	local label=$1 count_fn=$2 warm=$3
	shift 3
	local pids=("$@") p c0 c1 cpu0=0 cpu1=0 ut=0 st=0 cu=0 cs=0 hwm=0 pss=0 priv=0 dead=0 x a b c d
	# the steady window needs at least half of the run
	warm=$(awk -v w="$warm" -v d="$DURATION" 'BEGIN { print (w > d / 2 ? d / 2 : w) }')
	sleep_until "$(awk -v a="$T0" -v b="$warm" 'BEGIN { printf "%.6f", a + b }')"
	c0=$($count_fn)
	cpu_sum "${pids[@]}"
	cpu0=$CPU_SUM
	local tw0=$EPOCHREALTIME
	sleep_until "$(awk -v a="$T0" -v b="$DURATION" 'BEGIN { printf "%.6f", a + b }')"
	c1=$($count_fn)
	local tw1=$EPOCHREALTIME
	for p in "${pids[@]}"; do
		if ! kill -0 "$p" 2>/dev/null; then
			dead=$((dead + 1))
			continue
		fi
		cpu_sum "$p"
		cpu1=$((cpu1 + CPU_SUM))
		read -r a b c d <<<"$(stat_ticks "$p")"
		ut=$((ut + a)) st=$((st + b)) cu=$((cu + c)) cs=$((cs + d))
		x=$(proc_kb /proc/"$p"/status VmHWM)
		hwm=$((hwm + ${x:-0}))
		x=$(proc_kb /proc/"$p"/smaps_rollup Pss)
		pss=$((pss + ${x:-0}))
		x=$(proc_kb /proc/"$p"/smaps_rollup Private_Dirty)
		priv=$((priv + ${x:-0}))
	done
	stop_pids "${pids[@]}"
	forget "${pids[@]}"
	if [ "$dead" -gt 0 ] || [ "$c1" -le "$c0" ]; then
		log "$label: FAILED ($dead of ${#pids[@]} processes gone early, checks $c0 -> $c1)"
		ROWS+=("| $label | ${#pids[@]} | failed: $dead processes exited early, checks $c0 -> $c1 | | | | | | | |")
		FAILED=1
		return
	fi
	ROWS+=("$(awk -v l="$label" -v n="${#pids[@]}" -v c0="$c0" -v c1="$c1" -v w0="$tw0" -v w1="$tw1" \
		-v p0="$cpu0" -v p1="$cpu1" -v ut="$ut" -v st="$st" -v cu="$cu" -v cs="$cs" -v hz="$HZ" \
		-v hwm="$hwm" -v pss="$pss" 'BEGIN {
		win = w1 - w0; k = c1 - c0; cpu = (p1 - p0) / 1e9
		printf "| %s | %d | %d | %.1f | %.0f | %.2f / %.2f | %.2f | %.0f | %.2f | %.1f | %.1f |",
			l, n, k, k / win, p1 / 1e6, ut / hz, st / hz, (cu + cs) / hz, cpu / k * 1e6, 100 * cpu / win,
			hwm / 1024, pss / 1024 }')")
	log "$label: ${ROWS[-1]}"
	[ -n "$TSV" ] && awk -v sc="$TSV_SC" -v role="$TSV_ROLE" -v who="$TSV_WHO" -v c0="$c0" -v c1="$c1" \
		-v w0="$tw0" -v w1="$tw1" -v p0="$cpu0" -v p1="$cpu1" -v hwm="$hwm" -v pss="$pss" -v priv="$priv" \
		-v n="${#pids[@]}" 'BEGIN {
		win = w1 - w0; k = c1 - c0; cpu = (p1 - p0) / 1e9; OFS = "\t"
		print sc, role, who, "processes", n
		print sc, role, who, "checks_per_s", sprintf("%.2f", k / win)
		print sc, role, who, "cpu_us_per_check", sprintf("%.1f", cpu / k * 1e6)
		print sc, role, who, "cpu_pct", sprintf("%.3f", 100 * cpu / win)
		print sc, role, who, "peak_rss_mib", sprintf("%.1f", hwm / 1024)
		print sc, role, who, "pss_mib", sprintf("%.1f", pss / 1024)
		print sc, role, who, "private_dirty_mib", sprintf("%.1f", priv / 1024) }' >>"$TSV"
	return 0
}

# ---- the scenarios ---------------------------------------------------------------------
# Exec check for one service: appends a line per run, always healthy. The same string is
# given to python (shell=True: /bin/sh -c), to healthd's drop-in (/bin/sh -c) and to
# healthd run ("shell": true: /bin/sh -c).
I1=0.1 F1=0.1
run_single() { # run_single py|dropin|run DIR
	local who=$1 d=$2
	mkdir -p "$d"
	local cmd="echo x >> $d/count"
	local flags=(--cmd "$cmd" --ip 192.0.2.1 --interval "$I1" --fast-interval "$F1"
		--rise 2 --fall 2 --no-ack --no-syslog --no-ip-setup)
	T0=$EPOCHREALTIME
	case $who in
	py) "${PYHC[@]}" "${flags[@]}" <&7 >"$d/out" 2>"$d/err" & ;;
	dropin) "$HEALTHD" "${flags[@]}" <&7 >"$d/out" 2>"$d/err" & ;;
	run)
		cat >"$d/healthd.json" <<EOF
{ "speaker": { "type": "exabgp" }, "allow_root_exec": true,
  "defaults": { "interval": "${I1}s", "fast_interval": "${F1}s", "timeout": "90ms", "rise": 2, "fall": 2 },
  "services": [ { "name": "s1", "prefixes": [ "192.0.2.1/32" ],
                  "checks": [ { "type": "exec", "shell": true, "command": "$cmd" } ] } ] }
EOF
		"$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/out" 2>"$d/err" &
		;;
	esac
	PIDS+=($!)
	LAST=$!
}

# N services, one tcp check each against the listener, in one healthd process.
# tcp: healthd's own tcp probe; exec: the command the Python processes run (below).
TCPCMD="bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT'"
config_many() { # config_many N tcp|exec FILE
	local n=$1 kind=$2 f=$3 i chk
	{
		printf '{ "speaker": { "type": "exabgp" }, "allow_root_exec": true,\n'
		printf '  "defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "500ms", "rise": 2, "fall": 2 },\n'
		printf '  "services": [\n'
		for ((i = 0; i < n; i++)); do
			if [ "$kind" = tcp ]; then
				chk="{ \"type\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": $PORT }"
			else
				chk="{ \"type\": \"exec\", \"shell\": true, \"command\": \"bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT'\" }"
			fi
			printf '    { "name": "s%d", "prefixes": [ "192.0.2.%d/32" ], "checks": [ %s ] }%s\n' \
				"$i" "$i" "$chk" "$([ $((i + 1)) -lt "$n" ] && echo ,)"
		done
		printf '  ] }\n'
	} >"$f"
}

SCEN_COUNT=
count_scen() { lines "$SCEN_COUNT"; }
tsv_who() { # tsv_who py|dropin|run KIND: TSV_ROLE and TSV_WHO for that program
	case $1 in
	py) TSV_ROLE=peer TSV_WHO="python3 -m exabgp healthcheck ($2)" ;;
	dropin) TSV_ROLE=healthd TSV_WHO="healthd --cmd, the drop-in ($2)" ;;
	run) TSV_ROLE=healthd TSV_WHO="healthd run -c ($2)" ;;
	esac
}

load_scenarios() {
	local d who label
	for who in py dropin run; do
		case $who in
		py) label="1 service, exec: \`python3 -m exabgp healthcheck --cmd ...\`" ;;
		dropin) label="1 service, exec: \`healthd --cmd ...\` (drop-in)" ;;
		run) label="1 service, exec: \`healthd run -c\`" ;;
		esac
		d=$W/single-$who
		log "running: $label, ${DURATION}s"
		tsv_who "$who" "exec"
		TSV_SC="1 service"
		run_single "$who" "$d"
		SCEN_COUNT=$d/count
		measure "$label" count_scen "$WARMUP" "$LAST"
	done

	local n
	for n in $SERVICES; do
		d=$W/tcp-$n
		mkdir -p "$d"
		config_many "$n" tcp "$d/healthd.json"
		label="$n service$([ "$n" = 1 ] || echo s), tcp: \`healthd run -c\`"
		# beside the Python processes when as many (their exec scenario below), else alone
		TSV_SC="$n services" TSV_ROLE=healthd TSV_WHO="healthd run -c (tcp probe)"
		[ "$n" = "$PY_N" ] || TSV_SC="$n service$([ "$n" = 1 ] || echo s), tcp"
		log "running: $label, ${DURATION}s"
		T0=$EPOCHREALTIME
		"$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/out" 2>"$d/err" &
		PIDS+=($!)
		measure "$label" listener_count "$WARMUP" $!
	done

	d=$W/exec-$PY_N
	mkdir -p "$d"
	config_many "$PY_N" exec "$d/healthd.json"
	label="$PY_N services, exec \`bash /dev/tcp\`: \`healthd run -c\`"
	TSV_SC="$PY_N services" TSV_ROLE=healthd TSV_WHO="healthd run -c (exec, the same command)"
	log "running: $label, ${DURATION}s"
	T0=$EPOCHREALTIME
	"$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/out" 2>"$d/err" &
	PIDS+=($!)
	measure "$label" listener_count "$WARMUP" $!

	d=$W/py-$PY_N
	mkdir -p "$d"
	label="$PY_N services, exec \`bash /dev/tcp\`: $PY_N × \`python3 -m exabgp healthcheck\`"
	TSV_SC="$PY_N services" TSV_ROLE=peer TSV_WHO="$PY_N x python3 -m exabgp healthcheck (exec)"
	log "running: $label, ${DURATION}s"
	local pids=() i
	for ((i = 0; i < PY_N; i++)); do
		"${PYHC[@]}" --cmd "$TCPCMD" --ip "192.0.2.$i" --interval 1 --fast-interval 0.5 \
			--rise 2 --fall 2 --no-ack --no-syslog --no-ip-setup <&7 >"$d/out.$i" 2>"$d/err.$i" &
		PIDS+=($!)
		pids+=($!)
		sleep 0.02 # spread their phases over the 1 s interval, as healthd spreads its checks
	done
	T0=$EPOCHREALTIME # from the last start: on a loaded machine starting 50 takes a while
	local pw=$((WARMUP > 10 ? WARMUP : 10))
	measure "$label" listener_count "$pw" "${pids[@]}"
}

# ---- reaction to a scripted failure ----------------------------------------------------
# The check records when it runs and fails while DIR/fail exists. The program's stdout
# goes through a reader that stamps each line with the time it arrived. For each
# repetition: a random pause (0 to the interval, so the failure lands at a random point
# of it), create DIR/fail, wait for the withdraw line, another random pause, remove
# DIR/fail, wait for the announce line.
I2_MS=500 F2=0.1
I2=0.$I2_MS
REACT=()
react() { # react py|dropin|run LABEL
	local who=$1 label=$2
	local d=$W/react-$who prog r i
	mkdir -p "$d"
	: >"$d/checks"
	mkfifo "$d/outfifo"
	# exit 2 on failure: for healthd's exec check exit 1 means healthy with a warning
	local cmd="date +%s.%N >> $d/checks; test ! -e $d/fail || exit 2"
	local flags=(--cmd "$cmd" --ip 192.0.2.1 --interval "$I2" --fast-interval "$F2"
		--rise 2 --fall 2 --withdraw-on-down --no-ack --no-syslog --no-ip-setup)
	# the reader: bash, no fork per line; it ends at EOF when the program exits
	: >"$d/ts"
	(while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done) <"$d/outfifo" >"$d/ts" &
	PIDS+=($!)
	local reader=$!
	case $who in
	py) "${PYHC[@]}" "${flags[@]}" <&7 >"$d/outfifo" 2>"$d/err" & ;;
	dropin) "$HEALTHD" "${flags[@]}" <&7 >"$d/outfifo" 2>"$d/err" & ;;
	run)
		cat >"$d/healthd.json" <<EOF
{ "speaker": { "type": "exabgp" }, "allow_root_exec": true,
  "defaults": { "interval": "${I2}s", "fast_interval": "${F2}s", "timeout": "400ms", "rise": 2, "fall": 2 },
  "services": [ { "name": "s1", "prefixes": [ "192.0.2.1/32" ], "on_down": "withdraw",
                  "checks": [ { "type": "exec", "shell": true, "command": "$cmd" } ] } ] }
EOF
		"$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/outfifo" 2>"$d/err" &
		;;
	esac
	prog=$!
	PIDS+=("$prog")
	# wait_line WORD AFTER: the stamp of the first WORD line stamped after AFTER (10 s max)
	wait_line() {
		local x
		for ((i = 0; i < 500; i++)); do
			x=$(awk -v w="$1" -v t="$2" '$1 > t && $2 == w { print $1; exit }' "$d/ts" 2>/dev/null)
			[ -n "$x" ] && echo "$x" && return 0
			sleep 0.02
		done
		return 1
	}
	local ok=1 tf tw tr ta dw da fw fa
	: >"$d/samples"
	if ! wait_line announce 0 >/dev/null; then ok=0; fi
	for ((r = 0; r < REPS && ok; r++)); do
		sleep "0.$(printf '%03d' $((RANDOM % I2_MS)))"
		tf=$EPOCHREALTIME
		: >"$d/fail"
		tw=$(wait_line withdraw "$tf") || ok=0
		# the check run that decided DOWN: the last one that started before the withdraw
		dw=$(awk -v t="$tw" '$1 < t { x = $1 } END { print x }' "$d/checks")
		# the first run that saw the failure
		fw=$(awk -v t="$tf" '$1 > t { print $1; exit }' "$d/checks")
		sleep "0.$(printf '%03d' $((RANDOM % I2_MS)))"
		tr=$EPOCHREALTIME
		rm -f "$d/fail"
		ta=$(wait_line announce "$tr") || ok=0
		da=$(awk -v t="$ta" '$1 < t { x = $1 } END { print x }' "$d/checks")
		fa=$(awk -v t="$tr" '$1 > t { print $1; exit }' "$d/checks")
		[ "$ok" = 1 ] && echo "$tf $tw $dw $fw $tr $ta $da $fa" >>"$d/samples"
	done
	stop_pids "$prog"
	stop_pids "$reader"
	forget "$prog" "$reader"
	if [ "$ok" != 1 ]; then
		log "reaction, $label: FAILED"
		REACT+=("| $label | failed (see $d) | | | | | | |")
		FAILED=1
		return
	fi
	REACT+=("$(awk -v l="$label" '
		function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
		function mn(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] < m) m = a[i]; return m }
		function mx(a, n,   i, m) { m = a[1]; for (i = 2; i <= n; i++) if (a[i] > m) m = a[i]; return m }
		function f0(a, n) { return sprintf("%.0f (%.0f-%.0f)", med(a, n), mn(a, n), mx(a, n)) }
		function f1(a, n) { return sprintf("%.1f (%.1f-%.1f)", med(a, n), mn(a, n), mx(a, n)) }
		{ n++; w[n] = ($2 - $1) * 1000; fw[n] = ($2 - $4) * 1000; dw[n] = ($2 - $3) * 1000
		  a[n] = ($6 - $5) * 1000; fa[n] = ($6 - $8) * 1000; da[n] = ($6 - $7) * 1000 }
		END { printf "| %s | %d | %s | %s | %s | %s | %s | %s |", l, n, f0(w, n), f0(fw, n), f1(dw, n),
			f0(a, n), f0(fa, n), f1(da, n) }' "$d/samples")")
	log "reaction, $label: ${REACT[-1]}"
	tsv_who "$who" "exec"
	[ -n "$TSV" ] && awk -v sc="failure of an exec check" -v role="$TSV_ROLE" -v who="$TSV_WHO" '
		function med(a, n,   i, j, t) { for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
			return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
		{ n++; w[n] = ($2 - $1) * 1000; dw[n] = ($2 - $3) * 1000; a[n] = ($6 - $5) * 1000 }
		END { OFS = "\t"
			print sc, role, who, "withdraw_median_ms", sprintf("%.1f", med(w, n))
			print sc, role, who, "announce_median_ms", sprintf("%.1f", med(a, n))
			print sc, role, who, "decision_to_withdraw_median_ms", sprintf("%.2f", med(dw, n)) }' "$d/samples" >>"$TSV"
	return 0
}

# ---- instruction counts (callgrind) ----------------------------------------------------
# Each program runs under callgrind until its check has run N times (the N-th run sends it
# SIGTERM); instructions of the program's own process (not of the check commands).
# Two N give the cost per check: (Ir(N2) - Ir(N1)) / (N2 - N1).
CG_N1=10 CG_N2=40
CG=()
cg_run() { # cg_run py|dropin|run N: sets CG_IR (empty on failure) and CG_C, the checks run
	local who=$1 n=$2 d=$W/cg-$1-$2
	mkdir -p "$d"
	cat >"$d/check.sh" <<EOF
#!/bin/sh
echo x >>"$d/count"
if [ "\$(wc -l <"$d/count")" -ge $n ] && [ ! -e "$d/sent" ]; then : >"$d/sent"; kill -TERM "\$(cat "$d/pid")"; fi
exit 0
EOF
	chmod +x "$d/check.sh"
	local cmd="$d/check.sh"
	local vg=(timeout -k 5 180 valgrind --tool=callgrind --trace-children=no
		"--callgrind-out-file=$d/cg.%p" --log-file="$d/vg.log")
	local flags=(--cmd "$cmd" --ip 192.0.2.1 --interval 0.1 --fast-interval 0.1
		--rise 2 --fall 2 --no-ack --no-syslog --no-ip-setup)
	case $who in
	py) "${vg[@]}" "${PYHC[@]}" "${flags[@]}" <&7 >"$d/out" 2>"$d/err" & ;;
	dropin) "${vg[@]}" "$HEALTHD" "${flags[@]}" <&7 >"$d/out" 2>"$d/err" & ;;
	run)
		cat >"$d/healthd.json" <<EOF
{ "speaker": { "type": "exabgp" }, "allow_root_exec": true,
  "defaults": { "interval": "100ms", "fast_interval": "100ms", "timeout": "90ms", "rise": 2, "fall": 2 },
  "services": [ { "name": "s1", "prefixes": [ "192.0.2.1/32" ],
                  "checks": [ { "type": "exec", "shell": true, "command": "$cmd" } ] } ] }
EOF
		"${vg[@]}" "$HEALTHD" run -c "$d/healthd.json" <&7 >"$d/out" 2>"$d/err" &
		;;
	esac
	local t=$!
	PIDS+=("$t")
	CG_IR="" CG_C=""
	# timeout(1) forks the program: its pid is timeout's child
	local p="" i
	for ((i = 0; i < 100; i++)); do
		p=$(pgrep -P "$t" | head -n 1)
		[ -n "$p" ] && break
		sleep 0.05
	done
	echo "$p" >"$d/pid"
	wait "$t"
	forget "$t"
	local c
	c=$(lines "$d/count")
	# A program slowed down by valgrind may start one run more before SIGTERM reaches
	# it: the runs are counted, so that is fine; fewer than N is a failure.
	if [ -z "$p" ] || [ ! -f "$d/cg.$p" ] || [ "$c" -lt "$n" ] || [ "$c" -gt $((n + 2)) ]; then
		log "callgrind $who N=$n: FAILED (pid '$p', $c checks; see $d)"
		return
	fi
	CG_IR=$(awk '$1 == "totals:" || $1 == "summary:" { print $2; exit }' "$d/cg.$p")
	CG_C=$c
}
callgrind() {
	local who label a b ca cb
	for who in py dropin run; do
		case $who in
		py) label="\`python3 -m exabgp healthcheck --cmd ...\`" ;;
		dropin) label="\`healthd --cmd ...\` (drop-in)" ;;
		run) label="\`healthd run -c\` (1 exec check)" ;;
		esac
		log "callgrind: $label, $CG_N1 and $CG_N2 checks"
		cg_run "$who" "$CG_N1"
		a=$CG_IR ca=$CG_C
		cg_run "$who" "$CG_N2"
		b=$CG_IR cb=$CG_C
		if [ -z "$a" ] || [ -z "$b" ]; then
			CG+=("| $label | failed | | |")
			FAILED=1
			continue
		fi
		tsv_who "$who" "exec"
		tsv "1 service" "$TSV_ROLE" "$TSV_WHO" instructions_per_check "$(((b - a) / (cb - ca)))"
		CG+=("$(awk -v l="$label" -v a="$a" -v b="$b" -v n1="$ca" -v n2="$cb" 'BEGIN {
			printf "| %s | %.1f M (%d checks) | %.1f M (%d checks) | %.0f k |", l, a / 1e6, n1, b / 1e6, n2, (b - a) / (n2 - n1) / 1e3 }')")
		log "callgrind: ${CG[-1]}"
	done
}

# ---- run -------------------------------------------------------------------------------
START=$EPOCHREALTIME
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
has_part() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }
has_part load && load_scenarios
if has_part react; then
	react py "\`python3 -m exabgp healthcheck\`"
	react dropin "\`healthd --cmd ...\` (drop-in)"
	react run "\`healthd run -c\`"
fi
has_part callgrind || CALLGRIND=0
[ "$CALLGRIND" = 1 ] && callgrind
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

# ---- report ----------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
cat <<EOF
## healthd bench

- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); bench wall time ${ELAPSED}s; load average (1, 5, 15 min) at start $LOAD0, at end $LOAD1
- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); kernel $(uname -r); $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM
- healthd: \`$HEALTHD\` ($($HEALTHD version 2>&1 | head -n 1)); this tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null); $(cc --version | head -n 1)
- exabgp $(ver exabgp), python3 $(ver python3) ($($PY --version 2>&1)), libevent $(ver libevent-2.1-7), valgrind $(ver valgrind)
EOF
if has_part load; then
	cat <<EOF

### Load: each scenario runs DURATION=${DURATION}s

Single service: exec check \`echo x >> FILE\` (run through /bin/sh -c by all three), interval
${I1}s, fast interval ${F1}s, rise 2, fall 2; checks counted by the lines in FILE.
Many services: interval 1s, fast interval 0.5s, rise 2, fall 2, every check against one
listener on 127.0.0.1; checks counted by the connections it accepted. "tcp" is healthd's
own tcp probe; "exec \`bash /dev/tcp\`" runs \`bash -c 'exec 3<>/dev/tcp/127.0.0.1/PORT'\`
as the check command, since ExaBGP's healthcheck can only run a command.
"Whole run" is from exec to the end, start-up included. "Steady" is the window from
WARMUP=${WARMUP}s (10 s for the ${PY_N} Python processes, started 20 ms apart; at most half
the run) to the end. PSS depends on what else on the machine shares the same pages.
Program CPU is the healthcheck or healthd process itself (summed over processes): on-CPU
time (user+sys) from /proc/PID/task/*/schedstat in ns, and its user / sys split from
/proc/PID/stat (10 ms ticks). The check commands' CPU is the reaped children's
(cutime+cstime): the commands, and whatever a forked child does before it execs them.

| scenario | processes | checks in steady window | checks/s | program CPU ms, whole run | of which user / sys s | check commands' CPU s, whole run | program CPU per check, µs (steady) | program CPU, % of one core (steady) | peak RSS MiB (VmHWM, summed) | PSS MiB at end (summed) |
|---|---|---|---|---|---|---|---|---|---|---|
EOF
	printf '%s\n' "${ROWS[@]}"
fi
if has_part react; then
	cat <<EOF

### Reaction to a scripted failure (${REPS} repetitions each; median (min-max))

Exec check, interval ${I2}s, fast interval ${F2}s, rise 2, fall 2, withdraw on down. The
failure is a file the check tests, created (and later removed) at a random point of the
interval. By the schedule alone a withdraw comes after the wait for the next check
(0-${I2} s) plus (fall-1) x fast interval (${F2} s), and an announce likewise with rise.
"First check" is the start of the first check run after the change (the withdraw then
waits for (fall-1) x fast interval); "deciding check" is the start of the run that
completed the fall (rise): from there to the line is the program's own latency, that
check's runtime (\`date\`, \`test\`) included. Lines are stamped as they arrive through a pipe.

| program | repetitions | failure -> withdraw line, ms | first failing check started -> withdraw, ms | deciding check started -> withdraw, ms | recovery -> announce line, ms | first passing check started -> announce, ms | deciding check started -> announce, ms |
|---|---|---|---|---|---|---|---|
EOF
	printf '%s\n' "${REACT[@]}"
fi
if [ "$CALLGRIND" = 1 ]; then
	cat <<EOF

### Instructions (valgrind --tool=callgrind; the program's own process: start, N checks, SIGTERM)

Exec check every 0.1 s; its N-th run sends the program SIGTERM (slowed down by valgrind,
a program may start a run more before it stops: the runs are counted). Per check:
(Ir(N=$CG_N2) - Ir(N=$CG_N1)) / (runs(N=$CG_N2) - runs(N=$CG_N1)). Instruction counts do not depend on the
machine's load; the check commands themselves are not counted.

| program | Ir, N=$CG_N1 | Ir, N=$CG_N2 | Ir per check |
|---|---|---|---|
EOF
	printf '%s\n' "${CG[@]}"
fi
exit "$FAILED"
