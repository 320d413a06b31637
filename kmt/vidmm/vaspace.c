/*
 * GPU virtual address spaces: see kmt/vidmm/vaspace.h. The page tables are a
 * radix tree mirrored on the CPU (which table holds which child) and written only
 * by the driver, on the copy engine. Every change is waited for before the call
 * returns, as every other paging operation of this manager: the paging fence a
 * caller is given has completed already.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/vidmm/vidmm.h"

#define PAGE HW_PAGE_SIZE

struct vidmm_va_table {
	struct vidmm_alloc mem;       /* kernel-owned, pinned */
	uint32_t level;               /* 0: the root */
	struct vidmm_va_table **child;/* below a leaf: NULL */
};

static struct vidmm_va_mapping *mapping_of(struct vidmm_va_node *n)
{
	return (struct vidmm_va_mapping *)((char *)n - offsetof(struct vidmm_va_mapping, node));
}

static struct vidmm_va_reservation *reservation_of(struct vidmm_va_node *n)
{
	return (struct vidmm_va_reservation *)((char *)n - offsetof(struct vidmm_va_reservation, node));
}

bool vidmm_va_supported(struct vidmm *mm)
{
	return mm->has_mmu;
}

static uint32_t entries_per_table(const struct vidmm *mm)
{
	return 1u << mm->mmu.level_bits;
}

/* Bytes one entry of a table at `level` covers. */
static uint64_t span(const struct vidmm *mm, uint32_t level)
{
	return PAGE << ((mm->mmu.levels - 1 - level) * mm->mmu.level_bits);
}

static uint32_t index_at(const struct vidmm *mm, uint32_t level, uint64_t va)
{
	return (uint32_t)((va / span(mm, level)) & (entries_per_table(mm) - 1));
}

static bool is_leaf(const struct vidmm *mm, const struct vidmm_va_table *t)
{
	return t->level == mm->mmu.levels - 1;
}

static int paging(struct vidmm *mm, const struct kmt_paging_op *op)
{
	return mm->ddi->build_paging_buffer(mm->drv, op);
}

static int write_entries(struct vidmm *mm, struct vidmm_va_table *t, uint32_t first, uint32_t n,
			 const struct kmt_pte *ptes, bool clear)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_UPDATE_PAGE_TABLE, .size = mm->mmu.table_bytes,
				    .dst = { t->mem.seg, t->mem.offset, NULL }, .first_entry = first,
				    .nentries = n, .ptes = ptes, .clear_table = clear };
	int rc = paging(mm, &op);
	if (!rc)
		t->mem.has_data = true; /* its range is discarded when it goes */
	return rc;
}

/* Queue the TLB flush of vs and wait for everything queued. */
static int finish(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t *fence)
{
	struct kmt_paging_op op = { .type = KMT_PAGING_FLUSH_TLB, .asid = vs->asid,
				    .dst = { vs->root->mem.seg, vs->root->mem.offset, NULL } };
	uint64_t f = 0;
	int rc = paging(mm, &op);
	if (!rc)
		rc = mm->ddi->paging_flush(mm->drv, &f);
	vs->fence = f;
	if (fence)
		*fence = f;
	return rc;
}

static void table_free(struct vidmm *mm, struct vidmm_va_table *t)
{
	if (!t)
		return;
	if (t->child)
		for (uint32_t i = 0; i < entries_per_table(mm); i++)
			table_free(mm, t->child[i]);
	free(t->child);
	vidmm_alloc_fini(mm, &t->mem);
	free(t);
}

/* A new, empty table: pinned in VRAM, the segments the CPU cannot reach first
 * (they are the ones nothing else needs). */
static int table_new(struct vidmm *mm, struct vidmm_va_space *vs, uint32_t level, struct vidmm_va_table **out)
{
	struct kmt_alloc_desc d = { .size = mm->mmu.table_bytes, .align = PAGE,
				    .flags = GPUSIM_ALLOC_PINNED | VIDMM_ALLOC_KERNEL };
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t s = 1; s < VIDMM_SEG_MAX; s++)
			if (mm->seg[s].present && mm->seg[s].desc.vram && mm->seg[s].desc.cpu_visible == (pass == 1) &&
			    d.placement.n < KMT_PLACE_MAX)
				d.placement.seg[d.placement.n++] = (uint8_t)s;
	d.placement.npref = d.placement.n;
	if (!d.placement.n)
		return -ENODEV;
	struct vidmm_va_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->level = level;
	if (level + 1 < mm->mmu.levels && !(t->child = calloc(entries_per_table(mm), sizeof(*t->child)))) {
		free(t);
		return -ENOMEM;
	}
	int rc = vidmm_alloc_init(mm, &t->mem, &d);
	if (rc) {
		free(t->child);
		free(t);
		return rc;
	}
	/* Freed VRAM reads as zero, except where a stray GPU write landed: clear it. */
	if ((rc = write_entries(mm, t, 0, 0, NULL, true))) {
		table_free(mm, t);
		return rc;
	}
	vs->tables++;
	*out = t;
	return 0;
}

