/*
 * D3DKMTCreateAllocation(2) and friends, as documented: allocations standing alone
 * or in resources, shared resources opened from another device, device removal,
 * validation of every malformed input (each leaving nothing behind), system
 * memory exhaustion (STATUS_NO_MEMORY) and the narrow cases where virtualization
 * fails (STATUS_NO_VIDEO_MEMORY), never plain oversubscription.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define PG 4096ull

/* 31.6 MiB of local segments (visible ~7.6M + invisible 24M), a 15 MiB GART
 * segment, plenty of system memory. */
#define CFG "vram=32M,visible=8M,gart=16M,sysmem=256M"

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t n_allocs(const struct kt_gpu *g)
{
	return kt_stats(g).allocations;
}

static bool alive(D3DKMT_HANDLE h)
{
	struct gpusim_alloc_info info;
	return gpusim_query_allocation(h, &info) == STATUS_SUCCESS;
}


/* A CreateAllocation2 request for up to 3 allocations; it points into itself, so
 * it is built in place and never copied. */
struct req {
	D3DKMT_CREATEALLOCATION ca;
	D3DDDI_ALLOCATIONINFO2 info[3];
	struct gpusim_alloc_desc desc[3];
};

static void req_init(struct req *r, D3DKMT_HANDLE dev, uint32_t n, uint64_t size)
{
	memset(r, 0, sizeof(*r));
	for (uint32_t i = 0; i < 3; i++) {
		r->desc[i] = kt_desc(size, 0, 0, 0);
		r->info[i].pPrivateDriverData = &r->desc[i];
		r->info[i].PrivateDriverDataSize = sizeof(r->desc[i]);
	}
	r->ca.hDevice = dev;
	r->ca.NumAllocations = n;
	r->ca.pAllocationInfo2 = r->info;
}

/* The request must fail with STATUS_INVALID_PARAMETER and create nothing. */
static void expect_invalid(const struct kt_gpu *g, struct req *r)
{
	uint64_t before = n_allocs(g);
	NTSTATUS st = D3DKMTCreateAllocation2(&r->ca);
	ck_assert_msg(st == STATUS_INVALID_PARAMETER, "status 0x%08x, expected STATUS_INVALID_PARAMETER",
		      (unsigned)st);
	ck_assert_uint_eq(n_allocs(g), before);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r->info[i].hAllocation, 0);
	ck_assert_uint_eq(r->ca.hGlobalShare, 0);
	kt_assert_invariants(g);
}

static void destroy_device(D3DKMT_HANDLE dev)
{
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
	KT_ST_EQ(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
}

static NTSTATUS destroy_resource(D3DKMT_HANDLE dev, D3DKMT_HANDLE res)
{
	D3DKMT_DESTROYALLOCATION da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev;
	da.hResource = res;
	return D3DKMTDestroyAllocation(&da);
}

static NTSTATUS destroy_list(D3DKMT_HANDLE dev, const D3DKMT_HANDLE *list, UINT n)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev;
	da.phAllocationList = list;
	da.AllocationCount = n;
	return D3DKMTDestroyAllocation2(&da);
}

/* A resource of n allocations of `size` on dev; handles into out[]. */
static D3DKMT_HANDLE make_resource(D3DKMT_HANDLE dev, uint32_t n, uint64_t size, bool shared,
				   D3DKMT_HANDLE *out, D3DKMT_HANDLE *share)
{
	struct req r;
	req_init(&r, dev, n, size);
	r.ca.Flags.CreateResource = 1;
	r.ca.Flags.CreateShared = shared;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	ck_assert_uint_ne(r.ca.hResource, 0);
	for (uint32_t i = 0; i < n && out; i++)
		out[i] = r.info[i].hAllocation;
	if (share)
		*share = r.ca.hGlobalShare;
	return r.ca.hResource;
}

static UINT get_priority(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	UINT p = 0;
	D3DKMT_GETALLOCATIONPRIORITY gp;
	memset(&gp, 0, sizeof(gp));
	gp.hDevice = dev;
	gp.phAllocationList = &h;
	gp.AllocationCount = 1;
	gp.pPriorities = &p;
	KT_ST_EQ(D3DKMTGetAllocationPriority(&gp), STATUS_SUCCESS);
	return p;
}

/* ---- allocations standing alone ------------------------------------------------ */

START_TEST(test_standalone)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	req_init(&r, g.device, 1, 5000);
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	D3DKMT_HANDLE h = r.info[0].hAllocation;
	ck_assert_uint_ne(h, 0);
	ck_assert_uint_eq(r.ca.hResource, 0);     /* no resource asked for, none made */
	ck_assert_uint_eq(r.ca.hGlobalShare, 0);
	ck_assert_uint_eq(n_allocs(&g), before + 1);
	struct gpusim_alloc_info info = kt_query(h);
	ck_assert_uint_eq(info.size, 8192);       /* rounded up to whole pages */
	ck_assert_uint_eq(info.device, g.device);
	kt_assert_invariants(&g);
	KT_ST_EQ(kt_free(g.device, h), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert(!alive(h));
	kt_teardown(&g);
}
END_TEST

START_TEST(test_standalone_batch)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	req_init(&r, g.device, 3, 64 * KIB);
	r.desc[1].size = 1;
	r.desc[2].size = 3 * PG;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 3);
	ck_assert_uint_ne(r.info[0].hAllocation, r.info[1].hAllocation);
	ck_assert_uint_ne(r.info[1].hAllocation, r.info[2].hAllocation);
	ck_assert_uint_ne(r.info[0].hAllocation, r.info[2].hAllocation);
	ck_assert_uint_eq(kt_query(r.info[0].hAllocation).size, 64 * KIB);
	ck_assert_uint_eq(kt_query(r.info[1].hAllocation).size, PG);
	ck_assert_uint_eq(kt_query(r.info[2].hAllocation).size, 3 * PG);
	D3DKMT_HANDLE list[3] = { r.info[0].hAllocation, r.info[1].hAllocation, r.info[2].hAllocation };
	KT_ST_EQ(destroy_list(g.device, list, 3), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_teardown(&g);
}
END_TEST

