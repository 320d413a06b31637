/*
 * Freed memory is released, through the public API: a new allocation where a
 * freed one was reads zeros (VRAM, GART, backing store), RSS comes back down
 * after a destroy, moves leave no stale copy in a snapshot, and nothing still
 * needed is discarded (an eviction whose copy fails keeps its bytes).
 */
#include <config.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <gpusim/snapshot.h>
#include "kmt/gsdrv/gsdrv.h"
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MIB (1024ull * 1024)
#define PG 4096ull
/* Visible segment ~7.6 MiB, invisible 24 MiB, GART segment 15 MiB. */
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

static NTSTATUS resident(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = dev;
	mr.NumAllocations = 1;
	mr.AllocationList = &h;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	return st == STATUS_PENDING ? STATUS_SUCCESS : st;
}

static NTSTATUS evict(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = dev;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	return D3DKMTEvict(&ev);
}

/* The index of the first byte of p[0, n) that is not v, or n. (A Check assertion
 * per byte would cost a call each, which valgrind makes slow.) */
static uint64_t first_not(const uint8_t *p, uint64_t n, uint8_t v)
{
	uint64_t i = 0;
	while (i < n && p[i] == v)
		i++;
	return i;
}

/* Lock, check that every byte is zero, unlock. */
static bool reads_zero(D3DKMT_HANDLE dev, D3DKMT_HANDLE h, uint64_t size)
{
	D3DKMT_LOCK2 lk = { .hDevice = dev, .hAllocation = h };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	bool zero = first_not(lk.pData, size, 0) == size;
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = h };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	return zero;
}

static uint32_t zeros_crc(uint64_t size)
{
	static const uint8_t z[4096];
	uLong crc = crc32(0L, Z_NULL, 0);
	for (uint64_t off = 0; off < size; off += sizeof(z))
		crc = crc32(crc, z, sizeof(z));
	return (uint32_t)crc;
}

/* ---- a new allocation where a freed one was reads zeros ------------------------ */

START_TEST(test_reuse_visible_reads_zero)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, MIB, 11), STATUS_SUCCESS);
	uint64_t where = kt_query(a).offset;
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_query(b).offset, where); /* on a's old bytes */
	ck_assert_msg(reads_zero(g.device, b, MIB), "b shows a's bytes");
	kt_teardown(&g);
}
END_TEST

/* Invisible VRAM, written and read by the GPU only. */
START_TEST(test_reuse_invisible_reads_zero)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &a), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, 2 * MIB, 0xdeadbeef);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_ne(kt_gpu_crc(&g, a, 2 * MIB), zeros_crc(2 * MIB));
	uint64_t where = kt_query(a).offset;
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_query(b).offset, where);
	ck_assert_uint_eq(kt_gpu_crc(&g, b, 2 * MIB), zeros_crc(2 * MIB));
	kt_teardown(&g);
}
END_TEST

/* The second VRAM pool (pools=2) is released like the first: an allocation
 * that leaves it, freed or evicted with its bytes, leaves nothing for the next
 * one placed there. Until gsdrv's discard knew the pool, a never-written
 * allocation placed on a demoted one's range read its bytes by GPU VA while the
 * CPU, after an eviction that had nothing to copy, read zeros. */
START_TEST(test_reuse_vram2_reads_zero)
{
	struct kt_gpu g;
	kt_setup(&g, CFG ",pools=2");
	D3DKMT_HANDLE a, b, c;
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_VRAM2, KT_SEG(VRAM2), &a), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_VRAM2);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, 2 * MIB, 0xdeadbeef);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	uint32_t filled = kt_gpu_crc(&g, a, 2 * MIB);
	ck_assert_uint_ne(filled, zeros_crc(2 * MIB));
	uint64_t where = kt_query(a).offset;
	/* Evicted: its bytes go to its backing store, its range is given back. */
	KT_ST_EQ(resident(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, a), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_VRAM2, KT_SEG(VRAM2), &b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).segment, GPUSIM_SEG_VRAM2);
	ck_assert_uint_eq(kt_query(b).offset, where); /* on a's old bytes */
	ck_assert_uint_eq(kt_gpu_crc(&g, b, 2 * MIB), zeros_crc(2 * MIB));
	/* Freed: the same. */
	uint32_t seen = kt_gpu_crc(&g, a, 2 * MIB); /* paged in again, elsewhere in the pool */
	ck_assert_uint_eq(seen, filled);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_VRAM2);
	where = kt_query(a).offset;
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_VRAM2, KT_SEG(VRAM2), &c), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(c).offset, where);
	ck_assert_uint_eq(kt_gpu_crc(&g, c, 2 * MIB), zeros_crc(2 * MIB));
	kt_teardown(&g);
}
END_TEST

