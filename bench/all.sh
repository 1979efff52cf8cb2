#!/usr/bin/env bash
# bench/all.sh: the comparison with ExaBGP's healthcheck in one run; what `make bench`
# runs. See bench/README.md.
#
#   make bench                  # MODE=short: a quick look, about a minute and a half
#   make bench MODE=full        # for bench/RESULTS.md: 15-25 minutes
#   MODE=short HEALTHD=/path/to/healthd BUILD=build bash bench/all.sh
#
# Parts, each a script of bench/ run with the environment shown in the report:
#   run.sh      1 service and N services: healthd against N Python healthcheck processes
#               (full: also the reaction to a scripted failure and instruction counts)
#   mix.sh      1,000 services x (tcp, http, dns) in one healthd, beside as many Python
#               healthcheck processes as the machine holds
#   checks.sh   full only: CPU per check by kind, against the floor of a tcp check and
#               the paced floor of an http check; https beside libcurl alone
#   config.sh   full only: loading a config of 20,000 services
#   failover.sh when present: failover at a real BIRD peer (MODE is passed on; its raw
#               samples in $OUT/failover/failover.tsv go to compare.py too)
# Every part appends its results to $OUT/results.tsv (scenario, role, who, metric,
# value), from which bench/compare.py prints the ratios healthd / peer.
#
# The Markdown report goes to stdout and to $OUT/report.md ($OUT: BENCH_OUT, default
# $BUILD/bench); each part's progress to $OUT/PART.log. Exit 0 when every part did.
# Every part stops what it started by PID; this script stops a part still running when
# it is interrupted.
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${MODE:-short}
BUILD=${BUILD:-$ROOT/build}
HEALTHD=${HEALTHD:-$BUILD/bin/healthd}
OUT=${BENCH_OUT:-$BUILD/bench}
case $MODE in short | full) ;; *)
	echo "bench/all.sh: MODE is short or full, not '$MODE'" >&2
	exit 2
	;;
