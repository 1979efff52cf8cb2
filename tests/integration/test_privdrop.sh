#!/usr/bin/env bash
# Privileges and limits of `healthd run`, started as root:
#   (a) "user": "nobody": the daemon, each exec check and the check's own children run
#       as nobody with nobody's groups (/proc/PID/status), with no capability left; the
#       service still goes up (announced on stdout); "group" picks another group;
#       started as nobody already (setpriv) it runs, and it cannot become another user;
#   (b) exec checks as root: refused by `healthd check` and `healthd run` (exit 1, nothing
#       announced) without "allow_root_exec", accepted with it (the check then runs as
#       uid 0);
#   (c) "limits": max_open_files is the daemon's and its checks' RLIMIT_NOFILE; a run past
#       max_running ends with reason "limit"; an exec check printing more than
#       max_read_bytes fails with reason "limit", and healthd keeps running;
#   (d) where healthd reloads: a broken file at start keeps root until the first valid
#       one, which drops to nobody; a reload naming another user is refused.
#
# healthd runs directly, not under ExaBGP: stdin is a fifo this script holds open (so
# healthd never sees EOF), stdout (the ExaBGP API) goes to a file.
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_privdrop.sh   (as root)
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

it_init
it_need_healthd
it_need id getent pgrep setpriv

if [ "$(id -u)" -ne 0 ]; then
	not_ok "runs as root" "this test starts healthd as root to see it drop to nobody"
	it_finish
	exit 1
fi

# make valgrind runs healthd through a wrapper script: valgrind keeps RLIMIT_NOFILE.
VALGRIND=0
if [ "$(head -c 2 "$HEALTHD")" = "#!" ] && grep -q valgrind "$HEALTHD"; then VALGRIND=1; fi

# The checks write where nobody can: a directory of their own.
W=$T/w
mkdir -m 1777 "$W"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
mkfifo "$T/stdin"
exec 7<>"$T/stdin" # held open read-write: healthd's stdin never reaches EOF

# status_field PID NAME: the values of one line of /proc/PID/status ("Uid", "Groups").
status_field() { awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "${3:-/proc/$1/status}" 2>/dev/null; }
# same_set "A B" "B A": the same numbers in any order.
same_set() { [ "$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -n | tr '\n' ' ')" = "$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort -n | tr '\n' ' ')" ]; }

# start_hd FILE [FLAGS]: healthd run in the background; $HPID, logs in $T/healthd.err.
start_hd() {
	: >"$T/healthd.out"
	: >"$T/healthd.err"
	# shellcheck disable=SC2086
	"$HEALTHD" run -c "$1" ${2:-} <"$T/stdin" >"$T/healthd.out" 2>"$T/healthd.err" &
	HPID=$!
	HEALTHD_PID=$HPID HEALTHD_START=$(pid_start "$HPID")
}
stop_hd() {
	kill_pid "$HPID" 3
	HEALTHD_PID=""
}
# wait_file FILE SECONDS: until FILE is non-empty.
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_grep PATTERN FILE SECONDS
wait_grep() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- (a) user nobody
# The check records its pid, starts a child (sleep) and lives a while, so that both can
# be looked at in /proc while they run.
CHECK="echo \$\$ >$W/check.pid.tmp && mv $W/check.pid.tmp $W/check.pid; sleep 2 & echo \$! >$W/child.pid; wait"
cat >"$T/nobody.json" <<EOF
{
	"user": "nobody",
	"limits": { "max_open_files": 256 },
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "3s", "fast_interval": "3s", "timeout": "2500ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "id", "prefixes": [ "203.0.113.71/32" ],
		  "checks": [ { "type": "exec", "shell": true, "command": "$CHECK" } ] }
	]
}
EOF
if out=$("$HEALTHD" check -c "$T/nobody.json" 2>&1) && grep -q '"group": "'"$(id -gn nobody)"'"' <<<"$out"; then
	ok "(a) healthd check: \"user\": \"nobody\" is valid; the group defaults to nobody's ($(id -gn nobody))"
else
	not_ok "(a) healthd check: \"user\": \"nobody\" is valid; the group defaults to nobody's" "$(head -5 <<<"$out")"
