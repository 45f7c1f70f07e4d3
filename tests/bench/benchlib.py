"""Shared pieces of the benchmarks: cleanup on any exit, pinning, /proc readers, nginx, wrk, the
collector under test (started, waited for, stopped, its stats event parsed), small statistics and
table printing. Standard library only; run the scripts with /usr/bin/python3 as root.

Everything started here is registered with `cleanup` and torn down at exit, normal or not
(exception, Ctrl-C, SIGTERM). Child processes get their own session, so a Ctrl-C in the terminal
reaches only the benchmark script, which then stops them in order (the collector gets SIGINT)."""

import atexit
import json
import mmap
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "pylib"))
from l7common import cleanup, free_port, wait_for, wait_listening  # noqa: E402
from l7common import tmpdir as _tmpdir  # noqa: E402
BINARY = os.environ.get("L7COLLECT", os.path.join(ROOT, "build", "l7collect"))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The collector configurations compared with "no collector". Each maps to the arguments added to
# the benchmark's own (`-i lo -p PORT` for the HTTP benchmarks). Add a mode here and every
# benchmark that takes --modes runs it.
#   T2: everything the collector does by default: socket filter and syscall probes, full
#       pipeline, NDJSON written out
#   T3: the socket-filter capture only (the syscall probes attach only the five connection
#       programs that attribute wire traffic to processes)
#   S:  the syscall probes only (the hooks --syscall-hooks auto picks without the wire view:
#       sys_exit where it loads)
#   St: the syscall probes only, on the tracepoint pairs older kernels use
#   T0: every program attached as by default, each returning at once (--bench-mode
#       attach-only): what the hooks alone cost
#   T0x, T2x: T0 and T2 on the sys_exit hook (the default picks the sock hooks where they load,
#       Linux 6.3+)
#   T1: the kernel side in full, user space dropping each record unread (--bench-mode discard)
MODES = {
    "T0": ["--bench-mode", "attach-only"],
    "T1": ["--bench-mode", "discard"],
    "T2": [],
    "T3": ["--capture", "socket"],
    "S": ["--capture", "syscall"],
    "St": ["--capture", "syscall", "--syscall-hooks", "tracepoints"],
    "T0x": ["--bench-mode", "attach-only", "--syscall-hooks", "sys_exit"],
    "T2x": ["--syscall-hooks", "sys_exit"],
}


# ---- cleanup ---------------------------------------------------------------------------------

def _interrupted(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(fn):
    """Runs a benchmark's main(): root check, signal handling, cleanup, exit status."""
    if os.geteuid() != 0:
        sys.exit(f"{sys.argv[0]}: run as root (the collector loads BPF programs)")
    global ACCOUNT
    atexit.register(cleanup.run)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupted)
    rc = 0
    try:
        try:
            ACCOUNT = CpuAccount()
        except OSError as e:
            print(f"note: no cpuacct cgroup ({e}): CPU used by other jobs is not reported",
                  file=sys.stderr)
        fn()
    except KeyboardInterrupt as e:
        print(f"\ninterrupted ({e}): cleaning up", file=sys.stderr)
        rc = 130
    finally:
        cleanup.run()
    sys.exit(rc)


WARM_SPARE_MIB = 1024
WARM_MAX_MIB = 32 << 10
PAGE_REPORTING_ORDER = "/sys/module/page_reporting/parameters/page_reporting_order"


def prepare_memory():
    """Before anything is measured (after the arguments are parsed, so --help and mistakes
    return at once): the guest keeps the memory it frees, and has written all of it once."""
    hold_freed_memory()
    warm_memory()


