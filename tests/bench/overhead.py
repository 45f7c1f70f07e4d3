#!/usr/bin/python3
"""What the collector costs a busy HTTP server on this machine, and whether it keeps up.

nginx (one worker, pinned to CPU 0) serves a small static file on loopback; a load generator
pinned to CPU 1 drives it; the collector (`l7collect -i lo -p PORT [mode args] > file`) floats.

Part 1, closed loop (wrk -t1 -cN): runs alternate baseline (no collector) and with-collector runs,
  B M1 B M2 B M1 B M2 ... B, so every with-run sits between two baselines; its ratio and extra CPU
  are taken against the mean of those two neighbours. Per run: requests/s, system CPU busy time
  per request (/proc/stat), the collector's own CPU (utime+stime) per request, and completeness:
  HTTP events written vs lines nginx appended to its access log, plus the collector's loss
  counters.
Part 2, fixed rate: our open-loop client (openloop.c) sends at 25% and 50% of the median baseline
  throughput over keep-alive connections; latency is measured from each request's scheduled send
  time. p50/p99 with and without the collector.
Part 3, write floor: runs alternating baseline and writer.c, which only appends the first mode's
  NDJSON to a file at the byte rate the collector wrote it, under the same closed loop. What that
  costs nginx any collector writing these events pays, however cheap its capture and encoding.

Usage: sudo /usr/bin/python3 tests/bench/overhead.py [--rounds 5] [--duration 5] [--modes T2,T0,T3]
See tests/bench/README.md for how to read the output."""

import argparse
import os
import re
import signal
import subprocess
import time

import benchlib as bl


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="with-collector runs per mode [5]")
    p.add_argument("--duration", type=int, default=5, help="seconds per run [5]")
    p.add_argument("--connections", type=int, default=50, help="wrk connections [50]")
    # T2 first: the write floor writes the first mode's events; T0 gives the floor's product.
    bl.add_modes_arg(p, "T2,T0,T3")
    p.add_argument("--fractions", default="0.25,0.5",
                   help="fixed-rate loads, as fractions of the baseline throughput [0.25,0.5]")
    p.add_argument("--fixed-rounds", type=int, default=3, help="fixed-rate runs per mode [3]")
    p.add_argument("--fixed-connections", type=int, default=50,
                   help="keep-alive connections of the fixed-rate client [50]")
    p.add_argument("--no-fixed", action="store_true", help="skip the fixed-rate part")
    p.add_argument("--no-write-floor", action="store_true",
                   help="skip the write floor (writing the first mode's events alone)")
    bl.add_noise_args(p)
    p.add_argument("--perf", action="store_true",
                   help="at the end, two profiled closed-loop runs of the first mode: perf "
                        "record -a -g (whole machine), then --call-graph dwarf on the collector")
    a = bl.parse_modes(p, p.parse_args())
    a.fractions = [float(f) for f in a.fractions.split(",") if f]
    return a


# ---- one run ---------------------------------------------------------------------------------

SAMPLE_BYTES = 8 << 20  # of the first events file, kept for the write floor


def collector_args(nginx, mode):
    return ["-i", "lo", "-p", str(nginx.port), *bl.MODES[mode]]


def measure(nginx, mode, load, workdir):
    """Runs load() (a dict with 'requests') with the collector in `mode` (None: without it) and
    adds what the run cost and, with the collector, what it reported."""
    out = os.path.join(workdir, "events.ndjson")
    col = None
    if mode:
        col = bl.Collector(collector_args(nginx, mode), out, workdir).start()
    logged0 = nginx.logged_requests()
    # The collector's backlog is part of the cost.
    res = costed(load, col.pid if col else None, col.wait_idle if col else None)
    res["mode"] = mode or "base"
    if col:
        col.stop()
        stats = bl.last_stats(out)
        events, client_events = bl.http_events(out)
        res.update(rc=col.rc, events=events, client_events=client_events,
                   logged=nginx.logged_requests() - logged0,
                   ring_full=bl.ring_losses(stats), drops=bl.sink_drops(stats),
                   parse_errors=bl.stat(stats, "http.parse_errors") +
                   bl.stat(stats, "http_syscall.parse_errors"), has_stats=stats is not None)
        res["complete"] = res["events"] / res["logged"] if res["logged"] else None
        res["out_bytes"] = os.path.getsize(out)
        # The plan runs the first mode first: its events are the write floor's.
        sample = os.path.join(workdir, "sample.ndjson")
        if not os.path.exists(sample):
            with open(out, "rb") as src, open(sample, "wb") as dst:
                dst.write(src.read(SAMPLE_BYTES))
        os.remove(out)
    return res


