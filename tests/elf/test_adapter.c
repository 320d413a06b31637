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
#include "tests/elf/forge.h"
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

static uint32_t reg(const struct gpusim_snapshot *s, uint32_t offset)
{
	for (uint32_t i = 0; i < s->nregs; i++)
		if (s->regs[i].offset == offset)
			return s->regs[i].value;
	ck_abort_msg("no register 0x%x in the snapshot", offset);
	return 0;
}

static uint64_t le_get(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The file offset of the byte at bus address `addr` (a PT_LOAD holds it). */
static uint64_t file_offset_of(const uint8_t *file, size_t len, uint64_t addr)
{
	uint64_t phoff = le_get(file + 32, 8), phnum = le_get(file + 56, 2);
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + 56 * i;
		uint64_t off = le_get(ph + 8, 8), paddr = le_get(ph + 24, 8), size = le_get(ph + 32, 8);
		if (le_get(ph, 4) == 1 && addr >= paddr && addr - paddr < size) {
			ck_assert_uint_le(off + size, len);
			return off + (addr - paddr);
		}
	}
	ck_abort_msg("no range holds bus address 0x%llx", (unsigned long long)addr);
	return 0;
}

static unsigned overruns;

static void count_overruns(void *opaque, const struct gpusim_event *ev)
{
	(void)opaque;
	if (ev->type == GPUSIM_EV_FAULT && ev->cause == HW_FAULT_PKT_OVERRUN)
		overruns++;
}

/*
 * A snapshot taken while the render ring still has work at RPTR, whose first
 * packet is then replaced in the file by a NOP header claiming 2000 dwords: a
 * device state no driver would leave, which the reader cannot judge (the bytes
 * are memory). Restored, the device faults on it (PKT_OVERRUN) and skips to WPTR,
 * no further: gpusim_idle returns, the allocation the pending FILL named keeps
 * its bytes, the others too, and the next submission runs. Before the command
 * processor stopped at WPTR this restore hung in gpusim_idle (issue 15).
 */
START_TEST(test_restore_malformed_pending_ring)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=2M,gart=4M,sysmem=64M,seed=7");
	D3DKMT_HANDLE a, b;
	struct gpusim_alloc_desc da = kt_desc(65536, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	struct gpusim_alloc_desc db = kt_desc(65536, 0, GPUSIM_SEG_INVISIBLE, 0);
	ck_assert_int_eq(kt_alloc_on(g.device, &da, &a), STATUS_SUCCESS);
	ck_assert_int_eq(kt_alloc_on(g.device, &db, &b), STATUS_SUCCESS);
	ck_assert_int_eq(kt_write(g.device, a, 65536, 1), STATUS_SUCCESS);
	ck_assert_int_eq(kt_write(g.device, b, 65536, 2), STATUS_SUCCESS);
	kt_idle(&g);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, a, 65536, 0x77777777);
	ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS); /* queued, not run */
	struct gpusim_snapshot *t = take_to(g.luid, "pending.elf");
	uint32_t rptr = reg(t, HW_REG_RING(0, HW_RING_RPTR)), wptr = reg(t, HW_REG_RING(0, HW_RING_WPTR));
	uint64_t base = reg(t, HW_REG_RING(0, HW_RING_BASE_LO)) | (uint64_t)reg(t, HW_REG_RING(0, HW_RING_BASE_HI)) << 32;
	uint64_t faults = t->stats.faults;
	ck_assert_uint_ne(rptr, wptr);
	gpusim_snapshot_free(t);

	size_t len;
	uint8_t *file = scratch_slurp(scratch_path("pending.elf"), &len);
	forge_le32(file + file_offset_of(file, len, base + rptr), HW_PKT_HEADER(HW_PKT_NOP, 0, 2000));
	const char *bad = scratch_file("pending-nop2000.elf", file, len);
	free(file);

	D3DKMT_HANDLE old_device = g.device;
	gpusim_reset();
	struct gpusim_snapshot *snap = read_ok(bad);
	struct gpusim_handle_map *map;
	size_t nmap;
	char err[256] = "";
	NTSTATUS st = gpusim_snapshot_restore(snap, &g.luid, &map, &nmap, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%x %s", (unsigned)st, err);
	D3DKMT_HANDLE device = remap(map, nmap, old_device);
	a = remap(map, nmap, a);
	b = remap(map, nmap, b);
	free(map);
	snapfile_free(snap);
	overruns = 0;
	ck_assert_int_eq(gpusim_subscribe(g.luid, count_overruns, NULL), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_eq(overruns, 1);
	struct gpusim_stats s;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &s), STATUS_SUCCESS);
	ck_assert_uint_eq(s.faults, faults + 1);
	ck_assert(kt_verify(device, b, 65536, 2));

	/* The next submission's fence covers the one skipped with the bad packet. */
	g.device = device;
	D3DKMT_CREATECONTEXT cc = { .hDevice = device };
	ck_assert_int_eq(D3DKMTCreateContext(&cc), STATUS_SUCCESS);
	g.ctx = cc;
	g.context = cc.hContext;
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, b, 4096, 0x600d600d);
	ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_msg(kt_verify(device, a, 65536, 1), "the FILL replaced by the bad packet ran");
	D3DKMT_LOCK2 lk = { .hDevice = device, .hAllocation = b };
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	for (unsigned i = 0; i < 1024; i++)
		ck_assert_uint_eq(((const uint32_t *)lk.pData)[i], 0x600d600du);
	D3DKMT_UNLOCK2 ul = { .hDevice = device, .hAllocation = b };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	gpusim_unsubscribe(g.luid, count_overruns, NULL);
	kt_assert_invariants(&g);
	gpusim_reset();
}
END_TEST

