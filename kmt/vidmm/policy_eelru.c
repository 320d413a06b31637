/*
 * "eelru": Early Eviction LRU of Y. Smaragdakis, S. Kaplan and P. Wilson,
 * "EELRU: Simple and Effective Adaptive Page Replacement", ACM SIGMETRICS 1999,
 * over all the segments together, in pages, under D3DDDI priorities.
 *
 * LRU evicts the allocation used longest ago. On a loop slightly larger than
 * memory that is the very one the loop needs next, so every reference misses.
 * EELRU keeps a histogram of the LRU stack distances of references (how many pages
 * of distinct allocations were used since the allocation's own last use), also
 * beyond what memory holds. When that histogram says more hits come from keeping
 * a fixed part of the old pages than from LRU, it evicts at an early eviction
 * point e: the allocation just past the e most recently used pages, so that the
 * pages older than e stay resident until they are used again. With e = M (the
 * pages held) it is LRU. Every so often it picks among LRU and the pairs (e, l) of
 * an early point and a late point l > M the one with the most expected hits:
 *
 *   LRU:     hits at distances [0, M)
 *   (e, l):  hits at distances [0, e)  +  (M - e) / (l - e) * hits in [e, l)
 *
 * (of the pages between e and l, M - e are resident at any time, each equally
 * likely). Where this differs from the paper, and why:
 *
 * - A use is a submission: touches with the same a->mark count once, and an
 *   insert is not a use (as in the other policies).
 * - Stack distances without a stack: every counted use takes the next tick of a
 *   clock; a ring of the last H ticks holds, at each tick, the pages of the
 *   allocation whose latest use that was (zero once it is used again), under a
 *   Fenwick tree. An allocation's distance is then the pages at the ticks after
 *   its own, O(log H), and it needs nothing but its tick (pol_stamp) and a bit
 *   saying it has one; evicted and destroyed allocations stay in the stack as the
 *   paper's non-resident entries until their tick leaves the ring. remove() cannot
 *   tell a destruction from an eviction, and a ring entry needs no owner, so no
 *   memory outlives an allocation. Uses older than the ring count as beyond every
 *   late point. H grows with the allocations held (four ticks each, at least
 *   2^16, at most 2^21).
 * - The histogram has R regions per M pages up to 3M (the paper's late points
 *   reach a few times memory); it counts pages, halves after every decision, and
 *   a decision is taken after each M pages of uses, so it follows phases.
 * - Priorities and segments: each (segment, priority) has two queues, the young
 *   and the old, each in the order of last use. The young of a segment are its
 *   share (its pages over all held) of the e most recent pages, counted by pages
 *   rather than by stack position: the manager evicts from one segment at a time,
 *   and an allocation in a segment it does not evict from is an old page kept
 *   whatever the policy says. Who is young is settled lazily at the start of each
 *   walk (each allocation crosses over once per use: O(1) amortized). Only the
 *   reuses of allocations of the lowest priority held in their segment enter the
 *   histogram: higher ones go only once no lower one is left, so the eviction
 *   point does not decide about them. A walk offers the lowest priority first; within one, under LRU the
 *   old from the oldest then the young from the oldest, under early eviction the
 *   old from the newest (the allocation just past e) back to the oldest, then the
 *   young from the oldest.
 * - An allocation placed without a use (created, locked, moved) is ordered by the
 *   tick of its placement, as LRU does, without entering the stack.
 *
 * Costs: a counted use moves the allocation to the back of a young queue and does
 * three Fenwick updates and one query (O(log H)); a removal unlinks it; a
 * decision is O(R^2) per M pages of uses.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kmt/vidmm/vidmm.h"

/* pol_bits */
#define OLD        0x1u        /* held in the old queue (else the young) */
#define USED       0x2u        /* pol_stamp is the tick of its last use */
#define KNOWN_BITS (OLD | USED | VIDMM_POL_LOST)

#define R 32                    /* histogram regions per M pages */
#define REGIONS (3 * R)         /* up to 3M */
#define RING_MIN_BITS 16
#define RING_MAX_BITS 21

struct bucket {                 /* one priority in one segment */
	struct vidmm_queue q[2];    /* [0] young, [1] old (index: the OLD bit) */
	uint32_t priority;
	struct bucket *next;        /* ascending priority */
};

