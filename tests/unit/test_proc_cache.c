/* The process cache: container ids out of /proc/PID/cgroup contents as docker, containerd and
 * cri-o write them (cgroup v1 and v2), then the cache itself against a fake /proc tree in a
 * temporary directory: what it reads, what it passes through from the kernel, when it reads
 * again (hits, eviction, forgetting an exited process). */
#define _GNU_SOURCE /* nftw() */
#include "proc_cache.h"

#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "check.h"

#define ID_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define ID_B "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define ID_C "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"
#define ID_D "18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4"
/* Pod uids as the systemd cgroup driver spells them (dashes become underscores). */
#define POD_UID_SD "8f1e2c1a_3b7d_4c1e_9f2a_6d5e4c3b2a10"
#define POD_UID    "8f1e2c1a-3b7d-4c1e-9f2a-6d5e4c3b2a10"

/* container_id_from_cgroup() on cg: want is the id expected, or NULL. */
static void check_cgroup(int line, const char *cg, const char *want)
{
	char out[65];
	const char *got;

	memset(out, 'x', sizeof(out));
	got = container_id_from_cgroup(cg, out);
	if (want) {
		if (got != out) {
			fprintf(stderr, "line %d: no container id found\n", line);
			check_failures++;
			return;
		}
		CHECK_EQ_U64(strlen(out), 64);
		if (strcmp(out, want) != 0) {
			fprintf(stderr, "line %d: got %s, want %s\n", line, out, want);
			check_failures++;
		}
	} else if (got) {
		fprintf(stderr, "line %d: unexpected container id %s\n", line, got);
		check_failures++;
	}
}

#define CG(cg, want) check_cgroup(__LINE__, cg, want)

static void test_container_id(void)
{
	/* cgroup v2, docker with the systemd cgroup driver. */
	CG("0::/system.slice/docker-" ID_A ".scope\n", ID_A);
	/* The same, with systemd running inside the container: the innermost id-bearing
	 * component is the container. */
	CG("0::/system.slice/docker-" ID_A ".scope/init.scope\n", ID_A);
	/* cgroup v2, containerd (CRI) under kubepods. */
	CG("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_SD
	   ".slice/cri-containerd-" ID_B ".scope\n",
	   ID_B);
	/* cri-o. */
	CG("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_SD
	   ".slice/crio-" ID_C ".scope\n",
	   ID_C);
	/* containerd's systemd driver path: slice:prefix:id, no ".scope". */
	CG("0::/system.slice/containerd.service/kubepods-burstable-pod" POD_UID_SD
	   ".slice:cri-containerd:" ID_B "\n",
	   ID_B);
	/* cgroup v1, docker (cgroupfs driver): one line per hierarchy, the last without a
	 * newline. */
	CG("12:memory:/docker/" ID_A "\n"
	   "11:pids:/docker/" ID_A "\n"
	   "1:name=systemd:/docker/" ID_A "\n"
	   "0::/system.slice/containerd.service",
	   ID_A);
	/* cgroup v1, kubepods (cgroupfs driver). */
	CG("11:pids:/kubepods/besteffort/pod" POD_UID "/" ID_D, ID_D);
	/* The id may be on a later line only. */
	CG("1:name=systemd:/\n0::/\n12:memory:/docker/" ID_C "\n", ID_C);

	/* No container: a login session, the root cgroup, a system service, empty, NULL. */
	CG("0::/user.slice/user-1000.slice/session-2.scope\n", NULL);
	CG("0::/\n", NULL);
	CG("0::/system.slice/nginx.service\n", NULL);
	CG("", NULL);
	CG(NULL, NULL);

	/* 63 or 65 hex digits are not an id; neither are 64 with a non-hex digit. */
	CG("0::/system.slice/docker-"
	   "a78112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
	   ".scope\n",
	   NULL);
	CG("12:memory:/docker/a78112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\n",
	   NULL);
	CG("12:memory:/docker/0" ID_A "\n", NULL);
	CG("0::/system.slice/"
	   "docker-ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bg"
	   ".scope\n",
	   NULL);
	CG("12:memory:/docker/ca978112ca1bbdcafac231b39a23dc4dz786eff8147c4e72b9807785afee48bb\n",
	   NULL);
	/* 64 hex digits glued to a longer name are not a scope's id. */
	CG("0::/system.slice/dockerx" ID_A ".scope\n", NULL);
	/* Runtimes write ids in lower case (Go's hex encoding); upper case is not taken for one,
	 * which keeps arbitrary names from passing for containers. */
	CG("12:memory:/docker/CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB\n",
	   NULL);
}

