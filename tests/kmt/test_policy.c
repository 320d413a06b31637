/*
 * Eviction policies: the queue they share keeps its order and its check sees broken
 * links; every policy but "lru" never evicts an allocation while one of lower
 * priority in the same segment could go instead; under ARC a one-time scan does not
 * flush a hot set (which it does under LRU), and ARC's state survives a snapshot;
 * EELRU evicts as MIN does on a loop larger than memory once its histogram sees
 * the loop, keeps LRU's order where LRU does well, survives a snapshot, and its
 * check sees damage.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>
#include "kmt/vidmm/vidmm.h"
#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

static uint64_t rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- the queue ------------------------------------------------------------------- */

/* Random pushes, removals and moves to the back against an array that keeps the
 * order by brute force: the queue must walk in the same order after every step,
 * and its check must pass, and fail on a broken link. */
START_TEST(queue_keeps_order)
{
	enum { N = 300 };
	static struct vidmm_alloc a[N];
	struct vidmm_alloc *model[N];
	uint32_t n = 0;
	bool in[N] = { false };
	struct vidmm_queue q = { 0 };
	uint64_t s = 5 + (uint64_t)_i;
	char err[128];
	memset(a, 0, sizeof(a));
	for (uint32_t i = 0; i < N; i++)
		a[i].size = 4096ull << (i % 3);
	for (int step = 0; step < 20000; step++) {
		uint32_t i = (uint32_t)(rng(&s) % N);
		/* Phases of mostly pushes and mostly removals: full and nearly empty
		 * queues, removals at both ends. */
		bool grow = (step / 2000) % 2 == 0;
		if (!in[i] && (grow || rng(&s) % 4 == 0)) {
			vidmm_queue_push(&q, &a[i]);
			a[i].pol_bucket = &q;
			in[i] = true;
			model[n++] = &a[i];
		} else if (in[i]) {
			uint32_t k = 0;
			while (model[k] != &a[i])
				k++;
			memmove(&model[k], &model[k + 1], (n - k - 1) * sizeof(*model));
			n--;
			vidmm_queue_remove(&q, &a[i]);
			if (rng(&s) % 2) { /* a use: to the back */
				vidmm_queue_push(&q, &a[i]);
				model[n++] = &a[i];
			} else {
				a[i].pol_bucket = NULL;
				in[i] = false;
			}
		}
		ck_assert_msg(vidmm_queue_check(&q, &q, err, sizeof(err)) == 0, "step %d: %s", step, err);
		ck_assert_uint_eq(q.count, n);
		uint32_t k = 0;
		for (struct vidmm_alloc *x = vidmm_queue_first(&q); x; x = vidmm_queue_next(&q, x), k++)
			ck_assert_msg(k < n && x == model[k], "step %d: entry %u out of order", step, k);
		ck_assert_uint_eq(k, n);
	}
	/* Damage is seen: a back link that skips an entry, a cycle. */
	ck_assert_uint_ge(n, 3);
	struct vidmm_alloc *x = vidmm_queue_first(&q), *y = vidmm_queue_next(&q, x), *z = vidmm_queue_next(&q, y);
	z->pol_prev = x;
	ck_assert_int_eq(vidmm_queue_check(&q, &q, err, sizeof(err)), -EFAULT);
	z->pol_prev = y;
	y->pol_next = x;
	ck_assert_int_eq(vidmm_queue_check(&q, &q, err, sizeof(err)), -EFAULT);
	y->pol_next = z;
	ck_assert_int_eq(vidmm_queue_check(&q, &q, err, sizeof(err)), 0);
	vidmm_queue_fini(&q);
}
END_TEST

/* ---- priorities ------------------------------------------------------------------ */

#define PCFG "vram=8M,visible=2M,gart=8M,sysmem=256M"
#define NPRIO 128

/* Where each allocation is and its priority, from the event stream; the allocations
 * of the submission (or creation) in progress may not be evicted. */
struct prio_watch {
	D3DKMT_HANDLE h[NPRIO];
	uint32_t seg[NPRIO], prio[NPRIO];
	bool busy[NPRIO];
	uint32_t n;
	uint64_t evictions, violations;
	char first[200];
};