int vidmm_va_space_create(struct vidmm *mm, struct vidmm_va_space **out)
{
	if (!mm->has_mmu)
		return -ENODEV;
	struct vidmm_va_space *vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	vs->asid = ++mm->next_asid;
	vs->limit = 1ull << mm->mmu.va_bits;
	int rc = table_new(mm, vs, 0, &vs->root);
	if (!rc)
		rc = mm->ddi->paging_flush(mm->drv, &vs->fence);
	if (rc) {
		table_free(mm, vs->root);
		free(vs);
		return rc;
	}
	vs->next = mm->va_spaces;
	mm->va_spaces = vs;
	*out = vs;
	return 0;
}

uint64_t vidmm_va_root(struct vidmm *mm, const struct vidmm_va_space *vs)
{
	return vidmm_gpu_address(mm, &vs->root->mem);
}

/* ---- mappings ----------------------------------------------------------- */

static void alloc_link(struct vidmm_va_mapping *m)
{
	struct vidmm_alloc *a = m->alloc;
	if (!a)
		return;
	m->alloc_prev = NULL;
	m->alloc_next = a->va_maps;
	if (a->va_maps)
		a->va_maps->alloc_prev = m;
	a->va_maps = m;
}

static void alloc_unlink(struct vidmm_va_mapping *m)
{
	if (!m->alloc)
		return;
	if (m->alloc_prev)
		m->alloc_prev->alloc_next = m->alloc_next;
	else
		m->alloc->va_maps = m->alloc_next;
	if (m->alloc_next)
		m->alloc_next->alloc_prev = m->alloc_prev;
}

static struct vidmm_va_mapping *mapping_new(struct vidmm_va_space *vs, uint64_t start, uint64_t size,
					    struct vidmm_alloc *a, uint64_t offset, bool ro)
{
	struct vidmm_va_mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->node.start = start;
	m->node.size = size;
	m->vs = vs;
	m->alloc = a;
	m->alloc_offset = offset;
	m->read_only = ro;
	vidmm_va_tree_insert(&vs->mapped, &m->node);
	alloc_link(m);
	return m;
}

static void mapping_delete(struct vidmm_va_space *vs, struct vidmm_va_mapping *m)
{
	vidmm_va_tree_remove(&vs->mapped, &m->node);
	alloc_unlink(m);
	free(m);
}

/* Take [s, e) out of the mappings (their entries are not written here). A mapping
 * that sticks out on the right keeps its tail as a new mapping: -ENOMEM when that
 * cannot be made, with nothing changed. */
static int cut(struct vidmm_va_space *vs, uint64_t s, uint64_t e)
{
	struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, s);
	while (n && n->start < e) {
		struct vidmm_va_mapping *m = mapping_of(n);
		uint64_t ms = n->start, me = n->start + n->size;
		struct vidmm_va_node *next = vidmm_va_tree_next(&vs->mapped, n);
		if (me > e) {
			struct vidmm_va_mapping *tail =
				mapping_new(vs, e, me - e, m->alloc, m->alloc_offset + (e - ms), m->read_only);
			if (!tail)
				return -ENOMEM;
			next = NULL; /* nothing of [s, e) lies beyond this one */
		}
		if (ms < s)
			vidmm_va_tree_resize(&vs->mapped, n, s - ms); /* the start, hence the order, stays */
		else
			mapping_delete(vs, m);
		n = next;
	}
	return 0;
}

