/*
 * The handle table and the allocation cells behind it (kmt/handle.c): handles keep
 * their shape, a stale handle fails after its slot is reused, a cell is reused
 * with its slot and never aliases another, every look-up still checks type and
 * owner, and memory whose owning handle is gone keeps its cell, also across a
 * snapshot restore.
 */
#include <config.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define KIB 1024ull
#define PG 4096ull
#define CFG "vram=64M,visible=8M,gart=16M,sysmem=256M"

/* The slot index of kmt/handle.c's shape: generation << 27 | index << 6. */
static uint32_t slot_of(D3DKMT_HANDLE h)
{
	return (h >> 6) & ((1u << 21) - 1);
}

static bool alive(D3DKMT_HANDLE h)
{
	struct gpusim_alloc_info info;
	return gpusim_query_allocation(h, &info) == STATUS_SUCCESS;
}

static NTSTATUS lock2(D3DKMT_HANDLE dev, D3DKMT_HANDLE h)
{
	D3DKMT_LOCK2 lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = dev;
	lk.hAllocation = h;
	NTSTATUS st = D3DKMTLock2(&lk);
	if (st == STATUS_SUCCESS) {
		D3DKMT_UNLOCK2 ul;
		memset(&ul, 0, sizeof(ul));
		ul.hDevice = dev;
		ul.hAllocation = h;
		ck_assert_int_eq(D3DKMTUnlock2(&ul), STATUS_SUCCESS);
	}
	return st;
}

/* The cheapest object there is to make and destroy: a fence sync object. The
 * handle counter is one for every type, so long loops of creations use these. */
static D3DKMT_HANDLE sync_new(D3DKMT_HANDLE dev)
{
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = dev;
	cs.Info.Type = D3DDDI_FENCE;
	NTSTATUS st = D3DKMTCreateSynchronizationObject2(&cs);
	/* Check reports every passing assertion through a pipe: the loops of a
	 * million handles assert only on failure. */
	if (st != STATUS_SUCCESS)
		ck_abort_msg("CreateSynchronizationObject2: status 0x%08x", (unsigned)st);
	return cs.hSyncObject;
}

static void sync_destroy(D3DKMT_HANDLE h)
{
	D3DKMT_DESTROYSYNCHRONIZATIONOBJECT ds;
	memset(&ds, 0, sizeof(ds));
	ds.hSyncObject = h;
	NTSTATUS st = D3DKMTDestroySynchronizationObject(&ds);
	if (st != STATUS_SUCCESS)
		ck_abort_msg("DestroySynchronizationObject 0x%x: status 0x%08x", h, (unsigned)st);
}

/* A shared resource of one allocation on g's device, opened on dev2. */
struct shared {
	D3DKMT_HANDLE res, share, mine, opened_res, theirs;
};

static void make_shared(struct kt_gpu *g, D3DKMT_HANDLE dev2, struct shared *s)
{
	struct gpusim_alloc_desc d = kt_desc(64 * KIB, 0, 0, 0);
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &d;
	info.PrivateDriverDataSize = sizeof(d);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g->device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ca.Flags.CreateResource = 1;
	ca.Flags.CreateShared = 1;
	KT_ST_EQ(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	s->res = ca.hResource;
	s->share = ca.hGlobalShare;
	s->mine = info.hAllocation;

	D3DDDI_OPENALLOCATIONINFO oi;
	uint8_t total[sizeof(struct gpusim_alloc_desc)];
	D3DKMT_OPENRESOURCE op;
	memset(&op, 0, sizeof(op));
	memset(&oi, 0, sizeof(oi));
	op.hDevice = dev2;
	op.hGlobalShare = s->share;
	op.NumAllocations = 1;
	op.pOpenAllocationInfo = &oi;
	op.pTotalPrivateDriverDataBuffer = total;
	op.TotalPrivateDriverDataBufferSize = sizeof(total);
	KT_ST_EQ(D3DKMTOpenResource(&op), STATUS_SUCCESS);
	s->opened_res = op.hResource;
	s->theirs = oi.hAllocation;
}

static NTSTATUS destroy_resource(D3DKMT_HANDLE dev, D3DKMT_HANDLE res)
{
	D3DKMT_DESTROYALLOCATION da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev;
	da.hResource = res;
	return D3DKMTDestroyAllocation(&da);
}

/* ---- shape and reuse ------------------------------------------------------- */

/* The Windows shape: low 6 bits clear, never 0, new handles 0x40 apart. */
START_TEST(test_handle_shape)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE h[4];
	for (int i = 0; i < 4; i++) {
		KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &h[i]), STATUS_SUCCESS);
		ck_assert_uint_ne(h[i], 0);
		ck_assert_uint_eq(h[i] & 63, 0);
		if (i)
			ck_assert_uint_eq(h[i] - h[i - 1], 0x40);
	}
	ck_assert_uint_eq(g.device & 63, 0);
	ck_assert_uint_eq(g.adapter & 63, 0);
	kt_teardown(&g);
}
END_TEST

