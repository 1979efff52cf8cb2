#!/usr/bin/env bash
# The Debian package: built from a copy of the tree with `dpkg-buildpackage -us -uc -b`,
#   (a) it builds, and lintian finds no error and no warning in it;
#   (b) it holds /usr/sbin/healthd, healthd(8), healthd.json(5), the examples under
#       /usr/share/doc/healthd/examples and the systemd unit;
#   (c) installed with `dpkg -i` (or, when this machine cannot install it, unpacked
#       with `dpkg-deb -x` into a scratch root): `healthd version` says the package's
#       version, `healthd check` accepts the shipped examples, the man pages render;
#       postinst made the "healthd" system user, in group "bird" when that exists; the
#       unit is neither enabled nor started;
#   (d) `dpkg --purge` removes it, and the machine is as before (the user too, when this
#       test made it).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_package.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_need dpkg-buildpackage dpkg-deb dh lintian man python3
it_init

INSTALLED="" MADE_USER="" MADE_GROUP=""
# Whatever happens, what (c) installed goes again.
pkg_cleanup() {
	local rc=$?
	if [ -n "$INSTALLED" ]; then
		dpkg --purge healthd >/dev/null 2>&1
		INSTALLED=""
	fi
	if [ -n "$MADE_USER" ] && getent passwd healthd >/dev/null; then
		deluser --quiet --system healthd >/dev/null 2>&1 || userdel healthd 2>/dev/null
	fi
	if [ -n "$MADE_GROUP" ] && getent group healthd >/dev/null; then
		delgroup --quiet --system healthd >/dev/null 2>&1 || groupdel healthd 2>/dev/null
	fi
	(exit "$rc")
	it_cleanup
}
trap pkg_cleanup EXIT

# ---------------------------------------------------------------- (a) build
SRC=$T/src/healthd
mkdir -p "$SRC"
# The files of the tree (tracked and new, not ignored), or all but the build output.
if git -C "$IT_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$IT_ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$SRC"
else
	(cd "$IT_ROOT" && tar --exclude=./build --exclude=./build-asan --exclude=./build-deb -cf - .) | tar -xf - -C "$SRC"
