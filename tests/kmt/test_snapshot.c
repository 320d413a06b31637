/*
 * Snapshots in libkmt: a random workload run straight through must end exactly
 * where the same workload ends when it is snapshotted halfway, the adapter
 * destroyed, and the snapshot restored into a new adapter; and a damaged snapshot
 * is refused with a sentence, leaving no adapter and no handle behind.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/hw.h>
#include <gpusim/snapshot.h>
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MAX_LIVE 64
#define CONFIG "vram=3M,visible=1M,gart=3M,sysmem=64M"

struct live {
	D3DKMT_HANDLE h;
	uint64_t size;
	uint32_t seed;
	uint32_t resident;
	uint32_t locked;
};

struct wl {
	struct kt_gpu g;
	struct live l[MAX_LIVE];
	uint32_t n;
	uint64_t rng;
};

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void lock(struct wl *w, uint32_t i, bool take)
{
	if (take) {
		D3DKMT_LOCK lk;
		memset(&lk, 0, sizeof(lk));
		lk.hDevice = w->g.device;
		lk.hAllocation = w->l[i].h;
		ck_assert_int_eq(D3DKMTLock(&lk), STATUS_SUCCESS);
		w->l[i].locked++;
	} else {
		D3DKMT_UNLOCK ul;
		memset(&ul, 0, sizeof(ul));
		ul.hDevice = w->g.device;
		ul.NumAllocations = 1;
		ul.phAllocations = &w->l[i].h;
		ck_assert_int_eq(D3DKMTUnlock(&ul), STATUS_SUCCESS);
		w->l[i].locked--;
	}
}

/* Operations [from, to) of the workload; the generator's state is part of w. */
static void workload(struct wl *w, uint64_t from, uint64_t to)
{
	for (uint64_t op = from; op < to; op++) {
		uint32_t what = (uint32_t)(rng(&w->rng) % 100);
		uint32_t i = w->n ? (uint32_t)(rng(&w->rng) % w->n) : 0;
		struct live *x = &w->l[i];
		if (w->n < 4 || (what < 25 && w->n < MAX_LIVE)) {
			struct gpusim_alloc_desc d = kt_desc(4096ull << (rng(&w->rng) % 6), 0, 0, 0);
			uint32_t r = (uint32_t)(rng(&w->rng) % 6);
			if (r == 1)
				d.preferred[0] = GPUSIM_SEG_VISIBLE;
			else if (r == 2)
				d.preferred[0] = GPUSIM_SEG_GART;
			else if (r == 3)
				d.flags = GPUSIM_ALLOC_CPU_VISIBLE;
			if (rng(&w->rng) % 4 == 0)
				d.alignment = 4096ull << (rng(&w->rng) % 4);
			d.priority = rng(&w->rng) % 2 ? D3DDDI_ALLOCATIONPRIORITY_HIGH : 0;
			D3DKMT_HANDLE h;
			ck_assert_int_eq(kt_alloc_on(w->g.device, &d, &h), STATUS_SUCCESS);
			w->l[w->n++] = (struct live){ h, d.size, 0, 0, 0 };
		} else if (what < 35) {
			if (x->locked)
				continue;
			ck_assert_int_eq(kt_free(w->g.device, x->h), STATUS_SUCCESS);
			*x = w->l[--w->n];
		} else if (what < 50) {
			if (x->locked)
				continue;
			uint32_t seed = (uint32_t)(rng(&w->rng) | 1);
			ck_assert_int_eq(kt_write(w->g.device, x->h, x->size, seed), STATUS_SUCCESS);
			x->seed = seed;
		} else if (what < 54) {
			/* Locks held across the snapshot must survive it. */
			lock(w, i, x->locked == 0);
		} else if (what < 70) {
			kt_cmd_begin(&w->g);
			for (uint32_t k = 0; k < 3; k++)
				kt_cmd_use(&w->g, w->l[(i + k * 5) % w->n].h);
			NTSTATUS st = kt_cmd_submit(&w->g);
			ck_assert(st == STATUS_SUCCESS || st == STATUS_GRAPHICS_NO_VIDEO_MEMORY ||
				  st == STATUS_GRAPHICS_CANT_RENDER_LOCKED_ALLOCATION);
		} else if (what < 80) {
			D3DDDI_MAKERESIDENT mr;
			memset(&mr, 0, sizeof(mr));
			mr.hPagingQueue = w->g.device;
			mr.NumAllocations = 1;
			mr.AllocationList = &x->h;
			NTSTATUS st = D3DKMTMakeResident(&mr);
			if (st != STATUS_NO_MEMORY)
				x->resident++;
		} else if (what < 88) {
			if (x->resident) {
				D3DKMT_EVICT ev;
				memset(&ev, 0, sizeof(ev));
				ev.hDevice = w->g.device;
				ev.NumAllocations = 1;
				ev.AllocationList = &x->h;
				ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
				x->resident--;
			}
		} else if (what < 94) {
			UINT prio = (UINT)(rng(&w->rng) % 0xc8000000u) + 1;
			D3DKMT_SETALLOCATIONPRIORITY sp;
			memset(&sp, 0, sizeof(sp));
			sp.hDevice = w->g.device;
			sp.phAllocationList = &x->h;
			sp.AllocationCount = 1;
			sp.pPriorities = &prio;
			ck_assert_int_eq(D3DKMTSetAllocationPriority(&sp), STATUS_SUCCESS);
		} else {
			/* GPU work that takes time: a fill queued and left running. */
			kt_cmd_begin(&w->g);
			kt_cmd_fill(&w->g, x->h, x->size, (uint32_t)op);
			if (kt_cmd_submit(&w->g) == STATUS_SUCCESS && !x->locked)
				x->seed = 0; /* the GPU owns the bytes now */
		}
	}
}

/* A deep copy whose memory does not depend on the adapter: what a file gives. */
static struct gpusim_snapshot *clone(const struct gpusim_snapshot *s)
{
	struct gpusim_snapshot *c = malloc(sizeof(*c));
	*c = *s;
	c->regs = malloc(s->nregs * sizeof(*s->regs) + 1);
	memcpy(c->regs, s->regs, s->nregs * sizeof(*s->regs));
	c->gart = malloc(s->ngart * sizeof(*s->gart) + 1);
	memcpy(c->gart, s->gart, s->ngart * sizeof(*s->gart));
	c->allocs = malloc(s->nallocs * sizeof(*s->allocs) + 1);
	memcpy(c->allocs, s->allocs, s->nallocs * sizeof(*s->allocs));
	c->events = NULL;
	c->nevents = 0;
	c->ranges = malloc(s->nranges * sizeof(*s->ranges) + 1);
	for (uint64_t i = 0; i < s->nranges; i++) {
		c->ranges[i] = s->ranges[i];
		void *d = malloc(s->ranges[i].size);
		memcpy(d, s->ranges[i].data, s->ranges[i].size);
		c->ranges[i].data = d;
	}
	void *st = malloc(s->state_size);
	memcpy(st, s->state, s->state_size);
	c->state = st;
	return c;
}

