/*
 * Segment sub-allocator: TLSF (two-level segregated fit) over granule units: O(1)
 * good-fit alloc and free with immediate coalescing. Blocks are 32-byte records in
 * one dense array named by index (an allocation's index is its id); the free blocks
 * of each size class are a stack of entries that carry everything alloc needs.
 */
#include "kmt/vidmm/suballoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Why this shape. The segment is tiled by blocks, each free or allocated, kept in
 * address order by links in each block's record, so that a free merges with its
 * neighbours in O(1) without searching. Free blocks are also filed in size
 * classes: the first level is the power of two of the size, the second splits each
 * power of two into 32 equal slices (sizes under 32 granules get a class each). A
 * bitmap of non-empty first levels and one of non-empty slices per level find the
 * smallest non-empty class at or above any size with two find-first-set
 * instructions, so alloc never walks a list or a tree: it rounds the request up to
 * the next class boundary, takes the first block of the first non-empty class from
 * there (every block in it fits) and splits off the rest. Classes are 1/32 of a
 * power of two wide, so the block taken is at most ~3% larger than the best fit
 * and the excess goes back as a free block: good fit at O(1).
 *
 * At 10^6 allocations the records (tens of MB) do not fit in cache, and the cost
 * of an operation is the cache misses on its critical path, so the layout is
 * built so that each operation reads at most one cold line in the usual case:
 *
 *  - free reads the freed block's own record (its id names it: one access) and a
 *    bitmap of allocated records (one bit per record, small enough to stay
 *    cached) that says whether a neighbour is free without reading it. Only a
 *    free neighbour, which must be merged, costs its record.
 *  - A class's free blocks are a stack of 32-byte entries (offset, length, id, the
 *    next block's id) in chunks of four, most recent on top, instead of a doubly
 *    linked list through the records. Pushing and popping touch only the top of
 *    the stack, which every recent push and pop of the class kept in cache; a
 *    linked list would write the old head's record on every push and the new
 *    head's on every pop, two cold lines. Taking a block therefore reads no
 *    record at all, and writes none when the block fits exactly (its record
 *    already says what it is: allocation only flips its bit); a split writes the
 *    records it changes. Removing a block from the middle of a stack (when it is
 *    merged) moves the top entry into its place, so each record keeps the index
 *    of its entry.
 *  - Released record slots are a stack of ids too, not a list through the slots.
 *
 * Free never allocates: the chunk pool is sized with the record array for the
 * most free blocks there can be (no two are adjacent, so at most half the
 * blocks, plus one part-filled chunk per class), and grows only in alloc, whose
 * callers can take -ENOMEM. Record 0 is always the block at offset 0 (a split
 * keeps the leading part in the old record, a merge keeps the lower record), a
 * fixed start for every address-order walk.
 *
 * Alignment above one granule: the fast path looks for a block of
 * size + align - 1 granules, which holds an aligned run wherever it starts; the
 * leading remainder becomes a free block of its own. Rounding up to a class
 * boundary (and the alignment slack) can skip blocks that would fit, so when the
 * fast path finds nothing, the classes between the request's own class and the
 * fast path's starting class are scanned entry by entry. That makes -ENOSPC exact
 * (the vidmm evicts on it, so a false one would cost real work), at a cost
 * proportional to those free blocks, paid only when the segment is nearly full or
 * the holes are small for the alignment asked.
 */

#define SL_LOG2 5u
#define SL_COUNT (1u << SL_LOG2)
#define FL_COUNT 64u            /* more than any 64-bit granule count needs */
#define NCLASS (FL_COUNT * SL_COUNT)

#define NIL 0xFFFFFFFFu         /* no record: end of a chain or a stack */
#define MAX_NODES 0xFFFFFFF0u   /* ids stay below NIL */
#define INITIAL_NODES 64u
#define CHUNK_LOG2 2u
#define PER_CHUNK (1u << CHUNK_LOG2) /* entries per 128-byte chunk */

/* The hot helpers are used from a few places each; inlining them all keeps the
 * alloc/free pair short. */
#define HOT static inline __attribute__((always_inline))

struct node {
	uint64_t off;           /* in granules */
	uint64_t len;           /* in granules; 0 for a released slot */
	uint32_t prev;          /* address-order neighbours, NIL at the ends */
	uint32_t next;
	uint32_t pos;           /* a free block: the index of its entry */
	uint32_t unused;
};

/* A free block as its class stack holds it: a copy of its record's fields, so that
 * alloc reads none. `next` cannot change while the block is filed: the block after
 * a free block is allocated, and it only changes by merging into this one, which
 * takes this one out of its class first. */
struct entry {
	uint64_t off, len;
	uint32_t id;
	uint32_t next;
	uint32_t below;         /* in a chunk's first entry: the chunk under it in its
				 * stack (NIL: bottom); in the pool's free list, the
				 * next free chunk. Unused in the others. */
	uint32_t unused;
};

/* Four entries: a power of two, so that naming entries by index costs shifts. */
struct chunk {
	struct entry e[PER_CHUNK];
};
_Static_assert(sizeof(struct chunk) == 128 && sizeof(struct chunk) == PER_CHUNK * sizeof(struct entry),
	       "a chunk is two cache lines of entries and nothing else");
_Static_assert(sizeof(struct node) == sizeof(struct vidmm_suballoc_node),
	       "the snapshot node is the node");

/* A class's stack; entries are named by index, chunk * PER_CHUNK + slot. */
struct stack {
	uint32_t top;           /* the entry taken first (when count > 0) */
	uint32_t count;
};

