#!/usr/bin/env bash
# bench/mem.sh: where a healthd running the service mix keeps its memory. See bench/README.md.
#
#   bash bench/mem.sh > mem.md
#   N=1000 KINDS="tcp" WARMUP=15 bash bench/mem.sh
#
# healthd runs N services, each with one check of every kind in KINDS (tcp: bench/listener.c
# on 127.0.0.1; http: nginx; dns: Knot, on ADDR), interval 1 s, as bench/mix.sh does. After
# WARMUP seconds: RSS, Private_Dirty and PSS (/proc/PID/smaps_rollup), and the largest
# mappings' Private_Dirty from /proc/PID/smaps ([heap], anonymous, each library); then after
# a scrape of /metrics and of /status (SCRAPES of each), and after a SIGHUP reload (same
# config) and SETTLE seconds: the same again. The probes served a second over the last
# WINDOW seconds show the checks all ran. Loopback only; every process is stopped by PID.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000}
KINDS=${KINDS:-"tcp http dns"}
WARMUP=${WARMUP:-15}
WINDOW=${WINDOW:-10}
SETTLE=${SETTLE:-7} # past the control endpoint's trim, 5 s after a large rendering is freed
SCRAPES=${SCRAPES:-3}
ADDR=${ADDR:-127.0.122.1}
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}

log() { printf '[mem %s] %s\n' "$(date +%T)" "$*" >&2; }
[ -x "$HEALTHD" ] || {
	log "HEALTHD=$HEALTHD is not an executable (make)"
	exit 1
}
W=$(mktemp -d /tmp/healthd-mem.XXXXXX)
PIDS=()
cleanup() {
	trap - EXIT INT TERM
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	exec 7>&- 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source-path=SCRIPTDIR source=servers.sh
. "$ROOT/bench/servers.sh"

has() { case " $KINDS " in *" $1 "*) return 0 ;; esac; return 1; }
probes() {
	local s=0
	has tcp && s=$((s + $(listener_count)))
	has http && s=$((s + $(nginx_count)))
	has dns && s=$((s + $(knot_count)))
	echo "$s"
}
has tcp && { listener_start || exit 1; }
has http && { nginx_start || exit 1; }
has dns && { knot_start || exit 1; }
mkfifo "$W/stdin"
exec 7<>"$W/stdin"

mix_config "$N" "$KINDS" >"$W/healthd.json"

"$HEALTHD" run -c "$W/healthd.json" --no-state-file <&7 >"$W/healthd.out" 2>"$W/healthd.err" &
HPID=$!
PIDS+=("$HPID")
log "healthd $HEALTHD: $N services x ($KINDS); load $(cut -d' ' -f1-3 /proc/loadavg)"

rate() { # probes a second over WINDOW seconds
	local c0 c1
	c0=$(probes)
	sleep "$WINDOW"
	c1=$(probes)
	awk -v a="$c0" -v b="$c1" -v w="$WINDOW" 'BEGIN { printf "%.0f", (b - a) / w }'
}
# the mappings' Private_Dirty summed by name ([heap], [anon], libraries by basename)
mappings() {
	awk '
		/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anon]"); sub(/.*\//, "", name); next }
		/^Private_Dirty:/ { pd[name] += $2 }
		/^Rss:/ { rss[name] += $2 }
		END { for (n in pd) if (pd[n] >= 64) printf "%s %d %d\n", n, rss[n], pd[n] }' /proc/"$HPID"/smaps |
		sort -k3,3nr | head -n 8 | awk '{ printf "%s%s %.1f/%.1f", (NR > 1 ? ", " : ""), $1, $2 / 1024, $3 / 1024 }'
}
ROWS=()
row() { # row LABEL RATE
	local r=/proc/$HPID/smaps_rollup
	kill -0 "$HPID" 2>/dev/null || {
		log "healthd exited (see $W/healthd.err)"
		KEEP=1
		exit 1
	}
	ROWS+=("| $1 | $2 | $(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Private_Dirty:/ { d = $2 }
		END { printf "%.1f MiB | %.1f MiB | %.1f MiB", r / 1024, d / 1024, p / 1024 }' "$r") | $(mappings) |")
	log "${ROWS[-1]}"
}
want=$((N * $(echo "$KINDS" | wc -w)))
sleep "$WARMUP"
row "after ${WARMUP}s" "$(rate)/s of $want"
for ((i = 0; i < SCRAPES; i++)); do
	curl -s --max-time 10 --unix-socket "$W/ctl.sock" -o "$W/metrics.txt" http://h/metrics
	curl -s --max-time 10 --unix-socket "$W/ctl.sock" -o "$W/status.json" http://h/status
done
sleep "$SETTLE"
row "after $SCRAPES scrapes of /metrics ($(wc -c <"$W/metrics.txt") B) and /status ($(wc -c <"$W/status.json") B)" "$(rate)/s"
kill -HUP "$HPID"
sleep "$SETTLE"
row "after a reload (SIGHUP, same file)" "$(rate)/s"
grep -q 'reload' "$W/healthd.err" || log "no reload logged (see $W/healthd.err)"

cat <<EOF
### healthd's memory, $N services x ($KINDS) (bench/mem.sh)

| when | probes | RSS | Private_Dirty | PSS | largest mappings, RSS/Private_Dirty MiB |
|---|---|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