fi
start_hd "$T/nobody.json"
if wait_file "$W/check.pid" 10 && wait_file "$W/child.pid" 2; then
	CPID=$(cat "$W/check.pid")
	KPID=$(cat "$W/child.pid")
	# Copies first, while the check still runs (it lives 2 s).
	for pid in "$HPID" "$CPID" "$KPID"; do
		cp "/proc/$pid/status" "$T/status.$pid" 2>/dev/null
		cp "/proc/$pid/limits" "$T/limits.$pid" 2>/dev/null
	done
	want_groups=$(id -G nobody)
	for who in "daemon:$HPID" "exec check:$CPID" "check's child:$KPID"; do
		name=${who%%:*} pid=${who#*:}
		f=$T/status.$pid
		uid=$(status_field "$pid" Uid "$f") gid=$(status_field "$pid" Gid "$f") groups=$(status_field "$pid" Groups "$f")
		if same_set "$uid" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"; then
			ok "(a) the $name runs as uid nobody (real, effective, saved, fs)"
		else
			not_ok "(a) the $name runs as uid nobody (real, effective, saved, fs)" "pid $pid Uid: $uid"
		fi
		if same_set "$gid" "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" && same_set "$groups" "$want_groups"; then
			ok "(a) the $name has nobody's group and supplementary groups ($want_groups)"
		else
			not_ok "(a) the $name has nobody's group and supplementary groups ($want_groups)" "pid $pid Gid: $gid Groups: $groups"
		fi
	done
	capeff=$(status_field "$HPID" CapEff) capprm=$(status_field "$HPID" CapPrm)
	if [ "$capeff" = 0000000000000000 ] && [ "$capprm" = 0000000000000000 ]; then
		ok "(a) the daemon kept no capability (CapEff, CapPrm 0)"
	else
		not_ok "(a) the daemon kept no capability (CapEff, CapPrm 0)" "CapEff $capeff CapPrm $capprm"
	fi
	lim=$(awk '/^Max open files/ { print $4, $5 }' "$T/limits.$HPID" 2>/dev/null)
	clim=$(awk '/^Max open files/ { print $4, $5 }' "$T/limits.$CPID" 2>/dev/null)
	if [ "$lim" = "256 256" ] && [ "$clim" = "256 256" ]; then
		ok "(c) limits.max_open_files 256 is the soft and hard limit of the daemon and its checks"
	elif [ "$VALGRIND" = 1 ] && grep -q "limits.max_open_files 256: cannot set" "$T/healthd.err"; then
		# valgrind keeps the limit its own descriptors need: healthd says so and runs on.
		ok "(c) limits.max_open_files 256 under valgrind, which keeps its own limit: a warning"
	else
		not_ok "(c) limits.max_open_files 256 is the soft and hard limit of the daemon and its checks" "daemon: $lim, check: $clim"
	fi
else
	not_ok "(a) the exec check ran as nobody and wrote its pid" "$(tail -n 5 "$T/healthd.err")"
fi
if wait_grep "announce route 203.0.113.71/32" "$T/healthd.out" 5; then
	ok "(a) the check passes as nobody: the service is announced"
else
	not_ok "(a) the check passes as nobody: the service is announced" "$(tail -n 5 "$T/healthd.err")"
fi
if grep -q "running as nobody:$(id -gn nobody)" "$T/healthd.err"; then ok "(a) healthd logs whom it runs as"; else not_ok "(a) healthd logs whom it runs as" "$(head -n 5 "$T/healthd.err")"; fi
stop_hd

# "group": another group than the user's own; supplementary groups are nobody's.
rm -f "$W/check.pid" "$W/child.pid"
OTHER=daemon
OTHER_GID=$(getent group "$OTHER" | cut -d: -f3)
sed 's/"user": "nobody",/"user": "nobody", "group": "'$OTHER'",/' "$T/nobody.json" >"$T/group.json"
start_hd "$T/group.json"
if wait_file "$W/check.pid" 10; then
	CPID=$(cat "$W/check.pid")
	gid=$(status_field "$CPID" Gid) groups=$(status_field "$CPID" Groups)
	# initgroups(nobody, daemon): daemon, plus the groups that list nobody as a member.
	want=$({
		echo "$OTHER_GID"
		id -G nobody | tr ' ' '\n' | grep -vx "$NOBODY_GID"
	} | sort -un | tr "\n" " " | sed "s/ $//")
	if same_set "$gid" "$OTHER_GID $OTHER_GID $OTHER_GID $OTHER_GID" && same_set "$groups" "$want"; then
		ok "(a) \"group\": \"$OTHER\": the exec check runs with gid $OTHER_GID and groups $want"
	else
		not_ok "(a) \"group\": \"$OTHER\": the exec check runs with gid $OTHER_GID and groups $want" "Gid: $gid Groups: $groups"
	fi
else
	not_ok "(a) \"group\": \"$OTHER\": the exec check ran" "$(tail -n 5 "$T/healthd.err")"
fi
stop_hd

# Started as nobody already (setpriv, as a process manager would): nothing to drop.
rm -f "$W/check.pid" "$W/child.pid"
: >"$T/healthd.out"
: >"$T/healthd.err"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$HEALTHD" run -c "$T/nobody.json" \
	<"$T/stdin" >"$T/healthd.out" 2>"$T/healthd.err" &
HPID=$!
HEALTHD_PID=$HPID HEALTHD_START=$(pid_start "$HPID")
if wait_file "$W/check.pid" 10 && same_set "$(status_field "$(cat "$W/check.pid")" Uid)" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" &&
	alive "$HPID"; then
	ok "(a) started as nobody with \"user\": \"nobody\": it runs, and so does the check"
else
	not_ok "(a) started as nobody with \"user\": \"nobody\": it runs, and so does the check" "$(tail -n 3 "$T/healthd.err")"
fi
stop_hd
# ... but it cannot become another user.
sed 's/"user": "nobody",/"user": "daemon",/' "$T/nobody.json" >"$T/daemon.json"
timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups "$HEALTHD" run -c "$T/daemon.json" \
	<"$T/stdin" >"$T/daemon.out" 2>"$T/daemon.err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q "\"user\": \"daemon\" (uid $(id -u daemon)): healthd runs as uid $NOBODY_UID, not as root, and cannot become it" "$T/daemon.err"; then
	ok "(a) started as nobody with \"user\": \"daemon\": exit 3, saying why"
else
	not_ok "(a) started as nobody with \"user\": \"daemon\": exit 3, saying why" "exit $rc" "$(tail -n 3 "$T/daemon.err")"
fi

# ---------------------------------------------------------------- (b) allow_root_exec
cat >"$T/root.json" <<EOF
{
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "3s", "fast_interval": "3s", "timeout": "2500ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "id", "prefixes": [ "203.0.113.72/32" ],
		  "checks": [ { "type": "exec", "shell": true, "command": "$CHECK" } ] }
	]
}
EOF
rm -f "$W/check.pid" "$W/child.pid"
out=$("$HEALTHD" check -c "$T/root.json" 2>&1)
rc=$?
want="$T/root.json:6:19: services[0].checks[0].type: an exec check would run as root (no \"user\")"
if [ "$rc" -eq 1 ] && grep -qF -- "$want" <<<"$out"; then
	ok "(b) healthd check refuses an exec check as root, at its position"
