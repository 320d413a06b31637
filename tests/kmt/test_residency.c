/*
 * Residency: D3DKMTMakeResident (hPagingQueue is the device handle in gpusim) and
 * D3DKMTEvict with their per-device counts and budgets, the residency and video
 * memory queries, priorities and the eviction policies, and CPU access: locking
 * moves what the CPU cannot reach, a locked allocation stays put, a busy one makes
 * the caller wait or answers STATUS_GRAPHICS_ALLOCATION_BUSY; pinned ones never move.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull

/* Visible segment ~7.6 MiB, invisible 24 MiB, GART segment 15 MiB. */
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

/* ---- helpers ----------------------------------------------------------------- */


static NTSTATUS make_resident(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *list, UINT n, D3DDDI_MAKERESIDENT *out)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = dev;
	mr.NumAllocations = n;
	mr.AllocationList = list;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	if (out)
		*out = mr;
	return st;
}

static NTSTATUS evict(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *list, UINT n)
{
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = dev;
	ev.NumAllocations = n;
	ev.AllocationList = list;
	return D3DKMTEvict(&ev);
}

static D3DKMT_ALLOCATIONRESIDENCYSTATUS residency(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_ALLOCATIONRESIDENCYSTATUS rs = 0;
	D3DKMT_QUERYALLOCATIONRESIDENCY q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev;
	q.phAllocationList = &h;
	q.AllocationCount = 1;
	q.pResidencyStatus = &rs;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_SUCCESS);
	return rs;
}

static D3DKMT_QUERYVIDEOMEMORYINFO memory_info(const struct kt_gpu *g, D3DKMT_MEMORY_SEGMENT_GROUP grp)
{
	D3DKMT_QUERYVIDEOMEMORYINFO qi;
	memset(&qi, 0, sizeof(qi));
	qi.hAdapter = g->adapter;
	qi.MemorySegmentGroup = grp;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_SUCCESS);
	return qi;
}

static NTSTATUS set_priorities(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *list, UINT n, const UINT *prio)
{
	D3DKMT_SETALLOCATIONPRIORITY sp;
	memset(&sp, 0, sizeof(sp));
	sp.hDevice = dev;
	sp.phAllocationList = list;
	sp.AllocationCount = n;
	sp.pPriorities = prio;
	return D3DKMTSetAllocationPriority(&sp);
}

static NTSTATUS get_priorities(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *list, UINT n, UINT *prio)
{
	D3DKMT_GETALLOCATIONPRIORITY gp;
	memset(&gp, 0, sizeof(gp));
	gp.hDevice = dev;
	gp.phAllocationList = list;
	gp.AllocationCount = n;
	gp.pPriorities = prio;
	return D3DKMTGetAllocationPriority(&gp);
}

static void *lock2(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_LOCK2 lk = { .hDevice = dev, .hAllocation = h };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_SUCCESS);
	ck_assert_ptr_nonnull(lk.pData);
	return lk.pData;
}

static NTSTATUS unlock2(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_UNLOCK2 ul = { .hDevice = dev, .hAllocation = h };
	return D3DKMTUnlock2(&ul);
}

/* zlib's CRC-32 of `size` bytes of `byte`. */
static uint32_t fill_crc(uint64_t size, uint8_t byte)
{
	uint8_t buf[4096];
	memset(buf, byte, sizeof(buf));
	uLong crc = crc32(0L, Z_NULL, 0);
	for (uint64_t off = 0; off < size; off += sizeof(buf))
		crc = crc32(crc, buf, (uInt)(size - off < sizeof(buf) ? size - off : sizeof(buf)));
	return (uint32_t)crc;
}

/* n allocations of `size` with GPU work on each, so that they are made resident
 * one after the other and push everything else that can move. */
static void push(struct kt_gpu *g, int n, uint64_t size, D3DKMT_HANDLE *out)
{
	for (int i = 0; i < n; i++) {
		D3DKMT_HANDLE h;
		KT_ST_EQ(kt_alloc(g, size, 0, 0, &h), STATUS_SUCCESS);
		kt_cmd_begin(g);
		kt_cmd_fill(g, h, size, 0x01010101u * (uint32_t)i);
		KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
		if (out)
			out[i] = h;
	}
}

/* ---- MakeResident ------------------------------------------------------------- */

