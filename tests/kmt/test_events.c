/*
 * The event stream and the statistics: every change of placement, lock, submit,
 * fault and destruction is reported with the right allocation, segments, size,
 * simulated time and cause; the counters of gpusim_get_stats add up to what the
 * events report; listeners come and go; the same run gives the same stream; and
 * the API holds up under four threads at once.
 */
#include <config.h>

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/renaming.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull

#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"
/* ~3.7 MiB visible, 4 MiB invisible, 3 MiB GART: pressure comes quickly. */
#define CFG_SMALL "vram=8M,visible=4M,gart=4M,sysmem=64M"

#define FAR_ADDRESS (HW_GART_BASE_DEFAULT + 64ull * 1024 * MIB) /* beyond any aperture */

/* ---- helpers ----------------------------------------------------------------- */


static void fill(struct kt_gpu *g, D3DKMT_HANDLE h, uint64_t size, uint32_t value)
{
	kt_cmd_begin(g);
	kt_cmd_fill(g, h, size, value);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
}

static void use(struct kt_gpu *g, D3DKMT_HANDLE h)
{
	kt_cmd_begin(g);
	kt_cmd_use(g, h);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
}

static bool is_vram(uint32_t seg)
{
	return seg == GPUSIM_SEG_VISIBLE || seg == GPUSIM_SEG_INVISIBLE;
}

/* ---- the recorder ------------------------------------------------------------------ */

#define REC_MAX 16384

struct rec {
	uint32_t n;
	bool overflow;
	struct gpusim_event ev[REC_MAX];
};

static struct rec rec1, rec2;

/* Called with the adapter lock held: only stores. */
static void record(void *opaque, const struct gpusim_event *ev)
{
	struct rec *r = opaque;
	if (r->n < REC_MAX)
		r->ev[r->n++] = *ev;
	else
		r->overflow = true;
}

static void listen(const struct kt_gpu *g, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	KT_ST_EQ(gpusim_subscribe(g->luid, record, r), STATUS_SUCCESS);
}

static uint32_t count(const struct rec *r, uint32_t type)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->n; i++)
		n += r->ev[i].type == type;
	return n;
}

/* Index of the first event of `type` for allocation `a` (0: any) at or after
 * `from`, or -1. */
static int find(const struct rec *r, uint32_t from, uint32_t type, D3DKMT_HANDLE a)
{
	for (uint32_t i = from; i < r->n; i++)
		if (r->ev[i].type == type && (!a || r->ev[i].allocation == a))
			return (int)i;
	return -1;
}

static const struct gpusim_event *must_find(const struct rec *r, uint32_t from, uint32_t type, D3DKMT_HANDLE a)
{
	int i = find(r, from, type, a);
	ck_assert_msg(i >= 0, "no %s event for allocation 0x%x", gpusim_event_name(type), a);
	return &r->ev[i];
}

static void assert_time_ordered(const struct rec *r)
{
	ck_assert(!r->overflow);
	for (uint32_t i = 1; i < r->n; i++)
		ck_assert_msg(r->ev[i].time_ns >= r->ev[i - 1].time_ns,
			      "event %u (%s) at %llu ns comes after event %u (%s) at %llu ns", i,
			      gpusim_event_name(r->ev[i].type), (unsigned long long)r->ev[i].time_ns, i - 1,
			      gpusim_event_name(r->ev[i - 1].type), (unsigned long long)r->ev[i - 1].time_ns);
}

/* ---- one event per kind of change -------------------------------------------------- */

START_TEST(test_event_create)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	listen(&g, &rec1);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB + 1, GPUSIM_SEG_INVISIBLE, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_GART, KT_SEG(GART), &b), STATUS_SUCCESS);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_CREATE), 2);

	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_CREATE, a);
	struct gpusim_alloc_info ia = kt_query(a);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(e->segment, ia.segment);
	ck_assert_uint_eq(e->offset, ia.offset);
	ck_assert_uint_eq(e->size, 64 * KIB + PG);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_CREATE);
	ck_assert_uint_eq(e->device, g.device);

	e = must_find(&rec1, 0, GPUSIM_EV_CREATE, b);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_GART);
	ck_assert_uint_eq(e->offset, kt_query(b).offset);
	ck_assert_uint_eq(e->size, 2 * MIB);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_CREATE);
	ck_assert(find(&rec1, 0, GPUSIM_EV_CREATE, a) < find(&rec1, 0, GPUSIM_EV_CREATE, b));
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

/* Three 8 MiB allocations fill the invisible segment; a fourth evicts the least
 * recently used for room. */
