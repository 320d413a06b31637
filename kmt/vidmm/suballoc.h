/*
 * Segment sub-allocator of the video memory manager: hands out page-granular,
 * power-of-two aligned byte ranges of one memory segment (visible VRAM, invisible
 * VRAM, GART aperture) and measures the segment's fragmentation.
 *
 * Units: sizes and offsets are bytes, relative to the start of the segment. Every
 * allocation is a whole number of granules (4 KiB for the vidmm) and starts at a
 * multiple of its alignment (at least one granule).
 *
 * Ids: an allocation is named by a 32-bit id, valid until it is freed. Ids are small
 * integers that are reused after a free (like file descriptors), so a stale id may
 * name a newer allocation; the caller keeps its own handle -> id mapping.
 *
 * Errors are negative errno values; nothing is ever printed. An allocator is not
 * locked internally: the caller serializes calls on one allocator (kmt/ holds its
 * adapter lock). Distinct allocators are independent.
 *
 * Costs: alloc, alloc_at (see below), free, get_stats and can_alloc are O(1) in the
 * usual case whatever the number of live allocations; foreach and check are O(n).
 */
#ifndef KMT_VIDMM_SUBALLOC_H
#define KMT_VIDMM_SUBALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vidmm_suballoc;  /* opaque */

/*
 * Create an allocator for the byte range [0, size). granule must be a power of two
 * (the vidmm uses 4096) and size a non-zero multiple of it.
 * Returns 0 and sets *out, or -EINVAL (bad arguments), -ENOMEM.
 */
int vidmm_suballoc_create(uint64_t size, uint64_t granule, struct vidmm_suballoc **out);

/* Free the allocator and every allocation in it. NULL is accepted. */
void vidmm_suballoc_destroy(struct vidmm_suballoc *sa);

/*
 * Allocate size bytes, rounded up to the granule, at an offset that is a multiple
 * of align. align 0 or any power of two up to the granule means "one granule";
 * a larger align must be a power of two. offset may be NULL.
 * Returns 0 and sets *id (and *offset), or:
 *   -EINVAL  bad arguments: size 0, align not a power of two, or size larger than
 *            the whole segment (a request that could never fit, whatever is freed);
 *   -ENOSPC  no free range can hold it right now (this answer is exact: it is only
 *            given when no free block has room at a suitable alignment);
 *   -ENOMEM  the allocator's own bookkeeping could not grow (only when a free
 *            range could hold it: -ENOSPC is decided first).
 * Placement is good-fit (TLSF): the block taken comes from the smallest size class
 * that surely fits. When that finds nothing, the classes that may fit are scanned
 * block by block, which costs O(number of free blocks in them); that only happens
 * when the segment is nearly full or the alignment is large relative to the holes.
 */
int vidmm_suballoc_alloc(struct vidmm_suballoc *sa, uint64_t size, uint64_t align,
			 uint32_t *id, uint64_t *offset);

/*
 * Allocate exactly [offset, offset + size) (size rounded up to the granule), e.g.
 * when restoring a snapshot. Returns 0 and sets *id, or -EINVAL (offset not a
 * multiple of the granule, size 0, range not inside the segment), -EBUSY (part of
 * the range is allocated), -ENOMEM.
 * Cost: O(1) when successive calls place ranges next to each other (restoring in
 * address order, ascending or descending); otherwise proportional to the number of
 * blocks between the previous placement and this one.
 */
int vidmm_suballoc_alloc_at(struct vidmm_suballoc *sa, uint64_t offset, uint64_t size,
			    uint32_t *id);

/* Free an allocation. Returns 0, or -EINVAL for an id that is not allocated. */
int vidmm_suballoc_free(struct vidmm_suballoc *sa, uint32_t id);

/* A hint: start fetching what freeing id reads first (its block's record), for a
 * caller that knows it will free id after other work. Any id is accepted. */
void vidmm_suballoc_prefetch(const struct vidmm_suballoc *sa, uint32_t id);

