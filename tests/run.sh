#!/usr/bin/env bash
# Runs healthd's test suites and adds up what passed and failed.
#
#   bash tests/run.sh [unit|golden|integration|fuzz]...     (none: all four)
#
# unit:        every executable $BUILD/tests/test_* (Check; counted from its
#              "Checks: N, Failures: N, Errors: N" lines, else 1 per binary)
# golden:      tests/golden/run.sh, when it exists
# integration: every tests/integration/test_*.sh (each ends with "N passed, N failed")
# fuzz:        tests/fuzz/run.sh: each libFuzzer target briefly (FUZZ_TIME, default 10 s),
#              with FUZZ_SEED 1 unless set; skipped when clang or libFuzzer is missing
#
# Environment: HEALTHD (default: the first file of $BUILD/bin/healthd, $BUILD/healthd,
# ./healthd),
# BUILD (default ./build), both made absolute; TEST_TIMEOUT seconds per file (default 300). The last line is
# "N passed, N failed"; the exit status is non-zero when anything failed.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
BUILD=$(abs "${BUILD:-$ROOT/build}")
if [ -z "${HEALTHD:-}" ]; then
	# ./healthd is also the source directory: take the first that is a file.
	for c in "$BUILD/bin/healthd" "$BUILD/healthd" "$ROOT/healthd"; do
		if [ -f "$c" ] && [ -x "$c" ]; then
			HEALTHD=$c
			break
		fi
	done
fi
HEALTHD=$(abs "${HEALTHD:-$ROOT/healthd}")
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
export HEALTHD BUILD

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit golden integration fuzz)
for s in "${suites[@]}"; do
	case $s in unit | golden | integration | fuzz) ;; *)
		echo "usage: bash tests/run.sh [unit|golden|integration|fuzz]..." >&2
		exit 2
		;;
	esac
done

LOGDIR=$(mktemp -d /tmp/healthd-run.XXXXXXXX) || exit 1
CUR_PID=""
TEE_PID=""
on_signal() {
	# Stop the running test through its timeout(1), which passes the signal on to it
	# (the test's own trap then stops what it started).
	[ -n "$CUR_PID" ] && kill -TERM "$CUR_PID" 2>/dev/null && wait "$CUR_PID" 2>/dev/null
	[ -n "$TEE_PID" ] && kill -TERM "$TEE_PID" 2>/dev/null
	rm -rf -- "$LOGDIR"
	exit 130
}
trap on_signal INT TERM HUP
trap 'rm -rf -- "$LOGDIR"' EXIT

TOTAL_PASS=0
TOTAL_FAIL=0
FILES=0
FAILED_FILES=()

# run_file KIND NAME CMD...: runs CMD under timeout, shows its output as it comes,
# then counts its results.
run_file() {
	local kind=$1 name=$2 log rc p=0 f=0 line
	shift 2
	log=$LOGDIR/$FILES.log
	FILES=$((FILES + 1))
	printf '\n=== %s: %s\n' "$kind" "$name"
	rm -f "$LOGDIR/pipe"
	mkfifo "$LOGDIR/pipe"
	tee "$log" <"$LOGDIR/pipe" &
	TEE_PID=$!
	timeout -k 30 "$TEST_TIMEOUT" "$@" </dev/null >"$LOGDIR/pipe" 2>&1 &
	CUR_PID=$!
	wait "$CUR_PID"
	rc=$?
	CUR_PID=""
	# tee ends at EOF; a process the test leaked may hold the pipe open: bounded wait.
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$TEE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$TEE_PID" 2>/dev/null && kill -TERM "$TEE_PID" 2>/dev/null
	wait "$TEE_PID" 2>/dev/null
	TEE_PID=""
	if [ "$kind" = unit ] && grep -Eq 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log"; then
		read -r p f < <(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" |
			awk -F'[:,] *' '{ c += $2; fl += $4 + $6 } END { print c - fl, fl }')
	elif line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1) && [ -n "$line" ]; then
		read -r p f < <(sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/' <<<"$line")
	elif [ "$rc" -eq 0 ]; then
		p=1
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "not ok - $name timed out after ${TEST_TIMEOUT}s"
		f=$((f + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=$((f + 1))
	fi
	printf '=== %s: %s passed, %s failed (exit %s)\n' "$name" "$p" "$f" "$rc"
	TOTAL_PASS=$((TOTAL_PASS + p))
	TOTAL_FAIL=$((TOTAL_FAIL + f))
	[ "$f" -eq 0 ] || FAILED_FILES+=("$name")
}

for s in "${suites[@]}"; do
	case $s in
	unit)
		n=0
		for b in "$BUILD"/tests/test_*; do
			if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
			run_file unit "${b#"$BUILD"/}" "$b"
			n=$((n + 1))
		done
		[ "$n" -gt 0 ] || printf '\n=== unit: no test binaries in %s/tests (build them: make check-build)\n' "$BUILD"
		;;
	golden)
		if [ -f "$ROOT/tests/golden/run.sh" ]; then
			run_file golden tests/golden/run.sh bash "$ROOT/tests/golden/run.sh"
		else
			printf '\n=== golden: no tests/golden/run.sh\n'
		fi
		;;
	integration)
		for t in "$ROOT"/tests/integration/test_*.sh; do
			[ -f "$t" ] || continue
			run_file integration "${t#"$ROOT"/}" bash "$t"
		done
		;;
	fuzz)
		if [ -f "$ROOT/tests/fuzz/run.sh" ]; then
			# one seed for every run: CI explores the same inputs each time (make fuzz
			# explores new ones)
			FUZZ_SEED=${FUZZ_SEED:-1} run_file fuzz tests/fuzz/run.sh bash "$ROOT/tests/fuzz/run.sh"
		else
			printf '\n=== fuzz: no tests/fuzz/run.sh\n'
		fi
		;;
	esac
done

printf '\n'
if [ ${#FAILED_FILES[@]} -gt 0 ]; then
	printf 'failed: %s\n' "${FAILED_FILES[*]}"
fi
printf '%d passed, %d failed\n' "$TOTAL_PASS" "$TOTAL_FAIL"
[ "$TOTAL_FAIL" -eq 0 ]
