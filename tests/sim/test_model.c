/*
 * The residency model behind the viewer (sim/view/model.h): hand-made event
 * sequences with known outcomes, recordings and replays, a scenario whose model
 * must agree with the manager's own statistics, and the JSON dump read back with
 * jansson.
 */
#include <config.h>

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/scenario/scenario.h"
#include "sim/view/model.h"
#include "tests/renaming.h"
#include "tests/sim/sim_suites.h"

#define KiB 1024ull
#define MiB (1024ull * 1024ull)

#define VIS GPUSIM_SEG_VISIBLE
#define INV GPUSIM_SEG_INVISIBLE
#define GART GPUSIM_SEG_GART
#define SYS GPUSIM_SEG_SYS
#define VRAM2 GPUSIM_SEG_VRAM2

#define DEV0 0x40001001u
#define DEV1 0x40001041u
/* Handles as the kernel makes them: 0x40000000 | index << 6 | generation. */
#define H(i) (0x40000000u | (uint32_t)(i) << 6 | 1u)

/* An adapter of 8 MiB visible, 24 MiB invisible, 16 MiB GART. */
static struct gpusim_trace_adapter adapter(void)
{
	struct gpusim_trace_adapter ad;
	memset(&ad, 0, sizeof(ad));
	ad.vram = 32 * MiB;
	ad.visible = 8 * MiB;
	ad.gart = 16 * MiB;
	ad.sysmem = 256 * MiB;
	ad.seg_size[VIS] = 8 * MiB;
	ad.seg_size[INV] = 24 * MiB;
	ad.seg_size[GART] = 16 * MiB;
	ad.budget_local = 32 * MiB;
	ad.budget_nonlocal = 16 * MiB;
	strcpy(ad.policy, "priority-lru");
	return ad;
}

static uint64_t clock_ns;

static struct gpusim_trace_item event(uint32_t type, uint32_t alloc, uint32_t dev, uint32_t from, uint32_t to,
				      uint64_t offset, uint64_t size, uint64_t value, uint32_t cause)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	it.event.type = type;
	it.event.cause = cause;
	it.event.time_ns = clock_ns += 100;
	it.event.device = dev;
	it.event.allocation = alloc;
	it.event.from_segment = from;
	it.event.segment = to;
	it.event.offset = offset;
	it.event.size = size;
	it.event.value = value;
	it.event.priority = D3DDDI_ALLOCATIONPRIORITY_NORMAL;
	it.event.preferred = to == SYS ? INV : to;
	return it;
}

static struct gpusim_trace_item name_item(uint32_t alloc, uint32_t dev, const char *name)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_NAME;
	it.allocation = alloc;
	it.device = dev;
	snprintf(it.name, sizeof(it.name), "%s", name);
	return it;
}

/* Apply and keep: every helper below both changes the model and records the item,
 * so a test can replay what it applied. */
struct fixture {
	struct vm_model m;
	struct vm_recording r;
};

static void fx_init(struct fixture *f)
{
	struct gpusim_trace_adapter ad = adapter();
	clock_ns = 0;
	vm_init(&f->m, &ad);
	vm_recording_init(&f->r);
	f->r.adapter = ad;
}

static void fx_free(struct fixture *f)
{
	vm_free(&f->m);
	vm_recording_free(&f->r);
}

static void put(struct fixture *f, struct gpusim_trace_item it)
{
	vm_apply(&f->m, &it);
	vm_recording_add(&f->r, &it);
}

static void create(struct fixture *f, uint32_t h, uint32_t dev, uint32_t seg, uint64_t off, uint64_t size)
{
	put(f, event(GPUSIM_EV_CREATE, h, dev, GPUSIM_SEG_NONE, seg, off, size, 0, GPUSIM_CAUSE_CREATE));
}

static void destroy(struct fixture *f, uint32_t h, uint32_t dev, uint32_t seg, uint64_t size)
{
	put(f, event(GPUSIM_EV_DESTROY, h, dev, seg, GPUSIM_SEG_NONE, 0, size, 0, GPUSIM_CAUSE_DESTROY));
}

/* A paging event as the manager reports it: value = the bytes the copy moved. */
static void paging(struct fixture *f, uint32_t type, uint32_t h, uint32_t dev, uint32_t from, uint32_t to,
		   uint64_t off, uint64_t size, uint64_t copied, uint32_t cause)
{
	put(f, event(type, h, dev, from, to, off, size, copied, cause));
}

static const struct vm_alloc *find(const struct vm_model *m, uint32_t h)
{
	const struct vm_alloc *a = vm_find(m, h);
	ck_assert_msg(a != NULL, "no allocation 0x%x", h);
	return a;
}

/* Per-device usage adds up to the segment totals, and the sys column to the
 * evicted live allocations. */
static void ck_devices_add_up(const struct vm_model *m)
{
	for (uint32_t s = VIS; s <= GPUSIM_SEG_MAX; s++) {
		uint64_t by_dev = 0, by_alloc = 0;
		uint32_t count = 0;
		for (size_t i = 0; i < m->ndevices; i++)
			by_dev += m->devices[i].used[s];
		for (size_t i = 0; i < m->nallocs; i++)
			if (m->allocs[i].live && m->allocs[i].seg == s) {
				by_alloc += m->allocs[i].size;
				count++;
			}
		ck_assert_uint_eq(by_dev, by_alloc);
		if (s != SYS) {
			ck_assert_uint_eq(m->seg[s].used, by_alloc);
			ck_assert_uint_eq(m->seg[s].count, count);
		}
	}
}

static char *dump(const struct vm_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(vm_dump_json(m, f), 0);
	fclose(f);
	return buf;
}

/* ---- applying events ------------------------------------------------------------- */

START_TEST(test_create_places_by_event)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	create(&f, H(2), DEV0, INV, 2 * MiB, 4 * MiB);
	create(&f, H(3), DEV0, GART, 0, 64 * KiB);
	create(&f, H(4), DEV0, SYS, 0, 3 * MiB); /* no room: it lives in its backing store */

	const struct vm_alloc *a = find(&f.m, H(2));
	ck_assert_uint_eq(a->seg, INV);
	ck_assert_uint_eq(a->offset, 2 * MiB);
	ck_assert_uint_eq(a->size, 4 * MiB);
	ck_assert_uint_eq(a->device, DEV0);
	ck_assert(a->live);
	ck_assert(!a->locked);
	ck_assert_uint_eq(a->priority, D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	ck_assert_uint_eq(a->preferred, INV);
	ck_assert_uint_eq(a->nhistory, 1);
	ck_assert_uint_eq(a->history[0].type, GPUSIM_EV_CREATE);
	ck_assert_uint_eq(a->history[0].from, GPUSIM_SEG_NONE);
	ck_assert_uint_eq(a->history[0].to, INV);
	ck_assert_uint_eq(find(&f.m, H(4))->seg, SYS);

	ck_assert_uint_eq(f.m.seg[VIS].used, 1 * MiB);
	ck_assert_uint_eq(f.m.seg[INV].used, 4 * MiB);
	ck_assert_uint_eq(f.m.seg[GART].used, 64 * KiB);
	ck_assert_uint_eq(f.m.seg[VIS].count, 1);
	ck_assert_uint_eq(vm_usage_local(&f.m), 5 * MiB);
	ck_assert_uint_eq(vm_usage_nonlocal(&f.m), 64 * KiB);
	ck_assert_uint_eq(f.m.ndevices, 1);
	ck_assert_uint_eq(f.m.devices[0].used[SYS], 3 * MiB);
	ck_assert_uint_eq(f.m.nallocs, 4);
	ck_assert_uint_eq(f.m.events, 4);
	ck_assert_ptr_null(vm_find(&f.m, H(9)));
	ck_devices_add_up(&f.m);
	fx_free(&f);
}
END_TEST

START_TEST(test_names)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	ck_assert_str_eq(find(&f.m, H(1))->name, "#40000041");
	put(&f, name_item(H(1), DEV0, "ui0"));
	ck_assert_str_eq(find(&f.m, H(1))->name, "ui0");

	/* A name that comes before its CREATE waits for it. */
	put(&f, name_item(H(2), DEV0, "tex"));
	ck_assert_ptr_null(vm_find(&f.m, H(2)));
	create(&f, H(2), DEV0, INV, 0, 1 * MiB);
	ck_assert_str_eq(find(&f.m, H(2))->name, "tex");

	/* Too long for the model (63 bytes and a NUL): cut, but never inside a UTF-8
	 * character. */
	char longname[200];
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + 62, "\xc3\xa9"); /* "é" at bytes 62-63: the cut would split it */
	create(&f, H(3), DEV0, INV, 1 * MiB, 1 * MiB);
	put(&f, name_item(H(3), DEV0, longname));
	ck_assert_uint_eq(strlen(find(&f.m, H(3))->name), 62);
	strcpy(longname + 61, "\xc3\xa9"); /* at bytes 61-62: kept whole */
	put(&f, name_item(H(3), DEV0, longname));
	ck_assert_uint_eq(strlen(find(&f.m, H(3))->name), 63);
	ck_assert_int_eq(memcmp(find(&f.m, H(3))->name + 61, "\xc3\xa9", 2), 0);
	ck_assert_uint_eq(f.m.events, 7);

	/* Names whose CREATE never comes are kept within a bound; the early ones
	 * still find their allocation. */
	for (uint32_t i = 1000; i < 1300; i++) {
		char n[16];
		snprintf(n, sizeof(n), "stray%u", i);
		put(&f, name_item(H(i), DEV0, n));
	}
	create(&f, H(1000), DEV0, GART, 0, 1 * MiB);
	ck_assert_str_eq(find(&f.m, H(1000))->name, "stray1000");
	fx_free(&f);
}
END_TEST

START_TEST(test_devices_add_up)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	create(&f, H(2), DEV1, VIS, 1 * MiB, 2 * MiB);
	create(&f, H(3), DEV1, INV, 0, 4 * MiB);
	create(&f, H(4), DEV0, GART, 0, 1 * MiB);
	paging(&f, GPUSIM_EV_EVICT, H(3), DEV1, INV, SYS, 0, 4 * MiB, 4 * MiB, GPUSIM_CAUSE_PRESSURE);
	create(&f, H(5), DEV0, INV, 0, 8 * MiB);

	ck_assert_uint_eq(f.m.ndevices, 2);
	ck_assert_uint_eq(f.m.devices[0].device, DEV0); /* in order of first appearance */
	ck_assert_uint_eq(f.m.devices[1].device, DEV1);
	ck_assert_uint_eq(f.m.devices[0].used[VIS], 1 * MiB);
	ck_assert_uint_eq(f.m.devices[0].used[INV], 8 * MiB);
	ck_assert_uint_eq(f.m.devices[0].used[GART], 1 * MiB);
	ck_assert_uint_eq(f.m.devices[1].used[VIS], 2 * MiB);
	ck_assert_uint_eq(f.m.devices[1].used[INV], 0);
	ck_assert_uint_eq(f.m.devices[1].used[SYS], 4 * MiB);
	ck_devices_add_up(&f.m);

	destroy(&f, H(3), DEV1, SYS, 4 * MiB);
	destroy(&f, H(1), DEV0, VIS, 1 * MiB);
	ck_assert_uint_eq(f.m.devices[1].used[SYS], 0);
	ck_assert_uint_eq(f.m.devices[0].used[VIS], 0);
	ck_assert_uint_eq(f.m.seg[VIS].used, 2 * MiB);
	ck_devices_add_up(&f.m);
	fx_free(&f);
}
END_TEST