/* The first-generation entry point, with D3DDDI_ALLOCATIONINFO. */
START_TEST(test_create_allocation_v1)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	struct gpusim_alloc_desc d[2] = { kt_desc(PG, 0, 0, 0), kt_desc(2 * PG, GPUSIM_ALLOC_CPU_VISIBLE, 0, 0) };
	D3DDDI_ALLOCATIONINFO info[2];
	memset(info, 0, sizeof(info));
	for (int i = 0; i < 2; i++) {
		info[i].pPrivateDriverData = &d[i];
		info[i].PrivateDriverDataSize = sizeof(d[i]);
	}
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 2;
	ca.pAllocationInfo = info;
	KT_ST_EQ(D3DKMTCreateAllocation(&ca), STATUS_SUCCESS);
	ck_assert_uint_ne(info[0].hAllocation, 0);
	ck_assert_uint_ne(info[1].hAllocation, 0);
	ck_assert_uint_eq(n_allocs(&g), before + 2);
	ck_assert_uint_eq(kt_query(info[1].hAllocation).size, 2 * PG);
	ck_assert(kt_write(g.device, info[1].hAllocation, 2 * PG, 7) == STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, info[1].hAllocation, 2 * PG, 7));
	D3DKMT_DESTROYALLOCATION da;
	memset(&da, 0, sizeof(da));
	D3DKMT_HANDLE list[2] = { info[0].hAllocation, info[1].hAllocation };
	da.hDevice = g.device;
	da.phAllocationList = list;
	da.AllocationCount = 2;
	KT_ST_EQ(D3DKMTDestroyAllocation(&da), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_teardown(&g);
}
END_TEST

/* The private data's priority and the OverridePriority flag set the initial priority. */
START_TEST(test_initial_priority)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	req_init(&r, g.device, 3, PG);
	r.desc[1].priority = D3DDDI_ALLOCATIONPRIORITY_HIGH;
	r.info[2].Flags.OverridePriority = 1;
	r.info[2].Priority = D3DDDI_ALLOCATIONPRIORITY_LOW;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	ck_assert_uint_eq(get_priority(g.device, r.info[0].hAllocation), D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	ck_assert_uint_eq(get_priority(g.device, r.info[1].hAllocation), D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_uint_eq(get_priority(g.device, r.info[2].hAllocation), D3DDDI_ALLOCATIONPRIORITY_LOW);
	kt_teardown(&g);
}
END_TEST

/* Primary (scan-out) allocations stay put in VRAM. */
START_TEST(test_primary_is_pinned_in_vram)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	req_init(&r, g.device, 1, MIB);
	r.info[0].Flags.Primary = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	struct gpusim_alloc_info info = kt_query(r.info[0].hAllocation);
	ck_assert(info.flags & GPUSIM_ALLOC_PINNED);
	ck_assert(info.segment == GPUSIM_SEG_VISIBLE || info.segment == GPUSIM_SEG_INVISIBLE);
	kt_teardown(&g);
}
END_TEST

/* ---- resources ---------------------------------------------------------------- */

START_TEST(test_resource_create_then_add)
{
	struct kt_gpu g;
	struct req r, r2;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE lone;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &lone), STATUS_SUCCESS);

	req_init(&r, g.device, 2, 64 * KIB);
	r.ca.Flags.CreateResource = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	D3DKMT_HANDLE res = r.ca.hResource;
	ck_assert_uint_ne(res, 0);
	ck_assert_uint_ne(res, r.info[0].hAllocation);
	ck_assert_uint_eq(r.ca.hGlobalShare, 0); /* not shared */

	/* Added later: hResource in, no CreateResource. */
	req_init(&r2, g.device, 1, 16 * KIB);
	r2.ca.hResource = res;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r2.ca), STATUS_SUCCESS);
	ck_assert_uint_eq(r2.ca.hResource, res);
	ck_assert_uint_eq(n_allocs(&g), before + 4);

	/* A priority set on the resource reaches every member, the late one too. */
	UINT prio = D3DDDI_ALLOCATIONPRIORITY_HIGH;
	D3DKMT_SETALLOCATIONPRIORITY sp;
	memset(&sp, 0, sizeof(sp));
	sp.hDevice = g.device;
	sp.hResource = res;
	sp.pPriorities = &prio;
	KT_ST_EQ(D3DKMTSetAllocationPriority(&sp), STATUS_SUCCESS);
	ck_assert_uint_eq(get_priority(g.device, r.info[0].hAllocation), D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_uint_eq(get_priority(g.device, r.info[1].hAllocation), D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_uint_eq(get_priority(g.device, r2.info[0].hAllocation), D3DDDI_ALLOCATIONPRIORITY_HIGH);
	ck_assert_uint_eq(get_priority(g.device, lone), D3DDDI_ALLOCATIONPRIORITY_NORMAL);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_destroy_resource_destroys_its_allocations)
{
	struct kt_gpu g;
	struct req r2;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE lone, h[2];
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &lone), STATUS_SUCCESS);
	D3DKMT_HANDLE res = make_resource(g.device, 2, 32 * KIB, false, h, NULL);
	req_init(&r2, g.device, 1, PG);
	r2.ca.hResource = res;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r2.ca), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 4);

	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 1);
	ck_assert(!alive(h[0]));
	ck_assert(!alive(h[1]));
	ck_assert(!alive(r2.info[0].hAllocation));
	ck_assert(alive(lone));
	/* The resource handle is gone too. */
	KT_ST_EQ(destroy_resource(g.device, res), STATUS_INVALID_PARAMETER);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* A member of a resource can also be destroyed alone; the resource lives on. */
START_TEST(test_destroy_one_member_of_resource)
{
	struct kt_gpu g;
	struct req r2;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE h[2];
	D3DKMT_HANDLE res = make_resource(g.device, 2, PG, false, h, NULL);
	KT_ST_EQ(kt_free(g.device, h[0]), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 1);
	req_init(&r2, g.device, 1, PG);
	r2.ca.hResource = res;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r2.ca), STATUS_SUCCESS);
	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert(!alive(h[1]));
	kt_teardown(&g);
}
END_TEST

START_TEST(test_shared_resource_has_global_share)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share = 0, h[2];
	D3DKMT_HANDLE res = make_resource(g.device, 2, PG, true, h, &share);
	ck_assert_uint_ne(share, 0);
	ck_assert_uint_ne(share, res);
	ck_assert_uint_ne(share, h[0]);
	ck_assert_uint_ne(share, h[1]);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_shared_needs_resource)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	req_init(&r, g.device, 1, PG);
	r.ca.Flags.CreateShared = 1;
	expect_invalid(&g, &r);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_no_add_to_shared_resource)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_resource(g.device, 1, PG, true, NULL, &share);
	req_init(&r, g.device, 1, PG);
	r.ca.hResource = res;
	expect_invalid(&g, &r);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_no_add_to_shared_resource_with_shared_flag)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_resource(g.device, 1, PG, true, NULL, &share);
	req_init(&r, g.device, 1, PG);
	r.ca.hResource = res;
	r.ca.Flags.CreateShared = 1;
	expect_invalid(&g, &r);
	kt_teardown(&g);
}
END_TEST

/* ---- sharing between devices --------------------------------------------------- */

