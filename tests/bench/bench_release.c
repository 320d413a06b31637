/*
 * `make bench`: freed memory goes back to the host. RSS and the system memory
 * held around a create/write/destroy of 240 MiB in each kind of memory, the time
 * the destroy takes, and the snapshot of 240 MiB written, moved and freed with
 * 208 KiB kept, against its live bytes. Asserts nothing; prints the numbers.
 */
#include <config.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpusim/d3dkmthk.h>
#include <gpusim/gpusim.h>
#include <gpusim/snapshot.h>

#include "sim/elf/snapfile.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define BIG (240 * MiB)
#define LIVE (208 * KiB)

static D3DKMT_HANDLE device, context_h;
static D3DKMT_CREATECONTEXT ctx;
static LUID luid;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_release: %s\n", what);
	exit(1);
}

static double rss_mib(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%lu %lu", &size, &res) != 2)
		die("cannot read /proc/self/statm");
	fclose(f);
	return (double)res * (double)sysconf(_SC_PAGESIZE) / MiB;
}

/* The simulated system memory's memfd blocks: shmem pages count in RSS only
 * while mapped, so this is where freed system pages show (or do not). */
static double sysmem_mib(void)
{
	double held = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], target[128];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		struct stat st;
		if (n <= 0)
			continue;
		target[n] = 0;
		if (strstr(target, "memfd:gpusim-sysmem") && stat(path, &st) == 0)
			held += (double)st.st_blocks * 512.0 / MiB;
	}
	if (d)
		closedir(d);
	return held;
}

static void make_adapter(const char *spec)
{
	struct gpusim_config cfg;
	char err[160] = "";
	gpusim_config_default(&cfg);
	if (gpusim_config_parse(&cfg, spec, err, sizeof(err)) || gpusim_adapter_create(&cfg, &luid))
		die(err[0] ? err : "cannot create the adapter");
	D3DKMT_OPENADAPTERFROMLUID op = { .AdapterLuid = luid };
	if (D3DKMTOpenAdapterFromLuid(&op))
		die("cannot open the adapter");
	D3DKMT_CREATEDEVICE cd = { .hAdapter = op.hAdapter };
	if (D3DKMTCreateDevice(&cd))
		die("cannot create a device");
	device = cd.hDevice;
	memset(&ctx, 0, sizeof(ctx));
	ctx.hDevice = device;
	if (D3DKMTCreateContext(&ctx))
		die("cannot create a context");
	context_h = ctx.hContext;
}

static D3DKMT_HANDLE alloc(uint64_t size, uint32_t flags, uint32_t pref, uint32_t allowed)
{
	struct gpusim_alloc_desc d = { .version = GPUSIM_ALLOC_DESC_VERSION, .flags = flags, .size = size,
				       .preferred = { pref }, .allowed = allowed };
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	if (D3DKMTCreateAllocation2(&ca))
		die("cannot create an allocation");
	return info.hAllocation;
}

static void destroy(D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = device;
	da.phAllocationList = &h;
	da.AllocationCount = 1;
	if (D3DKMTDestroyAllocation2(&da))
		die("cannot destroy an allocation");
}

static void cpu_write(D3DKMT_HANDLE h, uint64_t size, uint8_t v)
{
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = h };
	if (D3DKMTLock2(&lk))
		die("cannot lock");
	memset(lk.pData, v, size);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = h };
	if (D3DKMTUnlock2(&ul))
		die("cannot unlock");
}

/* A FILL by the GPU, for memory the CPU cannot reach. */
static void gpu_fill(D3DKMT_HANDLE h, uint64_t size, uint32_t value)
{
	uint32_t *cmd = ctx.pCommandBuffer;
	cmd[0] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
	cmd[1] = cmd[2] = 0;
	cmd[3] = (uint32_t)size;
	cmd[4] = (uint32_t)(size >> 32);
	cmd[5] = value;
	ctx.pAllocationList[0].hAllocation = h;
	ctx.pAllocationList[0].Value = 0;
	memset(&ctx.pPatchLocationList[0], 0, sizeof(ctx.pPatchLocationList[0]));
	ctx.pPatchLocationList[0].PatchOffset = 4;
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = context_h;
	r.CommandLength = 24;
	r.AllocationCount = 1;
	r.PatchLocationCount = 1;
	if (D3DKMTRender(&r) || gpusim_idle(luid))
		die("cannot fill");
}