esac
[ -x "$HEALTHD" ] || {
	echo "bench/all.sh: HEALTHD=$HEALTHD is not an executable (make)" >&2
	exit 1
}
mkdir -p "$OUT" || exit 1
rm -rf "$OUT"/*.md "$OUT"/*.log "$OUT"/results.tsv "$OUT"/failover
TSV=$OUT/results.tsv
: >"$TSV"

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
CHILD=""
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null # its own trap stops what it started
		wait "$CHILD" 2>/dev/null
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CMDS=()
PARTS_DONE=()
FAILED=0
# part NAME VAR=VALUE... -- SCRIPT ARG...: runs the script with that environment (plus
# HEALTHD, TSV), its stdout to $OUT/NAME.md, stderr to $OUT/NAME.log.
part() {
	local name=$1 envs=() t0 rc
	shift
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	local shown="" e
	for e in "${envs[@]}"; do # VAR=VALUE, the value quoted when it has blanks
		case ${e#*=} in *" "*) e="${e%%=*}=\"${e#*=}\"" ;; esac
		shown+="$e "
	done
	CMDS+=("${shown}bash $*")
	log "$name: ${shown}bash $*"
	t0=$EPOCHREALTIME
	env "${envs[@]}" HEALTHD="$HEALTHD" TSV="$TSV" BUILD="$BUILD" bash "$@" >"$OUT/$name.md" 2>"$OUT/$name.log" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=""
	local secs
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
	PARTS_DONE+=("| \`$name\` | ${secs} s | $rc |")
	log "$name: exit $rc, ${secs}s"
	[ "$rc" = 0 ] || FAILED=1
}

START=$EPOCHREALTIME
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
DATE0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
B=$ROOT/bench
if [ "$MODE" = short ]; then
	RUN_TITLE="1 service and 20 services"
	part run PARTS=load DURATION=8 WARMUP=2 SERVICES=20 PY_N=20 -- "$B/run.sh"
	part mix N=1000 WARMUP=5 WINDOW=8 PY_STEPS=20 PY_WARMUP=4 PY_WINDOW=6 -- "$B/mix.sh"
else
	RUN_TITLE="1, 50 and 200 services, reaction to a failure, instructions"
	part run PARTS="load react callgrind" DURATION=20 WARMUP=5 REPS=10 SERVICES="1 50 200" PY_N=50 -- "$B/run.sh"
	part mix N=1000 WARMUP=15 WINDOW=60 PY_STEPS="10 20 40 80 160" PY_WARMUP=10 PY_WINDOW=20 -- "$B/mix.sh"
	part checks N=1000 DURATION=25 WARMUP=10 -- "$B/checks.sh" floor floor-http-paced tcp http dns
	part checks-https N=300 DURATION=20 WARMUP=8 -- "$B/checks.sh" https https-bundle https-noresume curl-alone-https
	part config N=20000 -- "$B/config.sh"
	# /usr/bin/time's lines (healthd check's CPU, wall and peak RSS) go to stderr
	grep '^healthd check:' "$OUT/config.log" >>"$OUT/config.md"
fi
if [ -f "$B/failover.sh" ]; then
	part failover MODE="$MODE" OUT_DIR="$OUT/failover" -- "$B/failover.sh"
else
	log "no bench/failover.sh: failover not measured"
fi
# failover.sh's raw samples, when it ran: compare.py takes their median, p90 and max
FO=()
[ -s "$OUT/failover/failover.tsv" ] && FO=("$OUT/failover/failover.tsv")
python3 "$B/compare.py" "$TSV" "${FO[@]}" >"$OUT/compare.md" 2>"$OUT/compare.log" || FAILED=1
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
section() { # section TITLE FILE [pre]: the part's own headings shifted below the title
	[ -s "$2" ] || return 0
	printf '\n### %s\n\n' "$1"
	if [ "${3:-}" = pre ]; then
		printf '```\n'
		cat "$2"
		printf '```\n'
		return 0
	fi
	awk 'NR == FNR { if (match($0, /^#+ /)) { l = RLENGTH - 1; if (!m || l < m) m = l } next }
		match($0, /^#+ /) { h = ""; for (i = 0; i < RLENGTH - 1 - m + 4; i++) h = h "#"
			$0 = h substr($0, RLENGTH) }
		{ print }' "$2" "$2"
}
{
	cat <<EOF
## make bench MODE=$MODE

- date: $DATE0; wall time ${ELAPSED} s; load average (1, 5, 15 min) at start $LOAD0, at end $LOAD1
- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); kernel $(uname -r); $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
- healthd: \`$HEALTHD\` ($("$HEALTHD" version 2>&1 | head -n 1)), tree at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo " with local changes"); $(cc --version | head -n 1)
- peers and servers: exabgp $(ver exabgp), python3 $(ver python3), $(nginx -v 2>&1 | sed 's/.*: //'), knot $(ver knot), curl $(ver curl), knot-dnsutils $(ver knot-dnsutils); libraries: libevent $(ver libevent-2.1-7), libcurl $(ver libcurl4), openssl $(ver libssl3), valgrind $(ver valgrind)

Commands (from the source tree; each part also gets HEALTHD, TSV=$TSV and BUILD):

\`\`\`sh
make bench MODE=$MODE        # = MODE=$MODE bash bench/all.sh
EOF
	for c in "${CMDS[@]}"; do printf '%s\n' "${c//$ROOT\//}"; done
	printf '```\n\n| part | wall time | exit |\n|---|---|---|\n'
	printf '%s\n' "${PARTS_DONE[@]}"
	section "Ratios healthd / peer (bench/compare.py $(basename "$TSV"))" "$OUT/compare.md"
	section "$RUN_TITLE (bench/run.sh)" "$OUT/run.md"
	section "1,000 services in healthd, beside Python healthcheck processes (bench/mix.sh)" "$OUT/mix.md"
	section "CPU per check by kind, 1,000 services (bench/checks.sh)" "$OUT/checks.md"
	section "https, 300 services (bench/checks.sh)" "$OUT/checks-https.md"
	section "Config load, 20,000 services (bench/config.sh)" "$OUT/config.md" pre
	section "Failover at a real BIRD peer (bench/failover.sh)" "$OUT/failover.md"
} | tee "$OUT/report.md"
log "report: $OUT/report.md; results: $TSV"
exit "$FAILED"