static struct kmt_pte pte_of(struct vidmm *mm, const struct vidmm_va_mapping *m, uint64_t va)
{
	const struct vidmm_alloc *a = m->alloc;
	struct kmt_pte p = { 0, 0 };
	if (!a) /* a kernel page: always there, the GPU writes fences in it */
		return (struct kmt_pte){ m->pfn * PAGE, KMT_PTE_VALID | KMT_PTE_SYSTEM };
	uint64_t off = m->alloc_offset + (va - m->node.start);
	if (a->seg == VIDMM_SYS || a->seg >= VIDMM_SEG_MAX || !mm->seg[a->seg].present)
		return p; /* evicted: no GPU path, so the access faults */
	p.flags = KMT_PTE_VALID;
	if (m->read_only || (a->flags & GPUSIM_ALLOC_READ_ONLY))
		p.flags |= KMT_PTE_READ_ONLY;
	if (mm->seg[a->seg].desc.aperture) {
		/* The aperture's bytes are the allocation's system pages: map them
		 * directly rather than through the GART. */
		p.address = a->pages[off / PAGE] * PAGE;
		p.flags |= KMT_PTE_SYSTEM;
	} else {
		p.address = mm->ddi->gpu_address(mm->drv, a->seg, a->offset + off);
	}
	return p;
}

/* The leaf table for va, created with the tables above it when `make`. */
static int leaf_for(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t va, bool make,
		    struct vidmm_va_table **out)
{
	struct vidmm_va_table *t = vs->root;
	while (!is_leaf(mm, t)) {
		uint32_t i = index_at(mm, t->level, va);
		if (!t->child[i]) {
			if (!make) {
				*out = NULL;
				return 0;
			}
			struct vidmm_va_table *c;
			int rc = table_new(mm, vs, t->level + 1, &c);
			if (rc)
				return rc;
			struct kmt_pte p = { vidmm_gpu_address(mm, &c->mem), KMT_PTE_VALID | KMT_PTE_TABLE };
			if ((rc = write_entries(mm, t, i, 1, &p, false))) {
				table_free(mm, c);
				return rc;
			}
			t->child[i] = c;
		}
		t = t->child[i];
	}
	*out = t;
	return 0;
}

/* Every table [s, e) needs. Made before anything is mapped: making one may
 * push other allocations out, which rewrites their entries. */
static int ensure_tables(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t s, uint64_t e)
{
	uint64_t leaf_span = PAGE << mm->mmu.level_bits; /* what one leaf table maps */
	for (uint64_t va = s; va < e; va = (va / leaf_span + 1) * leaf_span) {
		struct vidmm_va_table *t;
		int rc = leaf_for(mm, vs, va, true, &t);
		if (rc)
			return rc;
		if (va / leaf_span + 1 == 0)
			break;
	}
	return 0;
}

/* Write the entries of [s, e) as the mappings say, pages of `absent` not present
 * (it is leaving its place). Leaves that were never made map nothing. */
static int write_range(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t s, uint64_t e,
		       const struct vidmm_alloc *absent)
{
	uint32_t per = entries_per_table(mm);
	struct kmt_pte *ptes = malloc(per * sizeof(*ptes));
	if (!ptes)
		return -ENOMEM;
	int rc = 0;
	struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, s);
	for (uint64_t va = s; va < e && !rc;) {
		struct vidmm_va_table *t;
		uint32_t first = index_at(mm, mm->mmu.levels - 1, va), k = 0;
		if ((rc = leaf_for(mm, vs, va, false, &t)))
			break;
		uint64_t leaf_end = va + (uint64_t)(per - first) * PAGE;
		if (leaf_end > e)
			leaf_end = e;
		for (uint64_t p = va; p < leaf_end; p += PAGE, k++) {
			while (n && n->start + n->size <= p)
				n = vidmm_va_tree_next(&vs->mapped, n);
			struct vidmm_va_mapping *m = n && n->start <= p ? mapping_of(n) : NULL;
			ptes[k] = m && (!m->alloc || m->alloc != absent) ? pte_of(mm, m, p) : (struct kmt_pte){ 0, 0 };
		}
		if (t)
			rc = write_entries(mm, t, first, k, ptes, false);
		va = leaf_end;
	}
	free(ptes);
	return rc;
}

static bool page_aligned(uint64_t x)
{
	return !(x % PAGE);
}

static struct vidmm_va_reservation *reservation_at(const struct vidmm_va_space *vs, uint64_t base, uint64_t size)
{
	struct vidmm_va_node *n = vidmm_va_tree_find(&vs->reserved, base);
	if (!n || !size || base + size < base || base + size > n->start + n->size)
		return NULL;
	return reservation_of(n);
}

/* A reservation user calls may work in. */
static struct vidmm_va_reservation *user_reservation_at(const struct vidmm_va_space *vs, uint64_t base,
							 uint64_t size)
{
	struct vidmm_va_reservation *r = reservation_at(vs, base, size);
	return r && !r->kernel ? r : NULL;
}