START_TEST(test_event_evict_pressure)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(8 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	D3DKMT_HANDLE h[4];
	for (int i = 0; i < 3; i++) {
		KT_ST_EQ(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
		fill(&g, h[i], 8 * MIB, 0x01010101u * (uint32_t)(i + 1));
	}
	struct gpusim_alloc_info before = kt_query(h[0]);
	struct gpusim_stats s0 = kt_stats(&g);
	listen(&g, &rec1);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &h[3]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_SYS);

	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_EVICT), 1);
	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_EVICT, h[0]);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_PRESSURE);
	ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_SYS);
	ck_assert_uint_eq(e->size, 8 * MIB);
	ck_assert_uint_eq(e->device, g.device);
	/* Evicted before the newcomer was created in its place. */
	ck_assert_int_lt(find(&rec1, 0, GPUSIM_EV_EVICT, h[0]), find(&rec1, 0, GPUSIM_EV_CREATE, h[3]));
	ck_assert_uint_eq(must_find(&rec1, 0, GPUSIM_EV_CREATE, h[3])->offset, before.offset);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.evictions, s0.evictions + 1);
	ck_assert_uint_eq(s1.bytes_out, s0.bytes_out + 8 * MIB);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_page_in_render)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(8 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	D3DKMT_HANDLE h[4];
	for (int i = 0; i < 4; i++) {
		KT_ST_EQ(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
		fill(&g, h[i], 8 * MIB, 0x01010101u * (uint32_t)(i + 1));
	}
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_SYS);
	struct gpusim_stats s0 = kt_stats(&g);
	listen(&g, &rec1);
	use(&g, h[0]);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_INVISIBLE);

	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_PAGE_IN, h[0]);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_RENDER);
	ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_SYS);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(e->offset, kt_query(h[0]).offset);
	ck_assert_uint_eq(e->size, 8 * MIB);
	/* Room was made first: h[1] is the least recently used now. */
	const struct gpusim_event *v = must_find(&rec1, 0, GPUSIM_EV_EVICT, h[1]);
	ck_assert_uint_eq(v->cause, GPUSIM_CAUSE_PRESSURE);
	ck_assert_int_lt(find(&rec1, 0, GPUSIM_EV_EVICT, h[1]), find(&rec1, 0, GPUSIM_EV_PAGE_IN, h[0]));
	/* ...and the submission after both. */
	ck_assert_int_lt(find(&rec1, 0, GPUSIM_EV_PAGE_IN, h[0]), find(&rec1, 0, GPUSIM_EV_SUBMIT, 0));
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.page_ins, s0.page_ins + 1);
	ck_assert_uint_eq(s1.bytes_in, s0.bytes_in + 8 * MIB);
	ck_assert_uint_eq(s1.bytes_out, s0.bytes_out + 8 * MIB);
	/* The data came back with it. */
	D3DKMT_HANDLE ref;
	struct gpusim_alloc_desc dr = kt_desc(8 * MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_GART, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &dr, &ref), STATUS_SUCCESS);
	fill(&g, ref, 8 * MIB, 0x01010101u);
	ck_assert_uint_eq(kt_gpu_crc(&g, h[0], 8 * MIB), kt_gpu_crc(&g, ref, 8 * MIB));
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_move_lock_unlock)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE m;
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &m), STATUS_SUCCESS);
	fill(&g, m, MIB, 0x12345678u);
	struct gpusim_stats s0 = kt_stats(&g);
	listen(&g, &rec1);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = m };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	ck_assert_uint_eq(((const uint32_t *)lk.pData)[MIB / 4 - 1], 0x12345678u);
	D3DKMT_UNLOCK2 ul = { .hDevice = g.device, .hAllocation = m };
	KT_ST_EQ(D3DKMTUnlock2(&ul), STATUS_SUCCESS);

	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_MOVE, m);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_LOCK);
	ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(e->offset, kt_query(m).offset);
	ck_assert_uint_eq(e->size, MIB);
	e = must_find(&rec1, 0, GPUSIM_EV_LOCK, m);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(e->size, MIB);
	int imove = find(&rec1, 0, GPUSIM_EV_MOVE, m), ilock = find(&rec1, 0, GPUSIM_EV_LOCK, m);
	int iunlock = find(&rec1, 0, GPUSIM_EV_UNLOCK, m);
	ck_assert_int_lt(imove, ilock);
	ck_assert_int_lt(ilock, iunlock);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_MOVE), 1);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_LOCK), 1);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_UNLOCK), 1);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.moves, s0.moves + 1);
	ck_assert_uint_eq(e[0].value, 0); /* the LOCK event: nothing copied */
	/* Invisible to visible VRAM is a copy inside VRAM: it crosses no bus. */
	ck_assert_uint_eq(s1.bytes_in, s0.bytes_in);
	ck_assert_uint_eq(s1.bytes_out, s0.bytes_out);
	ck_assert_uint_eq(must_find(&rec1, 0, GPUSIM_EV_MOVE, m)->value, MIB);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_destroy)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, 3 * PG, GPUSIM_SEG_VISIBLE, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, GPUSIM_SEG_GART, KT_SEG(GART), &b), STATUS_SUCCESS);
	listen(&g, &rec1);
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	D3DKMT_DESTROYDEVICE dd = { .hDevice = g.device }; /* b and the rest go with it */
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);

	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_DESTROY, a);
	ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_DESTROY);
	ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(e->segment, GPUSIM_SEG_NONE);
	ck_assert_uint_eq(e->size, 3 * PG);
	e = must_find(&rec1, 0, GPUSIM_EV_DESTROY, b);
	ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_GART);
	ck_assert_uint_eq(e->size, PG);
	ck_assert_int_lt(find(&rec1, 0, GPUSIM_EV_DESTROY, a), find(&rec1, 0, GPUSIM_EV_DESTROY, b));
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_DESTROY), 3); /* a, b and the helpers' result */
	ck_assert_uint_eq(kt_stats(&g).allocations, 0);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_submit)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &a), STATUS_SUCCESS);
	struct gpusim_stats s0 = kt_stats(&g);
	listen(&g, &rec1);
	fill(&g, a, MIB, 1);
	fill(&g, a, MIB, 2);
	kt_idle(&g);
	fill(&g, a, MIB, 3);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_SUBMIT), 3);
	ck_assert_uint_eq(kt_stats(&g).submits, s0.submits + 3);
	uint64_t last = 0, last_t = 0;
	for (uint32_t i = 0; i < rec1.n; i++) {
		const struct gpusim_event *e = &rec1.ev[i];
		if (e->type != GPUSIM_EV_SUBMIT)
			continue;
		ck_assert_uint_eq(e->device, g.device);
		ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_RENDER);
		ck_assert_uint_gt(e->value, last); /* each its own, later fence */
		last = e->value;
		ck_assert_uint_ge(e->time_ns, last_t);
		last_t = e->time_ns;
	}
	/* The third came after the GPU ran the first two. */
	ck_assert_uint_gt(last_t, rec1.ev[find(&rec1, 0, GPUSIM_EV_SUBMIT, 0)].time_ns);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

