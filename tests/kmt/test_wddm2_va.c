/*
 * GPU virtual addresses (WDDM 2.0): D3DKMTReserveGpuVirtualAddress,
 * D3DKMTMapGpuVirtualAddress, D3DKMTUpdateGpuVirtualAddress and
 * D3DKMTFreeGpuVirtualAddress, their success paths and bad inputs, and the page
 * tables following the allocations they map through eviction, page-in and moves
 * (gpusim_check_invariants compares every entry with the placement it should
 * name, reading the tables from GPU memory).
 */
#include <config.h>

#include <check.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"
#include "kmt/vidmm/vatree.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

static struct kt_gpu g;

static void setup(void)
{
	kt_setup(&g, CFG);
}

static void teardown(void)
{
	kt_teardown(&g);
}

static NTSTATUS reserve(D3DKMT_HANDLE queue, uint64_t base, uint64_t min, uint64_t max, uint64_t size,
			uint64_t *va)
{
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	memset(&r, 0, sizeof(r));
	r.hPagingQueue = queue;
	r.BaseAddress = base;
	r.MinimumAddress = min;
	r.MaximumAddress = max;
	r.Size = size;
	NTSTATUS st = D3DKMTReserveGpuVirtualAddress(&r);
	if (va)
		*va = r.VirtualAddress;
	return st;
}

static NTSTATUS map(D3DKMT_HANDLE queue, D3DKMT_HANDLE alloc, uint64_t base, uint64_t first, uint64_t pages,
		    bool write, uint64_t *va, uint64_t *fence)
{
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = queue;
	m.hAllocation = alloc;
	m.BaseAddress = base;
	m.OffsetInPages = first;
	m.SizeInPages = pages;
	m.Protection.Write = write;
	NTSTATUS st = D3DKMTMapGpuVirtualAddress(&m);
	if (va)
		*va = m.VirtualAddress;
	if (fence)
		*fence = m.PagingFenceValue;
	return st;
}

static NTSTATUS va_free(D3DKMT_HANDLE adapter, uint64_t base, uint64_t size)
{
	D3DKMT_FREEGPUVIRTUALADDRESS f = { .hAdapter = adapter, .BaseAddress = base, .Size = size };
	return D3DKMTFreeGpuVirtualAddress(&f);
}

static NTSTATUS update(D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *ops, UINT n)
{
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	u.hDevice = g.device;
	u.hContext = g.context;
	u.NumOperations = n;
	u.Operations = ops;
	return D3DKMTUpdateGpuVirtualAddress(&u);
}

static NTSTATUS make_resident(D3DKMT_HANDLE h)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g.device;
	mr.NumAllocations = 1;
	mr.AllocationList = &h;
	return D3DKMTMakeResident(&mr);
}

/* Evict answers only for what the device made resident: make it so first. */
static NTSTATUS evict(D3DKMT_HANDLE h)
{
	D3DKMT_EVICT ev;
	NTSTATUS st = make_resident(h);
	if (st != STATUS_SUCCESS && st != STATUS_PENDING)
		return st;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g.device;
	ev.NumAllocations = 1;
	ev.AllocationList = &h;
	return D3DKMTEvict(&ev);
}


static D3DKMT_HANDLE vram_alloc(uint64_t size)
{
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, size, GPUSIM_SEG_INVISIBLE, 0, &h), STATUS_SUCCESS);
	return h;
}

/* ---- reserve and free ---------------------------------------------------- */

START_TEST(test_reserve_anywhere_and_free)
{
	uint64_t a, b;
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 64 * KIB, &a), STATUS_SUCCESS);
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 64 * KIB, &b), STATUS_SUCCESS);
	ck_assert(a && b && a % PG == 0 && b % PG == 0);
	ck_assert(a + 64 * KIB <= b || b + 64 * KIB <= a); /* disjoint */
	kt_assert_invariants(&g);
	KT_ST_EQ(va_free(g.adapter, a, 64 * KIB), STATUS_SUCCESS);
	KT_ST_EQ(va_free(g.adapter, a, 64 * KIB), STATUS_INVALID_PARAMETER); /* twice */
	KT_ST_EQ(va_free(g.adapter, b, 4 * KIB), STATUS_INVALID_PARAMETER);  /* part of one */
	KT_ST_EQ(va_free(g.adapter, b, 64 * KIB), STATUS_SUCCESS);
	kt_assert_invariants(&g);
}
END_TEST

