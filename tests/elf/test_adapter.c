/*
 * Snapshot files of a real adapter: gpusim_snapshot_take written to a file, read
 * back equal to what was taken, restored from the file's mapping into a new
 * adapter (the first one destroyed), and that adapter's own snapshot file equal to
 * the first in everything but the renamed handles; the data written is still there.
 */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>

#include "sim/elf/snapfile.h"
#include "tests/elf/elf_suites.h"
#include "tests/elf/sample.h"
#include "tests/elf/scratch.h"
#include "tests/kmt/kmt_helpers.h"

#define NALLOC 6

static struct gpusim_snapshot *read_ok(const char *path)
{
	struct gpusim_snapshot *snap = NULL;
	char err[256] = "";
	ck_assert_msg(snapfile_read(path, &snap, err, sizeof(err)) == 0, "read: %s", err);
	return snap;
}

/* Take a snapshot of g's adapter into dir/name; returns the taken snapshot. */
static struct gpusim_snapshot *take_to(LUID luid, const char *name)
{
	struct gpusim_snapshot *t;
	ck_assert_int_eq(gpusim_snapshot_take(luid, &t), STATUS_SUCCESS);
	char err[256] = "";
	ck_assert_msg(snapfile_write(scratch_path(name), t, err, sizeof(err)) == 0, "write: %s", err);
	return t;
}

static D3DKMT_HANDLE remap(const struct gpusim_handle_map *m, size_t n, D3DKMT_HANDLE old)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].old_handle == old)
			return m[i].new_handle;
	ck_abort_msg("handle 0x%x was not restored", old);
	return 0;
}

START_TEST(test_take_write_read_restore)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=2M,gart=4M,sysmem=64M,seed=7");
	/* Visible, invisible and GART allocations, one evicted to system memory. */
	static const uint32_t pref[NALLOC] = {
		GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART,
		GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART, GPUSIM_SEG_INVISIBLE,
	};
	D3DKMT_HANDLE h[NALLOC];
	uint64_t size[NALLOC];
	for (int i = 0; i < NALLOC; i++) {
		size[i] = 4096ull << i;
		struct gpusim_alloc_desc d = kt_desc(size[i], 0, pref[i], 0);
		ck_assert_int_eq(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
		ck_assert_int_eq(kt_write(g.device, h[i], size[i], 100u + (uint32_t)i), STATUS_SUCCESS);
	}
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &h[3];
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 1;
	mr.AllocationList = &h[3];
	NTSTATUS st = D3DKMTMakeResident(&mr);
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
	kt_idle(&g);

	/* What the file holds is what was taken, to the byte. */
	struct gpusim_snapshot *taken = take_to(g.luid, "first.elf");
	struct gpusim_snapshot *first = read_ok(scratch_path("first.elf"));
	sample_assert_equal(taken, first);
	bool vram = false, sys = false;
	for (uint64_t i = 0; i < first->nranges; i++) {
		vram |= first->ranges[i].addr < GPUSIM_SYSMEM_BUS_BASE;
		sys |= first->ranges[i].addr >= GPUSIM_SYSMEM_BUS_BASE;
	}
	ck_assert_msg(vram && sys, "the snapshot holds both VRAM and system pages");
	gpusim_snapshot_free(taken);

	/* Restore from the file alone: the first adapter is gone. */
	D3DKMT_HANDLE old_device = g.device;
	gpusim_reset();
	struct gpusim_handle_map *map;
	size_t nmap;
	char err[256] = "";
	st = gpusim_snapshot_restore(first, &g.luid, &map, &nmap, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%x %s", (unsigned)st, err);
	D3DKMT_HANDLE device = remap(map, nmap, old_device);
	for (int i = 0; i < NALLOC; i++)
		ck_assert_msg(kt_verify(device, remap(map, nmap, h[i]), size[i], 100u + (uint32_t)i),
			      "allocation %d lost its bytes", i);
	free(map);

	/* Its own snapshot file: the same device, clock, statistics and memory. */
	struct gpusim_snapshot *again = take_to(g.luid, "second.elf");
	gpusim_snapshot_free(again);
	struct gpusim_snapshot *second = read_ok(scratch_path("second.elf"));
	ck_assert_uint_eq(first->time_ns, second->time_ns);
	ck_assert_mem_eq(&first->stats, &second->stats, sizeof(first->stats));
	ck_assert_uint_eq(first->nregs, second->nregs);
	ck_assert_mem_eq(first->regs, second->regs, first->nregs * sizeof(*first->regs));
	ck_assert_uint_eq(first->ngart, second->ngart);
	ck_assert_mem_eq(first->gart, second->gart, first->ngart * sizeof(*first->gart));
	ck_assert_uint_eq(first->nallocs, second->nallocs);
	ck_assert_uint_eq(first->nranges, second->nranges);
	for (uint64_t i = 0; i < first->nranges; i++) {
		ck_assert_uint_eq(first->ranges[i].addr, second->ranges[i].addr);
		ck_assert_uint_eq(first->ranges[i].size, second->ranges[i].size);
		ck_assert(!memcmp(first->ranges[i].data, second->ranges[i].data, first->ranges[i].size));
	}
	snapfile_free(second);
	snapfile_free(first);
	gpusim_reset();
}
END_TEST

Suite *elf_adapter_suite(void)
{
	Suite *s = suite_create("snapfile: real adapters");
	TCase *tc = tcase_create("take-restore");
	tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_take_write_read_restore);
	suite_add_tcase(s, tc);
	return s;
}