else
	not_ok "(b) healthd check refuses an exec check as root, at its position" "exit $rc" "$out"
fi
# A healthd that stays up on a broken config (--exit-on-error gives the exit) must not
# run the check either: it waits, announcing nothing.
EXIT_FLAG=""
if "$HEALTHD" run --help 2>/dev/null | grep -q -- --exit-on-error; then EXIT_FLAG=--exit-on-error; fi
# shellcheck disable=SC2086
timeout 10 "$HEALTHD" run -c "$T/root.json" $EXIT_FLAG <"$T/stdin" >"$T/root.out" 2>"$T/root.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qF -- "$want" "$T/root.err" && ! grep -q '^announce' "$T/root.out" && [ ! -e "$W/check.pid" ]; then
	ok "(b) healthd run ${EXIT_FLAG:+$EXIT_FLAG }refuses it too: exit 1, nothing announced, the check never ran"
else
	not_ok "(b) healthd run ${EXIT_FLAG:+$EXIT_FLAG }refuses it too: exit 1, nothing announced, the check never ran" "exit $rc" "$(head -n 3 "$T/root.err")" "stdout: $(head -n 2 "$T/root.out")"
fi
if [ -n "$EXIT_FLAG" ]; then
	start_hd "$T/root.json"
	sleep 2
	if alive "$HPID" && grep -qF -- "$want" "$T/healthd.err" && ! grep -q '^announce' "$T/healthd.out" && [ ! -e "$W/check.pid" ]; then
		ok "(b) without $EXIT_FLAG it waits for a valid file: the check never ran, nothing announced"
	else
		not_ok "(b) without $EXIT_FLAG it waits for a valid file: the check never ran, nothing announced" "$(head -n 3 "$T/healthd.err")"
	fi
	stop_hd