START_TEST(test_history_of_moves)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, INV, 4 * MiB, 1 * MiB);
	/* An EVICT still carries the offset it had: the model puts it at 0 in sys. */
	paging(&f, GPUSIM_EV_EVICT, H(1), DEV0, INV, SYS, 4 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	paging(&f, GPUSIM_EV_PAGE_IN, H(1), DEV0, SYS, INV, 6 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	paging(&f, GPUSIM_EV_MOVE, H(1), DEV0, INV, VIS, 2 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_LOCK);
	paging(&f, GPUSIM_EV_MOVE, H(1), DEV0, VIS, GART, 3 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_MAKE_RESIDENT);
	paging(&f, GPUSIM_EV_EVICT, H(1), DEV0, GART, SYS, 3 * MiB, 1 * MiB, 0, GPUSIM_CAUSE_EVICT_CALL);
	paging(&f, GPUSIM_EV_PLACE, H(1), DEV0, SYS, GART, 5 * MiB, 1 * MiB, 0, GPUSIM_CAUSE_RENDER);
	destroy(&f, H(1), DEV0, GART, 1 * MiB);

	const struct vm_alloc *a = find(&f.m, H(1));
	static const struct {
		uint32_t type, from, to, cause;
		uint64_t offset;
	} want[] = {
		{ GPUSIM_EV_CREATE, GPUSIM_SEG_NONE, INV, GPUSIM_CAUSE_CREATE, 4 * MiB },
		{ GPUSIM_EV_EVICT, INV, SYS, GPUSIM_CAUSE_PRESSURE, 0 },
		{ GPUSIM_EV_PAGE_IN, SYS, INV, GPUSIM_CAUSE_RENDER, 6 * MiB },
		{ GPUSIM_EV_MOVE, INV, VIS, GPUSIM_CAUSE_LOCK, 2 * MiB },
		{ GPUSIM_EV_MOVE, VIS, GART, GPUSIM_CAUSE_MAKE_RESIDENT, 3 * MiB },
		{ GPUSIM_EV_EVICT, GART, SYS, GPUSIM_CAUSE_EVICT_CALL, 0 },
		{ GPUSIM_EV_PLACE, SYS, GART, GPUSIM_CAUSE_RENDER, 5 * MiB },
		{ GPUSIM_EV_DESTROY, GART, GPUSIM_SEG_NONE, GPUSIM_CAUSE_DESTROY, 0 },
	};
	ck_assert_uint_eq(a->nhistory, sizeof(want) / sizeof(want[0]));
	for (uint32_t i = 0; i < a->nhistory; i++) {
		ck_assert_uint_eq(a->history[i].type, want[i].type);
		ck_assert_uint_eq(a->history[i].from, want[i].from);
		ck_assert_uint_eq(a->history[i].to, want[i].to);
		ck_assert_uint_eq(a->history[i].cause, want[i].cause);
		ck_assert_uint_eq(a->history[i].offset, want[i].offset);
		ck_assert_uint_eq(a->history[i].time_ns, 100 * (i + 1));
	}
	ck_assert(!a->live);
	ck_assert_uint_eq(a->created_ns, 100);
	ck_assert_uint_eq(a->last_use_ns, 700); /* the PLACE; a destroy is no use */
	for (uint32_t s = VIS; s <= GART; s++)
		ck_assert_uint_eq(f.m.seg[s].used, 0);
	ck_devices_add_up(&f.m);
	fx_free(&f);
}
END_TEST

START_TEST(test_counters_and_marks)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, INV, 0, 2 * MiB);
	create(&f, H(2), DEV0, GART, 0, 1 * MiB);
	/* Out of VRAM with its data: bytes_out. */
	paging(&f, GPUSIM_EV_EVICT, H(1), DEV0, INV, SYS, 0, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_PRESSURE);
	/* Into the GART from sys: a remap, nothing copied. */
	paging(&f, GPUSIM_EV_PAGE_IN, H(1), DEV0, SYS, GART, 1 * MiB, 2 * MiB, 0, GPUSIM_CAUSE_RENDER);
	/* GART -> VRAM: bytes_in. */
	paging(&f, GPUSIM_EV_MOVE, H(1), DEV0, GART, VIS, 0, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_LOCK);
	/* VRAM -> VRAM: crosses no bus, counted neither in nor out, as the manager
	 * counts it. */
	paging(&f, GPUSIM_EV_MOVE, H(1), DEV0, VIS, INV, 0, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_RENDER);
	/* VRAM -> GART: out. */
	paging(&f, GPUSIM_EV_MOVE, H(1), DEV0, INV, GART, 4 * MiB, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_PRESSURE);
	/* A GART allocation never written: evicted without a copy. */
	paging(&f, GPUSIM_EV_EVICT, H(2), DEV0, GART, SYS, 0, 1 * MiB, 0, GPUSIM_CAUSE_PRESSURE);
	/* Paged into VRAM from sys: in. */
	paging(&f, GPUSIM_EV_PAGE_IN, H(2), DEV0, SYS, INV, 8 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);

	ck_assert_uint_eq(f.m.evictions, 2);
	ck_assert_uint_eq(f.m.page_ins, 2);
	ck_assert_uint_eq(f.m.moves, 3);
	ck_assert_uint_eq(f.m.bytes_in, 3 * MiB);
	ck_assert_uint_eq(f.m.bytes_out, 4 * MiB);

	put(&f, event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0x10000000000ull, 0, 3, 5));
	ck_assert_uint_eq(f.m.faults, 1);
	ck_assert_uint_eq(f.m.nmarks, 8);
	static const uint32_t types[] = { GPUSIM_EV_EVICT, GPUSIM_EV_PAGE_IN, GPUSIM_EV_MOVE, GPUSIM_EV_MOVE,
					  GPUSIM_EV_MOVE,  GPUSIM_EV_EVICT,   GPUSIM_EV_PAGE_IN, GPUSIM_EV_FAULT };
	uint64_t bytes = 0;
	for (size_t i = 0; i < f.m.nmarks; i++) {
		ck_assert_uint_eq(f.m.marks[i].type, types[i]);
		bytes += f.m.marks[i].bytes;
	}
	/* The timeline's traffic is every copy: what the counters count, plus the
	 * VRAM -> VRAM move, which crosses no bus. */
	ck_assert_uint_eq(bytes, f.m.bytes_in + f.m.bytes_out + 2 * MiB);
	ck_assert_uint_eq(f.m.marks[1].bytes, 0);
	ck_assert_uint_eq(f.m.marks[7].time_ns, f.m.now_ns);
	ck_devices_add_up(&f.m);
	fx_free(&f);
}
END_TEST

START_TEST(test_lock_submit_fault_removed_time)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	put(&f, event(GPUSIM_EV_LOCK, H(1), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0));
	ck_assert(find(&f.m, H(1))->locked);
	ck_assert_uint_eq(find(&f.m, H(1))->last_use_ns, 200);
	put(&f, event(GPUSIM_EV_UNLOCK, H(1), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0));
	ck_assert(!find(&f.m, H(1))->locked);

	put(&f, event(GPUSIM_EV_SUBMIT, 0, DEV0, 0, 0, 0, 0, 1, GPUSIM_CAUSE_RENDER));
	put(&f, event(GPUSIM_EV_SUBMIT, 0, DEV0, 0, 0, 0, 0, 2, GPUSIM_CAUSE_RENDER));
	put(&f, event(GPUSIM_EV_FENCE, 0, 0, 0, 0, 0, 0, 2, 0));
	ck_assert_uint_eq(f.m.submits, 2);

	/* A fault reports the time the GPU hit it, which may be before events already
	 * seen: the model's time never goes back. */
	struct gpusim_trace_item fault = event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0x1234000, 0, 3, 1);
	fault.event.time_ns = 50;
	put(&f, fault);
	ck_assert_uint_eq(f.m.faults, 1);
	ck_assert_uint_eq(f.m.now_ns, 600);

	/* The priority an event carries is the allocation's priority now. */
	struct gpusim_trace_item lock = event(GPUSIM_EV_LOCK, H(1), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0);
	lock.event.priority = D3DDDI_ALLOCATIONPRIORITY_LOW;
	put(&f, lock);
	ck_assert_uint_eq(find(&f.m, H(1))->priority, D3DDDI_ALLOCATIONPRIORITY_LOW);

	/* A BUDGET event gives a group's budget. */
	struct gpusim_trace_item budget = event(GPUSIM_EV_BUDGET, 0, 0, 0, 0, 1, 12 * MiB, 3 * MiB, 0);
	put(&f, budget);
	ck_assert_uint_eq(f.m.adapter.budget_nonlocal, 12 * MiB);
	ck_assert_uint_eq(f.m.adapter.budget_local, 32 * MiB);

	ck_assert(!f.m.device_removed);
	put(&f, event(GPUSIM_EV_DEVICE_REMOVED, 0, 0, 0, 0, 0, 0, 0, GPUSIM_CAUSE_INJECTED));
	ck_assert(f.m.device_removed);
	ck_assert_uint_eq(f.m.events, 10);
	fx_free(&f);
}
END_TEST

START_TEST(test_destroy_and_handle_reuse)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	put(&f, name_item(H(1), DEV0, "old"));
	put(&f, event(GPUSIM_EV_LOCK, H(1), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0));
	destroy(&f, H(1), DEV0, VIS, 1 * MiB);
	const struct vm_alloc *a = find(&f.m, H(1));
	ck_assert(!a->live);
	ck_assert(!a->locked);
	ck_assert_uint_eq(f.m.seg[VIS].used, 0);
	ck_assert_uint_eq(f.m.seg[VIS].count, 0);

	/* The manager places before it reports the creation: the PLACE of a handle
	 * the model does not know (or knows only dead) changes nothing. */
	paging(&f, GPUSIM_EV_PLACE, H(1), DEV0, SYS, INV, 0, 2 * MiB, 0, GPUSIM_CAUSE_CREATE);
	ck_assert_uint_eq(f.m.seg[INV].used, 0);
	create(&f, H(1), DEV0, INV, 0, 2 * MiB);
	a = find(&f.m, H(1));
	ck_assert(a->live);
	ck_assert_uint_eq(a->size, 2 * MiB);
	ck_assert_str_eq(a->name, "#40000041"); /* the old name was the old one's */
	ck_assert_uint_eq(f.m.nallocs, 2);
	ck_assert(!f.m.allocs[0].live);
	ck_assert_str_eq(f.m.allocs[0].name, "old");
	ck_assert_uint_eq(f.m.seg[INV].used, 2 * MiB);

	/* Events for the dead one's handle now go to the new one. */
	paging(&f, GPUSIM_EV_EVICT, H(1), DEV0, INV, SYS, 0, 2 * MiB, 0, GPUSIM_CAUSE_EVICT_CALL);
	ck_assert_uint_eq(find(&f.m, H(1))->seg, SYS);
	ck_assert_uint_eq(f.m.allocs[0].seg, VIS);
	ck_assert_uint_eq(f.m.allocs[0].nhistory, 2);

	/* A second CREATE for a live handle (its DESTROY lost): the first one ends. */
	create(&f, H(1), DEV0, GART, 0, 1 * MiB);
	ck_assert(!f.m.allocs[1].live);
	ck_assert_uint_eq(f.m.devices[0].used[SYS], 0);
	ck_assert_uint_eq(f.m.seg[GART].used, 1 * MiB);
	ck_devices_add_up(&f.m);
	fx_free(&f);
}
END_TEST

