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

static void fix(struct vidmm_va_node *n)
{
	int l = height(n->left), r = height(n->right);
	n->height = (l > r ? l : r) + 1;
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
	n->height = 1;
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