START_TEST(test_reserve_at_base_and_in_range)
{
	uint64_t va;
	KT_ST_EQ(reserve(g.device, 0x100000000ull, 0, 0, 1 * MIB, &va), STATUS_SUCCESS);
	ck_assert_uint_eq(va, 0x100000000ull);
	/* Overlapping it, at its base or across its end. */
	KT_ST_EQ(reserve(g.device, 0x100000000ull, 0, 0, PG, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.device, 0x100000000ull - PG, 0, 0, 2 * PG, NULL), STATUS_INVALID_PARAMETER);
	/* Within [min, max): the first room there. */
	KT_ST_EQ(reserve(g.device, 0, 0x100000000ull, 0x200000000ull, 64 * KIB, &va), STATUS_SUCCESS);
	ck_assert_uint_eq(va, 0x100000000ull + 1 * MIB);
	KT_ST_EQ(reserve(g.device, 0, 0x300000000ull, 0x300000000ull + 2 * PG, 2 * PG, &va), STATUS_SUCCESS);
	ck_assert_uint_eq(va, 0x300000000ull);
	/* ... and no room left there. */
	KT_ST_EQ(reserve(g.device, 0, 0x300000000ull, 0x300000000ull + 2 * PG, PG, NULL), STATUS_NO_MEMORY);
	/* The M2 form names the adapter. */
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	memset(&r, 0, sizeof(r));
	r.hAdapter = g.adapter;
	r.Size = PG;
	KT_ST_EQ(D3DKMTReserveGpuVirtualAddress(&r), STATUS_SUCCESS);
	ck_assert(r.VirtualAddress >= 0x10000);
	kt_assert_invariants(&g);
}
END_TEST

START_TEST(test_reserve_bad)
{
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	KT_ST_EQ(D3DKMTReserveGpuVirtualAddress(NULL), STATUS_INVALID_PARAMETER);
	memset(&r, 0, sizeof(r));
	KT_ST_EQ(D3DKMTReserveGpuVirtualAddress(&r), STATUS_INVALID_PARAMETER); /* zeroed */
	KT_ST_EQ(reserve(g.device, 0, 0, 0, PG + 1, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.device, 0x100001, 0, 0, PG, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.device, 0, 0x200000, 0x100000, PG, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.device, 1ull << 48, 0, 0, PG, NULL), STATUS_INVALID_PARAMETER); /* outside */
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 1ull << 48, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.context, 0, 0, 0, PG, NULL), STATUS_INVALID_PARAMETER);   /* wrong type */
	KT_ST_EQ(reserve(g.device + 1, 0, 0, 0, PG, NULL), STATUS_INVALID_PARAMETER); /* stale */
	memset(&r, 0, sizeof(r));
	r.hPagingQueue = g.device;
	r.Size = PG;
	r.ReservationType = D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_COMMIT; /* the system's */
	KT_ST_EQ(D3DKMTReserveGpuVirtualAddress(&r), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTFreeGpuVirtualAddress(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(va_free(g.device, 0x100000, PG), STATUS_INVALID_PARAMETER); /* not an adapter */
}
END_TEST

/* ---- map ------------------------------------------------------------------ */

START_TEST(test_map_pending_and_tables)
{
	D3DKMT_HANDLE h = vram_alloc(256 * KIB);
	uint64_t va, fence;
	KT_ST_EQ(map(g.device, h, 0, 0, 64, true, &va, &fence), STATUS_PENDING);
	ck_assert(va >= 0x10000 && va % PG == 0);
	ck_assert_uint_gt(fence, 0);
	kt_assert_invariants(&g); /* every entry names the allocation's VRAM */
	/* A part of it, at a reserved base. */
	uint64_t base, va2;
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 1 * MIB, &base), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, base + 16 * KIB, 8, 4, false, &va2, NULL), STATUS_PENDING);
	ck_assert_uint_eq(va2, base + 16 * KIB);
	kt_assert_invariants(&g);
	/* The implicit reservation of the first Map is freed whole. */
	KT_ST_EQ(va_free(g.adapter, va, 256 * KIB), STATUS_SUCCESS);
	kt_assert_invariants(&g);
}
END_TEST