static void clone_free(struct gpusim_snapshot *c)
{
	for (uint64_t i = 0; i < c->nranges; i++)
		free((void *)c->ranges[i].data);
	free(c->regs);
	free(c->gart);
	free(c->allocs);
	free(c->ranges);
	free((void *)c->state);
	free(c);
}

static D3DKMT_HANDLE remap(const struct gpusim_handle_map *m, size_t n, D3DKMT_HANDLE old)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].old_handle == old)
			return m[i].new_handle;
	ck_abort_msg("handle 0x%x was not restored", old);
	return 0;
}

/* Restore c into w (whose adapter is gone) and point w's handles at it. */
static void restore_into(struct wl *w, const struct gpusim_snapshot *c)
{
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	NTSTATUS st = gpusim_snapshot_restore(c, &w->g.luid, &m, &n, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%x %s", (unsigned)st, err);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = w->g.luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&open), STATUS_SUCCESS);
	w->g.adapter = open.hAdapter;
	w->g.device = remap(m, n, w->g.device);
	w->g.context = remap(m, n, w->g.context);
	w->g.result = remap(m, n, w->g.result);
	ck_assert_int_eq(gpusim_context_buffers(w->g.context, &w->g.ctx), STATUS_SUCCESS);
	for (uint32_t i = 0; i < w->n; i++)
		w->l[i].h = remap(m, n, w->l[i].h);
	free(m);
}

/* Everything observable must agree: time, statistics, registers, GART, every
 * allocation's place, and every populated byte of VRAM and system memory. */
static const struct gpusim_snapshot_alloc *row(const struct gpusim_snapshot *s, D3DKMT_HANDLE h)
{
	for (uint64_t i = 0; i < s->nallocs; i++)
		if (s->allocs[i].handle == h)
			return &s->allocs[i];
	ck_abort_msg("no row for handle 0x%x", h);
	return NULL;
}

/* ha[i] in a and hb[i] in b name the same allocation (rows are in handle order,
 * and a restore renumbers handles). */
static void assert_same(const struct gpusim_snapshot *a, const struct gpusim_snapshot *b,
			const D3DKMT_HANDLE *ha, const D3DKMT_HANDLE *hb, uint32_t n)
{
	ck_assert_uint_eq(a->time_ns, b->time_ns);
	ck_assert_msg(!memcmp(&a->stats, &b->stats, sizeof(a->stats)), "statistics differ");
	ck_assert_uint_eq(a->nregs, b->nregs);
	for (uint32_t i = 0; i < a->nregs; i++)
		ck_assert_msg(a->regs[i].value == b->regs[i].value, "register 0x%x: 0x%x vs 0x%x",
			      a->regs[i].offset, a->regs[i].value, b->regs[i].value);
	ck_assert_uint_eq(a->ngart, b->ngart);
	ck_assert(!memcmp(a->gart, b->gart, a->ngart * sizeof(*a->gart)));
	ck_assert_uint_eq(a->nallocs, b->nallocs);
	if (ha)
		for (uint32_t i = 0; i < n; i++) {
			const struct gpusim_snapshot_alloc *x = row(a, ha[i]), *y = row(b, hb[i]);
			ck_assert_msg(x->segment == y->segment && x->offset == y->offset &&
					      x->size == y->size && x->gpu_address == y->gpu_address &&
					      x->priority == y->priority && x->lock_count == y->lock_count &&
					      x->residency_count == y->residency_count,
				      "allocation %u differs", i);
		}
	ck_assert_uint_eq(a->nranges, b->nranges);
	for (uint64_t i = 0; i < a->nranges; i++) {
		ck_assert_uint_eq(a->ranges[i].addr, b->ranges[i].addr);
		ck_assert_uint_eq(a->ranges[i].size, b->ranges[i].size);
		ck_assert_msg(!memcmp(a->ranges[i].data, b->ranges[i].data, a->ranges[i].size),
			      "memory at 0x%llx differs", (unsigned long long)a->ranges[i].addr);
	}
}

static struct gpusim_snapshot *take(LUID luid)
{
	struct gpusim_snapshot *s;
	ck_assert_int_eq(gpusim_snapshot_take(luid, &s), STATUS_SUCCESS);
	return s;
}

static void run_equivalence(uint64_t seed, uint64_t ops, uint64_t split, const char *policy)
{
	static struct wl a, b;
	char cfg[128];
	snprintf(cfg, sizeof(cfg), CONFIG ",policy=%s", policy);
	memset(&a, 0, sizeof(a));
	a.rng = seed;
	kt_setup(&a.g, cfg);
	workload(&a, 0, ops);
	struct gpusim_snapshot *t = take(a.g.luid);
	struct gpusim_snapshot *straight = clone(t);
	gpusim_snapshot_free(t);
	D3DKMT_HANDLE ha[MAX_LIVE + 1], hb[MAX_LIVE + 1];
	for (uint32_t i = 0; i < a.n; i++)
		ha[i] = a.l[i].h;
	ha[a.n] = a.g.result;

	memset(&b, 0, sizeof(b));
	b.rng = seed;
	kt_setup(&b.g, cfg); /* resets every adapter */
	workload(&b, 0, split);
	struct gpusim_snapshot *half = take(b.g.luid);
	struct gpusim_snapshot *copy = clone(half);
	gpusim_snapshot_free(half);
	gpusim_reset(); /* the first adapter is gone for good */
	restore_into(&b, copy);
	clone_free(copy);
	char err[256];
	ck_assert_msg(gpusim_check_invariants(b.g.luid, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	workload(&b, split, ops);
	struct gpusim_snapshot *end = take(b.g.luid);
	ck_assert_uint_eq(a.n, b.n);
	for (uint32_t i = 0; i < b.n; i++)
		hb[i] = b.l[i].h;
	hb[b.n] = b.g.result;
	assert_same(straight, end, ha, hb, a.n + 1);
	if (getenv("SNAP_DEBUG"))
		fprintf(stderr, "split %llu: evictions %llu page_ins %llu moves %llu submits %llu live %u\n",
			(unsigned long long)split, (unsigned long long)end->stats.evictions,
			(unsigned long long)end->stats.page_ins, (unsigned long long)end->stats.moves,
			(unsigned long long)end->stats.submits, b.n);
	for (uint32_t i = 0; i < b.n; i++)
		if (b.l[i].seed && !b.l[i].locked)
			ck_assert(kt_verify(b.g.device, b.l[i].h, b.l[i].size, b.l[i].seed));
	gpusim_snapshot_free(end);
	clone_free(straight);
	kt_teardown(&b.g);
}

static unsigned npolicies(void)
{
	unsigned n = 0;
	while (gpusim_policy_name(n))
		n++;
	return n;
}

/* Loop index i: split i % 3 under policy i / 3 (every policy keeps its own state,
 * which the restore must give back exactly). */
START_TEST(restore_halfway_equals_straight_run)
{
	static const uint64_t splits[] = { 1, 500, 1999 };
	run_equivalence(0xabcdef00u + (uint64_t)(_i % 3), 2000, splits[_i % 3], gpusim_policy_name((unsigned)_i / 3));
}
END_TEST

/* Under every policy (loop index): its state, the allocations' policy fields
 * included, is in the resume state's last section, which must come back equal. */
START_TEST(snapshot_of_restore_is_identical)
{
	struct wl w;
	char cfg[128];
	snprintf(cfg, sizeof(cfg), CONFIG ",policy=%s", gpusim_policy_name((unsigned)_i));
	memset(&w, 0, sizeof(w));
	w.rng = 42;
	kt_setup(&w.g, cfg);
	workload(&w, 0, 800);
	struct gpusim_snapshot *first = take(w.g.luid);
	struct gpusim_snapshot *copy = clone(first);
	D3DKMT_HANDLE ha[MAX_LIVE], hb[MAX_LIVE];
	for (uint32_t i = 0; i < w.n; i++)
		ha[i] = w.l[i].h;
	restore_into(&w, copy);
	for (uint32_t i = 0; i < w.n; i++)
		hb[i] = w.l[i].h;
	struct gpusim_snapshot *second = take(w.g.luid);
	assert_same(first, second, ha, hb, w.n);
	/* The resume state names handles, which are new; its size may not change,
	 * and its last section, the eviction policy (indices, no handles), is equal. */
	ck_assert_uint_eq(first->state_size, second->state_size);
	const uint8_t *p1 = memmem(first->state, first->state_size, "PLCY", 4);
	const uint8_t *p2 = memmem(second->state, second->state_size, "PLCY", 4);
	ck_assert(p1 && p2);
	size_t tail = first->state_size - (size_t)(p1 - (const uint8_t *)first->state);
	ck_assert_uint_gt(tail, 64);
	ck_assert(!memcmp(p1, p2, tail));
	ck_assert_uint_gt(first->nranges, 0);
	ck_assert_uint_gt(first->nallocs, 3);
	gpusim_snapshot_free(first);
	gpusim_snapshot_free(second);
	clone_free(copy);
	kt_teardown(&w.g);
}
END_TEST

/* GPUSIM_WRITE_RESTORE_SEEDS=DIR: the resume state of s into DIR/NAME, the seeds
 * of tests/fuzz/fuzz_restore (which restores them with CONFIG). */
static void write_seed(const struct gpusim_snapshot *s, const char *name)
{
	const char *dir = getenv("GPUSIM_WRITE_RESTORE_SEEDS");
	if (!dir)
		return;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_uint_eq(fwrite(s->state, 1, s->state_size, f), s->state_size);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(take_changes_nothing)
{
	struct wl w;
	memset(&w, 0, sizeof(w));
	w.rng = 7;
	kt_setup(&w.g, CONFIG);
	struct gpusim_snapshot *empty = take(w.g.luid);
	write_seed(empty, "empty");
	gpusim_snapshot_free(empty);
	workload(&w, 0, 30);
	struct gpusim_snapshot *small = take(w.g.luid);
	write_seed(small, "small");
	gpusim_snapshot_free(small);
	workload(&w, 30, 300);
	struct gpusim_snapshot *a = take(w.g.luid), *b = take(w.g.luid);
	write_seed(a, "busy");
	assert_same(a, b, NULL, NULL, 0);
	for (uint64_t i = 0; i < a->nallocs; i++)
		ck_assert(!memcmp(&a->allocs[i], &b->allocs[i], sizeof(a->allocs[i])));
	ck_assert_uint_eq(a->state_size, b->state_size);
	ck_assert(!memcmp(a->state, b->state, a->state_size));
	/* The register dump is the device's: ID and the sizes read back. */
	ck_assert_uint_eq(a->regs[0].offset, HW_REG_ID);
	ck_assert_uint_eq(a->regs[0].value, HW_DEVICE_ID);
	gpusim_snapshot_free(a);
	gpusim_snapshot_free(b);
	kt_teardown(&w.g);
}
END_TEST

/* Count adapters and check no handle from a failed restore stays usable. */
static uint32_t adapters(void)
{
	D3DKMT_ENUMADAPTERS2 e;
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(D3DKMTEnumAdapters2(&e), STATUS_SUCCESS);
	return e.NumAdapters;
}

static NTSTATUS try_restore(const struct gpusim_snapshot *s, char *err, size_t errlen)
{
	LUID luid;
	struct gpusim_handle_map *m = NULL;
	size_t n = 0;
	NTSTATUS st = gpusim_snapshot_restore(s, &luid, &m, &n, err, errlen);
	if (st == STATUS_SUCCESS) {
		free(m);
		char why[256];
		ck_assert_msg(gpusim_check_invariants(luid, why, sizeof(why)) == STATUS_SUCCESS,
			      "an accepted snapshot is inconsistent: %s", why);
		gpusim_adapter_destroy(luid);
	}
	return st;
}

START_TEST(damaged_snapshots_are_refused)
{
	struct wl w;
	memset(&w, 0, sizeof(w));
	w.rng = 99;
	kt_setup(&w.g, CONFIG);
	workload(&w, 0, 400);
	struct gpusim_snapshot *t = take(w.g.luid);
	struct gpusim_snapshot *good = clone(t);
	gpusim_snapshot_free(t);
	gpusim_reset();
	uint32_t before = adapters();
	char err[256];

	struct gpusim_snapshot bad = *good;
	bad.state_size = good->state_size / 2;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "cut short") != NULL, "%s", err);

	bad = *good;
	bad.version = 77;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "version 77") != NULL, "%s", err);

	/* A resume state of version 3 (fixed-layout HWST) is refused, not misread;
	 * a device-state field the device refuses is named. */
	uint8_t *v3 = malloc(good->state_size);
	memcpy(v3, good->state, good->state_size);
	v3[4] = 3;
	bad = *good;
	bad.state = v3;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "version 3; this libkmt reads version 7") != NULL, "%s", err);
	memcpy(v3, good->state, good->state_size);
	uint8_t *cause = memmem(v3, good->state_size, "fault.cause", 11);
	ck_assert_ptr_nonnull(cause);
	cause[11 + 4 + 8] = 99; /* after the name: type, count, then the value */
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "the device state: field fault.cause: 99 is above 19") != NULL, "%s", err);
	free(v3);

	bad = *good;
	bad.cfg.hw.visible = bad.cfg.hw.vram * 2;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "configuration") != NULL, "%s", err);

	/* A range past the end of VRAM, and two that overlap. */
	struct gpusim_snapshot_range r2[2] = { { good->cfg.hw.vram - 4096, 8192, good->state },
					       { 0, 4096, good->state } };
	bad = *good;
	bad.ranges = r2;
	bad.nranges = 1;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "outside") != NULL, "%s", err);
	r2[0] = (struct gpusim_snapshot_range){ 8192, 8192, good->state };
	r2[1] = (struct gpusim_snapshot_range){ 12288, 4096, good->state };
	bad.nranges = 2;
	ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);
	ck_assert_msg(strstr(err, "overlaps") != NULL, "%s", err);

	/* Every single-byte change of the resume state is refused with a sentence or
	 * accepted into an adapter whose invariants hold: never a crash. */
	uint8_t *st = malloc(good->state_size);
	uint32_t refused = 0, tried = 0;
	for (uint64_t pos = 0; pos < good->state_size; pos += 1 + pos / 64) {
		memcpy(st, good->state, good->state_size);
		st[pos] ^= (uint8_t)(0x5a + pos);
		bad = *good;
		bad.state = st;
		err[0] = '\0';
		NTSTATUS s = try_restore(&bad, err, sizeof(err));
		tried++;
		if (s != STATUS_SUCCESS) {
			ck_assert_int_eq(s, STATUS_INVALID_PARAMETER);
			ck_assert_msg(err[0] != '\0', "refused without a reason at byte %llu",
				      (unsigned long long)pos);
			refused++;
		}
	}
	ck_assert_uint_gt(refused, tried / 4);
	free(st);
	ck_assert_uint_eq(adapters(), before);
	clone_free(good);
	gpusim_reset();
}
END_TEST

