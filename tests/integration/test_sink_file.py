"""The file sink keeps its promises: rotation by size and by age keeps exactly the newest events
in keep=N files (in order, none twice, none missing between them), every line valid JSON and
every .gz readable; SIGHUP after an external mv starts a new file and loses nothing; on a full
disk (a small tmpfs) capture goes on, drops and retries are counted, no partial line is ever
left (with space reserved before writing, and without: a partial line is cut off), and writing
resumes once space is freed; bad specs are one clear line and exit 2.

Events come from real curl requests to a real nginx, each with its own number in the query
string (?i=N), so the files can be checked against what was sent."""

import errno
import gzip
import json
import os
import re
import signal
import subprocess
import time

from harness import (BINARY, Collector, Nginx, check, cleanup, free_port, require_root, run,
                     tmpdir, validate, wait_for)
from traffic import curl_transfers

NAME = "ev.ndjson"
ROTATED = re.compile(r"^ev\.ndjson\.\d{8}T\d{6}\.\d{6}Z(\.gz)?$")


class Traffic:
    """Numbered requests: i=1, 2, 3... across every call."""

    def __init__(self, port):
        self.port = port
        self.sent = 0

    def send(self, n):
        first = self.sent + 1
        for lo in range(first, first + n, 100):
            urls = [f"http://127.0.0.1:{self.port}/index.html?i={i}"
                    for i in range(lo, min(lo + 100, first + n))]
            curl_transfers([], urls)
        self.sent += n
        return self.sent


def read_lines(path):
    """Every line of a file (gzip or not), each checked whole and valid JSON."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        text = f.read()
    check(text == "" or text.endswith("\n"), f"{path} ends in a partial line: {text[-80:]!r}")
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{path}: not a JSON line: {line[:200]!r}")
    return out


def ids(path, check_schema=True):
    """The request numbers of the HTTP events in a file, in file order."""
    out = []
    for ev in read_lines(path):
        if ev["event"]["dataset"] != "http":
            continue
        if check_schema:
            validate(ev)
        out.append(int(ev["url"]["query"][2:]))
    return out


def rotated_files(d):
    """This sink's rotated files, oldest first (the names sort by time)."""
    return sorted(os.path.join(d, f) for f in os.listdir(d) if ROTATED.match(f))


def last_id_in(path, want):
    # Rotation renames the file and opens a new one on the next write: between the two, or
    # between a check and the open, the path may not be there.
    try:
        return want in ids(path, check_schema=False)
    except FileNotFoundError:
        return False


def file_stats(col):
    return col.stats()["sink_file"]


def check_newest(d, last, keep):
    """The rotated files and the current one: a run of events ending at the last one sent."""
    rotated = rotated_files(d)
    check(len(rotated) == keep, f"{len(rotated)} rotated files remain, keep={keep}: {rotated}")
    got = []
    for f in rotated + [os.path.join(d, NAME)]:
        got += ids(f)
        if not f.endswith(".gz"):
            check(not os.path.exists(f + ".gz"), f"{f} is there compressed and not")
    check(got and got == list(range(got[0], last + 1)),
          f"events kept are not the newest run up to {last}: {got[:5]}...{got[-5:]}")
    check(got[0] > 1, "nothing was deleted")
    check(any(f.endswith(".gz") for f in rotated), f"no rotated file was compressed: {rotated}")
    return rotated


def start(port, spec, *extra):
    return Collector("-c", "socket", "-i", "lo", "-p", str(port), "--sink", "stdout",
                     "--sink", spec, *extra).start()


def test_size_rotation(port):
    d = tmpdir("l7t-file-size-")
    path = os.path.join(d, NAME)
    col = start(port, f"file:{path}?max_size=16K&keep=3&gzip=1&fsync=0.2")
    last = Traffic(port).send(400)
    wait_for(lambda: last_id_in(path, last), 20, f"event {last} in {path}")
    # Compression runs beside the writing; wait for it to catch up before stopping.
    wait_for(lambda: all(f.endswith(".gz") for f in rotated_files(d)), 20, "rotated files gzipped")
    check(col.stop(signal.SIGTERM) == 0, f"exit status {col.rc}: {col.stderr()}")
    rotated = check_newest(d, last, keep=3)
    for f in rotated:
        size = sum(len(json.dumps(e, separators=(",", ":"))) + 1 for e in read_lines(f))
        check(size <= 16 << 10, f"{f}: {size} bytes, over max_size")
    s = file_stats(col)
    check(s["rotations"] >= 10 and s["files_deleted"] >= s["rotations"] - 3
          and s["gzip_done"] >= 3 and s["gzip_failed"] == 0, f"counters: {s}")
    check(s["written"] == s["queued"] and s["dropped_queue_full"] == 0, f"counters: {s}")


