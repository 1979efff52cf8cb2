#!/usr/bin/env bash
# bench/soak.sh: healthd for SOAK_MINUTES (default 30) under a real ExaBGP that peers with
# a real BIRD, with SOAK_SERVICES (default 200) services whose checks go good and bad at
# random, and its control endpoint scraped every second. Is its memory flat? See
# bench/README.md ("Soak") for the rule.
#
#   make soak                                   # builds, runs, appends to bench/RESULTS.md
#   SOAK_MINUTES=3 bash bench/soak.sh > soak.md # a short look; Markdown on stdout
#
# The services are a mix, one kind after another: tcp (a listener the fake opens and
# closes), http and dns (one fake server each, answering per service), exec (a shell test
# of a file). bench/soak_fake.py serves them; a service is down while its file
# $T/flags/NAME.down exists, and the flapper here creates and removes those files at
# random (each service, every SOAK_TICK seconds, with probability SOAK_TICK/SOAK_DWELL).
# Half of the http, dns and exec services fail by hanging past the timeout, the other
# half at once (503, SERVFAIL, exit 2: exit 1 is a Nagios warning); tcp ones by a
# refused connect. The fake runs at nice -5: on a loaded machine a starved fake would
# make good checks time out, and the soak is about healthd.
#
# Each minute: RSS, Private_Dirty (/proc/PID/smaps_rollup) and open fds of healthd and of
# ExaBGP; every second the scraper also counts healthd's fds (the minute's minimum: a
# hung check holds its descriptors until its timeout). At the end the flapping stops and
# the script checks: healthd and ExaBGP alive, the routes at BIRD are those of the
# services whose files say up, /status agrees, and each service's route changes lie
# between what its settled states require and its number of toggles. Then every service
# is made good again: healthd's fds at rest must be those it had at rest before the soak.
#
# Exit: 0 flat and every check passed; 1 not flat or a check failed; 2 the lab did not
# come up (no report then). Loopback 127.0.114.0/24 only; every process stopped by PID.
set -u
export LC_ALL=C TZ=UTC

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_SERVICES=${SOAK_SERVICES:-200}
SOAK_DWELL=${SOAK_DWELL:-15}       # mean seconds a service stays good or bad
SOAK_TICK=${SOAK_TICK:-0.5}        # the flapper's step
SOAK_SETTLE=${SOAK_SETTLE:-6}      # a state held this long must show in the routes
SOAK_TITLE=${SOAK_TITLE:-Soak ($(date -u +%Y-%m-%d))}
# The flat rule's bounds (README): memory and the fd floor, against minute N = M/3.
SOAK_MEM_BOUND_KIB=${SOAK_MEM_BOUND_KIB:-1024}
SOAK_FD_BOUND=${SOAK_FD_BOUND:-4}
HEALTHD=${HEALTHD:-$ROOT/build/bin/healthd}
PY=/usr/bin/python3

# Markdown goes to fd 3 (stdout); progress, and lib.sh's own lines, to stderr.
exec 3>&1 1>&2
log() { printf '# soak: %s\n' "$*"; }
md() { printf '%s\n' "$@" >&3; }

case $SOAK_MINUTES in '' | *[!0-9]*) echo "SOAK_MINUTES: a whole number of minutes" && exit 2 ;; esac
if [ "$SOAK_MINUTES" -lt 1 ] || [ "$SOAK_MINUTES" -gt 1440 ]; then echo "SOAK_MINUTES: 1 to 1440" && exit 2; fi
case $SOAK_SERVICES in '' | *[!0-9]*) echo "SOAK_SERVICES: a number" && exit 2 ;; esac
if [ "$SOAK_SERVICES" -lt 4 ] || [ "$SOAK_SERVICES" -gt 4000 ]; then echo "SOAK_SERVICES: 4 to 4000" && exit 2; fi
[ -x "$HEALTHD" ] || make -C "$ROOT" >&2 || exit 2

# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"
# This bench's own corner of loopback (lib.sh's defaults are the tests').
# shellcheck disable=SC2034 # read by lib.sh
SERVICE_ADDR=127.0.114.1 EXA_ADDR=127.0.114.2 BIRD_ADDR=127.0.114.3