bool vidmm_va_reserved(const struct vidmm_va_space *vs, uint64_t base, uint64_t size)
{
	return user_reservation_at(vs, base, size) != NULL;
}

struct vidmm_va_mapping *vidmm_va_lookup(const struct vidmm_va_space *vs, uint64_t va)
{
	struct vidmm_va_node *n = vidmm_va_tree_find(&vs->mapped, va);
	return n ? mapping_of(n) : NULL;
}

/* ---- reservations --------------------------------------------------------- */

int vidmm_va_reserve(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t min, uint64_t max,
		     uint64_t size, uint32_t type, uint64_t *va)
{
	(void)mm;
	if (!max)
		max = vs->limit;
	if (min < VIDMM_VA_FLOOR)
		min = VIDMM_VA_FLOOR;
	if (!size || !page_aligned(size) || !page_aligned(base) || !page_aligned(min) || !page_aligned(max) ||
	    max > vs->limit || min >= max || size > max - min)
		return -EINVAL;
	uint64_t at;
	if (base) {
		if (base < min || base > max - size)
			return -EINVAL;
		struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->reserved, base);
		if (n && n->start < base + size)
			return -EINVAL; /* overlaps a reservation */
		at = base;
	} else {
		/* First fit from min, O(log n): the tree knows its largest holes. */
		if (vidmm_va_tree_fit(&vs->reserved, min, max, size, PAGE, &at))
			return -ENOSPC;
	}
	struct vidmm_va_reservation *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->node.start = at;
	r->node.size = size;
	r->type = type;
	vidmm_va_tree_insert(&vs->reserved, &r->node);
	*va = at;
	return 0;
}

int vidmm_va_free(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size)
{
	struct vidmm_va_node *n = vidmm_va_tree_find(&vs->reserved, base);
	if (!n || n->start != base || n->size != size || reservation_of(n)->kernel)
		return -EINVAL;
	int rc = cut(vs, base, base + size);
	if (rc)
		return rc;
	vidmm_va_tree_remove(&vs->reserved, n);
	free(reservation_of(n));
	rc = write_range(mm, vs, base, base + size, NULL);
	int rc2 = finish(mm, vs, NULL);
	return rc ? rc : rc2;
}

/* ---- map, unmap, copy --------------------------------------------------- */

int vidmm_va_map(struct vidmm *mm, struct vidmm_va_space *vs, struct vidmm_alloc *a, uint64_t first,
		 uint64_t npages, bool read_only, uint64_t min, uint64_t max, uint64_t *va, uint64_t *fence)
{
	uint64_t pages = a->size / PAGE;
	if (!npages || first >= pages || npages > pages - first)
		return -EINVAL;
	uint64_t size = npages * PAGE, base = *va;
	bool implicit = !base;
	int rc;
	if (implicit) {
		rc = vidmm_va_reserve(mm, vs, 0, min, max, size, 0, &base);
		if (rc)
			return rc;
	} else if (!page_aligned(base) || !user_reservation_at(vs, base, size)) {
		return -EINVAL;
	}
	if ((rc = ensure_tables(mm, vs, base, base + size)) || (rc = cut(vs, base, base + size)) ||
	    (rc = mapping_new(vs, base, size, a, first * PAGE, read_only) ? 0 : -ENOMEM)) {
		if (implicit) {
			struct vidmm_va_node *n = vidmm_va_tree_find(&vs->reserved, base);
			vidmm_va_tree_remove(&vs->reserved, n);
			free(reservation_of(n));
		}
		return rc;
	}
	/* Work by VA lists nothing, so the manager never learns what the GPU wrote:
	 * a writable mapping is taken as written, else a move or an eviction would
	 * drop what a submission stored there (paging skips data-less allocations). */
	if (!read_only)
		a->has_data = true;
	rc = write_range(mm, vs, base, base + size, NULL);
	int rc2 = finish(mm, vs, fence);
	*va = base;
	return rc ? rc : rc2;
}

int vidmm_va_unmap(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size, uint64_t *fence)
{
	if (!page_aligned(base) || !page_aligned(size) || !user_reservation_at(vs, base, size))
		return -EINVAL;
	int rc = cut(vs, base, base + size);
	if (!rc)
		rc = write_range(mm, vs, base, base + size, NULL);
	int rc2 = finish(mm, vs, fence);
	return rc ? rc : rc2;
}