START_TEST(test_map_bad)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	D3DKMT_HANDLE other = kt_new_device(&g);
	uint64_t base;
	KT_ST_EQ(D3DKMTMapGpuVirtualAddress(NULL), STATUS_INVALID_PARAMETER);
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	KT_ST_EQ(D3DKMTMapGpuVirtualAddress(&m), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(map(g.device, h, 0, 0, 17, true, NULL, NULL), STATUS_INVALID_PARAMETER); /* past its end */
	KT_ST_EQ(map(g.device, h, 0, 16, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(map(g.device, 0, 0, 0, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(map(other, h, 0, 0, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);   /* foreign */
	KT_ST_EQ(map(g.device, g.context, 0, 0, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	/* A base outside every reservation, unaligned, or across a reservation's end. */
	KT_ST_EQ(map(g.device, h, 0x40000000ull, 0, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 8 * PG, &base), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, base + 1, 0, 1, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(map(g.device, h, base + 4 * PG, 0, 5, true, NULL, NULL), STATUS_INVALID_PARAMETER);
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = g.device;
	m.hAllocation = h;
	m.SizeInPages = 1;
	m.Protection.NoAccess = 1;
	KT_ST_EQ(D3DKMTMapGpuVirtualAddress(&m), STATUS_INVALID_PARAMETER);
	m.Protection.Value = 0;
	m.Protection.SystemUseOnly = 1;
	KT_ST_EQ(D3DKMTMapGpuVirtualAddress(&m), STATUS_INVALID_PARAMETER);
	kt_assert_invariants(&g);
}
END_TEST

/* ---- the tables follow the allocation --------------------------------------- */

START_TEST(test_evict_and_page_in)
{
	D3DKMT_HANDLE h = vram_alloc(128 * KIB);
	uint64_t va;
	KT_ST_EQ(kt_write(g.device, h, 128 * KIB, 7), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, 0, 0, 32, true, &va, NULL), STATUS_PENDING);
	kt_assert_invariants(&g);
	KT_ST_EQ(evict(h), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(h), GPUSIM_SEG_SYS);
	kt_assert_invariants(&g); /* not present while evicted */
	ck_assert(NT_SUCCESS(make_resident(h)));
	ck_assert_uint_ne(kt_segment(h), GPUSIM_SEG_SYS);
	kt_assert_invariants(&g); /* present again, at the new place */
	ck_assert(kt_verify(g.device, h, 128 * KIB, 7));
}
END_TEST

START_TEST(test_gart_pages_and_pressure)
{
	/* In the aperture the entries name system pages; under pressure the
	 * mapped allocations are pushed about and the entries follow. */
	D3DKMT_HANDLE gart;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, GPUSIM_SEG_GART, KT_SEG(GART), &gart), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, gart, 0, 0, 16, true, NULL, NULL), STATUS_PENDING);
	kt_assert_invariants(&g);
	D3DKMT_HANDLE hs[7];
	for (int i = 0; i < 7; i++) {
		KT_ST_EQ(kt_alloc(&g, 4 * MIB, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE) | KT_SEG(GART), &hs[i]),
			 STATUS_SUCCESS);
		KT_ST_EQ(map(g.device, hs[i], 0, 0, 1024, true, NULL, NULL), STATUS_PENDING);
		kt_assert_invariants(&g);
	}
	for (int i = 0; i < 7; i++) {
		NTSTATUS st = make_resident(hs[i]);
		ck_assert_msg(NT_SUCCESS(st), "make_resident %d: 0x%x", i, (unsigned)st);
		kt_assert_invariants(&g);
	}
	for (int i = 0; i < 7; i += 2)
		KT_ST_EQ(kt_free(g.device, hs[i]), STATUS_SUCCESS); /* the mappings go with them */
	kt_assert_invariants(&g);
}
END_TEST

/* ---- update --------------------------------------------------------------- */

START_TEST(test_update_map_unmap_copy)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	uint64_t base;
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 1 * MIB, &base), STATUS_SUCCESS);
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION ops[3];
	memset(ops, 0, sizeof(ops));
	ops[0].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP;
	ops[0].Map.BaseAddress = base;
	ops[0].Map.SizeInBytes = 64 * KIB;
	ops[0].Map.hAllocation = h;
	ops[0].Map.AllocationSizeInBytes = 64 * KIB;
	ops[1].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY;
	ops[1].Copy.SourceAddress = base + 16 * KIB;
	ops[1].Copy.SizeInBytes = 32 * KIB;
	ops[1].Copy.DestAddress = base + 512 * KIB;
	ops[2].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	ops[2].Unmap.BaseAddress = base + 8 * KIB;
	ops[2].Unmap.SizeInBytes = 16 * KIB; /* a hole in the middle */
	KT_ST_EQ(update(ops, 3), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	KT_ST_EQ(evict(h), STATUS_SUCCESS);
	kt_assert_invariants(&g); /* the copy's range is the allocation's too */
	ck_assert(NT_SUCCESS(make_resident(h)));
	kt_assert_invariants(&g);
	/* MapProtect, read-only. */
	memset(ops, 0, sizeof(ops));
	ops[0].OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT;
	ops[0].MapProtect.BaseAddress = base + 768 * KIB;
	ops[0].MapProtect.SizeInBytes = 8 * KIB;
	ops[0].MapProtect.hAllocation = h;
	ops[0].MapProtect.AllocationOffsetInBytes = 8 * KIB;
	ops[0].MapProtect.AllocationSizeInBytes = 8 * KIB;
	KT_ST_EQ(update(ops, 1), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	KT_ST_EQ(va_free(g.adapter, base, 1 * MIB), STATUS_SUCCESS);
	kt_assert_invariants(&g);
}
END_TEST

START_TEST(test_update_bad)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	uint64_t base;
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 64 * KIB, &base), STATUS_SUCCESS);
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP;
	op.Map.BaseAddress = base;
	op.Map.SizeInBytes = 64 * KIB;
	op.Map.hAllocation = h;
	op.Map.AllocationSizeInBytes = 64 * KIB;
	KT_ST_EQ(D3DKMTUpdateGpuVirtualAddress(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(update(&op, 0), STATUS_INVALID_PARAMETER);
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	KT_ST_EQ(D3DKMTUpdateGpuVirtualAddress(&u), STATUS_INVALID_PARAMETER);
	op.Map.SizeInBytes = 128 * KIB; /* past the reservation and the allocation */
	op.Map.AllocationSizeInBytes = 128 * KIB;
	KT_ST_EQ(update(&op, 1), STATUS_INVALID_PARAMETER);
	op.Map.SizeInBytes = op.Map.AllocationSizeInBytes = 64 * KIB;
	op.Map.hAllocation = g.device;
	KT_ST_EQ(update(&op, 1), STATUS_INVALID_PARAMETER);
	op.Map.hAllocation = h;
	op.OperationType = (D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION_TYPE)9;
	KT_ST_EQ(update(&op, 1), STATUS_INVALID_PARAMETER);
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP;
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION two[2] = { op, op };
	two[1].Map.BaseAddress = base + 1; /* a bad second one: the first does not run */
	KT_ST_EQ(update(two, 2), STATUS_INVALID_PARAMETER);
	kt_assert_invariants(&g);
	memset(&u, 0, sizeof(u));
	u.hDevice = g.device;
	u.hContext = g.context;
	u.NumOperations = 1;
	u.Operations = &op;
	u.hFenceObject = g.context; /* not a fence */
	KT_ST_EQ(D3DKMTUpdateGpuVirtualAddress(&u), STATUS_INVALID_PARAMETER);
	u.hFenceObject = 0;
	u.Flags.Value = 2;
	KT_ST_EQ(D3DKMTUpdateGpuVirtualAddress(&u), STATUS_INVALID_PARAMETER);
}
END_TEST

/* ---- removal ------------------------------------------------------------- */

START_TEST(test_device_removed)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	uint64_t va, base;
	KT_ST_EQ(map(g.device, h, 0, 0, 16, true, &va, NULL), STATUS_PENDING);
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 64 * KIB, &base), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	KT_ST_EQ(reserve(g.device, 0, 0, 0, PG, NULL), STATUS_DEVICE_REMOVED);
	KT_ST_EQ(map(g.device, h, 0, 0, 1, true, NULL, NULL), STATUS_DEVICE_REMOVED);
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = va;
	op.Unmap.SizeInBytes = PG;
	KT_ST_EQ(update(&op, 1), STATUS_DEVICE_REMOVED);
	/* Tearing down still works. */
	KT_ST_EQ(va_free(g.adapter, va, 64 * KIB), STATUS_SUCCESS);
	KT_ST_EQ(va_free(g.adapter, base, 64 * KIB), STATUS_SUCCESS);
	KT_ST_EQ(va_free(g.adapter, base, 64 * KIB), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(kt_free(g.device, h), STATUS_SUCCESS);
}
END_TEST