FAKE_PID="" FLAP_PID="" SCRAPE_PID=""
soak_exit() {
	local rc=$?
	kill_pid "$FLAP_PID" 2
	kill_pid "$SCRAPE_PID" 3
	kill_pid "$FAKE_PID" 3
	(exit "$rc")
	it_cleanup # ExaBGP (which stops healthd), healthd, BIRD, then any leftover by PID
}
lab_failed() {
	log "the lab did not come up: $*"
	it_diag
	exit 2
}

it_init
# Its own work directory, outside /tmp/healthd-it.*: a long run should not share a
# name pattern with the test suite's short-lived directories (lib.sh removes it at exit).
rmdir -- "$T/state" "$T" && T=$(mktemp -d /var/tmp/healthd-soak.XXXXXXXX) || exit 2
mkdir -p "$T/state" && chmod 1777 "$T/state"
export STATE_DIRECTORY=$T/state
it_need exabgp bird birdc curl jq "$PY"
it_need_healthd
trap soak_exit EXIT
HCLK=$(getconf CLK_TCK)
CTL=$T/ctl.sock
FLAGS=$T/flags
mkdir -p "$FLAGS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
DATE_START=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- the services
KINDS=(tcp http dns exec)
NAMES=()
HTTP_PORT=$(free_port) || lab_failed "no free port"
DNS_PORT=$(free_port) || lab_failed "no free port"
# shellcheck disable=SC2034 # read by lib.sh (ExaBGP and BIRD)
BGP_PORT=$(free_port) || lab_failed "no free port"
: >"$T/spec"
for ((i = 0; i < SOAK_SERVICES; i++)); do
	kind=${KINDS[i % 4]}
	name=${kind:0:1}$(printf '%03d' "$i")
	mode=fail
	[ "$kind" != tcp ] && [ $(((i / 4) % 2)) -eq 1 ] && mode=hang
	port=0
	if [ "$kind" = tcp ]; then port=$(free_port) || lab_failed "no free port"; fi
	NAMES+=("$name")
	printf '%s %s %s %s\n' "$name" "$kind" "$port" "$mode" >>"$T/spec"
done

# check_json NAME KIND PORT MODE: the service's one check.
check_json() {
	local f=$FLAGS/$1.down
	case $2 in
	tcp) printf '{ "type": "tcp", "host": "%s", "port": %s }' "$SERVICE_ADDR" "$3" ;;
	http) printf '{ "type": "http", "url": "http://%s:%s/%s", "expect_status": [ 200 ], "expect_body": "ok" }' \
		"$SERVICE_ADDR" "$HTTP_PORT" "$1" ;;
	dns) printf '{ "type": "dns", "server": "%s", "port": %s, "name": "%s.soak", "qtype": "A", "min_answers": 1 }' \
		"$SERVICE_ADDR" "$DNS_PORT" "$1" ;;
	exec)
		if [ "$4" = hang ]; then
			printf '{ "type": "exec", "command": [ "/bin/sh", "-c", "[ ! -e %s ] || exec sleep 5" ] }' "$f"
		else
			printf '{ "type": "exec", "command": [ "/bin/sh", "-c", "[ ! -e %s ] || exit 2" ] }' "$f"
		fi
		;;
	esac
}

# prefix_of INDEX: 198.18.0.0/15 (benchmarking), one /32 per service.
prefix_of() { printf '198.18.%d.%d/32' $(($1 / 256)) $(($1 % 256)); }

{
	printf '{\n  "allow_root_exec": true,\n'
	printf '  "speaker": { "type": "exabgp" },\n'
	printf '  "control": { "listen": "unix:%s" },\n' "$CTL"
	printf '  "defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "800ms", "rise": 2, "fall": 2 },\n'
	printf '  "services": [\n'
	i=0
	while read -r name kind port mode; do
		[ "$i" -gt 0 ] && printf ',\n'
		printf '    { "name": "%s", "prefixes": [ "%s" ], "announce": { "next_hop": "self" },\n      "checks": [ %s ] }' \
			"$name" "$(prefix_of "$i")" "$(check_json "$name" "$kind" "$port" "$mode")"
		i=$((i + 1))
	done <"$T/spec"
	printf '\n  ]\n}\n'
} >"$T/healthd.json"
"$HEALTHD" check -c "$T/healthd.json" >/dev/null || lab_failed "healthd check rejects the soak's config"