/* A Render reports one USE per list entry, in list order, with its fence and where
 * each allocation is, right before its SUBMIT; NullRendering reports none;
 * MakeResident reports its list with its paging fence, before its BUDGET events. */
START_TEST(test_event_use)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_GART, KT_SEG(GART), &b), STATUS_SUCCESS);
	listen(&g, &rec1);
	kt_cmd_begin(&g);
	kt_cmd_use(&g, b);
	kt_cmd_fill(&g, a, MIB, 7);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_USE), 2);
	int u = find(&rec1, 0, GPUSIM_EV_USE, 0);
	const struct gpusim_event *sub = must_find(&rec1, 0, GPUSIM_EV_SUBMIT, 0);
	ck_assert_int_ge(u, 0);
	ck_assert_int_eq(sub - rec1.ev, u + 2); /* USE, USE, SUBMIT */
	D3DKMT_HANDLE order[2] = { b, a };
	for (int k = 0; k < 2; k++) {
		const struct gpusim_event *e = &rec1.ev[u + k];
		struct gpusim_alloc_info info = kt_query(order[k]);
		ck_assert_uint_eq(e->allocation, order[k]);
		ck_assert_uint_eq(e->device, g.device);
		ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_RENDER);
		ck_assert_uint_eq(e->value, sub->value);
		ck_assert_uint_eq(e->segment, info.segment);
		ck_assert_uint_eq(e->offset, info.offset);
		ck_assert_uint_eq(e->size, info.size);
		ck_assert_uint_eq(e->priority, info.priority);
	}
	ck_assert_uint_eq(rec1.ev[u + 1].preferred, GPUSIM_SEG_INVISIBLE);

	/* NullRendering: validated and placed, nothing runs, no use. */
	uint32_t n = rec1.n;
	kt_cmd_begin(&g);
	kt_cmd_use(&g, a);
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = g.context;
	r.AllocationCount = 1;
	r.Flags.NullRendering = 1;
	KT_ST_EQ(D3DKMTRender(&r), STATUS_SUCCESS);
	ck_assert_int_lt(find(&rec1, n, GPUSIM_EV_USE, 0), 0);

	/* MakeResident: its list, its paging fence, then the budget. */
	n = rec1.n;
	D3DKMT_HANDLE h[2] = { a, b };
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 2;
	mr.AllocationList = h;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	ck_assert(st == STATUS_SUCCESS || st == STATUS_PENDING);
	u = find(&rec1, n, GPUSIM_EV_USE, 0);
	ck_assert_int_ge(u, 0);
	ck_assert_uint_eq(rec1.ev[u].allocation, a);
	ck_assert_uint_eq(rec1.ev[u + 1].type, GPUSIM_EV_USE);
	ck_assert_uint_eq(rec1.ev[u + 1].allocation, b);
	for (int k = 0; k < 2; k++) {
		ck_assert_uint_eq(rec1.ev[u + k].cause, GPUSIM_CAUSE_MAKE_RESIDENT);
		ck_assert_uint_eq(rec1.ev[u + k].value, mr.PagingFenceValue);
	}
	ck_assert_uint_eq(rec1.ev[u + 2].type, GPUSIM_EV_BUDGET);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_USE), 4);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

/* Every policy gpusim_policy_name lists is one an adapter accepts; past the list,
 * NULL; and the default is among them. */
START_TEST(test_policy_names)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	bool default_listed = false;
	unsigned i = 0;
	for (; gpusim_policy_name(i); i++) {
		char spec[64];
		snprintf(spec, sizeof(spec), "vram=16M,visible=4M,gart=8M,policy=%s", gpusim_policy_name(i));
		struct gpusim_config c;
		gpusim_config_default(&c);
		ck_assert_int_eq(gpusim_config_parse(&c, spec, NULL, 0), 0);
		ck_assert_str_eq(c.policy, gpusim_policy_name(i));
		default_listed |= !strcmp(cfg.policy, gpusim_policy_name(i));
		for (unsigned j = 0; j < i; j++)
			ck_assert_str_ne(gpusim_policy_name(j), gpusim_policy_name(i));
	}
	ck_assert_uint_ge(i, 2);
	ck_assert(default_listed);
	ck_assert_ptr_null(gpusim_policy_name(i));
	ck_assert_ptr_null(gpusim_policy_name(~0u));
	/* The refusal names them all. */
	char err[256];
	struct gpusim_config c;
	gpusim_config_default(&c);
	ck_assert_int_ne(gpusim_config_parse(&c, "policy=fifo", err, sizeof(err)), 0);
	for (unsigned j = 0; gpusim_policy_name(j); j++)
		ck_assert_msg(strstr(err, gpusim_policy_name(j)), "'%s' does not name %s", err, gpusim_policy_name(j));
}
END_TEST

