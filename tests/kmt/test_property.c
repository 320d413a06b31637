/*
 * The randomized property test: long random sequences of API calls on a small,
 * heavily oversubscribed adapter, with the manager's invariants checked after
 * every operation and every written byte checked regularly, under every eviction
 * policy. PROPERTY_OPS sets the operations per seed (default 20000; a quarter
 * of that in the resizable-BAR and two-pool configurations), PROPERTY_SEEDS the
 * seeds per policy in the standard configuration (default 1),
 * PROPERTY_CONFIG_SEEDS in the other two (default 1), and PROPERTY_SEED_BASE the
 * first seed's index; each configuration is a test case (CK_RUN_CASE: standard,
 * resizable_bar, two_pools). The WDDM 2 model runs beside the WDDM 1 model on the
 * same allocations: GPU VAs reserved, mapped (whole, partial, read-only),
 * unmapped, copied and freed, and CHECKSUM and COPY submitted by VA on a virtual
 * context; the invariant check compares every mapped page's entry with the
 * placements, the GPU's checksum by VA is compared with the CPU's, and an
 * allocation nothing has written must read zeros on both.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <gpusim/hw.h>
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MAX_LIVE 96
#define PG 4096ull
#define EXTRAS 4
#define EXTRA_PAGES 8

struct live {
	D3DKMT_HANDLE h;
	uint64_t size;
	uint32_t seed;       /* the CPU's last pattern; 0: none to check */
	bool zero;           /* never written by anyone: reads zeros */
	uint32_t resident;   /* our MakeResident count */
	bool pinned;
	uint64_t va;         /* the whole allocation's own mapping, 0: none */
};

/* The VA side of a run: a virtual context, a pinned command page and result page
 * mapped for it, and reservations mapped piecemeal. */
struct vaside {
	D3DKMT_HANDLE vctx, cmd, res;
	uint64_t cmd_va, res_va;
	uint64_t extra[EXTRAS];      /* EXTRA_PAGES pages each, 0: none */
	uint64_t crcs;               /* GPU checksums compared */
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

static bool make_resident(struct kt_gpu *g, struct live *x)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = g->device;
	mr.NumAllocations = 1;
	mr.AllocationList = &x->h;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	ck_assert_msg(st == STATUS_SUCCESS || st == STATUS_PENDING || st == STATUS_NO_MEMORY,
		      "MakeResident returned %#x", (unsigned)st);
	if (st == STATUS_NO_MEMORY)
		return false;
	x->resident++;
	return true;
}

/* Undo make_resident: the VA operations' own residency would otherwise pile up
 * until every allocation is held and nothing fits any more. */
static void evict(struct kt_gpu *g, struct live *x)
{
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = g->device;
	ev.NumAllocations = 1;
	ev.AllocationList = &x->h;
	ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
	x->resident--;
}

/* Whether the CPU can read x (pinned memory out of its reach cannot be locked). */
static bool cpu_readable(const struct live *x)
{
	uint32_t where = kt_segment(x->h);
	return !x->pinned || (where != GPUSIM_SEG_INVISIBLE && where != GPUSIM_SEG_VRAM2);
}

/* The checksum of n zero bytes. */
static uint32_t zeros_crc(uint64_t n)
{
	static const uint8_t z[PG];
	uLong crc = crc32(0L, Z_NULL, 0);
	for (uint64_t off = 0; off < n; off += PG)
		crc = crc32(crc, z, (uInt)(n - off < PG ? n - off : PG));
	return (uint32_t)crc;
}

/* The GPU's CHECKSUM of pages [first, first + pages) of x through its VA, made
 * resident first, against the CPU's checksum of the same bytes, and against
 * zeros while nothing has written x: the manager promises a new allocation never
 * shows another's bytes, wherever it is placed or moved. */
