/*
 * "arc": the Adaptive Replacement Cache of N. Megiddo and D. S. Modha, "ARC: A
 * Self-Tuning, Low Overhead Replacement Cache", USENIX FAST 2003, over all the
 * segments together, in bytes, under D3DDDI priorities.
 *
 * ARC splits the cache between T1 (seen once recently) and T2 (seen at least
 * twice), remembers what each recently evicted (ghost lists B1, B2), and moves the
 * target size p of T1 toward whichever side's ghosts come back: a one-time scan
 * passes through T1 and leaves T2 alone, while a working set of single uses grows
 * T1. Where this differs from the paper, and why:
 *
 * - A use is a submission: touches with the same a->mark (make_resident, then the
 *   Render) count once, and an insert is not a use (creation and locks place
 *   allocations nobody has used; a submission's page-in is followed by its touch).
 *   A T1 allocation's first use marks it "seen"; its next use moves it to T2.
 * - Ghosts are not lists: an allocation outlives its eviction (it lives in its
 *   backing store) but may be destroyed at any time, and remove() cannot tell
 *   which happened. So the allocation keeps its own ghost entry: which list, and
 *   that list's clock (pages ever pushed into it) when it went. It is
 *   still in B1 if fewer than |B1| pages went in after it, as in an LRU list of
 *   |B1| pages, except that ghost hits do not make room. |B1| = c - |T1| and
 *   |B2| = c - |B1| (c: the pages the policy holds), ARC's bounds on a full
 *   cache; an allocation evicted before its first use leaves no ghost. A ghost
 *   nothing went in after is a move to another segment (remove, then insert at
 *   once): the allocation resumes its list and the clock goes back.
 * - One cache: the manager places where it can and evicts where it must (the
 *   segments are tried in an order of its own), so an allocation often leaves one
 *   segment and comes back into another. p, the lists' sizes and the ghosts are
 *   therefore the adapter's; only the queues are per segment.
 * - Sizes: lists and p count pages; a ghost hit moves p by the allocation's
 *   pages (times ARC's ratio |B2|/|B1| or |B1|/|B2| when that exceeds 1).
 * - Priorities: each (segment, priority) has its own T1 and T2 queues; a walk of
 *   a segment offers the lowest priority first, in each priority T1 before T2 when
 *   |T1| > p (ARC's REPLACE) and T2 before T1 otherwise.
 *
 * Costs (queue.h): a counted use moves the allocation to the back of a list (a
 * store into each neighbour and into the old tail); further touches by the same
 * submission read one field of the allocation. A removal unlinks it and writes its
 * own ghost entry. A CLOCK (CAR, Bansal and Modha, FAST 2004, is ARC's) would make
 * a use one bit, but ordering by the hand cost more than it saved on these
 * workloads (in a model of the bench's traces: frame 2.02 and 1.75 times MIN
 * against ARC's 1.93 and 1.75, Zipf 2.30 against 2.13, two phases 2.43 against
 * 2.24).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kmt/vidmm/vidmm.h"

/* pol_bits */
#define IN_T2      0x1u        /* held in T2 (else T1) */
#define SEEN       0x2u        /* in T1, used once since it came in */
#define GHOST_MASK 0xcu        /* 0 none, GHOST_B1, GHOST_B2 */
#define GHOST_B1   0x4u
#define GHOST_B2   0x8u
#define KNOWN_BITS (IN_T2 | SEEN | GHOST_MASK | VIDMM_POL_LOST)

struct bucket {                 /* one priority in one segment */
	struct vidmm_queue t[2];    /* T1, T2: least recently used at the head */
	uint32_t priority;
	struct bucket *next;        /* ascending priority */
};

struct arc {
	struct bucket *buckets[VIDMM_SEG_MAX];
	bool t1_first[VIDMM_SEG_MAX]; /* order of the walk in progress */
	uint64_t p;                 /* ARC's target for T1, pages */
	uint64_t t[2];              /* pages in T1 and T2 */
	uint64_t in[2];             /* pages ever pushed into B1, B2: the ghosts' clocks */
};