struct vidmm_suballoc {
	struct node *nodes;
	uint64_t *used_bits;    /* bit n: record n is an allocated block */
	uint32_t *spare;        /* released slots, reused from the end */
	struct chunk *chunks;
	uint32_t cap;           /* records (and bits, and spare room) */
	uint32_t fresh;         /* slots [fresh, cap) have never been used */
	uint32_t nspare;
	uint32_t hint;          /* where alloc_at starts looking: its last placement */
	uint32_t chunk_cap;     /* chunks allocated */
	uint32_t chunk_fresh;   /* chunks [chunk_fresh, chunk_cap) never used */
	uint32_t chunk_free;    /* released chunks, a list through `below` */
	unsigned shift;         /* log2(granule) */
	uint64_t pages;         /* segment size, granules */
	uint64_t used;          /* allocated granules */
	uint64_t nalloc;        /* allocated blocks */
	uint64_t nfree;         /* free blocks */
	uint64_t fl_map;        /* bit f: some class (f, *) is non-empty */
	uint32_t sl_map[FL_COUNT];      /* bit s of [f]: class (f, s) is non-empty */
	struct stack cls[NCLASS];
};

/* ---- small helpers ------------------------------------------------------ */

static inline unsigned log2_floor(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

static inline bool used_test(const struct vidmm_suballoc *sa, uint32_t n)
{
	return (sa->used_bits[n >> 6] >> (n & 63)) & 1;
}

static inline void used_set(struct vidmm_suballoc *sa, uint32_t n)
{
	sa->used_bits[n >> 6] |= 1ull << (n & 63);
}

static inline void used_clear(struct vidmm_suballoc *sa, uint32_t n)
{
	sa->used_bits[n >> 6] &= ~(1ull << (n & 63));
}

/*
 * The class (fl, sl) a block of len granules (> 0) is filed in: sizes below
 * SL_COUNT get fl 0 and sl = len; above, fl counts powers of two from SL_COUNT on
 * (1 + log2(len) - SL_LOG2) and sl is the next SL_LOG2 bits below the top one.
 * Written without branches: len is often a value just loaded from a cold record,
 * and a mispredicted branch on it would throw away the work done meanwhile.
 */
static inline void mapping(uint64_t len, unsigned *fl, unsigned *sl)
{
	*fl = log2_floor(len | (SL_COUNT - 1)) - (SL_LOG2 - 1);
	*sl = (unsigned)(len >> (log2_floor(len | SL_COUNT) - SL_LOG2)) & (SL_COUNT - 1);
}

/*
 * The first class all of whose blocks are >= len: round len up to a class
 * boundary, then map. False when rounding overflows (no block can be that big).
 */
static inline bool class_at_least(uint64_t len, unsigned *fl, unsigned *sl)
{
	if (len >= SL_COUNT) {
		uint64_t step = 1ull << (log2_floor(len) - SL_LOG2);
		uint64_t r = len + (step - 1);
		if (r < len)
			return false;
		len = r & ~(step - 1);
	}
	mapping(len, fl, sl);
	return true;
}

/* Move (fl, sl) to the first non-empty class at or above it; false if none. */
static inline bool next_class(const struct vidmm_suballoc *sa, unsigned *fl, unsigned *sl)
{
	uint32_t m = *sl < SL_COUNT ? sa->sl_map[*fl] & (~0u << *sl) : 0;

	if (!m) {
		if (*fl + 1 >= FL_COUNT)
			return false;
		uint64_t f = sa->fl_map & (~0ull << (*fl + 1));
		if (!f)
			return false;
		*fl = (unsigned)__builtin_ctzll(f);
		m = sa->sl_map[*fl];
	}
	*sl = (unsigned)__builtin_ctz(m);
	return true;
}

HOT struct entry *entry_at(const struct vidmm_suballoc *sa, uint32_t g)
{
	/* Chunks are their entries end to end: entry g is the g-th of the pool. */
	return (struct entry *)sa->chunks + g;
}

/* The entry under g in its stack (g must not be the bottom one). */
HOT uint32_t entry_below(const struct vidmm_suballoc *sa, uint32_t g)
{
	if (g & (PER_CHUNK - 1))
		return g - 1;
	return sa->chunks[g >> CHUNK_LOG2].e[0].below << CHUNK_LOG2 | (PER_CHUNK - 1);
}

/* ---- class stacks ------------------------------------------------------- */

/* A chunk for a stack: a released one (recently used, so likely cached), else one
 * never used. The pool always has one (see chunks_needed). */
HOT uint32_t chunk_take(struct vidmm_suballoc *sa)
{
	uint32_t c = sa->chunk_free;

	if (c == NIL)
		return sa->chunk_fresh++;
	sa->chunk_free = sa->chunks[c].e[0].below;
	return c;
}

HOT void chunk_put(struct vidmm_suballoc *sa, uint32_t c)
{
	sa->chunks[c].e[0].below = sa->chunk_free;
	sa->chunk_free = c;
}

/* File free block n (off, len, followed by block next) on top of its class. */
HOT void class_push(struct vidmm_suballoc *sa, uint32_t n, uint64_t off, uint64_t len, uint32_t next)
{
	unsigned fl, sl;

	mapping(len, &fl, &sl);
	struct stack *st = &sa->cls[fl * SL_COUNT + sl];
	uint32_t g;
	if (st->count == 0 || (st->top & (PER_CHUNK - 1)) == PER_CHUNK - 1) {
		uint32_t c = chunk_take(sa);
		sa->chunks[c].e[0].below = st->count ? st->top >> CHUNK_LOG2 : NIL;
		g = c << CHUNK_LOG2;
	} else {
		g = st->top + 1;
	}
	if (st->count++ == 0) {
		sa->sl_map[fl] |= 1u << sl;
		sa->fl_map |= 1ull << fl;
	}
	st->top = g;
	struct entry *e = entry_at(sa, g);
	e->off = off;
	e->len = len;
	e->id = n;
	e->next = next;
	sa->nodes[n].pos = g;
	sa->nfree++;
}

/* Take entry g out of class (fl, sl): the top entry moves into its place. */
HOT void class_remove(struct vidmm_suballoc *sa, uint32_t g, unsigned fl, unsigned sl)
{
	struct stack *st = &sa->cls[fl * SL_COUNT + sl];
	uint32_t t = st->top;

	if (g != t) {
		/* Field by field: a chunk's first entry also holds the chunk's link. */
		const struct entry *e = entry_at(sa, t);
		struct entry *d = entry_at(sa, g);
		d->off = e->off;
		d->len = e->len;
		d->id = e->id;
		d->next = e->next;
		sa->nodes[e->id].pos = g;
	}
	if (--st->count == 0) {
		chunk_put(sa, t >> CHUNK_LOG2);
		sa->sl_map[fl] &= ~(1u << sl);
		if (!sa->sl_map[fl])
			sa->fl_map &= ~(1ull << fl);
	} else if ((t & (PER_CHUNK - 1)) == 0) {
		st->top = entry_below(sa, t);
		chunk_put(sa, t >> CHUNK_LOG2);
	} else {
		st->top = t - 1;
	}
	sa->nfree--;
}

/* Take free block n (whose record is at hand) out of its class. */
HOT void unfile(struct vidmm_suballoc *sa, const struct node *b)
{
	unsigned fl, sl;

	mapping(b->len, &fl, &sl);
	class_remove(sa, b->pos, fl, sl);
}

/* ---- record slots ------------------------------------------------------- */

/* A released slot reads as nothing, so that equal states are equal data. */
static void slot_put(struct vidmm_suballoc *sa, uint32_t n)
{
	struct node *b = &sa->nodes[n];

	b->off = 0;
	b->len = 0;
	b->prev = NIL;
	b->next = NIL;
	b->pos = 0;
	sa->spare[sa->nspare++] = n;
}

/* A released slot if there is one, else the next never-used one, which needs no
 * read at all. Needs slot_reserve first. */
HOT uint32_t slot_take(struct vidmm_suballoc *sa)
{
	return sa->nspare ? sa->spare[--sa->nspare] : sa->fresh++;
}

/* Chunks enough for every stack when cap records are all blocks: at most half the
 * blocks are free, in full chunks plus one part-filled chunk per class. */
static uint64_t chunks_needed(uint64_t cap)
{
	uint64_t nfree = cap / 2 + 1;
	return nfree / PER_CHUNK + 1 + (nfree < NCLASS ? nfree : NCLASS);
}

/*
 * Memory for the record and chunk arrays (bytes is a multiple of 64): cache-line
 * aligned, so that no record or entry straddles more lines than it must (glibc's
 * realloc of large blocks returns addresses 16 bytes past a page boundary: half
 * the records would cost two misses).
 */
static void *aligned_array(size_t bytes)
{
	return aligned_alloc(64, bytes);
}

/* Room for ncap records and the chunks they may need; nothing changes on -ENOMEM
 * except capacity already gained. */
static int grow_to(struct vidmm_suballoc *sa, uint64_t ncap)
{
	if (ncap > MAX_NODES || ncap > SIZE_MAX / sizeof(struct node))
		return -ENOMEM;
	uint64_t nchunks = chunks_needed(ncap);
	if (nchunks > sa->chunk_cap) {
		if (nchunks * PER_CHUNK > NIL || nchunks > SIZE_MAX / sizeof(struct chunk))
			return -ENOMEM;
		struct chunk *c = aligned_array((size_t)nchunks * sizeof(struct chunk));
		if (!c)
			return -ENOMEM;
		if (sa->chunk_fresh)
			memcpy(c, sa->chunks, (size_t)sa->chunk_fresh * sizeof(struct chunk));
		free(sa->chunks);
		sa->chunks = c;
		sa->chunk_cap = (uint32_t)nchunks;
	}
	if (ncap <= sa->cap)
		return 0;
	size_t oldw = ((size_t)sa->cap + 63) / 64, neww = ((size_t)ncap + 63) / 64;
	uint64_t *bits = realloc(sa->used_bits, neww * sizeof(uint64_t));
	if (!bits)
		return -ENOMEM;
	memset(bits + oldw, 0, (neww - oldw) * sizeof(uint64_t));
	sa->used_bits = bits;
	uint32_t *spare = realloc(sa->spare, (size_t)ncap * sizeof(uint32_t));
	if (!spare)
		return -ENOMEM;
	sa->spare = spare;
	struct node *p = aligned_array((size_t)ncap * sizeof(struct node));
	if (!p)
		return -ENOMEM;
	if (sa->fresh)
		memcpy(p, sa->nodes, (size_t)sa->fresh * sizeof(struct node));
	free(sa->nodes);
	sa->nodes = p;
	sa->cap = (uint32_t)ncap;
	return 0;
}

/* Double the arrays so that k slots can be taken. */
static __attribute__((noinline)) int slot_grow(struct vidmm_suballoc *sa, uint32_t k)
{
	if (sa->cap >= MAX_NODES)
		return -ENOMEM;
	uint64_t ncap = (uint64_t)sa->cap * 2;
	if (ncap > MAX_NODES)
		ncap = MAX_NODES;
	int r = grow_to(sa, ncap);
	if (r)
		return r;
	return sa->nspare + (uint64_t)(sa->cap - sa->fresh) >= k ? 0 : -ENOMEM;
}

/* Make sure k slots can be taken. */
HOT int slot_reserve(struct vidmm_suballoc *sa, uint32_t k)
{
	if (sa->nspare + (uint64_t)(sa->cap - sa->fresh) >= k)
		return 0;
	return slot_grow(sa, k);
}

/* ---- carving ------------------------------------------------------------ */

/*
 * Allocate [pos, pos + s) out of free block n = [off, off + len), followed by
 * block next, already out of its class. The leading and trailing remainders go
 * back to their classes as blocks of their own. Needs two spare slots. Returns the
 * allocated record. An exact fit writes no record: n's already describes it.
 */
HOT uint32_t carve(struct vidmm_suballoc *sa, uint32_t n, uint64_t off, uint64_t len, uint32_t next,
		   uint64_t pos, uint64_t s)
{
	struct node *nodes = sa->nodes;
	uint32_t a = n;

	if (pos > off) {
		/* n keeps the lead; the rest moves to a new record. */
		uint32_t t = slot_take(sa);
		uint64_t lead = pos - off;
		nodes[t].off = pos;
		nodes[t].len = len - lead;
		nodes[t].prev = n;
		nodes[t].next = next;
		if (next != NIL)
			nodes[next].prev = t;
		nodes[n].len = lead;
		nodes[n].next = t;
		class_push(sa, n, off, lead, t);
		a = t;
		len -= lead;
	}
	if (len > s) {
		uint32_t r = slot_take(sa);
		nodes[r].off = pos + s;
		nodes[r].len = len - s;
		nodes[r].prev = a;
		nodes[r].next = next;
		if (next != NIL)
			nodes[next].prev = r;
		nodes[a].len = s;
		nodes[a].next = r;
		class_push(sa, r, pos + s, len - s, next);
	}
	used_set(sa, a);
	sa->used += s;
	sa->nalloc++;
	return a;
}

/* ---- placement ---------------------------------------------------------- */

/* Does [off, off + len) hold s granules at an a-aligned offset? Sets *pos if so. */
static inline bool block_fits(uint64_t off, uint64_t len, uint64_t s, uint64_t a, uint64_t *pos)
{
	uint64_t lead = (0 - off) & (a - 1);

	if (len < s || lead > len - s)
		return false;
	*pos = off + lead;
	return true;
}

/*
 * Exact fallback: scan, entry by entry, the classes from the one holding s up to
 * (not including) the fast path's first class (ffl, fsl), or to the top when the
 * fast path had none (ffl == FL_COUNT). Returns the entry, or NIL.
 */
static __attribute__((noinline)) uint32_t
find_block_slow(const struct vidmm_suballoc *sa, uint64_t s, uint64_t a,
		unsigned ffl, unsigned fsl, uint64_t *pos, unsigned *cfl, unsigned *csl)
{
	unsigned fl, sl;

	mapping(s, &fl, &sl);
	while (next_class(sa, &fl, &sl)) {
		if (fl > ffl || (fl == ffl && sl >= fsl))
			break;
		const struct stack *st = &sa->cls[fl * SL_COUNT + sl];
		uint32_t g = st->top;
		for (uint32_t k = 0; k < st->count; k++) {
			const struct entry *e = entry_at(sa, g);
			if (block_fits(e->off, e->len, s, a, pos)) {
				*cfl = fl;
				*csl = sl;
				return g;
			}
			if (k + 1 < st->count)
				g = entry_below(sa, g);
		}
		sl++;
	}
	return NIL;
}

/*
 * Find a free block that holds s granules at an a-aligned offset: its entry, or
 * NIL if none. Sets *pos to that offset and (*cfl, *csl) to the block's class.
 */
HOT uint32_t find_block(const struct vidmm_suballoc *sa, uint64_t s, uint64_t a, uint64_t *pos,
			unsigned *cfl, unsigned *csl)
{
	unsigned ffl = FL_COUNT, fsl = 0, fl, sl;

	/* Fast path: any block of s + a - 1 granules holds an aligned run. */
	if (a - 1 <= sa->pages - s && class_at_least(s + (a - 1), &ffl, &fsl)) {
		fl = ffl;
		sl = fsl;
		if (next_class(sa, &fl, &sl)) {
			uint32_t g = sa->cls[fl * SL_COUNT + sl].top;
			uint64_t off = entry_at(sa, g)->off;
			*pos = off + ((0 - off) & (a - 1));
			*cfl = fl;
			*csl = sl;
			return g;
		}
	} else {
		ffl = FL_COUNT;
	}
	return find_block_slow(sa, s, a, ffl, fsl, pos, cfl, csl);
}

/* Validate size/align and convert them to granules. */
static int prepare(const struct vidmm_suballoc *sa, uint64_t size, uint64_t align,
		   uint64_t *s, uint64_t *a)
{
	uint64_t gmask = (1ull << sa->shift) - 1;

	if (size == 0 || (align & (align - 1)))
		return -EINVAL;
	*s = (size >> sa->shift) + ((size & gmask) != 0);
	if (*s > sa->pages)
		return -EINVAL;
	*a = align > gmask + 1 ? align >> sa->shift : 1;
	return 0;
}

/* ---- API ---------------------------------------------------------------- */

/* An allocator with no block yet (from_state fills it in). */
static int create_empty(uint64_t size, uint64_t granule, uint64_t cap, struct vidmm_suballoc **out)
{
	*out = NULL;
	if (granule == 0 || (granule & (granule - 1)) || size == 0 || (size & (granule - 1)))
		return -EINVAL;
	struct vidmm_suballoc *sa = calloc(1, sizeof(*sa));
	if (!sa)
		return -ENOMEM;
	sa->chunk_free = NIL;
	sa->shift = log2_floor(granule);
	sa->pages = size >> sa->shift;
	if (grow_to(sa, cap)) {
		vidmm_suballoc_destroy(sa);
		return -ENOMEM;
	}
	*out = sa;
	return 0;
}

int vidmm_suballoc_create(uint64_t size, uint64_t granule, struct vidmm_suballoc **out)
{
	if (!out)
		return -EINVAL;
	int r = create_empty(size, granule, INITIAL_NODES, out);
	if (r)
		return r;
	struct vidmm_suballoc *sa = *out;
	struct node *b = &sa->nodes[0];
	sa->fresh = 1;
	b->off = 0;
	b->len = sa->pages;
	b->prev = NIL;
	b->next = NIL;
	class_push(sa, 0, 0, sa->pages, NIL);
	return 0;
}

void vidmm_suballoc_destroy(struct vidmm_suballoc *sa)
{
	if (!sa)
		return;
	free(sa->nodes);
	free(sa->used_bits);
	free(sa->spare);
	free(sa->chunks);
	free(sa);
}

/* Take [pos, pos + s) from the free block of entry g (class fl, sl) when it leaves
 * remainders, which need records: grown first, so that a refusal changes nothing. */
static __attribute__((noinline)) int alloc_carve(struct vidmm_suballoc *sa, uint32_t g, unsigned fl,
						 unsigned sl, uint64_t pos, uint64_t s, uint32_t *id)
{
	struct entry e = *entry_at(sa, g);
	int r = slot_reserve(sa, (e.off != pos) + (e.off + e.len != pos + s));
	if (r)
		return r;
	class_remove(sa, g, fl, sl);
	*id = carve(sa, e.id, e.off, e.len, e.next, pos, s);
	return 0;
}

int vidmm_suballoc_alloc(struct vidmm_suballoc *sa, uint64_t size, uint64_t align,
			 uint32_t *id, uint64_t *offset)
{
	uint64_t s, a, pos;
	unsigned fl, sl;
	int r;

	if (!sa || !id)
		return -EINVAL;
	r = prepare(sa, size, align, &s, &a);
	if (r)
		return r;
	uint32_t g = find_block(sa, s, a, &pos, &fl, &sl);
	if (g == NIL)
		return -ENOSPC;
	const struct entry *e = entry_at(sa, g);
	if (e->off == pos && e->len == s) {
		/* An exact fit, the usual case at scale (a block freed earlier is
		 * taken whole): its record already describes it, only its bit flips. */
		uint32_t n = e->id;
		class_remove(sa, g, fl, sl);
		used_set(sa, n);
		sa->used += s;
		sa->nalloc++;
		*id = n;
	} else {
		r = alloc_carve(sa, g, fl, sl, pos, s, id);
		if (r)
			return r;
	}
	if (offset)
		*offset = pos << sa->shift;
	return 0;
}

/* The block holding granule p, walking the address chain from the last placement. */
static uint32_t locate(const struct vidmm_suballoc *sa, uint64_t p)
{
	uint32_t n = sa->hint;

	if (n >= sa->fresh || sa->nodes[n].len == 0)
		n = 0;
	while (p < sa->nodes[n].off)
		n = sa->nodes[n].prev;
	while (p - sa->nodes[n].off >= sa->nodes[n].len)
		n = sa->nodes[n].next;
	return n;
}

int vidmm_suballoc_alloc_at(struct vidmm_suballoc *sa, uint64_t offset, uint64_t size,
			    uint32_t *id)
{
	uint64_t gmask, p, s;
	int r;

	if (!sa || !id)
		return -EINVAL;
	gmask = (1ull << sa->shift) - 1;
	if (size == 0 || (offset & gmask))
		return -EINVAL;
	p = offset >> sa->shift;
	s = (size >> sa->shift) + ((size & gmask) != 0);
	if (p >= sa->pages || s > sa->pages - p)
		return -EINVAL;
	r = slot_reserve(sa, 2);
	if (r)
		return r;

	uint32_t n = locate(sa, p);
	const struct node b = sa->nodes[n];
	/* No two free blocks touch, so a range not inside one free block is busy. */
	if (used_test(sa, n) || s > b.off + b.len - p)
		return -EBUSY;
	unfile(sa, &b);
	*id = carve(sa, n, b.off, b.len, b.next, p, s);
	sa->hint = *id;
	return 0;
}

/* Free block id (already off the allocated bitmap and counters) when a neighbour
 * is free too: merge into the lower record. Out of line, so that the usual free,
 * with allocated neighbours at scale, stays short. */
static __attribute__((noinline)) void free_merge(struct vidmm_suballoc *sa, uint32_t id)
{
	struct node *nodes = sa->nodes;
	uint32_t lo = id;       /* the record that ends up holding the free block */
	uint32_t prev = nodes[id].prev, next = nodes[id].next;
	uint64_t off = nodes[id].off, len = nodes[id].len;

	if (prev != NIL && !used_test(sa, prev)) {
		unfile(sa, &nodes[prev]);
		off = nodes[prev].off;
		len += nodes[prev].len;
		slot_put(sa, id);
		lo = prev;
	}
	if (next != NIL && !used_test(sa, next)) {
		uint32_t after = nodes[next].next;
		unfile(sa, &nodes[next]);
		len += nodes[next].len;
		slot_put(sa, next);
		next = after;
	}
	nodes[lo].len = len;
	nodes[lo].next = next;
	if (next != NIL)
		nodes[next].prev = lo;
	class_push(sa, lo, off, len, next);
}

int vidmm_suballoc_free(struct vidmm_suballoc *sa, uint32_t id)
{
	if (!sa || id >= sa->cap || !used_test(sa, id))
		return -EINVAL;

	const struct node *b = &sa->nodes[id];
	uint32_t prev = b->prev, next = b->next;

	used_clear(sa, id);
	sa->used -= b->len;
	sa->nalloc--;
	/* Neighbours' states come from the bitmap: no neighbour record is read
	 * unless it is free and gets merged. */
	if ((prev != NIL && !used_test(sa, prev)) || (next != NIL && !used_test(sa, next)))
		free_merge(sa, id);
	else
		class_push(sa, id, b->off, b->len, next);
	return 0;
}

uint64_t vidmm_suballoc_offset(const struct vidmm_suballoc *sa, uint32_t id)
{
	if (!sa || id >= sa->cap || !used_test(sa, id))
		return UINT64_MAX;
	return sa->nodes[id].off << sa->shift;
}

uint64_t vidmm_suballoc_size(const struct vidmm_suballoc *sa, uint32_t id)
{
	if (!sa || id >= sa->cap || !used_test(sa, id))
		return 0;
	return sa->nodes[id].len << sa->shift;
}

/* Largest free block, granules: the top non-empty class, then a scan of its stack. */
static uint64_t largest_free(const struct vidmm_suballoc *sa)
{
	uint64_t best = 0;

	if (!sa->fl_map)
		return 0;
	unsigned fl = log2_floor(sa->fl_map);
	unsigned sl = 31u - (unsigned)__builtin_clz(sa->sl_map[fl]);
	const struct stack *st = &sa->cls[fl * SL_COUNT + sl];
	uint32_t g = st->top;
	for (uint32_t k = 0; k < st->count; k++) {
		if (entry_at(sa, g)->len > best)
			best = entry_at(sa, g)->len;
		if (k + 1 < st->count)
			g = entry_below(sa, g);
	}
	return best;
}

void vidmm_suballoc_get_stats(const struct vidmm_suballoc *sa, struct vidmm_suballoc_stats *st)
{
	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	if (!sa)
		return;
	uint64_t freep = sa->pages - sa->used, largest = largest_free(sa);
	st->size = sa->pages << sa->shift;
	st->used = sa->used << sa->shift;
	st->free = freep << sa->shift;
	st->largest_free = largest << sa->shift;
	st->free_blocks = sa->nfree;
	st->allocations = sa->nalloc;
	st->fragmentation = freep ? 1.0 - (double)largest / (double)freep : 0.0;
}

bool vidmm_suballoc_can_alloc(const struct vidmm_suballoc *sa, uint64_t size, uint64_t align)
{
	uint64_t s, a, pos;
	unsigned fl, sl;

	if (!sa || prepare(sa, size, align, &s, &a))
		return false;
	return find_block(sa, s, a, &pos, &fl, &sl) != NIL;
}

int vidmm_suballoc_foreach(const struct vidmm_suballoc *sa,
			   int (*fn)(void *opaque, uint32_t id, uint64_t offset, uint64_t size),
			   void *opaque)
{
	if (!sa || !fn)
		return -EINVAL;
	for (uint32_t n = 0; n != NIL; n = sa->nodes[n].next) {
		const struct node *b = &sa->nodes[n];
		if (used_test(sa, n)) {
			int r = fn(opaque, n, b->off << sa->shift, b->len << sa->shift);
			if (r)
				return r;
		}
	}
	return 0;
}

#define CHECK_FAIL(...)                                       \
	do {                                                  \
		if (err && errlen)                            \
			snprintf(err, errlen, __VA_ARGS__);   \
		return -EFAULT;                               \
	} while (0)

int vidmm_suballoc_check(const struct vidmm_suballoc *sa, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!sa)
		CHECK_FAIL("the allocator is NULL.");
	if (sa->cap == 0 || !sa->nodes || !sa->used_bits || !sa->spare || !sa->chunks)
		CHECK_FAIL("the record arrays are missing.");
	if (sa->fresh == 0 || sa->fresh > sa->cap)
		CHECK_FAIL("%u slots are in use out of %u.", sa->fresh, sa->cap);
	if (sa->chunk_cap < chunks_needed(sa->cap) || sa->chunk_fresh > sa->chunk_cap)
		CHECK_FAIL("%u chunks are in use out of %u, for %u records.", sa->chunk_fresh,
			   sa->chunk_cap, sa->cap);

	/* The address chain tiles [0, pages); each free block's entry describes it. */
	uint64_t expect = 0, used = 0, nalloc = 0, nfree = 0, blocks = 0;
	uint64_t entries = (uint64_t)sa->chunk_fresh * PER_CHUNK;
	uint32_t prev = NIL;
	bool prev_free = false;
	for (uint32_t n = 0; n != NIL; prev = n, n = sa->nodes[n].next) {
		if (n >= sa->fresh)
			CHECK_FAIL("block after node %u links to node %u, beyond the %u slots used.",
				   prev, n, sa->fresh);
		if (++blocks > sa->fresh)
			CHECK_FAIL("the address chain has a cycle.");
		const struct node *b = &sa->nodes[n];
		if (b->prev != prev)
			CHECK_FAIL("node %u's previous-block link is %u, expected %u.", n, b->prev, prev);
		if (b->off != expect)
			CHECK_FAIL("node %u starts at granule %llu, expected %llu (gap or overlap).",
				   n, (unsigned long long)b->off, (unsigned long long)expect);
		if (b->len == 0 || b->len > sa->pages - b->off)
			CHECK_FAIL("node %u has length %llu at granule %llu, outside the segment.",
				   n, (unsigned long long)b->len, (unsigned long long)b->off);
		expect += b->len;
		bool is_free = !used_test(sa, n);
		if (is_free) {
			if (prev_free)
				CHECK_FAIL("free blocks %u and %u are adjacent (not coalesced).", prev, n);
			if (b->pos >= entries)
				CHECK_FAIL("free node %u names entry %u, beyond the chunks used.", n, b->pos);
			const struct entry *e = entry_at(sa, b->pos);
			if (e->id != n)
				CHECK_FAIL("free node %u names entry %u, which holds node %u.", n, b->pos, e->id);
			if (e->off != b->off || e->len != b->len || e->next != b->next)
				CHECK_FAIL("free node %u's entry disagrees with it.", n);
			nfree++;
		} else {
			used += b->len;
			nalloc++;
		}
		prev_free = is_free;
	}

	if (expect != sa->pages)
		CHECK_FAIL("blocks end at granule %llu, the segment at %llu.",
			   (unsigned long long)expect, (unsigned long long)sa->pages);
	if (used != sa->used)
		CHECK_FAIL("blocks hold %llu allocated granules, the counter says %llu.",
			   (unsigned long long)used, (unsigned long long)sa->used);
	if (nalloc != sa->nalloc)
		CHECK_FAIL("there are %llu allocated blocks, the counter says %llu.",
			   (unsigned long long)nalloc, (unsigned long long)sa->nalloc);
	if (nfree != sa->nfree)
		CHECK_FAIL("there are %llu free blocks, the counter says %llu.",
			   (unsigned long long)nfree, (unsigned long long)sa->nfree);

	/* The class stacks hold exactly the free blocks, each in its class; every
	 * chunk is in one stack or in the pool. */
	uint64_t listed = 0, chunks = 0;
	for (unsigned fl = 0; fl < FL_COUNT; fl++) {
		if (!!(sa->fl_map & (1ull << fl)) != (sa->sl_map[fl] != 0))
			CHECK_FAIL("first-level bit %u disagrees with its second-level bitmap.", fl);
		for (unsigned sl = 0; sl < SL_COUNT; sl++) {
			const struct stack *st = &sa->cls[fl * SL_COUNT + sl];
			if (!!(sa->sl_map[fl] & (1u << sl)) != (st->count != 0))
				CHECK_FAIL("bitmap bit of class (%u,%u) disagrees with its stack.", fl, sl);
			if (!st->count)
				continue;
			if (st->count > nfree - listed)
				CHECK_FAIL("the class stacks hold more entries than the %llu free blocks.",
					   (unsigned long long)nfree);
			/* Every chunk under the top one is full. */
			if (st->count < st->top % PER_CHUNK + 1 ||
			    (st->count - 1 - st->top % PER_CHUNK) % PER_CHUNK)
				CHECK_FAIL("class (%u,%u) holds %u entries with its top at slot %u.",
					   fl, sl, st->count, st->top % PER_CHUNK);
			uint32_t g = st->top;
			for (uint32_t k = 0; k < st->count; k++) {
				if (g / PER_CHUNK >= sa->chunk_fresh)
					CHECK_FAIL("class (%u,%u) reaches chunk %u, beyond the chunks used.",
						   fl, sl, g / PER_CHUNK);
				if (k == 0 || g % PER_CHUNK == PER_CHUNK - 1)
					chunks++;
				const struct entry *e = entry_at(sa, g);
				unsigned f, s;
				if (e->id >= sa->fresh || used_test(sa, e->id) || sa->nodes[e->id].len == 0 ||
				    sa->nodes[e->id].pos != g)
					CHECK_FAIL("class (%u,%u) lists node %u, which is not a free block filed there.",
						   fl, sl, e->id);
				mapping(e->len, &f, &s);
				if (f != fl || s != sl)
					CHECK_FAIL("node %u of length %llu is in class (%u,%u), belongs in (%u,%u).",
						   e->id, (unsigned long long)e->len, fl, sl, f, s);
				if (k + 1 < st->count)
					g = entry_below(sa, g);
			}
			if (g % PER_CHUNK || sa->chunks[g / PER_CHUNK].e[0].below != NIL)
				CHECK_FAIL("class (%u,%u)'s bottom entry is not at the bottom of its stack.",
					   fl, sl);
			listed += st->count;
		}
	}
	if (listed != nfree)
		CHECK_FAIL("the class stacks hold %llu blocks, the address chain %llu free ones.",
			   (unsigned long long)listed, (unsigned long long)nfree);
	uint64_t pooled = 0;
	for (uint32_t c = sa->chunk_free; c != NIL; c = sa->chunks[c].e[0].below) {
		if (c >= sa->chunk_fresh)
			CHECK_FAIL("the free chunk list links to chunk %u, beyond the chunks used.", c);
		if (++pooled > sa->chunk_fresh)
			CHECK_FAIL("the free chunk list has a cycle.");
	}
	if (chunks + pooled != sa->chunk_fresh)
		CHECK_FAIL("%llu chunks in stacks and %llu free do not add up to the %u used.",
			   (unsigned long long)chunks, (unsigned long long)pooled, sa->chunk_fresh);

	/* The bitmap marks exactly the allocated blocks: the chain found nalloc of
	 * them marked, and no other bit is set. */
	uint64_t bits = 0;
	for (uint32_t w = 0; w < (sa->cap + 63) / 64; w++)
		bits += (uint64_t)__builtin_popcountll(sa->used_bits[w]);
	if (bits != nalloc)
		CHECK_FAIL("%llu bitmap bits are set for %llu allocated blocks.",
			   (unsigned long long)bits, (unsigned long long)nalloc);

	/* Every slot used so far is either a block or released. */
	if (sa->nspare > sa->fresh)
		CHECK_FAIL("%u released slots, more than the %u used.", sa->nspare, sa->fresh);
	for (uint32_t k = 0; k < sa->nspare; k++) {
		uint32_t n = sa->spare[k];
		const struct node *b = &sa->nodes[n < sa->fresh ? n : 0];
		if (n >= sa->fresh)
			CHECK_FAIL("released slot %u is beyond the slots used.", n);
		if (b->len || b->off || b->prev != NIL || b->next != NIL || used_test(sa, n))
			CHECK_FAIL("node %u is released but is a block.", n);
	}
	if (sa->nspare + blocks != sa->fresh)
		CHECK_FAIL("%llu blocks and %u released slots do not add up to the %u slots used (leak).",
			   (unsigned long long)blocks, sa->nspare, sa->fresh);
	return 0;
}

