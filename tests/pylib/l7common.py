"""What the integration tests and the benchmarks share: cleanup that runs whatever happens,
polling instead of sleeping, temporary directories, and waiting for servers. Standard library
only."""

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


class Cleanup:
    """Callbacks run last-in first-out, each at most once; the owner calls run() at exit."""

    def __init__(self):
        self._stack = []

    def add(self, fn, *args):
        self._stack.append((fn, args))

    def run(self):
        # A second Ctrl-C must not cut the cleanup short.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        while self._stack:
            fn, args = self._stack.pop()
            try:
                fn(*args)
            except Exception as e:  # keep cleaning up
                print(f"cleanup: {getattr(fn, '__name__', fn)}: {e}", file=sys.stderr)


cleanup = Cleanup()


def wait_for(cond, timeout=20.0, what="condition"):
    """Polls cond() until it returns something true, which is returned."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def tmpdir(prefix="l7-"):
    d = tempfile.mkdtemp(prefix=prefix)
    cleanup.add(shutil.rmtree, d, True)
    return d


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(host, port, netns=None, timeout=20):
    """Waits until something accepts TCP connections on host:port (inside netns if given)."""
    def up():
        if netns:
            return subprocess.run(["ip", "netns", "exec", netns, "bash", "-c",
                                   f"exec 3<>/dev/tcp/{host}/{port}"],
                                  capture_output=True).returncode == 0
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            return False
    wait_for(up, timeout, f"a server on {host} port {port}")
