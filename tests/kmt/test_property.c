/*
 * The randomized property test: long random sequences of API calls on a small,
 * heavily oversubscribed adapter, with the manager's invariants checked after
 * every operation and every written byte checked regularly, under every eviction
 * policy. PROPERTY_OPS sets the operations per seed (default 50000),
 * PROPERTY_SEEDS the number of seeds per policy.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MAX_LIVE 96

struct live {
	D3DKMT_HANDLE h;
	uint64_t size;
	uint32_t seed;       /* 0: never written, content undefined */
	uint32_t resident;   /* our MakeResident count */
	bool pinned;
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

static void check_all(struct kt_gpu *g, struct live *l, uint32_t n, uint64_t op)
{
	for (uint32_t i = 0; i < n; i++)
		if (l[i].seed)
			ck_assert_msg(kt_verify(g->device, l[i].h, l[i].size, l[i].seed),
				      "op %llu: allocation %u lost bytes", (unsigned long long)op, i);
}

static void run_seed(uint64_t seed, uint64_t ops, const char *config, const char *policy)
{
	struct kt_gpu g;
	struct live l[MAX_LIVE];
	uint32_t n = 0;
	uint64_t s = seed;
	char err[256], cfg[128];
	snprintf(cfg, sizeof(cfg), "%s,policy=%s", config, policy);
	kt_setup(&g, cfg);
	for (uint64_t op = 0; op < ops; op++) {
		uint32_t what = (uint32_t)(rng(&s) % 100);
		uint32_t i = n ? (uint32_t)(rng(&s) % n) : 0;
		if (n < 4 || (what < 25 && n < MAX_LIVE)) {
			/* create: 4 KiB .. 256 KiB, random preferences, rarely pinned */
			struct gpusim_alloc_desc d = kt_desc(4096ull << (rng(&s) % 7), 0, 0, 0);
			uint32_t r = (uint32_t)(rng(&s) % 8);
			if (r == 1)
				d.preferred[0] = GPUSIM_SEG_VISIBLE;
			else if (r == 2)
				d.preferred[0] = GPUSIM_SEG_GART;
			else if (r == 3) {
				d.preferred[0] = GPUSIM_SEG_GART;
				d.allowed = KT_SEG(GART);
			} else if (r == 4)
				d.flags = GPUSIM_ALLOC_CPU_VISIBLE;
			if (rng(&s) % 4 == 0)
				d.alignment = 4096ull << (rng(&s) % 5);
			static const uint32_t prio[] = { D3DDDI_ALLOCATIONPRIORITY_MINIMUM,
							 D3DDDI_ALLOCATIONPRIORITY_LOW, 0,
							 D3DDDI_ALLOCATIONPRIORITY_HIGH,
							 D3DDDI_ALLOCATIONPRIORITY_MAXIMUM };
			d.priority = prio[rng(&s) % 5];
			bool pinned = rng(&s) % 40 == 0;
			if (pinned)
				d.flags |= GPUSIM_ALLOC_PINNED;
			D3DKMT_HANDLE h;
			NTSTATUS st = kt_alloc_on(g.device, &d, &h);
			/* Only pinned memory may run out of room; nothing else may fail. */
			ck_assert_msg(st == STATUS_SUCCESS || (pinned && st == STATUS_GRAPHICS_NO_VIDEO_MEMORY),
				      "op %llu: create returned %#x", (unsigned long long)op, (unsigned)st);
			if (st == STATUS_SUCCESS)
				l[n++] = (struct live){ h, d.size, 0, 0, pinned };
		} else if (what < 40) {
			ck_assert_int_eq(kt_free(g.device, l[i].h), STATUS_SUCCESS);
			l[i] = l[--n];
		} else if (what < 55) {
			/* Pinned memory out of the CPU's reach cannot be locked: it may not move. */
			uint32_t wseed = (uint32_t)(rng(&s) | 1);
			NTSTATUS st = kt_write(g.device, l[i].h, l[i].size, wseed);
			uint32_t where = kt_segment(l[i].h);
			if (l[i].pinned && (where == GPUSIM_SEG_INVISIBLE || where == GPUSIM_SEG_VRAM2))
				ck_assert_int_eq(st, STATUS_GRAPHICS_CANT_LOCK_MEMORY);
			else {
				ck_assert_int_eq(st, STATUS_SUCCESS);
				l[i].seed = wseed;
			}
		} else if (what < 65) {
			if (l[i].seed)
				ck_assert_msg(kt_verify(g.device, l[i].h, l[i].size, l[i].seed), "op %llu: verify",
					      (unsigned long long)op);
		} else if (what < 80) {
			/* a submission touching up to three allocations */
			kt_cmd_begin(&g);
			for (uint32_t k = 0; k < 3; k++)
				kt_cmd_use(&g, l[(i + k * 5) % n].h);
			NTSTATUS st = kt_cmd_submit(&g);
			ck_assert_msg(st == STATUS_SUCCESS || st == STATUS_GRAPHICS_NO_VIDEO_MEMORY,
				      "op %llu: render returned %#x", (unsigned long long)op, (unsigned)st);
		} else if (what < 87) {
			D3DDDI_MAKERESIDENT mr;
			memset(&mr, 0, sizeof(mr));
			mr.hPagingQueue = g.device;
			mr.NumAllocations = 1;
			mr.AllocationList = &l[i].h;
			NTSTATUS st = D3DKMTMakeResident(&mr);
			ck_assert_msg(st == STATUS_SUCCESS || st == STATUS_PENDING || st == STATUS_NO_MEMORY,
				      "op %llu: MakeResident returned %#x", (unsigned long long)op, (unsigned)st);
			if (st != STATUS_NO_MEMORY)
				l[i].resident++;
		} else if (what < 94) {
			if (l[i].resident) {
				D3DKMT_EVICT ev;
				memset(&ev, 0, sizeof(ev));
				ev.hDevice = g.device;
				ev.NumAllocations = 1;
				ev.AllocationList = &l[i].h;
				ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
				l[i].resident--;
			}
		} else {
			UINT prio = (UINT)(rng(&s) % 0xc8000000u) + 1;
			D3DKMT_SETALLOCATIONPRIORITY sp;
			memset(&sp, 0, sizeof(sp));
			sp.hDevice = g.device;
			sp.phAllocationList = &l[i].h;
			sp.AllocationCount = 1;
			sp.pPriorities = &prio;
			ck_assert_int_eq(D3DKMTSetAllocationPriority(&sp), STATUS_SUCCESS);
		}
		ck_assert_msg(gpusim_check_invariants(g.luid, err, sizeof(err)) == STATUS_SUCCESS,
			      "%s, seed %llu op %llu: %s", policy, (unsigned long long)seed,
			      (unsigned long long)op, err);
		if (op % 2048 == 2047)
			check_all(&g, l, n, op);
	}
	check_all(&g, l, n, ops);
	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &st), STATUS_SUCCESS);
	/* The run must actually have exercised the manager. */
	if (ops >= 10000) {
		ck_assert_uint_gt(st.evictions, 100);
		ck_assert_uint_gt(st.page_ins, 100);
	}
	kt_teardown(&g);
}

