#!/usr/bin/env bash
# bench/config.sh: how long `healthd check` takes on a config of N services (each one
# prefix and one tcp check), and where the time goes (bench/config_load.c, linked with
# the objects of the build in BUILD).
#
#   bash bench/config.sh                 # N=20000, BUILD=build (make check-build first)
#   N=5000 bash bench/config.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-20000}
BUILD=${BUILD:-$ROOT/build}
HEALTHD=${HEALTHD:-$BUILD/bin/healthd}
W=$(mktemp -d /tmp/healthd-config-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

python3 - "$N" >"$W/big.json" <<'PY'
import json, sys
n = int(sys.argv[1])
svcs = [{"name": "s%d" % i,
         "prefixes": ["10.%d.%d.%d/32" % (i >> 16, (i >> 8) & 255, i & 255)],
         "checks": [{"type": "tcp", "host": "127.0.0.1", "port": 80}]} for i in range(n)]
print(json.dumps({"speaker": {"type": "exabgp"}, "services": svcs}, indent=1))
PY
echo "config: $N services, $(wc -c <"$W/big.json") bytes; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
	/usr/bin/time -f "healthd check: %e s wall, %U s user, %S s sys, peak RSS %M KiB" \
		"$HEALTHD" check -c "$W/big.json" >/dev/null
done
objs=$(find "$BUILD/lib" "$BUILD/probes" "$BUILD/healthd" "$BUILD/compat" -name '*.o' ! -name main.o)
# shellcheck disable=SC2086 # lists of objects and flags
cc -std=c17 -D_GNU_SOURCE -O2 -Wall -Wextra $(pkg-config --cflags jansson) -o "$W/config_load" \
	"$ROOT/bench/config_load.c" $objs $(pkg-config --libs libevent jansson libcurl ldns openssl) -lm
for i in 1 2 3; do "$W/config_load" "$W/big.json"; done
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