START_TEST(test_unknown_handle_still_counted)
{
	struct fixture f;
	fx_init(&f);
	/* A trace that starts after some creations: the manager's counters still
	 * counted these, so the model does too, without inventing allocations. */
	paging(&f, GPUSIM_EV_EVICT, H(7), DEV0, INV, SYS, 0, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	paging(&f, GPUSIM_EV_PAGE_IN, H(7), DEV0, SYS, VIS, 0, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	put(&f, event(GPUSIM_EV_LOCK, H(7), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0));
	destroy(&f, H(7), DEV0, VIS, 1 * MiB);
	ck_assert_uint_eq(f.m.evictions, 1);
	ck_assert_uint_eq(f.m.page_ins, 1);
	ck_assert_uint_eq(f.m.bytes_in, 1 * MiB);
	ck_assert_uint_eq(f.m.bytes_out, 1 * MiB);
	ck_assert_uint_eq(f.m.nallocs, 0);
	ck_assert_uint_eq(f.m.seg[VIS].used, 0);
	ck_assert_uint_eq(f.m.ndevices, 0);
	fx_free(&f);
}
END_TEST

/* DEMOTE and PROMOTE move an allocation like a MOVE, are named so in its history,
 * count apart from moves (bytes into VRAM from outside as in, out of VRAM as out,
 * VRAM to VRAM as neither), and mark the timeline by kind; a USE changes only the
 * last use. */
START_TEST(test_demote_promote_use)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 1 * MiB, 2 * MiB);
	create(&f, H(2), DEV0, VIS, 3 * MiB, 1 * MiB);
	paging(&f, GPUSIM_EV_DEMOTE, H(1), DEV0, VIS, INV, 8 * MiB, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_PRESSURE);
	const struct vm_alloc *a = find(&f.m, H(1));
	ck_assert_uint_eq(a->seg, INV);
	ck_assert_uint_eq(a->offset, 8 * MiB);
	ck_assert_uint_eq(f.m.seg[VIS].used, 1 * MiB);
	ck_assert_uint_eq(f.m.seg[INV].used, 2 * MiB);
	ck_assert_uint_eq(f.m.demotions, 1);
	ck_assert_uint_eq(f.m.promotions, 0);
	ck_assert_uint_eq(f.m.moves, 0);
	ck_assert_uint_eq(f.m.bytes_in, 0); /* inside VRAM: no bus crossed */
	ck_assert_uint_eq(f.m.bytes_out, 0);
	ck_devices_add_up(&f.m);

	/* A demotion that leaves VRAM (to the GART) is bytes out. */
	paging(&f, GPUSIM_EV_DEMOTE, H(2), DEV0, VIS, GART, 0, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	ck_assert_uint_eq(find(&f.m, H(2))->seg, GART);
	ck_assert_uint_eq(f.m.bytes_out, 1 * MiB);
	ck_assert_uint_eq(f.m.demotions, 2);

	uint64_t before_use = find(&f.m, H(1))->last_use_ns;
	uint32_t hist = find(&f.m, H(1))->nhistory;
	put(&f, event(GPUSIM_EV_USE, H(1), DEV0, INV, INV, 8 * MiB, 2 * MiB, 7, GPUSIM_CAUSE_RENDER));
	a = find(&f.m, H(1));
	ck_assert_uint_gt(a->last_use_ns, before_use);
	ck_assert_uint_eq(a->last_use_ns, clock_ns);
	ck_assert_uint_eq(a->nhistory, hist); /* a use is not a move */
	ck_assert_uint_eq(a->seg, INV);
	ck_assert_uint_eq(f.m.nmarks, 2);

	paging(&f, GPUSIM_EV_PROMOTE, H(1), DEV0, INV, VIS, 0, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_RENDER);
	paging(&f, GPUSIM_EV_PROMOTE, H(2), DEV0, GART, VIS, 2 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	a = find(&f.m, H(1));
	ck_assert_uint_eq(a->seg, VIS);
	ck_assert_uint_eq(a->offset, 0);
	ck_assert_uint_eq(f.m.promotions, 2);
	ck_assert_uint_eq(f.m.moves, 0);
	ck_assert_uint_eq(f.m.bytes_in, 1 * MiB); /* only the GART's one crossed the bus */
	ck_assert_uint_eq(f.m.seg[VIS].used, 3 * MiB);
	ck_assert_uint_eq(f.m.seg[INV].used, 0);
	ck_assert_uint_eq(f.m.seg[GART].used, 0);
	ck_devices_add_up(&f.m);

	static const struct {
		uint32_t type, from, to;
	} want[] = {
		{ GPUSIM_EV_CREATE, GPUSIM_SEG_NONE, VIS },
		{ GPUSIM_EV_DEMOTE, VIS, INV },
		{ GPUSIM_EV_PROMOTE, INV, VIS },
	};
	ck_assert_uint_eq(a->nhistory, 3);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(a->history[i].type, want[i].type);
		ck_assert_uint_eq(a->history[i].from, want[i].from);
		ck_assert_uint_eq(a->history[i].to, want[i].to);
	}
	ck_assert_str_eq(gpusim_event_name(a->history[1].type), "demote");
	ck_assert_str_eq(gpusim_event_name(a->history[2].type), "promote");
	/* Timeline marks by kind, with the bytes each copied. */
	static const uint32_t marks[] = { GPUSIM_EV_DEMOTE, GPUSIM_EV_DEMOTE, GPUSIM_EV_PROMOTE, GPUSIM_EV_PROMOTE };
	ck_assert_uint_eq(f.m.nmarks, 4);
	for (uint32_t i = 0; i < 4; i++)
		ck_assert_uint_eq(f.m.marks[i].type, marks[i]);
	ck_assert_uint_eq(f.m.marks[1].bytes, 1 * MiB);

	/* The JSON dump counts them, and a replay from the recording agrees. */
	char *js = dump(&f.m);
	json_error_t jerr;
	json_t *root = json_loads(js, 0, &jerr);
	ck_assert_msg(root != NULL, "%s", jerr.text);
	json_t *c = json_object_get(root, "counters");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "demotions")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "promotions")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "moves")), 0);
	json_t *h = json_object_get(json_array_get(json_object_get(root, "allocations"), 0), "history");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 1), "event")), "demote");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(h, 2), "event")), "promote");
	json_decref(root);
	free(js);
	struct vm_model m2;
	vm_replay(&m2, &f.r, f.r.nitems);
	ck_assert_uint_eq(m2.demotions, 2);
	ck_assert_uint_eq(m2.promotions, 2);
	ck_assert_uint_eq(find(&m2, H(1))->last_use_ns, find(&f.m, H(1))->last_use_ns);
	vm_free(&m2);
	fx_free(&f);
}
END_TEST

START_TEST(test_largest_free_with_holes)
{
	struct fixture f;
	fx_init(&f);
	vm_refresh(&f.m);
	ck_assert_uint_eq(f.m.seg[VIS].largest_free, 8 * MiB); /* empty: all of it */
	/* Invisible (24 MiB): [0,1) [3,4) [4,6) [10,11) MiB, created out of order.
	 * Holes: 1-3 (2 MiB), 6-10 (4 MiB), 11-24 (13 MiB). */
	create(&f, H(1), DEV0, INV, 10 * MiB, 1 * MiB);
	create(&f, H(2), DEV0, INV, 0, 1 * MiB);
	create(&f, H(3), DEV0, INV, 4 * MiB, 2 * MiB);
	create(&f, H(4), DEV0, INV, 3 * MiB, 1 * MiB);
	/* Visible (8 MiB): [1,2) [5,8): holes 0-1, 2-5 (3 MiB), none at the end. */
	create(&f, H(5), DEV1, VIS, 5 * MiB, 3 * MiB);
	create(&f, H(6), DEV0, VIS, 1 * MiB, 1 * MiB);
	/* GART (16 MiB): full. */
	create(&f, H(7), DEV0, GART, 0, 16 * MiB);
	vm_refresh(&f.m);
	ck_assert_uint_eq(f.m.seg[INV].largest_free, 13 * MiB);
	ck_assert_uint_eq(f.m.seg[VIS].largest_free, 3 * MiB);
	ck_assert_uint_eq(f.m.seg[GART].largest_free, 0);

	/* Filling the end leaves the 6-10 hole the largest; freeing [4,6) joins it
	 * to that hole: 4-10, 6 MiB. */
	create(&f, H(8), DEV0, INV, 11 * MiB, 13 * MiB);
	vm_refresh(&f.m);
	ck_assert_uint_eq(f.m.seg[INV].largest_free, 4 * MiB);
	destroy(&f, H(3), DEV0, INV, 2 * MiB);
	vm_refresh(&f.m);
	ck_assert_uint_eq(f.m.seg[INV].largest_free, 6 * MiB);
	/* Evicted allocations leave their range too. */
	paging(&f, GPUSIM_EV_EVICT, H(5), DEV1, VIS, SYS, 5 * MiB, 3 * MiB, 3 * MiB, GPUSIM_CAUSE_PRESSURE);
	paging(&f, GPUSIM_EV_EVICT, H(7), DEV0, GART, SYS, 0, 16 * MiB, 0, GPUSIM_CAUSE_PRESSURE);
	vm_refresh(&f.m);
	ck_assert_uint_eq(f.m.seg[VIS].largest_free, 6 * MiB);
	ck_assert_uint_eq(f.m.seg[GART].largest_free, 16 * MiB);
	fx_free(&f);
}
END_TEST

START_TEST(test_absent_segment)
{
	/* visible == vram: no invisible segment; it stays empty with no free block. */
	struct gpusim_trace_adapter ad = adapter();
	ad.visible = ad.vram;
	ad.seg_size[VIS] = 32 * MiB;
	ad.seg_size[INV] = 0;
	struct vm_model m;
	vm_init(&m, &ad);
	struct gpusim_trace_item it = event(GPUSIM_EV_CREATE, H(1), DEV0, 0, VIS, 0, 1 * MiB, 0, 1);
	vm_apply(&m, &it);
	vm_refresh(&m);
	ck_assert_uint_eq(m.seg[INV].size, 0);
	ck_assert_uint_eq(m.seg[INV].largest_free, 0);
	ck_assert_uint_eq(m.seg[VIS].largest_free, 31 * MiB);
	/* A corrupt segment id is taken as the backing store, never an index. */
	it = event(GPUSIM_EV_CREATE, H(2), DEV0, 0, 77, 0, 1 * MiB, 0, 1);
	vm_apply(&m, &it);
	ck_assert_uint_eq(vm_find(&m, H(2))->seg, SYS);
	vm_free(&m);
}
END_TEST

/* ---- two moments ------------------------------------------------------------------ */

static bool has(const uint32_t *v, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == h)
			return true;
	return false;
}

