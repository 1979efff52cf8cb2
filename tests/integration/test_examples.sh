#!/usr/bin/env bash
# The examples an operator copies work as they say:
#   (a) examples/healthd.service passes `systemd-analyze verify` (with the man pages of
#       its Documentation= installed), carries the hardening it promises, leaves the
#       BIRD include files of examples/healthd-bird.json writable, and
#       `systemd-analyze security` rates it OK;
#   (b) the anycast DNS node: examples/healthd-dns-node.json passes `healthd check`
#       with its identity, serial and AXFR checks bound to the unique address;
#       examples/knot-node.conf passes `knotc conf-check`; and both, moved onto loopback
#       (127.0.61.0/24, a high port, timings in seconds), make a real node: a Knot
#       primary, the example's Knot as its secondary, healthd announcing the anycast
#       prefix once every check passes and withdrawing it when the node's Knot stops;
#   (c) examples/prometheus.yml and healthd-alerts.yml pass `promtool check config` and
#       `check rules`, and the two alerts fire (and only then) on made-up series
#       (`promtool test rules`).
#
#   HEALTHD=/abs/path/healthd bash tests/integration/test_examples.sh
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=lib_dns.sh
. "$(dirname "$0")/lib_dns.sh"

it_need python3 make promtool systemd-analyze
it_need_healthd
it_init
dns_init

EX=$IT_ROOT/examples

# ---------------------------------------------------------------- (a) the unit
UNIT=$EX/healthd.service
# The man pages that Documentation= names, where verify's man(1) finds them.
make -s -C "$IT_ROOT" install DESTDIR="$T/root" PREFIX=/usr BIN="$HEALTHD" >"$T/make.out" 2>&1 ||
	not_ok "(a) make install for the man pages" "$(head -5 "$T/make.out")"
mkdir -p "$T/unit"
# verify wants ExecStart's binary to exist: the one under test stands in for /usr/sbin's.
sed "s|/usr/sbin/healthd|$HEALTHD|g" "$UNIT" >"$T/unit/healthd.service"
out=$(cd "$T/unit" && MANPATH=$T/root/usr/share/man systemd-analyze verify ./healthd.service 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
	ok "(a) systemd-analyze verify examples/healthd.service: no complaint"
else
	not_ok "(a) systemd-analyze verify examples/healthd.service: no complaint" "exit $rc" "$out"
fi
# The same verify does see a broken unit (so the line above means something).
sed 's/^ProtectHome=yes/ProtectHome=yes\nProtectHomeDir=yes/' "$T/unit/healthd.service" >"$T/unit/broken.service"
out=$(cd "$T/unit" && MANPATH=$T/root/usr/share/man systemd-analyze verify ./broken.service 2>&1)
if [[ $out == *ProtectHomeDir* ]]; then
	ok "(a) systemd-analyze verify reports an unknown directive in a broken copy"
else
	not_ok "(a) systemd-analyze verify reports an unknown directive in a broken copy" "$out"
fi

# unit_value KEY: the last value the unit sets for KEY (systemd's rule for most keys).
unit_value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
bad=""
[ "$(unit_value ProtectSystem)" = strict ] || bad="$bad ProtectSystem"
[ "$(unit_value ProtectHome)" = yes ] || bad="$bad ProtectHome"
[ "$(unit_value NoNewPrivileges)" = yes ] || bad="$bad NoNewPrivileges"
grep -qx 'CapabilityBoundingSet=' "$UNIT" || bad="$bad CapabilityBoundingSet(empty)"
[ "$(unit_value SystemCallFilter | head -n 1)" = @system-service ] || bad="$bad SystemCallFilter"
for fam in $(unit_value RestrictAddressFamilies); do
	case $fam in AF_UNIX | AF_INET | AF_INET6 | AF_NETLINK) ;; *) bad="$bad RestrictAddressFamilies:$fam" ;; esac
done
[ -n "$(unit_value RestrictAddressFamilies)" ] || bad="$bad RestrictAddressFamilies"
[ "$(unit_value User)" = healthd ] || bad="$bad User"
if [ -z "$bad" ]; then
	ok "(a) the unit is hardened: ProtectSystem=strict, ProtectHome, NoNewPrivileges, no capability, 4 address families, @system-service"