/* A freed slot waits 2^15 creations before reuse; then the stale handle still
 * fails (its generation differs) and the new one is whole. */
START_TEST(test_stale_handle_after_slot_reuse)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, b = 0;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, PG, 1), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, a), STATUS_SUCCESS);
	uint32_t n = 0;
	for (;;) {
		D3DKMT_HANDLE t;
		if (kt_alloc(&g, 2 * PG, 0, 0, &t) != STATUS_SUCCESS || t == a || ++n > (1u << 16))
			ck_abort_msg("allocation %u: 0x%x", n, t);
		if (slot_of(t) == slot_of(a)) {
			b = t;
			break;
		}
		if (kt_free(g.device, t) != STATUS_SUCCESS)
			ck_abort_msg("free 0x%x", t);
	}
	/* Not before its quarantine: 2^20 over 32 generations. */
	ck_assert_uint_ge(n, GPUSIM_HANDLE_REUSE_BOUND / 32);
	ck_assert_uint_ne(b, a);
	/* The stale handle names nothing, whatever the call. */
	ck_assert(!alive(a));
	KT_ST_EQ(kt_free(g.device, a), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(lock2(g.device, a), STATUS_INVALID_PARAMETER);
	D3DKMT_HANDLE list[2] = { b, a };
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = g.device;
	da.phAllocationList = list;
	da.AllocationCount = 2;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_INVALID_PARAMETER);
	/* ...and the new one is whole: its own size, fresh contents writable. */
	ck_assert(alive(b));
	ck_assert_uint_eq(kt_query(b).size, 2 * PG);
	ck_assert_uint_eq(kt_query(b).device, g.device);
	KT_ST_EQ(kt_write(g.device, b, 2 * PG, 2), STATUS_SUCCESS);
	ck_assert(kt_verify(g.device, b, 2 * PG, 2));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* The guarantee at its bound, in the case that reuses slots fastest (one
 * object made and destroyed over and over): for 2^20 creations the destroyed
 * allocation's handle never comes back and fails every look-up, though its slot
 * is reused under other generations; the 32nd reuse, just past the bound,
 * brings the value back (the bound is the scheme's, not luck). */
START_TEST(test_destroyed_handle_stays_dead_for_the_bound)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE first, h;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &first), STATUS_SUCCESS);
	KT_ST_EQ(kt_free(g.device, first), STATUS_SUCCESS);
	uint32_t reuses = 0, back_at = 0;
	for (uint32_t n = 1; n <= GPUSIM_HANDLE_REUSE_BOUND + 64; n++) {
		h = sync_new(g.device);
		if (slot_of(h) == slot_of(first)) {
			reuses++;
			if (h == first) {
				back_at = n;
				break;
			}
		}
		if (n % 4096 == 0 && (alive(first) || lock2(g.device, first) != STATUS_INVALID_PARAMETER))
			ck_abort_msg("0x%x answers after %u creations", first, n);
		sync_destroy(h);
	}
	/* With an empty quarantine at the start (a test process of its own) the
	 * slot comes round every 2^15 + 1 creations and the value is back at the
	 * 32nd reuse; with older handles in the quarantine, later. */
	ck_assert(back_at == 0 || back_at > GPUSIM_HANDLE_REUSE_BOUND);
	ck_assert_uint_ge(reuses, 16);
	if (getenv("CK_FORK") == NULL || strcmp(getenv("CK_FORK"), "no") != 0) {
		ck_assert_uint_eq(reuses, 32);
		ck_assert_uint_eq(back_at, 32 * (GPUSIM_HANDLE_REUSE_BOUND / 32 + 1));
	}
	kt_teardown(&g);
}
END_TEST