static uint64_t pages(const struct vidmm_alloc *a)
{
	return a->size >> HW_PAGE_SHIFT;
}

static void *create(void)
{
	return calloc(1, sizeof(struct arc));
}

static void destroy(void *p)
{
	struct arc *arc = p;
	if (!arc)
		return;
	for (int s = 0; s < VIDMM_SEG_MAX; s++)
		for (struct bucket *b = arc->buckets[s], *n; b; b = n) {
			n = b->next;
			vidmm_queue_fini(&b->t[0]);
			vidmm_queue_fini(&b->t[1]);
			free(b);
		}
	free(arc);
}

/* Few distinct priorities exist in practice (the five D3DDDI levels). */
static struct bucket *bucket_for(struct arc *arc, uint32_t seg, uint32_t prio)
{
	struct bucket **pp = &arc->buckets[seg];
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

static unsigned list_of(const struct vidmm_alloc *a)
{
	return a->pol_bits & IN_T2 ? 1 : 0;
}

/* Hold a in list l of its bucket (the policy's books follow). */
static void hold(struct arc *arc, struct vidmm_alloc *a, unsigned l)
{
	struct bucket *b = bucket_for(arc, a->seg, a->priority);
	a->pol_bits &= ~(IN_T2 | VIDMM_POL_LOST);
	if (!b) {
		a->pol_bits &= ~SEEN;
		a->pol_bits |= VIDMM_POL_LOST; /* never offered for eviction */
		return;
	}
	vidmm_queue_push(&b->t[l], a);
	a->pol_bucket = b;
	a->pol_bits |= l ? IN_T2 : 0;
	arc->t[l] += pages(a);
}

/* Let go of a (held); its bits other than the list stay. */
static void release(struct arc *arc, struct vidmm_alloc *a)
{
	struct bucket *b = a->pol_bucket;
	unsigned l = list_of(a);
	vidmm_queue_remove(&b->t[l], a);
	arc->t[l] -= pages(a);
	a->pol_bucket = NULL;
}

/* Ghost sizes as ARC's bounds on a full cache, or fewer while fewer went in. */
static void ghost_sizes(const struct arc *arc, uint64_t c, uint64_t *b1, uint64_t *b2)
{
	*b1 = c > arc->t[0] ? c - arc->t[0] : 0;
	if (*b1 > arc->in[0])
		*b1 = arc->in[0];
	*b2 = c > *b1 ? c - *b1 : 0;
	if (*b2 > arc->in[1])
		*b2 = arc->in[1];
}

static void insert(void *p, struct vidmm_alloc *a)
{
	struct arc *arc = p;
	uint32_t bits = a->pol_bits;
	if (a->pol_bucket) {
		/* Its priority changed: same list, same standing, another bucket. */
		unsigned l = list_of(a);
		release(arc, a);
		hold(arc, a, l);
		if (a->pol_bucket)
			a->pol_bits |= bits & SEEN;
		return;
	}
	a->pol_bits &= ~(SEEN | GHOST_MASK | IN_T2 | VIDMM_POL_LOST);
	if (!vidmm_policy_holds(a))
		return;
	uint64_t n = pages(a), c = arc->t[0] + arc->t[1] + n, b1, b2;
	unsigned l = 0, g = (bits & GHOST_MASK) == GHOST_B2;
	bool seen = false;
	ghost_sizes(arc, c, &b1, &b2);
	/* Pages pushed into its ghost list since it went, modulo 2^32. */
	uint32_t after = (uint32_t)arc->in[g] - a->pol_stamp;
	if (!(bits & GHOST_MASK)) {
		/* new, or moved before its first use */
	} else if (after == 0) {
		/* moved: it resumes its list, and the move leaves no trace */
		l = g;
		seen = !g;
		arc->in[g] -= n;
	} else if (!g && after < b1) {
		/* T1 gave it up too early: give T1 more room. */
		uint64_t d = b2 > b1 ? n * b2 / b1 : n;
		arc->p = arc->p + d < c ? arc->p + d : c;
		l = 1;
	} else if (g && after < b2) {
		uint64_t d = b1 > b2 ? n * b1 / b2 : n;
		arc->p = arc->p > d ? arc->p - d : 0;
		l = 1;
	}
	hold(arc, a, l);
	if (seen && a->pol_bucket)
		a->pol_bits |= SEEN;
}

static void remove_alloc(void *p, struct vidmm_alloc *a)
{
	struct arc *arc = p;
	if (!a->pol_bucket) {
		a->pol_bits &= ~VIDMM_POL_LOST;
		return;
	}
	unsigned l = list_of(a);
	bool ghost = l == 1 || (a->pol_bits & SEEN);
	release(arc, a);
	a->pol_bits &= ~(IN_T2 | SEEN | GHOST_MASK);
	if (ghost) {
		arc->in[l] += pages(a);
		a->pol_stamp = (uint32_t)arc->in[l];
		a->pol_bits |= l ? GHOST_B2 : GHOST_B1;
	}
}

static void touch(void *p, struct vidmm_alloc *a)
{
	struct arc *arc = p;
	if (!a->pol_bucket || a->mark == a->pol_mark)
		return;
	a->pol_mark = a->mark;
	unsigned l = list_of(a);
	bool seen = a->pol_bits & SEEN;
	release(arc, a);
	if (l == 0 && !seen) {
		hold(arc, a, 0);
		if (a->pol_bucket)
			a->pol_bits |= SEEN;
	} else {
		a->pol_bits &= ~SEEN;
		hold(arc, a, 1);
	}
}

static struct vidmm_alloc *first_in(const struct bucket *b, unsigned l)
{
	return vidmm_queue_first(&b->t[l]);
}

static struct vidmm_alloc *next(void *p, uint32_t seg, struct vidmm_alloc *after)
{
	struct arc *arc = p;
	if (seg < 1 || seg >= VIDMM_SEG_MAX)
		return NULL;
	const struct bucket *b;
	struct vidmm_alloc *n;
	if (!after) {
		arc->t1_first[seg] = arc->t[0] > 0 && arc->t[0] > arc->p;
		b = arc->buckets[seg];
	} else {
		/* The first list of the walk is T1 when t1_first. */
		unsigned first = arc->t1_first[seg] ? 0 : 1, l = list_of(after);
		b = after->pol_bucket;
		if ((n = vidmm_queue_next(&b->t[l], after)))
			return n;
		if (l == first && (n = first_in(b, !first)))
			return n;
		b = b->next;
	}
	for (unsigned first = arc->t1_first[seg] ? 0 : 1; b; b = b->next)
		if ((n = first_in(b, first)) || (n = first_in(b, !first)))
			return n;
	return NULL;
}

/* ---- snapshots and checks ------------------------------------------------------- */

/* Bits an allocation may carry: list bits only while held, a ghost only while
 * not; LOST only while held, alone. */
static bool sane(uint32_t b, bool held)
{
	if ((b & ~KNOWN_BITS) || (b & GHOST_MASK) == GHOST_MASK)
		return false;
	if (b & VIDMM_POL_LOST)
		return held && b == VIDMM_POL_LOST;
	if (held)
		return !(b & GHOST_MASK) && !((b & IN_T2) && (b & SEEN));
	return !(b & (IN_T2 | SEEN));
}

static bool bits_sane(const struct vidmm_alloc *a)
{
	return sane(a->pol_bits, vidmm_policy_holds(a));
}

static void save(void *p, struct vidmm_policy_io *io)
{
	struct arc *arc = p;
	vidmm_policy_save_fields(io);
	io->put(io->ctx, arc->p);
	io->put(io->ctx, arc->in[0]);
	io->put(io->ctx, arc->in[1]);
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++)
		for (unsigned l = 0; l < 2; l++) {
			uint64_t n = 0;
			for (const struct bucket *b = arc->buckets[s]; b; b = b->next)
				n += b->t[l].count;
			io->put(io->ctx, n);
			for (const struct bucket *b = arc->buckets[s]; b; b = b->next)
				for (struct vidmm_alloc *a = first_in(b, l); a; a = vidmm_queue_next(&b->t[l], a))
					io->put(io->ctx, io->index(io->ctx, a));
		}
}