struct opened {
	D3DKMT_OPENRESOURCE o;
	D3DDDI_OPENALLOCATIONINFO oi[3];
	uint8_t total[3 * sizeof(struct gpusim_alloc_desc)];
	uint8_t runtime[64];
	uint8_t resdrv[64];
};

static void open_init(struct opened *op, D3DKMT_HANDLE dev, D3DKMT_HANDLE share, UINT n)
{
	memset(op, 0, sizeof(*op));
	op->o.hDevice = dev;
	op->o.hGlobalShare = share;
	op->o.NumAllocations = n;
	op->o.pOpenAllocationInfo = op->oi;
	op->o.pTotalPrivateDriverDataBuffer = op->total;
	op->o.TotalPrivateDriverDataBufferSize = sizeof(op->total);
	op->o.pPrivateRuntimeData = op->runtime;
	op->o.PrivateRuntimeDataSize = sizeof(op->runtime);
	op->o.pResourcePrivateDriverData = op->resdrv;
	op->o.ResourcePrivateDriverDataSize = sizeof(op->resdrv);
}

static const char runtime_blob[16] = "runtime-private";
static const char resdrv_blob[8] = "resdrv!";

/* A shared resource of two 64 KiB allocations with runtime and resource data. */
static D3DKMT_HANDLE make_shared(struct kt_gpu *g, struct req *r, D3DKMT_HANDLE *share)
{
	req_init(r, g->device, 2, 64 * KIB);
	r->desc[1] = kt_desc(128 * KIB, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	r->ca.Flags.CreateResource = 1;
	r->ca.Flags.CreateShared = 1;
	r->ca.pPrivateRuntimeData = runtime_blob;
	r->ca.PrivateRuntimeDataSize = sizeof(runtime_blob);
	r->ca.pPrivateDriverData = resdrv_blob;
	r->ca.PrivateDriverDataSize = sizeof(resdrv_blob);
	KT_ST_EQ(D3DKMTCreateAllocation2(&r->ca), STATUS_SUCCESS);
	ck_assert_uint_ne(r->ca.hGlobalShare, 0);
	*share = r->ca.hGlobalShare;
	return r->ca.hResource;
}

START_TEST(test_query_resource_info)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev2;
	q.hGlobalShare = share;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_SUCCESS);
	ck_assert_uint_eq(q.NumAllocations, 2);
	ck_assert_uint_eq(q.PrivateRuntimeDataSize, sizeof(runtime_blob));
	ck_assert_uint_eq(q.ResourcePrivateDriverDataSize, sizeof(resdrv_blob));
	ck_assert_uint_ge(q.TotalPrivateDriverDataSize, 2 * sizeof(struct gpusim_alloc_desc));
	kt_teardown(&g);
}
END_TEST

START_TEST(test_open_resource_same_memory)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	ck_assert_uint_eq(n_allocs(&g), before + 2);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);

	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev2;
	q.hGlobalShare = share;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_SUCCESS);
	open_init(&op, dev2, share, q.NumAllocations);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	ck_assert_uint_ne(op.o.hResource, 0);
	ck_assert_uint_ne(op.o.hResource, r.ca.hResource);
	/* The same memory: no new allocation was made. */
	ck_assert_uint_eq(n_allocs(&g), before + 2);
	/* Private data as the creator gave it. */
	ck_assert_uint_eq(op.o.PrivateRuntimeDataSize, sizeof(runtime_blob));
	ck_assert_mem_eq(op.runtime, runtime_blob, sizeof(runtime_blob));
	ck_assert_uint_eq(op.o.ResourcePrivateDriverDataSize, sizeof(resdrv_blob));
	ck_assert_mem_eq(op.resdrv, resdrv_blob, sizeof(resdrv_blob));
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_ne(op.oi[i].hAllocation, 0);
		ck_assert_uint_eq(op.oi[i].PrivateDriverDataSize, sizeof(struct gpusim_alloc_desc));
		ck_assert_ptr_nonnull(op.oi[i].pPrivateDriverData);
		ck_assert_mem_eq(op.oi[i].pPrivateDriverData, &r.desc[i], sizeof(struct gpusim_alloc_desc));
		ck_assert_uint_eq(kt_query(op.oi[i].hAllocation).device, dev2);
	}
	/* Written through one device's Lock, read through the other's. */
	D3DKMT_HANDLE a1 = r.info[0].hAllocation, a2 = op.oi[0].hAllocation;
	D3DKMT_HANDLE b1 = r.info[1].hAllocation, b2 = op.oi[1].hAllocation;
	KT_ST_EQ(kt_write(g.device, a1, 64 * KIB, 41), STATUS_SUCCESS);
	ck_assert(kt_verify(dev2, a2, 64 * KIB, 41));
	KT_ST_EQ(kt_write(dev2, b2, 128 * KIB, 42), STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, b1, 128 * KIB, 42));
	ck_assert_uint_eq(kt_query(a1).segment, kt_query(a2).segment);
	ck_assert_uint_eq(kt_query(a1).offset, kt_query(a2).offset);
	/* Each device's handles are its own. */
	D3DKMT_LOCK2 lk = { .hDevice = g.device, .hAllocation = a2 };
	KT_ST_EQ(D3DKMTLock2(&lk), STATUS_INVALID_PARAMETER);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* Memory shared with another device lives until the last handle on it goes. */