/* ---- GPU virtual addresses ---------------------------------------------------------- */

#define VA_LIVE 8
#define PG 4096ull

/* A WDDM 2 workload: allocations mapped at GPU VAs, a virtual context, a command
 * buffer and a result page mapped too, and operations that reserve, map (whole,
 * partial, read-only), unmap, copy, free, evict, page in and submit by VA. */
struct vaw {
	struct kt_gpu g;
	D3DKMT_HANDLE vctx, cmd, res;
	uint64_t cmd_va, res_va;
	D3DKMT_HANDLE h[VA_LIVE];
	uint64_t size[VA_LIVE];
	uint32_t seed[VA_LIVE];      /* its bytes' pattern, 0: unknown */
	uint32_t resident[VA_LIVE];
	uint64_t va[VA_LIVE];        /* the whole allocation's mapping, 0: none */
	uint64_t extra, extra_size;  /* a reservation mapped piecemeal, 0: none */
	uint64_t rng;
};

static void va_setup(struct vaw *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->rng = seed;
	kt_setup(&w->g, CONFIG);
	w->vctx = kt_vctx(w->g.device);
	ck_assert_int_eq(kt_alloc(&w->g, PG, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &w->cmd), STATUS_SUCCESS);
	ck_assert_int_eq(kt_alloc(&w->g, PG, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &w->res), STATUS_SUCCESS);
	ck_assert_int_eq(kt_va_map(w->g.device, w->cmd, 0, 1, false, &w->cmd_va), STATUS_PENDING);
	ck_assert_int_eq(kt_va_map(w->g.device, w->res, 0, 1, false, &w->res_va), STATUS_PENDING);
	for (uint32_t i = 0; i < VA_LIVE; i++) {
		static const uint32_t pref[] = { GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VISIBLE, GPUSIM_SEG_GART };
		struct gpusim_alloc_desc d = kt_desc(PG << (i % 4), GPUSIM_ALLOC_CPU_VISIBLE, pref[i % 3], 0);
		ck_assert_int_eq(kt_alloc_on(w->g.device, &d, &w->h[i]), STATUS_SUCCESS);
		w->size[i] = d.size;
		w->seed[i] = 100 + i;
		ck_assert_int_eq(kt_write(w->g.device, w->h[i], w->size[i], w->seed[i]), STATUS_SUCCESS);
		ck_assert_int_eq(kt_va_map(w->g.device, w->h[i], 0, w->size[i] / PG, false, &w->va[i]), STATUS_PENDING);
	}
}

