#!/usr/bin/python3
"""bench/failover_report.py: the samples and the Markdown report of bench/failover.sh.

Reads the work directory failover.sh leaves (trials.tsv, the peer and speaker BIRDs'
logs, healthd's strace files, versions.txt), writes OUT/failover.tsv and
OUT/failover.json (one row per trial and program), and prints the report on stdout.
Exit 1 when a trial lacks a sample.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import sys

PROGRAMS = ("hd-exabgp", "hd-bird", "py-exabgp")
# A FIFO reader's stamp this long after healthd's own (ms-truncated) stamp of the line is
# taken as late: the reader did not run at once (another task, the hypervisor).
LATE_MS = 1.2
FAULTS = ("kill", "hang", "dns")
SERVICE_OF = {"kill": "web", "hang": "web", "dns": "dns"}
FAULT_TEXT = {
    "kill": "service killed (nginx master and worker SIGKILLed)",
    "hang": "service hangs (nginx SIGSTOPped: connections accepted, no answer)",
    "dns": "DNS server stopped (knotd SIGTERMed)",
}
PROGRAM_TEXT = {
    "hd-exabgp": "healthd, ExaBGP speaker",
    "hd-bird": "healthd, BIRD static mode",
    "py-exabgp": "ExaBGP healthcheck (Python)",
}

# BIRD: "2026-12-06 14:20:00.123456 <TRACE> hd_exabgp > removed [sole] 198.51.100.1/32 ..."
BIRD_RE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) <TRACE> (\S+) [<>] removed .*?(\d+\.\d+\.\d+\.\d+/\d+)"
)
# strace -f -ttt: "PID 1733494000.123456 write(2, "...", N) = N" (or writev(1, [...]))
STRACE_RE = re.compile(r"^(\d+)\s+(\d+\.\d+)\s+(write|writev)\((\d+),\s*(.*)$")


def bird_removals(path):
    """[(epoch seconds, prefix)] of the "removed" route traces in a BIRD log."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = BIRD_RE.match(line)
                if m:
                    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
                    out.append((t, m.group(3)))
    except OSError:
        pass
    return out


def strace_writes(path):
    """[(epoch seconds, fd, text)] of the write/writev calls in an strace file."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = STRACE_RE.match(line)
                if m:
                    out.append((float(m.group(2)), int(m.group(4)), m.group(5)))
    except OSError:
        pass
    return out


def first_after(events, prefix, lo, hi):
    for t, p in events:
        if p == prefix and lo <= t <= hi:
            return t
    return None


def stamped_log(path):
    """[(arrival epoch seconds, exact, line)] of failover_stamp.py's file; exact: the line
    was the first of a read() that had waited for it, so its stamp is its arrival."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 3)
                if len(parts) != 4:
                    continue
                try:
                    exact = parts[2] == "1" and float(parts[1]) >= 0.0002
                    out.append((float(parts[0]), exact, parts[3]))
                except ValueError:
                    pass
    except OSError:
        pass
    return out