static void va_crc_check(struct kt_gpu *g, struct vaside *v, struct live *x, uint64_t first, uint64_t pages,
			 uint64_t op)
{
	if (!x->va || !make_resident(g, x))
		return;
	uint32_t seg = kt_segment(x->h);
	uint32_t gpu = kt_va_crc(g, v->vctx, v->cmd, v->cmd_va, x->va + first * PG, pages * PG, v->res, v->res_va);
	evict(g, x);
	if (x->zero)
		ck_assert_msg(gpu == zeros_crc(pages * PG),
			      "op %llu: the GPU reads other bytes than zeros through VA 0x%llx (pages %llu+%llu of %llu, "
			      "segment %u, pinned %d) of an allocation nothing wrote", (unsigned long long)op,
			      (unsigned long long)(x->va + first * PG), (unsigned long long)first,
			      (unsigned long long)pages, (unsigned long long)(x->size / PG), seg, x->pinned);
	uint32_t cpu;
	if (cpu_readable(x))
		cpu = kt_cpu_crc(g->device, x->h, first * PG, pages * PG);
	else if (x->seed && first == 0 && pages * PG == x->size)
		cpu = kt_pattern_crc(x->size, x->seed);
	else
		return;
	ck_assert_msg(gpu == cpu, "op %llu: the GPU reads other bytes through VA 0x%llx (pages %llu+%llu of %llu, "
		      "segment %u, pinned %d) than the CPU reads", (unsigned long long)op,
		      (unsigned long long)(x->va + first * PG), (unsigned long long)first, (unsigned long long)pages,
		      (unsigned long long)(x->size / PG), seg, x->pinned);
	v->crcs++;
}

static void check_all(struct kt_gpu *g, struct vaside *v, struct live *l, uint32_t n, uint64_t op)
{
	for (uint32_t i = 0; i < n; i++) {
		if (l[i].seed)
			ck_assert_msg(kt_verify(g->device, l[i].h, l[i].size, l[i].seed),
				      "op %llu: allocation %u lost bytes", (unsigned long long)op, i);
		if (l[i].zero && cpu_readable(&l[i]))
			ck_assert_msg(kt_cpu_crc(g->device, l[i].h, 0, l[i].size) == zeros_crc(l[i].size),
				      "op %llu: allocation %u, never written, reads other bytes than zeros (segment %u)",
				      (unsigned long long)op, i, kt_segment(l[i].h));
		va_crc_check(g, v, &l[i], 0, l[i].size / PG, op);
	}
}

static void va_setup(struct kt_gpu *g, struct vaside *v)
{
	memset(v, 0, sizeof(*v));
	v->vctx = kt_vctx(g->device);
	/* Pinned: a submission by VA needs its buffer resident, and nothing here
	 * makes them resident again. */
	struct gpusim_alloc_desc d = kt_desc(PG, GPUSIM_ALLOC_PINNED | GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE,
					     KT_SEG(VISIBLE));
	ck_assert_int_eq(kt_alloc_on(g->device, &d, &v->cmd), STATUS_SUCCESS);
	ck_assert_int_eq(kt_alloc_on(g->device, &d, &v->res), STATUS_SUCCESS);
	ck_assert_int_eq(kt_va_map(g->device, v->cmd, 0, 1, false, &v->cmd_va), STATUS_PENDING);
	ck_assert_int_eq(kt_va_map(g->device, v->res, 0, 1, false, &v->res_va), STATUS_PENDING);
}

/* A map may meet a VRAM too full of pinned memory for a new page table. */
static bool map_ok(NTSTATUS st)
{
	return st == STATUS_PENDING || st == STATUS_NO_MEMORY || st == STATUS_GRAPHICS_NO_VIDEO_MEMORY;
}

