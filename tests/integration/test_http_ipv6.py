"""IPv6 works as IPv4 does: the same 50 mixed requests against nginx on [::1] give exactly one
event each, with IPv6 addresses and every field as curl saw it."""

from harness import Collector, Nginx, check, collector_exchange_check, free_port, require_root
from traffic import check_exchanges, mixed_requests


def main():
    require_root()
    port = free_port()
    Nginx([f"[::1]:{port}"]).start()
    col = Collector("--capture", "socket", "--interface", "lo", "--port", str(port)).start()
    expected = mixed_requests("::1", port)
    col.wait_events(50)
    col.stop()
    collector_exchange_check(col)
    events = col.events("http")
    check_exchanges(events, expected, port)
    for ev in events:
        check(ev["network"]["type"] == "ipv6", f"network.type {ev['network']['type']}")
        check(ev["source"]["ip"] == "::1" and ev["destination"]["ip"] == "::1",
              f"addresses {ev['source']['ip']} -> {ev['destination']['ip']}")
        check(ev["url"]["full"].startswith(f"http://[::1]:{port}/"), f"url.full {ev['url']}")
    print("test_http_ipv6: ok")


if __name__ == "__main__":
    main()