def hold_freed_memory():
    """Stops a VM's free page reporting until the benchmark exits. A guest whose virtio balloon
    reports free pages hands every freed 2 MiB block back to its host within seconds, and the
    host backs it again at the next first write, which exits to the hypervisor: so each run's
    events file, deleted after it, was paid for at first-write prices again. On this project's
    VMs `dd` wrote a 2 GiB file at 0.46 to 0.74 GB/s into memory the host had taken back, at
    5.5 GB/s with reporting off once the memory was backed, and writing T2's events alone kept
    0.74 of nginx's throughput against 0.95. That is the VM's cost, not the collector's.
    Reporting only runs for orders from page_reporting_order up to the largest, so one past the
    largest stops it; the value is put back at exit. A kernel that refuses that value (mainline
    caps it at the largest order) keeps reporting, and the scripts say so."""
    try:
        with open(PAGE_REPORTING_ORDER) as f:
            order = int(f.read())
        with open("/proc/buddyinfo") as f:
            orders = len(f.readline().split()) - 4  # "Node 0, zone DMA" then one count per order
    except (OSError, ValueError):
        return
    balloon = "/sys/bus/virtio/drivers/virtio_balloon"
    bound = os.path.isdir(balloon) and any(d.startswith("virtio") for d in os.listdir(balloon))
    if order >= orders or not bound:
        return
    try:
        with open(PAGE_REPORTING_ORDER, "w") as f:
            f.write(str(orders))
    except OSError as e:
        print(f"WARNING: this VM reports freed memory to its host and it could not be stopped "
              f"({e}): page cache the events files take is backed again at each first write, "
              "which makes the collector look dearer and the runs noisier", file=sys.stderr)
        return
    cleanup.add(_write_file, PAGE_REPORTING_ORDER, str(order))
    print(f"note: free page reporting to the VM's host stopped for this run "
          f"(page_reporting_order {order} -> {orders}, restored at exit)", file=sys.stderr)