int vidmm_va_copy(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t src, uint64_t dst, uint64_t size,
		  uint64_t *fence)
{
	if (!page_aligned(src) || !page_aligned(dst) || !page_aligned(size) || !user_reservation_at(vs, src, size) ||
	    !user_reservation_at(vs, dst, size))
		return -EINVAL;
	/* What the source maps, taken before the destination is cleared (they may
	 * overlap). */
	uint64_t cap = 8, n = 0;
	struct vidmm_va_mapping *pieces = malloc(cap * sizeof(*pieces));
	if (!pieces)
		return -ENOMEM;
	for (struct vidmm_va_node *x = vidmm_va_tree_ceil(&vs->mapped, src); x && x->start < src + size;
	     x = vidmm_va_tree_next(&vs->mapped, x)) {
		struct vidmm_va_mapping *m = mapping_of(x);
		uint64_t s = x->start > src ? x->start : src;
		uint64_t e = x->start + x->size < src + size ? x->start + x->size : src + size;
		if (n == cap) {
			struct vidmm_va_mapping *p = realloc(pieces, 2 * cap * sizeof(*pieces));
			if (!p) {
				free(pieces);
				return -ENOMEM;
			}
			pieces = p;
			cap *= 2;
		}
		pieces[n] = *m;
		pieces[n].node.start = s - src + dst;
		pieces[n].node.size = e - s;
		pieces[n].alloc_offset = m->alloc_offset + (s - x->start);
		n++;
	}
	int rc = ensure_tables(mm, vs, dst, dst + size);
	if (!rc)
		rc = cut(vs, dst, dst + size);
	for (uint64_t i = 0; i < n && !rc; i++)
		if (!mapping_new(vs, pieces[i].node.start, pieces[i].node.size, pieces[i].alloc,
				 pieces[i].alloc_offset, pieces[i].read_only))
			rc = -ENOMEM;
	free(pieces);
	int rc1 = write_range(mm, vs, dst, dst + size, NULL);
	int rc2 = finish(mm, vs, fence);
	return rc ? rc : rc1 ? rc1 : rc2;
}

int vidmm_va_reserve_kernel(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size)
{
	uint64_t va;
	int rc = vidmm_va_reserve(mm, vs, base, base, base + size, size, 0, &va);
	if (rc)
		return rc;
	reservation_of(vidmm_va_tree_find(&vs->reserved, va))->kernel = true;
	return 0;
}

/* The kernel range holding the page at va, or NULL. */
static bool kernel_page(const struct vidmm_va_space *vs, uint64_t va)
{
	struct vidmm_va_reservation *r = page_aligned(va) ? reservation_at(vs, va, PAGE) : NULL;
	return r && r->kernel;
}

int vidmm_va_map_system(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t va, uint64_t pfn)
{
	if (!kernel_page(vs, va))
		return -EINVAL;
	int rc = ensure_tables(mm, vs, va, va + PAGE);
	if (rc)
		return rc;
	struct vidmm_va_node *n = vidmm_va_tree_find(&vs->mapped, va);
	if (n)
		mapping_delete(vs, mapping_of(n)); /* kernel mappings are one page each */
	struct vidmm_va_mapping *m = mapping_new(vs, va, PAGE, NULL, 0, false);
	if (!m)
		return -ENOMEM;
	m->pfn = pfn;
	rc = write_range(mm, vs, va, va + PAGE, NULL);
	int rc2 = finish(mm, vs, NULL);
	return rc ? rc : rc2;
}

int vidmm_va_unmap_system(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t va)
{
	if (!kernel_page(vs, va))
		return -EINVAL;
	struct vidmm_va_node *n = vidmm_va_tree_find(&vs->mapped, va);
	if (n)
		mapping_delete(vs, mapping_of(n));
	int rc = write_range(mm, vs, va, va + PAGE, NULL);
	int rc2 = finish(mm, vs, NULL);
	return rc ? rc : rc2;
}

void vidmm_va_space_destroy(struct vidmm *mm, struct vidmm_va_space *vs)
{
	if (!vs)
		return;
	struct vidmm_va_node *n;
	while ((n = vs->mapped.root))
		mapping_delete(vs, mapping_of(n));
	while ((n = vs->reserved.root)) {
		vidmm_va_tree_remove(&vs->reserved, n);
		free(reservation_of(n));
	}
	/* Nothing may walk these tables again: the address space is gone. */
	finish(mm, vs, NULL);
	for (struct vidmm_va_space **pp = &mm->va_spaces; *pp; pp = &(*pp)->next)
		if (*pp == vs) {
			*pp = vs->next;
			break;
		}
	table_free(mm, vs->root);
	free(vs);
}

/* ---- the manager's hooks ------------------------------------------------- */