/* ---- events --------------------------------------------------------------- */

struct seen {
	uint32_t types[64];
	uint32_t n;
};

static void listen(void *opaque, const struct gpusim_event *ev)
{
	struct seen *s = opaque;
	if (ev->type >= GPUSIM_EV_VA_RESERVE && s->n < 64)
		s->types[s->n++] = ev->type;
}

START_TEST(test_events)
{
	struct seen s = { .n = 0 };
	KT_ST_EQ(gpusim_subscribe(g.luid, listen, &s), STATUS_SUCCESS);
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	uint64_t base;
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 64 * KIB, &base), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, base, 0, 16, true, NULL, NULL), STATUS_PENDING);
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = base;
	op.Unmap.SizeInBytes = PG;
	KT_ST_EQ(update(&op, 1), STATUS_SUCCESS);
	KT_ST_EQ(va_free(g.adapter, base, 64 * KIB), STATUS_SUCCESS);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_uint_eq(s.types[0], GPUSIM_EV_VA_RESERVE);
	ck_assert_uint_eq(s.types[1], GPUSIM_EV_VA_MAP);
	ck_assert_uint_eq(s.types[2], GPUSIM_EV_VA_UNMAP);
	ck_assert_uint_eq(s.types[3], GPUSIM_EV_VA_FREE);
	ck_assert_str_eq(gpusim_event_name(GPUSIM_EV_VA_MAP), "va-map");
	KT_ST_EQ(gpusim_unsubscribe(g.luid, listen, &s), STATUS_SUCCESS);
}
END_TEST