struct eelru {
	struct bucket *buckets[VIDMM_SEG_MAX];
	uint64_t held;              /* pages held */
	uint64_t count;             /* allocations held */
	uint64_t seg_held[VIDMM_SEG_MAX], seg_young[VIDMM_SEG_MAX]; /* pages */
	/* the stack: ticks (now, the last use's), the ring of 1 << bits ticks */
	uint32_t now, bits;
	uint32_t *val;              /* pages whose latest use was at that tick */
	uint64_t *fen;              /* Fenwick tree over val, 1-based */
	/* the histogram, in pages; pages used since the last decision */
	uint64_t hist[REGIONS];
	uint64_t since;
	uint32_t early, late;       /* chosen points in regions; early 0: LRU */
	bool early_walk[VIDMM_SEG_MAX];
};

static uint32_t pages(const struct vidmm_alloc *a)
{
	uint64_t n = a->size >> HW_PAGE_SHIFT;
	return n > UINT32_MAX ? UINT32_MAX : n ? (uint32_t)n : 1;
}

/* ---- the stack -------------------------------------------------------------------- */

static uint32_t ring(const struct eelru *e)
{
	return 1u << e->bits;
}

static void fen_add(struct eelru *e, uint32_t slot, uint64_t v, bool sub)
{
	for (uint32_t i = slot + 1; i <= ring(e); i += i & -i)
		e->fen[i] = sub ? e->fen[i] - v : e->fen[i] + v;
}

/* Pages at slots [0, slot]. */
static uint64_t fen_sum(const struct eelru *e, uint32_t slot)
{
	uint64_t s = 0;
	for (uint32_t i = slot + 1; i; i -= i & -i)
		s += e->fen[i];
	return s;
}

static void fen_build(struct eelru *e)
{
	uint32_t h = ring(e);
	for (uint32_t i = 1; i <= h; i++)
		e->fen[i] = e->val[i - 1];
	for (uint32_t i = 1; i <= h; i++) {
		uint32_t j = i + (i & -i);
		if (j <= h)
			e->fen[j] += e->fen[i];
	}
}

static bool ring_alloc(struct eelru *e, uint32_t bits)
{
	uint32_t *val = calloc((size_t)1 << bits, sizeof(*val));
	uint64_t *fen = calloc(((size_t)1 << bits) + 1, sizeof(*fen));
	if (!val || !fen) {
		free(val);
		free(fen);
		return false;
	}
	/* The newest ticks of the old ring that the new one has room for. */
	if (e->val) {
		uint32_t keep = bits < e->bits ? 1u << bits : ring(e);
		for (uint32_t k = 0; k < keep; k++) {
			uint32_t t = e->now - k;
			val[t & ((1u << bits) - 1)] = e->val[t & (ring(e) - 1)];
		}
	}
	free(e->val);
	free(e->fen);
	e->val = val;
	e->fen = fen;
	e->bits = bits;
	fen_build(e);
	return true;
}

/* Pages used since tick t (within the ring), t's own excluded. */
static uint64_t pages_since(const struct eelru *e, uint32_t t)
{
	uint32_t mask = ring(e) - 1, cur = e->now & mask, ts = t & mask;
	uint64_t pc = fen_sum(e, cur), pt = fen_sum(e, ts);
	return ts <= cur ? pc - pt : pc + fen_sum(e, mask) - pt;
}

/* ---- the decision ------------------------------------------------------------------- */

/* Region k holds the distances [k M / R, (k + 1) M / R). */
static void record(struct eelru *e, uint64_t distance, uint32_t n)
{
	if (!e->held)
		return;
	unsigned __int128 k = (unsigned __int128)distance * R / e->held;
	if (k < REGIONS)
		e->hist[k] += n;
}

/* EELRU's choice: LRU unless some (e, l) expects more hits. Scores are compared
 * as fractions over a common denominator, in integers, so the choice does not
 * depend on the host's floating point. */
static void decide(struct eelru *e)
{
	uint64_t pre[REGIONS + 1] = { 0 };
	for (unsigned k = 0; k < REGIONS; k++)
		pre[k + 1] = pre[k] + e->hist[k];
	/* best = num / den */
	uint64_t num = pre[R], den = 1;
	unsigned be = 0, bl = 0;
	for (unsigned ep = 1; ep < R; ep++)
		for (unsigned l = R + 1; l <= REGIONS; l++) {
			uint64_t n = pre[ep] * (l - ep) + (pre[l] - pre[ep]) * (R - ep), d = l - ep;
			if ((unsigned __int128)n * den > (unsigned __int128)num * d) {
				num = n;
				den = d;
				be = ep;
				bl = l;
			}
		}
	e->early = be;
	e->late = bl;
	for (unsigned k = 0; k < REGIONS; k++)
		e->hist[k] /= 2;
	e->since = 0;
}