static void rewrite(struct vidmm *mm, struct vidmm_alloc *a, const struct vidmm_alloc *absent)
{
	struct vidmm_va_space *touched[8];
	uint32_t nt = 0;
	for (struct vidmm_va_mapping *m = a->va_maps; m; m = m->alloc_next) {
		write_range(mm, m->vs, m->node.start, m->node.start + m->node.size, absent);
		uint32_t i = 0;
		while (i < nt && touched[i] != m->vs)
			i++;
		if (i == nt) {
			if (nt == 8) {
				for (i = 0; i < nt; i++)
					finish(mm, touched[i], NULL);
				nt = 0;
			}
			touched[nt++] = m->vs;
		}
	}
	for (uint32_t i = 0; i < nt; i++)
		finish(mm, touched[i], NULL);
}

void vidmm_va_alloc_leaving(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (a->va_maps)
		rewrite(mm, a, a);
}

void vidmm_va_alloc_entered(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (a->va_maps)
		rewrite(mm, a, NULL);
}

void vidmm_va_alloc_gone(struct vidmm *mm, struct vidmm_alloc *a)
{
	if (!a->va_maps)
		return;
	rewrite(mm, a, a);
	while (a->va_maps)
		mapping_delete(a->va_maps->vs, a->va_maps);
}

/* ---- checks ----------------------------------------------------------------- */

static int fail(char *err, size_t len, const char *fmt, unsigned long long x, unsigned long long y)
{
	if (err && len)
		snprintf(err, len, fmt, x, y);
	return -EFAULT;
}

static int each_table(struct vidmm *mm, struct vidmm_va_table *t, int (*fn)(void *, struct vidmm_alloc *),
		      void *ctx)
{
	if (!t)
		return 0;
	int rc = fn(ctx, &t->mem);
	if (t->child)
		for (uint32_t i = 0; i < entries_per_table(mm) && !rc; i++)
			rc = each_table(mm, t->child[i], fn, ctx);
	return rc;
}

int vidmm_va_each_table(struct vidmm *mm, int (*fn)(void *ctx, struct vidmm_alloc *a), void *ctx)
{
	int rc = 0;
	for (struct vidmm_va_space *vs = mm->va_spaces; vs && !rc; vs = vs->next)
		rc = each_table(mm, vs->root, fn, ctx);
	return rc;
}