/* ---- gpusim_va_query ------------------------------------------------------ */

static uint32_t va_flags(uint64_t va, D3DKMT_HANDLE *h, uint64_t *off)
{
	uint32_t flags = 0xdead;
	KT_ST_EQ(gpusim_va_query(g.luid, va, h, off, &flags), STATUS_SUCCESS);
	return flags;
}

START_TEST(test_va_query)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB), got = 1;
	uint64_t off = 1, base;
	/* Before the space is made: everything unmapped, and asking makes nothing. */
	ck_assert_uint_eq(va_flags(0x100000, &got, &off), 0);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_eq(off, 0);
	KT_ST_EQ(gpusim_va_query(g.luid, 1ull << 48, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);
	LUID none = { .LowPart = 0x7777, .HighPart = 0x7777 };
	KT_ST_EQ(gpusim_va_query(none, 0x100000, NULL, NULL, NULL), STATUS_INVALID_PARAMETER);

	KT_ST_EQ(reserve(g.device, 0, 0, 0, 128 * KIB, &base), STATUS_SUCCESS);
	ck_assert_uint_eq(va_flags(base, &got, &off), GPUSIM_VA_RESERVED);
	ck_assert_uint_eq(got, 0);
	KT_ST_EQ(map(g.device, h, base + 16 * KIB, 2, 4, false, NULL, NULL), STATUS_PENDING);
	kt_idle(&g);
	struct gpusim_stats before = kt_stats(&g);
	ck_assert_uint_eq(va_flags(base + 17 * KIB + 5, &got, &off),
			  GPUSIM_VA_RESERVED | GPUSIM_VA_MAPPED | GPUSIM_VA_READ_ONLY | GPUSIM_VA_PRESENT);
	ck_assert_uint_eq(got, h);
	ck_assert_uint_eq(off, 2 * PG + 1 * KIB + 5);  /* page 2 of h is at base + 16 KiB */
	ck_assert_uint_eq(va_flags(base + 32 * KIB, &got, &off), GPUSIM_VA_RESERVED); /* past the 4 pages */
	KT_ST_EQ(gpusim_va_query(g.luid, base + 16 * KIB, NULL, NULL, NULL), STATUS_SUCCESS);
	struct gpusim_stats after = kt_stats(&g);
	ck_assert_uint_eq(after.time_ns, before.time_ns);  /* no side effect: no time, no paging */
	ck_assert_uint_eq(after.page_ins, before.page_ins);

	/* Evicted: still mapped in the books, the entries not present. */
	KT_ST_EQ(evict(h), STATUS_SUCCESS);
	ck_assert_uint_eq(va_flags(base + 16 * KIB, &got, &off), GPUSIM_VA_RESERVED | GPUSIM_VA_MAPPED | GPUSIM_VA_READ_ONLY);
	ck_assert_uint_eq(got, h);

	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = base + 16 * KIB;
	op.Unmap.SizeInBytes = 16 * KIB;
	KT_ST_EQ(update(&op, 1), STATUS_SUCCESS);
	ck_assert_uint_eq(va_flags(base + 16 * KIB, &got, &off), GPUSIM_VA_RESERVED);
	ck_assert_uint_eq(got, 0);
	KT_ST_EQ(va_free(g.adapter, base, 128 * KIB), STATUS_SUCCESS);
	ck_assert_uint_eq(va_flags(base, NULL, NULL), 0);
}
END_TEST