START_TEST(test_diff_two_moments)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 1 * MiB);
	create(&f, H(2), DEV0, INV, 0, 1 * MiB);
	create(&f, H(3), DEV0, INV, 1 * MiB, 1 * MiB);
	create(&f, H(4), DEV0, GART, 0, 1 * MiB);
	size_t then = f.r.nitems;
	paging(&f, GPUSIM_EV_EVICT, H(2), DEV0, INV, SYS, 0, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	paging(&f, GPUSIM_EV_MOVE, H(3), DEV0, INV, INV, 5 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	destroy(&f, H(1), DEV0, VIS, 1 * MiB);
	create(&f, H(5), DEV0, VIS, 0, 1 * MiB);
	destroy(&f, H(4), DEV0, GART, 1 * MiB);
	create(&f, H(4), DEV0, GART, 0, 1 * MiB); /* the same handle, another allocation */
	put(&f, event(GPUSIM_EV_LOCK, H(5), DEV0, VIS, VIS, 0, 1 * MiB, 0, 0)); /* not a move */

	struct vm_model before, after;
	vm_replay(&before, &f.r, then);
	vm_replay(&after, &f.r, f.r.nitems);
	struct vm_diff d;
	vm_diff(&before, &after, &d);
	ck_assert_uint_eq(d.nappeared, 2);
	ck_assert(has(d.appeared, d.nappeared, H(5)));
	ck_assert(has(d.appeared, d.nappeared, H(4)));
	ck_assert_uint_eq(d.nleft, 2);
	ck_assert(has(d.left, d.nleft, H(1)));
	ck_assert(has(d.left, d.nleft, H(4)));
	ck_assert_uint_eq(d.nmoved, 2);
	ck_assert(has(d.moved, d.nmoved, H(2)));
	ck_assert(has(d.moved, d.nmoved, H(3)));
	vm_diff_free(&d);

	/* The other way round, what appeared has left. */
	vm_diff(&after, &before, &d);
	ck_assert_uint_eq(d.nappeared, 2);
	ck_assert_uint_eq(d.nleft, 2);
	ck_assert(has(d.left, d.nleft, H(5)));
	ck_assert_uint_eq(d.nmoved, 2);
	vm_diff_free(&d);

	/* A moment against itself: nothing. */
	vm_diff(&after, &after, &d);
	ck_assert_uint_eq(d.nappeared + d.nleft + d.nmoved, 0);
	vm_diff_free(&d);
	vm_free(&before);
	vm_free(&after);
	fx_free(&f);
}
END_TEST

/* ---- recordings ------------------------------------------------------------------- */

/* A small history with every kind of item, the same each call. */
static void busy_history(struct fixture *f)
{
	fx_init(f);
	for (uint32_t i = 0; i < 6; i++) {
		create(f, H(i), i & 1 ? DEV1 : DEV0, i % 3 + 1, i * MiB, 1 * MiB);
		char n[16];
		snprintf(n, sizeof(n), "a%u", i);
		put(f, name_item(H(i), i & 1 ? DEV1 : DEV0, n));
	}
	paging(f, GPUSIM_EV_EVICT, H(1), DEV1, INV, SYS, 1 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	put(f, event(GPUSIM_EV_SUBMIT, 0, DEV0, 0, 0, 0, 0, 1, GPUSIM_CAUSE_RENDER));
	paging(f, GPUSIM_EV_PAGE_IN, H(1), DEV1, SYS, VIS, 7 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	paging(f, GPUSIM_EV_MOVE, H(2), DEV0, GART, INV, 9 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	put(f, event(GPUSIM_EV_LOCK, H(3), DEV1, VIS, VIS, 3 * MiB, 1 * MiB, 0, 0));
	destroy(f, H(4), DEV0, INV, 1 * MiB);
	put(f, event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0xdead000, 0, 2, 1));
	put(f, event(GPUSIM_EV_UNLOCK, H(3), DEV1, VIS, VIS, 3 * MiB, 1 * MiB, 0, 0));
	put(f, event(GPUSIM_EV_DEVICE_REMOVED, 0, 0, 0, 0, 0, 0, 0, GPUSIM_CAUSE_INJECTED));
}

START_TEST(test_replay_equals_apply)
{
	struct fixture f;
	busy_history(&f);
	struct gpusim_trace_adapter ad = adapter();
	for (size_t n = 0; n <= f.r.nitems + 1; n++) {
		struct vm_model step, replayed;
		vm_init(&step, &ad);
		for (size_t i = 0; i < n && i < f.r.nitems; i++)
			vm_apply(&step, &f.r.items[i]);
		vm_refresh(&step);
		vm_replay(&replayed, &f.r, n); /* n past the end: the end */
		char *a = dump(&step), *b = dump(&replayed);
		ck_assert_str_eq(a, b);
		ck_assert_uint_eq(step.nmarks, replayed.nmarks);
		ck_assert_uint_eq(replayed.events, n < f.r.nitems ? n : f.r.nitems);
		free(a);
		free(b);
		vm_free(&step);
		vm_free(&replayed);
	}
	/* The last moment is the model built as the items came. */
	vm_refresh(&f.m);
	struct vm_model end;
	vm_replay(&end, &f.r, f.r.nitems);
	char *a = dump(&f.m), *b = dump(&end);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	vm_free(&end);
	fx_free(&f);
}
END_TEST

START_TEST(test_recording_load_trace)
{
	struct fixture f;
	busy_history(&f);
	char path[] = "/tmp/gpusim-model-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &f.r.adapter);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < f.r.nitems; i++) {
		const struct gpusim_trace_item *it = &f.r.items[i];
		if (it->type == GPUSIM_TRACE_EVENT)
			ck_assert_int_eq(gpusim_trace_event(w, &it->event), 0);
		else
			ck_assert_int_eq(gpusim_trace_name(w, it->allocation, it->device, it->name), 0);
	}
	ck_assert_int_eq(gpusim_trace_close(w), 0);

	struct vm_recording r;
	char err[512] = "";
	ck_assert_msg(vm_recording_load(&r, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(r.nitems, f.r.nitems);
	ck_assert_uint_eq(r.adapter.seg_size[INV], 24 * MiB);
	ck_assert_str_eq(r.adapter.policy, "priority-lru");
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	vm_refresh(&f.m);
	char *a = dump(&f.m), *b = dump(&m);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	vm_free(&m);
	vm_recording_free(&r);

	/* Cut short: an error that names the file; the recording is left empty. */
	ck_assert_int_eq(truncate(path, 100), 0);
	ck_assert_int_eq(vm_recording_load(&r, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "'%s' does not name the file", err);
	ck_assert_uint_eq(r.nitems, 0);
	ck_assert_ptr_null(r.items);
	unlink(path);
	ck_assert_int_eq(vm_recording_load(&r, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, path) != NULL, "'%s' does not name the file", err);
	fx_free(&f);
}
END_TEST

/* ---- the second VRAM pool (pools=2: segment 5) ------------------------------------ */

/* The model's adapter with a second pool: invisible VRAM split in two halves. */
static void fx_init_two_pools(struct fixture *f)
{
	struct gpusim_trace_adapter ad = adapter();
	ad.seg_size[INV] = 12 * MiB;
	ad.seg_size[VRAM2] = 12 * MiB;
	clock_ns = 0;
	vm_init(&f->m, &ad);
	vm_recording_init(&f->r);
	f->r.adapter = ad;
}

START_TEST(test_vram2_place_demote_promote)
{
	struct fixture f;
	fx_init_two_pools(&f);
	ck_assert_uint_eq(f.m.seg[VRAM2].size, 12 * MiB);
	ck_assert_uint_eq(f.m.seg[SYS].size, 0); /* no segment */
	/* Placed there at creation (the PLACE, then the CREATE, as the manager says). */
	paging(&f, GPUSIM_EV_PLACE, H(1), DEV0, SYS, VRAM2, 1 * MiB, 2 * MiB, 0, GPUSIM_CAUSE_CREATE);
	create(&f, H(1), DEV0, VRAM2, 1 * MiB, 2 * MiB);
	const struct vm_alloc *a = find(&f.m, H(1));
	ck_assert_uint_eq(a->seg, VRAM2);
	ck_assert_uint_eq(a->offset, 1 * MiB);
	ck_assert_uint_eq(f.m.seg[VRAM2].used, 2 * MiB);
	ck_assert_uint_eq(f.m.seg[VRAM2].count, 1);
	ck_assert_uint_eq(vm_usage_local(&f.m), 2 * MiB); /* VRAM, not system memory */
	ck_assert_uint_eq(vm_usage_nonlocal(&f.m), 0);

	/* Demoted from invisible VRAM into the second pool: a move inside VRAM. */
	create(&f, H(2), DEV0, INV, 0, 1 * MiB);
	paging(&f, GPUSIM_EV_DEMOTE, H(2), DEV0, INV, VRAM2, 4 * MiB, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_PRESSURE);
	const struct vm_alloc *b = find(&f.m, H(2));
	ck_assert_uint_eq(b->seg, VRAM2);
	ck_assert_uint_eq(b->offset, 4 * MiB);
	ck_assert_uint_eq(f.m.seg[INV].used, 0);
	ck_assert_uint_eq(f.m.seg[VRAM2].used, 3 * MiB);
	ck_assert_uint_eq(f.m.seg[VRAM2].count, 2);
	ck_assert_uint_eq(vm_usage_local(&f.m), 3 * MiB);
	ck_assert_uint_eq(f.m.demotions, 1);
	ck_assert_uint_eq(f.m.bytes_in, 0);
	ck_assert_uint_eq(f.m.bytes_out, 0);
	const struct vm_move *mv = &b->history[b->nhistory - 1];
	ck_assert_uint_eq(mv->type, GPUSIM_EV_DEMOTE);
	ck_assert_uint_eq(mv->from, INV);
	ck_assert_uint_eq(mv->to, VRAM2);
	ck_assert_uint_eq(mv->offset, 4 * MiB);
	ck_assert_uint_eq(f.m.marks[f.m.nmarks - 1].type, GPUSIM_EV_DEMOTE);
	ck_devices_add_up(&f.m);
	ck_assert_uint_eq(f.m.devices[0].used[VRAM2], 3 * MiB);
	ck_assert_uint_eq(f.m.devices[0].used[SYS], 0);
	vm_refresh(&f.m);
	/* 0..1M free, H(1) at 1..3M, 3..4M free, H(2) at 4..5M, 7M free after. */
	ck_assert_uint_eq(f.m.seg[VRAM2].largest_free, 7 * MiB);

	/* Promoted back out of the pool. */
	paging(&f, GPUSIM_EV_PROMOTE, H(2), DEV0, VRAM2, INV, 0, 1 * MiB, 1 * MiB, GPUSIM_CAUSE_RENDER);
	ck_assert_uint_eq(find(&f.m, H(2))->seg, INV);
	ck_assert_uint_eq(f.m.seg[VRAM2].used, 2 * MiB);
	ck_assert_uint_eq(f.m.promotions, 1);
	/* Out of the pool to system memory is bytes out; back in, bytes in. */
	paging(&f, GPUSIM_EV_EVICT, H(1), DEV0, VRAM2, SYS, 1 * MiB, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_PRESSURE);
	ck_assert_uint_eq(find(&f.m, H(1))->seg, SYS);
	ck_assert_uint_eq(f.m.bytes_out, 2 * MiB);
	paging(&f, GPUSIM_EV_PAGE_IN, H(1), DEV0, SYS, VRAM2, 0, 2 * MiB, 2 * MiB, GPUSIM_CAUSE_RENDER);
	ck_assert_uint_eq(find(&f.m, H(1))->seg, VRAM2);
	ck_assert_uint_eq(f.m.bytes_in, 2 * MiB);
	ck_assert_uint_eq(vm_usage_local(&f.m), 3 * MiB);
	ck_devices_add_up(&f.m);

	/* The dump: a fourth segment, vram2, local; the allocation in it by name. */
	vm_refresh(&f.m);
	char *text = dump(&f.m);
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	ck_assert_msg(root != NULL, "%s", e.text);
	json_t *segs = json_object_get(root, "segments");
	ck_assert_uint_eq(json_array_size(segs), 4);
	json_t *v2 = json_array_get(segs, 3);
	ck_assert_int_eq(json_integer_value(json_object_get(v2, "id")), VRAM2);
	ck_assert_str_eq(json_string_value(json_object_get(v2, "name")), "vram2");
	ck_assert_str_eq(json_string_value(json_object_get(v2, "group")), "local");
	ck_assert_int_eq(json_integer_value(json_object_get(v2, "size")), 12 * MiB);
	ck_assert_int_eq(json_integer_value(json_object_get(v2, "used")), 2 * MiB);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(root, "usage"), "local")), 3 * MiB);
	json_t *dev = json_array_get(json_object_get(root, "devices"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(dev, "used"), "vram2")), 2 * MiB);
	json_t *al = json_array_get(json_object_get(root, "allocations"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(al, "segment")), "vram2");
	json_decref(root);
	free(text);

	/* Replayed from the recording: the same picture. */
	struct vm_model m;
	vm_replay(&m, &f.r, f.r.nitems);
	ck_assert_uint_eq(find(&m, H(1))->seg, VRAM2);
	ck_assert_uint_eq(m.seg[VRAM2].used, 2 * MiB);
	vm_free(&m);
	fx_free(&f);
}
END_TEST

/* One pool: the dump keeps its three segments and its devices their four keys. */
START_TEST(test_one_pool_dump_has_no_vram2)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, INV, 0, 1 * MiB);
	vm_refresh(&f.m);
	char *text = dump(&f.m);
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	ck_assert_msg(root != NULL, "%s", e.text);
	ck_assert_uint_eq(json_array_size(json_object_get(root, "segments")), 3);
	json_t *used = json_object_get(json_array_get(json_object_get(root, "devices"), 0), "used");
	ck_assert_ptr_null(json_object_get(used, "vram2"));
	ck_assert_uint_eq(json_object_size(used), 4);
	json_decref(root);
	free(text);
	fx_free(&f);
}
END_TEST

/* ---- a scenario, against the manager's own figures ------------------------------- */

static void parse(struct scn_script *s, const char *text)
{
	struct scn_error e;
	memset(s, 0, sizeof(*s));
	memset(&e, 0, sizeof(e));
	ck_assert_msg(scn_parse_string("m.gsim", text, strlen(text), s, &e) == 0, "parse: %u: %s", e.line, e.msg);
	ck_assert_msg(scn_check(s, &e) == 0, "check: %u: %s", e.line, e.msg);
}

static void on_adapter(void *ctx, LUID luid)
{
	ck_assert_int_eq(gpusim_trace_describe(luid, &((struct vm_recording *)ctx)->adapter), STATUS_SUCCESS);
}

static void on_item(void *ctx, const struct gpusim_trace_item *item)
{
	vm_recording_add(ctx, item);
}