START_TEST(test_make_resident_already_resident)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[2];
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_GART, KT_SEG(GART), &h[1]), STATUS_SUCCESS);
	ck_assert_uint_ne(kt_segment(h[0]), GPUSIM_SEG_SYS);
	ck_assert_uint_ne(kt_segment(h[1]), GPUSIM_SEG_SYS);
	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(g.device, h, 2, &mr), STATUS_SUCCESS);
	ck_assert_uint_eq(mr.NumBytesToTrim, 0);
	ck_assert_uint_eq(mr.NumAllocations, 2); /* out: how many were made resident */
	ck_assert_uint_eq(kt_query(h[0]).residency_count, 1);
	ck_assert_uint_eq(kt_query(h[1]).residency_count, 1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_make_resident_pending_when_paged)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, h, MIB, 77), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &h, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);

	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(g.device, &h, 1, &mr), STATUS_PENDING);
	ck_assert_uint_gt(mr.PagingFenceValue, 0);
	ck_assert_uint_ne(kt_segment(h), GPUSIM_SEG_SYS);
	ck_assert(kt_verify(g.device, h, MIB, 77));

	/* Once more: a later paging operation has a later fence. */
	uint64_t first = mr.PagingFenceValue;
	KT_ST_EQ(evict(g.device, &h, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	KT_ST_EQ(make_resident(g.device, &h, 1, &mr), STATUS_PENDING);
	ck_assert_uint_gt(mr.PagingFenceValue, first);
	ck_assert(kt_verify(g.device, h, MIB, 77));
	/* And now everything is there: success. */
	KT_ST_EQ(make_resident(g.device, &h, 1, &mr), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* Evicted by pressure rather than by Evict: MakeResident brings it back intact. */
START_TEST(test_make_resident_after_pressure)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &h), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, h, 4 * MIB, 0xc0ffee00u);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	D3DKMT_HANDLE other[6];
	for (int i = 0; i < 6; i++)
		KT_ST_EQ(kt_alloc_on(g.device, &d, &other[i]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(g.device, &h, 1, &mr), STATUS_PENDING);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_gt(mr.PagingFenceValue, 0);
	/* The bytes: the fill's value everywhere (read by the CPU through a lock). */
	const uint32_t *p = lock2(g.device, h);
	for (uint64_t i = 0; i < 4 * MIB / 4; i += 1021)
		ck_assert_uint_eq(p[i], 0xc0ffee00u);
	KT_ST_EQ(unlock2(g.device, h), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_make_resident_over_budget)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_QUERYVIDEOMEMORYINFO qi = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL);
	enum { N = 8 };
	const uint64_t total = N * 4 * MIB;
	ck_assert_uint_gt(total, qi.Budget);
	ck_assert_uint_lt(total - 4 * MIB, qi.Budget);
	D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++)
		KT_ST_EQ(kt_alloc(&g, 4 * MIB, 0, 0, &h[i]), STATUS_SUCCESS);

	D3DDDI_MAKERESIDENT mr;
	KT_ST_EQ(make_resident(g.device, h, N, &mr), STATUS_NO_MEMORY);
	ck_assert_uint_gt(mr.NumBytesToTrim, 0);
	ck_assert_msg(mr.NumAllocations == 0, "NumAllocations (out: how many were made resident) is %u", mr.NumAllocations);
	ck_assert_uint_ge(mr.NumBytesToTrim, total - qi.Budget);
	ck_assert_uint_le(mr.NumBytesToTrim, total);
	/* Nothing was made resident by the failed call. */
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(kt_query(h[i]).residency_count, 0);
	KT_ST_EQ(evict(g.device, h, 1), STATUS_INVALID_PARAMETER);

	/* Within the budget it works; one more passes it. */
	ck_assert_int_ge(make_resident(g.device, h, N - 1, &mr), 0);
	KT_ST_EQ(make_resident(g.device, &h[N - 1], 1, &mr), STATUS_NO_MEMORY);
	ck_assert_uint_ge(mr.NumBytesToTrim, total - qi.Budget);
	ck_assert_uint_eq(kt_query(h[N - 1]).residency_count, 0);
	/* Evicting one makes room for the last. */
	KT_ST_EQ(evict(g.device, h, 1), STATUS_SUCCESS);
	ck_assert_int_ge(make_resident(g.device, &h[N - 1], 1, &mr), 0);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_make_resident_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[2], gone;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[1]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &gone), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, gone), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_HANDLE other;
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	KT_ST_EQ(kt_alloc_on(dev2, &d, &other), STATUS_SUCCESS);
	D3DDDI_MAKERESIDENT mr;

	KT_ST_EQ(D3DKMTMakeResident(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(make_resident(g.device, h, 0, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(make_resident(g.device, NULL, 1, NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE *many = malloc((D3DKMT_MAKERESIDENT_ALLOC_MAX + 1) * sizeof(*many));
	ck_assert_ptr_nonnull(many);
	for (int i = 0; i <= D3DKMT_MAKERESIDENT_ALLOC_MAX; i++)
		many[i] = h[i & 1];
	KT_ST_EQ(make_resident(g.device, many, D3DKMT_MAKERESIDENT_ALLOC_MAX + 1, NULL), STATUS_INVALID_PARAMETER);
	free(many);
	KT_ST_EQ(make_resident(0, h, 2, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(make_resident(h[0], h, 2, NULL), STATUS_INVALID_PARAMETER);  /* not a device */
	KT_ST_EQ(make_resident(g.adapter, h, 2, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(make_resident(g.context, h, 2, NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE bad1[2] = { h[0], gone };
	KT_ST_EQ(make_resident(g.device, bad1, 2, NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE bad2[2] = { h[0], other };
	KT_ST_EQ(make_resident(g.device, bad2, 2, NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE bad3[2] = { h[1], h[1] };
	KT_ST_EQ(make_resident(g.device, bad3, 2, NULL), STATUS_INVALID_PARAMETER);
	UINT prio[2] = { D3DDDI_ALLOCATIONPRIORITY_HIGH, 0 };
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 2;
	mr.AllocationList = h;
	mr.PriorityList = prio;
	KT_ST_EQ(D3DKMTMakeResident(&mr), STATUS_INVALID_PARAMETER);
	mr.PriorityList = NULL;
	mr.Flags.Value = 0x4u;
	KT_ST_EQ(D3DKMTMakeResident(&mr), STATUS_INVALID_PARAMETER);
	/* None of it made anything resident. */
	ck_assert_uint_eq(kt_query(h[0]).residency_count, 0);
	ck_assert_uint_eq(kt_query(h[1]).residency_count, 0);
	ck_assert_uint_eq(kt_query(other).residency_count, 0);
	/* A priority list with every entry set applies them. */
	prio[1] = D3DDDI_ALLOCATIONPRIORITY_LOW;
	mr.Flags.Value = 0;
	mr.PriorityList = prio;
	KT_ST_EQ(D3DKMTMakeResident(&mr), STATUS_SUCCESS);
	UINT got[2];
	KT_ST_EQ(get_priorities(g.device, h, 2, got), STATUS_SUCCESS);
	ck_assert_uint_eq(got[0], D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_uint_eq(got[1], D3DDDI_ALLOCATIONPRIORITY_LOW);
	kt_teardown(&g);
}
END_TEST

/* ---- Evict ---------------------------------------------------------------------- */

START_TEST(test_evict_not_resident)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[2];
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[1]), STATUS_SUCCESS);
	uint32_t seg = kt_segment(h[0]);
	KT_ST_EQ(evict(g.device, h, 1), STATUS_INVALID_PARAMETER);  /* never made resident */
	ck_assert_uint_eq(kt_segment(h[0]), seg);
	KT_ST_EQ(make_resident(g.device, h, 1, NULL), STATUS_SUCCESS);
	/* One of the two was not made resident: nothing is evicted. */
	KT_ST_EQ(evict(g.device, h, 2), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(kt_query(h[0]).residency_count, 1);
	ck_assert_uint_eq(kt_segment(h[0]), seg);
	KT_ST_EQ(evict(g.device, h, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h[0]).residency_count, 0);
	KT_ST_EQ(evict(g.device, h, 1), STATUS_INVALID_PARAMETER);  /* twice */
	/* Another device's residency is its own. */
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	KT_ST_EQ(make_resident(g.device, &h[1], 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(dev2, &h[1], 1), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(kt_query(h[1]).residency_count, 1);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_evict_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	D3DKMT_EVICT ev;
	KT_ST_EQ(D3DKMTEvict(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(g.device, &h, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(g.device, NULL, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(g.device, &h, D3DKMT_MAKERESIDENT_ALLOC_MAX + 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(0, &h, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(h, &h, 1), STATUS_INVALID_PARAMETER);
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	ev.Flags.Value = 0x4u;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE twice[2] = { h, h };
	KT_ST_EQ(evict(g.device, twice, 2), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(kt_query(h).residency_count, 1);
	ck_assert_uint_ne(kt_segment(h), GPUSIM_SEG_SYS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_evict_shows_not_resident)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE v, a;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &v), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_GART, KT_SEG(GART), &a), STATUS_SUCCESS);
	ck_assert_int_eq(residency(g.device, v), D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY);
	ck_assert_int_eq(residency(g.device, a), D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY);
	D3DKMT_HANDLE both[2] = { v, a };
	KT_ST_EQ(make_resident(g.device, both, 2, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, both, 2), STATUS_SUCCESS);
	ck_assert_int_eq(residency(g.device, v), D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT);
	ck_assert_int_eq(residency(g.device, a), D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT);
	ck_assert_uint_eq(kt_segment(v), GPUSIM_SEG_SYS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);

	/* The query takes a list of several too, and validates it. */
	D3DKMT_ALLOCATIONRESIDENCYSTATUS rs[2] = { 0, 0 };
	D3DKMT_QUERYALLOCATIONRESIDENCY q;
	memset(&q, 0, sizeof(q));
	q.hDevice = g.device;
	q.phAllocationList = both;
	q.AllocationCount = 2;
	q.pResidencyStatus = rs;
	KT_ST_EQ(make_resident(g.device, &v, 1, NULL), STATUS_PENDING);
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_SUCCESS);
	ck_assert_int_eq(rs[0], D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY);
	ck_assert_int_eq(rs[1], D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT);
	q.pResidencyStatus = NULL;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_INVALID_PARAMETER);
	q.pResidencyStatus = rs;
	q.hDevice = 0;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTQueryAllocationResidency(NULL), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

/* MakeResident counts: it takes as many Evicts as MakeResidents to evict. */
START_TEST(test_residency_is_counted)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &h, 1), STATUS_SUCCESS);
	ck_assert_uint_ne(kt_segment(h), GPUSIM_SEG_SYS);
	ck_assert_int_eq(residency(g.device, h), D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY);
	KT_ST_EQ(evict(g.device, &h, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	kt_teardown(&g);
}
END_TEST

/* What a caller made resident stays resident: only a Render that needs the room
 * may evict it (kmt/README.md). Here A is resident and the least recently used of
 * six allocations filling the invisible segment. */
static D3DKMT_HANDLE resident_lru(struct kt_gpu *g, D3DKMT_HANDLE *others)
{
	D3DKMT_HANDLE a;
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g->device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g->device, &a, 1, NULL), STATUS_SUCCESS);
	for (int i = 0; i < 5; i++) {
		KT_ST_EQ(kt_alloc_on(g->device, &d, &others[i]), STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(others[i]), GPUSIM_SEG_INVISIBLE);
	}
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_INVISIBLE);
	return a;
}

/* An allocation of the same shape waiting in its backing store. */
static D3DKMT_HANDLE waiting_in_sys(struct kt_gpu *g)
{
	D3DKMT_HANDLE x;
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g->device, &d, &x), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g->device, &x, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g->device, &x, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(x), GPUSIM_SEG_SYS);
	return x;
}

START_TEST(test_resident_survives_make_resident)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE o[5];
	D3DKMT_HANDLE x = waiting_in_sys(&g);
	D3DKMT_HANDLE a = resident_lru(&g, o);
	KT_ST_EQ(make_resident(g.device, &x, 1, NULL), STATUS_PENDING);
	ck_assert_uint_eq(kt_segment(x), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(o[0]), GPUSIM_SEG_SYS); /* the least recently used of the others */
	kt_teardown(&g);
}
END_TEST

START_TEST(test_resident_survives_creation)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE o[5], x;
	D3DKMT_HANDLE a = resident_lru(&g, o);
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &x), STATUS_SUCCESS);
	ck_assert_msg(kt_segment(a) == GPUSIM_SEG_INVISIBLE,
		      "an allocation under MakeResident was evicted to make room for a new one");
	ck_assert_uint_eq(kt_segment(o[0]), GPUSIM_SEG_SYS); /* the next least recently used went */
	kt_teardown(&g);
}
END_TEST

START_TEST(test_resident_survives_lock)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	/* Visible VRAM: a resident allocation (least recently used) and others fill it. */
	struct gpusim_alloc_desc d = kt_desc(MIB, 0, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	D3DKMT_HANDLE a, o[6], m;
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &a, 1, NULL), STATUS_SUCCESS);
	for (int i = 0; i < 6; i++)
		KT_ST_EQ(kt_alloc_on(g.device, &d, &o[i]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_VISIBLE);
	/* Locking what lives in invisible VRAM brings it behind BAR2: room is needed. */
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &m), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, m, MIB, 4), STATUS_SUCCESS);
	ck_assert_uint_ne(kt_segment(m), GPUSIM_SEG_INVISIBLE);
	ck_assert_msg(kt_segment(a) == GPUSIM_SEG_VISIBLE,
		      "an allocation under MakeResident was evicted to make room for a lock");
	kt_teardown(&g);
}
END_TEST

/* A Render that needs the room may take it, resident or not. */
START_TEST(test_resident_evicted_by_render)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE o[5];
	D3DKMT_HANDLE x = waiting_in_sys(&g);
	D3DKMT_HANDLE a = resident_lru(&g, o);
	KT_ST_EQ(make_resident(g.device, o, 5, NULL), STATUS_SUCCESS);
	/* Everything in the segment is resident; the Render needs room for x. */
	kt_cmd_begin(&g);
	kt_cmd_use(&g, x);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(x), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_SYS);       /* least recently used */
	ck_assert_uint_eq(kt_query(a).residency_count, 1);         /* still wanted */
	/* MakeResident brings it back, taking the room of what nobody made resident. */
	KT_ST_EQ(make_resident(g.device, &a, 1, NULL), STATUS_PENDING);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(x), GPUSIM_SEG_SYS);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(kt_segment(o[i]), GPUSIM_SEG_INVISIBLE);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_evict_only_if_necessary)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	struct gpusim_alloc_info before = kt_query(h);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	ev.Flags.EvictOnlyIfNecessary = 1;
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h).residency_count, 0); /* evictable now... */
	ck_assert_uint_eq(kt_query(h).segment, before.segment); /* ...but not evicted */
	ck_assert_uint_eq(kt_query(h).offset, before.offset);
	KT_ST_EQ(D3DKMTEvict(&ev), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

/* Residency is counted per device: memory shared by two devices stays while
 * either wants it. */
START_TEST(test_shared_residency_per_device)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(MIB, 0, 0, 0);
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
	D3DKMT_HANDLE h1 = info.hAllocation;
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
	KT_ST_EQ(kt_write(g.device, h1, MIB, 44), STATUS_SUCCESS);

	KT_ST_EQ(make_resident(g.device, &h1, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(dev2, &h2, 1, NULL), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h1).residency_count, 2);
	uint32_t seg = kt_segment(h1);
	KT_ST_EQ(evict(g.device, &h1, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h2).residency_count, 1);
	ck_assert_uint_eq(kt_segment(h2), seg);          /* dev2 still wants it */
	KT_ST_EQ(evict(g.device, &h1, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(evict(dev2, &h2, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h1), GPUSIM_SEG_SYS);
	ck_assert(kt_verify(dev2, h2, MIB, 44));
	kt_teardown(&g);
}
END_TEST

/*
 * Destroying an allocation gives what it made resident back to the budget, once
 * per handle however many times it was made resident, also when its device
 * goes; shared memory stays resident for the other device's handle. Found by
 * tests/soak: the budget leaked until every MakeResident answered
 * STATUS_NO_MEMORY.
 */
START_TEST(test_destroy_releases_residency)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_QUERYVIDEOMEMORYINFO qi = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL);
	enum { N = 6 };
	const uint64_t size = 4 * MIB;
	ck_assert_uint_lt(N * size, qi.Budget);
	ck_assert_uint_gt(2 * N * size, qi.Budget); /* a leak of one round shows in the next */
	struct gpusim_alloc_desc d = kt_desc(size, 0, 0, 0);
	D3DKMT_HANDLE h[N];
	for (int round = 0; round < 4; round++) {
		D3DKMT_HANDLE dev = round % 2 ? kt_new_device(&g) : g.device;
		for (int i = 0; i < N; i++) {
			KT_ST_EQ(kt_alloc_on(dev, &d, &h[i]), STATUS_SUCCESS);
			ck_assert_int_ge(make_resident(dev, &h[i], 1, NULL), 0);
			if (i % 2)
				ck_assert_int_ge(make_resident(dev, &h[i], 1, NULL), 0);
		}
		kt_assert_invariants(&g);
		if (round % 2) {
			D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
			KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
		} else {
			for (int i = 0; i < N; i++)
				KT_ST_EQ(kt_free(dev, h[i]), STATUS_SUCCESS);
		}
		kt_assert_invariants(&g);
	}

	/* Shared memory: the handle made resident twice goes, the other's stays. */
	struct gpusim_alloc_desc sd = kt_desc(MIB, 0, 0, 0);
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &sd;
	info.PrivateDriverDataSize = sizeof(sd);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ca.Flags.CreateResource = 1;
	ca.Flags.CreateShared = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	D3DKMT_HANDLE h1 = info.hAllocation;
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
	ck_assert_int_ge(make_resident(g.device, &h1, 1, NULL), 0);
	ck_assert_int_ge(make_resident(g.device, &h1, 1, NULL), 0);
	ck_assert_int_ge(make_resident(dev2, &h2, 1, NULL), 0);
	ck_assert_uint_eq(kt_query(h2).residency_count, 2);
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = g.device;
	da.hResource = ca.hResource;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h2).residency_count, 1);
	kt_assert_invariants(&g);
	KT_ST_EQ(evict(dev2, &h2, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(h2).residency_count, 0);
	ck_assert_uint_eq(kt_segment(h2), GPUSIM_SEG_SYS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* The commit charge made at creation pays for every eviction: with system memory
 * exhausted, paging still works and loses nothing. */
START_TEST(test_eviction_needs_no_new_memory)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=4M,gart=4M,sysmem=64M");
	enum { N = 16 };
	D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(g.device, h[i], MIB, 500 + i), STATUS_SUCCESS);
	}
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_SYSMEM_OOM, 0), STATUS_SUCCESS);
	D3DKMT_HANDLE none;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &none), STATUS_NO_MEMORY);
	uint64_t ev0 = kt_stats(&g).evictions;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++)
			ck_assert_msg(kt_gpu_crc(&g, h[i], MIB) == kt_pattern_crc(MIB, 500 + i), "allocation %d", i);
	ck_assert_uint_ge(kt_stats(&g).evictions, ev0 + N); /* it did page, a lot */
	for (int i = 0; i < N; i += 5)
		ck_assert(kt_verify(g.device, h[i], MIB, 500 + i));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* After removal, every residency and CPU-access call answers STATUS_DEVICE_REMOVED
 * and changes nothing. */