/* A DMA error on a page-table write is redone: the tables always say what the
 * books say (the API fuzzer found an unmap that answered STATUS_SUCCESS with the
 * WRITE_DATA of its 16 entries skipped, so they stayed valid). */
START_TEST(test_dma_error_on_page_tables)
{
	D3DKMT_HANDLE h = vram_alloc(64 * KIB);
	uint64_t va = 0, base;
	uint64_t faults = kt_stats(&g).faults;
	/* The first packet of a map into a new space: a table's clear. */
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, 0, 0, 16, true, &va, NULL), STATUS_PENDING);
	kt_assert_invariants(&g);
	ck_assert_uint_eq(va_flags(va, NULL, NULL), GPUSIM_VA_RESERVED | GPUSIM_VA_MAPPED | GPUSIM_VA_PRESENT);
	/* The unmap's entries. */
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = va;
	op.Unmap.SizeInBytes = 64 * KIB;
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	KT_ST_EQ(update(&op, 1), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	ck_assert_uint_eq(va_flags(va, NULL, NULL), GPUSIM_VA_RESERVED);
	/* A map into a reservation, a copy, a free: each with its first write lost. */
	KT_ST_EQ(reserve(g.device, 0, 0, 0, 1 * MIB, &base), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	KT_ST_EQ(map(g.device, h, base, 0, 16, true, NULL, NULL), STATUS_PENDING);
	kt_assert_invariants(&g);
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY;
	op.Copy.SourceAddress = base;
	op.Copy.SizeInBytes = 64 * KIB;
	op.Copy.DestAddress = base + 512 * KIB;
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	KT_ST_EQ(update(&op, 1), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	ck_assert_uint_eq(va_flags(base + 512 * KIB, NULL, NULL),
			  GPUSIM_VA_RESERVED | GPUSIM_VA_MAPPED | GPUSIM_VA_PRESENT);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DMA_ERROR, 0), STATUS_SUCCESS);
	KT_ST_EQ(va_free(g.adapter, base, 1 * MIB), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	ck_assert_uint_eq(va_flags(base, NULL, NULL), 0);
	/* Every error was taken, by a page-table write each time. */
	kt_idle(&g);
	ck_assert_uint_eq(kt_stats(&g).faults, faults + 5);
}
END_TEST

/* ---- the first-fit search of the range tree (kmt/vidmm/vatree.h) ---------- */

static void tree_add(struct vidmm_va_tree *t, struct vidmm_va_node *n, uint64_t start, uint64_t size)
{
	n->start = start;
	n->size = size;
	vidmm_va_tree_insert(t, n);
	ck_assert_int_eq(vidmm_va_tree_check(t), 0);
}

static uint64_t tree_fit(const struct vidmm_va_tree *t, uint64_t min, uint64_t max, uint64_t size, uint64_t align)
{
	uint64_t at = 0xdead;
	int rc = vidmm_va_tree_fit(t, min, max, size, align, &at);
	return rc ? UINT64_MAX : at;
}

START_TEST(test_tree_fit_lowest_and_bounds)
{
	struct vidmm_va_tree t = { 0 };
	struct vidmm_va_node n[4];
	ck_assert_uint_eq(tree_fit(&t, 0x1000, 0x9000, 0x2000, 1), 0x1000);
	/* [2,4) [5,6) [9,10) [20,30) in pages: holes [0,2) [4,5) [6,9) [10,20) [30,...) */
	tree_add(&t, &n[0], 2 * PG, 2 * PG);
	tree_add(&t, &n[1], 9 * PG, 1 * PG);
	tree_add(&t, &n[2], 5 * PG, 1 * PG);
	tree_add(&t, &n[3], 20 * PG, 10 * PG);
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, PG, PG), 0);
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, 2 * PG, PG), 0);
	ck_assert_uint_eq(tree_fit(&t, PG, 64 * PG, 2 * PG, PG), 6 * PG);   /* [1,2) is too small */
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, 3 * PG, PG), 6 * PG);
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, 4 * PG, PG), 10 * PG);
	ck_assert_uint_eq(tree_fit(&t, 3 * PG, 64 * PG, PG, PG), 4 * PG);   /* min inside a range */
	ck_assert_uint_eq(tree_fit(&t, 7 * PG, 64 * PG, 2 * PG, PG), 7 * PG); /* min inside a hole */
	ck_assert_uint_eq(tree_fit(&t, 8 * PG, 64 * PG, 2 * PG, PG), 10 * PG);
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, 11 * PG, PG), 30 * PG);
	/* max: the fit must end at or below it */
	ck_assert_uint_eq(tree_fit(&t, 0, 41 * PG, 11 * PG, PG), 30 * PG);
	ck_assert_uint_eq(tree_fit(&t, 0, 40 * PG, 11 * PG, PG), UINT64_MAX);
	ck_assert_uint_eq(tree_fit(&t, 0, 40 * PG, 10 * PG, PG), 10 * PG);
	ck_assert_uint_eq(tree_fit(&t, 6 * PG, 8 * PG, 2 * PG, PG), 6 * PG);
	ck_assert_uint_eq(tree_fit(&t, 6 * PG, 8 * PG, 3 * PG, PG), UINT64_MAX);
	ck_assert_uint_eq(tree_fit(&t, 12 * PG, 20 * PG, 8 * PG, PG), 12 * PG);
	ck_assert_uint_eq(tree_fit(&t, 12 * PG, 19 * PG, 8 * PG, PG), UINT64_MAX);
	/* alignment: the lowest aligned address, not the lowest hole */
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, PG, 4 * PG), 0);
	ck_assert_uint_eq(tree_fit(&t, PG, 64 * PG, PG, 4 * PG), 4 * PG);
	ck_assert_uint_eq(tree_fit(&t, PG, 64 * PG, 2 * PG, 4 * PG), 12 * PG);
	ck_assert_uint_eq(tree_fit(&t, PG, 64 * PG, 2 * PG, 8 * PG), 16 * PG);
	ck_assert_uint_eq(tree_fit(&t, PG, 64 * PG, 2 * PG, 16 * PG), 16 * PG);
	/* a resized range moves the holes */
	vidmm_va_tree_resize(&t, &n[3], PG);
	ck_assert_int_eq(vidmm_va_tree_check(&t), 0);
	ck_assert_uint_eq(tree_fit(&t, 0, 64 * PG, 11 * PG, PG), 21 * PG);
}
END_TEST