/* ---- snapshots ------------------------------------------------------------ */

_Static_assert(FL_COUNT == 64 && SL_COUNT == 32, "the snapshot state has 64 x 32 classes");

uint64_t vidmm_suballoc_state_ids(const struct vidmm_suballoc *sa)
{
	return sa->nfree + sa->nspare;
}

void vidmm_suballoc_get_state(const struct vidmm_suballoc *sa, struct vidmm_suballoc_state *st,
			      uint32_t *order)
{
	memset(st, 0, sizeof(*st));
	st->pages = sa->pages;
	st->fresh = sa->fresh;
	st->nspare = sa->nspare;
	st->used = sa->used;
	st->nalloc = sa->nalloc;
	st->nfree = sa->nfree;
	st->nodes = (const struct vidmm_suballoc_node *)sa->nodes;
	st->order = order;
	uint64_t k = 0;
	for (unsigned c = 0; c < NCLASS; c++) {
		const struct stack *s = &sa->cls[c];
		st->count[c / SL_COUNT][c % SL_COUNT] = s->count;
		uint32_t g = s->top;
		for (uint32_t i = 0; i < s->count; i++) {
			order[k++] = entry_at(sa, g)->id;
			if (i + 1 < s->count)
				g = entry_below(sa, g);
		}
	}
	for (uint32_t i = sa->nspare; i-- > 0;)
		order[k++] = sa->spare[i];
}