static int find(const struct prio_watch *w, D3DKMT_HANDLE h)
{
	for (uint32_t i = 0; i < w->n; i++)
		if (w->h[i] == h)
			return (int)i;
	return -1;
}

static void watch(void *opaque, const struct gpusim_event *ev)
{
	struct prio_watch *w = opaque;
	int i = find(w, ev->allocation);
	if (i < 0)
		return;
	w->prio[i] = ev->priority;
	bool out = ev->type == GPUSIM_EV_EVICT ||
		   (ev->type == GPUSIM_EV_DEMOTE && ev->cause == GPUSIM_CAUSE_PRESSURE);
	if (out) {
		w->evictions++;
		/* Anything of lower priority in that segment that could have gone? */
		for (uint32_t k = 0; k < w->n; k++)
			if ((int)k != i && w->seg[k] == ev->from_segment && !w->busy[k] &&
			    w->prio[k] < ev->priority && w->violations++ == 0)
				snprintf(w->first, sizeof(w->first),
					 "evicted 0x%x (priority %#x) from segment %u while 0x%x (priority %#x) was there",
					 ev->allocation, ev->priority, ev->from_segment, w->h[k], w->prio[k]);
	}
	switch (ev->type) {
	case GPUSIM_EV_CREATE:
	case GPUSIM_EV_PLACE:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
	case GPUSIM_EV_EVICT:
		w->seg[i] = ev->segment;
		break;
	default:
		break;
	}
}

static const uint32_t levels[] = {
	D3DDDI_ALLOCATIONPRIORITY_MINIMUM, D3DDDI_ALLOCATIONPRIORITY_LOW, D3DDDI_ALLOCATIONPRIORITY_NORMAL,
	D3DDDI_ALLOCATIONPRIORITY_HIGH, D3DDDI_ALLOCATIONPRIORITY_MAXIMUM,
};

static uint32_t any_priority(uint64_t *s)
{
	/* Mostly the five levels, sometimes any 32-bit value. */
	return rng(s) % 4 ? levels[rng(s) % 5] : (uint32_t)(rng(s) | 1);
}

/* Random creations, submissions and priority changes on an oversubscribed adapter;
 * returns the watch's verdict for policy `name`. */
static void priority_run(const char *name, uint64_t seed, struct prio_watch *w)
{
	struct kt_gpu g;
	char cfg[128];
	uint64_t s = seed;
	snprintf(cfg, sizeof(cfg), PCFG ",policy=%s", name);
	kt_setup(&g, cfg);
	memset(w, 0, sizeof(*w));
	ck_assert_int_eq(gpusim_subscribe(g.luid, watch, w), STATUS_SUCCESS);
	for (int op = 0; op < 1500; op++) {
		uint32_t what = (uint32_t)(rng(&s) % 10);
		if (w->n < 24 || (what < 2 && w->n < NPRIO)) {
			struct gpusim_alloc_desc d = kt_desc(65536ull << (rng(&s) % 4), 0, 0,
							     KT_SEG(VISIBLE) | KT_SEG(INVISIBLE));
			d.priority = any_priority(&s);
			/* The allocation being created is the only one it may not evict;
			 * it is not in the table yet, so nothing is busy. */
			w->h[w->n] = 0;
			D3DKMT_HANDLE h;
			ck_assert_int_eq(kt_alloc_on(g.device, &d, &h), STATUS_SUCCESS);
			w->h[w->n] = h;
			w->prio[w->n] = d.priority;
			w->seg[w->n] = kt_segment(h);
			w->busy[w->n] = false;
			w->n++;
		} else if (what < 9) {
			/* a submission of up to 6 allocations */
			uint32_t k = 1 + (uint32_t)(rng(&s) % 6);
			kt_cmd_begin(&g);
			for (uint32_t j = 0; j < k; j++) {
				uint32_t i = (uint32_t)(rng(&s) % w->n);
				w->busy[i] = true;
				kt_cmd_use(&g, w->h[i]);
			}
			NTSTATUS st = kt_cmd_submit(&g);
			ck_assert_int_eq(st, STATUS_SUCCESS);
			memset(w->busy, 0, sizeof(w->busy));
		} else {
			uint32_t i = (uint32_t)(rng(&s) % w->n);
			UINT prio = any_priority(&s);
			D3DKMT_SETALLOCATIONPRIORITY sp;
			memset(&sp, 0, sizeof(sp));
			sp.hDevice = g.device;
			sp.phAllocationList = &w->h[i];
			sp.AllocationCount = 1;
			sp.pPriorities = &prio;
			ck_assert_int_eq(D3DKMTSetAllocationPriority(&sp), STATUS_SUCCESS);
			w->prio[i] = prio;
		}
	}
	kt_assert_invariants(&g);
	kt_teardown(&g);
}