/* The driver releases exactly the segment's range in each pool: a discard that
 * would run past the first pool's end is refused, so the second pool's bytes
 * are not released with it. */
START_TEST(test_discard_stays_in_its_pool)
{
	struct hw_config cfg;
	hw_config_default(&cfg);
	ck_assert_int_eq(hw_config_set(&cfg, "vram", "32M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "visible", "8M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "gart", "16M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "sysmem", "16M"), 0);
	struct hw_device *hw;
	ck_assert_int_eq(hw_device_create(&cfg, &hw), 0);
	void *drv;
	struct kmt_segment_desc segs[KMT_MAX_SEGMENTS];
	uint32_t nsegs = 0;
	const struct kmt_driver_options opt = { .vram_pools = 2 };
	ck_assert_int_eq(gsdrv_ddi.start(hw, &opt, &drv, segs, &nsegs), 0);
	/* Pools of 12 MiB each: the second starts at 20 MiB. */
	uint64_t pool2 = gsdrv_ddi.gpu_address(drv, GPUSIM_SEG_VRAM2, 0);
	ck_assert_uint_eq(pool2, 20 * MIB);
	uint8_t *v = hw_debug_vram(hw, 19 * MIB, 2 * MIB);
	ck_assert_ptr_nonnull(v);
	memset(v, 0x5a, 2 * MIB);
	/* Past the first pool's end: refused, nothing released. */
	gsdrv_ddi.discard(drv, GPUSIM_SEG_INVISIBLE, 11 * MIB, 2 * MIB);
	ck_assert_uint_eq(first_not(v, 2 * MIB, 0x5a), 2 * MIB);
	/* Each pool's own range: released. */
	gsdrv_ddi.discard(drv, GPUSIM_SEG_INVISIBLE, 11 * MIB, MIB);
	ck_assert_uint_eq(first_not(v, MIB, 0), MIB);
	ck_assert_uint_eq(first_not(v + MIB, MIB, 0x5a), MIB);
	gsdrv_ddi.discard(drv, GPUSIM_SEG_VRAM2, 0, MIB);
	ck_assert_uint_eq(first_not(v + MIB, MIB, 0), MIB);
	/* And not past the second pool's end (the end of VRAM). */
	v = hw_debug_vram(hw, 31 * MIB, MIB);
	memset(v, 0x5a, MIB);
	gsdrv_ddi.discard(drv, GPUSIM_SEG_VRAM2, 11 * MIB, 2 * MIB);
	ck_assert_uint_eq(first_not(v, MIB, 0x5a), MIB);
	gsdrv_ddi.discard(drv, GPUSIM_SEG_VRAM2, 11 * MIB, MIB);
	ck_assert_uint_eq(first_not(v, MIB, 0), MIB);
	gsdrv_ddi.stop(drv);
	hw_device_destroy(hw);
}
END_TEST

/* The GART: the bytes are in system pages, which the next allocation reuses. */
START_TEST(test_reuse_gart_reads_zero)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_GART, KT_SEG(GART), &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, MIB, 12), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(a).segment, GPUSIM_SEG_GART);
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_GART, KT_SEG(GART), &b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).segment, GPUSIM_SEG_GART);
	ck_assert_uint_eq(kt_gpu_crc(&g, b, MIB), zeros_crc(MIB));
	ck_assert_msg(reads_zero(g.device, b, MIB), "b shows a's bytes");
	kt_teardown(&g);
}
END_TEST

/* A backing store: a's pages held its evicted bytes; b, evicted without data,
 * gets those pages back and must not show them. */
START_TEST(test_reuse_backing_store_reads_zero)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, MIB, 13), STATUS_SUCCESS);
	KT_ST_EQ(resident(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, a), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(a).segment, GPUSIM_SEG_SYS);
	ck_assert(kt_verify(g.device, a, MIB, 13));
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &b), STATUS_SUCCESS);
	KT_ST_EQ(resident(g.device, b), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, b), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(b).segment, GPUSIM_SEG_SYS);
	ck_assert_msg(reads_zero(g.device, b, MIB), "b shows a's bytes");
	/* Paged in again, still zeros (and the copy engine carried zeros or nothing). */
	kt_cmd_begin(&g);
	kt_cmd_use(&g, b);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_ne(kt_query(b).segment, GPUSIM_SEG_SYS);
	ck_assert_msg(reads_zero(g.device, b, MIB), "b shows a's bytes after paging in");
	kt_teardown(&g);
}
END_TEST