START_TEST(test_opened_resource_outlives_creator)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_shared(&g, &r, &share);
	KT_ST_EQ(kt_write(g.device, r.info[0].hAllocation, 64 * KIB, 5), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	ck_assert(!alive(r.info[0].hAllocation));
	ck_assert_uint_eq(n_allocs(&g), before + 2);
	ck_assert(kt_verify(dev2, op.oi[0].hAllocation, 64 * KIB, 5));
	KT_ST_EQ(destroy_resource(dev2, op.o.hResource), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ...also when the creating device itself goes. */
START_TEST(test_opened_resource_outlives_creator_device)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	KT_ST_EQ(kt_write(g.device, r.info[1].hAllocation, 128 * KIB, 15), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	destroy_device(g.device);
	ck_assert_uint_eq(n_allocs(&g), 2); /* the helpers' result went, the shared pair stays */
	ck_assert(kt_verify(dev2, op.oi[1].hAllocation, 128 * KIB, 15));
	KT_ST_EQ(kt_write(dev2, op.oi[0].hAllocation, 64 * KIB, 16), STATUS_SUCCESS);
	ck_assert(kt_verify(dev2, op.oi[0].hAllocation, 64 * KIB, 16));
	kt_assert_invariants(&g);
	/* The share handle died with the resource that made it. */
	D3DKMT_HANDLE dev3 = kt_new_device(&g);
	open_init(&op, dev3, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	destroy_device(dev2);
	ck_assert_uint_eq(n_allocs(&g), 0);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* An opened resource is shared too: nothing can be added to it. */
START_TEST(test_no_add_to_opened_resource)
{
	struct kt_gpu g;
	struct req r, r2;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	req_init(&r2, dev2, 1, PG);
	r2.ca.hResource = op.o.hResource;
	expect_invalid(&g, &r2);
	kt_teardown(&g);
}
END_TEST

/* ---- QueryResourceInfo / OpenResource validation ------------------------------- */

START_TEST(test_query_resource_info_invalid)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_shared(&g, &r, &share);
	D3DKMT_QUERYRESOURCEINFO q;

	KT_ST_EQ(D3DKMTQueryResourceInfo(NULL), STATUS_INVALID_PARAMETER);
	memset(&q, 0, sizeof(q));
	q.hDevice = g.device;
	q.hGlobalShare = share ^ 0x3f00u; /* unknown share handle */
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hGlobalShare = 0;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hGlobalShare = res;              /* a resource handle is not a share handle */
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hGlobalShare = r.info[0].hAllocation;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hGlobalShare = share;
	q.hDevice = 0;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hDevice = g.adapter;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	q.hDevice = g.device;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_SUCCESS);
	/* Once the resource is gone its share handle is stale. */
	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_open_resource_unknown_share)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	open_init(&op, dev2, share ^ 0x3f00u, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	open_init(&op, dev2, res, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(op.oi[0].hAllocation, 0);
	ck_assert_uint_eq(op.o.hResource, 0);
	KT_ST_EQ(D3DKMTOpenResource(NULL), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_open_resource_count_mismatch)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	open_init(&op, dev2, share, 1);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	open_init(&op, dev2, share, 3);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(op.oi[0].hAllocation, 0);
	ck_assert_uint_eq(op.o.hResource, 0);
	/* Nothing was left half-open: the right count still works. */
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_open_resource_buffer_too_small)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev2;
	q.hGlobalShare = share;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_SUCCESS);
	ck_assert_uint_gt(q.TotalPrivateDriverDataSize, 0);

	open_init(&op, dev2, share, 2);
	op.o.TotalPrivateDriverDataBufferSize = q.TotalPrivateDriverDataSize - 1;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(op.o.hResource, 0);

	open_init(&op, dev2, share, 2);
	op.o.pTotalPrivateDriverDataBuffer = NULL;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);

	open_init(&op, dev2, share, 2);
	op.o.pOpenAllocationInfo = NULL;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);

	open_init(&op, dev2, share, 2);
	op.o.PrivateRuntimeDataSize = sizeof(runtime_blob) - 1;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);

	open_init(&op, dev2, share, 2);
	op.o.pResourcePrivateDriverData = NULL;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);

	open_init(&op, dev2, share, 2);
	op.o.TotalPrivateDriverDataBufferSize = q.TotalPrivateDriverDataSize;
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_open_resource_bad_device)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	destroy_device(dev2);
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	open_init(&op, r.info[0].hAllocation, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	open_init(&op, 0, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	/* A device of another adapter cannot open it either. */
	struct gpusim_config cfg;
	char err[128] = "";
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, CFG, err, sizeof(err)), 0);
	LUID luid2;
	KT_ST_EQ(gpusim_adapter_create(&cfg, &luid2), STATUS_SUCCESS);
	D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = luid2 };
	KT_ST_EQ(D3DKMTOpenAdapterFromLuid(&oa), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd = { .hAdapter = oa.hAdapter };
	KT_ST_EQ(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	open_init(&op, cd.hDevice, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(op.o.hResource, 0);
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = cd.hDevice;
	q.hGlobalShare = share;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

/* ---- device removed ----------------------------------------------------------- */

START_TEST(test_device_removed)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, 64 * KIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, h, 64 * KIB, 3), STATUS_SUCCESS);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	uint64_t before = n_allocs(&g);

	req_init(&r, g.device, 1, PG);
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(r.info[0].hAllocation, 0);
	ck_assert_uint_eq(n_allocs(&g), before);
	req_init(&r, g.device, 2, PG);
	r.ca.Flags.CreateResource = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(r.ca.hResource, 0);
	ck_assert_uint_eq(n_allocs(&g), before);

	/* Destruction and close calls still succeed and free what they free. */
	KT_ST_EQ(kt_free(g.device, h), STATUS_SUCCESS);
	ck_assert(!alive(h));
	ck_assert_uint_eq(n_allocs(&g), before - 1);
	kt_assert_invariants(&g);
	destroy_device(g.device);
	ck_assert_uint_eq(n_allocs(&g), 0); /* the device's other allocation went with it */
	D3DKMT_CLOSEADAPTER ca = { .hAdapter = g.adapter };
	KT_ST_EQ(D3DKMTCloseAdapter(&ca), STATUS_SUCCESS);
	/* Closed: the handle is stale now, a bad parameter like any other. */
	KT_ST_EQ(D3DKMTCloseAdapter(&ca), STATUS_INVALID_PARAMETER);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_device_removed_v1_and_resources)
{
	struct kt_gpu g;
	struct req r;
	struct opened op;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE share;
	D3DKMT_HANDLE res = make_shared(&g, &r, &share);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	uint64_t before = n_allocs(&g);

	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	D3DDDI_ALLOCATIONINFO info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo = &info;
	KT_ST_EQ(D3DKMTCreateAllocation(&ca), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(n_allocs(&g), before);

	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev2;
	q.hGlobalShare = share;
	KT_ST_EQ(D3DKMTQueryResourceInfo(&q), STATUS_DEVICE_REMOVED);
	open_init(&op, dev2, share, 2);
	KT_ST_EQ(D3DKMTOpenResource(&op.o), STATUS_DEVICE_REMOVED);
	ck_assert_uint_eq(op.o.hResource, 0);

	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before - 2);
	destroy_device(dev2);
	destroy_device(g.device);
	D3DKMT_CLOSEADAPTER cl = { .hAdapter = g.adapter };
	KT_ST_EQ(D3DKMTCloseAdapter(&cl), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* ---- malformed input: STATUS_INVALID_PARAMETER, nothing created ----------------- *
 * Each test starts from a valid request (test_valid_request proves it valid), makes
 * one thing wrong and expects STATUS_INVALID_PARAMETER with nothing left behind. */

#define MALFORMED(name, nalloc, ...)                     \
	START_TEST(name)                                 \
	{                                                \
		struct kt_gpu g;                         \
		struct req r;                            \
		kt_setup(&g, CFG);                       \
		req_init(&r, g.device, nalloc, 64 * KIB); \
		__VA_ARGS__;                             \
		expect_invalid(&g, &r);                  \
		kt_teardown(&g);                         \
	}                                                \
	END_TEST

START_TEST(test_valid_request)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	req_init(&r, g.device, 3, 64 * KIB);
	r.ca.Flags.CreateResource = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 3);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_bad_null_pdata)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	KT_ST_EQ(D3DKMTCreateAllocation2(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTCreateAllocation(NULL), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

MALFORMED(test_bad_null_info, 1, r.ca.pAllocationInfo2 = NULL)
MALFORMED(test_bad_num_zero, 1, r.ca.NumAllocations = 0)
MALFORMED(test_bad_num_over_max, 1, r.ca.NumAllocations = D3DKMT_CREATEALLOCATION_MAX + 1)
MALFORMED(test_bad_device_zero, 1, r.ca.hDevice = 0)
MALFORMED(test_bad_device_stale, 1, {
	D3DKMT_HANDLE d = kt_new_device(&g);
	destroy_device(d);
	r.ca.hDevice = d;
})
MALFORMED(test_bad_device_is_allocation, 1, r.ca.hDevice = g.result)
MALFORMED(test_bad_device_is_adapter, 1, r.ca.hDevice = g.adapter)
MALFORMED(test_bad_device_is_context, 1, r.ca.hDevice = g.context)
MALFORMED(test_bad_resource_other_device, 1, {
	D3DKMT_HANDLE d2 = kt_new_device(&g);
	r.ca.hResource = make_resource(d2, 1, PG, false, NULL, NULL);
})
MALFORMED(test_bad_resource_is_allocation, 1, r.ca.hResource = g.result)
MALFORMED(test_bad_resource_stale, 1, {
	D3DKMT_HANDLE res = make_resource(g.device, 1, PG, false, NULL, NULL);
	KT_ST_EQ(destroy_resource(g.device, res), STATUS_SUCCESS);
	r.ca.hResource = res;
})
MALFORMED(test_bad_create_resource_with_handle, 1, {
	r.ca.hResource = make_resource(g.device, 1, PG, false, NULL, NULL);
	r.ca.Flags.CreateResource = 1;
})
MALFORMED(test_bad_flags_reserved_top, 1, {
	UINT v = 0x80000000u;
	memcpy(&r.ca.Flags, &v, sizeof(v));
})
MALFORMED(test_bad_flags_reserved_low, 1, {
	UINT v = 0x00400000u | 0x1u; /* lowest reserved bit, beside CreateResource */
	memcpy(&r.ca.Flags, &v, sizeof(v));
})
MALFORMED(test_bad_flags_create_protected, 1, r.ca.Flags.CreateProtected = 1)
MALFORMED(test_bad_flags_existing_sysmem, 1, r.ca.Flags.ExistingSysMem = 1)
MALFORMED(test_bad_flags_write_combined, 1, r.ca.Flags.CreateWriteCombined = 1)
MALFORMED(test_bad_flags_zeroed_is_output, 1, r.ca.Flags.Zeroed = 1)
MALFORMED(test_bad_runtime_data_null, 1, r.ca.PrivateRuntimeDataSize = 16)
MALFORMED(test_bad_resource_driver_data_null, 1, {
	r.ca.Flags.CreateResource = 1;
	r.ca.PrivateDriverDataSize = 16;
})
MALFORMED(test_bad_private_null, 1, r.info[0].pPrivateDriverData = NULL)
MALFORMED(test_bad_private_size_small, 1, r.info[0].PrivateDriverDataSize = sizeof(struct gpusim_alloc_desc) - 4)
MALFORMED(test_bad_private_size_big, 1, r.info[0].PrivateDriverDataSize = sizeof(struct gpusim_alloc_desc) + 4)
MALFORMED(test_bad_private_size_zero, 1, r.info[0].PrivateDriverDataSize = 0)
MALFORMED(test_bad_desc_version, 1, r.desc[0].version = GPUSIM_ALLOC_DESC_VERSION + 1)
MALFORMED(test_bad_desc_version_zero, 1, r.desc[0].version = 0)
MALFORMED(test_bad_desc_size_zero, 1, r.desc[0].size = 0)
MALFORMED(test_bad_desc_size_overflow, 1, r.desc[0].size = UINT64_MAX - 100)
MALFORMED(test_bad_desc_alignment, 1, r.desc[0].alignment = 3 * PG)
MALFORMED(test_bad_desc_flags, 1, r.desc[0].flags = GPUSIM_ALLOC_FLAGS_ALL + 1)
MALFORMED(test_bad_desc_segment_unknown, 1, r.desc[0].preferred[0] = 7)
MALFORMED(test_bad_desc_segment_sys, 1, r.desc[0].preferred[0] = GPUSIM_SEG_SYS)
MALFORMED(test_bad_desc_pref_not_allowed, 1, {
	r.desc[0].preferred[0] = GPUSIM_SEG_GART;
	r.desc[0].allowed = KT_SEG(VISIBLE) | KT_SEG(INVISIBLE);
})
MALFORMED(test_bad_desc_second_pref_not_allowed, 1, {
	r.desc[0].preferred[0] = GPUSIM_SEG_VISIBLE;
	r.desc[0].preferred[1] = GPUSIM_SEG_INVISIBLE;
	r.desc[0].allowed = KT_SEG(VISIBLE);
})
MALFORMED(test_bad_desc_pref_gap, 1, r.desc[0].preferred[1] = GPUSIM_SEG_VISIBLE)
MALFORMED(test_bad_desc_pref_duplicate, 1, {
	r.desc[0].preferred[0] = GPUSIM_SEG_VISIBLE;
	r.desc[0].preferred[1] = GPUSIM_SEG_VISIBLE;
})
MALFORMED(test_bad_desc_allowed_unknown, 1, r.desc[0].allowed = KT_SEG(VISIBLE) | (1u << 6))
/* System memory is where an evicted allocation waits, not a segment to allow. */
MALFORMED(test_bad_desc_allowed_sys, 1, r.desc[0].allowed = KT_SEG(VISIBLE) | (1u << GPUSIM_SEG_SYS))
MALFORMED(test_bad_desc_allowed_bit0, 1, r.desc[0].allowed = 1u)
MALFORMED(test_bad_info_flags_reserved, 1, r.info[0].Flags.Value = 0x8u)
MALFORMED(test_bad_info_system_mem, 1, {
	static uint8_t mem[4096];
	r.info[0].pSystemMem = mem;
})
MALFORMED(test_bad_info_override_priority_zero, 1, {
	r.info[0].Flags.OverridePriority = 1;
	r.info[0].Priority = 0;
})
/* N = 3 where only the last is malformed: none is created. */
MALFORMED(test_bad_third_of_three, 3, r.desc[2].alignment = 5)
MALFORMED(test_bad_third_of_three_in_resource, 3, {
	r.ca.Flags.CreateResource = 1;
	r.desc[2].size = 0;
})
MALFORMED(test_bad_third_of_three_info_flags, 3, r.info[2].Flags.Value = 0x10u)

/* The first-generation structure has no OverridePriority bit: it is reserved. */
START_TEST(test_bad_v1_info_flags)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	D3DDDI_ALLOCATIONINFO info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	info.Flags.Value = 0x4u;
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g.device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo = &info;
	KT_ST_EQ(D3DKMTCreateAllocation(&ca), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(info.hAllocation, 0);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* With visible == vram there is no invisible segment: asking only for it names a
 * segment the adapter does not have. */
START_TEST(test_bad_segment_absent)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, "vram=16M,visible=16M,gart=16M,sysmem=256M");
	req_init(&r, g.device, 1, PG);
	r.desc[0].allowed = KT_SEG(INVISIBLE);
	expect_invalid(&g, &r);
	kt_teardown(&g);
}
END_TEST

/* ---- destruction ---------------------------------------------------------------- */

START_TEST(test_destroy_bad_handle_in_middle)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[3], gone;
	for (int i = 0; i < 3; i++)
		KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[i]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &gone), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, gone), STATUS_SUCCESS);
	uint64_t before = n_allocs(&g);

	D3DKMT_HANDLE list[3] = { h[0], gone, h[2] };
	KT_ST_EQ(destroy_list(g.device, list, 3), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert(alive(h[0]) && alive(h[2]));

	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	D3DKMT_HANDLE other;
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	KT_ST_EQ(kt_alloc_on(dev2, &d, &other), STATUS_SUCCESS);
	D3DKMT_HANDLE list2[3] = { h[0], other, h[2] }; /* another device's allocation */
	KT_ST_EQ(destroy_list(g.device, list2, 3), STATUS_INVALID_PARAMETER);
	ck_assert(alive(h[0]) && alive(other) && alive(h[2]));

	D3DKMT_HANDLE list3[3] = { h[0], h[1], h[0] }; /* listed twice */
	KT_ST_EQ(destroy_list(g.device, list3, 3), STATUS_INVALID_PARAMETER);
	ck_assert(alive(h[0]) && alive(h[1]));

	KT_ST_EQ(destroy_list(g.device, h, 3), STATUS_SUCCESS);
	ck_assert(!alive(h[0]) && !alive(h[1]) && !alive(h[2]));
	KT_ST_EQ(kt_free(g.device, h[1]), STATUS_INVALID_PARAMETER); /* twice */
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_destroy_invalid_arguments)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h), STATUS_SUCCESS);
	D3DKMT_HANDLE res = make_resource(g.device, 1, PG, false, NULL, NULL);
	uint64_t before = n_allocs(&g);
	D3DKMT_DESTROYALLOCATION2 da;

	KT_ST_EQ(D3DKMTDestroyAllocation2(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(D3DKMTDestroyAllocation(NULL), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_list(g.device, &h, 0), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_list(g.device, NULL, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_list(0, &h, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_list(g.adapter, &h, 1), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(destroy_resource(g.device, h), STATUS_INVALID_PARAMETER);    /* not a resource */
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	KT_ST_EQ(destroy_resource(dev2, res), STATUS_INVALID_PARAMETER);      /* another device's */
	memset(&da, 0, sizeof(da));                                        /* both forms at once */
	da.hDevice = g.device;
	da.hResource = res;
	da.phAllocationList = &h;
	da.AllocationCount = 1;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_INVALID_PARAMETER);
	memset(&da, 0, sizeof(da));                                        /* kernel-only flag */
	da.hDevice = g.device;
	da.phAllocationList = &h;
	da.AllocationCount = 1;
	da.Flags.SystemUseOnly = 1;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_INVALID_PARAMETER);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert(alive(h));
	da.Flags.Value = 0;
	da.Flags.AssumeNotInUse = 1;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	ck_assert(!alive(h));
	kt_teardown(&g);
}
END_TEST

/* ---- system memory exhaustion: STATUS_NO_MEMORY ---------------------------------- */

START_TEST(test_sysmem_exhausted)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=16M,visible=8M,gart=4M,sysmem=8M");
	const uint64_t total = 8 * MIB / PG;
	D3DKMT_HANDLE h[16];
	int made = 0;
	NTSTATUS st = STATUS_SUCCESS;
	/* Every allocation reserves its backing store: 1 MiB each cannot all fit. */
	while (made < 16 && (st = kt_alloc(&g, MIB, 0, 0, &h[made])) == STATUS_SUCCESS)
		made++;
	ck_assert_msg(st == STATUS_NO_MEMORY, "status 0x%08x", (unsigned)st);
	struct gpusim_stats s = kt_stats(&g);
	/* It failed only because the next one would pass the total. */
	ck_assert_uint_le(s.commit_pages, total);
	ck_assert_uint_gt(s.commit_pages + MIB / PG, total);
	ck_assert_uint_eq(s.allocations, (uint64_t)made + 1);
	/* What is left can still be had, to the page, and then nothing more. */
	uint64_t left = total - s.commit_pages;
	D3DKMT_HANDLE rest, none;
	ck_assert_uint_gt(left, 0);
	KT_ST_EQ(kt_alloc(&g, left * PG, 0, 0, &rest), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &none), STATUS_NO_MEMORY);
	ck_assert_uint_eq(n_allocs(&g), (uint64_t)made + 2);
	/* Existing allocations are unharmed, and freeing gives the memory back. */
	KT_ST_EQ(kt_write(g.device, h[0], MIB, 9), STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, h[0], MIB, 9));
	KT_ST_EQ(kt_free(g.device, h[1]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[1]), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_sysmem_exhausted_batch)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, "vram=16M,visible=8M,gart=4M,sysmem=8M");
	uint64_t before = n_allocs(&g);
	req_init(&r, g.device, 3, 3 * MIB); /* 9 MiB of backing store in one call */
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_NO_MEMORY);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert_uint_eq(r.info[0].hAllocation, 0);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_sysmem_oom_injected)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_SYSMEM_OOM, 16), STATUS_SUCCESS);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, 17 * PG, 0, 0, &h), STATUS_NO_MEMORY);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_assert_invariants(&g);
	KT_ST_EQ(kt_alloc(&g, 16 * PG, 0, 0, &h), STATUS_SUCCESS);
	ck_assert_uint_eq(n_allocs(&g), before + 1);
	kt_teardown(&g);
}
END_TEST