def test_age_rotation(port):
    d = tmpdir("l7t-file-age-")
    path = os.path.join(d, NAME)
    col = start(port, f"file:{path}?max_age=1s&max_size=0&keep=3&gzip=1")
    traffic = Traffic(port)
    for _ in range(6):
        last = traffic.send(20)
        wait_for(lambda: last_id_in(path, last), 20, f"event {last} in {path}")
        written = time.monotonic()
        # The file must grow older than max_age: time itself is what is tested here.
        wait_for(lambda: time.monotonic() - written > 1.05, 5, "max_age to pass")
    check(col.stop(signal.SIGTERM) == 0, f"exit status {col.rc}: {col.stderr()}")
    rotated = check_newest(d, last, keep=3)
    # One rotation per round after the first: each rotated file holds whole rounds.
    for f in rotated:
        got = ids(f, check_schema=False)
        check(got[0] % 20 == 1 and got[-1] % 20 == 0, f"{f}: a round was split: {got}")
    s = file_stats(col)
    check(s["rotations"] >= 5 and s["files_deleted"] >= 2, f"counters: {s}")


def test_sighup(port):
    d = tmpdir("l7t-file-hup-")
    path, moved = os.path.join(d, NAME), os.path.join(d, "moved.ndjson")
    col = start(port, f"file:{path}?max_size=0")
    traffic = Traffic(port)
    last = traffic.send(50)
    wait_for(lambda: last_id_in(path, last), 20, f"event {last} in {path}")
    os.rename(path, moved)
    # Until the SIGHUP, events go on into the file under its new name.
    last = traffic.send(50)
    wait_for(lambda: last_id_in(moved, last), 20, f"event {last} in {moved}")
    col.proc.send_signal(signal.SIGHUP)
    last = traffic.send(50)
    wait_for(lambda: last_id_in(path, last), 20, f"event {last} in a new {path}")
    check(col.stop(signal.SIGTERM) == 0, f"exit status {col.rc}: {col.stderr()}")
    old, new = ids(moved), ids(path)
    check(old + new == list(range(1, last + 1)),
          f"events lost or doubled across the mv: {old[-3:]} | {new[:3]}")
    check(len(old) >= 100, f"events written after the mv, before the SIGHUP, moved: {len(old)}")
    check(file_stats(col)["reopens"] == 1, f"counters: {file_stats(col)}")