START_TEST(test_removed_device_residency)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h, l;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &l), STATUS_SUCCESS);
	KT_ST_EQ(make_resident(g.device, &h, 1, NULL), STATUS_SUCCESS);
	lock2(g.device, l);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);

	KT_ST_EQ(make_resident(g.device, &l, 1, NULL), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(evict(g.device, &h, 1), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(kt_query(h).residency_count, 1);
	ck_assert_uint_eq(kt_query(l).residency_count, 0);
	UINT prio = D3DDDI_ALLOCATIONPRIORITY_HIGH;
	KT_ST_EQ(set_priorities(g.device, &h, 1, &prio), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(get_priorities(g.device, &h, 1, &prio), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(kt_query(h).priority, D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	D3DKMT_ALLOCATIONRESIDENCYSTATUS rs;
	D3DKMT_QUERYALLOCATIONRESIDENCY q;
	memset(&q, 0, sizeof(q));
	q.hDevice = g.device;
	q.phAllocationList = &h;
	q.AllocationCount = 1;
	q.pResidencyStatus = &rs;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_DEVICE_REMOVED);
	D3DKMT_QUERYVIDEOMEMORYINFO qi;
	memset(&qi, 0, sizeof(qi));
	qi.hAdapter = g.adapter;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_DEVICE_REMOVED);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = h };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(kt_query(h).lock_count, 0);
	KT_ST_EQ(unlock2(g.device, l), STATUS_DEVICE_REMOVED);
	/* Malformed input is still reported as such. */
	KT_ST_EQ(make_resident(g.device, &h, 0, NULL), STATUS_INVALID_PARAMETER);
	/* Destruction frees, locked or not. */
	KT_ST_EQ(kt_free(g.device, l), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, h), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- QueryVideoMemoryInfo ---------------------------------------------------------- */

START_TEST(test_video_memory_info)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_stats s = kt_stats(&g);
	D3DKMT_QUERYVIDEOMEMORYINFO loc = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL);
	D3DKMT_QUERYVIDEOMEMORYINFO non = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL);
	ck_assert_uint_eq(loc.Budget, s.seg[GPUSIM_SEG_VISIBLE].size + s.seg[GPUSIM_SEG_INVISIBLE].size);
	ck_assert_uint_eq(non.Budget, s.seg[GPUSIM_SEG_GART].size);
	ck_assert_uint_gt(loc.Budget, 31 * MIB);
	ck_assert_uint_le(loc.Budget, 32 * MIB);
	ck_assert_uint_le(loc.CurrentUsage, loc.Budget);
	ck_assert_uint_le(loc.AvailableForReservation, loc.Budget);

	D3DKMT_HANDLE a, b, c;
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE), &a), STATUS_SUCCESS);
	D3DKMT_QUERYVIDEOMEMORYINFO l1 = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL);
	ck_assert_uint_eq(l1.CurrentUsage, loc.CurrentUsage + MIB);
	KT_ST_EQ(kt_alloc(&g, MIB + 1, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &b), STATUS_SUCCESS);
	D3DKMT_QUERYVIDEOMEMORYINFO l2 = memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL);
	ck_assert_uint_eq(l2.CurrentUsage, l1.CurrentUsage + MIB + PG); /* whole pages */
	ck_assert_uint_eq(l2.Budget, loc.Budget);
	/* A GART allocation counts against the other group. */
	KT_ST_EQ(kt_alloc(&g, 2 * MIB, GPUSIM_SEG_GART, KT_SEG(GART), &c), STATUS_SUCCESS);
	ck_assert_uint_eq(memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL).CurrentUsage, l2.CurrentUsage);
	ck_assert_uint_eq(memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL).CurrentUsage,
			  non.CurrentUsage + 2 * MIB);
	/* Freeing gives it back; so does eviction. */
	KT_ST_EQ(kt_free(g.device, b), STATUS_SUCCESS);
	ck_assert_uint_eq(memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL).CurrentUsage, l1.CurrentUsage);
	KT_ST_EQ(make_resident(g.device, &a, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &a, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(memory_info(&g, D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL).CurrentUsage, loc.CurrentUsage);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_video_memory_info_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_QUERYVIDEOMEMORYINFO qi;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(NULL), STATUS_INVALID_PARAMETER);
	memset(&qi, 0, sizeof(qi));
	qi.hAdapter = 0;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_INVALID_PARAMETER);
	qi.hAdapter = g.device;                      /* not an adapter */
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_INVALID_PARAMETER);
	qi.hAdapter = g.adapter;
	qi.MemorySegmentGroup = (D3DKMT_MEMORY_SEGMENT_GROUP)2;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_INVALID_PARAMETER);
	qi.MemorySegmentGroup = D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL;
	qi.PhysicalAdapterIndex = 1;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_INVALID_PARAMETER);
	qi.PhysicalAdapterIndex = 0;
	qi.hProcess = (HANDLE)(uintptr_t)0x1234;      /* another process */
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_INVALID_PARAMETER);
	qi.hProcess = NULL;
	KT_ST_EQ(D3DKMTQueryVideoMemoryInfo(&qi), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- priorities ------------------------------------------------------------------ */

START_TEST(test_priority_round_trip)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[3];
	for (int i = 0; i < 3; i++)
		KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[i]), STATUS_SUCCESS);
	UINT got[3] = { 0, 0, 0 };
	KT_ST_EQ(get_priorities(g.device, h, 3, got), STATUS_SUCCESS);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(got[i], D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	const UINT want[3] = { D3DDDI_ALLOCATIONPRIORITY_MINIMUM, D3DDDI_ALLOCATIONPRIORITY_MAXIMUM, 0x12345678u };
	KT_ST_EQ(set_priorities(g.device, h, 3, want), STATUS_SUCCESS);
	KT_ST_EQ(get_priorities(g.device, h, 3, got), STATUS_SUCCESS);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(got[i], want[i]);
	ck_assert_uint_eq(kt_query(h[1]).priority, D3DDDI_ALLOCATIONPRIORITY_MAXIMUM);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_priority_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[2], gone;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[1]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &gone), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, gone), STATUS_SUCCESS);
	UINT prio[2] = { D3DDDI_ALLOCATIONPRIORITY_HIGH, 0 };
	UINT got[2];
	KT_ST_EQ(set_priorities(g.device, h, 2, prio), STATUS_INVALID_PARAMETER); /* 0 is no priority */
	KT_ST_EQ(get_priorities(g.device, h, 2, got), STATUS_SUCCESS);
	ck_assert_uint_eq(got[0], D3DDDI_ALLOCATIONPRIORITY_NORMAL);      /* nothing applied */
	prio[1] = D3DDDI_ALLOCATIONPRIORITY_LOW;
	KT_ST_EQ(set_priorities(g.device, h, 2, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(set_priorities(g.device, h, 0, prio), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(set_priorities(0, h, 2, prio), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE bad[2] = { h[0], gone };
	KT_ST_EQ(set_priorities(g.device, bad, 2, prio), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(get_priorities(g.device, bad, 2, got), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(get_priorities(g.device, h, 2, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTSetAllocationPriority(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTGetAllocationPriority(NULL), STATUS_INVALID_PARAMETER);
	/* A resource or a list, not both. */
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
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
	KT_ST_EQ(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	D3DKMT_SETALLOCATIONPRIORITY sp;
	memset(&sp, 0, sizeof(sp));
	sp.hDevice = g.device;
	sp.hResource = ca.hResource;
	sp.phAllocationList = h;
	sp.AllocationCount = 2;
	sp.pPriorities = prio;
	KT_ST_EQ(D3DKMTSetAllocationPriority(&sp), STATUS_INVALID_PARAMETER);
	sp.hResource = h[0];            /* an allocation is not a resource */
	sp.phAllocationList = NULL;
	sp.AllocationCount = 0;
	KT_ST_EQ(D3DKMTSetAllocationPriority(&sp), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	KT_ST_EQ(set_priorities(dev2, h, 2, prio), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(get_priorities(g.device, h, 2, got), STATUS_SUCCESS);
	ck_assert_uint_eq(got[0], D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	ck_assert_uint_eq(got[1], D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	kt_teardown(&g);
}
END_TEST

/* With hResource, GetAllocationPriority and QueryAllocationResidency answer in
 * one element, as documented and as dxgkrnl copies out (tests/fuzz/fuzz_api
 * found them writing one per allocation past a one-element array). */
START_TEST(test_resource_answers_in_one_element)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d[3] = {
		kt_desc(MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE)),
		kt_desc(MIB, 0, GPUSIM_SEG_GART, KT_SEG(GART)),
		kt_desc(MIB, 0, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE)),
	};
	D3DDDI_ALLOCATIONINFO2 info[3];
	memset(info, 0, sizeof(info));
	for (int i = 0; i < 3; i++) {
		info[i].pPrivateDriverData = &d[i];
		info[i].PrivateDriverDataSize = sizeof(d[i]);
	}
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 3;
	ca.pAllocationInfo2 = info;
	ca.Flags.CreateResource = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	D3DKMT_HANDLE h[3] = { info[0].hAllocation, info[1].hAllocation, info[2].hAllocation };
	const UINT prio[3] = { D3DDDI_ALLOCATIONPRIORITY_HIGH, D3DDDI_ALLOCATIONPRIORITY_LOW,
			       D3DDDI_ALLOCATIONPRIORITY_MAXIMUM };
	KT_ST_EQ(set_priorities(g.device, h, 3, prio), STATUS_SUCCESS);

	/* Exactly one element on the heap: the sanitizer build sees a write past it;
	 * the guard words behind a stack copy show it in every build. */
	UINT *one = malloc(sizeof(*one));
	ck_assert_ptr_nonnull(one);
	D3DKMT_GETALLOCATIONPRIORITY gp;
	memset(&gp, 0, sizeof(gp));
	gp.hDevice = g.device;
	gp.hResource = ca.hResource;
	gp.pPriorities = one;
	KT_ST_EQ(D3DKMTGetAllocationPriority(&gp), STATUS_SUCCESS);
	ck_assert_uint_eq(*one, D3DDDI_ALLOCATIONPRIORITY_LOW); /* the lowest of the three */
	UINT guarded[4] = { 0, 0xa5a5a5a5u, 0xa5a5a5a5u, 0xa5a5a5a5u };
	gp.pPriorities = guarded;
	KT_ST_EQ(D3DKMTGetAllocationPriority(&gp), STATUS_SUCCESS);
	ck_assert_uint_eq(guarded[0], D3DDDI_ALLOCATIONPRIORITY_LOW);
	for (int i = 1; i < 4; i++)
		ck_assert_uint_eq(guarded[i], 0xa5a5a5a5u);

	D3DKMT_ALLOCATIONRESIDENCYSTATUS *rs = malloc(sizeof(*rs));
	ck_assert_ptr_nonnull(rs);
	D3DKMT_QUERYALLOCATIONRESIDENCY q;
	memset(&q, 0, sizeof(q));
	q.hDevice = g.device;
	q.hResource = ca.hResource;
	q.pResidencyStatus = rs;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_SUCCESS);
	/* Two in VRAM, one in the aperture: the worst is shared memory. */
	ck_assert_int_eq(*rs, D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY);
	KT_ST_EQ(make_resident(g.device, &h[2], 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &h[2], 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h[2]), GPUSIM_SEG_SYS);
	D3DKMT_ALLOCATIONRESIDENCYSTATUS rguard[3] = { 0, (D3DKMT_ALLOCATIONRESIDENCYSTATUS)0x5a5a5a5a,
						      (D3DKMT_ALLOCATIONRESIDENCYSTATUS)0x5a5a5a5a };
	q.pResidencyStatus = rguard;
	KT_ST_EQ(D3DKMTQueryAllocationResidency(&q), STATUS_SUCCESS);
	ck_assert_int_eq(rguard[0], D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT);
	ck_assert_int_eq(rguard[1], 0x5a5a5a5a);
	ck_assert_int_eq(rguard[2], 0x5a5a5a5a);
	/* Each allocation still answers for itself through a list. */
	ck_assert_int_eq(residency(g.device, h[0]), D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY);
	free(one);
	free(rs);
	kt_teardown(&g);
}
END_TEST

/* Six 4 MiB allocations fill the 24 MiB invisible segment; a seventh needs a victim. */
static void fill_invisible(struct kt_gpu *g, const uint32_t *prio, D3DKMT_HANDLE *h)
{
	for (int i = 0; i < 6; i++) {
		struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
		d.priority = prio ? prio[i] : 0;
		KT_ST_EQ(kt_alloc_on(g->device, &d, &h[i]), STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
	}
}

static D3DKMT_HANDLE one_more_invisible(struct kt_gpu *g)
{
	D3DKMT_HANDLE h;
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g->device, &d, &h), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_INVISIBLE);
	return h;
}

static void use(struct kt_gpu *g, D3DKMT_HANDLE h)
{
	kt_cmd_begin(g);
	kt_cmd_use(g, h);
	KT_ST_EQ(kt_cmd_submit(g), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(g->luid), STATUS_SUCCESS);
}

START_TEST(test_priority_lru_evicts_minimum_first)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[6];
	fill_invisible(&g, NULL, h);
	UINT minimum = D3DDDI_ALLOCATIONPRIORITY_MINIMUM;
	KT_ST_EQ(set_priorities(g.device, &h[0], 1, &minimum), STATUS_SUCCESS);
	/* h[0] is the most recently used; h[1] the least. */
	for (int i = 1; i < 6; i++)
		use(&g, h[i]);
	use(&g, h[0]);
	uint64_t ev0 = kt_stats(&g).evictions;
	one_more_invisible(&g);
	ck_assert_uint_eq(kt_stats(&g).evictions, ev0 + 1);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_SYS);
	for (int i = 1; i < 6; i++)
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
	/* Among equals, the least recently used goes next. */
	one_more_invisible(&g);
	ck_assert_uint_eq(kt_segment(h[1]), GPUSIM_SEG_SYS);
	for (int i = 2; i < 6; i++)
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* A higher priority protects a less recently used allocation. */
START_TEST(test_priority_lru_protects_high)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[6];
	const uint32_t prio[6] = { D3DDDI_ALLOCATIONPRIORITY_HIGH, 0, 0, 0, 0, 0 };
	fill_invisible(&g, prio, h);
	for (int i = 0; i < 6; i++)
		use(&g, h[i]); /* h[0] least recently used */
	one_more_invisible(&g);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(h[1]), GPUSIM_SEG_SYS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_lru_policy_ignores_priority)
{
	struct kt_gpu g;
	kt_setup(&g, CFG ",policy=lru");
	D3DKMT_HANDLE h[6];
	const uint32_t prio[6] = { D3DDDI_ALLOCATIONPRIORITY_MINIMUM, D3DDDI_ALLOCATIONPRIORITY_MAXIMUM, 0, 0, 0, 0 };
	fill_invisible(&g, prio, h);
	for (int i = 1; i < 6; i++)
		use(&g, h[i]);
	use(&g, h[0]); /* the minimum-priority one is the most recently used */
	one_more_invisible(&g);
	ck_assert_uint_eq(kt_segment(h[1]), GPUSIM_SEG_SYS); /* maximum priority, least recent */
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_INVISIBLE);
	for (int i = 2; i < 6; i++)
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
	one_more_invisible(&g);
	ck_assert_uint_eq(kt_segment(h[2]), GPUSIM_SEG_SYS);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_INVISIBLE);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- CPU access ---------------------------------------------------------------------- */

START_TEST(test_lock_moves_invisible_to_visible)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE src, dst;
	struct gpusim_alloc_desc ds = kt_desc(MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &ds, &src), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, src, MIB, 11), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_INVISIBLE, 0, &dst), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(dst), GPUSIM_SEG_INVISIBLE);
	/* The GPU writes the data where the CPU cannot see it. */
	kt_cmd_begin(&g);
	kt_cmd_copy(&g, src, dst, MIB);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(dst), GPUSIM_SEG_INVISIBLE);
	uint64_t moves = kt_stats(&g).moves;

	void *p = lock2(g.device, dst);
	ck_assert_uint_eq(kt_segment(dst), GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_stats(&g).moves, moves + 1);
	ck_assert(kt_pattern_ok(p, MIB, 11));
	KT_ST_EQ(unlock2(g.device, dst), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_locked_does_not_move)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE l;
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &l), STATUS_SUCCESS);
	void *p = lock2(g.device, l);
	kt_pattern(p, MIB, 21);
	struct gpusim_alloc_info before = kt_query(l);
	ck_assert_uint_eq(before.lock_count, 1);
	uint64_t ev0 = kt_stats(&g).evictions;
	/* Evict is accepted but cannot move it while locked. */
	KT_ST_EQ(make_resident(g.device, &l, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &l, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(l).segment, before.segment);
	ck_assert_uint_eq(kt_query(l).offset, before.offset);

	/* Visible-only allocations fight over visible VRAM... */
	for (int i = 0; i < 10; i++) {
		D3DKMT_HANDLE h;
		KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &h), STATUS_SUCCESS);
		kt_cmd_begin(&g);
		kt_cmd_fill(&g, h, MIB, 0xabababab);
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	/* ...and the rest push everywhere else. */
	push(&g, 12, 4 * MIB, NULL);
	ck_assert_int_eq(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_gt(kt_stats(&g).evictions, ev0);

	struct gpusim_alloc_info after = kt_query(l);
	ck_assert_uint_eq(after.segment, before.segment);
	ck_assert_uint_eq(after.offset, before.offset);
	ck_assert_uint_eq(after.lock_count, 1);
	ck_assert(kt_pattern_ok(p, MIB, 21));
	KT_ST_EQ(unlock2(g.device, l), STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, l, MIB, 21));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_lock_busy)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=32M,visible=16M,gart=16M,sysmem=256M");
	D3DKMT_HANDLE x;
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &x), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, x, 4 * MIB, 3), STATUS_SUCCESS);
	uint64_t t0 = kt_stats(&g).time_ns;
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, x, 4 * MIB, 0x5a5a5a5au);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	/* No idle: the GPU still has the fill to do. */
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = x;
	lk.Flags.DonotWait = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_GRAPHICS_ALLOCATION_BUSY);
	ck_assert_uint_eq(kt_query(x).lock_count, 0);

	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = x;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_SUCCESS); /* waits for the fill */
	ck_assert_ptr_nonnull(lk.pData);
	const uint32_t *p = lk.pData;
	for (uint64_t i = 0; i < 4 * MIB / 4; i++)
		if (p[i] != 0x5a5a5a5au)
			ck_abort_msg("word %llu is 0x%08x after the fill", (unsigned long long)i, p[i]);
	ck_assert_uint_gt(kt_stats(&g).time_ns, t0);
	D3DKMT_UNLOCK ul;
	memset(&ul, 0, sizeof(ul));
	ul.hDevice = g.device;
	ul.NumAllocations = 1;
	ul.phAllocations = &x;
	KT_ST_EQ(D3DKMTUnlock(&ul), STATUS_SUCCESS);
	/* Idle now: DonotWait succeeds. */
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = x;
	lk.Flags.DonotWait = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_SUCCESS);
	KT_ST_EQ(D3DKMTUnlock(&ul), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_lock_nested_and_invalid)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h, gone;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &gone), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, gone), STATUS_SUCCESS);
	void *p1 = lock2(g.device, h);
	void *p2 = lock2(g.device, h);
	ck_assert_ptr_eq(p1, p2);
	ck_assert_uint_eq(kt_query(h).lock_count, 2);
	KT_ST_EQ(unlock2(g.device, h), STATUS_SUCCESS);
	KT_ST_EQ(unlock2(g.device, h), STATUS_SUCCESS);
	KT_ST_EQ(unlock2(g.device, h), STATUS_INVALID_PARAMETER); /* not locked */
	ck_assert_uint_eq(kt_query(h).lock_count, 0);

	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = h;
	lk.Flags.ReadOnly = 1;
	lk.Flags.WriteOnly = 1;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_INVALID_PARAMETER);
	lk.Flags.Value = 0x800u; /* reserved */
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_INVALID_PARAMETER);
	lk.Flags.Value = 0;
	lk.NumPages = 1;         /* a page list without the list */
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_INVALID_PARAMETER);
	lk.NumPages = 0;
	lk.hAllocation = gone;
	KT_ST_EQ(D3DKMTLock(&lk), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTLock(NULL), STATUS_INVALID_PARAMETER);
	D3DKMT_LOCK2 l2 = { .hDevice = g.device, .hAllocation = h };
	l2.Flags.Value = 1;
	KT_ST_EQ(D3DKMTLock2(&l2), STATUS_INVALID_PARAMETER);
	l2.Flags.Value = 0;
	l2.hDevice = kt_new_device(&g);   /* not this device's allocation */
	KT_ST_EQ(D3DKMTLock2(&l2), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTLock2(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTUnlock2(NULL), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(kt_query(h).lock_count, 0);
	kt_teardown(&g);
}
END_TEST

/* What kmt/README.md "Lifetimes" promises of a Lock pointer: it survives an Unlock
 * that leaves the allocation locked and the device's removal; a mapping of system
 * pages (GART) is gone once its device is destroyed, so a late write faults. */
START_TEST(test_lock_pointer_lifetime)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE dev = kt_new_device(&g);
	D3DKMT_HANDLE vis, gart;
	struct gpusim_alloc_desc dv = kt_desc(64 * KIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE));
	struct gpusim_alloc_desc dg = kt_desc(64 * KIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_GART, KT_SEG(GART));
	KT_ST_EQ(kt_alloc_on(g.device, &dv, &vis), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc_on(dev, &dg, &gart), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(vis), GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_segment(gart), GPUSIM_SEG_GART);
	uint8_t *p = lock2(g.device, vis);
	ck_assert_ptr_eq(lock2(g.device, vis), p);
	KT_ST_EQ(unlock2(g.device, vis), STATUS_SUCCESS);
	/* Still locked once: the address still holds, and what is written lands. */
	memset(p, 0x3c, 64 * KIB);
	KT_ST_EQ(unlock2(g.device, vis), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_cpu_crc(g.device, vis, 0, 64 * KIB), fill_crc(64 * KIB, 0x3c));

	volatile uint8_t *gp = lock2(dev, gart);
	gp[0] = 1;
	p = lock2(g.device, vis);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	/* Removal ends neither: both are still mapped. */
	memset(p, 0x5a, 64 * KIB);
	gp[1] = 2;
	ck_assert_uint_eq(kt_query(vis).lock_count, 1);
	/* Destroying the GART allocation's device unmaps its pages: a write through
	 * the old pointer (in a child, which must not survive it) faults. */
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		gp[2] = 3;
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* SIGSEGV, or a sanitizer's report and exit status in its place. */
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 0), "a write through a destroyed "
		      "device's Lock pointer did not fault");
	kt_teardown(&g);
}
END_TEST

