#!/usr/bin/env bash
# The man pages say everything the code accepts:
#   (a) both render without a warning (man --warnings, groff -ww);
#   (b) every key of every key list in the loader's sources (the *_keys[] arrays of
#       healthd/ and probes/) has an entry (".It Ic KEY") in healthd.json(5);
#   (c) every check type that `healthd probe --help` lists has its subsection in
#       healthd.json(5), holding an entry for each of the type's keys;
#   (d) every key in the normalized output (`healthd check`) of the golden and example
#       configurations has an entry in healthd.json(5);
#   (e) every command and every option of the command line (getopt tables, the probe
#       CLI's flags, the drop-in's option table, the usage texts) is in healthd(8);
#   (f) `make install` installs both pages and `make uninstall` removes them.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_manpages.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_need man groff col make python3
it_need_healthd
it_init

MAN8=$IT_ROOT/man/healthd.8
MAN5=$IT_ROOT/man/healthd.json.5

# ---------------------------------------------------------------- (a) rendering
for page in "$MAN8" "$MAN5"; do
	name=man/$(basename "$page")
	LC_ALL=C MANWIDTH=80 man --warnings -l "$page" >"$T/render" 2>"$T/warn"
	rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$T/warn" ] && [ -s "$T/render" ]; then
		ok "(a) $name renders with man --warnings, no warning"
	else
		not_ok "(a) $name renders with man --warnings, no warning" "exit $rc" "$(head -5 "$T/warn")"
	fi
	groff -ww -z -mandoc "$page" 2>"$T/warn"
	if [ ! -s "$T/warn" ]; then
		ok "(a) $name: groff -ww -mandoc, no warning"
	else
		not_ok "(a) $name: groff -ww -mandoc, no warning" "$(head -5 "$T/warn")"
	fi
done

# The keys with an entry in healthd.json(5): ".It Ic KEY ..." lines.
sed -n 's/^\.It Ic \([A-Za-z0-9_.-]*\).*/\1/p' "$MAN5" | sort -u >"$T/man5.keys"

# ---------------------------------------------------------------- (b) the key lists
# Each "const char *const NAME_keys[] = { "a", "b", ... };" of the loader's sources.
for f in "$IT_ROOT"/healthd/*.c "$IT_ROOT"/probes/*.c; do
	src_name=$(basename "$f")
	tr '\n' ' ' <"$f" |
		grep -oE 'const char \*const [A-Za-z0-9_]+_keys\[\] = \{[^}]*\}' |
		while IFS= read -r decl; do
			arr=$(sed -E 's/.*const ([A-Za-z0-9_]+_keys)\[\].*/\1/' <<<"$decl")
			grep -oE '"[^"]*"' <<<"${decl#*\{}" | tr -d '"' | sed "s|^|$src_name:$arr |"
		done
done >"$T/code.keys"
narr=$(awk '{ print $1 }' "$T/code.keys" | sort -u | wc -l)
nkeys=$(awk '{ print $2 }' "$T/code.keys" | sort -u | wc -l)
# The lists known today (top, speaker, log, defaults, source, service, route attributes,
# BIRD's, the common check keys and one per check type): fewer means the extraction broke.
if [ "$narr" -ge 15 ] && [ "$nkeys" -ge 60 ]; then
	ok "(b) $narr key lists, $nkeys distinct keys found in healthd/*.c and probes/*.c"
else
	not_ok "(b) key lists found in the sources" "only $narr lists, $nkeys keys: the extraction is broken"
fi
missing=$(awk '{ print $2 }' "$T/code.keys" | sort -u | comm -23 - "$T/man5.keys")
if [ -z "$missing" ]; then
	ok "(b) every key of the loader's key lists has an entry in healthd.json(5)"
else
	not_ok "(b) every key of the loader's key lists has an entry in healthd.json(5)" \
		"missing: $(tr '\n' ' ' <<<"$missing")" \
		"(lists: $(grep -wF -f <(printf '%s\n' "$missing") "$T/code.keys" | awk '{ print $1 }' | sort -u | tr '\n' ' '))"
fi

# ---------------------------------------------------------------- (c) check types
"$HEALTHD" probe --help >"$T/probe.help" 2>&1
# "types and their options:" then "  TYPE" and "     --key --key" lines, until a blank line.
awk '/^types and their options:/ { on = 1; next }
	on && /^$/ { exit }
	on && /^  [^ ]/ { type = $1; print type " -"; next }
	on && /^     / { for (i = 1; i <= NF; i++) { k = $i; sub(/^--/, "", k); gsub(/-/, "_", k); print type " " k } }' \
	"$T/probe.help" >"$T/types"