def measure_writer(writer, sample, rate, load, workdir):
    """Runs load() beside the write floor's writer appending `sample` at `rate` bytes/s."""
    out = os.path.join(workdir, "floor.ndjson")
    t0 = time.monotonic()
    proc = bl.spawn([writer, "-s", sample, "-o", out, "-r", f"{rate:.0f}"],
                    stdout=subprocess.PIPE, text=True)
    res = costed(load, proc.pid)
    bl.stop_process(proc, sig=signal.SIGINT)
    if proc.returncode != 0:
        raise RuntimeError(f"writer failed ({proc.returncode})")
    written = int(proc.stdout.read().split("=")[1])
    os.remove(out)
    res.update(mode="write", write_rate=written / (time.monotonic() - t0))
    return res


def costed(load, pid=None, settle=None):
    """load()'s result with what the run cost per request: the machine's CPU (sys_us), pid's
    own (coll_us, None without pid) and the share others used. settle() runs inside the
    window, after the load."""
    window = bl.CpuWindow(pid)
    res = load()
    if settle:
        settle()
    window.close()
    n = max(res["requests"], 1)
    res.update(sys_us=window.system / n * 1e6, other=window.other_share(),
               coll_us=window.process / n * 1e6 if pid else None)
    return res


def wrk_load(nginx, args):
    return lambda: bl.run_wrk(nginx.url(), args.duration, args.connections, cpu=1)


def openloop_load(nginx, client, rate, args):
    def load():
        cmd = [client, "-p", str(nginx.port), "-c", str(args.fixed_connections),
               "-r", str(rate), "-d", str(args.duration + 1), "-w", "1"]
        proc = bl.spawn(cmd, 1, stdout=subprocess.PIPE, text=True)
        out, _ = proc.communicate(timeout=args.duration + 60)
        if proc.returncode != 0:
            raise RuntimeError(f"openloop failed ({proc.returncode}): {out}")
        res = {k: float(v) for k, v in (kv.split("=") for kv in out.split())}
        res["requests"] = int(res["completed"])
        return res
    return load


def alternating(args, modes, rounds, run, what):
    """B M1 B M2 ... B, each run made by run(mode) (mode None: the baseline); returns the runs,
    each with-run linked to its two baseline neighbours."""
    plan = [None]
    for _ in range(rounds):
        for m in modes:
            plan += [m, None]
    runs = []
    for i, mode in enumerate(plan):
        bl.progress(f"{what}: run {i + 1}/{len(plan)} ({mode or 'baseline'})")
        runs.append(bl.retry_noisy(lambda: run(mode), args.max_other, args.tries))
    for i, r in enumerate(runs):
        if r["mode"] != "base":
            r["base"] = [runs[i - 1], runs[i + 1]]
    return [r for r in runs if r["mode"] != "base"], [r for r in runs if r["mode"] == "base"]


def base_mean(run, key):
    return sum(b[key] for b in run["base"]) / len(run["base"])


def noise(*runs):
    """The largest share of the machine (in %) other jobs used during with-runs or their
    baselines."""
    shares = [x["other"] for r in runs for x in [r, *r["base"]] if x["other"] is not None]
    return bl.fmt(100 * max(shares), ".1f") if shares else "-"


# ---- part 1: closed loop ---------------------------------------------------------------------

