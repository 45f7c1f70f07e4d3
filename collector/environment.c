#include "environment.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"

#ifndef CAP_BPF
#define CAP_BPF 39 /* Linux 5.8; older headers lack it */
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int env_check_live(void)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) != 0 ||
	    !(has_cap(data, CAP_BPF) || has_cap(data, CAP_SYS_ADMIN)) ||
	    !has_cap(data, CAP_NET_RAW)) {
		LOG(LOG_ERROR, "live capture needs root (or CAP_BPF and CAP_NET_RAW): run it with "
		               "sudo, or replay a capture file with --read");
		return EXIT_USAGE;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		LOG(LOG_ERROR, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
		               "l7collect needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, as "
		               "Debian, Ubuntu, Fedora and RHEL kernels are");
		return EXIT_USAGE;
	}
	return 0;
}

/* Kernel lockdown in "confidentiality" mode refuses BPF even to root. */
static bool locked_down(void)
{
	char buf[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "r");

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, "[confidentiality]") != NULL;
}

void env_explain_bpf_failure(const char *what, int err)
{
	if (err == -EPERM || err == -EACCES) {
		if (locked_down())
			LOG(LOG_ERROR,
			    "%s: the kernel is locked down (confidentiality) and refuses "
			    "BPF: boot with lockdown=integrity or none",
			    what);
		else
			LOG(LOG_ERROR,
			    "%s: the kernel refused BPF (%s): run as root, and check "
			    "kernel.unprivileged_bpf_disabled and any LSM policy",
			    what, strerror(-err));
	} else {
		LOG(LOG_ERROR, "%s: %s (run with -vv for the kernel's verifier log)", what,
		    strerror(-err));
	}
}

const char *env_tracefs(void)
{
	static const char *const where[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/events/syscalls", where[i]);
		if (access(path, F_OK) == 0)
			return where[i];
	}
	return NULL;
}