#define NFREE 4096

START_TEST(test_tree_fit_after_frees)
{
	static struct vidmm_va_node n[NFREE];
	struct vidmm_va_tree t = { 0 };
	for (uint64_t i = 0; i < NFREE; i++)
		tree_add(&t, &n[i], i * 4 * PG, 4 * PG);
	ck_assert_uint_eq(tree_fit(&t, 0, UINT64_MAX / 2, 4 * PG, PG), NFREE * 4 * PG);
	/* free every other range from the top down: the lowest hole wins each time */
	for (uint64_t i = NFREE - 1; i < NFREE; i -= 2) { /* stops when i wraps */
		vidmm_va_tree_remove(&t, &n[i]);
		ck_assert_uint_eq(tree_fit(&t, 0, UINT64_MAX / 2, 4 * PG, PG), i * 4 * PG);
		ck_assert_uint_eq(tree_fit(&t, 0, UINT64_MAX / 2, 5 * PG, PG), (NFREE - 1) * 4 * PG);
	}
	ck_assert_int_eq(vidmm_va_tree_check(&t), 0);
	/* two neighbours freed make a hole of three ranges */
	vidmm_va_tree_remove(&t, &n[NFREE / 2]);
	ck_assert_uint_eq(tree_fit(&t, 0, UINT64_MAX / 2, 12 * PG, PG), (NFREE / 2 - 1) * 4 * PG);
	ck_assert_uint_eq(tree_fit(&t, NFREE * 2 * PG, UINT64_MAX / 2, 12 * PG, PG), (NFREE - 1) * 4 * PG);
	ck_assert_int_eq(vidmm_va_tree_check(&t), 0);
}
END_TEST