/* ---- RSS comes back down ----------------------------------------------------------- */

static uint64_t rss(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &res), 2);
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Bytes the host holds for the simulated system memory: its memfd's blocks.
 * They count in RSS only while some mapping has them in its page tables (a
 * Lock's vmap is gone after the Unlock), so RSS alone would miss them. */
static uint64_t sysmem_held(void)
{
	uint64_t held = 0;
	DIR *d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[300], target[128];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		struct stat st;
		if (strstr(target, "memfd:gpusim-sysmem") && stat(path, &st) == 0)
			held += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return held;
}

/* AddressSanitizer keeps a shadow byte per 8 bytes the program touched, and
 * nothing of ours releases it: that much of RSS stays after a destroy. */
#if defined(__SANITIZE_ADDRESS__)
#define SHADOW(size) ((size) / 8)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHADOW(size) ((size) / 8)
#endif
#endif
#ifndef SHADOW
#define SHADOW(size) 0
#endif

/* Create, write and destroy `size` bytes placed by d: RSS after the destroy is
 * within 10% of RSS before the create, and so is the system memory held, while
 * the write did show in one of them (or the test would measure nothing). */
static void rss_round_trip(struct kt_gpu *g, const struct gpusim_alloc_desc *d, bool by_gpu, uint32_t seg)
{
	uint64_t size = d->size;
	uint64_t before = rss(), sys_before = sysmem_held();
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc_on(g->device, d, &h), STATUS_SUCCESS);
	if (by_gpu) {
		kt_cmd_begin(g);
		kt_cmd_fill(g, h, size, 0x5a5a5a5a);
		KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
		kt_idle(g);
	} else {
		D3DKMT_LOCK2 lk = { .hDevice = g->device, .hAllocation = h };
		KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
		memset(lk.pData, 0x5a, size);
		D3DKMT_UNLOCK2 ul = { .hDevice = g->device, .hAllocation = h };
		KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	}
	ck_assert_uint_eq(kt_query(h).segment, seg);
	uint64_t written = rss(), sys_written = sysmem_held();
	KT_ST_EQ(kt_free(g->device, h), STATUS_SUCCESS);
	uint64_t after = rss(), sys_after = sysmem_held();
	printf("rss: %s %llu MiB: RSS %.1f -> %.1f -> %.1f MiB, system memory held %.1f -> %.1f -> %.1f MiB "
	       "(before create, after write, after destroy)\n",
	       gpusim_segment_name(seg), (unsigned long long)(size / MIB), before / (double)MIB,
	       written / (double)MIB, after / (double)MIB, sys_before / (double)MIB, sys_written / (double)MIB,
	       sys_after / (double)MIB);
	ck_assert_msg(written + sys_written >= before + sys_before + size * 9 / 10,
		      "the write did not show in RSS or system memory (%llu + %llu -> %llu + %llu)",
		      (unsigned long long)before, (unsigned long long)sys_before, (unsigned long long)written,
		      (unsigned long long)sys_written);
	ck_assert_msg(after <= before + before / 10 + SHADOW(size),
		      "RSS %.1f MiB after the destroy, %.1f MiB before the create (more than 10%% above)",
		      after / (double)MIB, before / (double)MIB);
	ck_assert_msg(sys_after <= sys_before + before / 10,
		      "system memory held %.1f MiB after the destroy, %.1f MiB before the create",
		      sys_after / (double)MIB, sys_before / (double)MIB);
}