/* gpusim_reset destroys every handle, and none of them names an object of the
 * next session within the bound: adapter, device, context and allocations. */
START_TEST(test_handles_stay_dead_across_reset)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	enum { OLD = 8 };
	D3DKMT_HANDLE old[OLD] = { g.adapter, g.device, g.context };
	for (int i = 3; i < OLD; i++)
		KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &old[i]), STATUS_SUCCESS);
	kt_teardown(&g); /* gpusim_reset */
	kt_setup(&g, CFG);
	for (int i = 0; i < OLD; i++) {
		ck_assert_uint_ne(old[i], g.adapter);
		ck_assert_uint_ne(old[i], g.device);
		ck_assert_uint_ne(old[i], g.context);
		ck_assert(!alive(old[i]));
		KT_ST_EQ(kt_free(g.device, old[i]), STATUS_INVALID_PARAMETER);
	}
	for (uint32_t n = 0; n < GPUSIM_HANDLE_REUSE_BOUND; n++) {
		D3DKMT_HANDLE h = sync_new(g.device);
		for (int i = 0; i < OLD; i++)
			if (h == old[i])
				ck_abort_msg("0x%x is back after %u creations", h, n);
		sync_destroy(h);
	}
	for (int i = 0; i < OLD; i++)
		ck_assert(!alive(old[i]));
	kt_teardown(&g);
}
END_TEST

/* Allocations over several slab chunks (8192 cells each), freed in a scattered
 * order and made again: each handle keeps its own object (size, place, bytes). */
START_TEST(test_cells_never_alias)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=1G,visible=16M,gart=16M,sysmem=2G");
	enum { N = 20000 };
	static D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++)
		KT_ST_EQ(kt_alloc(&g, (1 + i % 7) * PG, 0, 0, &h[i]), STATUS_SUCCESS);
	for (int i = 0; i < N; i += 3)
		KT_ST_EQ(kt_free(g.device, h[i]), STATUS_SUCCESS);
	for (int i = 0; i < N; i += 3)
		KT_ST_EQ(kt_alloc(&g, (1 + (i + 3) % 7) * PG, 0, 0, &h[i]), STATUS_SUCCESS);
	for (int i = 0; i < N; i += 97)
		KT_ST_EQ(kt_write(g.device, h[i], PG, (uint32_t)i), STATUS_SUCCESS);
	for (int i = 0; i < N; i++) {
		uint64_t want = (1 + (i % 3 == 0 ? (i + 3) % 7 : i % 7)) * PG;
		ck_assert_uint_eq(kt_query(h[i]).size, want);
		for (int j = i + 1; j < N && j < i + 4; j++)
			ck_assert(kt_query(h[i]).offset != kt_query(h[j]).offset ||
				  kt_query(h[i]).segment != kt_query(h[j]).segment);
	}
	for (int i = 0; i < N; i += 97)
		ck_assert(kt_verify(g.device, h[i], PG, (uint32_t)i));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- every check still made ------------------------------------------------ */