START_TEST(test_event_fault)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	listen(&g, &rec1);
	kt_cmd_begin(&g);
	kt_cmd_write_raw(&g, FAR_ADDRESS, 1);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	kt_idle(&g);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_FAULT), 1);
	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_FAULT, 0);
	ck_assert_uint_eq(e->offset, FAR_ADDRESS);
	ck_assert_uint_eq(e->cause, HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(e->device, g.device);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_device_removed)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	listen(&g, &rec1);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_DEVICE_REMOVED), 1);
	ck_assert_uint_eq(must_find(&rec1, 0, GPUSIM_EV_DEVICE_REMOVED, 0)->cause, GPUSIM_CAUSE_INJECTED);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_fence)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &a), STATUS_SUCCESS);
	listen(&g, &rec1);
	fill(&g, a, MIB, 1);
	fill(&g, a, MIB, 2);
	kt_idle(&g);
	uint64_t submitted = 0, done = 0;
	for (uint32_t i = 0; i < rec1.n; i++) {
		const struct gpusim_event *e = &rec1.ev[i];
		if (e->type == GPUSIM_EV_SUBMIT)
			submitted = e->value;
		if (e->type != GPUSIM_EV_FENCE)
			continue;
		ck_assert_uint_gt(e->value, done);      /* each reports progress */
		ck_assert_uint_le(e->value, submitted); /* of work that was submitted */
		done = e->value;
	}
	ck_assert_uint_gt(count(&rec1, GPUSIM_EV_FENCE), 0);
	ck_assert_uint_eq(done, submitted);            /* idle: everything completed */
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_event_budget)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[2];
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_GART, KT_SEG(GART), &h[1]), STATUS_SUCCESS);
	D3DKMT_QUERYVIDEOMEMORYINFO qi[2];
	for (int k = 0; k < 2; k++) {
		memset(&qi[k], 0, sizeof(qi[k]));
		qi[k].hAdapter = g.adapter;
		qi[k].MemorySegmentGroup = k ? D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL : D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL;
		KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi[k]), STATUS_SUCCESS);
	}
	listen(&g, &rec1);
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 2;
	mr.AllocationList = h;
	KT_ST_EQ(D3DKMTMakeResident(&mr), STATUS_SUCCESS);
	uint64_t want[2] = { MIB, 2 * MIB };
	int seen = 0;
	for (uint32_t i = 0; i < rec1.n; i++) {
		const struct gpusim_event *e = &rec1.ev[i];
		if (e->type != GPUSIM_EV_BUDGET)
			continue;
		ck_assert_uint_lt(e->offset, 2);
		ck_assert_uint_eq(e->value, want[e->offset]);
		ck_assert_uint_eq(e->size, qi[e->offset].Budget);
		ck_assert_uint_eq(e->cause, GPUSIM_CAUSE_MAKE_RESIDENT);
		seen |= 1 << e->offset;
	}
	ck_assert_int_eq(seen, 3);
	uint32_t n = rec1.n;
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = h;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	int i = find(&rec1, n, GPUSIM_EV_BUDGET, 0);
	for (; i >= 0 && rec1.ev[i].offset != 0; i = find(&rec1, (uint32_t)i + 1, GPUSIM_EV_BUDGET, 0))
		;
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(rec1.ev[i].value, 0);
	ck_assert_uint_eq(rec1.ev[i].cause, GPUSIM_CAUSE_EVICT_CALL);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

/* A fault that happens while the manager waits for the GPU inside another call is
 * still reported in time order with that call's events. */
START_TEST(test_event_time_order_with_fault)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(8 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	D3DKMT_HANDLE h[4];
	listen(&g, &rec1);
	for (int i = 0; i < 3; i++) {
		KT_ST_EQ(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
		fill(&g, h[i], 8 * MIB, 0x01010101u * (uint32_t)(i + 1));
	}
	kt_cmd_begin(&g);
	kt_cmd_write_raw(&g, FAR_ADDRESS, 1);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	/* Room for a fourth: h[0] is copied out while the GPU catches up. */
	KT_ST_EQ(kt_alloc_on(g.device, &d, &h[3]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_stats(&g).faults, 1);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_FAULT), 1);
	assert_time_ordered(&rec1);
	kt_teardown(&g);
}
END_TEST

/* Memory shared by two devices outlives its creator; its events then name the
 * handle that still exists, not the creator's dead one. */