def closed_loop(nginx, args, workdir):
    load = wrk_load(nginx, args)
    with_runs, base_runs = alternating(args, args.modes, args.rounds,
                                       lambda m: measure(nginx, m, load, workdir), "closed loop")
    rows = []
    for i, r in enumerate(with_runs):
        r["ratio"] = bl.ratio(r["rps"], base_mean(r, "rps"))
        r["extra_sys_us"] = r["sys_us"] - base_mean(r, "sys_us")
        rows.append([i // len(args.modes) + 1, r["mode"], f"{base_mean(r, 'rps'):.0f}",
                     f"{r['rps']:.0f}", bl.fmt(r["ratio"], ".3f"),
                     bl.fmt(base_mean(r, "sys_us"), ".1f"), bl.fmt(r["sys_us"], ".1f"),
                     bl.fmt(r["extra_sys_us"], ".1f"), bl.fmt(r["coll_us"], ".1f"),
                     r["events"], r["client_events"], r["logged"],
                     bl.fmt(100 * (r["complete"] or 0), ".2f"),
                     r["ring_full"], r["drops"], r["parse_errors"],
                     r["rc"] if r["has_stats"] else f"{r['rc']}!", r["errors"], noise(r)])
    bl.print_table(
        f"Closed loop: wrk -t1 -c{args.connections} -d{args.duration}s, nginx on CPU 0, wrk on "
        "CPU 1, collector floating (base = mean of the two neighbouring baseline runs)",
        ["round", "mode", "base rps", "with rps", "ratio", "base sys us/req", "with sys us/req",
         "extra sys us/req", "collector us/req", "events", "client ev", "logged", "complete %",
         "ring_full",
         "sink drops", "parse err", "rc", "wrk errors", "other %"], rows)
    summary = []
    for m in args.modes:
        rs = [r for r in with_runs if r["mode"] == m]
        summary.append([m, bl.fmt_range([r["ratio"] for r in rs]),
                        bl.fmt(100 * bl.median([r["complete"] for r in rs]), ".2f"),
                        bl.fmt(bl.median([r["extra_sys_us"] for r in rs]), ".1f"),
                        bl.fmt(bl.median([r["coll_us"] for r in rs]), ".1f"),
                        sum(r["ring_full"] for r in rs), sum(r["drops"] for r in rs)])
    bl.print_table("Closed loop summary (median [min..max] over rounds)",
                   ["mode", "throughput ratio", "complete %", "extra sys us/req",
                    "collector us/req", "ring_full (sum)", "sink drops (sum)"], summary)
    base_rps = bl.median([r["rps"] for r in base_runs])
    print(f"baseline saturation: {base_rps:.0f} requests/s (median of {len(base_runs)} runs)")
    return base_rps, with_runs


# ---- part 2: fixed rate ----------------------------------------------------------------------

def fixed_row(frac, rate, mode, runs):
    """One table row: medians over a mode's fixed-rate runs, each against its two baselines."""
    med = lambda key: bl.median([r[key] for r in runs])
    base = lambda key: bl.median([base_mean(r, key) for r in runs])
    # With the range: a single run's p99 on this VM can be several times another's, the
    # baseline's included, and a median of three hides that.
    rel = lambda key: bl.fmt_range([bl.ratio(r[key], base_mean(r, key)) for r in runs], ".2f")
    extra_sys = bl.median([r["sys_us"] - base_mean(r, "sys_us") for r in runs])
    involved = {id(x): x for r in runs for x in [r, *r["base"]]}.values()
    return [f"{frac:.0%}", rate, mode, bl.fmt(base("achieved_rps"), ".0f"),
            bl.fmt(base("p50_us"), ".0f"), bl.fmt(med("p50_us"), ".0f"), rel("p50_us"),
            bl.fmt(base("p99_us"), ".0f"), bl.fmt(med("p99_us"), ".0f"), rel("p99_us"),
            bl.fmt(extra_sys, ".1f"), bl.fmt(med("coll_us"), ".1f"),
            bl.fmt(100 * med("complete"), ".2f"), int(sum(x["errors"] for x in involved)),
            noise(*runs)]


def fixed_rate(nginx, args, workdir, base_rps):
    client = bl.compile_c("openloop", workdir)
    rows = []
    for frac in args.fractions:
        rate = round(base_rps * frac)
        load = openloop_load(nginx, client, rate, args)
        with_runs, _ = alternating(args, args.modes, args.fixed_rounds,
                                   lambda m: measure(nginx, m, load, workdir),
                                   f"fixed rate {rate}/s")
        for m in args.modes:
            rows.append(fixed_row(frac, rate, m, [r for r in with_runs if r["mode"] == m]))
    bl.print_table(
        f"Fixed rate: openloop over {args.fixed_connections} keep-alive connections, "
        f"{args.duration}s measured after 1s warm-up, latency from the scheduled send time "
        f"(medians of {args.fixed_rounds} runs per mode; ratios as median [min..max])",
        ["load", "rate/s", "mode", "base achieved/s", "base p50 us", "with p50 us", "p50 ratio",
         "base p99 us", "with p99 us", "p99 ratio", "extra sys us/req", "collector us/req",
         "complete %", "client errors", "other %"], rows)


# ---- part 3: the write floor ------------------------------------------------------------------