STAMP_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) healthd\[")


def own_stamp(text):
    """The time healthd read the clock for a log line (epoch seconds, truncated to ms)."""
    m = STAMP_RE.match(text)
    if not m:
        return None
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def decision_to_speaker(log, writes, service, prefix, lo, hi, mode):
    """(µs, ms) from the deciding failed result's debug line (the one just before
    "service SERVICE: FALLING -> DOWN") to healthd's command to the speaker.

    µs: from the line's arrival at the FIFO reader to healthd's writev (strace) of
    "withdraw route PREFIX" on fd 1 (mode "stdout") or of "configure" (mode "bird");
    None when the reader's stamp is not the line's arrival: the line was waiting in the
    FIFO, or the stamp is more than LATE_MS after healthd's own stamp of the line (the
    reader was late: a late stamp would shorten the figure).
    ms: healthd's own stamps (truncated to ms) of the deciding line and of its debug
    line for the command ("exabgp <- withdraw route PREFIX" / "bird <- configure")."""
    down = "service %s: FALLING -> DOWN" % service
    fail = ": %s: " % service
    want = ("exabgp <- withdraw route %s" % prefix) if mode == "stdout" else "bird <- configure"
    dec = None
    for i, (t, _, text) in enumerate(log):
        if lo <= t <= hi and down in text:
            for j in range(i - 1, -1, -1):
                if fail in log[j][2] and ": fail (" in log[j][2]:
                    dec = j
                    break
            break
    if dec is None:
        return None, None
    t_dec, exact, text_dec = log[dec]
    own_dec = own_stamp(text_dec)
    own_ms = None
    for t, _, text in log[dec:]:
        if t > hi:
            break
        if want in text:
            o = own_stamp(text)
            if o is not None and own_dec is not None:
                own_ms = round((o - own_dec) * 1000)
            break
    if own_dec is None or not exact or not 0 <= (t_dec - own_dec) * 1000 <= LATE_MS:
        return None, own_ms
    for t, fd, text in writes:
        if not lo <= t <= hi:
            continue
        if mode == "stdout" and fd == 1 and ("withdraw route %s" % prefix) in text:
            return (t - t_dec) * 1e6, own_ms
        if mode == "bird" and fd > 2 and "configure" in text:
            return (t - t_dec) * 1e6, own_ms
    return None, own_ms


def pct(values, q):
    """The q-th percentile (nearest rank) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


def fmt_ms(v):
    return "-" if v is None else "%.0f" % v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", required=True)
    ap.add_argument("--trials", type=int, required=True)
    for k in ("interval", "fast", "timeout"):
        ap.add_argument("--" + k, type=float, required=True)
    for k in ("rise", "fall"):
        ap.add_argument("--" + k, type=int, required=True)
    ap.add_argument("--load-start", required=True)
    ap.add_argument("--load-end", required=True)
    ap.add_argument("--rt", default="no")
    ap.add_argument("--web-check", required=True)
    ap.add_argument("--dns-check", required=True)
    ap.add_argument("--prefix", action="append", default=[], help="PROGRAM:SERVICE=PREFIX")
    a = ap.parse_args()

    prefixes = {}
    for spec in a.prefix:
        key, pfx = spec.split("=", 1)
        prog, svc = key.split(":", 1)
        prefixes[(prog, svc)] = pfx

    peer = bird_removals(os.path.join(a.work, "peer.log"))
    spk = bird_removals(os.path.join(a.work, "spk.log"))
    logs = {
        "hd-exabgp": stamped_log(os.path.join(a.work, "hd-exabgp.log")),
        "hd-bird": stamped_log(os.path.join(a.work, "hd-bird.log")),
    }
    writes = {
        "hd-exabgp": strace_writes(os.path.join(a.work, "strace-hd-exabgp.txt")),
        "hd-bird": strace_writes(os.path.join(a.work, "strace-hd-bird.txt")),
    }
    trials = []
    with open(os.path.join(a.work, "trials.tsv"), encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            trials.append(dict(zip(head, line.rstrip("\n").split("\t"))))

    rows = []
    missing = 0
    no_dec = 0
    for tr in trials:
        fault = tr["fault"]
        svc = SERVICE_OF[fault]
        lo, hi = float(tr["t_fault"]), float(tr["t_restore"])
        for prog in PROGRAMS:
            pfx = prefixes[(prog, svc)]
            gone = first_after(peer, pfx, lo, hi)
            at_spk = first_after(spk, pfx, lo, hi) if prog == "hd-bird" else None
            dec = own_ms = None
            if prog in writes:
                dec, own_ms = decision_to_speaker(
                    logs[prog], writes[prog], svc, pfx, lo, hi,
                    "stdout" if prog == "hd-exabgp" else "bird")
            row = {
                "program": prog,
                "fault": fault,
                "trial": int(tr["trial"]),
                "prefix": pfx,
                "delay_ms": int(tr["delay_ms"]),
                "t_fault": lo,
                "t_gone": gone,
                "failover_ms": None if gone is None else round((gone - lo) * 1000, 3),
                "at_speaker_bird_ms": None if at_spk is None else round((at_spk - lo) * 1000, 3),
                "decision_us": None if dec is None else round(dec, 1),
                "decision_own_ms": own_ms,
            }
            if gone is None:
                missing += 1
            if prog in writes and dec is None:
                no_dec += 1
            rows.append(row)

    os.makedirs(a.out, exist_ok=True)
    cols = [
        "program", "fault", "trial", "prefix", "delay_ms", "t_fault", "t_gone",
        "failover_ms", "at_speaker_bird_ms", "decision_us", "decision_own_ms",
    ]
    with open(os.path.join(a.out, "failover.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(cols) + "\n")
        for r in rows:
            f.write("\t".join("NA" if r[c] is None else str(r[c]) for c in cols) + "\n")
    bound_ms = (a.interval + (a.fall - 1) * a.fast + a.timeout) * 1000 + 50
    meta = {
        "mode": a.mode,
        "trials_per_fault": a.trials,
        "timing": {"interval_s": a.interval, "fast_interval_s": a.fast, "timeout_s": a.timeout,
                   "rise": a.rise, "fall": a.fall},
        "target_failover_p90_ms": bound_ms,
        "target_decision_us": 1000,
        "load_start": a.load_start,
        "load_end": a.load_end,
        "samples": rows,
    }
    with open(os.path.join(a.out, "failover.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)

    try:
        with open(os.path.join(a.work, "versions.txt"), encoding="utf-8") as f:
            versions = [l.strip() for l in f if l.strip()]
    except OSError:
        versions = []

    p = print
    p("Mode `%s`: %d trials per fault; interval %gs, fast interval %gs, rise %d, fall %d, "
      "timeout %gs, the same for every program. Load average (1, 5, 15 min) at start %s, "
      "at end %s. Raw samples: `%s/failover.tsv` and `failover.json`."
      % (a.mode, a.trials, a.interval, a.fast, a.rise, a.fall, a.timeout,
         a.load_start, a.load_end, a.out))
    p()
    p("Versions: " + "; ".join(versions) + ".")
    p()
    p("Checks:")
    p()
    p("- healthd (both modes): `http` GET of `/` from nginx (status 200-399), `dns` query "
      "`www.example.test A` to Knot (rcode NOERROR), timeout 500ms.")
    p("- ExaBGP healthcheck (`--withdraw-on-down --no-ip-setup --timeout 1`, one process "
      "per service; its `--timeout` takes whole seconds, so the 0.5 s limit is in the "
      "command): `%s` and `%s`." % (a.web_check, a.dns_check))
    p()
    p("Failover: from the fault (this script's clock just before the signal) to the "
      "\"removed\" trace of the prefix in the peer BIRD's log (`timeformat log "
      "\"%%F %%T.%%6f\"`, `debug { routes }` on its BGP protocols): the time BIRD's loop "
      "processed the withdraw, in µs, on the same clock. healthd in BIRD static mode "
      "reaches the peer through a speaker BIRD (healthd -> include file + `configure` -> "
      "speaker BIRD -> BGP -> peer); the column \"at speaker\" is when the speaker BIRD "
      "itself dropped the route. Target for healthd at p90: interval + (fall-1) x "
      "fast_interval + timeout + 50 ms = **%.0f ms**." % bound_ms)
    p()
    hang_p90 = (0.9 * a.interval + a.fall * a.timeout) * 1000
    p("For the hang fault every failed run lasts a whole timeout, and the check's next run "
      "starts only when the one in flight has ended (healthd never overlaps runs of one "
      "check): the %d-th failure comes at the earliest phase + %d x timeout after the "
      "fault, the phase being uniform over the interval. Its p90 is therefore at least "
      "0.9 x interval + fall x timeout = %.0f ms plus the way to BIRD, above the bound "
      "(which counts fast_interval, not timeout, between failed runs) whatever the "
      "implementation." % (a.fall, a.fall, hang_p90))
    p()
    p("| program | fault | n | median ms | p90 ms | max ms | min ms | at speaker median ms | target p90 <= %.0f ms |"
      % bound_ms)
    p("|---|---|---|---|---|---|---|---|---|")
    for fault in FAULTS:
        for prog in PROGRAMS:
            vals = [r["failover_ms"] for r in rows
                    if r["program"] == prog and r["fault"] == fault and r["failover_ms"] is not None]
            n_all = sum(1 for r in rows if r["program"] == prog and r["fault"] == fault)
            spkv = [r["at_speaker_bird_ms"] for r in rows
                    if r["program"] == prog and r["fault"] == fault and r["at_speaker_bird_ms"] is not None]
            if vals:
                med, p90, mx, mn = statistics.median(vals), pct(vals, 90), max(vals), min(vals)
            else:
                med = p90 = mx = mn = None
            if prog.startswith("hd-"):
                verdict = "-" if p90 is None or len(vals) < n_all else (
                    "met" if p90 <= bound_ms else "**not met**")
            else:
                verdict = "(no target)"
            n_txt = "%d" % len(vals) if len(vals) == n_all else "%d of %d" % (len(vals), n_all)
            p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                PROGRAM_TEXT[prog], FAULT_TEXT[fault], n_txt, fmt_ms(med), fmt_ms(p90),
                fmt_ms(mx), fmt_ms(mn), fmt_ms(statistics.median(spkv)) if spkv else "-", verdict))
    p()
    p("Decision to speaker (healthd): from the arrival of the debug line (`-d`) of the "
      "check result that decided (the `fall`-th failure) at a reader of healthd's stderr "
      "(a FIFO; `bench/failover_stamp.py` stamps each read that waited for data, then "
      "sleeps 5 ms so that healthd's next lines do not wake it; a deciding line that was "
      "already waiting in the FIFO gives no sample) to healthd's `writev` of the "
      "withdraw line on stdout (ExaBGP), or of `configure` on BIRD's control socket (BIRD "
      "static mode: a withdrawal waits for no `batch` window, but the include file is "
      "written, fsynced and renamed first), "
      "from `strace -ttt --seccomp-bpf -e trace=writev` (µs, at syscall entry; only "
      "`writev` stops healthd, so nothing stops it between the two points). Reader and "
      "strace SCHED_FIFO, healthd SCHED_OTHER: %s. Wall time: a preemption of healthd "
      "between the two points counts in it, and the reader's wake-up (µs) is taken off "
      "it. Target: stdout under 1 ms. The last column needs neither reader nor strace: "
      "healthd's own log stamps (ms, truncated) of the deciding line and of its debug "
      "line for the command (`exabgp <- withdraw route ...`, `bird <- configure`), "
      "written just before the `writev`; 2+ ms apart means at least 1 ms." % a.rt)
    p()
    p("| program | fault | n | median µs | p90 µs | max µs | min µs | target | healthd's own stamps ms apart: 0 / 1 / 2+ |")
    p("|---|---|---|---|---|---|---|---|---|")
    for fault in FAULTS:
        for prog in ("hd-exabgp", "hd-bird"):
            sel = [r for r in rows if r["program"] == prog and r["fault"] == fault]
            vals = [r["decision_us"] for r in sel if r["decision_us"] is not None]
            own = [r["decision_own_ms"] for r in sel if r["decision_own_ms"] is not None]
            own_txt = "%d / %d / %d" % (sum(1 for v in own if v <= 0), sum(1 for v in own if v == 1),
                                        sum(1 for v in own if v >= 2))
            if prog == "hd-exabgp":
                verdict = "-" if not vals else ("met" if max(vals) < 1000 else
                                                "p90 met" if pct(vals, 90) < 1000 else "**not met**")
                what = "to stdout"
            else:
                verdict = "(file write first)"
                what = "to `configure`"
            n_txt = "%d" % len(vals) if len(vals) == len(sel) else "%d of %d" % (len(vals), len(sel))
            if vals:
                p("| %s, %s | %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s |" % (
                    PROGRAM_TEXT[prog], what, fault, n_txt, statistics.median(vals),
                    pct(vals, 90), max(vals), min(vals), verdict, own_txt))
            else:
                p("| %s, %s | %s | 0 of %d | - | - | - | - | - | %s |" % (
                    PROGRAM_TEXT[prog], what, fault, len(sel), own_txt))
    if no_dec:
        p()
        p("%d decision sample(s) not taken: the deciding line was already waiting in the "
          "FIFO (another line just before it), or the reader stamped it more than %.1f ms "
          "after healthd's own stamp (the reader was late), so its stamp is not its "
          "arrival. The last column still counts them." % (no_dec, LATE_MS))
    if missing:
        p()
        p("%d failover sample(s) missing (a route not seen leaving the peer before the "
          "restore): see the NA entries in failover.tsv." % missing)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