fi
version=$(cd "$SRC" && dpkg-parsechangelog -S Version)
t0=$(now)
# Both cores, no debug-symbol package: the test must stay short.
DEB_BUILD_OPTIONS="parallel=$(nproc) noddebs nocheck"
export DEB_BUILD_OPTIONS
if (cd "$SRC" && timeout 300 dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	ok "(a) dpkg-buildpackage -us -uc -b builds healthd $version in $(since "$t0")s"
else
	not_ok "(a) dpkg-buildpackage -us -uc -b builds healthd $version" "$(tail -n 15 "$T/build.log")"
fi
DEB=$T/src/healthd_${version}_$(dpkg --print-architecture).deb
CHANGES=${DEB%.deb}.changes
if [ ! -f "$DEB" ]; then
	not_ok "(a) the .deb exists" "no $DEB"
	it_finish
	exit 1
fi
lintian --tag-display-limit 0 "$CHANGES" >"$T/lintian.out" 2>&1
errors=$(grep -E '^E: ' "$T/lintian.out")
warnings=$(grep -E '^W: ' "$T/lintian.out")
if [ -z "$errors" ] && [ -z "$warnings" ]; then
	ok "(a) lintian: no error, no warning ($(grep -cE '^[IP]: ' "$T/lintian.out") info/pedantic tags)"
else
	not_ok "(a) lintian: no error, no warning" "$errors" "$warnings"
fi

# ---------------------------------------------------------------- (b) contents
dpkg-deb -c "$DEB" | awk '{ print $NF }' | sed 's|^\./|/|' >"$T/contents"
missing=""
for f in /usr/sbin/healthd /usr/share/man/man8/healthd.8.gz /usr/share/man/man5/healthd.json.5.gz \
	/lib/systemd/system/healthd.service /usr/share/doc/healthd/copyright; do
	grep -qx "$f" "$T/contents" || missing="$missing $f"
done
# every file of examples/ under /usr/share/doc/healthd/examples (compressed or not)
for f in "$IT_ROOT"/examples/*; do
	b=/usr/share/doc/healthd/examples/$(basename "$f")
	grep -qxE "$b(\\.gz)?" "$T/contents" || missing="$missing $b"
done
if [ -z "$missing" ]; then
	ok "(b) the .deb holds /usr/sbin/healthd, both man pages, the unit and every example"
else
	not_ok "(b) the .deb holds what it should" "missing:$missing"
fi
if grep -q '^/etc/systemd/system/.*wants/healthd' "$T/contents"; then
	not_ok "(b) the .deb enables nothing by itself" "$(grep wants "$T/contents")"
else
	ok "(b) the .deb enables nothing by itself (no .wants link)"
fi

# ---------------------------------------------------------------- (c) install
# What purge must leave as it found it.
snapshot() {
	getent passwd healthd
	getent group healthd
	getent group bird
	dpkg-query -W -f='${Status}\n' healthd 2>/dev/null
	find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		/var/lib/systemd/deb-systemd-helper-masked /usr/sbin/healthd /lib/systemd/system/healthd.service \
		/usr/share/doc/healthd /usr/share/man/man8/healthd.8.gz 2>/dev/null | sort
}
snapshot >"$T/before"

ROOT=""
mode=""
if [ "$(id -u)" -ne 0 ]; then
	mode="not root"
elif dpkg-query -W -f='${Status}' healthd 2>/dev/null | grep -q 'install ok'; then
	mode="a healthd package is installed already: left alone"
fi
if [ -z "$mode" ]; then
	getent passwd healthd >/dev/null || MADE_USER=1
	getent group healthd >/dev/null || MADE_GROUP=1
	INSTALLED=1
	if dpkg -i "$DEB" >"$T/dpkg.out" 2>&1; then
		ok "(c) dpkg -i installs the package"
	elif grep -qi 'lock' "$T/dpkg.out"; then
		INSTALLED=""
		mode="dpkg is locked by another process"
	else
		not_ok "(c) dpkg -i installs the package" "$(tail -n 10 "$T/dpkg.out")"
	fi
fi
if [ -n "$mode" ]; then
	note "not installed ($mode): unpacked into a scratch root instead"
	ROOT=$T/root
	if dpkg-deb -x "$DEB" "$ROOT"; then
		ok "(c) dpkg-deb -x unpacks the package into a scratch root"
	else
		not_ok "(c) dpkg-deb -x unpacks the package into a scratch root"
	fi
fi
BIN=$ROOT/usr/sbin/healthd
EXD=$ROOT/usr/share/doc/healthd/examples

out=$("$BIN" version 2>&1)
if [ "$out" = "healthd ${version%%-*}" ]; then
	ok "(c) $BIN version: \"$out\", the package's version"
else
	not_ok "(c) $BIN version says the package's version ${version%%-*}" "got: $out"
fi
# The examples are for nodes where their source addresses exist: checked with
# "source_check": false, as tests/golden/run.sh does.
bad=""
n=0
for json in "$EXD"/*.json; do
	[ -f "$json" ] || continue
	sed '0,/{/s//{ "source_check": false,/' "$json" >"$T/ex.json"
	if "$BIN" check -c "$T/ex.json" >/dev/null 2>"$T/ex.err"; then
		n=$((n + 1))
	else
		bad="$bad $(basename "$json"): $(head -n 2 "$T/ex.err")"
	fi
done
if [ "$n" -ge 3 ] && [ -z "$bad" ]; then
	ok "(c) the installed healthd check accepts the $n shipped examples"
else
	not_ok "(c) the installed healthd check accepts the shipped examples" "$n passed;$bad"
fi
for page in man8/healthd.8.gz man5/healthd.json.5.gz; do
	w=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$ROOT/usr/share/man/$page" 2>&1 >"$T/page.txt")
	if [ -z "$w" ] && [ -s "$T/page.txt" ]; then
		ok "(c) the installed $page renders without warnings"
	else
		not_ok "(c) the installed $page renders without warnings" "$w"
	fi
done

if [ -z "$ROOT" ] && [ -n "$INSTALLED" ]; then
	entry=$(getent passwd healthd)
	uid=$(cut -d: -f3 <<<"$entry")
	if [ -n "$entry" ] && [ "$uid" -lt 1000 ] && [[ $entry == *:/usr/sbin/nologin ]]; then
		ok "(c) postinst made the system user healthd ($entry)"
	else
		not_ok "(c) postinst made a system user healthd" "got: $entry"
	fi
	if getent group bird >/dev/null; then
		if id -nG healthd | tr ' ' '\n' | grep -qx bird; then
			ok "(c) healthd is in group bird (BIRD's control socket)"
		else
			not_ok "(c) healthd is in group bird" "groups: $(id -nG healthd)"
		fi
	else
		note "no group bird here: nothing to join"
	fi
	if find /etc/systemd/system -name healthd.service 2>/dev/null | grep -q .; then
		not_ok "(c) the unit is not enabled" "$(find /etc/systemd/system -name healthd.service)"
	else
		ok "(c) the unit is installed ($(ls /lib/systemd/system/healthd.service)) and not enabled"
	fi
	if pgrep -x healthd -a | grep -q /usr/sbin/healthd; then
		not_ok "(c) installing started nothing" "$(pgrep -x healthd -a)"
	else
		ok "(c) installing started nothing"
	fi

	# ------------------------------------------------------------ (d) purge
	if dpkg --purge healthd >"$T/purge.out" 2>&1; then
		INSTALLED=""
		ok "(d) dpkg --purge healthd"
	else
		not_ok "(d) dpkg --purge healthd" "$(tail -n 5 "$T/purge.out")"
	fi
	# the user stays on purge, as Debian's packages leave theirs; made by this test, it goes
	if [ -n "$MADE_USER" ]; then deluser --quiet --system healthd >/dev/null 2>&1; fi
	if [ -n "$MADE_GROUP" ] && getent group healthd >/dev/null; then delgroup --quiet --system healthd >/dev/null 2>&1; fi
	MADE_USER="" MADE_GROUP=""
	snapshot >"$T/after"
	if cmp -s "$T/before" "$T/after"; then
		ok "(d) after the purge the machine is as before (files, unit state, users, groups)"
	else
		not_ok "(d) after the purge the machine is as before" "$(diff "$T/before" "$T/after" | head -n 10)"
	fi
fi

it_finish
