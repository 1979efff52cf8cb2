# shellcheck shell=bash
# bench/servers.sh: the real local servers the benches check, and how they count what
# they served; sourced by bench/checks.sh, bench/mix.sh and others. The caller sets ROOT (the
# source tree), W (its work directory), ADDR (a loopback address for nginx and Knot),
# the array PIDS (every process started here is added to it, for the caller's trap to
# stop by PID) and a log function.
#
#   listener_start / listener_count   bench/listener.c on 127.0.0.1:$LISTEN_PORT
#   nginx_start / nginx_count         nginx, one worker: http $NGINX_PORT, https $TLS_PORT
#                                     (a test CA in $W/nginx/ca.pem), access log lines
#   knot_start / knot_count           Knot on $DNS_PORT, zone bench.test, answers counted
#   cpu_ns PID                        on-CPU ns of the process's threads (schedstat)
#   cpu_sum PID...                    the same summed, into CPU_SUM, without a fork
#   kb FILE KEY                       a "KEY: N kB" field of /proc/PID/status or smaps_rollup
#   mix_config N KINDS                the service mix's healthd config, on stdout
#   one_check_config N CHECK [TOP]    N services with one check each, on stdout

cpu_ns() {
	local s=0 t v
	for t in /proc/"$1"/task/*/schedstat; do
		read -r v _ <"$t" 2>/dev/null || continue
		s=$((s + v))
	done
	echo "$s"
}
# cpu_sum PID...: CPU_SUM := on-CPU ns of those processes (threads summed); no fork, so
# that 50 or more processes are sampled within milliseconds, even on a loaded machine.
cpu_sum() {
	local p t v
	CPU_SUM=0
	for p in "$@"; do
		for t in /proc/"$p"/task/*/schedstat; do
			read -r v _ <"$t" 2>/dev/null || continue
			CPU_SUM=$((CPU_SUM + v))
		done
	done
}
kb() { # bash only, no fork: many processes may be sampled back to back
	local k v _
	while read -r k v _; do
		[ "$k" = "$2:" ] && echo "$v" && return 0
	done <"$1"
	echo 0
} 2>/dev/null
wait_tcp() { # wait_tcp PORT: up to 5 s
	local i
	for ((i = 0; i < 50; i++)); do
		(exec 3<>"/dev/tcp/$ADDR/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
free_port() { python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1], 0)); print(s.getsockname()[1])' "$ADDR"; }

# ---- servers -------------------------------------------------------------------------
NGINX_PORT="" TLS_PORT=""
nginx_start() {
	local d=$W/nginx
	[ -n "$NGINX_PORT" ] && return 0
	mkdir -p "$d"
	NGINX_PORT=$(free_port) TLS_PORT=$(free_port)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=healthd bench CA" -keyout "$d/ca.key" -out "$d/ca.pem" >"$d/openssl.log" 2>&1 &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$ADDR" \
			-keyout "$d/srv.key" -out "$d/srv.csr" >>"$d/openssl.log" 2>&1 &&
		printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n' "$ADDR" >"$d/ext.cnf" &&
		openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile "$d/ext.cnf" -out "$d/srv.pem" >>"$d/openssl.log" 2>&1 || {
		log "openssl failed: $d/openssl.log"
		return 1
	}
	cat /etc/ssl/certs/ca-certificates.crt "$d/ca.pem" >"$d/bundle.pem"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes ${NGINX_WORKERS:-1};
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp_body;
	proxy_temp_path $d/tmp_proxy;
	fastcgi_temp_path $d/tmp_fastcgi;
	uwsgi_temp_path $d/tmp_uwsgi;
	scgi_temp_path $d/tmp_scgi;
	ssl_session_cache shared:bench:1m;
	server {
		listen $ADDR:$NGINX_PORT;
		listen $ADDR:$TLS_PORT ssl;
		ssl_certificate $d/srv.pem;
		ssl_certificate_key $d/srv.key;
		location / { return 200 "ok\n"; }
	}
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stdout.log" 2>&1 &
	PIDS+=($!)
	wait_tcp "$NGINX_PORT" && wait_tcp "$TLS_PORT"
}
nginx_count() { wc -l <"$W/nginx/access.log"; }