static unsigned npolicies(void)
{
	unsigned n = 0;
	while (gpusim_policy_name(n))
		n++;
	return n;
}

#define CFG_STANDARD "vram=3M,visible=1M,gart=3M,sysmem=64M"

/* Loop index i: policy i % npolicies, seed i / npolicies (the same seeds for
 * every policy). */
START_TEST(random_operations_keep_invariants)
{
	uint64_t ops = env_u64("PROPERTY_OPS", 50000);
	unsigned np = npolicies();
	run_seed(0x5eed0000u + (uint64_t)(_i / np) * 7919, ops, CFG_STANDARD, gpusim_policy_name((unsigned)_i % np));
}
END_TEST

/* The manager knows segments only by what they can do: a resizable BAR (all of
 * VRAM visible, no invisible segment) and VRAM beyond BAR2 split into two pools
 * must hold the same invariants with no change to it, under every policy (a
 * quarter of the operations each: the standard runs cover the long haul). */
START_TEST(random_operations_resizable_bar)
{
	run_seed(0xba55u, env_u64("PROPERTY_OPS", 50000) / 4, "vram=3M,visible=3M,gart=3M,sysmem=64M",
		 gpusim_policy_name((unsigned)_i));
}
END_TEST

START_TEST(random_operations_two_pools)
{
	run_seed(0x9001u, env_u64("PROPERTY_OPS", 50000) / 4, "vram=4M,visible=1M,gart=3M,sysmem=64M,pools=2",
		 gpusim_policy_name((unsigned)_i));
}
END_TEST

Suite *kmt_property_suite(void)
{
	Suite *s = suite_create("kmt_property");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, random_operations_keep_invariants, 0,
			    (int)(env_u64("PROPERTY_SEEDS", 2) * npolicies()));
	tcase_add_loop_test(tc, random_operations_resizable_bar, 0, (int)npolicies());
	tcase_add_loop_test(tc, random_operations_two_pools, 0, (int)npolicies());
	suite_add_tcase(s, tc);
	return s;
}