/* Placement by preference, pressure evictions by priority and age, page-ins for
 * submissions, a lock that moves an allocation out of invisible VRAM, a GART
 * allocation, a free, a second device. Nothing written is left where the CPU
 * cannot reach it, so the runner's final integrity check moves nothing. */
static const char pressure_script[] =
	"adapter vram=16M visible=4M gart=8M sysmem=256M\n"
	"device other\n"
	"alloc ui0 size=1M cpu\n"
	"alloc ui1 size=1M cpu\n"
	"write ui0 seed=1\n"
	"write ui1 seed=2\n"
	"alloc g0 size=512K prefer=gart\n"
	"alloc o0 device=other size=1M prefer=vram\n"
	"repeat 12 {\n"
	"	alloc tex$i size=1M prefer=vram only=vram\n"
	"	gpu-fill tex$i value=$i\n"
	"}\n"
	"priority tex7 low\n"
	"submit tex0 tex1 tex2 tex3\n"
	"alloc big size=2M prefer=vram\n"
	"submit tex7\n"
	"free tex9\n"
	"submit device=other o0\n"
	"alloc late size=1M prefer=invisible\n"
	"gpu-fill late value=7\n"
	"write late seed=3\n";

START_TEST(test_scenario_matches_stats)
{
	struct scn_script s;
	parse(&s, pressure_script);
	struct vm_recording r;
	vm_recording_init(&r);
	struct scn_options opt = { .quiet = true, .on_adapter = on_adapter, .on_item = on_item, .ctx = &r };
	struct scn_result res;
	ck_assert_int_eq(scn_run(&s, &opt, &res), 0);
	ck_assert_uint_gt(r.nitems, 0);

	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	const struct gpusim_stats *st = &res.stats;
	ck_assert_uint_gt(st->evictions, 0);
	ck_assert_uint_gt(st->page_ins, 0);
	ck_assert_uint_gt(st->moves, 0);
	ck_assert_uint_eq(m.evictions, st->evictions);
	ck_assert_uint_eq(m.page_ins, st->page_ins);
	ck_assert_uint_eq(m.moves, st->moves);
	ck_assert_uint_eq(m.demotions, st->demotions);
	ck_assert_uint_eq(m.promotions, st->promotions);
	ck_assert_uint_eq(m.bytes_in, st->bytes_in);
	ck_assert_uint_eq(m.bytes_out, st->bytes_out);
	ck_assert_uint_eq(m.faults, st->faults);
	ck_assert_uint_eq(m.submits, st->submits);
	ck_assert_uint_eq(vm_usage_local(&m), st->usage_local);
	ck_assert_uint_eq(vm_usage_nonlocal(&m), st->usage_nonlocal);
	ck_assert_uint_eq(m.adapter.budget_local, st->budget_local);
	ck_assert_uint_eq(m.adapter.budget_nonlocal, st->budget_nonlocal);
	for (uint32_t g = VIS; g <= GART; g++) {
		ck_assert_uint_eq(m.seg[g].size, st->seg[g].size);
		ck_assert_uint_eq(m.seg[g].used, st->seg[g].used);
		ck_assert_uint_eq(m.seg[g].count, st->seg[g].allocations);
		ck_assert_uint_eq(m.seg[g].largest_free, st->seg[g].largest_free);
	}
	uint64_t live = 0;
	for (size_t i = 0; i < m.nallocs; i++)
		live += m.allocs[i].live;
	ck_assert_uint_eq(live, st->allocations);
	ck_assert_uint_eq(m.ndevices, 2);
	ck_devices_add_up(&m);
	ck_assert_uint_le(m.now_ns, st->time_ns);

	/* What the scenario itself says. */
	const struct vm_alloc *tex9 = NULL, *late = NULL;
	for (size_t i = 0; i < m.nallocs; i++) {
		if (!strcmp(m.allocs[i].name, "tex9"))
			tex9 = &m.allocs[i];
		if (!strcmp(m.allocs[i].name, "late"))
			late = &m.allocs[i];
	}
	ck_assert_ptr_nonnull(tex9);
	ck_assert(!tex9->live);
	ck_assert_ptr_nonnull(late);
	ck_assert_uint_eq(late->seg, VIS); /* the lock moved it out of invisible VRAM */
	ck_assert_uint_eq(late->history[late->nhistory - 1].type, GPUSIM_EV_MOVE);
	ck_assert_uint_eq(late->history[late->nhistory - 1].cause, GPUSIM_CAUSE_LOCK);

	/* vm_recording_run records the same items (the runner is deterministic),
	 * but under other handles: those of the first run stay dead in the process
	 * (kmt/handle.c), so the second run's are a renaming of them. */
	struct vm_recording again;
	ck_assert_int_eq(vm_recording_run(&again, &s, NULL), 0);
	ck_assert_uint_eq(again.nitems, r.nitems);
	ck_assert_int_eq(memcmp(&again.adapter, &r.adapter, sizeof(r.adapter)), 0);
	struct renaming rn = { 0 };
	for (size_t i = 0; i < r.nitems; i++) {
		ck_assert_uint_eq(again.items[i].type, r.items[i].type);
		if (r.items[i].type == GPUSIM_TRACE_EVENT) {
			struct gpusim_event e = again.items[i].event;
			ck_assert(renamed(&rn, r.items[i].event.device, e.device));
			ck_assert(renamed(&rn, r.items[i].event.allocation, e.allocation));
			e.device = r.items[i].event.device;
			e.allocation = r.items[i].event.allocation;
			ck_assert_int_eq(memcmp(&e, &r.items[i].event, sizeof(e)), 0);
		} else {
			ck_assert_str_eq(again.items[i].name, r.items[i].name);
		}
	}
	ck_assert_uint_gt(rn.n, 2);
	vm_recording_free(&again);
	vm_free(&m);
	vm_recording_free(&r);
	scn_script_free(&s);
}
END_TEST

/* tests/scenarios/two-pools.gsim without its snapshot: the first pool fills, the
 * second takes the rest, and a pinned allocation demotes t0 into the second. */
static const char two_pools_script[] =
	"adapter vram=12M visible=4M gart=8M pools=2\n"
	"repeat 6 {\n"
	"	alloc t$i size=1M\n"
	"	gpu-fill t$i value=$i\n"
	"}\n"
	"alloc x size=1M prefer=vram2\n"
	"alloc p size=1M only=invisible pinned\n"
	"expect t0 in vram2\n"
	"expect stat demotions == 1\n";

static const struct vm_alloc *by_name(const struct vm_model *m, const char *name)
{
	for (size_t i = 0; i < m->nallocs; i++)
		if (m->allocs[i].live && !strcmp(m->allocs[i].name, name))
			return &m->allocs[i];
	ck_abort_msg("no live allocation %s", name);
	return NULL;
}

/* A pools=2 scenario, recorded to a trace file and read back as the viewer reads
 * it: the second pool's allocations are in segment 5 and every figure of the
 * model, the pool's included, is the manager's own. */
START_TEST(test_two_pools_trace_matches_stats)
{
	struct scn_script s;
	parse(&s, two_pools_script);
	struct vm_recording r;
	vm_recording_init(&r);
	struct scn_options opt = { .quiet = true, .on_adapter = on_adapter, .on_item = on_item, .ctx = &r };
	struct scn_result res;
	ck_assert_int_eq(scn_run(&s, &opt, &res), 0);
	const struct gpusim_stats *st = &res.stats;
	ck_assert_uint_gt(st->seg[VRAM2].size, 0);
	ck_assert_uint_eq(r.adapter.seg_size[VRAM2], st->seg[VRAM2].size);

	char path[] = "/tmp/gpusim-model-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &r.adapter);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < r.nitems; i++) {
		const struct gpusim_trace_item *it = &r.items[i];
		if (it->type == GPUSIM_TRACE_EVENT)
			ck_assert_int_eq(gpusim_trace_event(w, &it->event), 0);
		else
			ck_assert_int_eq(gpusim_trace_name(w, it->allocation, it->device, it->name), 0);
	}
	ck_assert_int_eq(gpusim_trace_close(w), 0);
	struct vm_recording back;
	char err[512] = "";
	ck_assert_msg(vm_recording_load(&back, path, err, sizeof(err)) == 0, "%s", err);
	unlink(path);
	ck_assert_uint_eq(back.adapter.seg_size[VRAM2], st->seg[VRAM2].size);

	struct vm_model m;
	vm_replay(&m, &back, back.nitems);
	vm_refresh(&m);
	for (uint32_t g = VIS; g <= GPUSIM_SEG_MAX; g++) {
		if (g == SYS)
			continue;
		ck_assert_uint_eq(m.seg[g].size, st->seg[g].size);
		ck_assert_uint_eq(m.seg[g].used, st->seg[g].used);
		ck_assert_uint_eq(m.seg[g].count, st->seg[g].allocations);
		ck_assert_uint_eq(m.seg[g].largest_free, st->seg[g].largest_free);
	}
	ck_assert_uint_gt(m.seg[VRAM2].used, 0);
	ck_assert_uint_eq(vm_usage_local(&m), st->usage_local);
	ck_assert_uint_eq(m.demotions, st->demotions);
	ck_assert_uint_eq(m.demotions, 1);
	ck_assert_uint_eq(m.evictions, 0);
	ck_assert_uint_eq(m.bytes_in, st->bytes_in);
	ck_assert_uint_eq(m.bytes_out, st->bytes_out);
	ck_devices_add_up(&m);
	const struct vm_alloc *t0 = by_name(&m, "t0"), *x = by_name(&m, "x"), *p = by_name(&m, "p");
	ck_assert_uint_eq(t0->seg, VRAM2);
	ck_assert_uint_eq(t0->history[t0->nhistory - 1].type, GPUSIM_EV_DEMOTE);
	ck_assert_uint_eq(t0->history[t0->nhistory - 1].from, INV);
	ck_assert_uint_eq(x->seg, VRAM2);
	ck_assert_uint_eq(p->seg, INV);
	vm_free(&m);
	vm_recording_free(&back);
	vm_recording_free(&r);
	scn_script_free(&s);
}
END_TEST

/* A version-1 trace of a pools=2 adapter (tests/sim/data): no size for the second
 * pool, but its allocations are still in segment 5 and counted as VRAM. */