START_TEST(test_event_shared_names_live_handle)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(8 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ca.Flags.CreateResource = 1;
	ca.Flags.CreateShared = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	fill(&g, info.hAllocation, 8 * MIB, 0x51515151u);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DDDI_OPENALLOCATIONINFO oi;
	struct gpusim_alloc_desc buf;
	D3DKMT_OPENRESOURCE o;
	memset(&o, 0, sizeof(o));
	memset(&oi, 0, sizeof(oi));
	o.hDevice = dev2;
	o.hGlobalShare = ca.hGlobalShare;
	o.NumAllocations = 1;
	o.pOpenAllocationInfo = &oi;
	o.pTotalPrivateDriverDataBuffer = &buf;
	o.TotalPrivateDriverDataBufferSize = sizeof(buf);
	KT_ST_EQ(D3DKMTOpenResource(&o), STATUS_SUCCESS);
	D3DKMT_HANDLE h2 = oi.hAllocation;
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = g.device;
	da.hResource = ca.hResource;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);

	listen(&g, &rec1);
	D3DKMT_HANDLE h[3];
	for (int i = 0; i < 3; i++)
		KT_ST_EQ(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h2), GPUSIM_SEG_SYS);
	ck_assert_uint_eq(count(&rec1, GPUSIM_EV_EVICT), 1);
	const struct gpusim_event *e = must_find(&rec1, 0, GPUSIM_EV_EVICT, 0);
	ck_assert_msg(e->allocation == h2 && e->device == dev2,
		      "eviction reported for allocation 0x%x of device 0x%x; the memory's only handle is 0x%x of "
		      "device 0x%x (0x%x of 0x%x was destroyed)",
		      e->allocation, e->device, h2, dev2, info.hAllocation, g.device);
	kt_teardown(&g);
}
END_TEST

/* ---- the counters are the events, counted ------------------------------------------- */

/* Everything moves with data in it: each allocation is filled by the GPU as soon as
 * it exists, so every eviction, page-in and move copies its whole size (or, for the
 * GART, remaps it). */
#define SEQ_N 14

struct seq {
	D3DKMT_HANDLE h[SEQ_N];
	int written[2];      /* written by the CPU with seed = index */
	bool freed[SEQ_N];
};

static void busy_sequence(struct kt_gpu *g, struct seq *q)
{
	memset(q, 0, sizeof(*q));
	for (int i = 0; i < SEQ_N; i++) {
		KT_ST_EQ(kt_alloc(g, MIB, 0, 0, &q->h[i]), STATUS_SUCCESS);
		fill(g, q->h[i], MIB, 0x01000001u * (uint32_t)(i + 1));
	}
	/* The oldest are out by now: work on them brings them back. */
	ck_assert_uint_eq(kt_segment(q->h[0]), GPUSIM_SEG_SYS);
	kt_cmd_begin(g);
	kt_cmd_copy(g, q->h[0], q->h[1], MIB);
	kt_cmd_use(g, q->h[2]);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
	/* CPU access to what lives in invisible VRAM moves it. */
	int locked = 0;
	for (int i = 0; i < SEQ_N && locked < 2; i++)
		if (kt_segment(q->h[i]) == GPUSIM_SEG_INVISIBLE) {
			KT_ST_EQ(kt_write(g->device, q->h[i], MIB, (uint32_t)i), STATUS_SUCCESS);
			q->written[locked++] = i;
		}
	ck_assert_int_eq(locked, 2);
	kt_cmd_begin(g);
	kt_cmd_write_raw(g, FAR_ADDRESS, 7);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
	kt_idle(g);
	/* Three that the CPU did not write go. */
	for (int i = 5, n = 0; n < 3; i++)
		if (i != q->written[0] && i != q->written[1]) {
			KT_ST_EQ(kt_free(g->device, q->h[i]), STATUS_SUCCESS);
			q->freed[i] = true;
			n++;
		}
	kt_idle(g);
}