#define NRAND 512
#define SPAN 4096 /* pages */

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

/* The definition, page by page over a map of what is taken. */
static uint64_t linear_fit(const bool *used, uint64_t min, uint64_t max, uint64_t size, uint64_t align)
{
	for (uint64_t at = (min + align - 1) / align * align; at + size <= max; at += align) {
		uint64_t k = 0;
		while (k < size && !used[at + k])
			k++;
		if (k == size)
			return at;
	}
	return UINT64_MAX;
}

START_TEST(test_tree_fit_random)
{
	/* Units here are pages of 1 byte, so the reference can be a bitmap. */
	static struct vidmm_va_node n[NRAND];
	static bool live[NRAND], used[SPAN];
	struct vidmm_va_tree t = { 0 };
	memset(live, 0, sizeof(live));
	memset(used, 0, sizeof(used));
	for (int step = 0; step < 20000; step++) {
		uint64_t i = rnd(NRAND);
		if (live[i] && rnd(4)) {
			for (uint64_t k = 0; k < n[i].size; k++)
				used[n[i].start + k] = false;
			if (rnd(2) && n[i].size > 1) {
				vidmm_va_tree_resize(&t, &n[i], 1 + rnd(n[i].size - 1));
				for (uint64_t k = 0; k < n[i].size; k++)
					used[n[i].start + k] = true;
			} else {
				vidmm_va_tree_remove(&t, &n[i]);
				live[i] = false;
			}
		} else if (!live[i]) {
			/* place a new range where the tree says, and check the reference agrees */
			uint64_t size = 1 + rnd(rnd(2) ? 4 : 40), align = 1ull << rnd(4);
			uint64_t min = rnd(SPAN), max = min + 1 + rnd(SPAN - min);
			uint64_t want = linear_fit(used, min, max, size, align);
			ck_assert_uint_eq(tree_fit(&t, min, max, size, align), want);
			if (want != UINT64_MAX) {
				n[i].start = want;
				n[i].size = size;
				vidmm_va_tree_insert(&t, &n[i]);
				live[i] = true;
				for (uint64_t k = 0; k < size; k++)
					used[want + k] = true;
			}
		}
		if (step % 64 == 0)
			ck_assert_int_eq(vidmm_va_tree_check(&t), 0);
	}
	ck_assert_int_eq(vidmm_va_tree_check(&t), 0);
}
END_TEST

Suite *kmt_wddm2_va_suite(void)
{
	Suite *s = suite_create("kmt-wddm2-va");
	TCase *tc = tcase_create("va");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reserve_anywhere_and_free);
	tcase_add_test(tc, test_reserve_at_base_and_in_range);
	tcase_add_test(tc, test_reserve_bad);
	tcase_add_test(tc, test_map_pending_and_tables);
	tcase_add_test(tc, test_map_bad);
	tcase_add_test(tc, test_evict_and_page_in);
	tcase_add_test(tc, test_gart_pages_and_pressure);
	tcase_add_test(tc, test_update_map_unmap_copy);
	tcase_add_test(tc, test_update_bad);
	tcase_add_test(tc, test_device_removed);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_va_query);
	tcase_add_test(tc, test_dma_error_on_page_tables);
	suite_add_tcase(s, tc);
	tc = tcase_create("vatree");
	tcase_add_test(tc, test_tree_fit_lowest_and_bounds);
	tcase_add_test(tc, test_tree_fit_after_frees);
	tcase_add_test(tc, test_tree_fit_random);
	suite_add_tcase(s, tc);
	return s;
}