def _write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def warm_memory():
    """Writes all free memory but WARM_SPARE_MIB (at most WARM_MAX_MIB) once, holding it all at
    once, and gives it back, before anything is measured. In a VM, the guest's first write to a
    page it has never used exits to the hypervisor, which backs it then: on a freshly booted
    guest, every page the page cache took for the events file cost that, and the first runs
    measured the collector a fifth dearer than later ones (writing a new file ran at 360 MB/s,
    against 4 GB/s once the guest had used the memory; `dd` shows it). Freed pages are not
    reliably handed out again first: over a benchmark's runs the events files' page cache walks
    through the free memory, and with only 2 GiB written beforehand, writing T2's events alone
    still cost 0.9 to 2.0 us a request against 0.46 with all free memory written. A few seconds
    on a host; about 35 s where the VM backs 18 GiB afresh."""
    with open("/proc/meminfo") as f:
        free_kib = next(int(line.split()[1]) for line in f if line.startswith("MemFree:"))
    mib = min(free_kib // 1024 - WARM_SPARE_MIB, WARM_MAX_MIB)
    if mib <= 0:
        return
    progress(f"writing {mib} MiB of free memory once")
    chunk = b"\1" * (1 << 20)
    with mmap.mmap(-1, mib << 20) as m:
        for off in range(0, mib << 20, len(chunk)):
            m[off:off + len(chunk)] = chunk


def tmpdir(prefix="l7bench-"):
    return _tmpdir(prefix)


# ---- processes and pinning -------------------------------------------------------------------

def pinned(cmd, cpu):
    """cmd run on one CPU (taskset), or as it is when cpu is None or the machine lacks that CPU."""
    if cpu is None or cpu >= os.cpu_count():
        return list(cmd)
    return ["taskset", "-c", str(cpu), *cmd]


def stop_process(proc, sig=signal.SIGTERM, timeout=10):
    """Signals a child and reaps it, killing it if it does not go within timeout."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def spawn(cmd, cpu=None, **kw):
    """Starts a child in its own session, registered for cleanup."""
    proc = subprocess.Popen(pinned(cmd, cpu), start_new_session=True, **kw)
    cleanup.add(stop_process, proc)
    return proc


def compile_c(name, workdir):
    """Builds tests/bench/NAME.c into workdir with cc -O2; returns the binary's path."""
    out = os.path.join(workdir, name)
    subprocess.run(["cc", "-O2", "-Wall", "-o", out, os.path.join(HERE, name + ".c")],
                   check=True)
    return out


def raise_nofile(n):
    """Raises this process's open-file limit (inherited by children) to at least n."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (n, max(hard, n)))


# ---- /proc -----------------------------------------------------------------------------------

def system_idle():
    """(idle + iowait seconds summed over CPUs, number of CPUs) from /proc/stat.

    Busy time is derived from idle time: with a tickless kernel, /proc/stat's user/system
    columns are sampled at timer ticks that do not fire while a CPU idles, so short bursts of
    work (a request takes tens of microseconds) are mostly missed; idle time is measured
    exactly."""
    with open("/proc/stat") as f:
        lines = f.read().splitlines()
    fields = [int(x) for x in lines[0].split()[1:]]
    ncpu = sum(1 for l in lines if re.match(r"cpu\d+ ", l))
    return (fields[3] + fields[4]) / CLK_TCK, ncpu


class CpuAccount:
    """This script and everything it starts (nginx included: daemons keep their cgroup) in a
    cpuacct cgroup of their own, so CPU used by anything else on the machine during a run can be
    told apart: other = all tasks' CPU time - ours."""
    ROOT = "/sys/fs/cgroup/cpuacct"

    def __init__(self):
        self.path = os.path.join(self.ROOT, f"l7bench-{os.getpid()}")
        os.mkdir(self.path)
        cleanup.add(self.remove)
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    @staticmethod
    def _usage(d):
        with open(os.path.join(d, "cpuacct.usage")) as f:
            return int(f.read()) / 1e9

    def sample(self):
        """(CPU seconds of every task on the machine, of ours)."""
        return self._usage(self.ROOT), self._usage(self.path)

    def remove(self):
        with open(os.path.join(self.ROOT, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        wait_for(lambda: _try_rmdir(self.path), 10, "the benchmark's cgroup to empty")


def _try_rmdir(path):
    try:
        os.rmdir(path)
        return True
    except OSError:
        return False


ACCOUNT = None  # a CpuAccount once main() has made one


def process_cpu(pid):
    """utime + stime of a process (all its threads) in seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def process_memory(pid):
    """{'VmRSS': kB, 'VmHWM': kB, ...} from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.startswith("Vm") or key.startswith("Rss"):
                out[key] = int(value.split()[0])
    return out


class CpuWindow:
    """CPU time over a stretch of wall time: the machine's busy time (`system`), one process's
    (`process`, optional) and, when the cgroup could be made, what tasks that are not ours used
    (`other`: another job on the machine, which makes the run noisy)."""

    def __init__(self, pid=None):
        self.pid = pid
        self.t0 = time.monotonic()
        self.idle0, self.ncpu = system_idle()
        self.proc0 = process_cpu(pid) if pid else 0.0
        self.acct0 = ACCOUNT.sample() if ACCOUNT else None

    def close(self):
        self.wall = time.monotonic() - self.t0
        self.system = max(self.ncpu * self.wall - (system_idle()[0] - self.idle0), 0.0)
        self.process = process_cpu(self.pid) - self.proc0 if self.pid else 0.0
        self.other = None
        if self.acct0:
            (all1, ours1), (all0, ours0) = ACCOUNT.sample(), self.acct0
            self.other = max((all1 - all0) - (ours1 - ours0), 0.0)
        return self

    def other_share(self):
        """What others used, as a share of the machine over the window (None: unknown)."""
        return self.other / (self.ncpu * self.wall) if self.other is not None else None


def retry_noisy(fn, max_other, tries):
    """Runs fn() -- a measurement returning a dict whose 'other' is the share of the machine
    other jobs used meanwhile (None: unknown) -- again while that share was above max_other, at
    most `tries` times in all; keeps the quietest run and notes how many it took."""
    best = None
    for i in range(tries):
        res = fn()
        res["tries"] = i + 1
        if best is None or (res["other"] or 0) < (best["other"] or 0):
            best = res
        if res["other"] is None or res["other"] <= max_other:
            break
        if i + 1 < tries:
            progress(f"others used {res['other']:.0%} of the machine: measuring again")
    best["tries"] = res["tries"]
    return best


def add_modes_arg(parser, default=None):
    parser.add_argument("--modes", default=default or ",".join(MODES),
                        help=f"collector modes, from {', '.join(MODES)} [{default or 'all'}]")


def parse_modes(parser, args):
    """args.modes split into a list; an unknown name is a usage error."""
    args.modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in args.modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s) {unknown}: known are {list(MODES)}")
    return args


def run_helper(cmd, cpu):
    """Runs one of the benchmark's C helpers pinned to cpu. Returns the key=value pairs of its
    output line as a dict, and the share of the machine other jobs used meanwhile."""
    window = CpuWindow()
    out = subprocess.run(pinned(cmd, cpu), check=True, capture_output=True, text=True).stdout
    window.close()
    return dict(kv.split("=") for kv in out.split()), window.other_share()


def interleaved(configs, args, run):
    """run(config) for each config in turn, args.rounds times: interleaved, so that drift hits
    every configuration alike; each run redone while the machine is busy (add_noise_args).
    Returns {config: [results]}; None as a config means no collector."""
    results = {c: [] for c in configs}
    for r in range(args.rounds):
        for c in configs:
            progress(f"round {r + 1}/{args.rounds}: {c or 'baseline'}")
            results[c].append(retry_noisy(lambda: run(c), args.max_other, args.tries))
    return results


def add_noise_args(parser, tries=3):
    parser.add_argument("--max-other", type=float, default=0.05,
                        help="redo a run when other jobs used more than this share of the "
                             "machine during it [0.05]")
    parser.add_argument("--tries", type=int, default=tries,
                        help=f"runs at most per measurement when the machine is busy [{tries}]")


# ---- servers and clients ---------------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
worker_rlimit_nofile {nofile};
daemon on;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections {worker_connections}; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout {keepalive_timeout}s;
    default_type text/html;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {dir}/html;
    }}
}}
"""

INDEX_HTML = b"<html><body><h1>l7collect benchmark</h1><p>" + b"x" * 512 + b"</p></body></html>\n"


class Nginx:
    """One nginx worker with its own prefix (config, logs, html) in a temp dir, pinned to `cpu`,
    serving /index.html (a small static file) with the access log on, so requests can be
    counted."""

    def __init__(self, cpu=0, worker_connections=4096, keepalive_timeout=600):
        self.dir = tmpdir("l7bench-nginx-")
        self.port = free_port()
        self.cpu = cpu
        os.chmod(self.dir, 0o755)  # the worker runs as nobody and must read html/
        os.makedirs(os.path.join(self.dir, "html"))
        with open(os.path.join(self.dir, "html", "index.html"), "wb") as f:
            f.write(INDEX_HTML)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, port=self.port,
                                      worker_connections=worker_connections,
                                      nofile=worker_connections * 2 + 64,
                                      keepalive_timeout=keepalive_timeout))
        self.access_log = os.path.join(self.dir, "access.log")

    def url(self, path="/index.html"):
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self):
        cmd = ["nginx", "-q", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir]
        subprocess.run(pinned(cmd, self.cpu), check=True, start_new_session=True)
        cleanup.add(self.stop)
        wait_listening("127.0.0.1", self.port)
        self.check_serving()
        return self

    def check_serving(self):
        """One request must get the file back, or every number after it is about error pages."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := s.recv(65536):
                reply += chunk
        if not reply.startswith(b"HTTP/1.1 200") or not reply.endswith(INDEX_HTML):
            raise RuntimeError(f"nginx in {self.dir} does not serve /index.html: "
                               f"{reply[:200]!r}")

    def pid(self):
        with open(os.path.join(self.dir, "nginx.pid")) as f:
            return int(f.read())

    def stop(self):
        try:
            pid = self.pid()
        except FileNotFoundError:
            return
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10, "nginx to stop")

    def logged_requests(self):
        """Lines in the access log so far (one per request served)."""
        return count_bytes(self.access_log, b"\n")