/* ---- the queues ---------------------------------------------------------------------- */

static void *create(void)
{
	struct eelru *e = calloc(1, sizeof(*e));
	if (e && !ring_alloc(e, RING_MIN_BITS)) {
		free(e);
		e = NULL;
	}
	return e;
}

static void destroy(void *p)
{
	struct eelru *e = p;
	if (!e)
		return;
	for (int s = 0; s < VIDMM_SEG_MAX; s++)
		for (struct bucket *b = e->buckets[s], *n; b; b = n) {
			n = b->next;
			vidmm_queue_fini(&b->q[0]);
			vidmm_queue_fini(&b->q[1]);
			free(b);
		}
	free(e->val);
	free(e->fen);
	free(e);
}

/* Few distinct priorities exist in practice (the five D3DDDI levels). */
static struct bucket *bucket_for(struct eelru *e, uint32_t seg, uint32_t prio)
{
	struct bucket **pp = &e->buckets[seg];
	while (*pp && (*pp)->priority < prio)
		pp = &(*pp)->next;
	if (*pp && (*pp)->priority == prio)
		return *pp;
	struct bucket *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->priority = prio;
	b->next = *pp;
	*pp = b;
	return b;
}

static unsigned queue_of(const struct vidmm_alloc *a)
{
	return a->pol_bits & OLD ? 1 : 0;
}

/* Ticks since its last use (or its placement). */
static uint32_t age(const struct eelru *e, const struct vidmm_alloc *a)
{
	return e->now - a->pol_stamp;
}

/* Hold a at the back of queue q of its bucket. */
static void hold(struct eelru *e, struct vidmm_alloc *a, unsigned q)
{
	struct bucket *b = bucket_for(e, a->seg, a->priority);
	a->pol_bits &= ~(OLD | VIDMM_POL_LOST);
	if (!b) {
		a->pol_bits = VIDMM_POL_LOST; /* never offered for eviction */
		return;
	}
	vidmm_queue_push(&b->q[q], a);
	a->pol_bucket = b;
	a->pol_bits |= q ? OLD : 0;
	e->held += pages(a);
	e->seg_held[a->seg] += pages(a);
	e->seg_young[a->seg] += q ? 0 : pages(a);
	e->count++;
}

static void release(struct eelru *e, struct vidmm_alloc *a)
{
	struct bucket *b = a->pol_bucket;
	vidmm_queue_remove(&b->q[queue_of(a)], a);
	e->held -= pages(a);
	e->seg_held[a->seg] -= pages(a);
	e->seg_young[a->seg] -= queue_of(a) ? 0 : pages(a);
	e->count--;
	a->pol_bucket = NULL;
}

static void insert(void *p, struct vidmm_alloc *a)
{
	struct eelru *e = p;
	if (a->pol_bucket) {
		/* Its priority changed: same queue, another bucket. */
		unsigned q = queue_of(a);
		release(e, a);
		hold(e, a, q);
		return;
	}
	a->pol_bits &= ~(OLD | VIDMM_POL_LOST);
	if (!vidmm_policy_holds(a))
		return;
	if (!(a->pol_bits & USED))
		a->pol_stamp = e->now;
	hold(e, a, 0);
	/* A longer ring for more allocations: the clock runs faster. */
	if (e->count * 4 > ring(e) && e->bits < RING_MAX_BITS)
		ring_alloc(e, e->bits + 1);
}

static void remove_alloc(void *p, struct vidmm_alloc *a)
{
	struct eelru *e = p;
	if (a->pol_bucket)
		release(e, a);
	/* It stays in the stack (USED, its tick) as a non-resident entry. */
	a->pol_bits &= ~(OLD | VIDMM_POL_LOST);
}

/* Whether a is of the lowest priority held in its segment: the only allocations
 * the eviction point decides about. Those of higher priorities go only once no
 * lower one is left, so their reuses say nothing about where to evict. */
