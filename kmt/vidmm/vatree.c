/*
 * The AVL tree of kmt/vidmm/vatree.h. Recursive: its depth is at most about
 * 1.44 log2(n), so the stack stays small even for millions of ranges.
 */
#include <config.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "kmt/vidmm/vatree.h"

static int height(const struct vidmm_va_node *n)
{
	return n ? n->height : 0;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Recompute n's height and summaries from its children's, which are current:
 * every change to the shape goes through here bottom-up. */
static void fix(struct vidmm_va_node *n)
{
	const struct vidmm_va_node *l = n->left, *r = n->right;
	int hl = height(l), hr = height(r);
	n->height = (hl > hr ? hl : hr) + 1;
	n->lo = l ? l->lo : n->start;
	n->hi = r ? r->hi : n->start + n->size;
	n->gap = 0;
	if (l)
		n->gap = max64(l->gap, n->start - l->hi);
	if (r)
		n->gap = max64(n->gap, max64(r->gap, r->lo - (n->start + n->size)));
}

static struct vidmm_va_node *rot_right(struct vidmm_va_node *n)
{
	struct vidmm_va_node *l = n->left;
	n->left = l->right;
	l->right = n;
	fix(n);
	fix(l);
	return l;
}

static struct vidmm_va_node *rot_left(struct vidmm_va_node *n)
{
	struct vidmm_va_node *r = n->right;
	n->right = r->left;
	r->left = n;
	fix(n);
	fix(r);
	return r;
}

static struct vidmm_va_node *balance(struct vidmm_va_node *n)
{
	fix(n);
	int b = height(n->left) - height(n->right);
	if (b > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rot_left(n->left);
		return rot_right(n);
	}
	if (b < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rot_right(n->right);
		return rot_left(n);
	}
	return n;
}

static struct vidmm_va_node *insert(struct vidmm_va_node *root, struct vidmm_va_node *n)
{
	if (!root)
		return n;
	if (n->start < root->start)
		root->left = insert(root->left, n);
	else
		root->right = insert(root->right, n);
	return balance(root);
}

void vidmm_va_tree_insert(struct vidmm_va_tree *t, struct vidmm_va_node *n)
{
	n->left = n->right = NULL;
	fix(n);
	t->root = insert(t->root, n);
	t->count++;
}

/* Unlink the smallest node of a subtree into *min. */
static struct vidmm_va_node *take_min(struct vidmm_va_node *root, struct vidmm_va_node **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = take_min(root->left, min);
	return balance(root);
}

static struct vidmm_va_node *remove_node(struct vidmm_va_node *root, struct vidmm_va_node *n)
{
	if (!root)
		return NULL;
	if (n->start < root->start) {
		root->left = remove_node(root->left, n);
	} else if (n->start > root->start) {
		root->right = remove_node(root->right, n);
	} else {
		struct vidmm_va_node *l = root->left, *r = root->right, *m;
		if (!r)
			return l;
		r = take_min(r, &m);
		m->left = l;
		m->right = r;
		return balance(m);
	}
	return balance(root);
}

void vidmm_va_tree_remove(struct vidmm_va_tree *t, struct vidmm_va_node *n)
{
	t->root = remove_node(t->root, n);
	t->count--;
	n->left = n->right = NULL;
}

/* Only the ancestors of n summarise its end. */
static void refix_path(struct vidmm_va_node *root, const struct vidmm_va_node *n)
{
	if (root != n)
		refix_path(n->start < root->start ? root->left : root->right, n);
	fix(root);
}

void vidmm_va_tree_resize(struct vidmm_va_tree *t, struct vidmm_va_node *n, uint64_t size)
{
	n->size = size;
	refix_path(t->root, n);
}

/* The fitting address in the hole [a, b) clipped to [min, max), if any. */
static bool fit_hole(uint64_t a, uint64_t b, uint64_t min, uint64_t max, uint64_t size, uint64_t align,
		     uint64_t *addr)
{
	a = max64(a, min);
	if (b > max)
		b = max;
	if (a >= b)
		return false;
	uint64_t at = (a + (align - 1)) & ~(align - 1);
	if (at < a || at > b || b - at < size)
		return false;
	*addr = at;
	return true;
}

/* The lowest fit in the holes between n's ranges, in address order. A subtree
 * whose holes are all too small, all below min or all at or above max is skipped,
 * so only the paths to min and to the hole found are walked. */
static bool fit(const struct vidmm_va_node *n, uint64_t min, uint64_t max, uint64_t size, uint64_t align,
		uint64_t *addr)
{
	if (!n || n->gap < size || n->hi <= min || n->lo >= max)
		return false;
	const struct vidmm_va_node *l = n->left, *r = n->right;
	if (fit(l, min, max, size, align, addr))
		return true;
	if (l && fit_hole(l->hi, n->start, min, max, size, align, addr))
		return true;
	if (r && fit_hole(n->start + n->size, r->lo, min, max, size, align, addr))
		return true;
	return fit(r, min, max, size, align, addr);
}

int vidmm_va_tree_fit(const struct vidmm_va_tree *t, uint64_t min, uint64_t max, uint64_t size, uint64_t align,
		      uint64_t *addr)
{
	const struct vidmm_va_node *root = t->root;
	if (!size || !align || (align & (align - 1)) || min >= max || size > max - min)
		return -ENOSPC;
	if (!root)
		return fit_hole(0, UINT64_MAX, min, max, size, align, addr) ? 0 : -ENOSPC;
	if (fit_hole(0, root->lo, min, max, size, align, addr) || fit(root, min, max, size, align, addr) ||
	    fit_hole(root->hi, UINT64_MAX, min, max, size, align, addr))
		return 0;
	return -ENOSPC;
}

struct vidmm_va_node *vidmm_va_tree_ceil(const struct vidmm_va_tree *t, uint64_t addr)
{
	struct vidmm_va_node *n = t->root, *best = NULL;
	while (n) {
		if (n->start + n->size > addr) {
			best = n;       /* ranges are disjoint: ends grow with starts */
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct vidmm_va_node *vidmm_va_tree_find(const struct vidmm_va_tree *t, uint64_t addr)
{
	struct vidmm_va_node *n = vidmm_va_tree_ceil(t, addr);
	return n && n->start <= addr ? n : NULL;
}

struct vidmm_va_node *vidmm_va_tree_next(const struct vidmm_va_tree *t, const struct vidmm_va_node *n)
{
	return vidmm_va_tree_ceil(t, n->start + n->size);
}

static int check(const struct vidmm_va_node *n, uint64_t lo, uint64_t hi, uint64_t *count)
{
	if (!n)
		return 0;
	if (!n->size || n->start < lo || n->start + n->size - 1 > hi || n->start + n->size < n->start)
		return -1;
	int l = check(n->left, lo, n->start ? n->start - 1 : 0, count);
	int r = n->start + n->size ? check(n->right, n->start + n->size, hi, count) : (n->right ? -1 : 0);
	if (l < 0 || r < 0 || (n->left && !n->start))
		return -1;
	if (l - r > 1 || r - l > 1 || n->height != (l > r ? l : r) + 1)
		return -1;
	struct vidmm_va_node want = *n;
	fix(&want);
	if (want.lo != n->lo || want.hi != n->hi || want.gap != n->gap)
		return -1;
	++*count;
	return n->height;
}

int vidmm_va_tree_check(const struct vidmm_va_tree *t)
{
	uint64_t count = 0;
	if (check(t->root, 0, UINT64_MAX, &count) < 0 || count != t->count)
		return -EFAULT;
	return 0;
}