# ---------------------------------------------------------------- the lab
nice -n -5 "$PY" "$ROOT/bench/soak_fake.py" "$T/spec" "$FLAGS" "$SERVICE_ADDR" "$HTTP_PORT" "$DNS_PORT" \
	</dev/null >>"$T/fake.log" 2>&1 &
FAKE_PID=$!
wait_tcp "$SERVICE_ADDR" "$HTTP_PORT" 10 || lab_failed "the fake services did not start"
start_bird || lab_failed "BIRD did not start"
start_exabgp "$HEALTHD run -c $T/healthd.json" || lab_failed "ExaBGP did not start"
find_helper 15 || lab_failed "ExaBGP did not spawn healthd"
wait_established 30 || lab_failed "no BGP session ExaBGP -> BIRD"
log "lab in $T: healthd $HEALTHD_PID under ExaBGP $EXABGP_PID, BIRD $BIRD_PID, fake $FAKE_PID"

# bird_routes: the prefixes BIRD has, one per line, sorted.
bird_routes() {
	birdc_ show route 2>/dev/null | awk '$1 ~ /^[0-9a-f:.]+\/[0-9]+$/ { print $1 }' | sort
}
# expected_routes: the prefixes of the services whose flag says up, sorted.
expected_routes() {
	local i
	for ((i = 0; i < SOAK_SERVICES; i++)); do
		[ -e "$FLAGS/${NAMES[i]}.down" ] || printf '%s\n' "$(prefix_of "$i")"
	done | sort
}
# wait_routes_match TIMEOUT_S: BIRD has exactly the expected routes; ELAPSED.
wait_routes_match() {
	local t0 i n
	n=$(($1 * 2 + 1))
	t0=$(now)
	expected_routes >"$T/routes.want"
	for ((i = 0; i < n; i++)); do
		bird_routes >"$T/routes.have"
		if cmp -s "$T/routes.want" "$T/routes.have"; then
			ELAPSED=$(since "$t0")
			return 0
		fi
		sleep 0.5
	done
	ELAPSED=$(since "$t0")
	return 1
}
# scrape PATH FILE: "CODE BYTES SECONDS"; CODE is xRC when curl failed (x28: no whole
# answer within 10 s, Prometheus' default scrape_timeout, whatever status came first).
scrape() {
	local o rc
	o=$(curl -s --max-time 10 --unix-socket "$CTL" -o "$2" -w '%{http_code} %{size_download} %{time_total}' "http://healthd$1")
	rc=$?
	[ "$rc" -eq 0 ] || o="x$rc ${o#* }"
	printf '%s\n' "$o"
	return "$rc"
}
# route_changes FILE: "NAME announces+withdraws" from a /metrics text.
route_changes() {
	awk 'match($0, /^healthd_service_(announces|withdraws)_total\{service="[^"]*"\} [0-9]+/) {
		split($0, a, "\""); n[a[2]] += $NF } END { for (s in n) print s, n[s] }' "$1" | sort
}