ntypes=$(awk '$2 == "-"' "$T/types" | wc -l)
if [ "$ntypes" -ge 6 ]; then
	ok "(c) healthd probe --help lists $ntypes check types"
else
	not_ok "(c) healthd probe --help lists the check types" "found $ntypes" "$(head -20 "$T/probe.help")"
fi
bad=""
while read -r type key; do
	# The subsection of the type: from ".Ss TYPE" to the next .Ss or .Sh.
	sect=$(awk -v t="$type" '$0 == ".Ss " t { on = 1; next } on && /^\.S[sh] / { exit } on' "$MAN5")
	if [ -z "$sect" ]; then
		bad="$bad $type(no .Ss $type)"
	elif [ "$key" != - ] && ! grep -qE "^\.It Ic $key( |$)" <<<"$sect"; then
		bad="$bad $type.$key"
	fi
done <"$T/types"
bad=$(tr ' ' '\n' <<<"$bad" | sort -u | tr '\n' ' ')
if [ -z "${bad// /}" ]; then
	ok "(c) each check type has its subsection in healthd.json(5), with each of its keys"
else
	not_ok "(c) each check type has its subsection in healthd.json(5), with each of its keys" "missing:$bad"
fi

# ---------------------------------------------------------------- (d) normalized output
# Every object key of `healthd check`'s output, except the user's own names inside
# "env" and "headers" objects.
: >"$T/out.keys"
nconf=0
for json in "$IT_ROOT"/tests/golden/[!b]*.json "$IT_ROOT"/examples/*.json; do
	[ -f "$json" ] || continue
	ex=$json
	if ! grep -q '"source_check"' "$json"; then
		ex=$T/cfg-$(basename "$json")
		sed '0,/{/s//{ "source_check": false,/' "$json" >"$ex"
	fi
	if ! "$HEALTHD" check -c "$ex" >"$T/norm.json" 2>"$T/norm.err"; then
		not_ok "(d) healthd check ${json#"$IT_ROOT"/}" "$(head -3 "$T/norm.err")"
		continue
	fi
	nconf=$((nconf + 1))
	python3 -c '
import json, sys
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            print(k)
            if k not in ("env", "headers"):
                walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
walk(json.load(open(sys.argv[1])))' "$T/norm.json" >>"$T/out.keys"
done
nout=$(sort -u "$T/out.keys" | wc -l)
missing=$(sort -u "$T/out.keys" | comm -23 - "$T/man5.keys")
if [ "$nconf" -ge 5 ] && [ "$nout" -ge 40 ] && [ -z "$missing" ]; then
	ok "(d) the $nout keys of $nconf normalized configs all have an entry in healthd.json(5)"
else
	not_ok "(d) the keys of the normalized configs have an entry in healthd.json(5)" \
		"$nconf configs, $nout keys; missing: $(tr '\n' ' ' <<<"$missing")"
fi

# ---------------------------------------------------------------- (e) healthd(8)
LC_ALL=C MANWIDTH=250 man -l "$MAN8" 2>/dev/null | col -bx >"$T/man8.txt"
src() { cat "$IT_ROOT/$1"; }
{
	# getopt_long tables: {"config", required_argument, NULL, 'c'}; and their optstrings
	src healthd/main.c | grep -oE '\{"[a-z][a-z-]*", *(no|required|optional)_argument' |
		sed -E 's/\{"([^"]*)".*/--\1/'
	src healthd/main.c | grep -oE 'getopt_long\([^,]*, *[^,]*, *"[^"]*"' |
		sed -E 's/.*"([^"]*)"$/\1/' | tr -d ':' | grep -oE '[A-Za-z]' | sed 's/^/-/'
	# flags compared by hand: strcmp(cmd, "--help"), the probe CLI's shorts[] and strcmp(s, "--json")
	src healthd/main.c | grep -oE 'strcmp\([a-z0-9\[\]]+, "-[^"]+"\)' | grep -oE '"-[^"]+"' | tr -d '"'
	src healthd/cli_probe.c | grep -oE 'strcmp\(s, "-[^"]+"\)' | grep -oE '"-[^"]+"' | tr -d '"'
	src healthd/cli_probe.c | grep -E 'shorts\[\] = ' | grep -oE '"-[^"]+"' | tr -d '"'
	# the drop-in's table: {{"--silent", "-s"}, CK_TRUE, ...}
	src compat/opts.c | grep -E '^\s*\{\{"-' | sed -E 's/\}.*//' | grep -oE '"-[^"]+"' | tr -d '"'
	# usage texts: every -x and --long-option they name
	for f in healthd/main.c healthd/cli_probe_out.c compat/args.c; do
		src "$f" | grep -E '^\s*"' | grep -oE '(^|[ ,\[|(])--?[a-z][a-zA-Z-]*' | sed -E 's/^[ ,\[|(]//'
	done
} | grep -vxE -- '--?' | sort -u >"$T/options"
nopt=$(wc -l <"$T/options")
if [ "$nopt" -ge 55 ]; then
	ok "(e) $nopt command-line options found in the sources"