/* Offset and (rounded) size of a live allocation; UINT64_MAX and 0 for a bad id. */
uint64_t vidmm_suballoc_offset(const struct vidmm_suballoc *sa, uint32_t id);
uint64_t vidmm_suballoc_size(const struct vidmm_suballoc *sa, uint32_t id);

struct vidmm_suballoc_stats {
	uint64_t size;          /* bytes managed */
	uint64_t used;          /* bytes allocated */
	uint64_t free;          /* size - used */
	uint64_t largest_free;  /* the largest free block, bytes */
	uint64_t free_blocks;   /* number of maximal free ranges */
	uint64_t allocations;   /* number of live allocations */
	double fragmentation;   /* 1 - largest_free / free; 0 when free == 0 */
};

/*
 * Every figure is kept as a counter (O(1)) except largest_free: the highest
 * non-empty size class is found from the TLSF bitmaps in O(1) and only that class's
 * free list is scanned for its largest block (classes are 1/32 of a power of two
 * wide, so the list holds blocks of nearly equal sizes, usually few).
 */
void vidmm_suballoc_get_stats(const struct vidmm_suballoc *sa, struct vidmm_suballoc_stats *st);

/* Would vidmm_suballoc_alloc(sa, size, align) succeed right now? No side effect
 * (an -ENOMEM of the bookkeeping is not predicted). */
bool vidmm_suballoc_can_alloc(const struct vidmm_suballoc *sa, uint64_t size, uint64_t align);

/*
 * Call fn for every allocation in address order; stop at the first non-zero return
 * of fn and return that value (0 when all were visited; -EINVAL when sa or fn is
 * NULL). fn must not change the allocator.
 */
int vidmm_suballoc_foreach(const struct vidmm_suballoc *sa,
			   int (*fn)(void *opaque, uint32_t id, uint64_t offset, uint64_t size),
			   void *opaque);

/*
 * Full consistency check, O(n): blocks tile [0, size) with no overlap or gap, no two
 * free blocks are adjacent, the free lists and bitmaps agree with the blocks, the
 * counters add up, and every bookkeeping slot is accounted for. Returns 0, or
 * -EFAULT with one sentence describing the first problem in err (when err != NULL).
 */
int vidmm_suballoc_check(const struct vidmm_suballoc *sa, char *err, size_t errlen);

/*
 * Snapshots. The allocator's exact state as plain data: the blocks (one node per
 * used slot, named by id), the class lists' heads and their order, the released
 * slots. Restoring it (rather than re-placing the live ranges) keeps every future
 * answer identical, since TLSF takes the head of a class list and list order is
 * history. Nodes: off/len in granules; links are node ids, 0xFFFFFFFF for none;
 * free_prev 0xFFFFFFFE marks an allocated block, 0xFFFFFFFD a released slot.
 */
struct vidmm_suballoc_node {
	uint64_t off, len;
	uint32_t phys_prev, phys_next, free_prev, free_next;
};
struct vidmm_suballoc_state {
	uint64_t pages;          /* segment size in granules */
	uint32_t fresh;          /* slots used so far = number of nodes */
	uint32_t spare, nspare;  /* released slots: list head, length */
	uint64_t used, nalloc, nfree;
	uint64_t fl_map;
	uint32_t sl_map[64];
	uint32_t head[64][32];
	const struct vidmm_suballoc_node *nodes; /* fresh of them */
};
/* The state of sa; nodes points into sa until it changes. */
void vidmm_suballoc_get_state(const struct vidmm_suballoc *sa, struct vidmm_suballoc_state *st);
/* A new allocator for [0, size) in state st, checked whole (vidmm_suballoc_check):
 * 0, -EINVAL with a sentence in err when st is inconsistent, -ENOMEM. */
int vidmm_suballoc_from_state(const struct vidmm_suballoc_state *st, uint64_t size,
			      uint64_t granule, struct vidmm_suballoc **out, char *err,
			      size_t errlen);

#endif /* KMT_VIDMM_SUBALLOC_H */