wait_routes_match 60 || lab_failed "BIRD does not have the $SOAK_SERVICES routes of the healthy services"
log "all $SOAK_SERVICES routes at BIRD after ${ELAPSED}s more"
scrape /metrics "$T/metrics.start" >/dev/null || lab_failed "no /metrics on $CTL"
route_changes "$T/metrics.start" >"$T/changes.start"
cp "$T/metrics.start" "$T/metrics.last"
# proc_mem PID: "RSS_KiB PRIVATE_DIRTY_KiB FDS CPU_S" (CPU: user+sys).
proc_mem() {
	local rss pd fds cpu s
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	pd=$(awk '/^Private_Dirty:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
	fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	s=$(cat "/proc/$1/stat" 2>/dev/null) && s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	cpu=$(awk -v u="${12:-0}" -v y="${13:-0}" -v h="$HCLK" 'BEGIN { printf "%.1f", (u + y) / h }')
	printf '%s %s %s %s\n' "${rss:-0}" "${pd:-0}" "$fds" "$cpu"
}
# fd_floor SECONDS: the fewest open fds of healthd in SECONDS, counted every 0.2 s.
fd_floor() {
	local i n min=""
	for ((i = 0; i < $1 * 5; i++)); do
		n=$(find "/proc/$HEALTHD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		[ "$n" -gt 0 ] && { [ -z "$min" ] || [ "$n" -lt "$min" ]; } && min=$n
		sleep 0.2
	done
	printf '%s\n' "${min:--}"
}
# At rest: every service good, nothing scraping. The same is measured after the soak.
FD_REST_START=$(fd_floor 10)
RSS_REST_START=$(proc_mem "$HEALTHD_PID" | cut -d' ' -f1)

# ---------------------------------------------------------------- soak
T0=$EPOCHSECONDS
END=$((T0 + SOAK_MINUTES * 60))
MAXTICKS=$(awk -v m="$SOAK_MINUTES" -v t="$SOAK_TICK" 'BEGIN { printf "%d", m * 60 / t + 10 }')
PERMILLE=$(awk -v d="$SOAK_DWELL" -v t="$SOAK_TICK" 'BEGIN { p = 1000 * t / d; if (p < 1) p = 1; printf "%d", p }')

# The flapper: "EPOCH NAME up|down" per toggle in $T/toggles.
(
	declare -a st=()
	for ((k = 0; k < MAXTICKS && EPOCHSECONDS < END; k++)); do
		for ((i = 0; i < SOAK_SERVICES; i++)); do
			((SRANDOM % 1000 < PERMILLE)) || continue
			f=$FLAGS/${NAMES[i]}.down
			if [ "${st[i]:-0}" = 0 ]; then
				: >"$f"
				st[i]=1
				printf '%s %s down\n' "$EPOCHREALTIME" "${NAMES[i]}"
			else
				rm -f -- "$f"
				st[i]=0
				printf '%s %s up\n' "$EPOCHREALTIME" "${NAMES[i]}"
			fi
		done
		sleep "$SOAK_TICK"
	done >>"$T/toggles"
) &
FLAP_PID=$!

# The scraper: /metrics and /status every second, and healthd's fd count.
# "EPOCH metrics CODE BYTES SECONDS status CODE BYTES SECONDS FDS" per second.
(
	for ((k = 0; k < SOAK_MINUTES * 60 + 120 && EPOCHSECONDS < END + 60; k++)); do
		t=$EPOCHREALTIME
		m=$(scrape /metrics "$T/metrics.tmp") && mv -f "$T/metrics.tmp" "$T/metrics.last"
		s=$(scrape /status "$T/status.tmp") && mv -f "$T/status.tmp" "$T/status.last"
		fds=$(find "/proc/$HEALTHD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
		printf '%s metrics %s status %s %s\n' "$t" "${m:-000 0 0}" "${s:-000 0 0}" "$fds"
		sleep "$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { d = 1 - (b - a); printf "%.3f", (d > 0 ? d : 0) }')"
	done >>"$T/scrapes"
) &
SCRAPE_PID=$!

# runq_wait PID: seconds the process waited for a CPU while runnable, since it started
# (/proc/PID/schedstat): on a loaded machine, why timers fire late.
runq_wait() {
	awk '{ printf "%.1f", $2 / 1e9 }' "/proc/$1/schedstat" 2>/dev/null || echo -
}
# transitions: the sum of healthd_service_transitions_total in the last scrape.
transitions() {
	awk '/^healthd_service_transitions_total\{/ { n += $NF } END { printf "%d", n }' "$T/metrics.last" 2>/dev/null
}

# One row a minute: minute; healthd RSS, PD, fds, CPU, fd floor of the minute, run-queue
# wait; ExaBGP RSS, PD, fds, CPU; transitions; routes at BIRD; scrapes ok/failed in the
# minute; load 1 min.
log "soaking ${SOAK_MINUTES} min from $(date -u +%H:%M:%S): $SOAK_SERVICES services, mean dwell ${SOAK_DWELL}s"
: >"$T/rows"
DOWN_AT=""
for ((m = 0; m <= SOAK_MINUTES; m++)); do
	while [ "$EPOCHSECONDS" -lt $((T0 + m * 60)) ]; do sleep 0.5; done
	alive "$HEALTHD_PID" || { DOWN_AT="healthd gone at minute $m" && break; }
	alive "$EXABGP_PID" || { DOWN_AT="ExaBGP gone at minute $m" && break; }
	floor=$(awk -v a=$((T0 + (m - 1) * 60)) -v b=$((T0 + m * 60)) '$1 >= a && $1 < b && $NF > 0 {
		if (min == "" || $NF < min) min = $NF } END { print (min == "" ? "-" : min) }' "$T/scrapes")
	[ "$m" -eq 0 ] && floor=$(find "/proc/$HEALTHD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
	sc=$(awk -v a=$((T0 + (m - 1) * 60)) -v b=$((T0 + m * 60)) '$1 >= a && $1 < b {
		if ($3 == 200 && $7 == 200) ok++; else bad++ } END { printf "%d/%d", ok, bad }' "$T/scrapes")
	printf '%d %s %s %s %s %s %s %s %s\n' "$m" "$(proc_mem "$HEALTHD_PID")" "$floor" "$(runq_wait "$HEALTHD_PID")" \
		"$(proc_mem "$EXABGP_PID")" \
		"$(transitions)" "$(bird_routes | wc -l)" "$sc" "$(cut -d' ' -f1 /proc/loadavg)" >>"$T/rows"
	log "minute $m: $(tail -n 1 "$T/rows")"
done

# ---------------------------------------------------------------- the end
kill_pid "$FLAP_PID" 2
FLAP_PID=""
TOGGLES=$(wc -l <"$T/toggles")
log "flapping stopped after $TOGGLES toggles; waiting for the routes to settle"
wait_routes_match 60
ROUTES_OK=$?
ROUTES_AFTER=$ELAPSED
sleep 2 # a last scrape after the last change
scrape /metrics "$T/metrics.end" >/dev/null || cp "$T/metrics.last" "$T/metrics.end"
scrape /status "$T/status.end" >/dev/null || cp "$T/status.last" "$T/status.end"
kill_pid "$SCRAPE_PID" 3
SCRAPE_PID=""
T_END=$EPOCHREALTIME
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
HEALTHD_ALIVE=no
alive "$HEALTHD_PID" && [ "$(pid_start "$HEALTHD_PID")" = "$HEALTHD_START" ] && HEALTHD_ALIVE=yes
EXABGP_ALIVE=no
alive "$EXABGP_PID" && EXABGP_ALIVE=yes
SESSION=down
birdc_ show protocols exa 2>/dev/null | grep -q Established && SESSION=Established

# At rest again: every check good, as before the soak; the same fds, or some leaked.
find "$FLAGS" -name '*.down' -printf '%f\n' | sed 's/\.down$//' | sort >"$T/down.end"
rm -f -- "$FLAGS"/*.down
wait_routes_match 60
REST_OK=$?
REST_AFTER=$ELAPSED
FD_REST_END=$(fd_floor 10)
RSS_REST_END=$(proc_mem "$HEALTHD_PID" | cut -d' ' -f1)
V_FD="fds at rest (every check good, nothing scraping; the fewest over 10 s): $FD_REST_START before the soak, $FD_REST_END after (bound +-$SOAK_FD_BOUND)"
if [ "$REST_OK" = 0 ] && [ "$FD_REST_END" != - ] && [ "$FD_REST_START" != - ] &&
	[ $((FD_REST_END - FD_REST_START)) -le "$SOAK_FD_BOUND" ] &&
	[ $((FD_REST_START - FD_REST_END)) -le "$SOAK_FD_BOUND" ]; then
	V_FD="flat: $V_FD"
else
	V_FD="not flat: $V_FD${REST_OK:+, all $SOAK_SERVICES routes back: $([ "$REST_OK" = 0 ] && echo "yes, after ${REST_AFTER}s" || echo no)}"
fi

# Per service: toggles, the changes its settled states require (a state held
# SOAK_SETTLE s, or the last one), and the route changes healthd made (announces +
# withdraws in /metrics, less those before the soak). "NAME TOGGLES NEED MADE".
route_changes "$T/metrics.end" >"$T/changes.end"
awk -v settle="$SOAK_SETTLE" -v t0="$T0" -v tend="$T_END" '
	FILENAME == ARGV[1] { before[$1] = $2; next }
	FILENAME == ARGV[2] { after[$1] = $2; next }
	FILENAME == ARGV[3] { name = $1; names[name] = 1; next }
	{ n = ++cnt[$2]; at[$2, n] = $1; to[$2, n] = $3 }
	END {
		for (s in names) {
			settled = "up"; need = 0; prev_t = t0; prev_s = "up"
			for (i = 1; i <= cnt[s] + 1; i++) {
				t = (i <= cnt[s]) ? at[s, i] : tend
				# the state prev_s held from prev_t to t
				if ((t - prev_t >= settle || i > cnt[s]) && prev_s != settled) { need++; settled = prev_s }
				if (i <= cnt[s]) { prev_t = t; prev_s = to[s, i] }
			}
			printf "%s %d %d %d\n", s, cnt[s] + 0, need, after[s] - before[s]
		}
	}' "$T/changes.start" "$T/changes.end" "$T/spec" "$T/toggles" | sort >"$T/plaus"
read -r SUM_TOG SUM_NEED SUM_MADE MISSED EXTRA EXTRA_N <<<"$(awk '{ t += $2; n += $3; m += $4
	if ($4 < $3) o++; if ($4 > $2) { x++; xn += $4 - $2 } } END { printf "%d %d %d %d %d %d", t, n, m, o, x, xn }' "$T/plaus")"
MISSED_LIST=$(awk '$4 < $3 { printf "%s%s (toggles %d, needed %d, made %d)", sep, $1, $2, $3, $4; sep = ", " }' "$T/plaus" | cut -c1-400)
EXTRA_LIST=$(awk '$4 > $2 { printf "%s%s (toggles %d, made %d)", sep, $1, $2, $4; sep = ", " }' "$T/plaus" | cut -c1-400)
# Timeouts of the services that fail without hanging: only a slow machine makes those.
TIMEOUTS=$(awk 'FILENAME == ARGV[1] { if ($4 == "fail") fail[$1] = 1; next }
	/^healthd_check_timeouts_total\{/ { split($0, a, "\""); n += $NF; if (a[2] in fail) f += $NF }
	END { printf "%d (%d of them on services that fail without hanging)", n, f }' "$T/spec" "$T/metrics.end")

# /status agrees with the flags: UP where up, DOWN where down.
jq -r '.services[] | "\(.name) \(.state)"' "$T/status.end" 2>/dev/null | sort >"$T/states.end"
STATUS_BAD=$(while read -r name state; do
	if grep -qx -- "$name" "$T/down.end"; then want=DOWN; else want=UP; fi
	[ "$state" = "$want" ] || printf '%s %s (want %s); ' "$name" "$state" "$want"
done <"$T/states.end" | cut -c1-600)
STATUS_N=$(wc -l <"$T/states.end")
SCRAPES=$(awk '{ if ($3 == 200 && $7 == 200) ok++; else bad++ } END { printf "%d %d", ok, bad }' "$T/scrapes")
read -r SCRAPE_OK SCRAPE_BAD <<<"$SCRAPES"
# /metrics: the time of a scrape (curl's time_total), p50 and max.
SCRAPE_P50=$(awk '{ print $5 }' "$T/scrapes" | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int(NR / 2) + 1] * 1000 }')
SCRAPE_MAX=$(awk '{ print $5 }' "$T/scrapes" | sort -n | tail -n 1 | awk '{ printf "%.1f", $1 * 1000 }')
METRICS_BYTES=$(awk 'END { print $4 }' "$T/scrapes")
EXA_BAD=$(grep -cE 'not understood|could not parse' "$T/exabgp.log" 2>/dev/null)
TRANS_END=$(awk '/^healthd_service_transitions_total\{/ { n += $NF } END { printf "%d", n }' "$T/metrics.end")
TRANS_START=$(awk '/^healthd_service_transitions_total\{/ { n += $NF } END { printf "%d", n }' "$T/metrics.start")

# ---------------------------------------------------------------- the flat rule
# flat COLUMN LABEL BOUND: over minutes N..M (N = M/3, rounded down), every value within
# BOUND of minute N's, and no steady climb (non-decreasing, with rises in at least half
# of the steps, and higher at M than at N; judged from 3 steps on). Prints "flat|not flat: detail".
flat() {
	awk -v c="$1" -v label="$2" -v bound="$3" '
		$c != "-" { m = $1; v[m] = $c; last = m }
		END {
			if (last == "") { print "not flat: no samples"; exit }
			n = int(last / 3); base = v[n]; lo = base; hi = base; rises = 0; falls = 0; steps = 0
			for (i = n + 1; i <= last; i++) {
				if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i]
				if (v[i] > v[i - 1]) rises++; if (v[i] < v[i - 1]) falls++; steps++
			}
			within = (hi - base <= bound && base - lo <= bound)
			climb = (steps >= 3 && falls == 0 && rises * 2 >= steps && v[last] > base)
			printf "%s: %s at minute %d %s, range over minutes %d-%d %s..%s (bound +-%s), %d rises and %d falls in %d steps\n",
				(within && !climb) ? "flat" : "not flat", label, n, base, n, last, lo, hi, bound, rises, falls, steps
		}' "$T/rows"
}
# Columns of rows: 1 minute, 2 RSS, 3 PD, 4 fds, 5 CPU, 6 fd floor, 7 run-queue wait,
# 8 ExaBGP RSS, 9 PD, 10 fds, 11 CPU.
V_RSS=$(flat 2 "RSS KiB" "$SOAK_MEM_BOUND_KIB")
V_PD=$(flat 3 "Private_Dirty KiB" "$SOAK_MEM_BOUND_KIB")
X_RSS=$(flat 8 "RSS KiB" "$SOAK_MEM_BOUND_KIB")
X_PD=$(flat 9 "Private_Dirty KiB" "$SOAK_MEM_BOUND_KIB")
X_FD=$(flat 10 "fds" "$SOAK_FD_BOUND")
VERDICT=flat
case "$V_RSS$V_PD$V_FD" in *"not flat"*) VERDICT="not flat" ;; esac
[ -n "$DOWN_AT" ] && VERDICT="not flat"
XVERDICT=flat
case "$X_RSS$X_PD$X_FD" in *"not flat"*) XVERDICT="not flat" ;; esac

# ---------------------------------------------------------------- checks
CHECKS=() FAILED=0
chk() {
	if [ "$1" = 0 ]; then CHECKS+=("- ok: $2"); else
		CHECKS+=("- **FAILED**: $2")
		FAILED=$((FAILED + 1))
	fi
}
[ -z "$DOWN_AT" ]
chk $? "healthd and ExaBGP ran the whole soak${DOWN_AT:+ ($DOWN_AT)}"
[ "$HEALTHD_ALIVE" = yes ]
chk $? "healthd alive at the end, the process ExaBGP started (pid $HEALTHD_PID): $HEALTHD_ALIVE"
[ "$EXABGP_ALIVE" = yes ] && [ "$SESSION" = Established ]
chk $? "ExaBGP alive ($EXABGP_ALIVE), BGP session to BIRD: $SESSION"
[ "$ROUTES_OK" = 0 ]
chk $? "routes at BIRD = the services whose checks are good: $(wc -l <"$T/routes.want") expected, $(wc -l <"$T/routes.have") at BIRD, $( [ "$ROUTES_OK" = 0 ] && echo "equal ${ROUTES_AFTER}s after the flapping stopped" || echo "still different after ${ROUTES_AFTER}s: $(comm -3 "$T/routes.want" "$T/routes.have" | tr -d '\t' | head -n 5 | tr '\n' ' ')")"
[ "$STATUS_N" -eq "$SOAK_SERVICES" ] && [ -z "$STATUS_BAD" ]
chk $? "/status: $STATUS_N services, each UP where its check is good and DOWN where bad${STATUS_BAD:+: $STATUS_BAD}"
[ "$MISSED" -eq 0 ] && [ "$SUM_NEED" -gt 0 ]
chk $? "no change missed: $SUM_TOG toggles; the settled states (held >= ${SOAK_SETTLE}s) require $SUM_NEED route changes, healthd made $SUM_MADE (announces + withdraws); services with fewer than required: $MISSED${MISSED_LIST:+: $MISSED_LIST}"
[ "$EXTRA" -eq 0 ]
chk $? "no change without a toggle: services with more route changes than toggles: $EXTRA (${EXTRA_N:-0} changes over), while $TIMEOUTS check runs reached their timeout (healthd_check_timeouts_total)${EXTRA_LIST:+: $EXTRA_LIST}"
[ "$SCRAPE_BAD" -eq 0 ] && [ "$SCRAPE_OK" -ge $((SOAK_MINUTES * 30)) ]
chk $? "scrapes of /metrics + /status (one a second, the next one once the last is done): $SCRAPE_OK answered whole with 200 within 10 s, $SCRAPE_BAD not"
[ "${EXA_BAD:-0}" -eq 0 ]
chk $? "ExaBGP understood every command: ${EXA_BAD:-0} complaints in its log"

# ---------------------------------------------------------------- report
HEALTHD_VERSION=$("$HEALTHD" --version 2>/dev/null | head -n 1)
COMMIT=${SOAK_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")}
DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)")
md "## $SOAK_TITLE" ""
md "- command: \`${SOAK_COMMAND:-SOAK_MINUTES=$SOAK_MINUTES bash bench/soak.sh}\`; healthd \`$HEALTHD\` ($HEALTHD_VERSION), tree at $COMMIT$DIRTY"
md "- date: $DATE_START to $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs, $(uname -r); load average (1, 5, 15 min) at start $LOAD_START, at end $LOAD_END"
md "- $(exabgp --version 2>&1 | grep -m1 -i 'exabgp' | tr -s ' '), $(bird --version 2>&1 | head -n 1), $(curl --version | head -n 1 | cut -d' ' -f1-2)"
md "- $SOAK_SERVICES services ($(((SOAK_SERVICES + 3) / 4)) tcp, $(((SOAK_SERVICES + 2) / 4)) http, $(((SOAK_SERVICES + 1) / 4)) dns, $((SOAK_SERVICES / 4)) exec; half of http, dns, exec fail by hanging past the timeout), one check each: interval 1s, fast_interval 500ms, timeout 800ms, rise 2, fall 2; speaker ExaBGP (ack on) peering with BIRD on 127.0.114.0/24"
md "- flapping: every ${SOAK_TICK}s each service's check is switched good/bad with probability ${PERMILLE}/1000 (mean ${SOAK_DWELL}s in a state): $TOGGLES toggles; $((TRANS_END - TRANS_START)) state transitions (healthd_service_transitions_total), $SUM_MADE route changes"
md "- control endpoint over a unix socket, /metrics ($METRICS_BYTES bytes at the end) and /status every second: $SCRAPE_OK scrapes answered, $SCRAPE_BAD failed; a /metrics scrape took p50 ${SCRAPE_P50} ms, max ${SCRAPE_MAX} ms"
md "" "Per minute (memory in KiB; fds at the sample, and the minimum of the once-a-second counts over the minute before; CPU user+sys seconds since start, run-queue wait from /proc/PID/schedstat; transitions and scrapes from /metrics and the scraper):" ""
md "| min | healthd RSS | healthd Private_Dirty | healthd fds | healthd fd floor | healthd CPU s | healthd run-queue wait s | ExaBGP RSS | ExaBGP Private_Dirty | ExaBGP fds | ExaBGP CPU s | transitions | routes at BIRD | scrapes ok/failed | load 1m |"
md "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
while read -r mn rss pd fds cpu floor wait xrss xpd xfds xcpu tr routes sc ld; do
	md "| $mn | $rss | $pd | $fds | $floor | $cpu | $wait | $xrss | $xpd | $xfds | $xcpu | $tr | $routes | $sc | $ld |"
done <"$T/rows"
md "" "Rule: over the last two thirds of the run (minutes N = M/3 to M), RSS or Private_Dirty is flat when every minute is within ${SOAK_MEM_BOUND_KIB} KiB of minute N and it does not climb (never falling, rising in at least half the minutes, and higher at M than at N); ExaBGP's fds the same within $SOAK_FD_BOUND. healthd's fds are compared at rest, every check good and nothing scraping, before and after the soak (within $SOAK_FD_BOUND): during the soak a hung check holds its descriptors until its timeout, so the count follows how many services hang at that moment. RSS at rest: $RSS_REST_START KiB before, $RSS_REST_END KiB after." ""
md "**healthd: $VERDICT.**" "" "- $V_RSS" "- $V_PD" "- $V_FD" ""
md "ExaBGP (Python; for comparison, not the verdict): $XVERDICT." "" "- $X_RSS" "- $X_PD" "- $X_FD" ""
md "At the end:" "" "${CHECKS[@]}" ""
log "done: healthd $VERDICT, $FAILED check(s) failed"
[ "$VERDICT" = flat ] && [ "$FAILED" -eq 0 ]
