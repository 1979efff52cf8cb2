# shellcheck shell=bash
# Helpers for the DNS probe integration tests, on top of lib.sh: real Knot DNS servers
# on loopback high ports, each with its own directory, control socket and zones; and
# healthd run directly (stdin a fifo this script holds open, stdout to a file) whose
# per-run results are read from its debug log ("SERVICE: LABEL: fail (bad-rcode) ...").
#
#   source tests/integration/lib.sh; source tests/integration/lib_dns.sh
#   it_init; dns_init                      # traps: knots stopped (also when paused)
#   dns_zone example.test 1 >"$(knot_dir k1)/example.test.zone"
#   knot_conf k1 127.0.0.1 "$PORT" node1 <<EOF ... zone: ... EOF; knot_start k1
#   hd_start "$T/healthd.json"; expect_code "desc" SERVICE CODE TIMEOUT_S [DETAIL_PART]
#
# Not a target, ever: anything outside 127.0.0.0/8 and ::1.

# shellcheck disable=SC2034 # HEALTHD_START and ELAPSED are read by lib.sh and the tests
declare -A KNOT_PID=()
FAKE_PIDS=()

dns_init() {
	it_need knotd knotc kdig
	trap dns_cleanup EXIT
}

# Knot first (a paused one gets SIGCONT so that SIGTERM can reach it), then lib.sh's
# cleanup, which stops everything else this script started and removes $T.
dns_cleanup() {
	local rc=$? n p
	for n in "${!KNOT_PID[@]}"; do
		p=${KNOT_PID[$n]}
		[ -n "$p" ] || continue
		kill -CONT "$p" 2>/dev/null
		kill_pid "$p" 3
	done
	for p in "${FAKE_PIDS[@]}"; do kill_pid "$p" 1; done
	(exit "$rc")
	it_cleanup
}

knot_dir() { printf '%s/knot-%s\n' "$T" "$1"; }

# dns_zone ORIGIN SERIAL: a test zone. www has one A record; big has a TXT RRset of
# about 3 KB (truncated over UDP, whole over TCP); the apex has SOA and NS.
dns_zone() {
	local origin=$1 serial=$2 i
	cat <<EOF
\$ORIGIN $origin.
\$TTL 300
@	IN SOA	ns1 hostmaster $serial 3600 600 86400 300
@	IN NS	ns1
ns1	IN A	192.0.2.53
www	IN A	192.0.2.1
www	IN AAAA	2001:db8::1
EOF
	for ((i = 1; i <= 40; i++)); do
		printf 'big\tIN TXT\t"record %02d of a large RRset that does not fit in 512 bytes"\n' "$i"
	done
}

# knot_conf NAME "ADDR..." PORT IDENTITY: writes the config of server NAME listening on
# each ADDR@PORT (UDP and TCP) with identity and NSID IDENTITY; stdin is appended (acl,
# mod-queryacl, remote and zone sections). Zone files live in knot_dir NAME.
knot_conf() {
	local name=$1 port=$3 ident=$4 d a listen=""
	for a in $2; do listen="$listen${listen:+, }$a@$port"; done
	d=$(knot_dir "$name")
	mkdir -p "$d/db"
	{
		cat <<EOF
server:
    rundir: "$d"
    listen: [ $listen ]
    identity: "$ident"
    nsid: "$ident"
control:
    listen: "$d/knot.sock"
log:
  - target: stderr
    any: info
database:
    storage: "$d/db"
template:
  - id: default
    storage: "$d"
    file: "%s.zone"
    zonefile-sync: -1
EOF
		cat
	} >"$d/knot.conf"
	knotc -c "$d/knot.conf" conf-check >/dev/null
}

knotc_() {
	local name=$1
	shift
	timeout 5 knotc -c "$(knot_dir "$name")/knot.conf" "$@"
}

# knot_start NAME: knotd in the foreground, in the background; waits (bounded) until
# its control socket answers.
knot_start() {
	local name=$1 d i
	d=$(knot_dir "$name")
	knotd -c "$d/knot.conf" </dev/null >>"$d/knotd.log" 2>&1 &
	KNOT_PID[$name]=$!
	for ((i = 0; i < 50; i++)); do
		if knotc_ "$name" status >/dev/null 2>&1; then return 0; fi
		alive "${KNOT_PID[$name]}" || break
		sleep 0.1
	done
	echo "knotd $name did not start; its log:" >&2
	tail -n 20 "$d/knotd.log" >&2
	return 1
}

knot_stop() {
	local p=${KNOT_PID[$1]:-}
	[ -n "$p" ] || return 0
	kill -CONT "$p" 2>/dev/null
	kill_pid "$p" 5
	KNOT_PID[$1]=""
}