static void va_op(struct kt_gpu *g, struct vaside *v, struct live *l, uint32_t n, uint32_t what, uint32_t i,
		  uint64_t *s, uint64_t op)
{
	struct live *x = &l[i];
	uint64_t pages = x->size / PG;
	if (what < 105) {
		/* The allocation's own mapping: made anywhere, or freed. */
		if (x->va) {
			ck_assert_int_eq(kt_va_free(g->adapter, x->va, x->size), STATUS_SUCCESS);
			x->va = 0;
		} else {
			uint64_t va = 0;
			NTSTATUS st = kt_va_map(g->device, x->h, 0, pages, false, &va);
			ck_assert_msg(map_ok(st), "op %llu: map returned %#x", (unsigned long long)op, (unsigned)st);
			if (st == STATUS_PENDING)
				x->va = va;
		}
	} else if (what < 110) {
		/* A reservation mapped piecemeal: part of an allocation (read-only at
		 * times), part unmapped, copied onto itself, freed. */
		uint32_t e = (uint32_t)(rng(s) % EXTRAS), r = (uint32_t)(rng(s) % 8);
		uint64_t *ex = &v->extra[e];
		if (!*ex) {
			ck_assert_int_eq(kt_va_reserve(g->device, EXTRA_PAGES * PG, ex), STATUS_SUCCESS);
			return;
		}
		uint64_t at = (uint64_t)(rng(s) % EXTRA_PAGES), len = 1 + rng(s) % (EXTRA_PAGES - at);
		if (r < 4) {
			uint64_t first = rng(s) % pages, np = len < pages - first ? len : pages - first;
			uint64_t va = *ex + at * PG;
			NTSTATUS st = kt_va_map(g->device, x->h, first, np, rng(s) % 2, &va);
			ck_assert_msg(map_ok(st), "op %llu: partial map returned %#x", (unsigned long long)op,
				      (unsigned)st);
		} else if (r < 6) {
			ck_assert_int_eq(kt_va_unmap(g->device, v->vctx, *ex + at * PG, len * PG), STATUS_SUCCESS);
		} else if (r < 7) {
			uint64_t to = rng(s) % (EXTRA_PAGES - len + 1);
			NTSTATUS st = kt_va_copy(g->device, v->vctx, *ex + at * PG, *ex + to * PG, len * PG);
			ck_assert_msg(st == STATUS_SUCCESS || st == STATUS_NO_MEMORY ||
					      st == STATUS_GRAPHICS_NO_VIDEO_MEMORY,
				      "op %llu: copy returned %#x", (unsigned long long)op, (unsigned)st);
		} else {
			ck_assert_int_eq(kt_va_free(g->adapter, *ex, EXTRA_PAGES * PG), STATUS_SUCCESS);
			*ex = 0;
		}
	} else if (what < 116) {
		/* CHECKSUM by VA over part or all of a resident mapping. */
		uint64_t first = rng(s) % pages;
		va_crc_check(g, v, x, first, 1 + rng(s) % (pages - first), op);
	} else {
		/* COPY by VA between the mappings of two resident allocations. */
		struct live *y = &l[(i + 1 + rng(s) % (n - 1)) % n];
		if (!x->va || !y->va || y == x || !make_resident(g, x))
			return;
		/* Making y resident may push x out (only the set being made resident
		 * is safe): then the copy would fault, so it is not made. */
		if (!make_resident(g, y)) {
			evict(g, x);
			return;
		}
		if (kt_segment(x->h) == GPUSIM_SEG_SYS) {
			evict(g, y);
			evict(g, x);
			return;
		}
		uint64_t bytes = x->size < y->size ? x->size : y->size;
		uint32_t p[] = { HW_PKT_HEADER(HW_PKT_COPY, 0, 6), (uint32_t)x->va, (uint32_t)(x->va >> 32),
				 (uint32_t)y->va, (uint32_t)(y->va >> 32), (uint32_t)bytes, 0 };
		ck_assert_int_eq(kt_va_submit(g->device, v->vctx, v->cmd, v->cmd_va, p, 7), STATUS_SUCCESS);
		y->seed = 0; /* checked by the GPU/CPU checksums from here on */
		y->zero = false;
		/* A submission by VA lists nothing, so the manager cannot know the
		 * copy uses them: residency is the caller's until the work is done. */
		kt_idle(g);
		evict(g, x);
		evict(g, y);
	}
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
	struct vaside v;
	va_setup(&g, &v);
	for (uint64_t op = 0; op < ops; op++) {
		/* 100 and up: the VA model's operations. */
		uint32_t what = (uint32_t)(rng(&s) % 120);
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
				l[n++] = (struct live){ h, d.size, 0, true, 0, pinned, 0 };
		} else if (what >= 100) {
			va_op(&g, &v, l, n, what, i, &s, op);
		} else if (what < 40) {
			/* Its own reservation goes with it half the time; otherwise the
			 * reservation outlives the mapping the free takes away. */
			if (l[i].va && rng(&s) % 2)
				ck_assert_int_eq(kt_va_free(g.adapter, l[i].va, l[i].size), STATUS_SUCCESS);
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
				l[i].zero = false;
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
			check_all(&g, &v, l, n, op);
	}
	check_all(&g, &v, l, n, ops);
	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(g.luid, &st), STATUS_SUCCESS);
	/* The run must actually have exercised the manager. */
	if (ops >= 10000) {
		ck_assert_uint_gt(st.evictions, 100);
		ck_assert_uint_gt(st.page_ins, 100);
		/* ... and compared what the GPU reads by VA with the CPU's bytes. */
		ck_assert_uint_gt(v.crcs, ops / 1000);
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

/* Under a minute of CPU for the whole suite in make check (the host's page
 * releases and faults that keep freed memory reading zero dominate the cost);
 * longer runs and more seeds are for PROPERTY_OPS and the *_SEEDS variables. */
#define DEFAULT_OPS 20000

#define CFG_STANDARD "vram=3M,visible=1M,gart=3M,sysmem=64M"

/* Loop index i: policy i % npolicies, seed i / npolicies (the same seeds for
 * every policy). PROPERTY_SEED_BASE shifts the seeds, so a long search can go on
 * where the last one stopped. */
static uint64_t seed_of(uint64_t base, int i, unsigned np)
{
	return base + (env_u64("PROPERTY_SEED_BASE", 0) + (uint64_t)i / np) * 7919;
}

START_TEST(random_operations_keep_invariants)
{
	uint64_t ops = env_u64("PROPERTY_OPS", DEFAULT_OPS);
	unsigned np = npolicies();
	run_seed(seed_of(0x5eed0000u, _i, np), ops, CFG_STANDARD, gpusim_policy_name((unsigned)_i % np));
}
END_TEST

/* The manager knows segments only by what they can do: a resizable BAR (all of
 * VRAM visible, no invisible segment) and VRAM beyond BAR2 split into two pools
 * must hold the same invariants with no change to it, under every policy (a
 * quarter of the operations each and PROPERTY_CONFIG_SEEDS seeds, one by
 * default: the standard runs cover the long haul). */
START_TEST(random_operations_resizable_bar)
{
	unsigned np = npolicies();
	run_seed(seed_of(0xba55u, _i, np), env_u64("PROPERTY_OPS", DEFAULT_OPS) / 4, "vram=3M,visible=3M,gart=3M,sysmem=64M",
		 gpusim_policy_name((unsigned)_i % np));
}
END_TEST

START_TEST(random_operations_two_pools)
{
	unsigned np = npolicies();
	run_seed(seed_of(0x9001u, _i, np), env_u64("PROPERTY_OPS", DEFAULT_OPS) / 4,
		 "vram=4M,visible=1M,gart=3M,sysmem=64M,pools=2", gpusim_policy_name((unsigned)_i % np));
}
END_TEST

/* A case per configuration, so CK_RUN_CASE can run one alone. */
Suite *kmt_property_suite(void)
{
	Suite *s = suite_create("kmt_property");
	int configs = (int)(env_u64("PROPERTY_CONFIG_SEEDS", 1) * npolicies());
	TCase *tc = tcase_create("standard");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, random_operations_keep_invariants, 0,
			    (int)(env_u64("PROPERTY_SEEDS", 1) * npolicies()));
	suite_add_tcase(s, tc);
	tc = tcase_create("resizable_bar");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, random_operations_resizable_bar, 0, configs);
	suite_add_tcase(s, tc);
	tc = tcase_create("two_pools");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, random_operations_two_pools, 0, configs);
	suite_add_tcase(s, tc);
	return s;
}
