#!/usr/bin/env bash
# Fault matrix, DNS: healthd under a real ExaBGP peering with a real BIRD probes DNS
# servers that misbehave (tests/integration/faultserver.py, dns modes). One healthd,
# one service per fault, all at once:
#
#   SERVFAIL; REFUSED; an empty NOERROR; a 64 KiB answer over TCP (after a truncated
#   UDP one, and asked over TCP directly); garbage: random bytes, a truncated header,
#   the right answer under a wrong id
#
# Every service is announced at BIRD while its server answers well, withdrawn once it
# misbehaves (with the reason in /status and `healthd status`), and announced again
# once it answers well again; a steady service stays announced, healthd's memory stays
# bounded, and healthd keeps running and answering.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_fault_dns.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib_faultsrv.sh
. "$(dirname "$0")/lib_faultsrv.sh"

fault_init
healthd_scale

INTERVAL=$(ms 500) FAST=$(ms 200) TIMEOUT=$(ms 400)
DOWN_BOUND=$((8 * FAULT_S))
UP_BOUND=$((8 * FAULT_S))
DWELL=${FAULT_DWELL:-$((3 * FAULT_S))} # seconds the faults go on after the withdrawal (memory)
rss_bound $((24 * 1024)) # RSS_GROWTH_KB: healthd's RSS may grow this much under the faults

# service  fault mode  transport  expected reason  detail part (_ for a blank)
CASES=(
	"dns-servfail  servfail  udp  bad-rcode   rcode_SERVFAIL"
	"dns-refused   refused   udp  bad-rcode   rcode_REFUSED"
	"dns-empty     empty     udp  bad-answer  (0_A:_none)"
	"dns-big       big       udp  bad-answer  over_udp,_truncated,_then_tcp"
	"dns-big-tcp   big       tcp  bad-answer  over_tcp"
	"dns-random    random    udp  timeout     ignored"
	"dns-short     short     udp  timeout     shorter_than_a_DNS_header"
	"dns-wrongid   wrongid   udp  timeout     ignored_(last:_id_"
)
STEADY=192.0.2.100/32

for c in steady "${CASES[@]}"; do
	read -r name _ <<<"$c"
	fault_start "$name" dns good || {
		not_ok "faultserver $name starts"
		it_finish
		exit
	}
done