START_TEST(test_rss_returns_after_destroy)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=512M,visible=256M,gart=512M,sysmem=1G");
	const uint64_t size = 128 * MIB;
	/* CPU-visible VRAM (BAR2), the GART (system pages), invisible VRAM (GPU). */
	struct gpusim_alloc_desc vis = kt_desc(size, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	struct gpusim_alloc_desc gart = kt_desc(size, 0, GPUSIM_SEG_GART, KT_SEG(GART));
	struct gpusim_alloc_desc inv = kt_desc(size, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	/* Warm-up, as in any adapter that has run for a while: the rings, the fence
	 * page, the GART table's entries for the range (the device's own structures:
	 * 256 KiB of table for 128 MiB of aperture, zeroed but kept when unmapped),
	 * and the heap behind the manager's page list (256 KiB, which malloc keeps
	 * for reuse once it has been freed). */
	D3DKMT_HANDLE w;
	KT_ST_EQ(kt_alloc_on(g.device, &gart, &w), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, w, MIB, 1), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, w), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc_on(g.device, &gart, &w), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, w), STATUS_SUCCESS);
	rss_round_trip(&g, &vis, false, GPUSIM_SEG_VISIBLE);
	rss_round_trip(&g, &gart, false, GPUSIM_SEG_GART);
	rss_round_trip(&g, &inv, true, GPUSIM_SEG_INVISIBLE);
	kt_teardown(&g);
}
END_TEST

/* ---- moves leave nothing behind ----------------------------------------------------- */

struct obj {
	D3DKMT_HANDLE h;
	uint64_t size;
	bool written;
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Mark pages [addr, addr + size) in map (one byte per page from base). */
static void mark(uint8_t *map, uint64_t base, uint64_t addr, uint64_t size, uint8_t v)
{
	for (uint64_t p = (addr - base) / PG; p < (addr - base + size) / PG; p++)
		map[p] |= v;
}

/* A random run of creates, writes, frees, evictions, page-ins through Render,
 * locks that move allocations out of invisible VRAM, and pressure: then the
 * snapshot's populated pages are exactly the live allocations' pages plus the
 * driver's own structures at the start of VRAM. */
START_TEST(test_snapshot_holds_live_bytes_only)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	enum { N = 24 };
	struct obj o[N];
	memset(o, 0, sizeof(o));
	uint64_t seed = 0x5eed;
	struct gpusim_stats st0 = kt_stats(&g);
	for (int step = 0; step < 400; step++) {
		int i = (int)(rng(&seed) % N);
		uint64_t r = rng(&seed) % 100;
		if (!o[i].h) {
			static const uint32_t prefs[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART };
			uint32_t pref = prefs[rng(&seed) % 3];
			uint64_t size = (1 + rng(&seed) % 512) * PG;
			struct gpusim_alloc_desc d =
				kt_desc(size, pref == GPUSIM_SEG_VISIBLE ? GPUSIM_ALLOC_CPU_VISIBLE : 0, pref, 0);
			if (kt_alloc_on(g.device, &d, &o[i].h) != STATUS_SUCCESS)
				continue;
			o[i].size = size;
			o[i].written = false;
		} else if (r < 30) {
			KT_ST_EQ(kt_write(g.device, o[i].h, o[i].size, (uint32_t)(i + step + 1)), STATUS_SUCCESS);
			o[i].written = true;
		} else if (r < 45) {
			KT_ST_EQ(kt_free(g.device, o[i].h), STATUS_SUCCESS);
			o[i].h = 0;
		} else if (r < 60) {
			if (resident(g.device, o[i].h) == STATUS_SUCCESS)
				KT_ST_EQ(evict(g.device, o[i].h), STATUS_SUCCESS);
		} else if (r < 85) {
			/* Page-in (or a move) through a Render: the GPU writes it. */
			kt_cmd_begin(&g);
			kt_cmd_fill(&g, o[i].h, o[i].size, 0x01010101u * (uint32_t)(1 + step % 250));
			if (kt_cmd_submit(&g) == STATUS_SUCCESS)
				o[i].written = true;
		} else {
			/* A lock moves an allocation out of invisible VRAM. */
			D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = o[i].h };
			KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
			D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = o[i].h };
			KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
		}
	}
	kt_idle(&g);
	kt_assert_invariants(&g);
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_gt(st.evictions, st0.evictions + 10);
	ck_assert_uint_gt(st.page_ins, st0.page_ins + 10);
	ck_assert_uint_gt(st.moves, st0.moves);

	struct gpusim_snapshot *snap;
	KT_ST_EQ(gpusim_snapshot_take(g.luid, &snap), STATUS_SUCCESS);
	const struct hw_config *c = &snap->cfg.hw;
	uint64_t vpages = c->vram / PG, spages = c->sysmem / PG;
	uint8_t *want = calloc(vpages + spages, 1), *have = calloc(vpages + spages, 1);
	ck_assert(want && have);
	/* The driver's structures: everything below visible VRAM's first allocation
	 * address (g.result is pinned there at offset 0 of the segment). */
	struct gpusim_alloc_info res = kt_query(g.result);
	ck_assert_uint_eq(res.offset, 0);
	uint64_t reserved = res.gpu_address;
	uint64_t live = 0, nsys = 0, driver = 0;
	for (int i = 0; i < N; i++) {
		if (!o[i].h || !o[i].written)
			continue;
		struct gpusim_alloc_info a = kt_query(o[i].h);
		live += a.size;
		if (a.segment == GPUSIM_SEG_VISIBLE || a.segment == GPUSIM_SEG_INVISIBLE)
			mark(want, 0, a.gpu_address, a.size, 1);
		else
			nsys += a.size / PG;
		/* GART-resident: its pages are the GART entries of its range. */
		if (a.segment == GPUSIM_SEG_GART)
			for (uint64_t k = 0; k < snap->ngart; k++) {
				uint64_t page = snap->gart[k].page, first = (a.gpu_address - c->gart_base) / PG;
				if (page >= first && page < first + a.size / PG)
					want[vpages + (snap->gart[k].entry >> HW_GART_PFN_SHIFT)] |= 1;
			}
	}
	for (uint64_t k = 0; k < snap->nranges; k++) {
		const struct gpusim_snapshot_range *rg = &snap->ranges[k];
		if (rg->addr >= GPUSIM_SYSMEM_BUS_BASE)
			mark(have + vpages, GPUSIM_SYSMEM_BUS_BASE, rg->addr, rg->size, 1);
		else
			mark(have, 0, rg->addr, rg->size, 1);
	}
	uint64_t have_sys = 0;
	for (uint64_t p = 0; p < vpages; p++) {
		if (p < reserved / PG) {
			driver += have[p];
			continue;
		}
		ck_assert_msg(have[p] == want[p], "VRAM page 0x%llx: %s", (unsigned long long)p,
			      have[p] ? "populated but no live allocation holds it" : "a live allocation's bytes are missing");
	}
	for (uint64_t p = 0; p < spages; p++) {
		have_sys += have[vpages + p];
		ck_assert_msg(have[vpages + p] || !want[vpages + p], "system page %llu of a GART allocation is missing",
			      (unsigned long long)p);
	}
	/* Evicted allocations' pages are not in any public table: count them. */
	ck_assert_uint_eq(have_sys, nsys);
	ck_assert_uint_gt(driver, 0); /* the fence page and the rings hold something */
	uint64_t populated = 0;
	for (uint64_t k = 0; k < snap->nranges; k++)
		populated += snap->ranges[k].size;
	/* Demotions and promotions count once the manager makes them; the property
	 * above holds for every kind of move, since each leaves through one exit. */
	printf("moves: live %llu KiB, populated %llu KiB of which the driver's %llu KiB; %llu evictions, "
	       "%llu page-ins, %llu moves, %llu demotions, %llu promotions\n",
	       (unsigned long long)(live >> 10), (unsigned long long)(populated >> 10),
	       (unsigned long long)(driver * PG >> 10), (unsigned long long)st.evictions,
	       (unsigned long long)st.page_ins, (unsigned long long)st.moves,
	       (unsigned long long)st.demotions, (unsigned long long)st.promotions);
	free(want);
	free(have);
	gpusim_snapshot_free(snap);
	kt_teardown(&g);
}
END_TEST