static void va_residency(struct vaw *w, uint32_t i, bool in)
{
	if (in) {
		D3DDDI_MAKERESIDENT mr;
		memset(&mr, 0, sizeof(mr));
		mr.hPagingQueue = w->g.device;
		mr.NumAllocations = 1;
		mr.AllocationList = &w->h[i];
		if (D3DKMTMakeResident(&mr) != STATUS_NO_MEMORY)
			w->resident[i]++;
	} else if (w->resident[i]) {
		D3DKMT_EVICT ev;
		memset(&ev, 0, sizeof(ev));
		ev.hDevice = w->g.device;
		ev.NumAllocations = 1;
		ev.AllocationList = &w->h[i];
		ck_assert_int_eq(D3DKMTEvict(&ev), STATUS_SUCCESS);
		w->resident[i]--;
	}
}

static void va_workload(struct vaw *w, uint64_t from, uint64_t to)
{
	D3DKMT_HANDLE dev = w->g.device;
	for (uint64_t op = from; op < to; op++) {
		uint32_t what = (uint32_t)(rng(&w->rng) % 100);
		uint32_t i = (uint32_t)(rng(&w->rng) % VA_LIVE), j = (uint32_t)(rng(&w->rng) % VA_LIVE);
		if (what < 15) {
			va_residency(w, i, true);
		} else if (what < 30) {
			va_residency(w, i, false);
		} else if (what < 40) {
			w->seed[i] = (uint32_t)(rng(&w->rng) | 1);
			ck_assert_int_eq(kt_write(dev, w->h[i], w->size[i], w->seed[i]), STATUS_SUCCESS);
		} else if (what < 50) {
			/* Free the whole mapping, or map it again anywhere. */
			if (w->va[i]) {
				ck_assert_int_eq(kt_va_free(w->g.adapter, w->va[i], w->size[i]), STATUS_SUCCESS);
				w->va[i] = 0;
			} else {
				ck_assert_int_eq(kt_va_map(dev, w->h[i], 0, w->size[i] / PG, false, &w->va[i]),
						 STATUS_PENDING);
			}
		} else if (what < 62) {
			/* The piecemeal reservation: made, mapped in parts (read-only
			 * sometimes), partly unmapped, copied over itself, freed. */
			if (!w->extra) {
				w->extra_size = 4 * PG;
				ck_assert_int_eq(kt_va_reserve(dev, w->extra_size, &w->extra), STATUS_SUCCESS);
			}
			uint32_t k = (uint32_t)(rng(&w->rng) % 4), r = (uint32_t)(rng(&w->rng) % 4);
			uint64_t at = w->extra + k * PG, pages = w->size[i] / PG;
			if (r == 0 && k + 1 <= 4) {
				ck_assert_int_eq(kt_va_map(dev, w->h[i], pages - 1, 1, rng(&w->rng) % 2, &at),
						 STATUS_PENDING);
			} else if (r == 1) {
				ck_assert_int_eq(kt_va_unmap(dev, w->vctx, at, PG), STATUS_SUCCESS);
			} else if (r == 2) {
				ck_assert_int_eq(kt_va_copy(dev, w->vctx, w->extra, w->extra + 2 * PG, 2 * PG),
						 STATUS_SUCCESS);
			} else {
				ck_assert_int_eq(kt_va_free(w->g.adapter, w->extra, w->extra_size), STATUS_SUCCESS);
				w->extra = 0;
			}
		} else if (what < 85) {
			/* The GPU reads the allocation through its VA. */
			if (!w->va[i])
				continue;
			va_residency(w, i, true);
			uint32_t crc = kt_va_crc(&w->g, w->vctx, w->cmd, w->cmd_va, w->va[i], w->size[i], w->res,
						 w->res_va);
			if (w->seed[i])
				ck_assert_msg(crc == kt_pattern_crc(w->size[i], w->seed[i]),
					      "allocation %u reads other bytes through its VA", i);
		} else {
			/* COPY by VA between two resident mappings. */
			if (!w->va[i] || !w->va[j] || i == j)
				continue;
			va_residency(w, i, true);
			va_residency(w, j, true);
			uint64_t n = w->size[i] < w->size[j] ? w->size[i] : w->size[j];
			uint32_t p[] = { HW_PKT_HEADER(HW_PKT_COPY, 0, 6), (uint32_t)w->va[i], (uint32_t)(w->va[i] >> 32),
					 (uint32_t)w->va[j], (uint32_t)(w->va[j] >> 32), (uint32_t)n, 0 };
			ck_assert_int_eq(kt_va_submit(dev, w->vctx, w->cmd, w->cmd_va, p, 7), STATUS_SUCCESS);
			w->seed[j] = 0;
		}
	}
}