/* The same file with a range's data moved onto the notes: refused by name. */
START_TEST(test_range_over_notes_refused)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=2M,gart=4M,sysmem=64M,seed=7");
	D3DKMT_HANDLE a;
	struct gpusim_alloc_desc da = kt_desc(65536, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	ck_assert_int_eq(kt_alloc_on(g.device, &da, &a), STATUS_SUCCESS);
	ck_assert_int_eq(kt_write(g.device, a, 65536, 1), STATUS_SUCCESS);
	gpusim_snapshot_free(take_to(g.luid, "notes.elf"));
	gpusim_reset();
	size_t len;
	uint8_t *file = scratch_slurp(scratch_path("notes.elf"), &len);
	uint64_t phoff = le_get(file + 32, 8);
	uint64_t note_off = le_get(file + phoff + 8, 8), note_size = le_get(file + phoff + 32, 8);
	ck_assert_uint_eq(le_get(file + phoff, 4), 4); /* PT_NOTE first */
	uint64_t inside = (note_off + 4095) & ~4095ull;
	ck_assert_msg(inside < note_off + note_size, "the notes (0x%llx bytes at 0x%llx) span a page boundary",
		      (unsigned long long)note_size, (unsigned long long)note_off);
	forge_le64(file + phoff + 56 + 8, inside);
	const char *bad = scratch_file("range-on-notes.elf", file, len);
	free(file);
	struct gpusim_snapshot *snap = NULL;
	char err[512] = "";
	ck_assert_int_eq(snapfile_read(bad, &snap, err, sizeof(err)), -1);
	ck_assert_ptr_null(snap);
	ck_assert_msg(!strncmp(err, bad, strlen(bad)) && strstr(err, ": range 0 (program header 1): its data at file "
								      "offset ") &&
			      strstr(err, "overlaps the note segment"),
		      "%s", err);
}
END_TEST

Suite *elf_adapter_suite(void)
{
	Suite *s = suite_create("snapfile: real adapters");
	TCase *tc = tcase_create("take-restore");
	tcase_add_checked_fixture(tc, scratch_setup, scratch_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_take_write_read_restore);
	tcase_add_test(tc, test_restore_malformed_pending_ring);
	tcase_add_test(tc, test_range_over_notes_refused);
	suite_add_tcase(s, tc);
	return s;
}