else
	not_ok "(a) the unit is hardened as it says" "wrong or missing:$bad"
fi

# Every include file of the BIRD example lies under a ReadWritePaths= of the unit.
sed '0,/{/s//{ "source_check": false,/' "$EX/healthd-bird.json" >"$T/bird-example.json"
incs=$("$HEALTHD" check -c "$T/bird-example.json" 2>&1 |
	python3 -c 'import json, sys; s = json.load(sys.stdin)["speaker"]; print(s.get("include", "")); print(s.get("include6", ""))')
rw=$(unit_value ReadWritePaths)
bad=""
for f in $incs; do
	covered=""
	for d in $rw; do
		d=${d#-}
		case $f in "$d"/*) covered=1 ;; esac
	done
	[ -n "$covered" ] || bad="$bad $f"
done
if [ -n "$incs" ] && [ -z "$bad" ]; then
	ok "(a) the include files of examples/healthd-bird.json ($(tr '\n' ' ' <<<"$incs")) are under ReadWritePaths=$rw"
else
	not_ok "(a) the include files of examples/healthd-bird.json are writable under the unit" "includes: $incs; ReadWritePaths=$rw; not covered:$bad"
fi

level=$(cd "$T/unit" && systemd-analyze security --offline=true ./healthd.service 2>/dev/null |
	sed -nE 's/.*Overall exposure level for healthd.service: ([0-9.]+).*/\1/p')
if [ -n "$level" ] && le "$level" 2.5; then
	ok "(a) systemd-analyze security rates the unit's exposure $level (at most 2.5)"
else
	not_ok "(a) systemd-analyze security rates the unit's exposure at most 2.5" "got: ${level:-nothing}"
fi

# ---------------------------------------------------------------- (b) the DNS node
NODE=$EX/healthd-dns-node.json
sed '0,/{/s//{ "source_check": false,/' "$NODE" >"$T/node-check.json"
if "$HEALTHD" check -c "$T/node-check.json" >"$T/node.norm" 2>"$T/node.err"; then
	ok "(b) healthd check accepts examples/healthd-dns-node.json"
else
	not_ok "(b) healthd check accepts examples/healthd-dns-node.json" "$(head -5 "$T/node.err")"
fi
# What the example promises, read from the normalized config: an identity check of each
# anycast address, a serial check against primaries, an AXFR check, every one of them
# leaving from the node's unique (non-anycast) address.
facts=$(python3 - "$T/node.norm" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
s = c["services"][0]
types = [k["type"] for k in s["checks"]]
ident = [k for k in s["checks"] if k["type"] == "dns" and k.get("expect_identity")]
src = c["source"]
ok = (len(ident) >= 1 and "dns-serial" in types and "dns-axfr" in types
      and all(k["source"]["ipv4"] == src["ipv4"] for k in s["checks"] if "source" in k)
      and src["ipv4"] not in " ".join(s["prefixes"]))
print("yes" if ok else "no", ",".join(types), src["ipv4"])
EOF
)
if [ "${facts%% *}" = yes ]; then
	ok "(b) the node's checks: ${facts#* } (identity, serial and AXFR, from the unique address)"
else
	not_ok "(b) the node's checks: identity, serial and AXFR from the unique address" "$facts"
fi
if out=$(knotc -c "$EX/knot-node.conf" conf-check 2>&1); then
	ok "(b) knotc conf-check accepts examples/knot-node.conf"
else
	not_ok "(b) knotc conf-check accepts examples/knot-node.conf" "$out"
fi

# The node on loopback: the examples' addresses mapped to 127.0.61.0/24, port 53 to a
# high port, the IPv6 parts left out (no such addresses here).
PORT=$(free_port) || exit 1
PRIM=127.0.61.1 ANY=127.0.61.53 UNIQ=127.0.61.7
knot_conf primary "$PRIM" "$PORT" primary <<EOF
acl:
  - id: to_node
    address: $UNIQ
    action: transfer
zone:
  - domain: example.com
    acl: to_node
EOF
dns_zone example.com 2026120601 >"$(knot_dir primary)/example.com.zone"
nd=$(knot_dir node)
mkdir -p "$nd/db"
sed -E -e 's/, 2001:[0-9a-f:]+(@53)?//g' \
	-e "s/192\\.0\\.2\\.53/$ANY/g; s/198\\.51\\.100\\.7/$UNIQ/g; s/203\\.0\\.113\\.1/$PRIM/g" \
	-e "s/@53/@$PORT/g" -e "s|/var/lib/knot|$nd|" -e 's/target: syslog/target: stderr/' \
	-e "s|^server:|server:\n    rundir: \"$nd\"|" "$EX/knot-node.conf" >"$nd/knot.conf"
printf 'control:\n    listen: "%s/knot.sock"\ndatabase:\n    storage: "%s/db"\n' "$nd" "$nd" >>"$nd/knot.conf"
if ! knotc -c "$nd/knot.conf" conf-check >"$T/conf.out" 2>&1; then
	not_ok "(b) the node's Knot config on loopback" "$(cat "$T/conf.out")"
fi
if knot_start primary && knot_start node && wait_serial "$ANY" "$PORT" example.com 2026120601 10; then
	ok "(b) the example's Knot, a secondary on loopback, has example.com from the primary"
else
	not_ok "(b) the example's Knot, a secondary on loopback, has example.com from the primary" \
		"$(tail -n 5 "$nd/knotd.log" 2>/dev/null)"
fi

python3 - "$NODE" "$T/node.json" <<EOF
import json, sys
c = json.load(open(sys.argv[1]))
m = {"192.0.2.53": "$ANY", "198.51.100.7": "$UNIQ", "203.0.113.1": "$PRIM"}
c["source"] = {"ipv4": m[c["source"]["ipv4"]]}
c["speaker"] = {"type": "birdc-stdout", "include": "$T/routes.conf", "include6": "$T/routes6.conf"}
c["log"] = {"syslog": False}
s = c["services"][0]
s["prefixes"] = [m[p.split("/")[0]] + "/32" for p in s["prefixes"] if ":" not in p]
s["disable_file"] = "$T/maintenance-dns"
# 127.0.61.53 is local through lo's 127.0.0.1/8 but not an address of its own, which
# require_local_address wants (test_local_address.sh covers that key in a namespace)
s["require_local_address"] = False
checks = []
for k in s["checks"]:
    if ":" in k.get("server", ""):
        continue
    if "server" in k:
        k["server"] = m[k["server"]] + "@$PORT"
    if "primaries" in k:
        k["primaries"] = [m[p] + "@$PORT" for p in k["primaries"] if ":" not in p]
    # seconds, not minutes: the lab must not wait for a 5-minute interval
    k.update({"interval": "1s", "fast_interval": "200ms", "timeout": "800ms"})
    checks.append(k)
s["checks"] = checks
json.dump(c, open(sys.argv[2], "w"), indent=2)
EOF
if "$HEALTHD" check -c "$T/node.json" >/dev/null 2>"$T/node.err"; then
	ok "(b) the node config on loopback is valid (source_check on: $UNIQ is local)"
else
	not_ok "(b) the node config on loopback is valid" "$(head -5 "$T/node.err")"
fi
# healthd keeps its state file (where it has one) in the lab, not in /var/lib/healthd
export STATE_DIRECTORY=$T
hd_start "$T/node.json"
routes_have() { grep -q "^route $ANY/32 " "$T/routes.conf" 2>/dev/null; }
t0=$(now)
announced=""
if wait_for 20 routes_have; then
	announced=1
	ok "(b) healthd announces $ANY/32 (include file and \"configure\") after $(since "$t0")s: identity, serial and AXFR all pass"
else
	not_ok "(b) healthd announces $ANY/32 once every check passes" "$(grep -E 'engine_check_done|->' "$T/healthd.err" | tail -n 8)"
fi
if grep -q '^configure' "$T/healthd.out"; then
	ok "(b) healthd told BIRD to configure"
else
	not_ok "(b) healthd told BIRD to configure" "$(tail -n 3 "$T/healthd.out")"
fi
# Each kind of check passed at least once, as the debug log says.
for label in "dns $ANY" "dns-serial" "dns-axfr"; do
	if grep -E "engine_check_done: dns: .*$label.*: ok " "$T/healthd.err" | grep -q .; then
		ok "(b) a $label check passed from $UNIQ"
	else
		not_ok "(b) a $label check passed" "$(grep -F 'engine_check_done' "$T/healthd.err" | tail -n 4)"
	fi
done
knot_stop node
t0=$(now)
if [ -z "$announced" ]; then
	not_ok "(b) with the node's Knot stopped, $ANY/32 is withdrawn" "it was never announced"
elif wait_for 15 bash -c "! grep -q '^route $ANY/32 ' '$T/routes.conf'"; then
	ok "(b) with the node's Knot stopped, $ANY/32 is withdrawn after $(since "$t0")s"
else
	not_ok "(b) with the node's Knot stopped, $ANY/32 is withdrawn" "$(cat "$T/routes.conf")"
fi
hd_stop

# ---------------------------------------------------------------- (c) Prometheus
cp "$EX/prometheus.yml" "$EX/healthd-alerts.yml" "$T/"
if out=$(promtool check config "$T/prometheus.yml" 2>&1); then
	ok "(c) promtool check config examples/prometheus.yml (with its rule file)"
else
	not_ok "(c) promtool check config examples/prometheus.yml" "$out"
fi
if out=$(promtool check rules "$T/healthd-alerts.yml" 2>&1) && [[ $out == *"2 rules found"* ]]; then
	ok "(c) promtool check rules examples/healthd-alerts.yml: 2 rules"
else
	not_ok "(c) promtool check rules examples/healthd-alerts.yml: 2 rules" "$out"
fi
# n1's dns goes down at 30s and its config fails to load at 45s; n2 stays fine.
cat >"$T/alerts.test.yml" <<EOF
rule_files: [ healthd-alerts.yml ]
evaluation_interval: 15s
tests:
  - interval: 15s
    input_series:
      - series: 'healthd_service_state{instance="n1:9187",job="healthd",service="dns",state="DOWN"}'
        values: '0 0 1 1 1 1 1 1 1 1 1'
      - series: 'healthd_service_state{instance="n1:9187",job="healthd",service="dns",state="UP"}'
        values: '1 1 0 0 0 0 0 0 0 0 0'
      - series: 'healthd_service_state{instance="n2:9187",job="healthd",service="dns",state="DOWN"}'
        values: '0 0 0 0 0 0 0 0 0 0 0'
      - series: 'healthd_service_state{instance="n2:9187",job="healthd",service="dns",state="UP"}'
        values: '1 1 1 1 1 1 1 1 1 1 1'
      - series: 'healthd_config_last_reload_success{instance="n1:9187",job="healthd"}'
        values: '1 1 1 0 0 0 0 0 0 0 0'
      - series: 'healthd_config_last_reload_success{instance="n2:9187",job="healthd"}'
        values: '1 1 1 1 1 1 1 1 1 1 1'
    alert_rule_test:
      - { eval_time: 1m, alertname: HealthdServiceDown, exp_alerts: [] }
      - eval_time: 2m
        alertname: HealthdServiceDown
        exp_alerts:
          - exp_labels: { severity: warning, instance: "n1:9187", job: healthd, service: dns, state: DOWN }
            exp_annotations:
              summary: "dns is down on n1:9187"
              description: "healthd on n1:9187 has seen service dns fail its checks for over a minute and no longer announces its prefixes from there. healthd's log on the node (journalctl -u healthd) says which check failed and why."
      - { eval_time: 30s, alertname: HealthdConfigReloadFailed, exp_alerts: [] }
      - eval_time: 45s
        alertname: HealthdConfigReloadFailed
        exp_alerts:
          - exp_labels: { severity: warning, instance: "n1:9187", job: healthd }
            exp_annotations:
              summary: "healthd on n1:9187 rejected its configuration"
              description: "The last load of the configuration on n1:9187 failed; healthd runs on the one before. \`healthd check -c /etc/healthd/healthd.json\` prints every error with its line and column."
EOF
if out=$(cd "$T" && promtool test rules alerts.test.yml 2>&1); then
	ok "(c) promtool test rules: HealthdServiceDown fires after 1m of down, HealthdConfigReloadFailed at once, only for n1"
else
	not_ok "(c) promtool test rules: the alerts fire as they should" "$(head -30 <<<"$out")"
fi

it_finish