START_TEST(test_recording_load_version_1)
{
	const char *src = getenv("srcdir");
	char path[1024], err[512] = "";
	snprintf(path, sizeof(path), "%s/tests/sim/data/v1-two-pools.trace", src ? src : ".");
	struct vm_recording r;
	ck_assert_msg(vm_recording_load(&r, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(r.nitems, 19);
	ck_assert_uint_eq(r.adapter.seg_size[VRAM2], 0);
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	vm_refresh(&m);
	ck_assert_uint_eq(by_name(&m, "t4")->seg, VRAM2);
	ck_assert_uint_eq(by_name(&m, "t0")->seg, VRAM2);
	ck_assert_uint_eq(by_name(&m, "p")->seg, INV);
	ck_assert_uint_eq(m.seg[VRAM2].used, 2 * MiB);
	ck_assert_uint_eq(m.seg[VRAM2].count, 2);
	ck_assert_uint_eq(m.seg[VRAM2].largest_free, 0);
	ck_assert_uint_eq(vm_usage_local(&m), 6 * MiB);
	ck_assert_uint_eq(m.demotions, 1);
	ck_devices_add_up(&m);
	/* The dump shows the pool it found allocations in, size unknown (0). */
	char *text = dump(&m);
	ck_assert_msg(strstr(text, "\"name\": \"vram2\", \"group\": \"local\", \"size\": 0, \"used\": 2097152") !=
			      NULL,
		      "%s", text);
	free(text);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_recording_run_failures)
{
	struct scn_script s;
	char *buf = NULL;
	size_t len = 0;
	struct vm_recording r;

	/* A failed expectation: scn_run's 1, the failure on err, and still a recording. */
	parse(&s, "adapter vram=16M visible=4M gart=8M\n"
		  "alloc a size=1M prefer=gart\n"
		  "expect a in visible\n");
	FILE *err = open_memstream(&buf, &len);
	ck_assert_int_eq(vm_recording_run(&r, &s, err), 1);
	fclose(err);
	ck_assert_msg(strstr(buf, "m.gsim:3: ") != NULL, "no failure in '%s'", buf);
	ck_assert_uint_gt(r.nitems, 0);
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	ck_assert_uint_eq(m.seg[GART].used, 1 * MiB);
	ck_assert_str_eq(m.allocs[0].name, "a");
	vm_free(&m);
	vm_recording_free(&r);
	scn_script_free(&s);
	free(buf);

	/* No adapter at all: -1, nothing recorded, the runner's reason on err. */
	buf = NULL;
	parse(&s, "adapter gart=4K\nalloc a size=4K\n");
	err = open_memstream(&buf, &len);
	ck_assert_int_eq(vm_recording_run(&r, &s, err), -1);
	fclose(err);
	ck_assert_msg(strstr(buf, "adapter") != NULL, "no reason in '%s'", buf);
	ck_assert_uint_eq(r.nitems, 0);
	ck_assert_ptr_null(r.items);
	scn_script_free(&s);
	free(buf);
}
END_TEST

/* ---- the JSON dump ------------------------------------------------------------------ */

static json_t *get(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(v != NULL, "no \"%s\"", key);
	return v;
}

static json_int_t num(json_t *o, const char *key)
{
	json_t *v = get(o, key);
	ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = get(o, key);
	ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
	return json_string_value(v);
}

START_TEST(test_dump_json_parses)
{
	struct fixture f;
	busy_history(&f);
	/* Names are the trace's bytes: quotes, control characters, non-UTF-8. */
	put(&f, name_item(H(0), DEV0, "q\"uo\\te\ttab\x01\xff\xc3\xa9"));
	vm_refresh(&f.m);
	char *text = dump(&f.m);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	ck_assert_msg(root != NULL, "line %d: %s\n%s", je.line, je.text, text);

	ck_assert_int_eq(num(root, "version"), 1);
	ck_assert_int_eq(num(root, "time_ns"), (json_int_t)f.m.now_ns);
	ck_assert_int_eq(num(root, "items"), (json_int_t)f.r.nitems);
	ck_assert(json_is_true(get(root, "device_removed")));

	json_t *ad = get(root, "adapter");
	ck_assert_int_eq(num(ad, "vram"), 32 * MiB);
	ck_assert_int_eq(num(ad, "visible"), 8 * MiB);
	ck_assert_int_eq(num(ad, "gart"), 16 * MiB);
	ck_assert_int_eq(num(ad, "sysmem"), 256 * MiB);
	ck_assert_str_eq(str(ad, "policy"), "priority-lru");

	json_t *segs = get(root, "segments");
	ck_assert_uint_eq(json_array_size(segs), 3);
	static const char *const names[] = { "visible", "invisible", "gart" };
	for (size_t i = 0; i < 3; i++) {
		json_t *sg = json_array_get(segs, i);
		uint32_t id = (uint32_t)i + 1;
		ck_assert_int_eq(num(sg, "id"), id);
		ck_assert_str_eq(str(sg, "name"), names[i]);
		ck_assert_str_eq(str(sg, "group"), id == GART ? "nonlocal" : "local");
		ck_assert_int_eq(num(sg, "size"), (json_int_t)f.m.seg[id].size);
		ck_assert_int_eq(num(sg, "used"), (json_int_t)f.m.seg[id].used);
		ck_assert_int_eq(num(sg, "free"), (json_int_t)(f.m.seg[id].size - f.m.seg[id].used));
		ck_assert_int_eq(num(sg, "largest_free"), (json_int_t)f.m.seg[id].largest_free);
		ck_assert_int_eq(num(sg, "allocations"), f.m.seg[id].count);
		ck_assert_int_eq(num(sg, "budget"), id == GART ? 16 * MiB : 32 * MiB);
	}

	json_t *usage = get(root, "usage");
	ck_assert_int_eq(num(usage, "local"), (json_int_t)vm_usage_local(&f.m));
	ck_assert_int_eq(num(usage, "nonlocal"), (json_int_t)vm_usage_nonlocal(&f.m));
	ck_assert_int_eq(num(usage, "sys"), 0);
	ck_assert_int_eq(num(usage, "budget_local"), 32 * MiB);
	ck_assert_int_eq(num(usage, "budget_nonlocal"), 16 * MiB);

	json_t *ctr = get(root, "counters");
	ck_assert_int_eq(num(ctr, "evictions"), 1);
	ck_assert_int_eq(num(ctr, "page_ins"), 1);
	ck_assert_int_eq(num(ctr, "moves"), 1);
	ck_assert_int_eq(num(ctr, "bytes_in"), 2 * MiB);
	ck_assert_int_eq(num(ctr, "bytes_out"), 1 * MiB);
	ck_assert_int_eq(num(ctr, "faults"), 1);
	ck_assert_int_eq(num(ctr, "submits"), 1);

	json_t *devs = get(root, "devices");
	ck_assert_uint_eq(json_array_size(devs), 2);
	ck_assert_str_eq(str(json_array_get(devs, 0), "device"), "0x40001001");
	json_t *used = get(json_array_get(devs, 1), "used");
	ck_assert_int_eq(num(used, "visible"), (json_int_t)f.m.devices[1].used[VIS]);
	ck_assert_int_eq(num(used, "invisible"), (json_int_t)f.m.devices[1].used[INV]);
	ck_assert_int_eq(num(used, "gart"), (json_int_t)f.m.devices[1].used[GART]);
	ck_assert_int_eq(num(used, "sys"), (json_int_t)f.m.devices[1].used[SYS]);

	/* Live allocations only: a4 was destroyed. */
	json_t *allocs = get(root, "allocations");
	ck_assert_uint_eq(json_array_size(allocs), 5);
	json_t *a0 = json_array_get(allocs, 0);
	ck_assert_str_eq(str(a0, "name"), "q\"uo\\te\ttab\x01\xc3\xbf\xc3\xa9"); /* 0xff read as U+00FF */
	for (size_t i = 1; i < json_array_size(allocs); i++)
		ck_assert_str_ne(str(json_array_get(allocs, i), "name"), "a4");
	json_t *a1 = json_array_get(allocs, 1);
	ck_assert_str_eq(str(a1, "name"), "a1");
	ck_assert_str_eq(str(a1, "handle"), "0x40000041");
	ck_assert_str_eq(str(a1, "device"), "0x40001041");
	ck_assert_int_eq(num(a1, "size"), 1 * MiB);
	ck_assert_str_eq(str(a1, "segment"), "visible");
	ck_assert_int_eq(num(a1, "offset"), 7 * MiB);
	ck_assert_int_eq(num(a1, "priority"), D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	ck_assert_str_eq(str(a1, "preferred"), "visible");
	ck_assert(json_is_false(get(a1, "locked")));
	num(a1, "created_ns");
	num(a1, "last_use_ns");
	json_t *hist = get(a1, "history");
	ck_assert_uint_eq(json_array_size(hist), 3);
	json_t *h1 = json_array_get(hist, 1);
	ck_assert_str_eq(str(h1, "event"), "evict");
	ck_assert_str_eq(str(h1, "from"), "invisible");
	ck_assert_str_eq(str(h1, "to"), "sys");
	ck_assert_int_eq(num(h1, "offset"), 0);
	ck_assert_str_eq(str(h1, "cause"), "pressure");
	num(h1, "time_ns");
	ck_assert_str_eq(str(json_array_get(hist, 2), "event"), "page-in");
	ck_assert_str_eq(str(json_array_get(hist, 0), "from"), "none");
	json_decref(root);
	free(text);
	fx_free(&f);
}
END_TEST

START_TEST(test_dump_json_empty)
{
	/* A model with nothing in it is still the whole schema. */
	struct gpusim_trace_adapter ad = adapter();
	memset(ad.policy, 'x', sizeof(ad.policy)); /* a full name has no NUL */
	struct vm_model m;
	vm_init(&m, &ad);
	char *text = dump(&m);
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	ck_assert_msg(root != NULL, "line %d: %s\n%s", je.line, je.text, text);
	ck_assert_uint_eq(json_array_size(get(root, "allocations")), 0);
	ck_assert_uint_eq(json_array_size(get(root, "devices")), 0);
	ck_assert_uint_eq(json_array_size(get(root, "segments")), 3);
	ck_assert_str_eq(str(get(root, "adapter"), "policy"), "xxxxxxxxxxxxxxxx");
	ck_assert_int_eq(num(json_array_get(get(root, "segments"), 1), "largest_free"), 24 * MiB);
	json_decref(root);
	free(text);
	vm_free(&m);
}
END_TEST

/* ---- at scale ---------------------------------------------------------------------- */

START_TEST(test_many_allocations)
{
	/* 10^5 allocations of 4 KiB packed into the three segments, half of them
	 * destroyed again: look-ups stay right (the index is a hash table, so this
	 * takes well under a second) and the totals add up. */
	enum { N = 100000 };
	struct gpusim_trace_adapter ad = adapter();
	ad.seg_size[VIS] = ad.seg_size[INV] = ad.seg_size[GART] = N * 4 * KiB;
	struct vm_model m;
	vm_init(&m, &ad);
	struct gpusim_trace_item it;
	for (uint32_t i = 0; i < N; i++) {
		uint32_t seg = i % 3 + 1;
		it = event(GPUSIM_EV_CREATE, H(i), i % 7 ? DEV0 : DEV1, 0, seg, (uint64_t)(i / 3) * 4 * KiB, 4 * KiB, 0,
			   GPUSIM_CAUSE_CREATE);
		vm_apply(&m, &it);
	}
	for (uint32_t i = 0; i < N; i += 2) {
		it = event(GPUSIM_EV_DESTROY, H(i), i % 7 ? DEV0 : DEV1, i % 3 + 1, 0, 0, 4 * KiB, 0,
			   GPUSIM_CAUSE_DESTROY);
		vm_apply(&m, &it);
	}
	ck_assert_uint_eq(m.nallocs, N);
	for (uint32_t i = 0; i < N; i++) {
		const struct vm_alloc *a = vm_find(&m, H(i));
		ck_assert_ptr_nonnull(a);
		ck_assert_uint_eq(a->handle, H(i));
		ck_assert(a->live == (i % 2 == 1));
	}
	ck_assert_ptr_null(vm_find(&m, H(N)));
	uint64_t live = N / 2;
	ck_assert_uint_eq(m.seg[VIS].count + m.seg[INV].count + m.seg[GART].count, live);
	ck_assert_uint_eq(vm_usage_local(&m) + vm_usage_nonlocal(&m), live * 4 * KiB);
	ck_assert_uint_eq(m.ndevices, 2);
	ck_devices_add_up(&m);
	vm_refresh(&m);
	/* Every other 4 KiB slot is free; the largest block is the tail after the
	 * last live allocation, two thirds of the segment. */
	uint64_t end[GPUSIM_SEG_COUNT + 1] = { 0 };
	for (size_t i = 0; i < m.nallocs; i++) {
		const struct vm_alloc *a = &m.allocs[i];
		if (a->live && a->offset + a->size > end[a->seg])
			end[a->seg] = a->offset + a->size;
	}
	for (uint32_t s = VIS; s <= GART; s++) {
		ck_assert_uint_gt(m.seg[s].size - end[s], 4 * KiB);
		ck_assert_uint_eq(m.seg[s].largest_free, m.seg[s].size - end[s]);
	}
	vm_free(&m);
}
END_TEST

/* ---- GPU virtual addresses and monitored fences ------------------------------------ */

#define VA0 0x100000000ull /* 4 GiB: where the hand-made reservations go */

static void va_event(struct fixture *f, uint32_t type, uint32_t h, uint64_t va, uint64_t size, uint64_t value)
{
	put(f, event(type, h, DEV0, 0, 0, va, size, value, GPUSIM_CAUSE_NONE));
}

/* The mappings of h, checked against (base, size) pairs in address order. */
static void ck_ranges(const struct vm_model *m, uint32_t h, const uint64_t *want, size_t n)
{
	const struct vm_va_range *r[16];
	size_t got = vm_va_ranges_of(m, h, r, 16);
	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(r[i]->base == want[2 * i] && r[i]->size == want[2 * i + 1],
			      "mapping %zu of 0x%x: 0x%llx +0x%llx, expected 0x%llx +0x%llx", i, h,
			      (unsigned long long)r[i]->base, (unsigned long long)r[i]->size,
			      (unsigned long long)want[2 * i], (unsigned long long)want[2 * i + 1]);
		ck_assert_uint_eq(r[i]->handle, h);
	}
}

START_TEST(test_va_map_unmap_copy_free)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 64 * KiB);
	create(&f, H(2), DEV0, INV, 0, 64 * KiB);
	va_event(&f, GPUSIM_EV_VA_RESERVE, 0, VA0, 1 * MiB, D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO);
	va_event(&f, GPUSIM_EV_VA_MAP, H(1), VA0, 64 * KiB, 7);
	ck_assert_uint_eq(f.m.nva_res, 1);
	ck_assert_uint_eq(f.m.va_res[0].kind, D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO);
	ck_ranges(&f.m, H(1), (uint64_t[]){ VA0, 64 * KiB }, 1);
	ck_assert_uint_eq(vm_va_mapping_at(&f.m, VA0 + 4 * KiB)->fence, 7);
	/* A hole in the middle splits the mapping in two. */
	va_event(&f, GPUSIM_EV_VA_UNMAP, 0, VA0 + 16 * KiB, 16 * KiB, 8);
	ck_ranges(&f.m, H(1), (uint64_t[]){ VA0, 16 * KiB, VA0 + 32 * KiB, 32 * KiB }, 2);
	ck_assert_ptr_null(vm_va_mapping_at(&f.m, VA0 + 20 * KiB));
	ck_assert_ptr_nonnull(vm_va_reservation_at(&f.m, VA0 + 20 * KiB));
	/* A copy of [VA0, +64K) to VA0 + 512K carries both pieces and the hole. */
	va_event(&f, GPUSIM_EV_VA_COPY, 0, VA0 + 512 * KiB, 64 * KiB, VA0);
	ck_ranges(&f.m, H(1),
		  (uint64_t[]){ VA0, 16 * KiB, VA0 + 32 * KiB, 32 * KiB, VA0 + 512 * KiB, 16 * KiB,
				VA0 + 544 * KiB, 32 * KiB },
		  4);
	/* H(2) mapped over part of the copy replaces what was there. */
	va_event(&f, GPUSIM_EV_VA_MAP, H(2), VA0 + 544 * KiB, 8 * KiB, 9);
	ck_ranges(&f.m, H(1),
		  (uint64_t[]){ VA0, 16 * KiB, VA0 + 32 * KiB, 32 * KiB, VA0 + 512 * KiB, 16 * KiB,
				VA0 + 552 * KiB, 24 * KiB },
		  4);
	ck_ranges(&f.m, H(2), (uint64_t[]){ VA0 + 544 * KiB, 8 * KiB }, 1);
	/* A base-less map outside every reservation brings its own. */
	va_event(&f, GPUSIM_EV_VA_MAP, H(2), 0x200000000ull, 64 * KiB, 10);
	ck_assert_uint_eq(f.m.nva_res, 2);
	ck_assert_uint_eq(vm_va_reservation_at(&f.m, 0x200000000ull)->kind, VM_VA_IMPLICIT);
	/* Freeing the first reservation takes its mappings with it. */
	va_event(&f, GPUSIM_EV_VA_FREE, 0, VA0, 1 * MiB, 0);
	ck_ranges(&f.m, H(1), NULL, 0);
	ck_ranges(&f.m, H(2), (uint64_t[]){ 0x200000000ull, 64 * KiB }, 1);
	ck_assert_uint_eq(f.m.nva_res, 1);
	/* Destroying an allocation unmaps it; its reservation stays. */
	destroy(&f, H(2), DEV0, INV, 64 * KiB);
	ck_assert_uint_eq(f.m.nva_map, 0);
	ck_assert_uint_eq(f.m.nva_res, 1);
	/* The replay is the same model. */
	struct vm_model again;
	vm_replay(&again, &f.r, f.r.nitems);
	ck_assert_uint_eq(again.nva_res, f.m.nva_res);
	ck_assert_uint_eq(again.nva_map, f.m.nva_map);
	vm_free(&again);
	fx_free(&f);
}
END_TEST