/* Valid entries of the leaves under t, and each table entry against its child. */
static int check_tables(struct vidmm *mm, struct vidmm_va_table *t, uint64_t *valid, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < entries_per_table(mm); i++) {
		struct kmt_pte p;
		if (mm->ddi->read_pte(mm->drv, t->mem.seg, t->mem.offset, i, !is_leaf(mm, t), &p))
			return fail(err, errlen, "page table at %llu: entry %llu unreadable", t->mem.offset, i);
		if (is_leaf(mm, t)) {
			*valid += !!(p.flags & KMT_PTE_VALID);
			continue;
		}
		struct vidmm_va_table *c = t->child[i];
		if (!c != !(p.flags & KMT_PTE_VALID) ||
		    (c && (!(p.flags & KMT_PTE_TABLE) || p.address != vidmm_gpu_address(mm, &c->mem))))
			return fail(err, errlen, "page table at %llu: entry %llu disagrees with the tree",
				    t->mem.offset, i);
		if (c) {
			if (c->mem.seg == VIDMM_SYS)
				return fail(err, errlen, "page table of level %llu evicted%.0llu", c->level, 0);
			int rc = check_tables(mm, c, valid, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int vidmm_va_check(struct vidmm *mm, struct vidmm_va_space *vs, char *err, size_t errlen)
{
	if (vidmm_va_tree_check(&vs->reserved) || vidmm_va_tree_check(&vs->mapped))
		return fail(err, errlen, "VA space %llu: range trees damaged%.0llu", vs->asid, 0);
	uint64_t expect_valid = 0;
	if (hw_device_removed(mm->hw))
		return 0; /* its memory holds nothing worth comparing any more */
	for (struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, 0); n; n = vidmm_va_tree_next(&vs->mapped, n)) {
		struct vidmm_va_mapping *m = mapping_of(n);
		struct vidmm_va_reservation *r = reservation_at(vs, n->start, n->size);
		if (!r)
			return fail(err, errlen, "mapping at 0x%llx (+0x%llx) outside a reservation", n->start, n->size);
		if (!m->alloc != r->kernel || (!m->alloc && n->size != PAGE))
			return fail(err, errlen, "mapping at 0x%llx: kernel pages and allocations mixed%.0llu", n->start,
				    0);
		if (m->alloc && (m->alloc_offset + n->size > m->alloc->size || m->alloc->seg == GPUSIM_SEG_NONE))
			return fail(err, errlen, "mapping at 0x%llx maps past or freed allocation %llu", n->start,
				    m->alloc->handle);
		bool linked = !m->alloc;
		for (struct vidmm_va_mapping *x = m->alloc ? m->alloc->va_maps : NULL; x && !linked; x = x->alloc_next)
			linked = x == m;
		if (!linked)
			return fail(err, errlen, "mapping at 0x%llx missing from allocation %llu's list", n->start,
				    m->alloc->handle);
		for (uint64_t va = n->start; va < n->start + n->size; va += PAGE) {
			struct vidmm_va_table *t;
			struct kmt_pte want = pte_of(mm, m, va), got;
			if (leaf_for(mm, vs, va, false, &t) || !t)
				return fail(err, errlen, "mapped VA 0x%llx has no page table%.0llu", va, 0);
			if (mm->ddi->read_pte(mm->drv, t->mem.seg, t->mem.offset, index_at(mm, t->level, va), false,
					      &got))
				return fail(err, errlen, "VA 0x%llx: entry unreadable%.0llu", va, 0);
			if (got.flags != want.flags || (want.flags && got.address != want.address))
				return fail(err, errlen, "VA 0x%llx: entry disagrees with allocation %llu's placement",
					    va, m->alloc ? m->alloc->handle : 0);
			expect_valid += !!(want.flags & KMT_PTE_VALID);
		}
	}
	uint64_t valid = 0;
	int rc = check_tables(mm, vs->root, &valid, err, errlen);
	if (rc)
		return rc;
	if (valid != expect_valid)
		return fail(err, errlen, "%llu valid page-table entries, %llu mapped pages resident", valid,
			    expect_valid);
	return 0;
}

/* ---- snapshots --------------------------------------------------------------- */

static int walk(struct vidmm *mm, const struct vidmm_va_table *t, uint32_t slot,
		int (*fn)(void *, const struct vidmm_alloc *, uint32_t, uint32_t), void *ctx)
{
	int rc = fn(ctx, &t->mem, t->level, slot);
	if (t->child)
		for (uint32_t i = 0; i < entries_per_table(mm) && !rc; i++)
			if (t->child[i])
				rc = walk(mm, t->child[i], i, fn, ctx);
	return rc;
}

int vidmm_va_walk_tables(struct vidmm *mm, const struct vidmm_va_space *vs,
			 int (*fn)(void *ctx, const struct vidmm_alloc *mem, uint32_t level, uint32_t slot),
			 void *ctx)
{
	return vs->root ? walk(mm, vs->root, 0, fn, ctx) : 0;
}

/* Frees the structures only: the memory stays in its segment's books. */
static void table_drop(struct vidmm *mm, struct vidmm_va_table *t)
{
	if (!t)
		return;
	if (t->child)
		for (uint32_t i = 0; i < entries_per_table(mm); i++)
			table_drop(mm, t->child[i]);
	free(t->child);
	free(t);
}

static int load_fail(char *err, size_t len, const char *what, uint64_t i)
{
	if (err && len)
		snprintf(err, len, "page table %llu %s", (unsigned long long)i, what);
	return -EINVAL;
}

int vidmm_va_space_load(struct vidmm *mm, uint32_t asid, uint64_t fence, const struct vidmm_va_table_rec *t,
			uint64_t n, struct vidmm_va_space **out, char *err, size_t errlen)
{
	if (!mm->has_mmu)
		return load_fail(err, errlen, "belongs to a driver without a GPU MMU", 0);
	if (!n || t[0].level != 0)
		return load_fail(err, errlen, "is missing: a space needs its root", 0);
	struct vidmm_va_space *vs = calloc(1, sizeof(*vs));
	/* The path from the root to the last table made, one per level. */
	struct vidmm_va_table **path = calloc(mm->mmu.levels, sizeof(*path));
	if (!vs || !path) {
		free(vs);
		free(path);
		return -ENOMEM;
	}
	vs->asid = asid;
	vs->fence = fence;
	vs->limit = 1ull << mm->mmu.va_bits;
	int rc = 0;
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint32_t lv = t[i].level;
		if (lv >= mm->mmu.levels || (i && (lv == 0 || !path[lv - 1])) || t[i].slot >= entries_per_table(mm) ||
		    (lv == 0 && (i || t[i].slot))) {
			rc = load_fail(err, errlen, "is out of place in the tree", i);
			break;
		}
		struct vidmm_va_table *parent = lv ? path[lv - 1] : NULL;
		if (parent && parent->child[t[i].slot]) {
			rc = load_fail(err, errlen, "takes a slot another table holds", i);
			break;
		}
		struct vidmm_va_table *x = calloc(1, sizeof(*x));
		if (!x || (lv + 1 < mm->mmu.levels && !(x->child = calloc(entries_per_table(mm), sizeof(*x->child))))) {
			free(x);
			rc = -ENOMEM;
			break;
		}
		x->level = lv;
		x->mem = *t[i].mem;
		x->mem.pages = NULL;
		x->mem.pol_prev = x->mem.pol_next = NULL;
		x->mem.pol_bucket = NULL;
		x->mem.lock_ptr = NULL;
		x->mem.owner = NULL;
		x->mem.va_maps = NULL;
		if (parent)
			parent->child[t[i].slot] = x;
		else
			vs->root = x;
		path[lv] = x;
		/* Deeper paths end here: a later record at a deeper level must hang
		 * below this table, not below an earlier sibling. */
		for (uint32_t k = lv + 1; k < mm->mmu.levels; k++)
			path[k] = NULL;
		vs->tables++;
	}
	free(path);
	if (rc) {
		table_drop(mm, vs->root);
		free(vs);
		return rc;
	}
	*out = vs;
	return 0;
}

int vidmm_va_load_reservation(struct vidmm_va_space *vs, uint64_t start, uint64_t size, uint32_t type,
			      bool kernel)
{
	if (!size || !page_aligned(start) || !page_aligned(size) || start < VIDMM_VA_FLOOR || start >= vs->limit ||
	    size > vs->limit - start)
		return -EINVAL;
	struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->reserved, start);
	if (n && n->start < start + size)
		return -EINVAL;
	struct vidmm_va_reservation *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->node.start = start;
	r->node.size = size;
	r->type = type;
	r->kernel = kernel;
	vidmm_va_tree_insert(&vs->reserved, &r->node);
	return 0;
}