static int load_lists(struct arc *arc, struct vidmm_policy_io *io, const uint32_t *bits, uint8_t *seen)
{
	uint64_t want[VIDMM_SEG_MAX] = { 0 };
	for (uint64_t i = 0; i < io->nallocs; i++) {
		struct vidmm_alloc *a = io->alloc(io->ctx, i);
		if (vidmm_policy_holds(a) && !(bits[i] & VIDMM_POL_LOST))
			want[a->seg]++;
	}
	uint64_t pv = io->get(io->ctx), in0 = io->get(io->ctx), in1 = io->get(io->ctx);
	if (io->apply) {
		arc->p = pv;
		arc->in[0] = in0;
		arc->in[1] = in1;
	}
	for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++) {
		uint64_t total = 0;
		for (unsigned l = 0; l < 2; l++) {
			uint64_t n = io->get(io->ctx);
			if (io->bad || n > want[s] - total)
				return vidmm_policy_fail(io, "ARC's lists of segment %u are cut short or too long", s);
			total += n;
			for (uint64_t k = 0; k < n; k++) {
				uint64_t i = io->get(io->ctx);
				struct vidmm_alloc *a = io->bad ? NULL : io->alloc(io->ctx, i);
				if (!a || a->seg != s || !vidmm_policy_holds(a) || (bits[i] & VIDMM_POL_LOST) ||
				    !(bits[i] & IN_T2) != !l || (seen[i / 8] & (1u << (i % 8))))
					return vidmm_policy_fail(io, "ARC's list T%u of segment %u is malformed",
								 l + 1, s);
				seen[i / 8] |= (uint8_t)(1u << (i % 8));
				if (io->apply)
					hold(arc, a, l); /* its bits, SEEN too, are the snapshot's already */
			}
		}
		if (total != want[s])
			return vidmm_policy_fail(io, "ARC's lists of segment %u hold %llu allocations, it has %llu",
						 s, (unsigned long long)total, (unsigned long long)want[s]);
	}
	return 0;
}

