#!/usr/bin/env bash
# Runs every kernel test (tests/kernel/test_*.c, already built), and the collector up to its ready
# line, inside other kernels under qemu:
# Debian's 5.10, 6.1 and 6.12, which have kprobes and fentry where this machine's kernel has
# neither, and older verifiers. The guest sees the host's root read-only and runs the host's
# binaries in a chroot. Usage: matrix.sh BUILD_DIR [KERNEL_PACKAGE...]
set -euo pipefail
build=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")" && pwd)
vmtest=${L7_SHARED:-$here/../../../shared}/tools/vmtest/vmtest.sh
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(linux-image-5.10.0-46-amd64 linux-image-6.1.0-56-amd64
	linux-image-6.12.117+deb12-amd64)

if [ "$(id -u)" != 0 ] || [ ! -x "$vmtest" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "skipped: needs root, qemu-system-x86 and $vmtest"
	exit 77
fi

tests=()
for src in "$here"/test_*.c; do
	tests+=("$build/tests/$(basename "$src" .c)")
done
share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
{
	echo '#!/bin/sh'
	echo 'mkdir -p /hostroot'
	echo 'mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 hostroot /hostroot || exit 90'
	echo 'for d in proc sys dev; do mount --rbind /$d /hostroot/$d || exit 91; done'
	echo 'rc=0'
	for t in "${tests[@]}"; do
		echo "chroot /hostroot $t || rc=1"
	done
	# The collector itself: which syscall hooks --syscall-hooks auto settles on (sock, sys_exit or
	# tracepoints, whichever loads first) and that it gets to its ready line.
	echo "chroot /hostroot timeout -s INT 20 $build/l7collect -i lo 2>&1 >/dev/null |"
	echo "  grep -m1 'ready:' | sed 's/^/collector: /'"
	echo 'exit $rc'
} > "$share/run.sh"
chmod +x "$share/run.sh"

failed=()
for k in "${kernels[@]}"; do
	log="$share/$k.log"
	if HOSTROOT=1 "$vmtest" "$k" "$share" > "$log" 2>&1; then
		echo "$k: ok ($(grep -c ': ok$' "$log") tests)"
		# What a test chose to skip on this kernel (e.g. a hook it does not have).
		grep -E '^test_[a-z_]+: .*(skipped|done)' "$log" | sed "s/^/  $k: /" || true
		if ! grep -m1 '^collector: ' "$log" | sed "s/^/  $k: /" | grep .; then
			echo "$k: FAILED: the collector did not get to its ready line"
			grep -vE '^\[ *[0-9.]+\]' "$log" | tail -20
			failed+=("$k")
		fi
	else
		echo "$k: FAILED"
		grep -vE '^\[ *[0-9.]+\]' "$log" | tail -40
		failed+=("$k")
	fi
done
[ ${#failed[@]} -eq 0 ] || { echo "failed on: ${failed[*]}"; exit 1; }
