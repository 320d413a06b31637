/*
 * GPU virtual address spaces (WDDM 2.0 GpuMmu model): reservations and mappings
 * as ordered range sets (kmt/vidmm/vatree.h), and the page tables, which live in
 * GPU memory the manager allocates (pinned, kernel-owned allocations) and which
 * the driver writes through paging operations (UPDATE_PAGE_TABLE, FLUSH_TLB). A
 * mapping names an allocation and an offset in it, not a place: when the
 * allocation moves or is evicted the manager rewrites its entries (pointing at the
 * new place, or not present while it has no GPU path), so a VA outlives every
 * move. Errors are negative errno values.
 */
#ifndef KMT_VIDMM_VASPACE_H
#define KMT_VIDMM_VASPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmt/vidmm/vatree.h"

struct vidmm;
struct vidmm_alloc;
struct vidmm_va_table;

/* The lowest address handed out: 0 is D3DGPU_NULL, and the first 64 KiB stay
 * unmapped so that a small offset from a null pointer faults. */
#define VIDMM_VA_FLOOR 0x10000ull

struct vidmm_va_reservation {
	struct vidmm_va_node node;
	uint32_t type;             /* D3DDDIGPUVIRTUALADDRESS_RESERVATION_TYPE's value */
	bool kernel;               /* the kernel's own: no user call may free, map,
				    * unmap or copy in it */
};

struct vidmm_va_mapping {
	struct vidmm_va_node node; /* the VA range */
	struct vidmm_va_space *vs;
	struct vidmm_alloc *alloc; /* NULL: a kernel mapping of system page pfn */
	uint64_t alloc_offset;     /* bytes into the allocation of node.start */
	uint64_t pfn;              /* alloc NULL: the one page it maps */
	bool read_only;
	struct vidmm_va_mapping *alloc_prev, *alloc_next; /* the allocation's mappings */
};

struct vidmm_va_space {
	uint32_t asid;
	uint64_t limit;            /* 1 << va_bits: addresses are below it */
	struct vidmm_va_tree reserved, mapped;
	struct vidmm_va_table *root;
	uint64_t fence;            /* paging fence of the last update of its tables */
	uint64_t tables;           /* page tables allocated */
	struct vidmm_va_space *next; /* the manager's list */
};

/* NULL when the driver has no MMU. */
bool vidmm_va_supported(struct vidmm *mm);
/* -ENODEV without an MMU, -ENOMEM. */
int vidmm_va_space_create(struct vidmm *mm, struct vidmm_va_space **out);
void vidmm_va_space_destroy(struct vidmm *mm, struct vidmm_va_space *vs);

/* Reserve size bytes (a page multiple) at base, or (base 0) anywhere in
 * [min, max) (max 0: the whole space). -EINVAL malformed or taken, -ENOSPC no room. */
int vidmm_va_reserve(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t min, uint64_t max,
		     uint64_t size, uint32_t type, uint64_t *va);
/* Free exactly one reservation (what Reserve or an implicit Map returned),
 * unmapping what it holds. -EINVAL when [base, base+size) is not one. */
int vidmm_va_free(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size);
/* Map npages pages of a from page `first` at *va: inside one reservation when
 * *va != 0 (replacing what is mapped there), else in a new reservation within
 * [min, max). The entries are queued: *fence is the paging fence that completes
 * them. -EINVAL, -ENOSPC, -ENOMEM (page tables). */
int vidmm_va_map(struct vidmm *mm, struct vidmm_va_space *vs, struct vidmm_alloc *a, uint64_t first,
		 uint64_t npages, bool read_only, uint64_t min, uint64_t max, uint64_t *va, uint64_t *fence);
/* Unmap [base, base+size) inside one reservation (holes allowed). */
int vidmm_va_unmap(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size, uint64_t *fence);
/* Make [dst, dst+size) map what [src, src+size) maps (holes stay holes). */
int vidmm_va_copy(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t src, uint64_t dst, uint64_t size,
		  uint64_t *fence);
/* The kernel's own range [base, base+size) (monitored fence pages): -EINVAL when
 * taken or malformed. */