int vidmm_va_load_mapping(struct vidmm_va_space *vs, uint64_t start, uint64_t size, struct vidmm_alloc *a,
			  uint64_t offset, uint64_t pfn, bool read_only, struct vidmm_va_mapping **out)
{
	if (!size || !page_aligned(start) || !page_aligned(size))
		return -EINVAL;
	struct vidmm_va_reservation *r = reservation_at(vs, start, size);
	if (!r || r->kernel != !a || (!a && (size != PAGE || offset || read_only)) ||
	    (a && (pfn || !page_aligned(offset) || offset > a->size || size > a->size - offset)))
		return -EINVAL;
	struct vidmm_va_node *n = vidmm_va_tree_ceil(&vs->mapped, start);
	if (n && n->start < start + size)
		return -EINVAL;
	struct vidmm_va_mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->node.start = start;
	m->node.size = size;
	m->vs = vs;
	m->alloc = a;
	m->alloc_offset = offset;
	m->pfn = pfn;
	m->read_only = read_only;
	vidmm_va_tree_insert(&vs->mapped, &m->node);
	*out = m;
	return 0;
}

void vidmm_va_load_link(struct vidmm_va_mapping *m)
{
	alloc_link(m);
}

void vidmm_va_space_attach(struct vidmm *mm, struct vidmm_va_space *vs)
{
	struct vidmm_va_space **pp = &mm->va_spaces;
	while (*pp)
		pp = &(*pp)->next;
	vs->next = NULL;
	*pp = vs;
}

void vidmm_va_space_discard(struct vidmm *mm, struct vidmm_va_space *vs)
{
	if (!vs)
		return;
	for (struct vidmm_va_space **pp = &mm->va_spaces; *pp; pp = &(*pp)->next)
		if (*pp == vs) {
			*pp = vs->next;
			break;
		}
	struct vidmm_va_node *n;
	while ((n = vs->mapped.root)) {
		struct vidmm_va_mapping *m = mapping_of(n);
		vidmm_va_tree_remove(&vs->mapped, n);
		if (m->alloc)
			m->alloc->va_maps = NULL; /* every mapping of the restore goes */
		free(m);
	}
	while ((n = vs->reserved.root)) {
		vidmm_va_tree_remove(&vs->reserved, n);
		free(reservation_of(n));
	}
	table_drop(mm, vs->root);
	free(vs);
}