def count_bytes(path, needle):
    """Occurrences of needle in a file, without reading it into a Python string."""
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        n, pos = 0, m.find(needle)
        while pos >= 0:
            n += 1
            pos = m.find(needle, pos + 1)
        return n


def run_wrk(url, duration, connections=50, threads=1, cpu=1):
    """wrk's closed-loop throughput: {'rps', 'requests', 'errors'}."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", url]
    proc = spawn(cmd, cpu, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate(timeout=duration + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{out}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    reqs = re.search(r"(\d+) requests in", out)
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(rps.group(1)), "requests": int(reqs.group(1)),
            "errors": errors + (int(non2xx.group(1)) if non2xx else 0), "output": out}


# ---- the collector ---------------------------------------------------------------------------

def check_binary():
    """Snapshots the collector binary into a temp dir and uses the copy, so a rebuild during a
    long benchmark neither breaks it nor changes what is measured half-way."""
    global BINARY
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"no collector at {BINARY}: build it with scripts/build.sh (or set L7COLLECT)")
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(BINARY)))
    copy = os.path.join(tmpdir("l7bench-bin-"), "l7collect")
    shutil.copy2(BINARY, copy)
    version = subprocess.run([copy, "--version"], capture_output=True, text=True, check=True)
    print(f"collector: {BINARY} ({version.stdout.strip()}, built {built}), run from a copy")
    BINARY = copy


class Collector:
    """The collector under test. stdout is a file path, a file descriptor (e.g. a pipe's write
    end) or subprocess.DEVNULL; stderr goes to a log file in workdir."""

    def __init__(self, args, stdout, workdir, cpu=None):
        self.args = [BINARY, *args]
        self.stdout = stdout
        self.stderr_path = os.path.join(workdir, f"collector-{time.monotonic_ns()}.log")
        self.cpu = cpu
        self.proc = None
        self.rc = None
        self.rusage = None

    def start(self, timeout=30):
        out = open(self.stdout, "wb") if isinstance(self.stdout, str) else self.stdout
        with open(self.stderr_path, "wb") as err:
            self.proc = spawn(self.args, self.cpu, stdout=out, stderr=err)
        if isinstance(self.stdout, str):
            out.close()
        wait_for(lambda: self.ready() or self.proc.poll() is not None, timeout,
                 "the collector's ready line")
        if not self.ready():
            raise RuntimeError(f"collector exited before ready:\n{self.stderr()}")
        return self

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def ready(self):
        return any(l.startswith("l7collect: ready") for l in self.stderr().splitlines())

    @property
    def pid(self):
        return self.proc.pid

    def cpu_seconds(self):
        return process_cpu(self.proc.pid)

    def memory(self):
        return process_memory(self.proc.pid)

    def wait_idle(self, quiet=0.3, timeout=10.0):
        """Waits until the collector has used no CPU for `quiet` seconds (it has caught up with
        what was captured), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.cpu_seconds()
            if now == last:
                return True
            last = now
        return False

    def stop(self, timeout=30):
        """SIGINT (drain, last stats event, exit); reaps it and keeps its rusage."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
                if pid:
                    self.proc.returncode = os.waitstatus_to_exitcode(status)
                    self.rusage = ru
                    break
                time.sleep(0.02)
            else:
                print(f"collector did not exit {timeout}s after SIGINT: killed",
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
        self.rc = self.proc.returncode
        return self.rc


def last_stats(path):
    """The counters of the last stats event in an NDJSON file (None if there is none)."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - (1 << 20)))
        lines = f.read().splitlines()
    for line in reversed(lines):
        if b'"dataset":"stats"' in line:
            return json.loads(line)["l7"]["stats"]
    return None


