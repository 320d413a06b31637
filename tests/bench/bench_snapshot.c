/*
 * `make bench`: a snapshot of a 16 GiB VRAM adapter with 1 GiB touched, written to
 * a file (gpusim_snapshot_take -> snapfile_write), against `cp` of that file on the
 * same disk, in one run: size on disk against the 1.1 GiB target, and write speed
 * against cp's, both without fsync and both with it. Asserts nothing.
 * BENCH_SNAPSHOT_MIB sets the MiB touched (default 1024); the files go to $TMPDIR,
 * else to the current (build) directory.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>
#include <gpusim/snapshot.h>

#include "sim/elf/snapfile.h"

#define MiB (1024.0 * 1024.0)
#define CHUNK (16ull << 20) /* bytes per allocation */
#define ROUNDS 3

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_snapshot: %s\n", what);
	exit(1);
}

/* Bytes no compressor or zero-page scan could shortcut: a 64-bit generator. */
static void fill(uint8_t *p, uint64_t size, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull | 1;
	for (uint64_t i = 0; i + 8 <= size; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

/* An adapter with `bytes` of VRAM written through Lock2, CHUNK per allocation. */
static LUID make_adapter(uint64_t bytes)
{
	struct gpusim_config cfg;
	LUID luid;
	char err[160] = "";
	gpusim_config_default(&cfg);
	/* Resizable BAR: the CPU writes every allocation where it lives, in VRAM. */
	if (gpusim_config_parse(&cfg, "vram=16G,visible=16G", err, sizeof(err)) ||
	    gpusim_adapter_create(&cfg, &luid))
		die(err[0] ? err : "cannot create the adapter");
	D3DKMT_OPENADAPTERFROMLUID op = { .AdapterLuid = luid };
	if (D3DKMTOpenAdapterFromLuid(&op))
		die("cannot open the adapter");
	D3DKMT_CREATEDEVICE cd = { .hAdapter = op.hAdapter };
	if (D3DKMTCreateDevice(&cd))
		die("cannot create a device");
	for (uint64_t done = 0, k = 0; done < bytes; done += CHUNK, k++) {
		struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .flags = GPUSIM_ALLOC_CPU_VISIBLE,
					       .size = CHUNK };
		D3DDDI_ALLOCATIONINFO2 info;
		memset(&info, 0, sizeof(info));
		info.pPrivateDriverData = &d;
		info.PrivateDriverDataSize = sizeof(d);
		D3DKMT_CREATEALLOCATION ca;
		memset(&ca, 0, sizeof(ca));
		ca.hDevice = cd.hDevice;
		ca.NumAllocations = 1;
		ca.pAllocationInfo2 = &info;
		if (D3DKMTCreateAllocation2(&ca))
			die("cannot create an allocation");
		D3DKMT_LOCK2 lk = { .hDevice = cd.hDevice, .hAllocation = info.hAllocation };
		if (D3DKMTLock2(&lk))
			die("cannot lock an allocation");
		fill(lk.pData, CHUNK, k + 1);
		D3DKMT_UNLOCK2 ul = { .hDevice = cd.hDevice, .hAllocation = info.hAllocation };
		if (D3DKMTUnlock2(&ul))
			die("cannot unlock an allocation");
	}
	return luid;
}

static void sync_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0 || fsync(fd))
		die("cannot fsync");
	close(fd);
}

/* Seconds for snapfile_write (and an fsync of the file when asked). */
static double time_write(const char *path, const struct gpusim_snapshot *snap, int with_fsync)
{
	char err[512];
	unlink(path);
	double t0 = now_s();
	if (snapfile_write(path, snap, err, sizeof(err)))
		die(err);
	if (with_fsync)
		sync_file(path);
	return now_s() - t0;
}

