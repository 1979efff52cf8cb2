# shellcheck shell=bash
# Helpers for the tests of healthd's drop-in for ExaBGP's healthcheck: run Debian's own
# (`/usr/bin/python3 -m exabgp healthcheck`, ExaBGP 4.2.21) and healthd with the same
# flags on the same scripted check results, side by side, and compare their stdout.
# Source after lib.sh and it_init.
#
#   compat_init
#   compat_pair NAME "0 0 0 1 1 1" --ip 192.0.2.1 ...    # ok / not ok: identical stdout
#   compat_one hd|py DIR "SEQ" ARGS...                   # one program; DIR/out err rc
#
# The check is $T/seq_check.sh DIR: each run takes the next token of DIR/seq:
#   0 healthy, 1 failing, N exit N, D create DIR/disable (then healthy),
#   S sleep 30 (a check that times out), T (or the end of the list) SIGTERM to the
#   program (its pid from DIR/pid), then sleep 5.
# "@D@" in an argument is replaced by the program's own DIR.

PYHC=(/usr/bin/python3 -m exabgp healthcheck)
COMPAT_LIMIT=${COMPAT_LIMIT:-20} # seconds one run may take
COMPAT_ACK=0                     # 1: a stand-in ExaBGP answers "done" to every line
COMPAT_CHECK=seq_check.sh        # seq_check_lo.sh: also notes lo's addresses in DIR/addrs
COMPAT_WRAP=()                   # run the program under this (ip netns exec NS)

compat_init() {
	it_need_healthd
	cat >"$T/seq_check.sh" <<'EOF'
#!/bin/bash
d=$1
n=$(cat "$d/count" 2>/dev/null || echo 0)
echo $((n + 1)) >"$d/count"
read -r -a toks <"$d/seq"
tok=${toks[$n]:-T}
case $tok in
0) exit 0 ;;
1) exit 1 ;;
D) : >"$d/disable"; exit 0 ;;
S) sleep 30; exit 0 ;;
T) kill -TERM "$(cat "$d/pid")"; sleep 5; exit 0 ;;
*) exit "$tok" ;;
esac
EOF
	# The same, first noting which addresses lo has (IPv4, with their labels; sorted, as
	# the original adds them in the order of a Python set).
	cat >"$T/seq_check_lo.sh" <<EOF
#!/bin/bash
ip -o -4 addr show dev lo | sed -E 's/.* inet ([^ ]+) .* (lo[^ \\]*).*/\1 \2/' | sort | paste -sd' ' >>"\$1/addrs"
exec "$T/seq_check.sh" "\$1"
EOF
	chmod +x "$T/seq_check_lo.sh"
	chmod +x "$T/seq_check.sh"
	if ! "${PYHC[@]}" --help >/dev/null 2>&1; then
		not_ok "ExaBGP's healthcheck runs (${PYHC[*]})" "install Debian's exabgp: bash tests/deps.sh"
		it_finish
		exit 1
	fi
}

# compat_one hd|py DIR SEQ ARGS...: runs one program to its end (bounded), stdin from
# /dev/null (the original's readline() then returns at once) or from the stand-in.
compat_one() {
	local who=$1 d=$2 seq=$3 a
	shift 3
	local -a prog args=()
	if [ "$who" = py ]; then prog=("${PYHC[@]}"); else prog=("$HEALTHD"); fi
	prog=("${COMPAT_WRAP[@]}" "${prog[@]}")
	for a in "$@"; do args+=("${a//@D@/$d}"); done
	rm -rf "$d"
	mkdir -p "$d"
	printf '%s\n' "$seq" >"$d/seq"
	args=(--no-syslog --pid "$d/pid" --cmd "$T/$COMPAT_CHECK $d" --disable "$d/disable" "${args[@]}")
	if [ "$COMPAT_ACK" = 1 ]; then
		mkfifo "$d/to" "$d/from"
		# Opened in this order on both sides, the two FIFOs cannot deadlock.
		(while IFS= read -r l; do
			printf '%s\n' "$l" >>"$d/out"
			echo "done"
		done) >"$d/from" <"$d/to" &
		timeout -k 2 "$COMPAT_LIMIT" "${prog[@]}" "${args[@]}" <"$d/from" >"$d/to" 2>"$d/err"
	else
		timeout -k 2 "$COMPAT_LIMIT" "${prog[@]}" "${args[@]}" </dev/null >"$d/out" 2>"$d/err"
	fi
	echo $? >"$d/rc"
	wait 2>/dev/null # the stand-in ends at EOF
	touch "$d/out"
}

# compat_pair NAME SEQ ARGS...: both side by side; ok when both exit 0 and print the same
# non-empty stdout. Their directories: $COMPAT_PY and $COMPAT_HD.
COMPAT_N=0
compat_pair() {
	local name=$1 seq=$2 py hd
	shift 2
	COMPAT_N=$((COMPAT_N + 1))
	py=$T/pair$COMPAT_N.py
	hd=$T/pair$COMPAT_N.hd
	# shellcheck disable=SC2034 # for the calling script
	COMPAT_PY=$py COMPAT_HD=$hd
	compat_one py "$py" "$seq" "$@" &
	local p1=$!
	compat_one hd "$hd" "$seq" "$@" &
	local p2=$!
	wait "$p1" "$p2"
	compat_same "$name" "$py" "$hd" out
}

# compat_same NAME DIR_PY DIR_HD FILE: ok when both exited 0 and FILE is identical.
compat_same() {
	local name=$1 py=$2 hd=$3 f=$4
	local rp rh
	rp=$(cat "$py/rc" 2>/dev/null)
	rh=$(cat "$hd/rc" 2>/dev/null)
	if [ "$rp" != 0 ] || [ "$rh" != 0 ]; then
		not_ok "$name: both exit 0 (python $rp, healthd $rh)" \
			"python stderr: $(tail -n 3 "$py/err" | tr '\n' '|')" \
			"healthd stderr: $(tail -n 3 "$hd/err" | tr '\n' '|')"
		return 1
	fi
	if [ ! -s "$py/$f" ]; then
		not_ok "$name: the original printed something" "$(head -c 300 "$py/err")"
		return 1
	fi
	if cmp -s "$py/$f" "$hd/$f"; then
		ok "$name ($(wc -l <"$py/$f") identical lines)"
		return 0
	fi
	local -a lines
	mapfile -t lines < <(diff "$py/$f" "$hd/$f" | head -n 12)
	not_ok "$name: same $f as ExaBGP's healthcheck (diff python healthd)" "${lines[@]}"
	return 1
}