int vidmm_va_reserve_kernel(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t base, uint64_t size);
/* Map (read-write) or unmap one system page at va inside a kernel range, waited
 * for. */
int vidmm_va_map_system(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t va, uint64_t pfn);
int vidmm_va_unmap_system(struct vidmm *mm, struct vidmm_va_space *vs, uint64_t va);
/* Whether [base, base+size) lies inside one reservation a user may use. */
bool vidmm_va_reserved(const struct vidmm_va_space *vs, uint64_t base, uint64_t size);
/* The mapping holding va, or NULL. */
struct vidmm_va_mapping *vidmm_va_lookup(const struct vidmm_va_space *vs, uint64_t va);
/* GPU address of the root table (for the driver's address-space switch). */
uint64_t vidmm_va_root(struct vidmm *mm, const struct vidmm_va_space *vs);

/* The manager's hooks (kmt/vidmm/place.c, vidmm.c): a leaves its place (entries
 * not present, waited for, before its memory is reused), enters a new one
 * (entries rewritten), or dies (its mappings go; the reservations stay). */
void vidmm_va_alloc_leaving(struct vidmm *mm, struct vidmm_alloc *a);
void vidmm_va_alloc_entered(struct vidmm *mm, struct vidmm_alloc *a);
void vidmm_va_alloc_gone(struct vidmm *mm, struct vidmm_alloc *a);

/* The trees, the page tables against the placements of what they map (read from
 * GPU memory once their updates have completed), and no valid entry outside a
 * mapping: 0, or -EFAULT with a sentence. */
int vidmm_va_check(struct vidmm *mm, struct vidmm_va_space *vs, char *err, size_t errlen);
/* Each page-table allocation, for vidmm_check's books. */
int vidmm_va_each_table(struct vidmm *mm, int (*fn)(void *ctx, struct vidmm_alloc *a), void *ctx);

/* ---- snapshots (kmt/snapshot/) ------------------------------------------------ */

/* Each table of vs in preorder (a parent before its children, children by slot):
 * its memory, its level and its slot in its parent (0 for the root). */
int vidmm_va_walk_tables(struct vidmm *mm, const struct vidmm_va_space *vs,
			 int (*fn)(void *ctx, const struct vidmm_alloc *mem, uint32_t level, uint32_t slot),
			 void *ctx);

/* A saved table: what vidmm_va_walk_tables gave; its memory is copied (its
 * pointers are not read). */
struct vidmm_va_table_rec {
	uint32_t level, slot;
	const struct vidmm_alloc *mem;
};

/* A space rebuilt from its tables in preorder, not in the manager's list and
 * holding nothing yet: -EINVAL with a sentence when the records are not a
 * tree this manager could have made, -ENOMEM. The tables' memory is the
 * caller's to have checked against the segments. */
int vidmm_va_space_load(struct vidmm *mm, uint32_t asid, uint64_t fence, const struct vidmm_va_table_rec *t,
			uint64_t n, struct vidmm_va_space **out, char *err, size_t errlen);
/* A saved reservation: -EINVAL when malformed, outside the space or over another. */
int vidmm_va_load_reservation(struct vidmm_va_space *vs, uint64_t start, uint64_t size, uint32_t type,
			      bool kernel);
/* A saved mapping in the space's books, not yet in a's list (vidmm_va_load_link):
 * -EINVAL when malformed, outside one reservation, over another mapping, of the
 * wrong kind for its reservation, or past a's end. */
int vidmm_va_load_mapping(struct vidmm_va_space *vs, uint64_t start, uint64_t size, struct vidmm_alloc *a,
			  uint64_t offset, uint64_t pfn, bool read_only, struct vidmm_va_mapping **out);
/* Put m at the head of its allocation's list. */
void vidmm_va_load_link(struct vidmm_va_mapping *m);
/* Add vs at the end of the manager's list. */
void vidmm_va_space_attach(struct vidmm *mm, struct vidmm_va_space *vs);
/* Drop a loaded space without touching GPU memory or the segments' books (a
 * refused restore): its allocations' lists are emptied, it leaves the manager's
 * list if it is there. */
void vidmm_va_space_discard(struct vidmm *mm, struct vidmm_va_space *vs);

#endif