/* ---- pinned allocations ----------------------------------------------------------- */

START_TEST(test_pinned_never_moves)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE p;
	struct gpusim_alloc_desc d = kt_desc(2 * MIB, GPUSIM_ALLOC_PINNED, GPUSIM_SEG_INVISIBLE, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &p), STATUS_SUCCESS);
	struct gpusim_alloc_info before = kt_query(p);
	ck_assert_uint_eq(before.segment, GPUSIM_SEG_INVISIBLE);
	kt_cmd_begin(&g);
	kt_cmd_fill(&g, p, 2 * MIB, 0x77777777u);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);

	/* Evict after MakeResident: accepted, but it stays. */
	KT_ST_EQ(make_resident(g.device, &p, 1, NULL), STATUS_SUCCESS);
	KT_ST_EQ(evict(g.device, &p, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(p).segment, before.segment);
	ck_assert_uint_eq(kt_query(p).offset, before.offset);

	/* Pressure: three times the invisible segment, each made resident by the GPU. */
	uint64_t ev0 = kt_stats(&g).evictions;
	push(&g, 18, 4 * MIB, NULL);
	ck_assert_int_eq(gpusim_idle(g.luid), STATUS_SUCCESS);
	ck_assert_uint_gt(kt_stats(&g).evictions, ev0);
	struct gpusim_alloc_info after = kt_query(p);
	ck_assert_uint_eq(after.segment, before.segment);
	ck_assert_uint_eq(after.offset, before.offset);
	ck_assert_uint_eq(after.gpu_address, before.gpu_address);
	/* Its bytes are still the fill (checked by the GPU: the CPU cannot see it). */
	ck_assert_uint_eq(kt_gpu_crc(&g, p, 2 * MIB), fill_crc(2 * MIB, 0x77));
	ck_assert_uint_eq(kt_query(p).offset, before.offset);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* The CPU cannot reach invisible VRAM and a pinned allocation may not move there
 * from: a lock must fail rather than move it. */
START_TEST(test_lock_pinned_invisible_stays)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE p;
	struct gpusim_alloc_desc d = kt_desc(MIB, GPUSIM_ALLOC_PINNED, GPUSIM_SEG_INVISIBLE, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &p), STATUS_SUCCESS);
	struct gpusim_alloc_info before = kt_query(p);
	ck_assert_uint_eq(before.segment, GPUSIM_SEG_INVISIBLE);
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = p };
	NTSTATUS st = D3DKMTLock2(&lk);
	struct gpusim_alloc_info after = kt_query(p);
	if (st == STATUS_SUCCESS)
		unlock2(g.device, p);
	ck_assert_msg(after.segment == before.segment && after.offset == before.offset,
		      "pinned allocation moved from segment %u offset 0x%llx to segment %u offset 0x%llx",
		      before.segment, (unsigned long long)before.offset, after.segment,
		      (unsigned long long)after.offset);
	ck_assert_msg(st == STATUS_GRAPHICS_CANT_LOCK_MEMORY, "status 0x%08x, expected STATUS_GRAPHICS_CANT_LOCK_MEMORY",
		      (unsigned)st);
	ck_assert_uint_eq(after.lock_count, 0);
	kt_teardown(&g);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