fi
sed 's/"user": "nobody",/"user": "root",/' "$T/nobody.json" >"$T/rootuser.json"
if ! "$HEALTHD" check -c "$T/rootuser.json" >/dev/null 2>"$T/check.err" && grep -q '("user" is root)' "$T/check.err"; then
	ok "(b) \"user\": \"root\" is refused the same way"
else
	not_ok "(b) \"user\": \"root\" is refused the same way" "$(cat "$T/check.err")"
fi
sed 's/"speaker":/"allow_root_exec": true,\n\t"speaker":/' "$T/root.json" >"$T/allowed.json"
if "$HEALTHD" check -c "$T/allowed.json" >/dev/null 2>"$T/check.err"; then
	ok "(b) with \"allow_root_exec\": true the config is valid"
else
	not_ok "(b) with \"allow_root_exec\": true the config is valid" "$(cat "$T/check.err")"
fi
start_hd "$T/allowed.json"
if wait_file "$W/check.pid" 10; then
	uid=$(status_field "$(cat "$W/check.pid")" Uid)
	if same_set "$uid" "0 0 0 0"; then ok "(b) ... and the exec check runs as root"; else not_ok "(b) ... and the exec check runs as root" "Uid: $uid"; fi
else
	not_ok "(b) ... and the exec check runs" "$(tail -n 5 "$T/healthd.err")"
fi
if wait_grep "announce route 203.0.113.72/32" "$T/healthd.out" 5; then ok "(b) ... and the service is announced"; else not_ok "(b) ... and the service is announced" "$(tail -n 5 "$T/healthd.err")"; fi
stop_hd

# ---------------------------------------------------------------- (c) limits
# max_running 1: "slow" holds the one place for 1.5 s of every 2 s; "fast" runs every
# 200 ms, so some of its runs find no place. Which one finds it taken depends on how the
# two line up: under valgrind a "true" takes 30 ms and "slow" starts during one each time.
cat >"$T/running.json" <<EOF
{
	"user": "nobody",
	"limits": { "max_running": 1 },
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "2s", "fast_interval": "2s", "timeout": "1800ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "slow", "prefixes": [ "203.0.113.73/32" ],
		  "checks": [ { "type": "exec", "command": [ "sleep", "1.5" ] } ] },
		{ "name": "fast", "prefixes": [ "203.0.113.74/32" ],
		  "checks": [ { "type": "exec", "command": [ "true" ], "interval": "200ms", "fast_interval": "200ms", "timeout": "150ms" } ] }
	]
}
EOF
start_hd "$T/running.json" -d
if wait_grep "\(fast: exec true\|slow: exec sleep 1.5\): error (limit) 1 concurrent probe runs reached (max_running)" "$T/healthd.err" 5; then
	ok "(c) a run past limits.max_running ends with reason \"limit\""
else
	not_ok "(c) a run past limits.max_running ends with reason \"limit\"" "$(grep -E '(fast|slow):' "$T/healthd.err" | tail -n 3)"
fi
if alive "$HPID"; then ok "(c) healthd keeps running at max_running"; else not_ok "(c) healthd keeps running at max_running"; fi
stop_hd