START_TEST(test_type_and_owner_checked)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE a, other;
	KT_ST_EQ(kt_alloc(&g, PG, 0, 0, &a), STATUS_SUCCESS);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	struct gpusim_alloc_desc d = kt_desc(PG, 0, 0, 0);
	KT_ST_EQ(kt_alloc_on(dev2, &d, &other), STATUS_SUCCESS);
	struct shared s;
	make_shared(&g, dev2, &s);
	/* Handles of other types, in slots whose cells exist (same slab chunk). */
	const D3DKMT_HANDLE not_allocs[] = { g.device, g.context, g.adapter, s.res, s.share, dev2 };
	for (size_t i = 0; i < sizeof(not_allocs) / sizeof(not_allocs[0]); i++) {
		KT_ST_EQ(kt_free(g.device, not_allocs[i]), STATUS_INVALID_PARAMETER);
		KT_ST_EQ(lock2(g.device, not_allocs[i]), STATUS_INVALID_PARAMETER);
	}
	/* Zero, low bits set, a slot far beyond the table, another generation. */
	const D3DKMT_HANDLE junk[] = { 0, 0xFFFFFFFFu, a | 1, a | 0x20, (a & 0xF8000000u) | (1u << 20) << 6,
				       0x7FFFFFC0u, a ^ 0x08000000u, a ^ 0x80000000u };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		KT_ST_EQ(kt_free(g.device, junk[i]), STATUS_INVALID_PARAMETER);
		KT_ST_EQ(lock2(g.device, junk[i]), STATUS_INVALID_PARAMETER);
	}
	/* Another device's allocation, and an opened copy used by its creator. */
	KT_ST_EQ(kt_free(g.device, other), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(lock2(g.device, other), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(lock2(g.device, s.theirs), STATUS_INVALID_PARAMETER);
	KT_ST_EQ(lock2(dev2, s.mine), STATUS_INVALID_PARAMETER);
	ck_assert(alive(a) && alive(other) && alive(s.mine) && alive(s.theirs));
	KT_ST_EQ(lock2(g.device, a), STATUS_SUCCESS);
	KT_ST_EQ(lock2(dev2, other), STATUS_SUCCESS);
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* ---- memory that outlives its handle --------------------------------------- */

/*
 * The creator's handle goes while another device still uses the memory: the
 * cell holding it keeps its slot out of circulation (new handles go elsewhere),
 * and gives it back when the memory goes.
 */
START_TEST(test_shared_memory_keeps_its_cell)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	struct shared s;
	make_shared(&g, dev2, &s);
	KT_ST_EQ(kt_write(g.device, s.mine, 64 * KIB, 9), STATUS_SUCCESS);
	uint64_t before = kt_stats(&g).allocations;
	KT_ST_EQ(destroy_resource(g.device, s.res), STATUS_SUCCESS);
	ck_assert(!alive(s.mine));
	ck_assert_uint_eq(kt_stats(&g).allocations, before);
	/* New handles never land in the parked slot, however many are made. */
	for (uint32_t n = 0; n < GPUSIM_HANDLE_REUSE_BOUND / 16; n++) {
		D3DKMT_HANDLE t = sync_new(g.device);
		if (slot_of(t) == slot_of(s.mine))
			ck_abort_msg("0x%x takes the parked slot", t);
		sync_destroy(t);
	}
	D3DKMT_HANDLE h[8];
	for (int i = 0; i < 8; i++) {
		KT_ST_EQ(kt_alloc(&g, 64 * KIB, 0, 0, &h[i]), STATUS_SUCCESS);
		ck_assert_uint_ne(slot_of(h[i]), slot_of(s.mine));
		KT_ST_EQ(kt_write(g.device, h[i], 64 * KIB, 100 + (uint32_t)i), STATUS_SUCCESS);
	}
	ck_assert(kt_verify(dev2, s.theirs, 64 * KIB, 9));
	ck_assert_uint_eq(kt_query(s.theirs).device, dev2);
	kt_assert_invariants(&g);
	/* The last handle goes: the memory, then its cell's slot, which new handles
	 * take once it has served its quarantine. */
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = dev2;
	da.phAllocationList = &s.theirs;
	da.AllocationCount = 1;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_stats(&g).allocations, before + 8 - 1);
	/* Allocations made and destroyed until one takes the slot. */
	D3DKMT_HANDLE again = 0;
	for (uint32_t n = 0; !again; n++) {
		D3DKMT_HANDLE t;
		if (n > (1u << 17) || kt_alloc(&g, PG, 0, 0, &t) != STATUS_SUCCESS)
			ck_abort_msg("allocation %u", n);
		if (slot_of(t) == slot_of(s.mine))
			again = t;
		else if (kt_free(g.device, t) != STATUS_SUCCESS)
			ck_abort_msg("free 0x%x", t);
	}
	ck_assert(!alive(s.mine) && alive(again));
	KT_ST_EQ(kt_write(g.device, again, PG, 77), STATUS_SUCCESS);
	for (int i = 0; i < 8; i++)
		ck_assert(kt_verify(g.device, h[i], 64 * KIB, 100 + (uint32_t)i));
	ck_assert(kt_verify(g.device, again, PG, 77));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

static D3DKMT_HANDLE remap(const struct gpusim_handle_map *m, size_t n, D3DKMT_HANDLE old)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].old_handle == old)
			return m[i].new_handle;
	ck_abort_msg("handle 0x%x was not restored", old);
	return 0;
}