static void round_trip(const char *what, uint32_t flags, uint32_t seg, int by_gpu)
{
	double r0 = rss_mib(), s0 = sysmem_mib();
	D3DKMT_HANDLE h = alloc(BIG, flags, seg, GPUSIM_SEG_BIT(seg));
	if (by_gpu)
		gpu_fill(h, BIG, 0x5a5a5a5a);
	else
		cpu_write(h, BIG, 0x5a);
	double r1 = rss_mib(), s1 = sysmem_mib();
	double t0 = now_s();
	destroy(h);
	double t1 = now_s();
	double r2 = rss_mib(), s2 = sysmem_mib();
	printf("%-26s %7.1f %7.1f %7.1f %9.1f %7.1f %7.1f %8.1f   %+.1f%%\n", what, r0, r1, r2, s0, s1, s2,
	       (t1 - t0) * 1e3, (r2 + s2 - r0 - s0) / (r0 + s0) * 100);
}

/* The scenario: 240 MiB written in three places, moved, freed; 208 KiB
 * kept; the snapshot's ranges against the live bytes. */
static void snapshot_after_free(void)
{
	D3DKMT_HANDLE big = alloc(128 * MiB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	D3DKMT_HANDLE tex = alloc(64 * MiB, 0, GPUSIM_SEG_INVISIBLE, 0);
	D3DKMT_HANDLE buf = alloc(48 * MiB, 0, GPUSIM_SEG_GART, GPUSIM_SEG_BIT(GPUSIM_SEG_GART));
	cpu_write(big, 128 * MiB, 1);
	gpu_fill(tex, 64 * MiB, 0x02020202);
	cpu_write(buf, 48 * MiB, 3);
	/* Churn: out to system memory and back, and a lock out of invisible VRAM. */
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = device;
	mr.NumAllocations = 1;
	mr.AllocationList = &big;
	D3DKMTMakeResident(&mr);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = device;
	ev.NumAllocations = 1;
	ev.AllocationList = &big;
	if (D3DKMTEvict(&ev))
		die("cannot evict");
	cpu_write(tex, MiB, 4);
	gpu_fill(big, 128 * MiB, 0x05050505);
	destroy(big);
	destroy(tex);
	destroy(buf);
	D3DKMT_HANDLE live = alloc(LIVE, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	cpu_write(live, LIVE, 9);
	struct gpusim_alloc_info info;
	if (gpusim_query_allocation(live, &info))
		die("cannot query");
	uint64_t reserved = info.gpu_address - info.offset;

	struct gpusim_snapshot *snap;
	if (gpusim_snapshot_take(luid, &snap))
		die("gpusim_snapshot_take failed");
	uint64_t bytes = 0, driver = 0;
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		bytes += r->size;
		if (r->addr < reserved)
			driver += (r->addr + r->size < reserved ? r->addr + r->size : reserved) - r->addr;
	}
	const char *tmp = getenv("TMPDIR");
	char path[1024], err[512];
	snprintf(path, sizeof(path), "%s/bench-release-%d.elf", tmp && *tmp ? tmp : ".", (int)getpid());
	if (snapfile_write(path, snap, err, sizeof(err)))
		die(err);
	struct stat st;
	if (stat(path, &st))
		die("cannot stat the snapshot");
	unlink(path);
	printf("snapshot after 240 MiB written, moved and freed, %" PRIu64 " KiB live: %" PRIu64
	       " ranges, %.1f KiB loadable = %.1f KiB beyond the driver's %.1f KiB (%.3f x live; target <= 1.1), "
	       "file %.1f KiB\n",
	       (uint64_t)(LIVE / KiB), snap->nranges, (double)bytes / KiB, (double)(bytes - driver) / KiB, (double)driver / KiB,
	       (double)(bytes - driver) / (double)LIVE, (double)st.st_size / KiB);
	gpusim_snapshot_free(snap);
}

int main(void)
{
	make_adapter("vram=768M,visible=320M,gart=512M,sysmem=1G");
	/* Warm-up, as in an adapter that has run for a while: rings, fence page, the
	 * GART table's entries for the range, and the heap behind the manager's page
	 * list (480 KiB for 240 MiB, which malloc keeps for reuse once freed). */
	for (int i = 0; i < 2; i++) {
		D3DKMT_HANDLE w = alloc(BIG, 0, GPUSIM_SEG_GART, GPUSIM_SEG_BIT(GPUSIM_SEG_GART));
		cpu_write(w, MiB, 1);
		destroy(w);
	}
	printf("240 MiB created, written and destroyed through D3DKMT (MiB; sys = the system memory's memfd)\n");
	printf("%-26s %7s %7s %7s %9s %7s %7s %8s   %s\n", "where", "RSS", "written", "freed", "sys", "written",
	       "freed", "free ms", "RSS+sys freed vs before");
	round_trip("visible VRAM, CPU writes", GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	round_trip("invisible VRAM, GPU FILL", 0, GPUSIM_SEG_INVISIBLE, 1);
	round_trip("GART, CPU writes", 0, GPUSIM_SEG_GART, 0);
	snapshot_after_free();
	gpusim_reset();
	return 0;
}