# max_read_bytes 4096: a check that prints without end is stopped and fails.
cat >"$T/read.json" <<EOF
{
	"user": "nobody",
	"limits": { "max_read_bytes": 4096 },
	"speaker": { "type": "exabgp" },
	"defaults": { "interval": "1s", "fast_interval": "1s", "timeout": "800ms", "rise": 1, "fall": 1 },
	"services": [
		{ "name": "chatty", "prefixes": [ "203.0.113.75/32" ],
		  "checks": [ { "type": "exec", "command": [ "yes", "all is well" ] } ] },
		{ "name": "quiet", "prefixes": [ "203.0.113.76/32" ],
		  "checks": [ { "type": "exec", "command": [ "head", "-c", "4000", "/dev/zero" ] } ] }
	]
}
EOF
if ! "$HEALTHD" check -c "$T/read.json" >/dev/null 2>"$T/check.err"; then not_ok "(c) the read limit config is valid" "$(cat "$T/check.err")"; fi
start_hd "$T/read.json" -d
if wait_grep "chatty: exec yes all is well: error (limit) read more than max_read_bytes (4096 bytes): the command's output" "$T/healthd.err" 5; then
	ok "(c) an exec check printing more than limits.max_read_bytes fails with reason \"limit\""
else
	not_ok "(c) an exec check printing more than limits.max_read_bytes fails with reason \"limit\"" "$(grep -F 'chatty' "$T/healthd.err" | tail -n 3)"
fi
if grep -q "chatty: exec yes all is well: error (limit).*[0-9]ms" "$T/healthd.err" && ! grep -q "chatty: .*(timeout)" "$T/healthd.err"; then
	ok "(c) ... stopped at the limit, not at its timeout"
else
	not_ok "(c) ... stopped at the limit, not at its timeout" "$(grep -F 'chatty' "$T/healthd.err" | tail -n 3)"
fi
if wait_grep "announce route 203.0.113.76/32" "$T/healthd.out" 5 && ! grep -q "203.0.113.75/32" <(grep '^announce' "$T/healthd.out"); then
	ok "(c) a check under the limit passes; the one over it keeps its service down"
else
	not_ok "(c) a check under the limit passes; the one over it keeps its service down" "$(cat "$T/healthd.out")"
fi
if alive "$HPID"; then ok "(c) healthd keeps running past max_read_bytes"; else not_ok "(c) healthd keeps running past max_read_bytes"; fi
stop_hd
# ---------------------------------------------------------------- (d) reload
# Where healthd reloads (SIGHUP), whom it runs as is fixed by the first valid config:
# a broken file at start keeps root until a valid one comes; a later one naming another
# user is refused.
if "$HEALTHD" run --help 2>/dev/null | grep -q SIGHUP; then
	rm -f "$W/check.pid" "$W/child.pid"
	echo '{ "services": [ }' >"$T/live.json"
	start_hd "$T/live.json"
	sleep 1
	cp "$T/nobody.json" "$T/live.json"
	kill -HUP "$HPID" 2>/dev/null
	if wait_file "$W/check.pid" 8 && same_set "$(status_field "$(cat "$W/check.pid")" Uid)" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" &&
		same_set "$(status_field "$HPID" Uid)" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"; then
		ok "(d) started on a broken file, healthd drops to nobody with the first valid one"
	else
		not_ok "(d) started on a broken file, healthd drops to nobody with the first valid one" "$(tail -n 5 "$T/healthd.err")"
	fi
	cp "$T/daemon.json" "$T/live.json"
	kill -HUP "$HPID" 2>/dev/null
	if wait_grep "restart to change whom healthd runs as" "$T/healthd.err" 8 && alive "$HPID" &&
		same_set "$(status_field "$HPID" Uid)" "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"; then
		ok "(d) a reload naming another user is refused; healthd stays nobody"
	else
		not_ok "(d) a reload naming another user is refused; healthd stays nobody" "$(tail -n 5 "$T/healthd.err")"
	fi
	stop_hd
else
	note "(d) skipped: this healthd does not reload"
fi
exec 7>&-

it_finish