def fill(path):
    """Writes until the filesystem is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            check(e.errno == errno.ENOSPC, f"filling: {e}")


NO_FALLOCATE = """
#include <errno.h>
#include <sys/types.h>
int fallocate(int fd, int mode, off_t offset, off_t len)
{
	(void)fd, (void)mode, (void)offset, (void)len;
	errno = EOPNOTSUPP;
	return -1;
}
"""


def no_fallocate():
    """An LD_PRELOAD library for a filesystem that cannot reserve space: the sink then writes
    until the disk is full mid-line, and must cut the partial line off."""
    d = tmpdir("l7t-file-so-")
    with open(os.path.join(d, "nofalloc.c"), "w") as f:
        f.write(NO_FALLOCATE)
    lib = os.path.join(d, "nofalloc.so")
    run(["cc", "-shared", "-fPIC", "-o", lib, os.path.join(d, "nofalloc.c")])
    return lib


def test_full_disk(port, reserve):
    d = tmpdir("l7t-file-full-")
    run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "l7t-full", d])
    cleanup.add(subprocess.run, ["umount", "-l", d])
    path, filler = os.path.join(d, NAME), os.path.join(d, "filler")
    if not reserve:
        os.environ["LD_PRELOAD"] = no_fallocate()
    try:
        col = start(port, f"file:{path}?max_size=0&gzip=0&queue=20", "--stats-interval", "0.5")
    finally:
        os.environ.pop("LD_PRELOAD", None)
    traffic = Traffic(port)
    last = traffic.send(20)
    wait_for(lambda: last_id_in(path, last), 20, f"event {last} in {path}")
    fill(filler)
    last = traffic.send(100)

    def stuck():
        stats = col.events("stats")
        f = stats[-1]["l7"]["stats"]["sink_file"] if stats else {}
        return f.get("errors_nospace") and f.get("dropped_queue_full") and f.get("retries")
    wait_for(stuck, 20, "the file sink to count a full disk and drops")
    # Capture goes on: the stdout sink gets every event meanwhile.
    col.wait_events(last, timeout=20)
    check(col.proc.poll() is None, "the collector exited on a full disk")
    full = ids(path)  # no partial line, even now
    check(full == list(range(1, len(full) + 1)), f"events while full: {full}")
    os.unlink(filler)
    # The queued events go first, after the backoff (at most 5 s); events that come before
    # that find the queue full and are dropped, so the last ones are sent once it drained.
    wait_for(lambda: "writing again" in col.stderr(), 20, "the file sink to write again")
    wait_for(lambda: col.events("stats")[-1]["l7"]["stats"]["sink_file"]["queue_depth"] == 0,
             20, "the file sink's queue to drain")
    last = traffic.send(20)
    wait_for(lambda: last_id_in(path, last), 30, f"event {last} in {path} once space was freed")
    check(col.stop(signal.SIGTERM) == 0, f"exit status {col.rc}: {col.stderr()}")
    got = ids(path)
    check(got == sorted(set(got)), f"events out of order or twice: {got}")
    check(got[:len(full)] == full and got[-20:] == list(range(last - 19, last + 1)),
          f"events after the disk was freed: {got}")
    s = col.stats()
    f = s["sink_file"]
    check(f["queued"] + f["dropped_queue_full"] == s["sink_stdout"]["queued"],
          f"file sink events not accounted for: {f} vs {s['sink_stdout']}")
    lines = len(read_lines(path))
    check(lines - f["written"] in (0, 1), f"{lines} lines in the file, {f['written']} written")
    # Reserving space first, a full disk fails before a byte is written. Without, the last
    # page's room takes part of a line before ENOSPC (unless it ends exactly at a line's end,
    # about one chance in a thousand), and that part must have been cut off.
    check((f["partial_lines_cut"] == 0) == reserve and f["errors_io"] == 0, f"counters: {f}")
    check("writing resumes" in col.stderr(), f"the full disk was not logged: {col.stderr()}")


def l7(*args, user=None):
    cmd = [BINARY, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def usage_error(spec, needle, user=None, pcap=None):
    args = ["--read", pcap, "--sink", spec] if pcap else ["--sink", spec]
    r = l7(*args, user=user)
    err = r.stderr.strip().splitlines()
    check(r.returncode == 2, f"{spec}: exit {r.returncode}, expected 2: {r.stderr}")
    check(err and needle in err[0], f"{spec}: first stderr line {err[:1]} lacks '{needle}'")


def test_bad_specs():
    r = l7("--help")
    check(r.returncode == 0 and "file:PATH" in r.stdout and "max_age" in r.stdout, "--help")
    d = tmpdir("l7t-file-spec-")
    os.chmod(d, 0o755)
    usage_error("file:", "say which file")
    usage_error(f"file:{d}/", "must name a file")
    usage_error(f"file:{d}/x?max_size=lots", "bad value 'lots' for max_size")
    usage_error(f"file:{d}/x?max_age=1y", "bad value '1y' for max_age")
    usage_error(f"file:{d}/x?keep=-1", "bad value '-1' for keep")
    usage_error(f"file:{d}/x?rotate=daily", "unknown option 'rotate'")
    usage_error(f"file:{d}/no/such/x", "does not exist: create it")
    # Offline, so that a user without root gets as far as opening the file.
    pcap = os.path.join(d, "empty.pcap")
    with open(pcap, "wb") as f:
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    usage_error(f"file:{d}/x", "make it writable", user="65534", pcap=pcap)


def main():
    require_root()
    began = time.monotonic()
    test_bad_specs()
    port = free_port()
    Nginx([f"127.0.0.1:{port}"]).start()
    test_size_rotation(port)
    test_age_rotation(port)
    test_sighup(port)
    test_full_disk(port, reserve=True)
    test_full_disk(port, reserve=False)
    print(f"test_sink_file: ok ({time.monotonic() - began:.1f}s)")


if __name__ == "__main__":
    main()