START_TEST(test_counters_match_events)
{
	struct kt_gpu g;
	kt_setup(&g, CFG_SMALL);
	struct gpusim_stats s0 = kt_stats(&g);
	listen(&g, &rec1);
	struct seq q;
	busy_sequence(&g, &q);
	struct gpusim_stats s1 = kt_stats(&g);

	uint64_t ev = 0, in = 0, mv = 0, dm = 0, pm = 0, bin = 0, bout = 0, cr = 0, de = 0;
	for (uint32_t i = 0; i < rec1.n; i++) {
		const struct gpusim_event *e = &rec1.ev[i];
		/* bytes_in/out count what crosses the bus: into VRAM from system
		 * memory, out of VRAM to it; VRAM to VRAM crosses nothing. */
		bool to = is_vram(e->segment), from = is_vram(e->from_segment);
		switch (e->type) {
		case GPUSIM_EV_EVICT:
			ev++;
			ck_assert_uint_eq(e->segment, GPUSIM_SEG_SYS);
			if (from)
				bout += e->value;
			break;
		case GPUSIM_EV_PAGE_IN:
			in++;
			ck_assert_uint_eq(e->from_segment, GPUSIM_SEG_SYS);
			if (to)
				bin += e->value;
			break;
		case GPUSIM_EV_MOVE:
		case GPUSIM_EV_DEMOTE:
		case GPUSIM_EV_PROMOTE:
			mv += e->type == GPUSIM_EV_MOVE;
			dm += e->type == GPUSIM_EV_DEMOTE;
			pm += e->type == GPUSIM_EV_PROMOTE;
			ck_assert_uint_ne(e->from_segment, e->segment);
			ck_assert_uint_ne(e->segment, GPUSIM_SEG_SYS);
			if (to && !from)
				bin += e->value;
			else if (from && !to)
				bout += e->value;
			break;
		case GPUSIM_EV_CREATE:
			cr++;
			break;
		case GPUSIM_EV_DESTROY:
			de++;
			break;
		default:
			break;
		}
	}
	/* Not a vacuous comparison: every kind happened. */
	ck_assert_uint_gt(ev, 0);
	ck_assert_uint_gt(in, 0);
	ck_assert_uint_gt(mv + dm + pm, 0);
	ck_assert_uint_gt(bin, 0);
	ck_assert_uint_gt(bout, 0);
	ck_assert_uint_eq(s1.evictions - s0.evictions, ev);
	ck_assert_uint_eq(s1.page_ins - s0.page_ins, in);
	ck_assert_uint_eq(s1.moves - s0.moves, mv);
	ck_assert_uint_eq(s1.demotions - s0.demotions, dm);
	ck_assert_uint_eq(s1.promotions - s0.promotions, pm);
	ck_assert_uint_eq(s1.bytes_in - s0.bytes_in, bin);
	ck_assert_uint_eq(s1.bytes_out - s0.bytes_out, bout);
	ck_assert_uint_eq(s1.faults - s0.faults, count(&rec1, GPUSIM_EV_FAULT));
	ck_assert_uint_eq(s1.faults - s0.faults, 1);
	ck_assert_uint_eq(s1.submits - s0.submits, count(&rec1, GPUSIM_EV_SUBMIT));
	ck_assert_uint_eq(s1.allocations - s0.allocations, cr - de);
	ck_assert_uint_eq(cr, SEQ_N);
	ck_assert_uint_eq(de, 3);
	ck_assert_uint_ge(s1.time_ns, rec1.ev[rec1.n - 1].time_ns);
	assert_time_ordered(&rec1);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- listeners -------------------------------------------------------------------- */

START_TEST(test_unsubscribe_stops_delivery)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	listen(&g, &rec1);
	D3DKMT_HANDLE a, b;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &a), STATUS_SUCCESS);
	uint32_t n = rec1.n;
	ck_assert_uint_gt(n, 0);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec1), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &b), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, b, PG, 1), STATUS_SUCCESS);
	fill(&g, b, PG, 2);
	kt_idle(&g);
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	ck_assert_uint_eq(rec1.n, n);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec1), STATUS_INVALID_PARAMETER);
	/* Subscribed again, it hears what happens from then on. */
	KT_ST_EQ(gpusim_subscribe(g.luid, record, &rec1), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, b), STATUS_SUCCESS);
	ck_assert_uint_eq(rec1.n, n + 1);
	ck_assert_uint_eq(rec1.ev[n].type, GPUSIM_EV_DESTROY);
	ck_assert_uint_eq(rec1.ev[n].allocation, b);
	kt_teardown(&g);
}
END_TEST

/* Two listeners hear the same stream; a listener nobody subscribed, or one
 * subscribed to another adapter, hears nothing. */
