"""Bad input gets counted, never reported as an exchange, and never stops the collector:
binary garbage and HTTP-shaped garbage on the HTTP port, a connection that sends half a request
and closes, a response whose request came before the capture started, and malformed frames
injected on lo. A real request afterwards is still reported, exactly once."""

import random
import socket
import threading

from harness import Collector, Nginx, check, collector_exchange_check, free_port, require_root
from traffic import curl_transfers


class HeldResponseServer:
    """Reads one request, then answers only when released: capture can start in between."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.got_request = threading.Event()
        self.release = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        self.got_request.set()
        self.release.wait(30)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        conn.close()


def send_and_close(port, payload, half_close=False):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(payload)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        while s.recv(4096):  # until the server closes
            pass


def inject_malformed(count):
    """Ethernet frames on lo whose IP headers lie about their lengths."""
    eth = b"\x00" * 12 + b"\x08\x00"
    frames = [
        eth + bytes([0x4F]) + b"\x00" * 19,                     # IHL 15, only 20 bytes
        eth + bytes([0x45, 0, 0, 20]) + b"\x00" * 5 + b"\x06" + b"\x00" * 10,  # TCP, no header
        eth + bytes([0x43]) + b"\x00" * 40,                     # IHL 3 (< 5)
    ]
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind(("lo", 0))
        for i in range(count):
            s.send(frames[i % len(frames)])


def main():
    require_root()
    port, held_port = free_port(), free_port()
    Nginx([f"127.0.0.1:{port}"]).start()

    held = HeldResponseServer(held_port)
    client = socket.create_connection(("127.0.0.1", held_port))
    client.sendall(b"GET /before-capture HTTP/1.1\r\nHost: x\r\n\r\n")
    check(held.got_request.wait(10), "the held server never got its request")

    col = Collector("--capture", "socket", "--interface", "lo", "--port", str(port), "--port",
                    str(held_port)).start()

    held.release.set()
    client.settimeout(10)
    while client.recv(4096):
        pass
    client.close()

    rnd = random.Random(7)
    send_and_close(port, bytes(rnd.randrange(256) for _ in range(300)))
    send_and_close(port, b"GET \x00\x01\x02garbage HTTP/1.1\r\nHost: x\r\n\r\n")
    send_and_close(port, b"GET /half HTTP/1.1\r\nHost: x\r\nUser-Agent: half", half_close=True)
    inject_malformed(30)
    real = curl_transfers([], [f"http://127.0.0.1:{port}/index.html?after=garbage"])[0]

    col.wait_events(1)
    col.stop()
    stats = collector_exchange_check(col)
    events = col.events("http")
    check(len(events) == 1, f"{len(events)} HTTP events, expected only the real request: "
                            f"{[e['url'] for e in events]}")
    check(events[0]["url"]["query"] == "after=garbage" and
          events[0]["source"]["port"] == real["local_port"], f"the real request: {events[0]}")
    http = stats["http"]
    check(http["parse_errors"] >= 2, f"garbage not counted as parse errors: {http}")
    check(http["incomplete"] >= 1, f"half a request not counted: {http}")
    check(http["unpaired_responses"] >= 1, f"response without request not counted: {http}")
    check(stats["kernel"]["malformed"] >= 30, f"malformed frames not counted: {stats['kernel']}")
    print("test_robustness: ok")


if __name__ == "__main__":
    main()