def write_floor(nginx, args, workdir, with_runs):
    mode = args.modes[0]
    source = [r for r in with_runs if r["mode"] == mode]
    rate = bl.median([r["out_bytes"] / args.duration for r in source])
    sample = os.path.join(workdir, "sample.ndjson")
    if rate <= 0 or not os.path.exists(sample):
        print(f"\nWrite floor: skipped, mode {mode} wrote no events")
        return
    writer = bl.compile_c("writer", workdir)
    load = wrk_load(nginx, args)
    runs, _ = alternating(
        args, ["write"], args.rounds,
        lambda m: measure_writer(writer, sample, rate, load, workdir) if m
        else measure(nginx, None, load, workdir), "write floor")
    rows = []
    for i, r in enumerate(runs):
        r["ratio"] = bl.ratio(r["rps"], base_mean(r, "rps"))
        rows.append([i + 1, f"{base_mean(r, 'rps'):.0f}", f"{r['rps']:.0f}",
                     bl.fmt(r["ratio"], ".3f"), bl.fmt(r["write_rate"] / 1e6, ".0f"),
                     bl.fmt(r["sys_us"] - base_mean(r, "sys_us"), ".1f"),
                     bl.fmt(r["coll_us"], ".2f"), noise(r)])
    bl.print_table(
        f"Write floor: {mode}'s events ({rate / 1e6:.0f} MB/s, the median of its runs) appended "
        "to a file by writer.c alone, no collector; same closed loop",
        ["round", "base rps", "with rps", "ratio", "written MB/s", "extra sys us/req",
         "writer us/req", "other %"], rows)
    ratios = lambda rs: [r["ratio"] for r in rs]
    print(f"write floor ratio {bl.fmt_range(ratios(runs))}, {mode} {bl.fmt_range(ratios(source))}")
    t0 = [r for r in with_runs if r["mode"] == "T0"]
    if t0:
        # The hooks' cost and the writing's add up in any collector that hooks these syscalls
        # and writes these events.
        print(f"T0 x write floor = {bl.median(ratios(t0)) * bl.median(ratios(runs)):.3f}: the "
              f"most a collector writing {mode}'s events on T0's hooks could keep here")


# ---- optional: where the collector's time goes -----------------------------------------------

def perf_report(data, *opts, limit=1.0, lines=25):
    cmd = ["perf", "report", "-i", data, "--stdio", "-g", "none", "--percent-limit", str(limit),
           *opts]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return "\n".join([l.rstrip() for l in out.splitlines()
                      if l.strip() and not l.startswith("#")][:lines])


def profiled_run(nginx, args, workdir, perf_args):
    """One closed-loop run of the first mode under `perf record perf_args`; returns the data."""
    data = os.path.join(workdir, "perf.data")
    col = bl.Collector(collector_args(nginx, args.modes[0]),
                       os.path.join(workdir, "events.ndjson"), workdir).start()
    perf = bl.spawn(["perf", "record", "-e", "cpu-clock", "-o", data,
                     *[str(col.pid) if a == "{pid}" else a for a in perf_args]],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bl.run_wrk(nginx.url(), args.duration, args.connections, cpu=1)
    bl.stop_process(perf, sig=2, timeout=60)
    col.stop()
    os.remove(os.path.join(workdir, "events.ndjson"))
    return data


def profile(nginx, args, workdir):
    """Two profiled runs: the whole machine (kernel call chains: what capture costs the
    server's CPUs), then the collector alone with DWARF call chains (the binary has no frame
    pointers), inclusive of callees."""
    data = profiled_run(nginx, args, workdir, ["-a", "-g"])
    print(f"\nperf record -a -g during a closed-loop run ({args.modes[0]}): CPU by command")
    print(perf_report(data, "--no-children", "-s", "comm", lines=5))
    print("...kernel functions of the capture path (inclusive):")
    print("\n".join(l for l in perf_report(data, "--children", "-s", "sym", limit=0.3,
                                           lines=400).splitlines()
                    if re.search(r"packet_rcv|bpf_prog_|ringbuf|irq_work", l)))
    data = profiled_run(nginx, args, workdir,
                        ["--call-graph", "dwarf,16384", "-F", "999", "-p", "{pid}"])
    print("\nperf record --call-graph dwarf -p COLLECTOR: by thread")
    print(perf_report(data, "--no-children", "-s", "pid", lines=5))
    print("...functions, inclusive of what they call (children, self):")
    print(perf_report(data, "--children", "-s", "sym", limit=2.0, lines=60))


def main():
    args = parse_args()
    bl.check_binary()
    bl.prepare_memory()
    workdir = bl.tmpdir()
    print(bl.describe_machine())
    nginx = bl.Nginx(cpu=0).start()
    bl.progress("warm-up")
    bl.run_wrk(nginx.url(), 2, args.connections, cpu=1)
    base_rps, with_runs = closed_loop(nginx, args, workdir)
    if not args.no_fixed:
        fixed_rate(nginx, args, workdir, base_rps)
    if not args.no_write_floor:
        write_floor(nginx, args, workdir, with_runs)
    if args.perf:
        profile(nginx, args, workdir)


if __name__ == "__main__":
    bl.main(main)