START_TEST(test_listeners_independent)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	memset(&rec2, 0, sizeof(rec2));
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &a), STATUS_SUCCESS);
	ck_assert_uint_eq(rec2.n, 0); /* nobody listening: nothing recorded */
	listen(&g, &rec1);
	KT_ST_EQ(gpusim_subscribe(g.luid, record, &rec2), STATUS_SUCCESS);
	fill(&g, a, PG, 5);
	KT_ST_EQ(kt_write(g.device, a, PG, 6), STATUS_SUCCESS);
	ck_assert_uint_gt(rec1.n, 0);
	ck_assert_uint_eq(rec1.n, rec2.n);
	ck_assert_mem_eq(rec1.ev, rec2.ev, rec1.n * sizeof(rec1.ev[0]));
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec2), STATUS_SUCCESS);
	uint32_t n2 = rec2.n, n1 = rec1.n;
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	ck_assert_uint_eq(rec2.n, n2);
	ck_assert_uint_gt(rec1.n, n1);

	/* A second adapter with its own listener: streams do not mix. */
	struct gpusim_config cfg;
	char err[128] = "";
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, CFG_SMALL, err, sizeof(err)), 0);
	LUID luid2;
	KT_ST_EQ(gpusim_adapter_create(&cfg, &luid2), STATUS_SUCCESS);
	memset(&rec2, 0, sizeof(rec2));
	KT_ST_EQ(gpusim_subscribe(luid2, record, &rec2), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = luid2 };
	KT_ST_EQ(D3DKMTOpenAdapterFromLuid(&oa), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd = { .hAdapter = oa.hAdapter };
	KT_ST_EQ(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	n1 = rec1.n;
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	D3DKMT_HANDLE b;
	KT_ST_EQ(kt_alloc_on(cd.hDevice, &d, &b), STATUS_SUCCESS);
	ck_assert_uint_eq(rec1.n, n1);
	ck_assert_uint_eq(count(&rec2, GPUSIM_EV_CREATE), 1);
	ck_assert_uint_eq(must_find(&rec2, 0, GPUSIM_EV_CREATE, b)->device, cd.hDevice);
	kt_teardown(&g);
}
END_TEST

static void nop_listener(void *opaque, const struct gpusim_event *ev)
{
	(void)ev;
	(*(int *)opaque)++;
}

START_TEST(test_subscribe_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	LUID bogus = { .LowPart = 0xdead, .HighPart = 0x77 };
	KT_ST_EQ(gpusim_subscribe(g.luid, NULL, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(gpusim_subscribe(bogus, record, &rec1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec1), STATUS_INVALID_PARAMETER);
	/* At most 8 per adapter. */
	int hits[9] = { 0 };
	for (int i = 0; i < 8; i++)
		KT_ST_EQ(gpusim_subscribe(g.luid, nop_listener, &hits[i]), STATUS_SUCCESS);
	ck_assert_int_ne(gpusim_subscribe(g.luid, nop_listener, &hits[8]), STATUS_SUCCESS);
	D3DKMT_HANDLE a;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &a), STATUS_SUCCESS);
	for (int i = 0; i < 8; i++)
		ck_assert_int_gt(hits[i], 0);
	ck_assert_int_eq(hits[8], 0);
	/* Unsubscribing one by its (function, opaque) pair leaves the others. */
	KT_ST_EQ(gpusim_unsubscribe(g.luid, nop_listener, &hits[3]), STATUS_SUCCESS);
	int before3 = hits[3], before4 = hits[4];
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	ck_assert_int_eq(hits[3], before3);
	ck_assert_int_gt(hits[4], before4);
	KT_ST_EQ(gpusim_subscribe(g.luid, nop_listener, &hits[8]), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- determinism --------------------------------------------------------------------- */

static void scenario(struct kt_gpu *g)
{
	struct seq q;
	busy_sequence(g, &q);
	int a = -1, b = -1; /* two survivors nobody wrote from the CPU */
	for (int i = SEQ_N - 1; i >= 0 && b < 0; i--)
		if (!q.freed[i] && i != q.written[0] && i != q.written[1]) {
			if (a < 0)
				a = i;
			else
				b = i;
		}
	D3DKMT_HANDLE pair[2] = { q.h[a], q.h[b] };
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g->device;
	mr.NumAllocations = 2;
	mr.AllocationList = pair;
	ck_assert_int_ge(D3DKMTMakeResident(&mr), 0);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g->device;
	ev.NumAllocations = 1;
	ev.AllocationList = &pair[1];
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	for (int i = 0; i < 2; i++)
		ck_assert(kt_verify(g->device, q.h[q.written[i]], MIB, (uint32_t)q.written[i]));
	kt_cmd_begin(g);
	kt_cmd_copy(g, pair[0], pair[1], MIB);
	kt_cmd_checksum(g, pair[1], MIB, g->result, 0);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
	kt_idle(g);
}

START_TEST(test_determinism)
{
	struct kt_gpu g;
	kt_setup(&g, CFG_SMALL);
	listen(&g, &rec1);
	scenario(&g);
	uint64_t t1 = kt_stats(&g).time_ns;
	/* Not the teardown's destruction: only the scenario is compared. */
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec1), STATUS_SUCCESS);
	kt_teardown(&g);

	kt_setup(&g, CFG_SMALL);
	listen(&g, &rec2);
	scenario(&g);
	uint64_t t2 = kt_stats(&g).time_ns;
	KT_ST_EQ(gpusim_unsubscribe(g.luid, record, &rec2), STATUS_SUCCESS);

	ck_assert(!rec1.overflow && !rec2.overflow);
	ck_assert_uint_gt(rec1.n, 50);
	ck_assert_uint_gt(t1, 0);
	ck_assert_uint_eq(rec1.n, rec2.n);
	/* The second run's handles are new names for the first's (kmt/handle.c
	 * keeps destroyed handles dead across gpusim_reset). */
	static struct renaming rn;
	rn.n = 0;
	for (uint32_t i = 0; i < rec1.n; i++) {
		const struct gpusim_event *a = &rec1.ev[i];
		struct gpusim_event bb = rec2.ev[i];
		const struct gpusim_event *b = &bb;
		ck_assert_msg(renamed(&rn, a->device, bb.device) && renamed(&rn, a->allocation, bb.allocation),
			      "event %u: 0x%x/0x%x is not a renaming of 0x%x/0x%x", i, bb.device,
			      bb.allocation, a->device, a->allocation);
		bb.device = a->device;
		bb.allocation = a->allocation;
		ck_assert_msg(memcmp(a, b, sizeof(*a)) == 0,
			      "event %u differs: %s alloc 0x%x seg %u<-%u off 0x%llx t %llu vs %s alloc 0x%x "
			      "seg %u<-%u off 0x%llx t %llu",
			      i, gpusim_event_name(a->type), a->allocation, a->segment, a->from_segment,
			      (unsigned long long)a->offset, (unsigned long long)a->time_ns,
			      gpusim_event_name(b->type), b->allocation, b->segment, b->from_segment,
			      (unsigned long long)b->offset, (unsigned long long)b->time_ns);
	}
	ck_assert_uint_eq(t1, t2);
	assert_time_ordered(&rec2);
	kt_teardown(&g);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------- */

#define THREADS 4
#define THREAD_OPS 2000
#define THREAD_LIVE 16

struct worker {
	D3DKMT_HANDLE dev;
	unsigned seed;
	int failures, creates, destroys, verifies;
	char first[160];
};

static void worker_fail(struct worker *w, const char *what, D3DKMT_HANDLE h, NTSTATUS st)
{
	if (!w->failures++)
		snprintf(w->first, sizeof(w->first), "%s of 0x%x: status 0x%08x", what, h, (unsigned)st);
}

/* No Check assertions in here: they are not for threads. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct {
		D3DKMT_HANDLE h;
		uint64_t size;
		uint32_t seed;
		bool written;
	} live[THREAD_LIVE];
	int n = 0;
	for (int op = 0; op < THREAD_OPS; op++) {
		/* 0, 1: create (write when full), 2: verify, 3: destroy. Creation wins
		 * half the time, so each thread alone keeps about THREAD_LIVE
		 * allocations: more than the adapter holds. */
		int r = rand_r(&w->seed) % 4;
		if (n == 0 || (r <= 1 && n < THREAD_LIVE)) {
			uint64_t size = (1 + rand_r(&w->seed) % 16) * PG;
			uint32_t flags = rand_r(&w->seed) % 2 ? GPUSIM_ALLOC_CPU_VISIBLE : 0;
			struct gpusim_alloc_desc d = kt_desc(size, flags, 0, 0);
			D3DKMT_HANDLE h;
			NTSTATUS st = kt_alloc_on(w->dev, &d, &h);
			if (st) {
				worker_fail(w, "create", 0, st);
				continue;
			}
			live[n].h = h;
			live[n].size = size;
			live[n].seed = 0;
			live[n].written = false;
			n++;
			w->creates++;
			continue;
		}
		int i = rand_r(&w->seed) % n;
		if (r == 0 || r == 1) {
			uint32_t seed = (uint32_t)rand_r(&w->seed);
			NTSTATUS st = kt_write(w->dev, live[i].h, live[i].size, seed);
			if (st)
				worker_fail(w, "write", live[i].h, st);
			live[i].seed = seed;
			live[i].written = true;
		} else if (r == 2) {
			if (live[i].written) {
				w->verifies++;
				if (!kt_verify(w->dev, live[i].h, live[i].size, live[i].seed))
					worker_fail(w, "verify", live[i].h, 0);
			}
		} else {
			if (live[i].written) {
				w->verifies++;
				if (!kt_verify(w->dev, live[i].h, live[i].size, live[i].seed))
					worker_fail(w, "verify before destroy", live[i].h, 0);
			}
			NTSTATUS st = kt_free(w->dev, live[i].h);
			if (st)
				worker_fail(w, "destroy", live[i].h, st);
			live[i] = live[--n];
			w->destroys++;
		}
	}
	while (n) {
		n--;
		if (live[n].written && !kt_verify(w->dev, live[n].h, live[n].size, live[n].seed))
			worker_fail(w, "final verify", live[n].h, 0);
		NTSTATUS st = kt_free(w->dev, live[n].h);
		if (st)
			worker_fail(w, "final destroy", live[n].h, st);
		w->destroys++;
	}
	return NULL;
}