ALL=$STEADY
dns_json() { # SERVER TRANSPORT
	printf '{ "type": "dns", "server": "%s@%s", "name": "www.fault.test", "qtype": "A", "transport": "%s", "expect": [ "192.0.2.1" ] }' \
		"$SERVICE_ADDR" "${FAULT_PORT[$1]}" "$2"
}
svc_json() { # NAME PREFIX CHECK_JSON
	printf '\t\t{ "name": "%s", "prefixes": [ "%s" ], "announce": { "next_hop": "self" },\n' "$1" "$2"
	printf '\t\t  "checks": [ %s ] }' "$3"
}
{
	cat <<EOF
{
	"speaker": { "type": "exabgp" },
	"control": { "listen": [ "$SERVICE_ADDR:$CTL_PORT" ] },
	"defaults": { "interval": "$INTERVAL", "fast_interval": "$FAST", "timeout": "$TIMEOUT",
	              "rise": 2, "fall": 2 },
	"services": [
EOF
	svc_json steady "$STEADY" "$(dns_json steady udp)"
	i=101
	for c in "${CASES[@]}"; do
		read -r name _ transport _ <<<"$c"
		pfx=192.0.2.$i/32
		i=$((i + 1))
		ALL="$ALL $pfx"
		printf ',\n'
		svc_json "$name" "$pfx" "$(dns_json "$name" "$transport")"
	done
	printf '\n\t]\n}\n'
} >"$T/healthd.json"

# ---------------------------------------------------------------- 1. all good
fault_lab_up "DNS servers" "answers well"

# ---------------------------------------------------------------- 2. faults
for c in "${CASES[@]}"; do
	read -r name mode _ <<<"$c"
	fault_mode "$name" "$mode"
done
note "faults on; RSS before: ${RSS0} kB"
if wait_bird_routes "$STEADY" "$DOWN_BOUND"; then
	ok "every faulty service withdrawn at BIRD, the steady one still announced (${ELAPSED}s)"
else
	not_ok "every faulty service withdrawn at BIRD within ${DOWN_BOUND}s, only $STEADY left" "BIRD: $BIRD_NOW"
fi

WANT=()
for c in "${CASES[@]}"; do
	read -r name _ _ code part <<<"$c"
	WANT+=("$name $code ${part//_/ }")
done
check_reasons $((3 * FAULT_S)) "${WANT[@]}"

# The 64 KiB answer by hand: read whole (every record counted), then judged.
out=$(timeout $((10 * FAULT_S)) "$HEALTHD" probe dns --server "$SERVICE_ADDR@${FAULT_PORT[dns-big]}" \
	--name www.fault.test --qtype A --expect 192.0.2.1 --timeout "$TIMEOUT" 2>&1)
if [[ $(head -n 1 <<<"$out") == "DNS CRITICAL - bad-answer: no A 192.0.2.1 in the answer (4093 A: "* ]] &&
	grep -Eq '^transport: +udp, truncated, then tcp$' <<<"$out"; then
	ok "healthd probe: the 64 KiB answer is read whole over TCP (4093 A records) and judged"
else
	not_ok "healthd probe: the 64 KiB answer is read whole over TCP (4093 A records) and judged" "$(head -n 12 <<<"$out" | tr '\n' '|')"
fi

# The faults go on: healthd's memory stays bounded.
rss_max=$RSS0
t0=$(now)
while le "$(since "$t0")" "$DWELL"; do
	r=$(rss_kb "$HEALTHD_PID")
	[ -n "$r" ] && [ "$r" -gt "$rss_max" ] && rss_max=$r
	sleep 0.2
done
growth=$((rss_max - RSS0))
if [ -n "$RSS0" ] && [ "$growth" -le "$RSS_GROWTH_KB" ]; then
	ok "healthd's RSS bounded under the faults: ${RSS0} kB -> at most ${rss_max} kB (+${growth} kB, bound +${RSS_GROWTH_KB} kB)"
else
	not_ok "healthd's RSS bounded under the faults" "${RSS0:-?} kB -> ${rss_max} kB, more than +${RSS_GROWTH_KB} kB"
fi
if route_present "$STEADY"; then ok "the steady service stayed announced through the faults"; else not_ok "the steady service stayed announced through the faults" "BIRD: $(bird_routes)"; fi

# ---------------------------------------------------------------- 3. recovery
for c in "${CASES[@]}"; do
	read -r name _ <<<"$c"
	fault_mode "$name" good
done
if wait_bird_routes "$ALL" "$UP_BOUND"; then
	ok "every service announced again at BIRD once its server answers well (${ELAPSED}s)"
else
	not_ok "every service announced again within ${UP_BOUND}s" "want: $ALL" "BIRD: $BIRD_NOW"
fi

if alive "$HEALTHD_PID" && [ "$(pid_start "$HEALTHD_PID")" = "$HEALTHD_START" ]; then
	ok "healthd still runs (pid $HEALTHD_PID)"
else
	not_ok "healthd still runs" "pid $HEALTHD_PID is gone"
fi
if STATUS_NOW=$(status_lines) && ! awk '$2 != "UP" { bad = 1 } END { exit !bad }' <<<"$STATUS_NOW"; then
	ok "healthd answers /status: every service UP again"
else
	not_ok "healthd answers /status: every service UP again" "$(tr '\n' '|' <<<"$STATUS_NOW")"
fi
bad=$(grep -E 'not understood|could not parse|reason:' "$T/exabgp.log" 2>/dev/null | head -n 5)
if [ -z "$bad" ]; then ok "ExaBGP understood every command healthd sent"; else not_ok "ExaBGP understood every command healthd sent" "$bad"; fi

fault_lab_end
it_finish