static void va_restore_into(struct vaw *w, const struct gpusim_snapshot *c)
{
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	NTSTATUS st = gpusim_snapshot_restore(c, &w->g.luid, &m, &n, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%x %s", (unsigned)st, err);
	D3DKMT_OPENADAPTERFROMLUID open = { .AdapterLuid = w->g.luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&open), STATUS_SUCCESS);
	w->g.adapter = open.hAdapter;
	w->g.device = remap(m, n, w->g.device);
	w->g.context = remap(m, n, w->g.context);
	w->g.result = remap(m, n, w->g.result);
	ck_assert_int_eq(gpusim_context_buffers(w->g.context, &w->g.ctx), STATUS_SUCCESS);
	w->vctx = remap(m, n, w->vctx);
	w->cmd = remap(m, n, w->cmd);
	w->res = remap(m, n, w->res);
	for (uint32_t i = 0; i < VA_LIVE; i++)
		w->h[i] = remap(m, n, w->h[i]);
	free(m);
}

/* Straight through, and snapshotted at `split` (after reserve, map, submit and
 * evict), restored into a new adapter, finished: the same end, byte for byte;
 * and the restored VAs read each allocation's bytes. */
START_TEST(va_restore_halfway_equals_straight_run)
{
	static const uint64_t splits[] = { 0, 37, 150 };
	static struct vaw a, b;
	uint64_t ops = 200, split = splits[_i];
	va_setup(&a, 0x5eed + (uint64_t)_i);
	va_workload(&a, 0, ops);
	struct gpusim_snapshot *t = take(a.g.luid);
	struct gpusim_snapshot *straight = clone(t);
	gpusim_snapshot_free(t);

	va_setup(&b, 0x5eed + (uint64_t)_i);
	va_workload(&b, 0, split);
	struct gpusim_snapshot *half = take(b.g.luid);
	struct gpusim_snapshot *copy = clone(half);
	gpusim_snapshot_free(half);
	gpusim_reset();
	va_restore_into(&b, copy);
	clone_free(copy);
	char err[256];
	ck_assert_msg(gpusim_check_invariants(b.g.luid, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	va_workload(&b, split, ops);
	struct gpusim_snapshot *end = take(b.g.luid);
	assert_same(straight, end, NULL, NULL, 0);
	ck_assert_uint_eq(straight->state_size, end->state_size);
	for (uint32_t i = 0; i < VA_LIVE; i++) {
		if (!b.va[i])
			continue;
		va_residency(&b, i, true);
		uint32_t crc = kt_va_crc(&b.g, b.vctx, b.cmd, b.cmd_va, b.va[i], b.size[i], b.res, b.res_va);
		ck_assert_uint_eq(crc, kt_cpu_crc(b.g.device, b.h[i], 0, b.size[i]));
	}
	gpusim_snapshot_free(end);
	clone_free(straight);
	kt_teardown(&b.g);
}
END_TEST

/* The byte offset of each part of the VASP section of a resume state of one space. */
struct va_layout {
	size_t tables, ntables, reservations, nres, maps, nmaps;
};

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static struct va_layout va_layout(const struct gpusim_snapshot *s)
{
	const uint8_t *st = s->state;
	const uint8_t *v = memmem(st, s->state_size, "VASP", 4);
	ck_assert_ptr_nonnull(v);
	struct va_layout l;
	size_t at = (size_t)(v - st) + 4 + 16; /* tag, next ASID, count, the process's */
	ck_assert_uint_eq(st[at - 12], 1);       /* one space */
	at += 4 + 8;
	l.ntables = (size_t)get64(st + at);
	l.tables = at + 8;
	at = l.tables + l.ntables * 104;
	l.nres = (size_t)get64(st + at);
	l.reservations = at + 8;
	at = l.reservations + l.nres * 24;
	l.nmaps = (size_t)get64(st + at);
	l.maps = at + 8;
	return l;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Damaged VA records: each refused with its sentence, leaving nothing behind; and
 * any single-byte change of the section refused or accepted whole. */
START_TEST(va_damaged_records_are_refused)
{
	static struct vaw w;
	va_setup(&w, 3);
	va_workload(&w, 0, 40);
	ck_assert_uint_ne(w.extra, 0);
	struct gpusim_snapshot *t = take(w.g.luid);
	write_seed(t, "va");
	struct gpusim_snapshot *good = clone(t);
	gpusim_snapshot_free(t);
	gpusim_reset();
	uint32_t before = adapters();
	struct va_layout l = va_layout(good);
	if (getenv("SNAP_DEBUG"))
		fprintf(stderr, "tables %zu res %zu maps %zu\n", l.ntables, l.nres, l.nmaps);
	ck_assert_uint_gt(l.ntables, 3);
	ck_assert_uint_gt(l.nres, 2);
	ck_assert_uint_gt(l.nmaps, 4);
	uint8_t *st = malloc(good->state_size);
	struct gpusim_snapshot bad = *good;
	bad.state = st;
	char err[256];
#define DAMAGE(where, width, value, text)                                                        \
	do {                                                                                       \
		memcpy(st, good->state, good->state_size);                                         \
		if ((width) == 8)                                                                  \
			put64(st + (where), (value));                                              \
		else                                                                               \
			memcpy(st + (where), &(uint32_t){ (uint32_t)(value) }, 4);                 \
		err[0] = '\0';                                                                     \
		ck_assert_int_eq(try_restore(&bad, err, sizeof(err)), STATUS_INVALID_PARAMETER);   \
		ck_assert_msg(strstr(err, (text)) != NULL, "%s", err);                            \
	} while (0)
	/* A mapping naming a memory object that is not there. */
	DAMAGE(l.maps + 20, 8, 999, "names no space or memory object");
	/* A mapping moved out of every reservation. */
	DAMAGE(l.maps + 48 + 4, 8, get64(good->state + l.maps + 4) + PG * 1024 * 1024, "GPU VA mapping at");
	/* A mapping past its allocation. */
	DAMAGE(l.maps + 28, 8, 1ull << 30, "past its allocation");
	/* Two reservations over each other. */
	DAMAGE(l.reservations + 24, 8, get64(good->state + l.reservations), "over another");
	/* A page table in a block the books give something else. */
	DAMAGE(l.tables + 12, 8, 4096 * 7, "page table 0 is not a pinned kernel allocation");
	/* A page table out of its tree. */
	DAMAGE(l.tables + 104, 4, 3, "out of place in the tree");
	/* The kernel's range removed. */
	DAMAGE(l.reservations + (l.nres - 1) * 24 + 20, 4, 0, "kernel");
	/* An ASID never handed out. */
	DAMAGE(l.tables - 20, 4, 999, "ASID 999");
	/* Every byte of the section. */
	uint32_t refused = 0, tried = 0;
	for (size_t pos = l.tables - 40; pos < l.maps + l.nmaps * 48; pos += 1 + pos % 3) {
		memcpy(st, good->state, good->state_size);
		st[pos] ^= (uint8_t)(0x5a + pos);
		err[0] = '\0';
		NTSTATUS r = try_restore(&bad, err, sizeof(err));
		tried++;
		if (r != STATUS_SUCCESS) {
			ck_assert_int_eq(r, STATUS_INVALID_PARAMETER);
			ck_assert_msg(err[0] != '\0', "refused without a reason at byte %zu", pos);
			refused++;
		}
	}
	ck_assert_uint_gt(refused, tried / 2);
#undef DAMAGE
	free(st);
	ck_assert_uint_eq(adapters(), before);
	clone_free(good);
	gpusim_reset();
}
END_TEST

/* The driver's record of the render ring's address space (GSDV, after its two
 * rings of 28 bytes: kmt/gsdrv/state.c): known, root, ASID. */
#define GSDV_VM (4 + 2 * 28)

static size_t gsdv_vm(const struct gpusim_snapshot *s)
{
	const uint8_t *g = memmem(s->state, s->state_size, "GSDV", 4);
	ck_assert_ptr_nonnull(g);
	return (size_t)(g - (const uint8_t *)s->state) + GSDV_VM;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Restore good's state copied into st (bad's state) with the address-space
 * record at `at` set to (known, root, asid); err gets the sentence. */
static NTSTATUS vm_record(const struct gpusim_snapshot *bad, uint8_t *st, const struct gpusim_snapshot *good,
			  size_t at, uint32_t known, uint64_t root, uint32_t asid, char err[256])
{
	memcpy(st, good->state, good->state_size);
	memcpy(st + at, &known, 4);
	put64(st + at + 4, root);
	memcpy(st + at + 12, &asid, 4);
	err[0] = '\0';
	return try_restore(bad, err, 256);
}

/* The ring left in the context's space by the last VA submission is in the
 * driver's books, as the space's root and ASID; a restore keeps it (a snapshot of
 * the restored adapter says the same) and refuses a record that is malformed or,
 * the ring having run everything, not what the ring's VM registers hold. A record
 * that knows nothing is always safe: the next submission sets the space. */
START_TEST(driver_address_space_records)
{
	static struct vaw w;
	va_setup(&w, 5);
	va_workload(&w, 0, 40);
	/* A VA submission last, run to the end: the ring is in the space, drained. */
	kt_va_crc(&w.g, w.vctx, w.cmd, w.cmd_va, w.res_va, PG, w.res, w.res_va);
	struct gpusim_snapshot *t = take(w.g.luid);
	struct gpusim_snapshot *good = clone(t);
	gpusim_snapshot_free(t);
	gpusim_reset();
	uint32_t before = adapters();
	size_t at = gsdv_vm(good);
	const uint8_t *gs = good->state;
	uint64_t root = get64(gs + at + 4);
	uint32_t asid = get32(gs + at + 12);
	ck_assert_uint_eq(get32(gs + at), 1);
	ck_assert_uint_ne(root, 0);
	ck_assert_uint_eq(root % PG, 0);
	ck_assert_uint_eq(asid, get32(gs + va_layout(good).tables - 20)); /* the space's */

	/* Restored, its snapshot says the same. */
	LUID luid;
	struct gpusim_handle_map *m = NULL;
	size_t n = 0;
	char err[256] = "";
	ck_assert_int_eq(gpusim_snapshot_restore(good, &luid, &m, &n, err, sizeof(err)), STATUS_SUCCESS);
	free(m);
	struct gpusim_snapshot *again = take(luid);
	size_t at2 = gsdv_vm(again);
	ck_assert(!memcmp((const uint8_t *)again->state + at2, gs + at, 16));
	gpusim_snapshot_free(again);
	gpusim_adapter_destroy(luid);

	uint8_t *st = malloc(good->state_size);
	struct gpusim_snapshot bad = *good;
	bad.state = st;
	const char *damaged = "render ring address space is damaged";
	const char *other = "is not the ring's";
#define VM_BAD(known, r, a, want)                                                                  \
	do {                                                                                       \
		ck_assert_int_eq(vm_record(&bad, st, good, at, known, r, a, err), STATUS_INVALID_PARAMETER); \
		ck_assert_msg(strstr(err, (want)) != NULL, "%s", err);                            \
	} while (0)
	VM_BAD(2, root, asid, damaged);
	VM_BAD(1, root | 0x800, asid, damaged); /* not a page */
	VM_BAD(1, root, 0x10000, damaged);      /* ASIDs are 16 bits */
	VM_BAD(0, root, asid, damaged);         /* unknown, yet a space */
	VM_BAD(1, 0, 3, damaged);               /* physical with an ASID */
	VM_BAD(1, root + PG, asid, other);
	VM_BAD(1, root, asid + 1, other);
	VM_BAD(1, 0, 0, other);                 /* physical, but the ring is not */
#undef VM_BAD
	/* Forgotten: accepted. */
	ck_assert_msg(vm_record(&bad, st, good, at, 0, 0, 0, err) == STATUS_SUCCESS, "refused: %s", err);
	ck_assert_msg(vm_record(&bad, st, good, at, 1, root, asid, err) == STATUS_SUCCESS, "refused: %s", err);
	free(st);
	ck_assert_uint_eq(adapters(), before);
	clone_free(good);
	gpusim_reset();
}
END_TEST

/* A shared resource with runtime and driver data, opened on a second device (two
 * handles on the same memory), and a monitored fence: the objects a workload of
 * plain allocations never makes. */
struct shared_world {
	D3DKMT_HANDLE dev2, res, share, opened, mine[2], theirs[2], fence;
};

static const char runtime_blob[16] = "runtime-private";
static const char resdrv_blob[8] = "resdrv!";

static void make_shared_world(struct kt_gpu *g, struct shared_world *w)
{
	struct gpusim_alloc_desc d[2] = { kt_desc(64 * 1024, 0, 0, 0),
					  kt_desc(128 * 1024, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0) };
	D3DDDI_ALLOCATIONINFO2 info[2];
	memset(info, 0, sizeof(info));
	for (int i = 0; i < 2; i++) {
		info[i].pPrivateDriverData = &d[i];
		info[i].PrivateDriverDataSize = sizeof(d[i]);
	}
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = g->device;
	ca.NumAllocations = 2;
	ca.pAllocationInfo2 = info;
	ca.Flags.CreateResource = 1;
	ca.Flags.CreateShared = 1;
	ca.pPrivateRuntimeData = runtime_blob;
	ca.PrivateRuntimeDataSize = sizeof(runtime_blob);
	ca.pPrivateDriverData = resdrv_blob;
	ca.PrivateDriverDataSize = sizeof(resdrv_blob);
	ck_assert_int_eq(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	w->res = ca.hResource;
	w->share = ca.hGlobalShare;
	w->mine[0] = info[0].hAllocation;
	w->mine[1] = info[1].hAllocation;
	w->dev2 = kt_new_device(g);

	D3DDDI_OPENALLOCATIONINFO oi[2];
	uint8_t total[2 * sizeof(struct gpusim_alloc_desc)], runtime[64], resdrv[64];
	D3DKMT_OPENRESOURCE op;
	memset(&op, 0, sizeof(op));
	memset(oi, 0, sizeof(oi));
	op.hDevice = w->dev2;
	op.hGlobalShare = w->share;
	op.NumAllocations = 2;
	op.pOpenAllocationInfo = oi;
	op.pTotalPrivateDriverDataBuffer = total;
	op.TotalPrivateDriverDataBufferSize = sizeof(total);
	op.pPrivateRuntimeData = runtime;
	op.PrivateRuntimeDataSize = sizeof(runtime);
	op.pResourcePrivateDriverData = resdrv;
	op.ResourcePrivateDriverDataSize = sizeof(resdrv);
	ck_assert_int_eq(D3DKMTOpenResource(&op), STATUS_SUCCESS);
	w->opened = op.hResource;
	w->theirs[0] = oi[0].hAllocation;
	w->theirs[1] = oi[1].hAllocation;

	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = g->device;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.Info.MonitoredFence.InitialFenceValue = 41;
	ck_assert_int_eq(D3DKMTCreateSynchronizationObject2(&cs), STATUS_SUCCESS);
	w->fence = cs.hSyncObject;
}

static void query_share(D3DKMT_HANDLE dev, D3DKMT_HANDLE share, UINT *nallocs, UINT *runtime)
{
	D3DKMT_QUERYRESOURCEINFO q;
	memset(&q, 0, sizeof(q));
	q.hDevice = dev;
	q.hGlobalShare = share;
	ck_assert_int_eq(D3DKMTQueryResourceInfo(&q), STATUS_SUCCESS);
	*nallocs = q.NumAllocations;
	*runtime = q.PrivateRuntimeDataSize;
}

START_TEST(shared_resources_survive_restore)
{
	struct kt_gpu g;
	struct shared_world w;
	kt_setup(&g, CONFIG);
	make_shared_world(&g, &w);
	/* Written through the creator's handle, to be read through the opener's. */
	ck_assert_int_eq(kt_write(g.device, w.mine[0], 64 * 1024, 77), STATUS_SUCCESS);
	struct gpusim_snapshot *t = take(g.luid);
	struct gpusim_snapshot *copy = clone(t);
	gpusim_snapshot_free(t);
	gpusim_reset();

	LUID luid;
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	ck_assert_msg(gpusim_snapshot_restore(copy, &luid, &m, &n, err, sizeof(err)) == STATUS_SUCCESS,
		      "%s", err);
	D3DKMT_HANDLE dev = remap(m, n, g.device), dev2 = remap(m, n, w.dev2);
	D3DKMT_HANDLE share = remap(m, n, w.share), theirs0 = remap(m, n, w.theirs[0]);
	D3DKMT_HANDLE mine1 = remap(m, n, w.mine[1]), fence = remap(m, n, w.fence);
	D3DKMT_HANDLE ctx = remap(m, n, g.context);
	for (size_t i = 0; i < n; i++)
		if (m[i].old_handle == w.share)
			ck_assert_uint_eq(m[i].type, GPUSIM_HANDLE_SHARE);
	free(m);
	UINT na, rt;
	query_share(dev2, share, &na, &rt);
	ck_assert_uint_eq(na, 2);
	ck_assert_uint_eq(rt, sizeof(runtime_blob));
	/* Both handles name one memory: the bytes, read through the opener's. */
	ck_assert(kt_verify(dev2, theirs0, 64 * 1024, 77));
	ck_assert_uint_eq(kt_query(theirs0).device, dev2);
	ck_assert_uint_eq(kt_query(mine1).segment, GPUSIM_SEG_VISIBLE);
	/* The monitored fence kept its value: 41 is not ahead of it, 41 is reached,
	 * 42 is not. */
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECT2 sig;
	memset(&sig, 0, sizeof(sig));
	sig.hContext = ctx;
	sig.ObjectCount = 1;
	sig.ObjectHandleArray[0] = fence;
	sig.Fence.FenceValue = 41;
	ck_assert_int_eq(D3DKMTSignalSynchronizationObject2(&sig), STATUS_INVALID_PARAMETER);
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECT2 wt;
	memset(&wt, 0, sizeof(wt));
	wt.hContext = ctx;
	wt.ObjectCount = 1;
	wt.ObjectHandleArray[0] = fence;
	wt.Fence.FenceValue = 41;
	ck_assert_int_eq(D3DKMTWaitForSynchronizationObject2(&wt), STATUS_SUCCESS);
	wt.Fence.FenceValue = 42;
	ck_assert_int_eq(D3DKMTWaitForSynchronizationObject2(&wt), STATUS_TIMEOUT);
	/* Destroying the creator's device leaves the opened copy its memory. */
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
	ck_assert_int_eq(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	ck_assert(kt_verify(dev2, theirs0, 64 * 1024, 77));
	ck_assert_msg(gpusim_check_invariants(luid, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);

	/* Damage anywhere in this richer state is refused or harmless too. */
	uint8_t *st = malloc(copy->state_size);
	struct gpusim_snapshot bad = *copy;
	uint32_t refused = 0, tried = 0;
	for (uint64_t pos = 0; pos < copy->state_size; pos += 1 + pos / 48) {
		memcpy(st, copy->state, copy->state_size);
		st[pos] ^= 0xa5;
		bad.state = st;
		err[0] = '\0';
		NTSTATUS rs = try_restore(&bad, err, sizeof(err));
		tried++;
		if (rs != STATUS_SUCCESS) {
			ck_assert_int_eq(rs, STATUS_INVALID_PARAMETER);
			ck_assert(err[0] != '\0');
			refused++;
		}
	}
	ck_assert_uint_gt(refused, tried / 4);
	free(st);
	clone_free(copy);
	gpusim_reset();
}
END_TEST

/* A snapshot of a removed adapter holding a locked allocation restores: the
 * restored adapter is removed too, its allocation locked, and nothing more. It
 * used to be refused with "out of memory". */
START_TEST(removed_with_locked_allocation_restores)
{
	struct kt_gpu g;
	kt_setup(&g, CONFIG);
	D3DKMT_HANDLE a;
	struct gpusim_alloc_desc d = kt_desc(64 * 1024, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_VISIBLE, 0);
	ck_assert_int_eq(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	ck_assert_int_eq(kt_write(g.device, a, 64 * 1024, 5), STATUS_SUCCESS);
	/* And one locked in the GART, mapped from its system pages. */
	D3DKMT_HANDLE ga;
	struct gpusim_alloc_desc dg = kt_desc(16 * 1024, GPUSIM_ALLOC_CPU_VISIBLE, GPUSIM_SEG_GART, KT_SEG(GART));
	ck_assert_int_eq(kt_alloc_on(g.device, &dg, &ga), STATUS_SUCCESS);
	ck_assert_int_eq(kt_write(g.device, ga, 16 * 1024, 6), STATUS_SUCCESS);
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = g.device;
	lk.hAllocation = a;
	ck_assert_int_eq(D3DKMTLock(&lk), STATUS_SUCCESS);
	lk.hAllocation = ga;
	ck_assert_int_eq(D3DKMTLock(&lk), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(a).segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_query(ga).segment, GPUSIM_SEG_GART);
	ck_assert_int_eq(gpusim_inject(g.luid, GPUSIM_FAULT_DEVICE_REMOVED, 0), STATUS_SUCCESS);
	struct gpusim_snapshot *t = take(g.luid);
	struct gpusim_snapshot *copy = clone(t);
	gpusim_snapshot_free(t);
	gpusim_reset();

	LUID luid;
	struct gpusim_handle_map *m;
	size_t n;
	char err[256] = "";
	NTSTATUS st = gpusim_snapshot_restore(copy, &luid, &m, &n, err, sizeof(err));
	ck_assert_msg(st == STATUS_SUCCESS, "restore: 0x%08x: %s", (unsigned)st, err);
	D3DKMT_HANDLE dev = remap(m, n, g.device), ra = remap(m, n, a), rga = remap(m, n, ga);
	free(m);
	ck_assert_msg(gpusim_check_invariants(luid, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	struct gpusim_alloc_info info = kt_query(ra);
	ck_assert_uint_eq(info.size, 64 * 1024);
	ck_assert_uint_eq(info.segment, GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(info.lock_count, 1);
	ck_assert_uint_eq(kt_query(rga).lock_count, 1);
	/* Still removed: calls answer so (a lock too: the BAR is gone), destroys
	 * succeed, locked or not. */
	lk.hDevice = dev;
	lk.hAllocation = ra;
	ck_assert_int_eq(D3DKMTLock(&lk), STATUS_DEVICE_REMOVED);
	D3DKMT_HANDLE b;
	ck_assert_int_eq(kt_alloc_on(dev, &d, &b), STATUS_DEVICE_REMOVED);
	ck_assert_int_eq(kt_free(dev, rga), STATUS_SUCCESS);
	D3DKMT_DESTROYDEVICE dd = { .hDevice = dev };
	ck_assert_int_eq(D3DKMTDestroyDevice(&dd), STATUS_SUCCESS);
	ck_assert_msg(gpusim_check_invariants(luid, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	clone_free(copy);
	gpusim_reset();
}
END_TEST

Suite *kmt_snapshot_suite(void)
{
	Suite *s = suite_create("kmt_snapshot");
	TCase *tc = tcase_create("snapshot");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, restore_halfway_equals_straight_run, 0, (int)(3 * npolicies()));
	tcase_add_loop_test(tc, snapshot_of_restore_is_identical, 0, (int)npolicies());
	tcase_add_test(tc, take_changes_nothing);
	tcase_add_test(tc, damaged_snapshots_are_refused);
	tcase_add_test(tc, shared_resources_survive_restore);
	tcase_add_test(tc, removed_with_locked_allocation_restores);
	tcase_add_loop_test(tc, va_restore_halfway_equals_straight_run, 0, 3);
	tcase_add_test(tc, va_damaged_records_are_refused);
	tcase_add_test(tc, driver_address_space_records);
	suite_add_tcase(s, tc);
	return s;
}