static bool exposed(const struct eelru *e, const struct vidmm_alloc *a)
{
	for (const struct bucket *b = e->buckets[a->seg]; b; b = b->next)
		if (b->q[0].count || b->q[1].count)
			return b == a->pol_bucket;
	return false;
}

static void touch(void *p, struct vidmm_alloc *a)
{
	struct eelru *e = p;
	if (!a->pol_bucket || a->mark == a->pol_mark)
		return;
	a->pol_mark = a->mark;
	uint32_t n = pages(a), mask = ring(e) - 1;
	if ((a->pol_bits & USED) && e->now - a->pol_stamp < ring(e)) {
		if (exposed(e, a))
			record(e, pages_since(e, a->pol_stamp), n);
		uint32_t s = a->pol_stamp & mask;
		fen_add(e, s, e->val[s], true);
		e->val[s] = 0;
	}
	uint32_t s = ++e->now & mask;
	/* The tick a ring ago leaves the stack. */
	if (e->val[s])
		fen_add(e, s, e->val[s], true);
	e->val[s] = n;
	fen_add(e, s, n, false);
	a->pol_stamp = e->now;
	a->pol_bits |= USED;
	release(e, a);
	hold(e, a, 0);
	if ((e->since += n) >= e->held)
		decide(e);
}

/* The oldest young and the newest old allocation of segment seg, over its
 * priorities: the ends where the two regions meet. */
static struct vidmm_alloc *oldest_young(const struct eelru *e, uint32_t seg)
{
	struct vidmm_alloc *best = NULL, *a;
	for (const struct bucket *b = e->buckets[seg]; b; b = b->next)
		if ((a = vidmm_queue_first(&b->q[0])) && (!best || age(e, a) > age(e, best)))
			best = a;
	return best;
}

static struct vidmm_alloc *newest_old(const struct eelru *e, uint32_t seg)
{
	struct vidmm_alloc *best = NULL, *a;
	for (const struct bucket *b = e->buckets[seg]; b; b = b->next)
		if ((a = vidmm_queue_last(&b->q[1])) && (!best || age(e, a) < age(e, best)))
			best = a;
	return best;
}

static void to_queue(struct eelru *e, struct vidmm_alloc *a, unsigned q)
{
	struct bucket *b = a->pol_bucket;
	vidmm_queue_remove(&b->q[!q], a);
	if (q) {
		vidmm_queue_push(&b->q[1], a);
		a->pol_bits |= OLD;
		e->seg_young[a->seg] -= pages(a);
	} else {
		vidmm_queue_push_front(&b->q[0], a);
		a->pol_bits &= ~OLD;
		e->seg_young[a->seg] += pages(a);
	}
}

/* Settle the young of segment seg: the segment's share of the e most recently
 * used pages, so that each segment keeps its part of the old pages (the manager
 * evicts from one segment at a time, and may never evict from another). Both
 * queues of a bucket are in the order of last use, so only the ends where they
 * meet move; each allocation crosses once per use, O(1) amortized. */
static void settle(struct eelru *e, uint32_t seg)
{
	uint64_t target = e->seg_held[seg] * e->early / R;
	struct vidmm_alloc *a;
	while (e->seg_young[seg] > target && (a = oldest_young(e, seg)))
		to_queue(e, a, 1);
	while ((a = newest_old(e, seg)) && e->seg_young[seg] + pages(a) <= target)
		to_queue(e, a, 0);
}

/* First of bucket b in the walk's order. */
static struct vidmm_alloc *first_of(const struct bucket *b, bool early)
{
	struct vidmm_alloc *a = early ? vidmm_queue_last(&b->q[1]) : vidmm_queue_first(&b->q[1]);
	return a ? a : vidmm_queue_first(&b->q[0]);
}

static struct vidmm_alloc *next(void *p, uint32_t seg, struct vidmm_alloc *after)
{
	struct eelru *e = p;
	if (seg < 1 || seg >= VIDMM_SEG_MAX)
		return NULL;
	const struct bucket *b;
	struct vidmm_alloc *n;
	bool early;
	if (!after) {
		early = e->early_walk[seg] = e->early != 0;
		settle(e, seg);
		b = e->buckets[seg];
	} else {
		early = e->early_walk[seg];
		b = after->pol_bucket;
		if (after->pol_bits & OLD) {
			n = early ? vidmm_queue_prev(&b->q[1], after) : vidmm_queue_next(&b->q[1], after);
			if (n || (n = vidmm_queue_first(&b->q[0])))
				return n;
		} else if ((n = vidmm_queue_next(&b->q[0], after))) {
			return n;
		}
		b = b->next;
	}
	for (; b; b = b->next)
		if ((n = first_of(b, early)))
			return n;
	return NULL;
}

