#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_NAME.c with clang
# (-fsanitize=fuzzer,address,undefined), linked with the sources its header names on a
# " * fuzz-sources: a.c b.c" line (globs allowed, relative to the top; "-x.c" leaves a
# file out again: "lib/*.c healthd/*.c -healthd/main.c"), and runs each briefly over a
# working copy of its seed corpus tests/fuzz/corpus/NAME. Each source is compiled once
# for all targets. Skips, saying why, when clang or libFuzzer is missing.
#
#   bash tests/fuzz/run.sh                 # FUZZ_TIME=10 seconds per target
#   FUZZ_TIME=600 bash tests/fuzz/run.sh   # a longer session (make fuzz: 60 s)
#   bash tests/fuzz/run.sh config axfr     # only these targets
#   FUZZ_SEED=7 bash tests/fuzz/run.sh     # the same inputs as another run with seed 7
#
# Environment: BUILD (default ./build; targets and working corpora go to $BUILD/fuzz),
# FUZZ_TIME seconds per target, FUZZ_SEED (unset: a new seed each run, as `make fuzz`
# does; tests/run.sh, which `make test` runs, sets 1 so that CI explores the same inputs
# each time). A crash leaves its input in $BUILD/fuzz/NAME-crash-* (replay:
# $BUILD/fuzz/NAME FILE) and prints it in hex. The last line is "N passed, N failed".
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
case ${BUILD:-} in /*) ;; '') BUILD=$ROOT/build ;; *) BUILD=$PWD/$BUILD ;; esac
OUT=$BUILD/fuzz
FUZZ_TIME=${FUZZ_TIME:-10}
SEED_ARGS=()
[ -n "${FUZZ_SEED:-}" ] && SEED_ARGS=(-seed="$FUZZ_SEED")
CLANG=${CLANG:-clang}
PASS=0
FAIL=0

finish() {
	printf '%d passed, %d failed\n' "$PASS" "$FAIL"
	[ "$FAIL" -eq 0 ]
	exit
}

if ! command -v "$CLANG" >/dev/null 2>&1; then
	echo "# fuzz: skipped: $CLANG is not installed (bash tests/deps.sh installs clang)"
	finish
fi
mkdir -p "$OUT"
# libFuzzer ships with clang's runtime (Debian: libclang-rt-NN-dev, pulled in by clang).
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n ? 0 : 0; }' \
	>"$OUT/probe.c"
if ! "$CLANG" -fsanitize=fuzzer -o "$OUT/probe" "$OUT/probe.c" 2>"$OUT/probe.err"; then
	echo "# fuzz: skipped: $CLANG cannot link libFuzzer: $(head -n 1 "$OUT/probe.err")"
	finish
fi

PKG_CFLAGS=$(pkg-config --cflags libevent jansson libcurl ldns openssl)
PKG_LIBS=$(pkg-config --libs libevent jansson libcurl ldns openssl)
CFLAGS=(-std=c17 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)
# The newest header: an object older than it is compiled again.
NEWEST_H=$(find "$ROOT/lib" "$ROOT/probes" "$ROOT/healthd" "$ROOT/compat" -name '*.h' -printf '%T@ %p\n' |
	sort -n | tail -n 1 | cut -d' ' -f2-)

# obj FILE: FILE (under ROOT) compiled into $OUT/obj, once; prints the object's path.
obj() {
	local o=$OUT/obj/${1#"$ROOT"/}
	o=${o%.c}.o
	if [ ! -f "$o" ] || [ "$1" -nt "$o" ] || [ "$NEWEST_H" -nt "$o" ]; then
		mkdir -p "$(dirname "$o")"
		# shellcheck disable=SC2086 # pkg-config output is a list of flags
		"$CLANG" "${CFLAGS[@]}" $PKG_CFLAGS -c -o "$o" "$1" || return 1
	fi
	printf '%s\n' "$o"
}

# sources_of TARGET.c: the code under test, named in the target's header
# (" * fuzz-sources: a.c b.c"), one file a line.
sources_of() {
	local names s f skip=()
	read -r -a names < <(sed -nE 's/^ \* fuzz-sources: *(.*)$/\1/p' "$1" | head -n 1)
	for s in "${names[@]}"; do [ "${s#-}" != "$s" ] && skip+=("$ROOT/${s#-}"); done
	for s in "${names[@]}"; do
		[ "${s#-}" != "$s" ] && continue
		for f in "$ROOT"/$s; do
			[[ " ${skip[*]} " == *" $f "* ]] || printf '%s\n' "$f"
		done
	done
}

want=()
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
	want+=("$src")
done

# Every source once, on all CPUs; a failure shows again in its target's build below.
declare -A all=()
for src in "${want[@]}"; do
	while IFS= read -r f; do all[$f]=1; done < <(sources_of "$src")
done
JOBS=$(nproc 2>/dev/null || echo 2)
for f in "${!all[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
	obj "$f" >/dev/null 2>&1 &
done
wait

for src in "${want[@]}"; do
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	bin=$OUT/$name
	objs=() n=0
	: >"$OUT/$name.build.log"
	while IFS= read -r f; do
		n=$((n + 1))
		o=$(obj "$f" 2>>"$OUT/$name.build.log") || { objs=(); break; }
		objs+=("$o")
	done < <(sources_of "$src")
	# shellcheck disable=SC2086 # pkg-config output is a list of flags
	if [ ${#objs[@]} -ne "$n" ] ||
		! "$CLANG" "${CFLAGS[@]}" -fsanitize=fuzzer $PKG_CFLAGS -o "$bin" "$src" "${objs[@]}" \
			$PKG_LIBS -lm 2>>"$OUT/$name.build.log"; then
		FAIL=$((FAIL + 1))
		echo "not ok - fuzz $name: build failed"
		sed 's/^/#   /' "$OUT/$name.build.log" | head -n 20
		continue
	fi
	seeds=$ROOT/tests/fuzz/corpus/$name
	work=$OUT/$name-corpus
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null
	rm -f "$OUT/$name"-crash-* "$OUT/$name"-leak-* "$OUT/$name"-timeout-*
	# Seeds first, as a regression run: each must go through without a report.
	# Each target runs in a scratch directory of its own: whatever the code under test
	# creates in the working directory (a file named by an input) stays out of the tree.
	rm -rf "$OUT/$name-cwd"
	mkdir -p "$OUT/$name-cwd"
	cd "$OUT/$name-cwd" || exit 1
	if [ -d "$seeds" ] && ! "$bin" -runs=0 -artifact_prefix="$OUT/$name-" "$seeds" >"$OUT/$name.seeds.log" 2>&1; then
		FAIL=$((FAIL + 1))
		echo "not ok - fuzz $name: a seed input fails"
		tail -n 20 "$OUT/$name.seeds.log" | sed 's/^/#   /'
		continue
	fi
	ASAN_OPTIONS=detect_leaks=1 "$bin" "${SEED_ARGS[@]}" -max_total_time="$FUZZ_TIME" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$OUT/$name-" \
		"$work" >"$OUT/$name.log" 2>&1
	rc=$?
	cd "$ROOT" || exit 1
	execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$OUT/$name.log")
	seed=$(sed -nE 's/^INFO: Seed: *([0-9]+).*/\1/p' "$OUT/$name.log" | head -n 1)
	if [ "$rc" -eq 0 ]; then
		PASS=$((PASS + 1))
		echo "ok - fuzz $name: ${execs:-?} inputs in ${FUZZ_TIME}s (seed ${seed:-?}), no crash, leak or hang"
	else
		FAIL=$((FAIL + 1))
		input=$(find "$OUT" -maxdepth 1 -name "$name-*" \( -name '*-crash-*' -o -name '*-leak-*' -o -name '*-timeout-*' \) | head -n 1)
		echo "not ok - fuzz $name: exit $rc (seed ${seed:-?}); input: ${input:-none written}"
		grep -E 'ERROR|SUMMARY|#[0-9]+ ' "$OUT/$name.log" | head -n 20 | sed 's/^/#   /'
		# The input itself, so that a log alone is enough to replay it (xxd -r -p).
		[ -n "$input" ] && { od -An -v -tx1 "$input" | tr -d ' \n' | head -c 2048 && echo; } |
			fold -w 96 | sed 's/^/#   input hex: /'
	fi
done
finish