static char root[64];

static void mkdirf(const char *fmt, unsigned pid)
{
	char path[256];

	snprintf(path, sizeof(path), fmt, root, pid);
	if (mkdir(path, 0700) != 0) {
		perror(path);
		exit(2);
	}
}

/* Points <root>/<pid>/exe at target, replacing any previous link. */
static void set_exe(unsigned pid, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	unlink(path);
	if (symlink(target, path) != 0) {
		perror(path);
		exit(2);
	}
}

static void set_cgroup(unsigned pid, const char *contents)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/cgroup", root, pid);
	f = fopen(path, "w");
	if (!f || fputs(contents, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

static void fake_process(unsigned pid, const char *exe, const char *cgroup)
{
	mkdirf("%s/%u", pid);
	set_exe(pid, exe);
	set_cgroup(pid, cgroup);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static struct conn_owner owner(uint32_t tgid, const char *comm)
{
	struct conn_owner o = {
	        .tgid = tgid,
	        .tid = tgid + 1,
	        .uid = 1000 + tgid,
	        .gid = 2000 + tgid,
	        .cgroup_id = 0x100000000ull + tgid,
	};

	snprintf(o.comm, sizeof(o.comm), "%s", comm);
	return o;
}

static void check_kernel_fields(const struct ev_process *p, const struct conn_owner *o)
{
	CHECK_EQ_U64(p->pid, o->tgid);
	CHECK_EQ_U64(p->tid, o->tid);
	CHECK_EQ_U64(p->uid, o->uid);
	CHECK_EQ_U64(p->gid, o->gid);
	CHECK_EQ_U64(p->cgroup_id, o->cgroup_id);
	if (o->comm[0])
		CHECK_STR(p->name, o->comm);
	else
		CHECK(p->name == NULL);
}

static void check_stats(int line, const struct proc_cache *pc, uint64_t lookups, uint64_t misses,
                        uint64_t evicted)
{
	const struct proc_cache_stats *st = proc_cache_stats(pc);

	if (st->lookups != lookups || st->misses != misses || st->evicted != evicted) {
		fprintf(stderr,
		        "line %d: stats lookups %" PRIu64 " misses %" PRIu64 " evicted %" PRIu64
		        ", want %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		        line, st->lookups, st->misses, st->evicted, lookups, misses, evicted);
		check_failures++;
	}
}

#define STATS(pc, l, m, e) check_stats(__LINE__, pc, l, m, e)

static void test_cache(void)
{
	struct proc_cache *pc = proc_cache_new(2, root);
	struct conn_owner nginx = owner(100, "nginx"), py = owner(200, "python3"),
	                  gone = owner(300, "curl"), anon = owner(400, "");
	struct ev_process p;
	const char *exe;

	CHECK(pc != NULL);
	if (!pc)
		return;
	fake_process(100, "/usr/sbin/nginx", "0::/system.slice/docker-" ID_A ".scope\n");
	fake_process(200, "/usr/bin/python3.11",
	             "0::/user.slice/user-1000.slice/session-2.scope\n");
	fake_process(400, "/usr/bin/sleep", "0::/\n");

	memset(&p, 0xa5, sizeof(p));
	proc_cache_fill(pc, &nginx, "nginx: worker", &p);
	check_kernel_fields(&p, &nginx);
	CHECK_STR(p.thread_name, "nginx: worker");
	CHECK_STR(p.executable, "/usr/sbin/nginx");
	CHECK_STR(p.container_id, ID_A);
	STATS(pc, 1, 1, 0);

	/* A hit: the same strings, no /proc read (the link changes, the answer does not). */
	exe = p.executable;
	set_exe(100, "/usr/sbin/nginx-debug");
	proc_cache_fill(pc, &nginx, NULL, &p);
	CHECK(p.thread_name == NULL);
	CHECK(p.executable == exe);
	CHECK_STR(p.executable, "/usr/sbin/nginx");
	CHECK_STR(p.container_id, ID_A);
	STATS(pc, 2, 1, 0);

	/* Outside a container: an executable, no container id. */
	proc_cache_fill(pc, &py, "python3", &p);
	check_kernel_fields(&p, &py);
	CHECK_STR(p.executable, "/usr/bin/python3.11");
	CHECK(p.container_id == NULL);
	STATS(pc, 3, 2, 0);

	/* The process is gone (no /proc/300): what the kernel sent still describes it; nothing
	 * is made up for the rest. A third pid over max=2 evicts the least recently used, 100. */
	proc_cache_fill(pc, &gone, "curl", &p);
	check_kernel_fields(&p, &gone);
	CHECK_STR(p.thread_name, "curl");
	CHECK(p.executable == NULL);
	CHECK(p.container_id == NULL);
	STATS(pc, 4, 3, 1);

	/* 200 is still cached; 100 was evicted, so it is read again, and now shows the new
	 * link. That evicts 300 (200 was used since). */
	proc_cache_fill(pc, &py, NULL, &p);
	STATS(pc, 5, 3, 1);
	proc_cache_fill(pc, &nginx, NULL, &p);
	CHECK_STR(p.executable, "/usr/sbin/nginx-debug");
	CHECK_STR(p.container_id, ID_A);
	STATS(pc, 6, 4, 2);
	proc_cache_fill(pc, &py, NULL, &p);
	STATS(pc, 7, 4, 2);
	proc_cache_fill(pc, &gone, NULL, &p);
	CHECK(p.executable == NULL);
	STATS(pc, 8, 5, 3);

	/* An owner whose comm is empty: the name is left out (NULL), not reported as "". */
	proc_cache_fill(pc, &anon, NULL, &p);
	check_kernel_fields(&p, &anon);
	CHECK_STR(p.executable, "/usr/bin/sleep");
	CHECK(p.container_id == NULL);
	STATS(pc, 9, 6, 4);

	proc_cache_free(pc);
}

/* proc_cache_forget() (the process exited): its pid is read again next time, so a new process
 * with the same pid is not described by the old one's executable and container. */
static void test_forget(void)
{
	struct proc_cache *pc = proc_cache_new(16, root);
	struct conn_owner o = owner(500, "app");
	struct ev_process p;

	CHECK(pc != NULL);
	if (!pc)
		return;
	fake_process(500, "/opt/app/v1", "12:memory:/docker/" ID_B "\n");
	proc_cache_fill(pc, &o, NULL, &p);
	CHECK_STR(p.executable, "/opt/app/v1");
	CHECK_STR(p.container_id, ID_B);

	set_exe(500, "/opt/app/v2");
	set_cgroup(500,
	           "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" POD_UID_SD
	           ".slice/crio-" ID_C ".scope\n");
	proc_cache_fill(pc, &o, NULL, &p);
	CHECK_STR(p.executable, "/opt/app/v1");
	CHECK_STR(p.container_id, ID_B);
	STATS(pc, 2, 1, 0);

	proc_cache_forget(pc, 500);
	proc_cache_forget(pc, 501); /* not cached: nothing to do */
	proc_cache_fill(pc, &o, NULL, &p);
	CHECK_STR(p.executable, "/opt/app/v2");
	CHECK_STR(p.container_id, ID_C);
	STATS(pc, 3, 2, 0);

	/* Out of the container now: the id must go, not stay from before. */
	set_cgroup(500, "0::/system.slice/app.service\n");
	proc_cache_forget(pc, 500);
	proc_cache_fill(pc, &o, NULL, &p);
	CHECK(p.container_id == NULL);
	STATS(pc, 4, 3, 0);
	proc_cache_free(pc);
}

/* Without a cache (reading a capture file) only the kernel's fields are filled. */
static void test_no_cache(void)
{
	struct conn_owner o = owner(100, "nginx");
	struct ev_process p;

	memset(&p, 0xa5, sizeof(p));
	proc_cache_fill(NULL, &o, "t", &p);
	check_kernel_fields(&p, &o);
	CHECK_STR(p.thread_name, "t");
	CHECK(p.executable == NULL && p.container_id == NULL);
	proc_cache_forget(NULL, 100);
	proc_cache_free(NULL);
}

int main(void)
{
	test_container_id();

	/* Short on purpose: the cache keeps at most 63 bytes of its root. */
	snprintf(root, sizeof(root), "/tmp/l7pc.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 2;
	}
	test_cache();
	test_forget();
	test_no_cache();
	if (nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS) != 0) {
		perror("removing the fake /proc");
		check_failures++;
	}
	return check_report("test_proc_cache");
}
