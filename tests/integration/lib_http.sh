# shellcheck shell=bash
# Helpers for the http and source tests, on top of lib.sh (source lib.sh first):
# a real nginx with an access log that shows who connected, a test CA and server
# certificate made with openssl, and healthd run directly for a while with its
# stdin held open and debug logs, then stopped.
#
#   http_nginx_start "server { ... }"    # $HTTP_NGINX_DIR, access log $HTTP_ACCESS_LOG
#   http_make_certs NAME                 # $HTTP_CA, $HTTP_CERT, $HTTP_KEY
#   http_run_healthd CONFIG SECONDS      # $T/healthd.out (stdout), $T/healthd.err
#   http_last SERVICE                    # the last result line logged for SERVICE
#   http_announced PREFIX                # healthd told the speaker to announce PREFIX
#   http_access PATTERN                  # access log lines whose request matches

# shellcheck disable=SC2034 # globals for the scripts that source this file
HTTP_NGINX_DIR=""
HTTP_ACCESS_LOG=""
HTTP_CA="" HTTP_CERT="" HTTP_KEY=""

# http_scale: HTTP_S, the factor for this run's timeouts and waits: 1, or 6 when
# $HEALTHD is a wrapper that runs healthd under valgrind (make valgrind), where
# OpenSSL's start alone takes seconds. Call after it_need_healthd.
http_scale() {
	HTTP_S=1
	if [ "$(head -c 2 "$HEALTHD")" = "#!" ] && grep -q valgrind "$HEALTHD"; then
		HTTP_S=6
		note "healthd runs under valgrind: timeouts and waits x$HTTP_S"
	fi
}

# http_nginx_start SERVERS: nginx in the foreground (backgrounded, $NGINX_PID, stopped
# by lib.sh's cleanup) with SERVERS inside its http block. The access log line is
# "ADDR PORT "REQUEST" STATUS BYTES host=HOST sni=NAME". Waits for every "listen" port.
http_nginx_start() {
	local d=$T/nginx-http port
	HTTP_NGINX_DIR=$d
	HTTP_ACCESS_LOG=$d/access.log
	mkdir -p "$d/www"
	cat >"$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
	log_format probe '\$remote_addr \$server_port "\$request" \$status \$body_bytes_sent host=\$http_host sni=\$ssl_server_name';
	access_log $HTTP_ACCESS_LOG probe;
	default_type text/plain;
	client_body_temp_path $d/tmp_body;
	proxy_temp_path $d/tmp_proxy;
	fastcgi_temp_path $d/tmp_fastcgi;
	uwsgi_temp_path $d/tmp_uwsgi;
	scgi_temp_path $d/tmp_scgi;
$1
}
EOF
	if ! nginx -t -q -p "$d" -c "$d/nginx.conf" -e "$d/error.log"; then
		echo "nginx rejects $d/nginx.conf" >&2
		return 1
	fi
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" </dev/null >>"$d/stdout.log" 2>&1 &
	# shellcheck disable=SC2034 # lib.sh's cleanup stops it
	NGINX_PID=$!
	# every "listen ADDR:PORT" (or ":PORT", "PORT": 127.0.0.1)
	while read -r addr port; do
		if ! wait_tcp "$addr" "$port" 5; then
			echo "nginx did not start listening on $addr:$port" >&2
			return 1
		fi
	done < <(awk '$1 == "listen" { sub(/;$/, "", $2); n = split($2, a, ":")
		print (n == 2 ? a[1] : "127.0.0.1"), a[n] }' "$d/nginx.conf")
}

# http_make_certs NAME: a CA, and a server certificate it signs for NAME (and for
# 127.0.0.1), all under $T/tls.
http_make_certs() {
	local d=$T/tls name=$1
	mkdir -p "$d"
	HTTP_CA=$d/ca.crt HTTP_CERT=$d/server.crt HTTP_KEY=$d/server.key
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=healthd test CA" \
		-keyout "$d/ca.key" -out "$HTTP_CA" >"$d/openssl.log" 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" \
			-keyout "$HTTP_KEY" -out "$d/server.csr" >>"$d/openssl.log" 2>&1 &&
		printf 'subjectAltName=DNS:%s,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' "$name" >"$d/ext.cnf" &&
		openssl x509 -req -in "$d/server.csr" -CA "$HTTP_CA" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$HTTP_CERT" >>"$d/openssl.log" 2>&1
}

# http_run_healthd CONFIG SECONDS: "healthd run -d" for SECONDS, then SIGTERM. Its stdin
# is a fifo held open (no EOF), stdout the speaker's commands. Sets HTTP_RC (its exit
# status, or "running" when it ignored SIGTERM for 5 s) and HTTP_THREADS (the most
# threads it had at any look).
http_run_healthd() {
	local conf=$1 secs=$2 t0 th
	rm -f "$T/healthd.stdin"
	mkfifo "$T/healthd.stdin"
	exec 8<>"$T/healthd.stdin"
	"$HEALTHD" run -d -c "$conf" <"$T/healthd.stdin" >"$T/healthd.out" 2>"$T/healthd.err" &
	HEALTHD_PID=$!
	# shellcheck disable=SC2034 # lib.sh's cleanup checks it before killing HEALTHD_PID
	HEALTHD_START=$(pid_start "$HEALTHD_PID")
	HTTP_THREADS=0
	t0=$(now)
	while alive "$HEALTHD_PID" && le "$(since "$t0")" "$secs"; do
		th=$(awk '/^Threads:/ { print $2 }' "/proc/$HEALTHD_PID/status" 2>/dev/null)
		[ -n "$th" ] && [ "$th" -gt "$HTTP_THREADS" ] && HTTP_THREADS=$th
		sleep 0.1
	done
	kill -TERM "$HEALTHD_PID" 2>/dev/null
	if wait_gone "$HEALTHD_PID" 5; then
		wait "$HEALTHD_PID"
		HTTP_RC=$?
	else
		HTTP_RC=running
		kill_pid "$HEALTHD_PID" 1
	fi
	HEALTHD_PID=""
	exec 8>&-
}

# The last "SERVICE: LABEL: STATUS (CODE) DETAIL, N.Nms" line healthd logged.
http_last() {
	grep -F "engine_check_done: $1: " "$T/healthd.err" | tail -n 1 | sed 's/^.*engine_check_done: //'
}

# The reason code of that line: "ok", "bad-status", ...
http_code() {
	http_last "$1" | grep -oE ': (ok|warning|fail|error) \([a-z-]+\) ' | head -n 1 |
		sed -E 's/^.*\(([a-z-]+)\) $/\1/'
}

# The latency of that line, in ms.
http_latency() {
	http_last "$1" | sed -n 's/^.*, \([0-9.]*\)ms$/\1/p'
}

http_announced() {
	grep -q "^announce route $1 " "$T/healthd.out"
}

# Access log lines for requests matching PATTERN (an ERE on the "REQUEST" field).
http_access() {
	awk -v pat="$1" -F'"' '$2 ~ pat' "$HTTP_ACCESS_LOG" 2>/dev/null
}

# expect_code SERVICE CODE [DETAIL_SUBSTRING]: one ok/not ok line.
expect_code() {
	local svc=$1 want=$2 sub=${3:-} got line
	line=$(http_last "$svc")
	got=$(http_code "$svc")
	if [ "$got" = "$want" ] && { [ -z "$sub" ] || [[ $line == *"$sub"* ]]; }; then
		ok "$svc: $want${sub:+ ($sub)}"
	else
		not_ok "$svc: $want${sub:+ ($sub)}" "last result: ${line:-none}"
	fi
}