/* Hostile VA events: wrapping ranges, empty ones, a copy from past 2^64, and more
 * ranges than the model keeps. Nothing breaks, the bound holds. */
START_TEST(test_va_hostile_events)
{
	struct fixture f;
	fx_init(&f);
	va_event(&f, GPUSIM_EV_VA_RESERVE, 0, UINT64_MAX - 4095, 8192, 0);
	va_event(&f, GPUSIM_EV_VA_MAP, H(9), 0x1000, 0, 0);
	va_event(&f, GPUSIM_EV_VA_COPY, 0, 0x1000, 8192, UINT64_MAX - 100);
	va_event(&f, GPUSIM_EV_VA_RESERVE, 0, 0, 4096, 0xffffffffffull);
	ck_assert_uint_eq(f.m.nva_map, 0);
	ck_assert_uint_eq(f.m.nva_res, 1);
	ck_assert_uint_ne(f.m.va_res[0].kind, VM_VA_IMPLICIT); /* a type never passes for implicit */
	for (uint64_t i = 0; i < VM_VA_MAX_RANGES + 10; i++)
		va_event(&f, GPUSIM_EV_VA_MAP, H(1), 0x10000000ull + i * 8192, 4096, i);
	ck_assert_uint_eq(f.m.nva_map, VM_VA_MAX_RANGES);
	ck_assert_uint_ge(f.m.va_dropped, 10);
	/* Sorted and disjoint still. */
	for (size_t i = 1; i < f.m.nva_map; i++)
		ck_assert_uint_ge(f.m.va_map[i].base, f.m.va_map[i - 1].base + f.m.va_map[i - 1].size);
	/* Copying thousands of pieces at once, then unmapping them all, is one
	 * pass each (the model stays linear on hostile bulk events). */
	uint64_t span = (VM_VA_MAX_RANGES + 10) * 8192ull;
	va_event(&f, GPUSIM_EV_VA_UNMAP, 0, 0x10000000ull + 4096, 8192, 0); /* room for one piece */
	va_event(&f, GPUSIM_EV_VA_COPY, 0, 0x800000000ull, span, 0x10000000ull);
	ck_assert_uint_eq(f.m.nva_map, VM_VA_MAX_RANGES);
	for (size_t i = 1; i < f.m.nva_map; i++)
		ck_assert_uint_ge(f.m.va_map[i].base, f.m.va_map[i - 1].base + f.m.va_map[i - 1].size);
	va_event(&f, GPUSIM_EV_VA_UNMAP, 0, 0x10000000ull + 8192, span, 0);
	ck_assert_uint_eq(vm_va_mapping_at(&f.m, 0x10000000ull)->size, 4096);
	ck_assert_ptr_null(vm_va_mapping_at(&f.m, 0x10000000ull + 8192));
	va_event(&f, GPUSIM_EV_VA_FREE, 0, 0, UINT64_MAX, 0);
	ck_assert_uint_eq(f.m.nva_map, 0);
	ck_assert_uint_eq(f.m.nva_res, 0);
	char *text = dump(&f.m);
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	ck_assert_msg(root != NULL, "%s", e.text);
	json_decref(root);
	free(text);
	fx_free(&f);
}
END_TEST

START_TEST(test_va_fault_and_fences)
{
	struct fixture f;
	fx_init(&f);
	create(&f, H(1), DEV0, VIS, 0, 64 * KiB);
	va_event(&f, GPUSIM_EV_VA_RESERVE, 0, VA0, 1 * MiB, 0);
	va_event(&f, GPUSIM_EV_VA_MAP, H(1), VA0, 64 * KiB, 3);
	/* A write through a read-only page says what the mapping's protection is;
	 * a fault of the GART is no VA fault. */
	put(&f, event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, VA0 + 4096, 0, 0, HW_FAULT_VM_READ_ONLY));
	put(&f, event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, VA0 + 128 * KiB, 0, 0, HW_FAULT_VM_NOT_PRESENT));
	put(&f, event(GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0x10000000000ull, 0, 0, HW_FAULT_GART_INVALID));
	ck_assert_uint_eq(f.m.faults, 3);
	ck_assert_uint_eq(f.m.nva_faults, 2);
	ck_assert_uint_eq(f.m.va_faults[0].va, VA0 + 4096);
	ck_assert_uint_eq(f.m.va_faults[0].handle, H(1));
	ck_assert_uint_eq(f.m.va_faults[1].handle, 0);
	ck_assert_uint_eq(vm_va_mapping_at(&f.m, VA0)->kind, VM_VA_PROT_READ_ONLY);
	/* Fences: two signals of one, a wait on it, a signal of another. */
	put(&f, event(GPUSIM_EV_SIGNAL, 0x40000c01u, DEV0, 0, 0, 0, 0, 5, GPUSIM_CAUSE_CPU));
	put(&f, event(GPUSIM_EV_SIGNAL, 0x40000c01u, DEV0, 0, 0, 0, 0, 9, GPUSIM_CAUSE_GPU));
	put(&f, event(GPUSIM_EV_WAIT, 0x40000c01u, DEV0, 0, 0, 0, 1, 9, GPUSIM_CAUSE_NONE));
	put(&f, event(GPUSIM_EV_SIGNAL, 0x40000c41u, DEV0, 0, 0, 0, 0, 1, GPUSIM_CAUSE_RENDER));
	put(&f, event(GPUSIM_EV_SUBMIT_VA, 0, DEV0, 0, 0, VA0, 256, 4, GPUSIM_CAUSE_NONE));
	ck_assert_uint_eq(f.m.nfences, 2);
	const struct vm_fence *x = vm_fence_find(&f.m, 0x40000c01u);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->value, 9);
	ck_assert_uint_eq(x->signals, 2);
	ck_assert_uint_eq(x->waits, 1);
	ck_assert_uint_eq(x->last_cause, GPUSIM_CAUSE_GPU);
	ck_assert_uint_eq(f.m.signals, 3);
	ck_assert_uint_eq(f.m.waits, 1);
	ck_assert_uint_eq(f.m.submits_va, 1);
	size_t sig = 0, wait = 0;
	for (size_t i = 0; i < f.m.nmarks; i++) {
		sig += f.m.marks[i].type == GPUSIM_EV_SIGNAL;
		wait += f.m.marks[i].type == GPUSIM_EV_WAIT;
		ck_assert(!vm_mark_is_paging(f.m.marks[i].type));
	}
	ck_assert_uint_eq(sig, 3);
	ck_assert_uint_eq(wait, 1);
	/* The dump: the allocation's VA, the space, the faults, the fences. */
	char *text = dump(&f.m);
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	ck_assert_msg(root != NULL, "JSON: %s\n%s", e.text, text);
	json_t *a = json_array_get(get(root, "allocations"), 0);
	json_t *va = get(a, "va");
	ck_assert_uint_eq(json_array_size(va), 1);
	ck_assert_str_eq(str(json_array_get(va, 0), "base"), "0x100000000");
	ck_assert_int_eq(num(json_array_get(va, 0), "size"), 64 * KiB);
	ck_assert_str_eq(str(json_array_get(va, 0), "protection"), "read-only");
	ck_assert_int_eq(num(json_array_get(va, 0), "fence"), 3);
	json_t *space = get(root, "va_space");
	ck_assert_str_eq(str(json_array_get(get(space, "reservations"), 0), "type"), "no-access");
	ck_assert_str_eq(str(json_array_get(get(space, "mappings"), 0), "allocation"), "#40000041");
	ck_assert_uint_eq(json_array_size(get(space, "faults")), 2);
	ck_assert_str_eq(str(json_array_get(get(space, "faults"), 1), "va"), "0x100020000");
	ck_assert_int_eq(num(space, "faults_total"), 2);
	json_t *fences = get(root, "fences");
	ck_assert_uint_eq(json_array_size(fences), 2);
	ck_assert_int_eq(num(json_array_get(fences, 0), "value"), 9);
	ck_assert_str_eq(str(json_array_get(fences, 0), "last_cause"), "gpu");
	ck_assert_int_eq(num(get(root, "counters"), "signals"), 3);
	ck_assert_int_eq(num(get(root, "counters"), "submits_va"), 1);
	json_decref(root);
	free(text);
	fx_free(&f);
}
END_TEST