struct ev_counts {
	uint64_t creates, destroys, evictions;
};

static void count_listener(void *opaque, const struct gpusim_event *ev)
{
	struct ev_counts *c = opaque; /* serialized: listeners run under the adapter lock */
	c->creates += ev->type == GPUSIM_EV_CREATE;
	c->destroys += ev->type == GPUSIM_EV_DESTROY;
	c->evictions += ev->type == GPUSIM_EV_EVICT;
}

START_TEST(test_threads)
{
	struct kt_gpu g;
	/* ~500 KiB of segments: even one thread alone pushes allocations around. */
	kt_setup(&g, "vram=640K,visible=512K,gart=256K,sysmem=64M");
	struct ev_counts c = { 0, 0, 0 };
	KT_ST_EQ(gpusim_subscribe(g.luid, count_listener, &c), STATUS_SUCCESS);
	struct gpusim_stats s0 = kt_stats(&g);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < THREADS; i++) {
		w[i].dev = kt_new_device(&g);
		w[i].seed = 1234u + 77u * (unsigned)i;
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	int creates = 0;
	for (int i = 0; i < THREADS; i++) {
		ck_assert_msg(w[i].failures == 0, "thread %d: %d failures, first: %s", i, w[i].failures, w[i].first);
		ck_assert_int_eq(w[i].creates, w[i].destroys);
		ck_assert_int_gt(w[i].verifies, 100);
		creates += w[i].creates;
	}
	kt_assert_invariants(&g);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.allocations, s0.allocations);
	ck_assert_uint_eq(c.creates, (uint64_t)creates);
	ck_assert_uint_eq(c.destroys, (uint64_t)creates);
	ck_assert_uint_eq(c.evictions, s1.evictions - s0.evictions);
	ck_assert_uint_gt(c.evictions, 100); /* they did push each other */
	kt_teardown(&g);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

Suite *kmt_events_suite(void)
{
	Suite *s = suite_create("kmt_events");
	TCase *tc = tcase_create("events");
	tcase_add_test(tc, test_event_create);
	tcase_add_test(tc, test_event_evict_pressure);
	tcase_add_test(tc, test_event_page_in_render);
	tcase_add_test(tc, test_event_move_lock_unlock);
	tcase_add_test(tc, test_event_destroy);
	tcase_add_test(tc, test_event_submit);
	tcase_add_test(tc, test_event_use);
	tcase_add_test(tc, test_policy_names);
	tcase_add_test(tc, test_event_fault);
	tcase_add_test(tc, test_event_device_removed);
	tcase_add_test(tc, test_event_fence);
	tcase_add_test(tc, test_event_budget);
	tcase_add_test(tc, test_event_time_order_with_fault);
	tcase_add_test(tc, test_event_shared_names_live_handle);
	suite_add_tcase(s, tc);

	tc = tcase_create("stats");
	tcase_add_test(tc, test_counters_match_events);
	suite_add_tcase(s, tc);

	tc = tcase_create("listeners");
	tcase_add_test(tc, test_unsubscribe_stops_delivery);
	tcase_add_test(tc, test_listeners_independent);
	tcase_add_test(tc, test_subscribe_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("determinism");
	tcase_add_test(tc, test_determinism);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	return s;
}