/* The limit is met part-way through a batch: what was made is undone. */
START_TEST(test_sysmem_oom_injected_batch)
{
	struct kt_gpu g;
	struct req r;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	struct gpusim_stats s0 = kt_stats(&g);
	KT_ST_EQ(gpusim_inject(g.luid, GPUSIM_FAULT_SYSMEM_OOM, 40), STATUS_SUCCESS);
	req_init(&r, g.device, 3, 16 * PG);
	r.ca.Flags.CreateResource = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_NO_MEMORY);
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert_uint_eq(kt_stats(&g).commit_pages, s0.commit_pages);
	ck_assert_uint_eq(r.ca.hResource, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r.info[i].hAllocation, 0);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- virtualization: STATUS_NO_VIDEO_MEMORY only where it fails ------------------ */

START_TEST(test_larger_than_allowed_segment)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE h;
	/* 8 MiB cannot fit visible VRAM (8 MiB minus what the driver keeps). */
	KT_ST_EQ(kt_alloc(&g, 8 * MIB, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &h), STATUS_NO_VIDEO_MEMORY);
	/* 25 MiB fits neither VRAM segment alone. */
	KT_ST_EQ(kt_alloc(&g, 25 * MIB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &h), STATUS_NO_VIDEO_MEMORY);
	/* 16 MiB is more than the GART segment. */
	KT_ST_EQ(kt_alloc(&g, 16 * MIB, GPUSIM_SEG_GART, KT_SEG(GART), &h), STATUS_NO_VIDEO_MEMORY);
	ck_assert_uint_eq(n_allocs(&g), before);
	kt_assert_invariants(&g);
	/* What fits a segment it may use is fine. */
	KT_ST_EQ(kt_alloc(&g, 20 * MIB, 0, 0, &h), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc(&g, 7 * MIB, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &h), STATUS_SUCCESS);
	kt_teardown(&g);
}
END_TEST

