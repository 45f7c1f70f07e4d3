#!/usr/bin/python3
"""What the collector adds to syscalls of processes it has no interest in.

pipe_syscall.c times write(1 byte) + read(1 byte) pairs on a pipe (2M by default) with
clock_gettime. This runs it pinned to CPU 0, alternately without the collector and with it in
each mode (`l7collect -i lo [mode args] > /dev/null`, floating), and reports ns per pair
(median and min over the runs).

With the default sock hooks no program of ours runs on a pipe: what remains is the kernel's
syscall slow path, which any classic syscall tracepoint turns on for every process. With the
sys_exit hook (modes T0x, Sx) every syscall runs the program, which must leave early on
processes and file descriptors it does not follow.

Usage: sudo /usr/bin/python3 tests/bench/early_exit.py [--rounds 7] [--iterations 2000000]"""

import argparse
import subprocess

import benchlib as bl


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=7, help="runs per configuration [7]")
    p.add_argument("--iterations", type=int, default=2_000_000,
                   help="write+read pairs per run [2000000]")
    bl.add_modes_arg(p)
    bl.add_noise_args(p)
    return bl.parse_modes(p, p.parse_args())


def pairs_ns(binary, iterations):
    """{'ns': ns per pair, 'other': share of the machine other jobs used meanwhile}"""
    out, other = bl.run_helper([binary, str(iterations)], 0)
    return {"ns": float(out["ns_per_pair"]), "other": other}


def run_once(binary, args, mode, workdir):
    """ns per pair with the collector in `mode` (None: without it)."""
    if mode is None:
        return pairs_ns(binary, args.iterations)
    col = bl.Collector(["-i", "lo", *bl.MODES[mode]], subprocess.DEVNULL, workdir).start()
    try:
        return pairs_ns(binary, args.iterations)
    finally:
        col.stop()


def main():
    args = parse_args()
    bl.check_binary()
    bl.prepare_memory()
    workdir = bl.tmpdir()
    print(bl.describe_machine())
    binary = bl.compile_c("pipe_syscall", workdir)
    configs = [None, *args.modes]
    results = bl.interleaved(configs, args, lambda c: run_once(binary, args, c, workdir))
    base = [r["ns"] for r in results[None]]
    rows = []
    for c in configs:
        ns = [r["ns"] for r in results[c]]
        other = max((r["other"] or 0) for r in results[c])
        rows.append([c or "baseline", " ".join(f"{x:.0f}" for x in ns),
                     f"{bl.median(ns):.1f}", f"{bl.median(ns) - bl.median(base):+.1f}",
                     f"{(bl.median(ns) / bl.median(base) - 1) * 100:+.1f}%",
                     f"{min(ns):.1f}", f"{min(ns) - min(base):+.1f}", f"{100 * other:.1f}"])
    bl.print_table(f"pipe write+read pairs ({args.iterations} per run, pinned to CPU 0; "
                   f"collector -i lo floating)",
                   ["config", "ns/pair (each run)", "median", "diff", "diff %", "min",
                    "diff (min)", "other % (max)"], rows)
    print("min: the least disturbed run; on a VM the spread between runs (vCPU placement, "
          "frequency) is often larger than what is measured")


if __name__ == "__main__":
    bl.main(main)
