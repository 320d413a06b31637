/*
 * An ordered set of allocations for the eviction policies: a ring of pointers in
 * which removal leaves a hole instead of unlinking neighbours, so neither a removal
 * nor a move to the back writes any other allocation's cache line.
 */
#ifndef KMT_VIDMM_QUEUE_H
#define KMT_VIDMM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct vidmm_alloc;

/* Entries keep the order in which they were pushed, oldest at the head. An entry
 * knows its place (vidmm_alloc.pol_pos, a free-running position: slot pos & mask);
 * removal clears the slot, and the head skips cleared slots as it reaches them.
 * When the ring is full it is compacted (positions renumbered, order kept) if at
 * least half of it is holes, else doubled (positions kept). Costs: push, remove
 * O(1) amortized; first/next skip holes, at most as many as pushes since the last
 * compaction. */
struct vidmm_queue {
	struct vidmm_alloc **slot;
	uint32_t head, tail;     /* live entries lie in [head, tail) */
	uint32_t mask;           /* capacity - 1; the capacity is a power of two */
	uint32_t count;          /* entries */
	uint64_t bytes;          /* sum of their sizes */
};

/* Append a (its pol_pos is set). -ENOMEM leaves q and a unchanged. */
int vidmm_queue_push(struct vidmm_queue *q, struct vidmm_alloc *a);
/* Remove a, which q holds. */
void vidmm_queue_remove(struct vidmm_queue *q, struct vidmm_alloc *a);
/* Oldest entry, or the one after `a` (which q holds); NULL past the end. */
struct vidmm_alloc *vidmm_queue_first(const struct vidmm_queue *q);
struct vidmm_alloc *vidmm_queue_next(const struct vidmm_queue *q, const struct vidmm_alloc *a);
/* The entry at position pos, or NULL for a hole or a position outside [head, tail). */
struct vidmm_alloc *vidmm_queue_at(const struct vidmm_queue *q, uint32_t pos);
void vidmm_queue_fini(struct vidmm_queue *q);
/* Structure check (O(capacity)): 0, or -EFAULT with a sentence. Every entry must
 * name bucket as its pol_bucket. */
int vidmm_queue_check(const struct vidmm_queue *q, const void *bucket, char *err, size_t errlen);

#endif