/* ---- nothing still needed is discarded ----------------------------------------------- */

/* An eviction whose copy keeps faulting (an uncorrectable VRAM page in the
 * allocation's second MiB) fails: the allocation stays where it was with every
 * byte, and the backing pages its first MiB was copied to read zero again. */
START_TEST(test_failed_eviction_keeps_bytes)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(2 * MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, 2 * MIB, 21), STATUS_SUCCESS);
	struct gpusim_alloc_info before = kt_query(a);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_VRAM_ERROR, before.gpu_address + MIB + 5 * PG), STATUS_SUCCESS);
	KT_ST_EQ(resident(g.device, a), STATUS_SUCCESS);
	uint64_t faults = kt_stats(&g).faults;
	/* D3DKMTEvict answers success whatever the manager could do (it is a hint). */
	KT_ST_EQ(evict(g.device, a), STATUS_SUCCESS);
	ck_assert_uint_ge(kt_stats(&g).faults, faults + 3); /* every try faulted */
	struct gpusim_alloc_info after = kt_query(a);
	ck_assert_uint_eq(after.segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(after.offset, before.offset);
	ck_assert(kt_verify(g.device, a, 2 * MIB, 21));
	struct gpusim_snapshot *snap;
	KT_ST_EQ(gpusim_snapshot_take(g.luid, &snap), STATUS_SUCCESS);
	for (uint64_t k = 0; k < snap->nranges; k++)
		ck_assert_msg(snap->ranges[k].addr < GPUSIM_SYSMEM_BUS_BASE,
			      "system memory at 0x%llx holds a failed eviction's bytes",
			      (unsigned long long)snap->ranges[k].addr);
	gpusim_snapshot_free(snap);
	kt_teardown(&g);
}
END_TEST