START_TEST(priorities_are_respected)
{
	static struct prio_watch w;
	for (unsigned p = 0; gpusim_policy_name(p); p++) {
		const char *name = gpusim_policy_name(p);
		priority_run(name, 0x9a1u + (uint64_t)_i, &w);
		ck_assert_msg(w.evictions > 200, "%s: only %llu evictions", name, (unsigned long long)w.evictions);
		if (!strcmp(name, "lru"))
			/* It ignores priorities: the watch must catch it, or it catches nothing. */
			ck_assert_msg(w.violations > 0, "lru never evicted over a lower priority");
		else
			ck_assert_msg(w.violations == 0, "%s: %llu violations, first: %s", name,
				      (unsigned long long)w.violations, w.first);
	}
}
END_TEST

/* ---- scans ----------------------------------------------------------------------- */

#define SCFG "vram=16M,visible=4M,gart=8M,sysmem=256M"
#define MB (1024ull * 1024)

/* Six allocations used twice, then forty fresh allocations (2.5 times VRAM) each
 * created and used once. Returns how many of the six are still in VRAM. */
static uint32_t hot_after_scan(const char *policy)
{
	struct kt_gpu g;
	char cfg[128];
	D3DKMT_HANDLE hot[6], x;
	snprintf(cfg, sizeof(cfg), SCFG ",policy=%s", policy);
	kt_setup(&g, cfg);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(kt_alloc(&g, MB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &hot[i]), STATUS_SUCCESS);
	for (int round = 0; round < 2; round++) {
		kt_cmd_begin(&g);
		for (int i = 0; i < 6; i++)
			kt_cmd_use(&g, hot[i]);
		ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	for (int i = 0; i < 40; i++) {
		ck_assert_int_eq(kt_alloc(&g, MB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &x), STATUS_SUCCESS);
		kt_cmd_begin(&g);
		kt_cmd_use(&g, x);
		ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	uint32_t left = 0;
	for (int i = 0; i < 6; i++)
		left += kt_segment(hot[i]) != GPUSIM_SEG_SYS;
	ck_assert_uint_gt(kt_stats(&g).evictions, 20);
	kt_assert_invariants(&g);
	kt_teardown(&g);
	return left;
}

START_TEST(scan_does_not_flush_hot_set)
{
	ck_assert_uint_eq(hot_after_scan("arc"), 6);
	/* The same sequence does flush it under LRU: the test can tell. */
	ck_assert_uint_eq(hot_after_scan("lru"), 0);
}
END_TEST

/* ARC's own state (p, the ghosts' clocks, who is in T1 and T2 and seen, each
 * allocation's ghost) comes back from a snapshot exactly: a restored adapter's
 * snapshot has the same policy section. Allocations used once and evicted, then
 * used again, are ghost hits in B1 that raise p: the state is not trivial. */
static const uint8_t *policy_words(const struct gpusim_snapshot *s, uint64_t *n)
{
	const uint8_t *p = memmem(s->state, s->state_size, "PLCY", 4);
	ck_assert_ptr_nonnull(p);
	*n = 0;
	for (int k = 0; k < 8; k++)
		*n |= (uint64_t)p[4 + k] << (8 * k);
	ck_assert_uint_eq((size_t)(p - (const uint8_t *)s->state) + 12 + *n * 8 + 4, s->state_size);
	return p + 12;
}

static uint64_t word(const uint8_t *w, uint64_t i)
{
	uint64_t v = 0;
	for (int k = 0; k < 8; k++)
		v |= (uint64_t)w[8 * i + k] << (8 * k);
	return v;
}

START_TEST(arc_state_round_trips)
{
	struct kt_gpu g;
	D3DKMT_HANDLE h[26];
	kt_setup(&g, SCFG ",policy=arc");
	/* Six used twice (T2), twenty used once (T1, the oldest evicted: B1)... */
	for (int i = 0; i < 26; i++) {
		ck_assert_int_eq(kt_alloc(&g, MB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &h[i]), STATUS_SUCCESS);
		for (int k = 0; k < (i < 6 ? 2 : 1); k++) {
			kt_cmd_begin(&g);
			kt_cmd_use(&g, h[i]);
			ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
		}
	}
	/* ... then those evicted are used again, the last evicted first. */
	uint32_t back = 0;
	for (int i = 25; i >= 6; i--)
		if (kt_segment(h[i]) == GPUSIM_SEG_SYS) {
			back++;
			kt_cmd_begin(&g);
			kt_cmd_use(&g, h[i]);
			ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
		}
	ck_assert_uint_gt(back, 5);
	struct gpusim_snapshot *a, *b;
	ck_assert_int_eq(gpusim_snapshot_take(g.luid, &a), STATUS_SUCCESS);
	uint64_t na, nb;
	const uint8_t *wa = policy_words(a, &na);
	/* fields: a count, three words each; then p */
	uint64_t nf = word(wa, 0), p = word(wa, 1 + 3 * nf);
	ck_assert_uint_gt(nf, 20);
	ck_assert_uint_gt(p, 0);
	struct gpusim_handle_map *map;
	size_t nmap;
	char err[256] = "";
	LUID luid;
	gpusim_reset();
	ck_assert_msg(gpusim_snapshot_restore(a, &luid, &map, &nmap, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	free(map);
	ck_assert_int_eq(gpusim_snapshot_take(luid, &b), STATUS_SUCCESS);
	const uint8_t *wb = policy_words(b, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(!memcmp(wa, wb, na * 8));
	gpusim_snapshot_free(a);
	gpusim_snapshot_free(b);
	gpusim_reset();
}
END_TEST

/* ---- EELRU ------------------------------------------------------------------------ */

/* The policy alone, driven as the manager drives it: one-page allocations in
 * segment 1, a submission per use (its own mark), a miss evicting the first
 * candidate the walk offers that is not in use. */
enum { RIG_LOOP = 10, RIG_CACHE = 8, RIG_ALLOCS = 64 };

struct eelru_rig {
	const struct vidmm_policy_ops *ops;
	void *p;
	struct vidmm_alloc a[RIG_ALLOCS];
	uint32_t mark;
	uint32_t it;                /* the check's iterator */
};

static void rig_init(struct eelru_rig *r)
{
	memset(r, 0, sizeof(*r));
	r->ops = vidmm_policy_find("eelru");
	ck_assert_ptr_nonnull(r->ops);
	r->p = r->ops->create();
	ck_assert_ptr_nonnull(r->p);
	for (uint32_t i = 0; i < RIG_ALLOCS; i++) {
		r->a[i].seg = VIDMM_SYS;
		r->a[i].size = 4096;
		r->a[i].handle = i;
		r->a[i].priority = D3DDDI_ALLOCATIONPRIORITY_NORMAL;
	}
}

static uint32_t resident(const struct eelru_rig *r)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < RIG_ALLOCS; i++)
		n += r->a[i].seg != VIDMM_SYS;
	return n;
}

/* Use allocation i; returns the victim's index, -1 for a hit or free room. */
static int rig_use(struct eelru_rig *r, uint32_t i)
{
	struct vidmm_alloc *x = &r->a[i];
	int victim = -1;
	x->mark = ++r->mark;
	if (x->seg == VIDMM_SYS) {
		if (resident(r) == RIG_CACHE) {
			struct vidmm_alloc *v = r->ops->next(r->p, 1, NULL);
			ck_assert_ptr_nonnull(v);
			victim = (int)(v - r->a);
			r->ops->remove(r->p, v);
			v->seg = VIDMM_SYS;
		}
		x->seg = 1;
		r->ops->insert(r->p, x);
	}
	r->ops->touch(r->p, x);
	return victim;
}

static int rig_next(void *ctx, struct vidmm_alloc **out)
{
	struct eelru_rig *r = ctx;
	*out = r->it < RIG_ALLOCS ? &r->a[r->it++] : NULL;
	return 0;
}

static int rig_check(struct eelru_rig *r, char *err, size_t len)
{
	r->it = 0;
	return r->ops->check(r->p, rig_next, r, err, len);
}

/* A loop of 10 allocations over room for 8. LRU misses every use: the first
 * round fills the room and evicts 0 and 1, the second evicts 2 to 8, each the
 * allocation used longest ago, which is the next one the loop wants. Every reuse
 * is at stack distance 9 pages, beyond the 8 held, so the decision that follows
 * the use of 6 in the second round (8 pages of uses since the last) sees only
 * hits LRU cannot have and picks early eviction at the smallest early point
 * (M/32: nothing young). From then on a miss evicts the allocation used just
 * before (the one the loop wants farthest ahead, MIN's choice on a loop), and
 * from the third round on each round misses only 10 - 8 = 2 uses, as MIN does. */
START_TEST(eelru_loop_victims)
{
	static struct eelru_rig r;
	char err[160];
	rig_init(&r);
	int prev = -1;
	for (uint32_t round = 0; round < 8; round++) {
		uint32_t misses = 0;
		for (uint32_t i = 0; i < RIG_LOOP; i++) {
			int v = rig_use(&r, i);
			misses += v >= 0 || round == 0;
			if (round == 0)
				ck_assert_int_eq(v, i < RIG_CACHE ? -1 : (int)(i - RIG_CACHE));
			else if (round == 1 && i < 7)
				/* LRU: the one used longest ago, the next one the loop wants */
				ck_assert_int_eq(v, (int)((i + RIG_LOOP - RIG_CACHE) % RIG_LOOP));
			else if (v >= 0)
				/* early eviction: the allocation used just before */
				ck_assert_int_eq(v, prev);
			prev = (int)i;
			ck_assert_msg(rig_check(&r, err, sizeof(err)) == 0, "round %u use %u: %s", round, i, err);
		}
		if (round == 0)
			ck_assert_uint_eq(misses, RIG_LOOP);
		if (round >= 2)
			ck_assert_uint_eq(misses, RIG_LOOP - RIG_CACHE);
	}
	r.ops->destroy(r.p);
}
END_TEST

/* A workload LRU serves well keeps LRU's order: seven allocations used round
 * after round, each round ending with a new allocation used once. The seven come
 * back at stack distance 7 pages, within the 8 held, and nothing else comes back,
 * so early eviction could only lose hits: each new allocation evicts the previous
 * one-off (used longest ago), where evicting the allocation used last (as in the
 * loop above) would evict one of the seven. */
START_TEST(eelru_lru_when_it_fits)
{
	static struct eelru_rig r;
	rig_init(&r);
	for (uint32_t round = 0; round < 40; round++) {
		for (uint32_t i = 0; i < RIG_CACHE - 1; i++)
			ck_assert_int_eq(rig_use(&r, i), -1);
		int v = rig_use(&r, RIG_CACHE - 1 + round);
		ck_assert_int_eq(v, round ? (int)(RIG_CACHE - 2 + round) : -1);
	}
	r.ops->destroy(r.p);
}
END_TEST

/* EELRU's state (the clock, the ring of last uses, the histogram, the eviction
 * points, the queues) comes back from a snapshot exactly, taken after a loop
 * larger than VRAM made it evict early. */
START_TEST(eelru_state_round_trips)
{
	struct kt_gpu g;
	D3DKMT_HANDLE h[24];
	kt_setup(&g, SCFG ",policy=eelru");
	for (int i = 0; i < 24; i++)
		ck_assert_int_eq(kt_alloc(&g, MB, 0, KT_SEG(VISIBLE) | KT_SEG(INVISIBLE), &h[i]), STATUS_SUCCESS);
	for (int round = 0; round < 6; round++)
		for (int i = 0; i < 24; i++) {
			kt_cmd_begin(&g);
			kt_cmd_use(&g, h[i]);
			ck_assert_int_eq(kt_cmd_submit(&g), STATUS_SUCCESS);
		}
	kt_assert_invariants(&g);
	struct gpusim_snapshot *a, *b;
	ck_assert_int_eq(gpusim_snapshot_take(g.luid, &a), STATUS_SUCCESS);
	uint64_t na, nb;
	const uint8_t *wa = policy_words(a, &na);
	/* fields: a count, three words each; then the clock, the ring's size, the
	 * pages since the last decision, the early and late points */
	uint64_t nf = word(wa, 0), early = word(wa, 1 + 3 * nf + 3);
	ck_assert_uint_gt(nf, 20);
	ck_assert_uint_gt(early, 0);
	struct gpusim_handle_map *map;
	size_t nmap;
	char err[256] = "";
	LUID luid;
	gpusim_reset();
	ck_assert_msg(gpusim_snapshot_restore(a, &luid, &map, &nmap, err, sizeof(err)) == STATUS_SUCCESS, "%s", err);
	free(map);
	ck_assert_int_eq(gpusim_snapshot_take(luid, &b), STATUS_SUCCESS);
	const uint8_t *wb = policy_words(b, &nb);
	ck_assert_uint_eq(na, nb);
	ck_assert(!memcmp(wa, wb, na * 8));
	gpusim_snapshot_free(a);
	gpusim_snapshot_free(b);
	gpusim_reset();
}
END_TEST

/* The check sees an allocation whose queue bit lies, one whose tick on the ring
 * holds other pages, and books that disagree. */
START_TEST(eelru_check_catches)
{
	static struct eelru_rig r;
	char err[160];
	rig_init(&r);
	for (uint32_t round = 0; round < 4; round++)
		for (uint32_t i = 0; i < RIG_LOOP; i++)
			rig_use(&r, i);
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), 0);
	struct vidmm_alloc *x = r.ops->next(r.p, 1, NULL);
	ck_assert_ptr_nonnull(x);
	x->pol_bits ^= 0x1u; /* OLD */
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), -EFAULT);
	x->pol_bits ^= 0x1u;
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), 0);
	/* A tick twenty uses back: the ring zeroed it when its allocation came back. */
	x->pol_stamp -= 2 * RIG_LOOP;
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), -EFAULT);
	ck_assert_msg(strstr(err, "ring"), "%s", err);
	x->pol_stamp += 2 * RIG_LOOP;
	x->size = 8192;
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), -EFAULT);
	x->size = 4096;
	ck_assert_int_eq(rig_check(&r, err, sizeof(err)), 0);
	r.ops->destroy(r.p);
}
END_TEST

