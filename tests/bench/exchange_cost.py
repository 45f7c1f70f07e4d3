#!/usr/bin/python3
"""What capture costs per HTTP exchange, kernel and user space, without a server's noise.

exchange_loop.c runs HTTP/1.1 exchanges (a 90-byte GET, a 700-byte 200 response) over one
keep-alive TCP connection on loopback, client and server in one thread: four followed syscalls
and four or more packets per exchange, nothing else. It runs pinned to CPU 1, alternately without
the collector and with it in each mode (`l7collect -i lo [mode args]`, pinned to CPU 0, events to
a file). Reported per exchange:
  in-context  the loop's extra time: the probes and the socket filter, run in the loop's own
              syscalls and softirqs (the cost the application pays on its own CPU)
  collector   the collector's CPU time (both threads, from /proc) while the loop ran and until
              it had caught up, divided by the exchanges
  total       both; and "beyond T0", the total minus T0's: what capture costs on top of the hooks
              being attached at all (issue #6's target: 5 us)
and completeness: events written against exchanges made (each exchange is two events, the
client's view and the server's, when syscalls are followed; one from the wire otherwise).

Usage: sudo /usr/bin/python3 tests/bench/exchange_cost.py [--rounds 5] [--exchanges 100000]"""

import argparse
import os

import benchlib as bl


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="runs per configuration [5]")
    p.add_argument("--exchanges", type=int, default=100_000, help="exchanges per run [100000]")
    bl.add_modes_arg(p, "T0,T1,T2,T3,S")
    bl.add_noise_args(p)
    return bl.parse_modes(p, p.parse_args())


def loop(binary, exchanges):
    """{'ns': ns per exchange, 'total': exchanges made, 'other': share others used}"""
    out, other = bl.run_helper([binary, str(exchanges)], 1)
    return {"ns": float(out["ns_per_exchange"]), "total": int(out["total"]), "other": other}


def run_once(binary, args, mode, workdir):
    """The loop alone (mode None), or with the collector: adds its CPU per exchange (us) and
    the events it wrote."""
    if mode is None:
        return loop(binary, args.exchanges)
    events = os.path.join(workdir, "events.ndjson")
    col = bl.Collector(["-i", "lo", *bl.MODES[mode]], events, workdir, cpu=0).start()
    try:
        col.wait_idle()
        cpu0 = col.cpu_seconds()
        r = loop(binary, args.exchanges)
        col.wait_idle()
        r["collector_us"] = (col.cpu_seconds() - cpu0) * 1e6 / r["total"]
    finally:
        col.stop()
    r["server"], r["client"] = bl.http_events(events)
    os.remove(events)
    return r


def completeness(mode, runs):
    """Events per exchange made, as a percentage of what the mode should report."""
    total = sum(r["total"] for r in runs)
    if bl.MODES[mode] and "--bench-mode" in bl.MODES[mode]:
        return "-"  # nothing is written in T0 and T1
    want = 2 if "socket" not in " ".join(bl.MODES[mode]) else 1
    got = sum(r["server"] + r["client"] for r in runs)
    return f"{100 * got / (want * total):.2f}"


def main():
    args = parse_args()
    bl.check_binary()
    bl.prepare_memory()
    workdir = bl.tmpdir()
    print(bl.describe_machine())
    binary = bl.compile_c("exchange_loop", workdir)
    configs = [None, *args.modes]
    results = bl.interleaved(configs, args, lambda c: run_once(binary, args, c, workdir))
    base = bl.median([r["ns"] for r in results[None]])
    totals = {}
    rows = [["baseline", " ".join(f"{r['ns']:.0f}" for r in results[None]), f"{base:.0f}",
             "", "", "", "", "", fmt_other(results[None])]]
    for c in args.modes:
        runs = results[c]
        ns = bl.median([r["ns"] for r in runs])
        user = bl.median([r["collector_us"] for r in runs])
        totals[c] = (ns - base) / 1000 + user
        beyond = totals[c] - totals["T0"] if "T0" in totals and c != "T0" else None
        rows.append([c, " ".join(f"{r['ns']:.0f}" for r in runs), f"{ns:.0f}",
                     f"{(ns - base) / 1000:.2f}", f"{user:.2f}", f"{totals[c]:.2f}",
                     bl.fmt(beyond), completeness(c, runs), fmt_other(runs)])
    bl.print_table(f"HTTP exchanges on one loopback connection ({args.exchanges} per run, "
                   f"pinned to CPU 1; collector pinned to CPU 0; medians of {args.rounds})",
                   ["config", "ns/exchange (each run)", "median", "in-context us",
                    "collector us", "total us", "beyond T0 us", "complete %", "other % (max)"],
                   rows)


def fmt_other(runs):
    return f"{100 * max((r['other'] or 0) for r in runs):.1f}"


if __name__ == "__main__":
    bl.main(main)
