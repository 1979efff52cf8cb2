#!/usr/bin/env bash
# Golden config tests for "healthd check -c FILE".
#
#   NAME.json      a valid config: exit 0, stdout == NAME.out, stderr empty; then the
#                  printed (normalized) config is checked again and must print the same
#   bad-NAME.json  an invalid config: exit 1, stdout empty, stderr == bad-NAME.err
#   ../../examples/*.json must be valid too (no .out: the examples change freely).
#
# Runs from this directory so that messages name the bare file. HEALTHD is the binary.
# Prints "ok - NAME" / "not ok - NAME", then "N passed, N failed"; exits non-zero on failure.
# UPDATE=1 rewrites the .out/.err files from what the binary prints: read them afterwards,
# they are expected output, not a snapshot of whatever the code does.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
HEALTHD=${HEALTHD:-$ROOT/build/healthd}
case $HEALTHD in /*) ;; *) HEALTHD=$PWD/$HEALTHD ;; esac
if [ ! -x "$HEALTHD" ] || [ -d "$HEALTHD" ]; then
	echo "not ok - HEALTHD=$HEALTHD is not an executable file"
	echo "0 passed, 1 failed"
	exit 1
fi

TMP=$(mktemp -d /tmp/healthd-golden.XXXXXXXX) || exit 1
trap 'rm -rf -- "$TMP"' EXIT
cd "$HERE" || exit 1

passed=0
failed=0
ok() {
	echo "ok - $1"
	passed=$((passed + 1))
}
not_ok() {
	echo "not ok - $1"
	shift
	for line in "$@"; do
		printf '#   %s\n' "$line"
	done
	failed=$((failed + 1))
}

# Show what differs, indented so that it cannot be read as a result line.
show_diff() {
	diff -u "$1" "$2" | head -40 | sed 's/^/#   /'
}

check_valid() {
	local json=$1 name=${1%.json}
	"$HEALTHD" check -c "$json" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$TMP/out" "$name.out"
	fi
	if [ $rc -ne 0 ]; then
		not_ok "$name" "exit status $rc, expected 0" "$(head -5 "$TMP/err")"
		return
	fi
	if [ -s "$TMP/err" ]; then
		not_ok "$name" "unexpected stderr: $(head -3 "$TMP/err")"
		return
	fi
	if [ ! -f "$name.out" ]; then
		not_ok "$name" "$name.out is missing"
		return
	fi
	if ! cmp -s "$TMP/out" "$name.out"; then
		not_ok "$name" "stdout differs from $name.out:"
		show_diff "$name.out" "$TMP/out"
		return
	fi
	ok "$name"

	# The normalized config is itself a valid config that normalizes to itself.
	cp "$TMP/out" "$TMP/again.json"
	"$HEALTHD" check -c "$TMP/again.json" >"$TMP/out2" 2>"$TMP/err2"
	rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$name (normalized output re-checked)" "exit status $rc" "$(head -5 "$TMP/err2")"
	elif ! cmp -s "$TMP/out" "$TMP/out2"; then
		not_ok "$name (normalized output re-checked)" "the second normalization differs:"
		show_diff "$TMP/out" "$TMP/out2"
	else
		ok "$name (normalized output re-checked)"
	fi
}

check_invalid() {
	local json=$1 name=${1%.json}
	"$HEALTHD" check -c "$json" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	if [ "${UPDATE:-}" = 1 ]; then
		cp "$TMP/err" "$name.err"
	fi
	if [ $rc -ne 1 ]; then
		not_ok "$name" "exit status $rc, expected 1"
		return
	fi
	if [ -s "$TMP/out" ]; then
		not_ok "$name" "an invalid config printed on stdout"
		return
	fi
	if [ ! -f "$name.err" ]; then
		not_ok "$name" "$name.err is missing"
		return
	fi
	if ! cmp -s "$TMP/err" "$name.err"; then
		not_ok "$name" "stderr differs from $name.err:"
		show_diff "$name.err" "$TMP/err"
		return
	fi
	ok "$name"
}

for json in *.json; do
	case $json in
	bad-*) check_invalid "$json" ;;
	*) check_valid "$json" ;;
	esac
done

for json in "$ROOT"/examples/*.json; do
	[ -f "$json" ] || continue
	name=examples/$(basename "$json")
	# The examples are for production, where their source addresses exist; this machine
	# has none of them, so they are checked with "source_check": false unless they set it.
	ex=$json
	if ! grep -q '"source_check"' "$json"; then
		ex=$TMP/example-$(basename "$json")
		sed '0,/{/s//{ "source_check": false,/' "$json" >"$ex"
	fi
	if "$HEALTHD" check -c "$ex" >"$TMP/out" 2>"$TMP/err"; then
		ok "$name"
	else
		not_ok "$name" "$(head -5 "$TMP/err")"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