/* The default is ARC wherever a default is named, and unknown names list the
 * policies there are. */
START_TEST(default_is_arc)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	ck_assert_str_eq(cfg.policy, "arc");
	ck_assert_str_eq(gpusim_policy_name(0), "arc");
	ck_assert_ptr_eq(vidmm_policy_find(NULL), &vidmm_policy_arc);
	ck_assert_ptr_eq(vidmm_policy_find(""), &vidmm_policy_arc);
	ck_assert_ptr_null(vidmm_policy_find("fifo"));
	char err[128] = "";
	ck_assert_int_ne(gpusim_config_parse(&cfg, "policy=fifo", err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "arc, priority-lru, lru"), "%s", err);
}
END_TEST

Suite *kmt_policy_suite(void)
{
	Suite *s = suite_create("kmt_policy");
	TCase *tc = tcase_create("policy");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, queue_keeps_order, 0, 2);
	tcase_add_loop_test(tc, priorities_are_respected, 0, 2);
	tcase_add_test(tc, scan_does_not_flush_hot_set);
	tcase_add_test(tc, arc_state_round_trips);
	tcase_add_test(tc, default_is_arc);
	tcase_add_test(tc, eelru_loop_victims);
	tcase_add_test(tc, eelru_lru_when_it_fits);
	tcase_add_test(tc, eelru_state_round_trips);
	tcase_add_test(tc, eelru_check_catches);
	suite_add_tcase(s, tc);
	return s;
}