/* ---- snapshots and checks ------------------------------------------------------- */

/* Bits an allocation may carry: OLD only while held; LOST only while held, alone. */
static bool sane(uint32_t b, bool held)
{
	if (b & ~KNOWN_BITS)
		return false;
	if (b & VIDMM_POL_LOST)
		return held && b == VIDMM_POL_LOST;
	return held || !(b & OLD);
}

static void save(void *p, struct vidmm_policy_io *io)
{
	struct eelru *e = p;
	uint64_t n = 0;
	vidmm_policy_save_fields(io);
	io->put(io->ctx, e->now);
	io->put(io->ctx, e->bits);
	io->put(io->ctx, e->since);
	io->put(io->ctx, e->early);
	io->put(io->ctx, e->late);
	for (unsigned k = 0; k < REGIONS; k++)
		io->put(io->ctx, e->hist[k]);
	for (uint32_t i = 0; i < ring(e); i++)
		n += e->val[i] != 0;
	io->put(io->ctx, n);
	for (uint32_t i = 0; i < ring(e); i++)
		if (e->val[i]) {
			io->put(io->ctx, i);
			io->put(io->ctx, e->val[i]);
		}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++)
		for (unsigned q = 0; q < 2; q++) {
			n = 0;
			for (const struct bucket *b = e->buckets[s]; b; b = b->next)
				n += b->q[q].count;
			io->put(io->ctx, n);
			for (const struct bucket *b = e->buckets[s]; b; b = b->next)
				for (struct vidmm_alloc *a = vidmm_queue_first(&b->q[q]); a;
				     a = vidmm_queue_next(&b->q[q], a))
					io->put(io->ctx, io->index(io->ctx, a));
		}
}

static int load_state(struct eelru *e, struct vidmm_policy_io *io)
{
	uint64_t now = io->get(io->ctx), bits = io->get(io->ctx), since = io->get(io->ctx);
	uint64_t early = io->get(io->ctx), late = io->get(io->ctx);
	uint64_t hist[REGIONS];
	for (unsigned k = 0; k < REGIONS; k++)
		hist[k] = io->get(io->ctx);
	if (io->bad || now > UINT32_MAX || bits < RING_MIN_BITS || bits > RING_MAX_BITS ||
	    early >= R || (early ? late <= R || late > REGIONS : late != 0))
		return vidmm_policy_fail(io, "EELRU's clock, ring or eviction points are malformed");
	uint64_t n = io->get(io->ctx), prev = 0;
	if (io->bad || n > (1u << bits))
		return vidmm_policy_fail(io, "EELRU's ring is cut short or too long");
	if (io->apply) {
		free(e->val);
		free(e->fen);
		e->val = NULL;
		e->fen = NULL;
		e->now = (uint32_t)now;
		if (!ring_alloc(e, (uint32_t)bits))
			return -ENOMEM;
		e->since = since;
		e->early = (uint32_t)early;
		e->late = (uint32_t)late;
		for (unsigned k = 0; k < REGIONS; k++)
			e->hist[k] = hist[k];
	}
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = io->get(io->ctx), v = io->get(io->ctx);
		/* Ascending slots: none twice. */
		if (io->bad || i >= (1u << bits) || (k && i <= prev) || !v || v > UINT32_MAX)
			return vidmm_policy_fail(io, "EELRU's ring is malformed");
		prev = i;
		if (io->apply)
			e->val[i] = (uint32_t)v;
	}
	if (io->apply)
		fen_build(e);
	return 0;
}