/* Virtualization fails before the commit charge is weighed: an allocation larger
 * than every segment it allows is STATUS_NO_VIDEO_MEMORY even when system memory
 * could not back it either (2^62 bytes used to answer STATUS_NO_MEMORY). */
START_TEST(test_no_fit_before_commit)
{
	struct kt_gpu g;
	/* System memory smaller than invisible VRAM and the GART. */
	kt_setup(&g, "vram=32M,visible=8M,gart=16M,sysmem=12M");
	struct gpusim_stats s0 = kt_stats(&g);
	uint64_t before = n_allocs(&g);
	D3DKMT_HANDLE h;
	KT_ST_EQ(kt_alloc(&g, 1ull << 62, 0, 0, &h), STATUS_NO_VIDEO_MEMORY);
	KT_ST_EQ(kt_alloc(&g, 1ull << 62, GPUSIM_SEG_GART, KT_SEG(GART), &h), STATUS_NO_VIDEO_MEMORY);
	/* Above all of the device's memory, every segment allowed. */
	uint64_t total = 0;
	for (uint32_t seg = GPUSIM_SEG_VISIBLE; seg <= GPUSIM_SEG_MAX; seg++)
		total += s0.seg[seg].size;
	ck_assert_uint_gt(total, 12 * MIB); /* so the commit charge would refuse it too */
	KT_ST_EQ(kt_alloc(&g, total + PG, 0, 0, &h), STATUS_NO_VIDEO_MEMORY);
	/* Just above each segment, that segment alone allowed; exactly its size fits
	 * it, and is then up to the commit charge: 12 MiB of system memory backs the
	 * visible segment's size, not invisible VRAM's or the GART's. */
	static const uint32_t segs[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART };
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		uint32_t seg = segs[i];
		uint64_t size = s0.seg[seg].size;
		ck_assert_uint_gt(size, 0);
		NTSTATUS st = kt_alloc(&g, size + PG, seg, GPUSIM_SEG_BIT(seg), &h);
		ck_assert_msg(st == STATUS_NO_VIDEO_MEMORY, "%s + 4K: status 0x%08x", gpusim_segment_name(seg),
			      (unsigned)st);
		NTSTATUS want = size <= 12 * MIB - s0.commit_pages * PG ? STATUS_SUCCESS : STATUS_NO_MEMORY;
		st = kt_alloc(&g, size, seg, GPUSIM_SEG_BIT(seg), &h);
		ck_assert_msg(st == want, "%s exactly: status 0x%08x, expected 0x%08x", gpusim_segment_name(seg),
			      (unsigned)st, (unsigned)want);
		if (st == STATUS_SUCCESS)
			KT_ST_EQ(kt_free(g.device, h), STATUS_SUCCESS);
	}
	ck_assert_uint_eq(n_allocs(&g), before);
	/* In a batch, one that can never fit fails the call for that reason. */
	struct req r;
	req_init(&r, g.device, 3, PG);
	r.desc[1].size = 1ull << 62;
	KT_ST_EQ(D3DKMTCreateAllocation2(&r.ca), STATUS_NO_VIDEO_MEMORY);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r.info[i].hAllocation, 0);
	/* Nothing was charged or made; what fits still works. */
	ck_assert_uint_eq(n_allocs(&g), before);
	ck_assert_uint_eq(kt_stats(&g).commit_pages, s0.commit_pages);
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

