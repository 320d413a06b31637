/*
 * The hand-built snapshot of tests/sim/snap_fixture.h: every table of a snapshot
 * with rows whose report is known line by line.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/snap_fixture.h"

struct gpusim_snapshot_alloc snap_alloc_row(uint32_t handle, uint32_t dev, uint64_t size, uint32_t seg,
					    uint64_t offset, const char *name)
{
	struct gpusim_snapshot_alloc a;
	memset(&a, 0, sizeof(a));
	a.handle = handle;
	a.device = dev;
	a.size = size;
	a.segment = seg;
	a.offset = seg == SYS ? 0 : offset;
	a.gpu_address = seg == SYS ? 0 : seg == GART ? HW_GART_BASE_DEFAULT + offset : offset;
	a.priority = D3DDDI_ALLOCATIONPRIORITY_NORMAL;
	snprintf(a.name, sizeof(a.name), "%s", name);
	return a;
}

struct gpusim_event snap_event(uint32_t type, uint64_t t, uint32_t h, uint32_t dev, uint32_t from, uint32_t to,
			       uint64_t offset, uint64_t size, uint64_t value, uint32_t cause)
{
	struct gpusim_event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.cause = cause;
	e.time_ns = t;
	e.device = dev;
	e.allocation = h;
	e.from_segment = from;
	e.segment = to;
	e.offset = offset;
	e.size = size;
	e.value = value;
	e.priority = D3DDDI_ALLOCATIONPRIORITY_NORMAL;
	e.preferred = VIS;
	return e;
}

struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	ck_assert_ptr_nonnull(f);
	struct gpusim_snapshot *s = &f->s;
	s->version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&s->cfg);
	s->cfg.seed = 7;
	s->time_ns = 1234567;
	s->stats.time_ns = s->time_ns;
	s->stats.allocations = 5;
	s->stats.evictions = 9;
	s->stats.page_ins = 4;
	s->stats.moves = 2;
	s->stats.bytes_in = 3 * MiB;
	s->stats.bytes_out = 5 * MiB;
	s->stats.faults = 1;
	s->stats.submits = 30;
	s->stats.usage_local = 3 * MiB;
	s->stats.budget_local = 240 * MiB;
	s->stats.usage_nonlocal = 1 * MiB;
	s->stats.budget_nonlocal = 511 * MiB;
	s->stats.commit_pages = 1536;
	s->stats.seg[VIS] = (struct gpusim_segment_stats){ 60 * MiB, 1 * MiB, 59 * MiB, 1, 0.0 };
	s->stats.seg[INV] = (struct gpusim_segment_stats){ 192 * MiB, 2 * MiB, 190 * MiB, 1, 0.0 };
	s->stats.seg[GART] = (struct gpusim_segment_stats){ 511 * MiB, 1 * MiB, 510 * MiB, 1, 0.0 };

	f->regs[0] = (struct gpusim_snapshot_reg){ HW_REG_ID, HW_DEVICE_ID };
	f->regs[1] = (struct gpusim_snapshot_reg){ HW_REG_VRAM_SIZE_LO, 256 * MiB };
	f->regs[2] = (struct gpusim_snapshot_reg){ HW_REG_GART_CTRL, HW_GART_CTRL_ENABLE };
	f->regs[3] = (struct gpusim_snapshot_reg){ HW_REG_FAULT_CAUSE, HW_FAULT_GART_INVALID };
	f->regs[4] = (struct gpusim_snapshot_reg){ 0x0f0, 0xdeadbeef }; /* no register there */
	f->regs[5] = (struct gpusim_snapshot_reg){ HW_REG_RING(1, HW_RING_WPTR), 0x80 };
	s->regs = f->regs;
	s->nregs = 6;

	/* Pages 0-3 -> pfns 0x100-0x103 RW; page 4 -> 0x104 read-only; pages 5-6 ->
	 * 0x200-0x201 RW; page 9 -> 0x202 RW (a hole before it). */
	uint64_t rw = HW_GART_VALID | HW_GART_READ | HW_GART_WRITE, ro = HW_GART_VALID | HW_GART_READ;
	size_t n = 0;
	for (uint64_t p = 0; p < 4; p++)
		f->gart[n++] = (struct gpusim_snapshot_gart){ p, HW_GART_ENTRY(0x100 + p, rw) };
	f->gart[n++] = (struct gpusim_snapshot_gart){ 4, HW_GART_ENTRY(0x104, ro) };
	f->gart[n++] = (struct gpusim_snapshot_gart){ 5, HW_GART_ENTRY(0x200, rw) };
	f->gart[n++] = (struct gpusim_snapshot_gart){ 6, HW_GART_ENTRY(0x201, rw) };
	f->gart[n++] = (struct gpusim_snapshot_gart){ 9, HW_GART_ENTRY(0x202, rw) };
	s->gart = f->gart;
	s->ngart = n;

	f->allocs[0] = snap_alloc_row(H(1), DEV0, 2 * MiB, INV, 0, "rt1");
	f->allocs[1] = snap_alloc_row(H(2), DEV0, 1 * MiB, VIS, 0x100000, "tex0");
	f->allocs[1].flags = GPUSIM_ALLOC_CPU_VISIBLE | GPUSIM_ALLOC_PINNED;
	f->allocs[1].lock_count = 1;
	f->allocs[1].residency_count = 2;
	f->allocs[1].priority = D3DDDI_ALLOCATIONPRIORITY_HIGH;
	f->allocs[2] = snap_alloc_row(H(3), DEV1, 1 * MiB, GART, 0x4000, "ui0");
	f->allocs[3] = snap_alloc_row(H(4), DEV1, 64 * KiB, SYS, 0, "evicted");
	f->allocs[3].priority = 0x12345678;
	f->allocs[4] = snap_alloc_row(H(5), DEV1, 4 * KiB, VIS, 0, "");
	s->allocs = f->allocs;
	s->nallocs = 5;

	n = 0;
	f->events[n++] = snap_event(GPUSIM_EV_CREATE, 1000, H(5), DEV1, GPUSIM_SEG_NONE, VIS, 0, 4 * KiB, 0,
				    GPUSIM_CAUSE_CREATE);
	f->events[n++] = snap_event(GPUSIM_EV_EVICT, 2000, H(4), DEV1, INV, SYS, 0x300000, 64 * KiB, 64 * KiB,
				    GPUSIM_CAUSE_PRESSURE);
	f->events[n++] = snap_event(GPUSIM_EV_SUBMIT, 3000, 0, DEV0, 0, 0, 0, 0, 17, GPUSIM_CAUSE_RENDER);
	f->events[n++] = snap_event(GPUSIM_EV_FAULT, 4000, 0, 0, 0, 0, HW_GART_BASE_DEFAULT + 0x7000, 0, 0,
				    HW_FAULT_GART_INVALID);
	f->events[1].priority = f->allocs[3].priority; /* the events agree with the table */
	s->events = f->events;
	s->nevents = (uint32_t)n;

	memset(f->mem[0], 0xab, sizeof(f->mem[0]));
	memset(f->mem[1], 0xcd, sizeof(f->mem[1]));
	f->ranges[0] = (struct gpusim_snapshot_range){ 0x100000, 8 * KiB, f->mem[0] };
	f->ranges[1] = (struct gpusim_snapshot_range){ GPUSIM_SYSMEM_BUS_BASE + 0x100 * 4096ull, 8 * KiB, f->mem[1] };
	s->ranges = f->ranges;
	s->nranges = 2;
	return f;
}