/* The driver: a transfer into VRAM through the paging window that fails on its
 * second window-full (a GART entry naming a page beyond system memory) leaves
 * nothing of its first window-full behind in the destination. */
START_TEST(test_failed_transfer_discards_destination)
{
	struct hw_config cfg;
	hw_config_default(&cfg);
	ck_assert_int_eq(hw_config_set(&cfg, "vram", "32M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "visible", "16M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "gart", "16M"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "sysmem", "16M"), 0);
	struct hw_device *hw;
	ck_assert_int_eq(hw_device_create(&cfg, &hw), 0);
	void *drv;
	struct kmt_segment_desc segs[KMT_MAX_SEGMENTS];
	uint32_t nsegs = 0;
	const struct kmt_driver_options opt = { .vram_pools = 1 };
	ck_assert_int_eq(gsdrv_ddi.start(hw, &opt, &drv, segs, &nsegs), 0);
	enum { NP = 2 * GSDRV_WINDOW_MAX_PAGES };
	static uint64_t pages[NP];
	for (uint32_t i = 0; i < NP; i++) {
		ck_assert_int_eq(hw_sysmem_alloc(hw, &pages[i]), 0);
		memset(hw_sysmem_page(hw, pages[i]), 0x77, PG);
	}
	pages[NP - 1] = cfg.sysmem / PG + 3; /* the second window-full faults */
	uint64_t off = 4 * MIB, size = (uint64_t)NP * PG;
	struct kmt_paging_op op = { .type = KMT_PAGING_TRANSFER, .size = size,
				    .src = { GPUSIM_SEG_SYS, 0, pages }, .dst = { GPUSIM_SEG_INVISIBLE, off, NULL } };
	ck_assert_int_eq(gsdrv_ddi.build_paging_buffer(drv, &op), -EIO);
	uint64_t vram = gsdrv_ddi.gpu_address(drv, GPUSIM_SEG_INVISIBLE, off);
	const uint8_t *v = hw_debug_vram(hw, vram, size);
	uint64_t i = first_not(v, size, 0);
	ck_assert_msg(i == size, "destination byte 0x%llx is 0x%02x", (unsigned long long)i, v[i]);
	/* The same transfer from valid pages works, and discards nothing. */
	ck_assert_int_eq(hw_sysmem_alloc(hw, &pages[NP - 1]), 0);
	memset(hw_sysmem_page(hw, pages[NP - 1]), 0x77, PG);
	ck_assert_int_eq(gsdrv_ddi.build_paging_buffer(drv, &op), 0);
	ck_assert_uint_eq(first_not(v, size, 0x77), size);
	gsdrv_ddi.stop(drv);
	hw_device_destroy(hw);
}
END_TEST

Suite *kmt_release_suite(void)
{
	Suite *s = suite_create("kmt: freed memory is released");
	TCase *tc = tcase_create("release");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_reuse_visible_reads_zero);
	tcase_add_test(tc, test_reuse_invisible_reads_zero);
	tcase_add_test(tc, test_reuse_vram2_reads_zero);
	tcase_add_test(tc, test_discard_stays_in_its_pool);
	tcase_add_test(tc, test_reuse_gart_reads_zero);
	tcase_add_test(tc, test_reuse_backing_store_reads_zero);
	tcase_add_test(tc, test_rss_returns_after_destroy);
	tcase_add_test(tc, test_snapshot_holds_live_bytes_only);
	tcase_add_test(tc, test_failed_eviction_keeps_bytes);
	tcase_add_test(tc, test_failed_transfer_discards_destination);
	suite_add_tcase(s, tc);
	return s;
}