def stats_from_lines(lines):
    for line in reversed(lines):
        if b'"dataset":"stats"' in line:
            return json.loads(line)["l7"]["stats"]
    return None


def http_events(path):
    """HTTP events in an NDJSON file (JSON escaping keeps the markers out of string values), as
    (server side, client side). An exchange nginx served is reported once from the server side:
    from nginx's syscalls (role server) or from the wire (no role); with syscall capture the load
    generator's own view of it (role client) comes on top."""
    client = count_bytes(path, b'"role":"client"')
    return count_bytes(path, b'"dataset":"http"') - client, client


def ring_losses(stats):
    """Records lost because a kernel ring buffer was full (socket filter and syscall probes)."""
    return stat(stats, "kernel.ring_full") + stat(stats, "syscalls.ring_full")


def stat(stats, dotted, default=0):
    """stat(s, 'kernel.ring_full'): one counter of a stats event."""
    node = stats or {}
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def sink_drops(stats):
    """Events every sink dropped (queue full, delivery errors, shutdown)."""
    return sum(c.get("dropped_queue_full", 0) + c.get("dropped_error", 0) +
               c.get("dropped_shutdown", 0)
               for g, c in (stats or {}).items() if g.startswith("sink_"))


# ---- numbers and tables ----------------------------------------------------------------------

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".2f"):
    if x is None:
        return "-"
    return format(x, spec)


def fmt_range(xs, spec=".3f"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return f"{format(median(xs), spec)} [{format(min(xs), spec)}..{format(max(xs), spec)}]"


def ratio(a, b):
    return a / b if a is not None and b else None


def print_table(title, headers, rows):
    """A plain text table: right-aligned columns, a title line above."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()


def progress(msg):
    print(f"... {msg}", file=sys.stderr, flush=True)


def _all_process_cpu():
    out = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    out[int(pid)] = (f.read().strip(), process_cpu(int(pid)))
            except (OSError, IndexError, ValueError):
                pass
    return out


def busiest_processes(seconds=1.0, top=3):
    """[(share of one CPU, name)] of the processes busiest over the next `seconds`."""
    before = _all_process_cpu()
    time.sleep(seconds)
    after = _all_process_cpu()
    used = [((cpu - before[pid][1]) / seconds, name)
            for pid, (name, cpu) in after.items() if pid in before and pid != os.getpid()]
    return sorted(used, reverse=True)[:top]


def describe_machine():
    """Where the numbers come from, with a warning when something else keeps the CPUs busy
    (another job on the machine makes every number here noisy)."""
    kernel = os.uname().release
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    line = f"machine: {os.cpu_count()} CPUs ({model}), kernel {kernel}"
    busy = [(share, name) for share, name in busiest_processes() if share >= 0.05]
    if busy:
        line += ("\nWARNING: the machine is not idle: " +
                 ", ".join(f"{name} {share:.0%} of a CPU" for share, name in busy) +
                 " (results will be noisy)")
    return line