Suite *kmt_residency_suite(void)
{
	Suite *s = suite_create("kmt_residency");
	TCase *tc = tcase_create("make_resident");
	tcase_add_test(tc, test_make_resident_already_resident);
	tcase_add_test(tc, test_make_resident_pending_when_paged);
	tcase_add_test(tc, test_make_resident_after_pressure);
	tcase_add_test(tc, test_make_resident_over_budget);
	tcase_add_test(tc, test_make_resident_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("evict");
	tcase_add_test(tc, test_evict_not_resident);
	tcase_add_test(tc, test_evict_invalid);
	tcase_add_test(tc, test_evict_shows_not_resident);
	tcase_add_test(tc, test_residency_is_counted);
	tcase_add_test(tc, test_resident_survives_make_resident);
	tcase_add_test(tc, test_resident_survives_creation);
	tcase_add_test(tc, test_resident_survives_lock);
	tcase_add_test(tc, test_resident_evicted_by_render);
	tcase_add_test(tc, test_evict_only_if_necessary);
	tcase_add_test(tc, test_shared_residency_per_device);
	tcase_add_test(tc, test_destroy_releases_residency);
	tcase_add_test(tc, test_eviction_needs_no_new_memory);
	tcase_add_test(tc, test_removed_device_residency);
	suite_add_tcase(s, tc);

	tc = tcase_create("budget");
	tcase_add_test(tc, test_video_memory_info);
	tcase_add_test(tc, test_video_memory_info_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("priority");
	tcase_add_test(tc, test_priority_round_trip);
	tcase_add_test(tc, test_priority_invalid);
	tcase_add_test(tc, test_resource_answers_in_one_element);
	tcase_add_test(tc, test_priority_lru_evicts_minimum_first);
	tcase_add_test(tc, test_priority_lru_protects_high);
	tcase_add_test(tc, test_lru_policy_ignores_priority);
	suite_add_tcase(s, tc);

	tc = tcase_create("lock");
	tcase_add_test(tc, test_lock_moves_invisible_to_visible);
	tcase_add_test(tc, test_locked_does_not_move);
	tcase_add_test(tc, test_lock_busy);
	tcase_add_test(tc, test_lock_nested_and_invalid);
	tcase_add_test(tc, test_lock_pointer_lifetime);
	suite_add_tcase(s, tc);

	tc = tcase_create("pinned");
	tcase_add_test(tc, test_pinned_never_moves);
	tcase_add_test(tc, test_lock_pinned_invisible_stays);
	suite_add_tcase(s, tc);
	return s;
}