static int load(void *p, struct vidmm_policy_io *io)
{
	uint32_t *bits = calloc(io->nallocs + 1, sizeof(*bits));
	uint8_t *seen = calloc(io->nallocs / 8 + 1, 1);
	int rc = -ENOMEM;
	if (bits && seen && !(rc = vidmm_policy_load_fields(io, sane, bits)))
		rc = load_lists(p, io, bits, seen);
	free(bits);
	free(seen);
	return rc;
}

static int check(void *p, vidmm_alloc_iter it, void *ctx, char *err, size_t errlen)
{
	struct arc *arc = p;
	uint64_t t[2] = { 0, 0 };
	int rc;
	for (uint32_t s = 0; s < VIDMM_SEG_MAX; s++)
		for (const struct bucket *b = arc->buckets[s]; b; b = b->next) {
			if (b->next && b->next->priority <= b->priority)
				goto bad;
			for (unsigned l = 0; l < 2; l++) {
				if ((rc = vidmm_queue_check(&b->t[l], b, err, errlen)))
					return rc;
				for (struct vidmm_alloc *a = first_in(b, l); a; a = vidmm_queue_next(&b->t[l], a)) {
					if (a->seg != s || a->priority != b->priority || list_of(a) != l ||
					    !bits_sane(a))
						goto bad;
					t[l] += pages(a);
				}
			}
		}
	if (t[0] != arc->t[0] || t[1] != arc->t[1])
		goto bad;
	return vidmm_policy_check_walk(p, &vidmm_policy_arc, sane, it, ctx, err, errlen);
bad:
	if (err && errlen)
		snprintf(err, errlen, "ARC's lists disagree with their allocations or books");
	return -EFAULT;
}

const struct vidmm_policy_ops vidmm_policy_arc = {
	.name = "arc",
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