/* ---- a real run through libkmt --------------------------------------------------- */

struct listener {
	struct vm_recording r;
};

static void record_event(void *opaque, const struct gpusim_event *ev)
{
	struct listener *l = opaque;
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	it.event = *ev;
	vm_recording_add(&l->r, &it);
}

static D3DKMT_HANDLE kmt_alloc(D3DKMT_HANDLE dev, uint64_t size)
{
	struct gpusim_alloc_desc d;
	memset(&d, 0, sizeof(d));
	d.version = GPUSIM_ALLOC_DESC_VERSION;
	d.size = size;
	d.preferred[0] = GPUSIM_SEG_INVISIBLE;
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = dev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ck_assert_int_eq(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	return info.hAllocation;
}

START_TEST(test_va_from_libkmt)
{
	struct gpusim_config cfg;
	char err[128] = "";
	LUID luid;
	gpusim_reset();
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=32M,visible=8M,gart=16M,sysmem=256M", err, sizeof(err)), 0);
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	struct listener l;
	vm_recording_init(&l.r);
	ck_assert_int_eq(gpusim_trace_describe(luid, &l.r.adapter), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_subscribe(luid, record_event, &l), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&open), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = open.hAdapter;
	ck_assert_int_eq(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	D3DKMT_CREATECONTEXT cc;
	memset(&cc, 0, sizeof(cc));
	cc.hDevice = cd.hDevice;
	ck_assert_int_eq(D3DKMTCreateContext(&cc), STATUS_SUCCESS);
	D3DKMT_HANDLE a = kmt_alloc(cd.hDevice, 64 * KiB), b = kmt_alloc(cd.hDevice, 64 * KiB);

	D3DDDI_RESERVEGPUVIRTUALADDRESS rv;
	memset(&rv, 0, sizeof(rv));
	rv.hPagingQueue = cd.hDevice;
	rv.Size = 1 * MiB;
	ck_assert_int_eq(D3DKMTReserveGpuVirtualAddress(&rv), STATUS_SUCCESS);
	uint64_t base = rv.VirtualAddress;
	D3DDDI_MAPGPUVIRTUALADDRESS mp;
	memset(&mp, 0, sizeof(mp));
	mp.hPagingQueue = cd.hDevice;
	mp.hAllocation = a;
	mp.BaseAddress = base;
	mp.SizeInPages = 16;
	mp.Protection.Write = 1;
	ck_assert_int_eq(D3DKMTMapGpuVirtualAddress(&mp), STATUS_PENDING);
	/* b without a base: a reservation of its own. */
	memset(&mp, 0, sizeof(mp));
	mp.hPagingQueue = cd.hDevice;
	mp.hAllocation = b;
	mp.SizeInPages = 16;
	ck_assert_int_eq(D3DKMTMapGpuVirtualAddress(&mp), STATUS_PENDING);
	uint64_t vb = mp.VirtualAddress;
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION ops[2];
	memset(ops, 0, sizeof(ops));
	ops[0].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY;
	ops[0].Copy.SourceAddress = base;
	ops[0].Copy.SizeInBytes = 64 * KiB;
	ops[0].Copy.DestAddress = base + 512 * KiB;
	ops[1].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	ops[1].Unmap.BaseAddress = base + 16 * KiB;
	ops[1].Unmap.SizeInBytes = 16 * KiB;
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	u.hDevice = cd.hDevice;
	u.hContext = cc.hContext;
	u.NumOperations = 2;
	u.Operations = ops;
	ck_assert_int_eq(D3DKMTUpdateGpuVirtualAddress(&u), STATUS_SUCCESS);

	struct vm_model m;
	vm_replay(&m, &l.r, l.r.nitems);
	ck_ranges(&m, a, (uint64_t[]){ base, 16 * KiB, base + 32 * KiB, 32 * KiB, base + 512 * KiB, 64 * KiB }, 3);
	ck_ranges(&m, b, (uint64_t[]){ vb, 64 * KiB }, 1);
	ck_assert_uint_eq(m.nva_res, 2);
	ck_assert_uint_eq(vm_va_reservation_at(&m, base)->size, 1 * MiB);
	ck_assert_uint_eq(vm_va_reservation_at(&m, vb)->kind, VM_VA_IMPLICIT);
	vm_free(&m);

	D3DKMT_FREEGPUVIRTUALADDRESS fr = { .hAdapter = open.hAdapter, .BaseAddress = base, .Size = 1 * MiB };
	ck_assert_int_eq(D3DKMTFreeGpuVirtualAddress(&fr), STATUS_SUCCESS);
	D3DKMT_DESTROYALLOCATION da;
	memset(&da, 0, sizeof(da));
	da.hDevice = cd.hDevice;
	da.phAllocationList = &b;
	da.AllocationCount = 1;
	ck_assert_int_eq(D3DKMTDestroyAllocation(&da), STATUS_SUCCESS);
	vm_replay(&m, &l.r, l.r.nitems);
	ck_ranges(&m, a, NULL, 0);
	ck_assert_uint_eq(m.nva_map, 0); /* b's went with b */
	ck_assert_uint_eq(m.nva_res, 1);
	ck_assert_ptr_nonnull(vm_va_reservation_at(&m, vb));
	vm_free(&m);
	gpusim_unsubscribe(luid, record_event, &l);
	gpusim_reset();
	vm_recording_free(&l.r);
}
END_TEST

/* A real GPU page fault at a VA: SubmitCommand runs a FILL into an allocation
 * mapped read-only, then a FENCE at a monitored fence's GPU VA; the CPU waits for
 * it. The model has the fault at the VA with the allocation, the mapping read-only,
 * the fence's value, the wait and the submission. */
START_TEST(test_va_fault_from_libkmt)
{
	struct gpusim_config cfg;
	char err[128] = "";
	LUID luid;
	gpusim_reset();
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=32M,visible=8M,gart=16M,sysmem=256M", err, sizeof(err)), 0);
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	struct listener l;
	vm_recording_init(&l.r);
	ck_assert_int_eq(gpusim_trace_describe(luid, &l.r.adapter), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_subscribe(luid, record_event, &l), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&open), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = open.hAdapter;
	ck_assert_int_eq(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	D3DKMT_CREATECONTEXTVIRTUAL cv;
	memset(&cv, 0, sizeof(cv));
	cv.hDevice = cd.hDevice;
	ck_assert_int_eq(D3DKMTCreateContextVirtual(&cv), STATUS_SUCCESS);
	D3DKMT_CREATEPAGINGQUEUE q;
	memset(&q, 0, sizeof(q));
	q.hDevice = cd.hDevice;
	ck_assert_int_eq(D3DKMTCreatePagingQueue(&q), STATUS_SUCCESS);
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = cd.hDevice;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	ck_assert_int_eq(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS);
	uint64_t fence_va = cs.Info.MonitoredFence.FenceValueGPUVirtualAddress;
	ck_assert_uint_ne(fence_va, 0);
	D3DKMT_HANDLE cmd = kmt_alloc(cd.hDevice, 64 * KiB), dst = kmt_alloc(cd.hDevice, 64 * KiB);
	uint64_t va[2];
	D3DKMT_HANDLE what[2] = { cmd, dst };
	for (int i = 0; i < 2; i++) {
		D3DDDI_MAPGPUVIRTUALADDRESS mp;
		memset(&mp, 0, sizeof(mp));
		mp.hPagingQueue = q.hPagingQueue;
		mp.hAllocation = what[i];
		mp.SizeInPages = 16;
		mp.Protection.Write = i == 0; /* dst read-only */
		ck_assert_int_eq(D3DKMTMapGpuVirtualAddress(&mp), STATUS_PENDING);
		va[i] = mp.VirtualAddress;
	}
	uint32_t p[] = {
		HW_PKT_HEADER(HW_PKT_FILL, 0, 5), (uint32_t)va[1], (uint32_t)(va[1] >> 32), 4096, 0, 0x55u,
		HW_PKT_HEADER(HW_PKT_FENCE, 0, 4), (uint32_t)fence_va, (uint32_t)(fence_va >> 32), 1, 0,
	};
	D3DKMT_LOCK2 lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = cd.hDevice;
	lk.hAllocation = cmd;
	ck_assert_int_eq(D3DKMTLock2(&lk), STATUS_SUCCESS);
	memcpy(lk.pData, p, sizeof(p));
	D3DKMT_UNLOCK2 ul = { .hDevice = cd.hDevice, .hAllocation = cmd };
	ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	D3DKMT_SUBMITCOMMAND sc;
	memset(&sc, 0, sizeof(sc));
	sc.Commands = va[0];
	sc.CommandLength = sizeof(p);
	sc.BroadcastContextCount = 1;
	sc.BroadcastContext[0] = cv.hContext;
	ck_assert_int_eq(D3DKMTSubmitCommand(&sc), STATUS_SUCCESS);
	uint64_t one = 1;
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
	memset(&w, 0, sizeof(w));
	w.hDevice = cd.hDevice;
	w.ObjectCount = 1;
	w.ObjectHandleArray = &cs.hSyncObject;
	w.FenceValueArray = &one;
	ck_assert_int_eq(D3DKMTWaitForSynchronizationObjectFromCpu(&w), STATUS_SUCCESS);

	struct vm_model m;
	vm_replay(&m, &l.r, l.r.nitems);
	ck_assert_uint_eq(m.submits_va, 1);
	ck_assert_uint_ge(m.nva_faults, 1);
	ck_assert_uint_eq(m.va_faults[0].va, va[1]);
	ck_assert_uint_eq(m.va_faults[0].cause, HW_FAULT_VM_READ_ONLY);
	ck_assert_uint_eq(m.va_faults[0].handle, dst);
	ck_assert_uint_eq(vm_va_mapping_at(&m, va[1])->kind, VM_VA_PROT_READ_ONLY);
	ck_assert_uint_eq(vm_va_mapping_at(&m, va[0])->kind, VM_VA_PROT_UNKNOWN);
	const struct vm_fence *x = vm_fence_find(&m, cs.hSyncObject);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(x->value, 1);
	ck_assert_uint_ge(x->signals, 1);
	ck_assert_uint_eq(x->waits, 1);
	ck_assert_uint_ge(m.waits, 1);
	vm_free(&m);
	gpusim_unsubscribe(luid, record_event, &l);
	gpusim_reset();
	vm_recording_free(&l.r);
}
END_TEST

Suite *sim_model_suite(void)
{
	Suite *s = suite_create("sim_model");
	TCase *tc = tcase_create("model");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_places_by_event);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_devices_add_up);
	tcase_add_test(tc, test_history_of_moves);
	tcase_add_test(tc, test_counters_and_marks);
	tcase_add_test(tc, test_lock_submit_fault_removed_time);
	tcase_add_test(tc, test_destroy_and_handle_reuse);
	tcase_add_test(tc, test_unknown_handle_still_counted);
	tcase_add_test(tc, test_demote_promote_use);
	tcase_add_test(tc, test_largest_free_with_holes);
	tcase_add_test(tc, test_absent_segment);
	tcase_add_test(tc, test_diff_two_moments);
	tcase_add_test(tc, test_replay_equals_apply);
	tcase_add_test(tc, test_recording_load_trace);
	tcase_add_test(tc, test_scenario_matches_stats);
	tcase_add_test(tc, test_recording_run_failures);
	tcase_add_test(tc, test_vram2_place_demote_promote);
	tcase_add_test(tc, test_one_pool_dump_has_no_vram2);
	tcase_add_test(tc, test_two_pools_trace_matches_stats);
	tcase_add_test(tc, test_recording_load_version_1);
	tcase_add_test(tc, test_dump_json_parses);
	tcase_add_test(tc, test_dump_json_empty);
	tcase_add_test(tc, test_many_allocations);
	tcase_add_test(tc, test_va_map_unmap_copy_free);
	tcase_add_test(tc, test_va_hostile_events);
	tcase_add_test(tc, test_va_fault_and_fences);
	tcase_add_test(tc, test_va_from_libkmt);
	tcase_add_test(tc, test_va_fault_from_libkmt);
	suite_add_tcase(s, tc);
	return s;
}
