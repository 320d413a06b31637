/*
 * An ordered set of disjoint address ranges (an AVL tree keyed by start), for the
 * GPU virtual address spaces: reservations in one tree, mappings in another.
 * Intrusive: the owner embeds a node. Every operation is O(log n); a walk in
 * address order is a chain of ceil() look-ups, which keeps the nodes free of
 * parent pointers.
 */
#ifndef KMT_VIDMM_VATREE_H
#define KMT_VIDMM_VATREE_H

#include <stdint.h>

struct vidmm_va_node {
	uint64_t start, size;     /* [start, start + size), size > 0 */
	struct vidmm_va_node *left, *right;
	int height;
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
/* Heights, balance, order and disjointness, and the count: 0 or -EFAULT. */
int vidmm_va_tree_check(const struct vidmm_va_tree *t);

#endif