static int load_queues(struct eelru *e, struct vidmm_policy_io *io, const uint32_t *bits, uint8_t *seen)
{
	uint64_t want[VIDMM_SEG_MAX] = { 0 };
	for (uint64_t i = 0; i < io->nallocs; i++) {
		struct vidmm_alloc *a = io->alloc(io->ctx, i);
		if (vidmm_policy_holds(a) && !(bits[i] & VIDMM_POL_LOST))
			want[a->seg]++;
	}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++) {
		uint64_t total = 0;
		for (unsigned q = 0; q < 2; q++) {
			uint64_t n = io->get(io->ctx);
			if (io->bad || n > want[s] - total)
				return vidmm_policy_fail(io, "EELRU's queues of segment %u are cut short or too long", s);
			total += n;
			for (uint64_t k = 0; k < n; k++) {
				uint64_t i = io->get(io->ctx);
				struct vidmm_alloc *a = io->bad ? NULL : io->alloc(io->ctx, i);
				if (!a || a->seg != s || !vidmm_policy_holds(a) || (bits[i] & VIDMM_POL_LOST) ||
				    !(bits[i] & OLD) != !q || (seen[i / 8] & (1u << (i % 8))))
					return vidmm_policy_fail(io, "EELRU's %s queue of segment %u is malformed",
								 q ? "old" : "young", s);
				seen[i / 8] |= (uint8_t)(1u << (i % 8));
				if (io->apply)
					hold(e, a, q); /* its bits are the snapshot's already */
			}
		}
		if (total != want[s])
			return vidmm_policy_fail(io, "EELRU's queues of segment %u hold %llu allocations, it has %llu",
						 s, (unsigned long long)total, (unsigned long long)want[s]);
	}
	return 0;
}

static int load(void *p, struct vidmm_policy_io *io)
{
	uint32_t *bits = calloc(io->nallocs + 1, sizeof(*bits));
	uint8_t *seen = calloc(io->nallocs / 8 + 1, 1);
	int rc = -ENOMEM;
	if (bits && seen && !(rc = vidmm_policy_load_fields(io, sane, bits)) && !(rc = load_state(p, io)))
		rc = load_queues(p, io, bits, seen);
	free(bits);
	free(seen);
	return rc;
}

static int check(void *p, vidmm_alloc_iter it, void *ctx, char *err, size_t errlen)
{
	struct eelru *e = p;
	uint64_t held = 0, count = 0, total = 0, sh[VIDMM_SEG_MAX] = { 0 }, sy[VIDMM_SEG_MAX] = { 0 };
	const char *why = NULL;
	int rc;
	for (uint32_t i = 0; i < ring(e); i++)
		total += e->val[i];
	if (total != fen_sum(e, ring(e) - 1))
		why = "EELRU's ring and its tree disagree";
	if (e->early >= R || (e->early ? e->late <= R || e->late > REGIONS : e->late != 0))
		why = "EELRU's eviction points are out of range";
	for (uint32_t s = 0; s < VIDMM_SEG_MAX && !why; s++)
		for (const struct bucket *b = e->buckets[s]; b && !why; b = b->next) {
			if (b->next && b->next->priority <= b->priority)
				why = "EELRU's buckets are out of order";
			for (unsigned q = 0; q < 2 && !why; q++) {
				if ((rc = vidmm_queue_check(&b->q[q], b, err, errlen)))
					return rc;
				for (struct vidmm_alloc *a = vidmm_queue_first(&b->q[q]); a;
				     a = vidmm_queue_next(&b->q[q], a)) {
					if (a->seg != s || a->priority != b->priority || queue_of(a) != q ||
					    !sane(a->pol_bits, true)) {
						why = "EELRU's queues disagree with their allocations";
						break;
					}
					/* Its last use is still on the ring, with its pages. */
					if ((a->pol_bits & USED) && e->now - a->pol_stamp < ring(e) &&
					    e->val[a->pol_stamp & (ring(e) - 1)] != pages(a)) {
						why = "an allocation's tick on EELRU's ring holds other pages";
						break;
					}
					held += pages(a);
					sh[s] += pages(a);
					sy[s] += q ? 0 : pages(a);
					count++;
				}
			}
		}
	for (uint32_t s = 0; s < VIDMM_SEG_MAX; s++)
		if (sh[s] != e->seg_held[s] || sy[s] != e->seg_young[s])
			held = ~held;
	if (!why && (held != e->held || count != e->count))
		why = "EELRU's books disagree with its queues";
	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "%s", why);
		return -EFAULT;
	}
	return vidmm_policy_check_walk(p, &vidmm_policy_eelru, sane, it, ctx, err, errlen);
}

const struct vidmm_policy_ops vidmm_policy_eelru = {
	.name = "eelru",
	.create = create,
	.destroy = destroy,
	.insert = insert,
	.remove = remove_alloc,
	.touch = touch,
	.next = next,
	.save = save,
	.load = load,
	.check = check,
};
