#!/usr/bin/env bash
# healthd given ExaBGP healthcheck's flags prints what ExaBGP 4.2.21's healthcheck prints:
# both run side by side on the same scripted check results (seq_check.sh, see
# lib_compat.sh) and their stdout must be identical, byte for byte. Every run ends with
# SIGTERM from the check script (its withdrawals are compared too), or by --interval 0.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_compat.sh
. "$(dirname "$0")/lib_compat.sh"

it_init
compat_init
FAST=(--interval 0.1 --fast-interval 0.05)

compat_pair "rise and fall with the default metrics, 2 IPs" \
	"0 0 0 1 1 1 0 0 0 1 0" "${FAST[@]}" --no-ip-setup --ip 192.0.2.1 --ip 192.0.2.2

compat_pair "withdraw-on-down, metrics, --increase over 3 IPs" \
	"1 1 0 0 1 1 0 0" "${FAST[@]}" --no-ip-setup --withdraw-on-down \
	--ip 192.0.2.1 --ip 192.0.2.2 --ip 192.0.2.3 \
	--up-metric 50 --down-metric 300 --increase 10 --rise 2 --fall 2

# The disable file is made by the check (D) and removed by the --disabled-execute hook,
# so both programs see it for exactly one iteration. Every hook logs $STATE.
# shellcheck disable=SC2016 # $STATE is the hook's to expand
compat_pair "disable file, disabled metric and community, hooks" \
	"0 0 0 D 0 0 0 0 1 D 1 1 1" "${FAST[@]}" --no-ip-setup --ip 192.0.2.1 --ip 192.0.2.2 \
	--community 65000:1 --disabled-community 65000:666 --disabled-metric 700 \
	--disabled-execute "rm -f @D@/disable" \
	--execute 'echo "$STATE" >>@D@/states' \
	--up-execute 'echo "up:$STATE" >>@D@/states' \
	--down-execute 'echo "down:$STATE" >>@D@/states' &&
	compat_same "the hooks ran in the same order with the same STATE" \
		"$COMPAT_PY" "$COMPAT_HD" states

compat_pair "per-state as-paths, communities, local-preference, next-hop, path-id, neighbors" \
	"0 1 0 D 0 0 1" "${FAST[@]}" --no-ip-setup --ip 192.0.2.1 --ip 2001:db8::1 \
	--rise 1 --fall 1 --disabled-execute "rm -f @D@/disable" \
	--as-path "65000 65001" --up-as-path 65000 --down-as-path "65000 65000 65000" \
	--local-preference 300 --extended-community target:65000:1 \
	--large-community 65000:1:1 --next-hop 192.0.2.254 --path-id 7 \
	--neighbor 127.0.0.3 --neighbor ::1

compat_pair "networks normalized, deaggregated, rotated by --start-ip" \
	"0 1" "${FAST[@]}" --no-ip-setup --ip 2001:DB8:0:0::1 --ip 192.0.2.0/30 \
	--ip 198.51.100.0/255.255.255.254 --deaggregate-networks --start-ip 3 --rise 1

cat >"$T/hc.conf" <<EOF
# the original's --config file: "key = value" lines become --key value
rise = 1
fall = 2
ip = 203.0.113.7
community = 65000:7
withdraw-on-down
no-ip-setup
EOF
compat_pair "a --config file before the command line" \
	"0 1 1 0" "${FAST[@]}" --config "$T/hc.conf" --ip 203.0.113.8 --fall 1

compat_pair "--interval 0 exits after the first announcement, withdrawing nothing" \
	"0 0" --interval 0 --fast-interval 0.05 --rise 2 --no-ip-setup --ip 192.0.2.1

compat_pair "a check that times out counts as a failure" \
	"0 S 0" "${FAST[@]}" --timeout 1 --rise 1 --fall 1 --no-ip-setup --ip 192.0.2.1

compat_pair "short and abbreviated options" \
	"0 1 0" -i 0.1 -f0.05 --ri 1 --fal=1 -N 192.0.2.254 --no-ip --ip 192.0.2.1 \
	--local-pref 10 -a

COMPAT_ACK=1
compat_pair "acks from a stand-in ExaBGP, one line each, 3 IPs" \
	"0 0 0 1 1 1 0 0 0" "${FAST[@]}" --no-ip-setup --ip 192.0.2.1 --ip 192.0.2.2 \
	--ip 192.0.2.3
COMPAT_ACK=0

# ---- healthd's own options, against the original's output transformed as they should
# transform it.
seq="0 0 0 1 0 0 0 1 1 1"
args=("${FAST[@]}" --no-ip-setup --ip 192.0.2.1 --ip 192.0.2.2 --withdraw-on-down --path-id 3)
compat_one py "$T/forms.py" "$seq" "${args[@]}" &
compat_one hd "$T/forms.neighbor" "$seq" "${args[@]}" --exabgp-version 4.2.22 &
compat_one hd "$T/forms.peer" "$seq" "${args[@]}" --exabgp-version 6.0.0 &
compat_one py "$T/forms.nb.py" "$seq" "${args[@]}" --neighbor 127.0.0.3 &
compat_one hd "$T/forms.nb.peer" "$seq" "${args[@]}" --neighbor 127.0.0.3 --exabgp-version 6 &
wait
for v in neighbor peer; do
	mkdir -p "$T/forms.want.$v"
	echo 0 >"$T/forms.want.$v/rc"
	sed -E "s/^(announce|withdraw) /$v * \1 /" "$T/forms.py/out" >"$T/forms.want.$v/out"
	compat_same "--exabgp-version selects \"$v *\" commands" "$T/forms.want.$v" "$T/forms.$v" out
done
mkdir -p "$T/forms.nb.want"
echo 0 >"$T/forms.nb.want/rc"
sed -E "s/^neighbor /peer /" "$T/forms.nb.py/out" >"$T/forms.nb.want/out"
compat_same "--exabgp-version 6 with --neighbor: \"peer A announce\"" \
	"$T/forms.nb.want" "$T/forms.nb.peer" out

# --debounce: only state changes are announced; with one IP and no state visited twice in
# a row, that is the original's output with repeated lines dropped.
seq="0 0 0 0 0 1 1 1 1 1"
args=("${FAST[@]}" --no-ip-setup --ip 192.0.2.1)
compat_one py "$T/debounce.py" "$seq" "${args[@]}" &
compat_one hd "$T/debounce.hd" "$seq" "${args[@]}" --debounce &
wait
mkdir -p "$T/debounce.want"
echo 0 >"$T/debounce.want/rc"
uniq "$T/debounce.py/out" >"$T/debounce.want/out"
compat_same "--debounce announces state changes only" "$T/debounce.want" "$T/debounce.hd" out

it_finish
