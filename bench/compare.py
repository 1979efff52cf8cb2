#!/usr/bin/env python3
"""bench/compare.py: ratios healthd / peer from one run of `make bench`.

    python3 bench/compare.py build/bench/results.tsv [more.tsv ...]

Reads rows "scenario<TAB>role<TAB>who<TAB>metric<TAB>value" (role: healthd or peer), as
written by bench/run.sh and bench/mix.sh (TSV=FILE); and bench/failover.sh's raw samples
(its OUT_DIR/failover.tsv, known by its header "program<TAB>fault<TAB>trial..."), of
which it takes each program's median, p90 and max failover time per fault (programs
hd-*: healthd; py-*: the peer).
For every scenario that has both roles, prints one Markdown row per healthd program,
peer program and metric the two share: both values and healthd / peer. A ratio under 1
means healthd needs less (CPU, memory, time) or, for rates (*_per_s), runs fewer.
Values that are not numbers (e.g. "<= 2.5") are shown, without a ratio.
Python 3 standard library only.
"""
import sys

# The order metrics are shown in; others follow, sorted.
ORDER = [
    "services", "processes", "checks_per_s", "probes_per_s",
    "cpu_us_per_check", "cpu_us_per_probe", "cpu_us_per_probe_with_commands",
    "instructions_per_check", "cpu_pct", "cpu_pct_per_service",
    "peak_rss_mib", "rss_mib", "rss_mib_per_service", "pss_mib", "pss_mib_per_service",
    "private_dirty_mib", "private_dirty_mib_per_service",
    "withdraw_median_ms", "announce_median_ms", "decision_to_withdraw_median_ms",
    "failover_median_ms", "failover_p90_ms", "failover_max_ms",
]
# Counts that say what was compared rather than a cost: no ratio.
NO_RATIO = {"services", "processes"}


def number(v):
    try:
        return float(v)
    except ValueError:
        return None


def quantile(xs, q):
    """The nearest-rank quantile of a sorted list."""
    return xs[min(len(xs) - 1, max(0, int(-(-q * len(xs) // 1)) - 1))]


def read_failover(path, f, data):
    """bench/failover.sh's samples: one row per trial, program and prefix."""
    cols = f.readline().rstrip("\n").split("\t")
    samples = {}
    for line in f:
        row = dict(zip(cols, line.rstrip("\n").split("\t")))
        v = number(row.get("failover_ms", "NA"))
        prog = row.get("program", "")
        if v is None or not (prog.startswith("hd-") or prog.startswith("py-")):
            continue
        samples.setdefault((row.get("fault", "?"), prog), []).append(v)
    for (fault, prog), xs in samples.items():
        xs.sort()
        role = "healthd" if prog.startswith("hd-") else "peer"
        who = f"{prog} ({len(xs)} samples)"
        m = data.setdefault(f"failover at BIRD: {fault}", {}).setdefault((role, who), {})
        m["failover_median_ms"] = str(quantile(xs, 0.5))
        m["failover_p90_ms"] = str(quantile(xs, 0.9))
        m["failover_max_ms"] = str(xs[-1])


def read(paths):
    """{scenario: {(role, who): {metric: value}}}, scenarios in the order first seen."""
    data = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            if f.readline().startswith("program\tfault\t"):
                f.seek(0)
                read_failover(path, f, data)
                continue
            f.seek(0)
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                parts = line.split("\t")
                if len(parts) != 5 or parts[1] not in ("healthd", "peer"):
                    print(f"{path}:{lineno}: not scenario<TAB>role<TAB>who<TAB>metric<TAB>value "
                          f"(role healthd or peer): skipped", file=sys.stderr)
                    continue
                scenario, role, who, metric, value = parts
                data.setdefault(scenario, {}).setdefault((role, who), {})[metric] = value
    return data


def fmt(x):
    if x is None:
        return "-"
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def rank(metric):
    return (ORDER.index(metric), "") if metric in ORDER else (len(ORDER), metric)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        data = read(argv[1:])
    except OSError as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    rows = 0
    print("| scenario | healthd | peer | metric | healthd | peer | healthd / peer |")
    print("|---|---|---|---|---|---|---|")
    for scenario, progs in data.items():
        ours = [(w, m) for (r, w), m in progs.items() if r == "healthd"]
        peers = [(w, m) for (r, w), m in progs.items() if r == "peer"]
        for pw, pm in peers:
            for hw, hm in ours:
                for metric in sorted(set(hm) & set(pm), key=rank):
                    a, b = number(hm[metric]), number(pm[metric])
                    ratio = "" if metric in NO_RATIO or a is None or not b else fmt(a / b)
                    print(f"| {scenario} | {hw} | {pw} | {metric} | "
                          f"{fmt(a) if a is not None else hm[metric]} | "
                          f"{fmt(b) if b is not None else pm[metric]} | {ratio} |")
                    rows += 1
    if rows == 0:
        print("compare.py: no scenario has both a healthd and a peer row", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
