"""The command line keeps its promises: --help teaches, --version answers, every usage or
environment problem is one line on stderr and exit status 2, SIGTERM exits 0 after a last stats
event, stdout:text prints one readable line per exchange, and --http-headers reports headers
with secrets redacted."""

import re
import signal
import subprocess

from harness import (BINARY, Collector, Nginx, check, collector_exchange_check, free_port,
                     require_root)
from traffic import curl_transfers


def l7(*args, user=None):
    cmd = [BINARY, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def usage_error(args, needle, user=None):
    r = l7(*args, user=user)
    err = r.stderr.strip().splitlines()
    check(r.returncode == 2, f"{args}: exit {r.returncode}, expected 2: {r.stderr}")
    check(err and needle in err[0], f"{args}: first stderr line {err[:1]} lacks '{needle}'")
    check(len(err) <= 2, f"{args}: more than a short message: {r.stderr}")
    check(r.stdout == "", f"{args}: wrote to stdout: {r.stdout}")


def main():
    require_root()
    r = l7("--help")
    check(r.returncode == 0 and "Examples:" in r.stdout and "--sink" in r.stdout
          and "stdout:text" in r.stdout, "--help")
    r = l7("--version")
    check(r.returncode == 0 and r.stdout.startswith("l7collect "), "--version")

    usage_error(["--bogus"], "unrecognized option")
    usage_error(["--port", "0"], "--port '0'")
    usage_error(["--snaplen", "12"], "--snaplen '12'")
    usage_error(["--sink", "nowhere"], "unknown sink 'nowhere'")
    usage_error(["--sink", "stdout?when_full=maybe"], "bad value 'maybe' for when_full")
    usage_error(["--sink", "stdout:yaml"], "unknown format 'yaml'")
    usage_error(["--interface", "no-such-if0"], "no interface named 'no-such-if0'")
    usage_error(["--read", "/nonexistent.pcap"], "cannot open /nonexistent.pcap")
    usage_error(["--capture", "everything"], "--capture 'everything'")
    usage_error(["--max-payload", "0"], "--max-payload '0'")
    usage_error(["--dns-timeout", "0"], "--dns-timeout '0'")
    usage_error(["--syscall-hooks", "kprobes"], "--syscall-hooks 'kprobes'")
    usage_error(["--bench-mode", "fast"], "--bench-mode 'fast'")
    r = l7("--list-probes")
    check(r.returncode == 0 and "sys_enter_read" in r.stdout and "available" in r.stdout,
          f"--list-probes: {r.stdout}")
    usage_error([], "live capture needs root", user="65534")

    port = free_port()
    Nginx([f"127.0.0.1:{port}"]).start()
    col = Collector("-c", "socket", "-i", "lo", "-p", str(port), "--sink", "stdout:text",
                    "--sink", "stdout?queue=1000", "--http-headers").start()
    curl_transfers(["-H", "Authorization: Bearer s3cr3t-token", "-H",
                        "Cookie: session=c00kie-value", "-H", "X-Trace: visible"],
                       [f"http://127.0.0.1:{port}/index.html?q=1"])[0]
    check(col.stop(signal.SIGTERM) == 0, f"SIGTERM exit status {col.rc}")
    out = "".join(col.stdout_lines)
    check("s3cr3t-token" not in out and "c00kie-value" not in out, "a secret was written")
    text = [l for l in col.stdout_lines if not l.startswith("{")]
    http_text = [l for l in text if not l.startswith("stats:")]
    check(len(http_text) == 1, f"text lines: {text}")
    expect = "GET /index.html?q=1 -> 200 OK "
    # The wire event names its process: connect() filled the kernel's connection table.
    check(http_text[0].startswith(expect) and re.search(r"ms curl\[\d+\]$", http_text[0].rstrip()),
          f"text line: {http_text[0]!r}")
    col.stdout_lines[:] = [l for l in col.stdout_lines if l.startswith("{")]
    collector_exchange_check(col)
    ev = col.events("http")[0]
    headers = ev["http"]["request"]["headers"]
    check(headers["authorization"] == "[REDACTED]" and headers["cookie"] == "[REDACTED]",
          f"redaction: {headers}")
    check(headers["x-trace"] == "visible" and headers["user-agent"].startswith("curl/"),
          f"headers: {headers}")
    check("content-type" in ev["http"]["response"]["headers"], "response headers")
    print("test_cli: ok")


if __name__ == "__main__":
    main()
