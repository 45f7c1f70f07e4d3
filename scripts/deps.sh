#!/usr/bin/env bash
# Installs every Debian package l7collect needs to build, run and test, and mounts what the
# kernel side needs. Idempotent: apt runs only when something is missing.
set -euo pipefail

packages=(
	# build
	clang llvm cmake make pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev
	libcurl4-openssl-dev libclang-rt-14-dev
	# tests: real servers, clients and captures
	nginx curl tcpdump tshark wrk iproute2 python3 python3-jsonschema util-linux
	dnsmasq-base bind9-dnsutils knot-dnsutils
	# tests: other kernels under qemu (../shared/tools/vmtest)
	qemu-system-x86 busybox-static cpio kmod zstd xz-utils
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages (${missing[*]}): run as root" >&2
		exit 2
	fi
	echo "deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The BPF filesystem and tracefs are not needed by the socket filter, but later probes use them
# and a fresh container may have neither.
if [ "$(id -u)" = 0 ]; then
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
	mountpoint -q /sys/kernel/tracing || mount -t tracefs none /sys/kernel/tracing 2>/dev/null || true
fi