#define STATE_FAIL(...)                                       \
	do {                                                  \
		if (err && errlen)                            \
			snprintf(err, errlen, __VA_ARGS__);   \
		rc = -EINVAL;                                 \
		goto out;                                     \
	} while (0)

int vidmm_suballoc_from_state(const struct vidmm_suballoc_state *st, uint64_t size,
			      uint64_t granule, struct vidmm_suballoc **out, char *err,
			      size_t errlen)
{
	struct vidmm_suballoc *sa = NULL;
	uint64_t *seen = NULL;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (granule == 0 || (granule & (granule - 1)) || size == 0 || (size & (granule - 1)))
		return -EINVAL;
	uint64_t pages = size / granule;
	if (st->pages != pages || st->fresh == 0 || st->fresh > MAX_NODES) {
		if (err && errlen)
			snprintf(err, errlen, "the sub-allocator state is for %llu granules and %u nodes, "
				 "the segment has %llu granules", (unsigned long long)st->pages,
				 st->fresh, (unsigned long long)pages);
		return -EINVAL;
	}
	/* Ids are checked before anything is built on them: each below the slots
	 * used, none listed twice, the counts adding up. */
	uint64_t sum = 0;
	for (unsigned c = 0; c < NCLASS; c++)
		sum += st->count[c / SL_COUNT][c % SL_COUNT];
	/* No two free blocks touch, so at most half the blocks (rounded up) are free:
	 * more would also overrun the chunk pool, which is sized on that. */
	if (sum != st->nfree || st->nfree > st->fresh / 2 + 1 || st->nspare > st->fresh - st->nfree) {
		if (err && errlen)
			snprintf(err, errlen, "the sub-allocator state lists %llu free blocks in its "
				 "classes, %llu in its counter and %u released slots, for %u nodes",
				 (unsigned long long)sum, (unsigned long long)st->nfree, st->nspare,
				 st->fresh);
		return -EINVAL;
	}
	uint64_t cap = ((uint64_t)st->fresh + 63) & ~63ull;
	if (cap > MAX_NODES)
		cap = MAX_NODES;
	if (cap < INITIAL_NODES)
		cap = INITIAL_NODES;
	if ((rc = create_empty(size, granule, cap, &sa)))
		return rc;
	seen = calloc((size_t)(cap + 63) / 64, sizeof(uint64_t));
	if (!seen) {
		rc = -ENOMEM;
		goto out;
	}
	uint64_t nids = st->nfree + st->nspare;
	for (uint64_t k = 0; k < nids; k++) {
		uint32_t n = st->order[k];
		if (n >= st->fresh)
			STATE_FAIL("the sub-allocator state lists node %u, beyond its %u nodes", n, st->fresh);
		if ((seen[n >> 6] >> (n & 63)) & 1)
			STATE_FAIL("the sub-allocator state lists node %u twice", n);
		seen[n >> 6] |= 1ull << (n & 63);
	}

	memcpy(sa->nodes, st->nodes, (size_t)st->fresh * sizeof(struct node));
	sa->fresh = st->fresh;
	sa->used = st->used;
	sa->nalloc = st->nalloc;
	/* What neither list names is allocated. */
	for (uint32_t n = 0; n < st->fresh; n++)
		if (!((seen[n >> 6] >> (n & 63)) & 1))
			used_set(sa, n);
	/* Each class is built bottom up, so that its first id ends on top; entries
	 * copy the records (the check then holds every record to the chain). */
	uint64_t k = 0;
	for (unsigned c = 0; c < NCLASS; c++) {
		uint32_t cnt = st->count[c / SL_COUNT][c % SL_COUNT];
		unsigned fl, sl;
		for (uint32_t i = cnt; i-- > 0;) {
			uint32_t n = st->order[k + i];
			const struct node *b = &sa->nodes[n];
			if (b->len == 0)
				STATE_FAIL("the sub-allocator state lists node %u as free, but it has no length", n);
			mapping(b->len, &fl, &sl);
			if (fl * SL_COUNT + sl != c)
				STATE_FAIL("node %u of length %llu is listed in class (%u,%u), belongs in (%u,%u)",
					   n, (unsigned long long)b->len, c / SL_COUNT, c % SL_COUNT, fl, sl);
			class_push(sa, n, b->off, b->len, b->next);
		}
		k += cnt;
	}
	for (uint32_t i = st->nspare; i-- > 0;)
		sa->spare[sa->nspare++] = st->order[k + i];
	/* The check walks every chain with bounds, so garbage is refused, not followed. */
	if (vidmm_suballoc_check(sa, err, errlen)) {
		rc = -EINVAL;
		goto out;
	}
	if (sa->nfree != st->nfree) {
		rc = -EINVAL;
		goto out;
	}
	*out = sa;
	sa = NULL;
	rc = 0;
out:
	free(seen);
	vidmm_suballoc_destroy(sa);
	return rc;
}