START_TEST(test_pinned_fill_vram)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	struct gpusim_alloc_desc d = kt_desc(4 * MIB, GPUSIM_ALLOC_PINNED, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE));
	D3DKMT_HANDLE h[16];
	int made = 0;
	NTSTATUS st = STATUS_SUCCESS;
	while (made < 16 && (st = kt_alloc_on(g.device, &d, &h[made])) == STATUS_SUCCESS)
		made++;
	ck_assert_msg(st == STATUS_NO_VIDEO_MEMORY, "status 0x%08x", (unsigned)st);
	/* 24 MiB invisible holds six, ~7.6 MiB visible one more. */
	ck_assert_int_eq(made, 7);
	ck_assert_uint_eq(n_allocs(&g), 1 + (uint64_t)made);
	kt_assert_invariants(&g);
	/* The room that is left still serves a smaller pinned allocation... */
	D3DKMT_HANDLE small, plain;
	struct gpusim_alloc_desc d2 = kt_desc(2 * MIB, GPUSIM_ALLOC_PINNED, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d2, &small), STATUS_SUCCESS);
	/* ...and an ordinary one is placed elsewhere, not refused. */
	KT_ST_EQ(kt_alloc(&g, 4 * MIB, 0, 0, &plain), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(plain), GPUSIM_SEG_GART);
	/* Freeing a pinned one makes room for another. */
	KT_ST_EQ(kt_free(g.device, h[0]), STATUS_SUCCESS);
	KT_ST_EQ(kt_alloc_on(g.device, &d, &h[0]), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* Plain oversubscription is handled by eviction, never by an error. */
START_TEST(test_oversubscription_succeeds)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=4M,gart=4M,sysmem=64M");
	uint64_t before = n_allocs(&g);
	enum { N = 24 }; /* 24 MiB: three times VRAM */
	D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++) {
		NTSTATUS st = kt_alloc(&g, MIB, 0, 0, &h[i]);
		ck_assert_msg(st == STATUS_SUCCESS, "allocation %d: status 0x%08x", i, (unsigned)st);
		if (i < 4)
			KT_ST_EQ(kt_write(g.device, h[i], MIB, 100 + i), STATUS_SUCCESS);
	}
	struct gpusim_stats s = kt_stats(&g);
	ck_assert_uint_eq(s.allocations, before + N);
	ck_assert_uint_gt(s.evictions, 0);
	ck_assert_uint_le(s.usage_local, s.budget_local);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(kt_verify(g.device, h[i], MIB, 100 + i), "allocation %d lost its data", i);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

