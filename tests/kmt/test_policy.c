/*
 * Eviction policies: the queue they share keeps its order and its check sees broken
 * links; every policy but "lru" never evicts an allocation while one of lower
 * priority in the same segment could go instead; under ARC a one-time scan does not
 * flush a hot set (which it does under LRU), and ARC's state survives a snapshot.
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
	suite_add_tcase(s, tc);
	return s;
}