/* The same across a snapshot: memory with no owning handle comes back in a cell
 * of its own, still read through the opener, and goes with it. */
START_TEST(test_orphan_memory_survives_restore)
{
	struct kt_gpu g;
	kt_setup(&g, CFG);
	D3DKMT_HANDLE dev2 = kt_new_device(&g);
	struct shared s;
	make_shared(&g, dev2, &s);
	KT_ST_EQ(kt_write(g.device, s.mine, 64 * KIB, 21), STATUS_SUCCESS);
	KT_ST_EQ(destroy_resource(g.device, s.res), STATUS_SUCCESS);
	uint64_t before = kt_stats(&g).allocations;

	/* Restored while the original still exists (the snapshot's ranges point
	 * into its memory), which then goes. */
	struct gpusim_snapshot *snap;
	KT_ST_EQ(gpusim_snapshot_take(g.luid, &snap), STATUS_SUCCESS);
	LUID luid;
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	ck_assert_msg(gpusim_snapshot_restore(snap, &luid, &m, &n, err, sizeof(err)) == STATUS_SUCCESS,
		      "%s", err);
	gpusim_snapshot_free(snap);
	KT_ST_EQ(gpusim_adapter_destroy(g.luid), STATUS_SUCCESS);
	D3DKMT_HANDLE d1 = remap(m, n, g.device), d2 = remap(m, n, dev2), theirs = remap(m, n, s.theirs);
	free(m);
	g.luid = luid;
	g.device = d1;
	ck_assert_uint_eq(kt_stats(&g).allocations, before);
	ck_assert(kt_verify(d2, theirs, 64 * KIB, 21));
	/* New handles after the restore never take the orphan's cell. */
	D3DKMT_HANDLE h[4];
	struct gpusim_alloc_desc d = kt_desc(64 * KIB, 0, 0, 0);
	for (int i = 0; i < 4; i++) {
		KT_ST_EQ(kt_alloc_on(d1, &d, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(d1, h[i], 64 * KIB, 50 + (uint32_t)i), STATUS_SUCCESS);
	}
	ck_assert(kt_verify(d2, theirs, 64 * KIB, 21));
	char why[256];
	ck_assert_msg(gpusim_check_invariants(luid, why, sizeof(why)) == STATUS_SUCCESS, "%s", why);
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = d2;
	da.phAllocationList = &theirs;
	da.AllocationCount = 1;
	KT_ST_EQ(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_stats(&g).allocations, before + 4 - 1);
	for (int i = 0; i < 4; i++)
		ck_assert(kt_verify(d1, h[i], 64 * KIB, 50 + (uint32_t)i));
	kt_teardown(&g);
}
END_TEST

Suite *kmt_handles_suite(void)
{
	Suite *s = suite_create("kmt_handles");
	TCase *tc = tcase_create("handles");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handle_shape);
	tcase_add_test(tc, test_stale_handle_after_slot_reuse);
	tcase_add_test(tc, test_destroyed_handle_stays_dead_for_the_bound);
	tcase_add_test(tc, test_handles_stay_dead_across_reset);
	tcase_add_test(tc, test_cells_never_alias);
	tcase_add_test(tc, test_type_and_owner_checked);
	tcase_add_test(tc, test_shared_memory_keeps_its_cell);
	tcase_add_test(tc, test_orphan_memory_survives_restore);
	suite_add_tcase(s, tc);
	return s;
}