knot_pause() { kill -STOP "${KNOT_PID[$1]}"; }
knot_resume() { kill -CONT "${KNOT_PID[$1]}"; }

# soa_serial ADDR PORT ZONE [SOURCE]: the zone's serial as the server answers it.
soa_serial() {
	local src=()
	[ -n "${4:-}" ] && src=(-b "$4")
	timeout 5 kdig "@$1" -p "$2" "${src[@]}" +short +norec +time=1 +retry=0 "$3" SOA 2>/dev/null |
		awk 'NF >= 7 { print $3; exit }'
}

# wait_serial ADDR PORT ZONE SERIAL TIMEOUT_S: the server answers SERIAL.
wait_serial() {
	local i n
	n=$(awk -v s="$5" 'BEGIN { printf "%d", s * 5 + 1 }')
	for ((i = 0; i < n; i++)); do
		[ "$(soa_serial "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.2
	done
	return 1
}

# fake_start ADDR PORT good|bad|flaky-soa [SERIAL]: the fake responder
# (tests/helpers/dns_fake.c).
fake_start() {
	local bin=${BUILD:-$IT_ROOT/build}/tests/dns_fake i
	if [ ! -x "$bin" ]; then
		echo "no $bin (build it: make check-build)" >&2
		return 1
	fi
	"$bin" "$1" "$2" "$3" 240 ${4:+"$4"} >"$T/fake-$2.out" 2>"$T/fake-$2.err" &
	FAKE_PIDS+=("$!")
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$T/fake-$2.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- healthd
# hd_start CONFIG: healthd run -d, its stdin a fifo held open (it never sees EOF).
hd_start() {
	[ -p "$T/hd.stdin" ] || mkfifo "$T/hd.stdin"
	exec 8<>"$T/hd.stdin"
	"$HEALTHD" run -d -c "$1" <"$T/hd.stdin" >>"$T/healthd.out" 2>>"$T/healthd.err" &
	HEALTHD_PID=$!
	HEALTHD_START=$(pid_start "$HEALTHD_PID")
}

hd_stop() {
	[ -n "$HEALTHD_PID" ] && kill_pid "$HEALTHD_PID" 5
	HEALTHD_PID=""
	exec 8>&- 2>/dev/null
}

# hd_last SERVICE: "CODE DETAIL" of the service's last check result (debug log).
hd_last() {
	grep -F "engine_check_done: $1: " "$T/healthd.err" 2>/dev/null | tail -n 1 |
		sed -nE 's/.*: (ok|warning|fail|error) \(([a-z-]+)\) (.*), [0-9.]+ms$/\2 \3/p'
}

# hd_count SERVICE: how many results the service has logged.
hd_count() { grep -cF "engine_check_done: $1: " "$T/healthd.err" 2>/dev/null; }

# wait_code SERVICE CODE TIMEOUT_S [AFTER]: the service's last result has CODE (and,
# when AFTER is given, more than AFTER results were logged: a result of a new run).
wait_code() {
	local svc=$1 code=$2 limit=$3 after=${4:--1} t0 i n last
	n=$(awk -v s="$limit" 'BEGIN { printf "%d", s * 10 + 1 }')
	t0=$(now)
	for ((i = 0; i < n; i++)); do
		last=$(hd_last "$svc")
		if [ "${last%% *}" = "$code" ] && [ "$(hd_count "$svc")" -gt "$after" ]; then
			ELAPSED=$(since "$t0")
			return 0
		fi
		sleep 0.1
	done
	ELAPSED=$(since "$t0")
	return 1
}

# expect_code DESC SERVICE CODE TIMEOUT_S [DETAIL_PART]: ok when the service's last
# result is CODE within TIMEOUT_S and its detail contains DETAIL_PART.
expect_code() {
	local desc=$1 svc=$2 code=$3 limit=$4 part=${5:-} last
	if wait_code "$svc" "$code" "$limit"; then
		last=$(hd_last "$svc")
		if [ -z "$part" ] || [[ $last == *"$part"* ]]; then
			ok "$desc ($code)"
			return 0
		fi
		not_ok "$desc" "detail lacks \"$part\": $last"
		return 1
	fi
	not_ok "$desc" "expected $code within ${limit}s; last: $(hd_last "$svc")"
	return 1
}

# hd_route PREFIX: "announce" or "withdraw": healthd's last command for PREFIX.
hd_route() {
	grep -E "^(announce|withdraw) route $1 " "$T/healthd.out" 2>/dev/null | tail -n 1 |
		awk '{ print $1 }'
}