LISTEN_PORT=""
listener_start() {
	[ -n "$LISTEN_PORT" ] && return 0
	cc -O2 -Wall -Wextra -o "$W/listener" "$ROOT/bench/listener.c" || return 1
	mkdir -p "$W/listen"
	# listener.c binds 127.0.0.1
	"$W/listener" "$W/listen" 3600 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 50; i++)); do
		[ -s "$W/listen/port" ] && break
		sleep 0.1
	done
	LISTEN_PORT=$(cat "$W/listen/port")
}
listener_count() { cat "$W/listen/count" 2>/dev/null || echo 0; }

DNS_PORT=""
knot_start() {
	local d=$W/knot
	[ -n "$DNS_PORT" ] && return 0
	mkdir -p "$d"
	DNS_PORT=$(free_port)
	cat >"$d/bench.test.zone" <<EOF
\$ORIGIN bench.test.
\$TTL 300
@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300
@ NS ns.bench.test.
ns A 127.0.51.1
EOF
	cat >"$d/knot.conf" <<EOF
server:
    listen: $ADDR@$DNS_PORT
    rundir: "$d"
    pidfile: "$d/knot.pid"
control:
    listen: "$d/knot.sock"
database:
    storage: "$d"
log:
  - target: stderr
    any: warning
mod-stats:
  - id: s
    request-protocol: on
template:
  - id: default
    storage: "$d"
    global-module: mod-stats/s
zone:
  - domain: bench.test
    file: "$d/bench.test.zone"
EOF
	knotd -c "$d/knot.conf" </dev/null >>"$d/knotd.log" 2>&1 &
	PIDS+=($!)
	local i
	for ((i = 0; i < 50; i++)); do
		knotc -c "$d/knot.conf" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "knotd did not start: $d/knotd.log"
	return 1
}
knot_count() {
	knotc -c "$W/knot/knot.conf" stats mod-stats.request-protocol 2>/dev/null |
		awk -F'= ' '{ s += $2 } END { print s + 0 }'
}

# mix_config N KINDS: healthd's config for the service mix, on stdout: N services, each
# with one check of every kind in KINDS ("tcp http dns": the servers above), interval
# 1 s, speaker exabgp, the control endpoint on $W/ctl.sock.
mix_config() {
	local n=$1 kinds=" $2 " i sep
	printf '{ "speaker": { "type": "exabgp" },\n'
	printf '  "control": { "listen": "unix:%s/ctl.sock" },\n' "$W"
	printf '  "defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "900ms", "rise": 2, "fall": 2 },\n'
	printf '  "services": [\n'
	for ((i = 0; i < n; i++)); do
		[ "$i" -gt 0 ] && printf ',\n'
		printf '    { "name": "s%d", "prefixes": [ "10.%d.%d.%d/32" ], "checks": [' \
			"$i" $((i / 65536)) $((i / 256 % 256)) $((i % 256))
		sep=""
		if [[ $kinds == *" tcp "* ]]; then
			printf '%s\n      { "type": "tcp", "host": "127.0.0.1", "port": %s }' "$sep" "$LISTEN_PORT"
			sep=,
		fi
		if [[ $kinds == *" http "* ]]; then
			printf '%s\n      { "type": "http", "url": "http://%s:%s/" }' "$sep" "$ADDR" "$NGINX_PORT"
			sep=,
		fi
		if [[ $kinds == *" dns "* ]]; then
			printf '%s\n      { "type": "dns", "server": "%s", "port": %s, "name": "bench.test", "qtype": "SOA" }' \
				"$sep" "$ADDR" "$DNS_PORT"
		fi
		printf ' ] }'
	done
	printf '\n  ] }\n'
}

# one_check_config N CHECK [TOP]: healthd's config on stdout: N services, each with the
# one check CHECK (a JSON object), interval 1 s, speaker exabgp; TOP, when given, adds
# top-level members (e.g. ' "allow_root_exec": true,').
one_check_config() {
	local n=$1 chk=$2 i
	printf '{ "speaker": { "type": "exabgp" },%s\n' "${3:-}"
	printf '  "defaults": { "interval": "1s", "fast_interval": "500ms", "timeout": "900ms", "rise": 2, "fall": 2 },\n'
	printf '  "services": [\n'
	for ((i = 0; i < n; i++)); do
		printf '    { "name": "s%d", "prefixes": [ "10.%d.%d.%d/32" ], "checks": [ %s ] }%s\n' \
			"$i" $((i / 65536)) $((i / 256 % 256)) $((i % 256)) "$chk" "$([ $((i + 1)) -lt "$n" ] && echo ,)"
	done
	printf '  ] }\n'
}