Suite *kmt_alloc_suite(void)
{
	Suite *s = suite_create("kmt_alloc");
	TCase *tc = tcase_create("create");
	tcase_add_test(tc, test_standalone);
	tcase_add_test(tc, test_standalone_batch);
	tcase_add_test(tc, test_create_allocation_v1);
	tcase_add_test(tc, test_initial_priority);
	tcase_add_test(tc, test_primary_is_pinned_in_vram);
	suite_add_tcase(s, tc);

	tc = tcase_create("resources");
	tcase_add_test(tc, test_resource_create_then_add);
	tcase_add_test(tc, test_destroy_resource_destroys_its_allocations);
	tcase_add_test(tc, test_destroy_one_member_of_resource);
	tcase_add_test(tc, test_shared_resource_has_global_share);
	tcase_add_test(tc, test_shared_needs_resource);
	tcase_add_test(tc, test_no_add_to_shared_resource);
	tcase_add_test(tc, test_no_add_to_shared_resource_with_shared_flag);
	suite_add_tcase(s, tc);

	tc = tcase_create("sharing");
	tcase_add_test(tc, test_query_resource_info);
	tcase_add_test(tc, test_open_resource_same_memory);
	tcase_add_test(tc, test_opened_resource_outlives_creator);
	tcase_add_test(tc, test_opened_resource_outlives_creator_device);
	tcase_add_test(tc, test_no_add_to_opened_resource);
	tcase_add_test(tc, test_query_resource_info_invalid);
	tcase_add_test(tc, test_open_resource_unknown_share);
	tcase_add_test(tc, test_open_resource_count_mismatch);
	tcase_add_test(tc, test_open_resource_buffer_too_small);
	tcase_add_test(tc, test_open_resource_bad_device);
	suite_add_tcase(s, tc);

	tc = tcase_create("removed");
	tcase_add_test(tc, test_device_removed);
	tcase_add_test(tc, test_device_removed_v1_and_resources);
	suite_add_tcase(s, tc);

	tc = tcase_create("malformed");
	tcase_add_test(tc, test_valid_request);
	tcase_add_test(tc, test_bad_null_pdata);
	tcase_add_test(tc, test_bad_null_info);
	tcase_add_test(tc, test_bad_num_zero);
	tcase_add_test(tc, test_bad_num_over_max);
	tcase_add_test(tc, test_bad_device_zero);
	tcase_add_test(tc, test_bad_device_stale);
	tcase_add_test(tc, test_bad_device_is_allocation);
	tcase_add_test(tc, test_bad_device_is_adapter);
	tcase_add_test(tc, test_bad_device_is_context);
	tcase_add_test(tc, test_bad_resource_other_device);
	tcase_add_test(tc, test_bad_resource_is_allocation);
	tcase_add_test(tc, test_bad_resource_stale);
	tcase_add_test(tc, test_bad_create_resource_with_handle);
	tcase_add_test(tc, test_bad_flags_reserved_top);
	tcase_add_test(tc, test_bad_flags_reserved_low);
	tcase_add_test(tc, test_bad_flags_create_protected);
	tcase_add_test(tc, test_bad_flags_existing_sysmem);
	tcase_add_test(tc, test_bad_flags_write_combined);
	tcase_add_test(tc, test_bad_flags_zeroed_is_output);
	tcase_add_test(tc, test_bad_runtime_data_null);
	tcase_add_test(tc, test_bad_resource_driver_data_null);
	tcase_add_test(tc, test_bad_private_null);
	tcase_add_test(tc, test_bad_private_size_small);
	tcase_add_test(tc, test_bad_private_size_big);
	tcase_add_test(tc, test_bad_private_size_zero);
	tcase_add_test(tc, test_bad_desc_version);
	tcase_add_test(tc, test_bad_desc_version_zero);
	tcase_add_test(tc, test_bad_desc_size_zero);
	tcase_add_test(tc, test_bad_desc_size_overflow);
	tcase_add_test(tc, test_bad_desc_alignment);
	tcase_add_test(tc, test_bad_desc_flags);
	tcase_add_test(tc, test_bad_desc_segment_unknown);
	tcase_add_test(tc, test_bad_desc_segment_sys);
	tcase_add_test(tc, test_bad_desc_pref_not_allowed);
	tcase_add_test(tc, test_bad_desc_second_pref_not_allowed);
	tcase_add_test(tc, test_bad_desc_pref_gap);
	tcase_add_test(tc, test_bad_desc_pref_duplicate);
	tcase_add_test(tc, test_bad_desc_allowed_unknown);
	tcase_add_test(tc, test_bad_desc_allowed_sys);
	tcase_add_test(tc, test_bad_desc_allowed_bit0);
	tcase_add_test(tc, test_bad_info_flags_reserved);
	tcase_add_test(tc, test_bad_info_system_mem);
	tcase_add_test(tc, test_bad_info_override_priority_zero);
	tcase_add_test(tc, test_bad_third_of_three);
	tcase_add_test(tc, test_bad_third_of_three_in_resource);
	tcase_add_test(tc, test_bad_third_of_three_info_flags);
	tcase_add_test(tc, test_bad_v1_info_flags);
	tcase_add_test(tc, test_bad_segment_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("destroy");
	tcase_add_test(tc, test_destroy_bad_handle_in_middle);
	tcase_add_test(tc, test_destroy_invalid_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_test(tc, test_sysmem_exhausted);
	tcase_add_test(tc, test_sysmem_exhausted_batch);
	tcase_add_test(tc, test_sysmem_oom_injected);
	tcase_add_test(tc, test_sysmem_oom_injected_batch);
	tcase_add_test(tc, test_larger_than_allowed_segment);
	tcase_add_test(tc, test_no_fit_before_commit);
	tcase_add_test(tc, test_pinned_fill_vram);
	tcase_add_test(tc, test_oversubscription_succeeds);
	suite_add_tcase(s, tc);
	return s;
}