else
	not_ok "(e) command-line options found in the sources" "only $nopt: the extraction is broken"
fi
missing=""
while read -r opt; do
	grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|$)" "$T/man8.txt" || missing="$missing $opt"
done <"$T/options"
if [ -z "$missing" ]; then
	ok "(e) every command-line option is in healthd(8)"
else
	not_ok "(e) every command-line option is in healthd(8)" "missing:$missing"
fi
# commands: strcmp(cmd, "run") in main.c's dispatch and command_usage()
cmds=$(src healthd/main.c | grep -oE 'strcmp\(cmd, "[a-z]+"\)' | grep -oE '"[a-z]+"' | tr -d '"' | sort -u)
missing=""
for c in $cmds; do
	grep -qE "^\.(It )?Cm $c( |$)" "$MAN8" || grep -qE "^\.Cm $c( |,|$)" "$MAN8" || missing="$missing $c"
done
if [ -n "$cmds" ] && [ -z "$missing" ]; then
	ok "(e) every command ($(tr '\n' ' ' <<<"$cmds"| sed 's/ $//')) is in healthd(8)"
else
	not_ok "(e) every command is in healthd(8)" "commands: $(tr '\n' ' ' <<<"$cmds"); missing:$missing"
fi
# exit codes: each value of exitcode.h is in EXIT STATUS
codes=$(tr '\n' ' ' <"$IT_ROOT/healthd/exitcode.h" | grep -oE 'EXIT_[A-Z]+ *= *[0-9]+' | grep -oE '[0-9]+$')
missing=""
sect=$(awk '/^EXIT STATUS/ { on = 1; next } on && /^[A-Z]/ { exit } on' "$T/man8.txt")
for c in $codes; do grep -qE "^ +$c( |$)" <<<"$sect" || missing="$missing $c"; done
if [ -n "$codes" ] && [ -z "$missing" ]; then
	ok "(e) exit codes $(tr '\n' ' ' <<<"$codes")of exitcode.h are in healthd(8) EXIT STATUS"
else
	not_ok "(e) exit codes of exitcode.h are in healthd(8)" "codes: $codes; missing:$missing"
fi

# ---------------------------------------------------------------- (f) make install
root=$T/root
if make -s -C "$IT_ROOT" install DESTDIR="$root" PREFIX=/usr BIN="$HEALTHD" >"$T/make.out" 2>&1 &&
	[ -x "$root/usr/sbin/healthd" ] && cmp -s "$root/usr/share/man/man8/healthd.8" "$MAN8" &&
	cmp -s "$root/usr/share/man/man5/healthd.json.5" "$MAN5"; then
	ok "(f) make install puts healthd, healthd.8 and healthd.json.5 under DESTDIR"
else
	not_ok "(f) make install puts healthd, healthd.8 and healthd.json.5 under DESTDIR" "$(head -5 "$T/make.out")" "$(find "$root" | head)"
fi
if LC_ALL=C MANWIDTH=80 man --warnings -l "$root/usr/share/man/man5/healthd.json.5" 2>&1 >/dev/null | grep -q .; then
	not_ok "(f) the installed healthd.json.5 renders"
else
	ok "(f) the installed healthd.json.5 renders"
fi
make -s -C "$IT_ROOT" uninstall DESTDIR="$root" PREFIX=/usr >"$T/make.out" 2>&1
left=$(find "$root" -type f)
if [ -z "$left" ]; then
	ok "(f) make uninstall removes all three"
else
	not_ok "(f) make uninstall removes all three" "left: $left"
fi

it_finish