/* Seconds for `cp src dst`, fork and exec included (and an fsync of dst when asked). */
static double time_cp(const char *src, const char *dst, int with_fsync)
{
	char *argv[] = { "cp", (char *)src, (char *)dst, NULL };
	pid_t pid;
	int status;
	unlink(dst);
	double t0 = now_s();
	if (posix_spawnp(&pid, "cp", NULL, NULL, argv, environ))
		die("cannot run cp");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		die("cp failed");
	if (with_fsync)
		sync_file(dst);
	return now_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

int main(void)
{
	const char *env = getenv("BENCH_SNAPSHOT_MIB"), *tmp = getenv("TMPDIR");
	uint64_t mib = env ? strtoull(env, NULL, 0) : 1024;
	uint64_t bytes = (mib << 20) / CHUNK * CHUNK;
	char path[1024], copy[1100];
	snprintf(path, sizeof(path), "%s/bench-snapshot-%d.elf", tmp && *tmp ? tmp : ".", (int)getpid());
	snprintf(copy, sizeof(copy), "%s.cp", path);

	printf("16 GiB VRAM adapter, %" PRIu64 " MiB written through Lock2 in %" PRIu64 " MiB allocations\n",
	       bytes >> 20, (uint64_t)(CHUNK >> 20));
	double t0 = now_s();
	LUID luid = make_adapter(bytes);
	double t1 = now_s();
	struct gpusim_snapshot *snap;
	if (gpusim_snapshot_take(luid, &snap))
		die("gpusim_snapshot_take failed");
	double t2 = now_s();
	uint64_t populated = 0;
	for (uint64_t i = 0; i < snap->nranges; i++)
		populated += snap->ranges[i].size;
	printf("filled in %.2f s; gpusim_snapshot_take %.3f s: %" PRIu64 " ranges, %.1f MiB populated, state %.1f KiB\n",
	       t1 - t0, t2 - t1, snap->nranges, (double)populated / MiB, (double)snap->state_size / 1024.0);

	/* Alternate the two so that neither always meets a warmer disk. */
	double w[ROUNDS], c[ROUNDS], ws[ROUNDS], cs[ROUNDS];
	for (int r = 0; r < ROUNDS; r++) {
		w[r] = time_write(path, snap, 0);
		c[r] = time_cp(path, copy, 0);
	}
	for (int r = 0; r < ROUNDS; r++) {
		ws[r] = time_write(path, snap, 1);
		cs[r] = time_cp(path, copy, 1);
	}
	struct stat st;
	if (stat(path, &st))
		die("cannot stat the snapshot");
	double size = (double)st.st_size, disk = (double)st.st_blocks * 512.0;
	double target = 1.1 * 1024 * MiB * ((double)bytes / (1024 * MiB));

	/* Reading maps the file: the ranges are not copied. */
	char err[512];
	struct gpusim_snapshot *back;
	double r0 = now_s();
	if (snapfile_read(path, &back, err, sizeof(err)))
		die(err);
	double r1 = now_s();
	if (back->nranges != snap->nranges)
		die("the file does not read back with the same ranges");
	snapfile_free(back);

	printf("file: %.1f MiB (st_size), %.1f MiB on disk (st_blocks*512); target < %.1f MiB: %s\n", size / MiB,
	       disk / MiB, target / MiB, size < target && disk < target ? "met" : "MISSED");
	printf("snapfile_read (map + every check): %.2f ms\n", (r1 - r0) * 1e3);
	double wm = median(w), cm = median(c), wsm = median(ws), csm = median(cs);
	printf("%-34s %10s %10s %8s\n", "median of 3", "snapshot", "cp", "ratio");
	printf("%-34s %7.0f MiB/s %5.0f MiB/s %8.2f\n", "page cache (neither fsyncs)", size / MiB / wm, size / MiB / cm,
	       cm / wm);
	printf("%-34s %7.0f MiB/s %5.0f MiB/s %8.2f\n", "to disk (both fsync the file)", size / MiB / wsm,
	       size / MiB / csm, csm / wsm);
	printf("ratio = cp time / snapshot time (1.00: as fast as cp; cp times include fork and exec)\n");
	unlink(path);
	unlink(copy);
	gpusim_snapshot_free(snap);
	gpusim_reset();
	return 0;
}
