/*
 * An ordered set of disjoint address ranges (an AVL tree keyed by start), for the
 * GPU virtual address spaces: reservations in one tree, mappings in another.
 * Intrusive: the owner embeds a node. Every operation is O(log n); a walk in
 * address order is a chain of ceil() look-ups, which keeps the nodes free of
 * parent pointers.
 *
 * Each node also carries its subtree's lowest start, highest end and largest
 * hole between two of its ranges, so that placing a new range (first fit) is a
 * descent rather than a walk over every range in the way: a subtree whose
 * largest hole is too small is skipped whole.
 */
#ifndef KMT_VIDMM_VATREE_H
#define KMT_VIDMM_VATREE_H

#include <stdint.h>

struct vidmm_va_node {
	uint64_t start, size;     /* [start, start + size), size > 0 */
	struct vidmm_va_node *left, *right;
	int height;
	uint64_t lo, hi, gap;     /* subtree: lowest start, highest end, largest hole */
};

struct vidmm_va_tree {
	struct vidmm_va_node *root;
	uint64_t count;
};

/* The caller has checked that n overlaps nothing in t. */
void vidmm_va_tree_insert(struct vidmm_va_tree *t, struct vidmm_va_node *n);
void vidmm_va_tree_remove(struct vidmm_va_tree *t, struct vidmm_va_node *n);
/* The range holding addr, or NULL. */
struct vidmm_va_node *vidmm_va_tree_find(const struct vidmm_va_tree *t, uint64_t addr);
/* The lowest range that ends after addr (holds it or lies above it), or NULL. */
struct vidmm_va_node *vidmm_va_tree_ceil(const struct vidmm_va_tree *t, uint64_t addr);
/* The range after n in address order, or NULL. */
struct vidmm_va_node *vidmm_va_tree_next(const struct vidmm_va_tree *t, const struct vidmm_va_node *n);
/* The lowest address at or above min, a multiple of align (a power of two), where
 * [addr, addr + size) overlaps no range and ends at or below max: 0 and *addr, or
 * -ENOSPC. O(log n) when align divides the ranges' starts and ends (the holes are
 * then usable whole); otherwise holes that are large enough but misaligned are
 * tried in turn. */
int vidmm_va_tree_fit(const struct vidmm_va_tree *t, uint64_t min, uint64_t max, uint64_t size, uint64_t align,
		      uint64_t *addr);
/* Shrink or grow n in place; the caller has checked that it overlaps nothing. */
void vidmm_va_tree_resize(struct vidmm_va_tree *t, struct vidmm_va_node *n, uint64_t size);
/* Heights, balance, order and disjointness, the subtree summaries, and the count: 0 or -EFAULT. */
int vidmm_va_tree_check(const struct vidmm_va_tree *t);

#endif
