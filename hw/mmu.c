/*
 * GPU virtual memory: page-table walks, the per-engine TLBs and their invalidation,
 * and the translation of a ring's virtual ranges into host memory. Like the GART's,
 * the TLB keeps serving what it cached until the driver invalidates it.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "hw/addrmap.h"
#include "hw/mmu.h"

/* A walk reads memory in transactions of this many bytes (for its cost): a
 * directory entry costs one, and so does the leaf line of HW_MMU_LINE_PTES entries. */
#define WALK_READ_BYTES 64u

static size_t tlb_lines(const struct hw_mmu_tlb *t)
{
	return (size_t)t->sets * t->ways;
}

static void tlb_flush_all(struct hw_mmu_tlb *t)
{
	/* Lines of an older generation are dead: no need to touch them. */
	if (++t->gen == 0) {
		memset(t->line, 0, sizeof(*t->line) * tlb_lines(t));
		memset(t->pte, 0, sizeof(*t->pte) * tlb_lines(t) * HW_MMU_LINE_PTES);
		t->gen = 1;
	}
}

int hw_mmu_init(struct hw_mmu *m, const struct hw_config *cfg)
{
	uint32_t lines = cfg->vm_tlb_entries / HW_MMU_LINE_PTES;
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		struct hw_mmu_tlb *t = &m->tlb[i];
		/* calloc: a big TLB costs host memory only once it is used. */
		t->line = calloc(lines, sizeof(*t->line));
		t->pte = calloc((size_t)lines * HW_MMU_LINE_PTES, sizeof(*t->pte));
		if (!t->line || !t->pte) {
			hw_mmu_fini(m);
			return -ENOMEM;
		}
		t->ways = lines < HW_MMU_TLB_WAYS ? lines : HW_MMU_TLB_WAYS;
		t->sets = lines / t->ways;
		t->gen = 1;
	}
	return 0;
}

void hw_mmu_fini(struct hw_mmu *m)
{
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		free(m->tlb[i].line);
		free(m->tlb[i].pte);
		m->tlb[i].line = NULL;
		m->tlb[i].pte = NULL;
	}
	for (unsigned i = 0; i < sizeof(m->span) / sizeof(m->span[0]); i++) {
		free(m->span[i].run);
		m->span[i] = (struct hw_mmu_span){ 0 };
	}
}

void hw_mmu_reset(struct hw_mmu *m)
{
	memset(m->ctx, 0, sizeof(m->ctx));
	for (unsigned i = 0; i < HW_NUM_RINGS; i++)
		tlb_flush_all(&m->tlb[i]);
	m->fault_va = 0;
	m->fault_cause = m->fault_ring = m->fault_asid = m->fault_info = 0;
	m->walk_vram = m->walk_pcie = 0;
}

bool hw_mmu_enabled(const struct hw_device *dev, unsigned ring)
{
	return dev->mmu.ctx[ring].ctrl & HW_VM_CTRL_ENABLE;
}

uint32_t hw_mmu_ring_reg_read(struct hw_device *dev, unsigned ring, uint32_t reg)
{
	const struct hw_mmu_ctx *c = &dev->mmu.ctx[ring];
	switch (reg) {
	case HW_RING_VM_CTRL: return c->ctrl;
	case HW_RING_VM_ROOT_LO: return (uint32_t)c->root;
	case HW_RING_VM_ROOT_HI: return (uint32_t)(c->root >> 32);
	case HW_RING_VM_ASID: return c->asid;
	default: return 0;
	}
}

void hw_mmu_ring_reg_write(struct hw_device *dev, unsigned ring, uint32_t reg, uint32_t v)
{
	struct hw_mmu_ctx *c = &dev->mmu.ctx[ring];
	switch (reg) {
	case HW_RING_VM_CTRL: c->ctrl = v & (HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT); break;
	case HW_RING_VM_ROOT_LO:
		c->root = (c->root & ~0xffffffffull) | (v & ~(uint32_t)(HW_PAGE_SIZE - 1));
		break;
	case HW_RING_VM_ROOT_HI: c->root = (c->root & 0xffffffffull) | (uint64_t)v << 32; break;
	case HW_RING_VM_ASID: c->asid = v & HW_VM_ASID_MASK; break;
	case HW_RING_VM_INVALIDATE:
		if (v == HW_VM_INVALIDATE_ALL)
			hw_mmu_invalidate(dev, ring, HW_PKT_TLBINV_ALL, 0, 0, 0);
		else
			hw_mmu_invalidate(dev, ring, HW_PKT_TLBINV_ASID, v & HW_VM_ASID_MASK, 0, 0);
		break;
	default: break;
	}
}

void hw_mmu_set_context(struct hw_device *dev, unsigned ring, uint64_t root, uint32_t asid,
			uint32_t ctrl)
{
	struct hw_mmu_ctx *c = &dev->mmu.ctx[ring];
	c->root = root & HW_VM_ADDR_MASK;
	c->asid = asid & HW_VM_ASID_MASK;
	c->ctrl = ctrl & (HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT);
}

/* ---- the TLB: sets of lines in order of use ---------------------------------- */

/* The group number folded with its high bits, so that buffers far apart in the
 * address space (a copy's source and destination) spread over the sets instead of
 * piling into the same ones group for group. */
static inline uint32_t set_of(const struct hw_mmu_tlb *t, uint64_t vline)
{
	return (uint32_t)((vline ^ (vline >> 12) ^ (vline >> 24)) & (t->sets - 1));
}

uint32_t hw_mmu_tlb_set(const struct hw_mmu_tlb *t, uint64_t vline)
{
	return set_of(t, vline);
}

/* The live line of (vline, asid, size) as a line index, or -1. */
static long tlb_find(const struct hw_mmu_tlb *t, uint64_t vline, uint32_t asid, bool large)
{
	size_t first = (size_t)set_of(t, vline) * t->ways;
	for (size_t i = first; i < first + t->ways; i++) {
		const struct hw_mmu_tlb_line *l = &t->line[i];
		if (l->vline == vline && l->asid == asid && l->large == large && hw_mmu_line_live(t, l))
			return (long)i;
	}
	return -1;
}

/* Move line i of its set to way 0, the most recently used; returns its new index. */
static size_t tlb_touch(struct hw_mmu_tlb *t, size_t i)
{
	size_t first = i & ~(size_t)(t->ways - 1); /* ways: a power of two */
	if (i == first)
		return i;
	struct hw_mmu_tlb_line l = t->line[i];
	uint64_t pte[HW_MMU_LINE_PTES];
	memcpy(pte, &t->pte[i * HW_MMU_LINE_PTES], sizeof(pte));
	memmove(&t->line[first + 1], &t->line[first], (i - first) * sizeof(*t->line));
	memmove(&t->pte[(first + 1) * HW_MMU_LINE_PTES], &t->pte[first * HW_MMU_LINE_PTES],
		(i - first) * sizeof(pte));
	t->line[first] = l;
	memcpy(&t->pte[first * HW_MMU_LINE_PTES], pte, sizeof(pte));
	return first;
}

/* Cache a line read by a walk: the entries `line` holds that are VALID, merged into
 * the line's live copy `found` (tlb_find's answer; its entries win: they are what
 * the TLB already serves) or put in the set's last dead way, else in its least
 * recently used. Returns the line's index, at way 0. */
static size_t tlb_fill(struct hw_mmu_tlb *t, long found, uint64_t vline, uint32_t asid, bool large,
		       const uint64_t line[HW_MMU_LINE_PTES])
{
	uint32_t valid = 0;
	for (unsigned j = 0; j < HW_MMU_LINE_PTES; j++)
		if (line[j] & HW_PTE_VALID)
			valid |= 1u << j;
	size_t i;
	if (found >= 0) {
		i = (size_t)found;
		uint64_t *p = &t->pte[i * HW_MMU_LINE_PTES];
		uint32_t add = valid & ~t->line[i].valid;
		for (unsigned j = 0; j < HW_MMU_LINE_PTES; j++)
			if (add & (1u << j))
				p[j] = line[j];
		t->line[i].valid |= add;
		return tlb_touch(t, i);
	}
	size_t first = (size_t)set_of(t, vline) * t->ways;
	i = first + t->ways - 1;
	for (size_t k = first + t->ways; k-- > first;)
		if (!hw_mmu_line_live(t, &t->line[k])) {
			i = k;
			break;
		}
	/* The ways before the victim move down one; the new line goes to way 0. */
	memmove(&t->line[first + 1], &t->line[first], (i - first) * sizeof(*t->line));
	memmove(&t->pte[(first + 1) * HW_MMU_LINE_PTES], &t->pte[first * HW_MMU_LINE_PTES],
		(i - first) * HW_MMU_LINE_PTES * sizeof(*t->pte));
	t->line[first] = (struct hw_mmu_tlb_line){
		.vline = vline, .gen = t->gen, .asid = asid, .large = large, .valid = valid,
	};
	memcpy(&t->pte[first * HW_MMU_LINE_PTES], line, HW_MMU_LINE_PTES * sizeof(*line));
	return first;
}

/* The bits of a line whose pages meet the 4 KiB pages [lo, hi). */
static uint32_t line_overlap(const struct hw_mmu_tlb_line *l, uint64_t lo, uint64_t hi)
{
	unsigned per = l->large ? HW_LARGE_PAGE_SIZE / HW_PAGE_SIZE : 1; /* 4 KiB pages per entry */
	uint64_t first = (l->vline << HW_MMU_LINE_SHIFT) * per;
	uint32_t bits = 0;
	for (unsigned j = 0; j < HW_MMU_LINE_PTES; j++) {
		uint64_t a = first + (uint64_t)j * per;
		if (a < hi && a + per > lo)
			bits |= 1u << j;
	}
	return bits;
}

static void line_drop(struct hw_mmu_tlb_line *l, uint32_t bits)
{
	l->valid &= ~bits;
	if (!l->valid)
		l->gen = 0;
}

static void tlb_invalidate(struct hw_mmu_tlb *t, uint32_t flags, uint32_t asid, uint64_t va,
			   uint64_t pages)
{
	if (flags & HW_PKT_TLBINV_ALL) {
		tlb_flush_all(t);
		return;
	}
	size_t n = tlb_lines(t);
	uint64_t lo = va >> HW_PAGE_SHIFT, hi = lo + pages; /* pages < 2^32: no wrap */
	uint64_t groups = pages ? ((hi - 1) >> HW_MMU_LINE_SHIFT) - (lo >> HW_MMU_LINE_SHIFT) + 1 : 0;
	if ((flags & HW_PKT_TLBINV_ASID) || groups > n / 2) {
		for (size_t i = 0; i < n; i++) {
			struct hw_mmu_tlb_line *l = &t->line[i];
			if (!hw_mmu_line_live(t, l) || l->asid != asid)
				continue;
			line_drop(l, (flags & HW_PKT_TLBINV_ASID) ? l->valid : line_overlap(l, lo, hi));
		}
		return;
	}
	if (!pages)
		return;
	/* Few pages: probe the lines they can be in, of either page size. */
	for (int large = 0; large <= 1; large++) {
		unsigned shift = HW_MMU_LINE_SHIFT + (large ? HW_LARGE_PAGE_SHIFT - HW_PAGE_SHIFT : 0);
		for (uint64_t g = lo >> shift; g <= (hi - 1) >> shift; g++) {
			long i = tlb_find(t, g, asid, large);
			if (i >= 0)
				line_drop(&t->line[i], line_overlap(&t->line[i], lo, hi));
		}
	}
}

void hw_mmu_invalidate(struct hw_device *dev, unsigned ring, uint32_t flags, uint32_t asid,
		       uint64_t va, uint64_t pages)
{
	for (unsigned i = 0; i < HW_NUM_RINGS; i++)
		if (ring == HW_NUM_RINGS || ring == i)
			tlb_invalidate(&dev->mmu.tlb[i], flags, asid & HW_VM_ASID_MASK, va, pages);
}

/* ---- walks ------------------------------------------------------------------- */

/* n page-table entries (one memory transaction, inside one 64-byte line) at GPU
 * physical address addr: VRAM or the aperture. Inlined so that n is a constant
 * and the copy a few moves: as a call, it was a `rep movs` whose start-up cost
 * was most of a walk's host time. */
static inline __attribute__((always_inline)) uint32_t pt_read(struct hw_device *dev, uint64_t addr,
							      uint64_t *e, unsigned n)
{
	size_t bytes = 8u * n;
	if (dev->vram.size >= bytes && addr <= dev->vram.size - bytes && !dev->vram.nbad) {
		memcpy(e, dev->vram.base + addr, bytes); /* the common case, without the address map */
		if (!dev->peeking)
			dev->mmu.walk_vram++;
		return HW_FAULT_NONE;
	}
	uint8_t *h;
	uint64_t got, fa;
	if (hw_addrmap_chunk(dev, addr, bytes, false, &h, &got, &fa) || got < bytes)
		return HW_FAULT_VM_PT_UNREACHABLE;
	memcpy(e, h, bytes);
	if (!dev->peeking) {
		if (hw_addrmap_in_gart(dev, addr, bytes))
			dev->mmu.walk_pcie++;
		else
			dev->mmu.walk_vram++;
	}
	return HW_FAULT_NONE;
}

/* The directories down to va's leaf table: its address, and whether it maps 64 KiB pages. */
static uint32_t walk_dirs(struct hw_device *dev, uint64_t root, uint64_t va, uint64_t *table,
			  bool *large)
{
	uint64_t t = root & HW_VM_ADDR_MASK, e = 0;
	uint64_t top_mask = (1ull << (dev->cfg.va_bits - 39)) - 1;
	uint32_t cause;
	for (unsigned shift = 39; shift >= 21; shift -= 9) {
		uint64_t idx = (va >> shift) & (shift == 39 ? top_mask : HW_VM_ENTRIES - 1);
		if ((cause = pt_read(dev, t + 8 * idx, &e, 1)))
			return cause;
		if (!dev->peeking)
			dev->mmu.stats.walk_reads++;
		if (!(e & HW_PDE_VALID))
			return HW_FAULT_VM_NOT_PRESENT;
		t = e & HW_VM_ADDR_MASK;
	}
	*table = t;
	*large = e & HW_PDE_LARGE;
	return HW_FAULT_NONE;
}

static uint64_t leaf_index(uint64_t va, bool large)
{
	return large ? (va >> HW_LARGE_PAGE_SHIFT) & (HW_VM_LARGE_ENTRIES - 1)
		     : (va >> HW_PAGE_SHIFT) & (HW_VM_ENTRIES - 1);
}

/* The leaf entry for va under root, and whether it maps a 64 KiB page. */
static uint32_t walk(struct hw_device *dev, uint64_t root, uint64_t va, uint64_t *pte, bool *large)
{
	uint64_t table, e;
	uint32_t cause;
	if ((cause = walk_dirs(dev, root, va, &table, large)) ||
	    (cause = pt_read(dev, table + 8 * leaf_index(va, *large), &e, 1)))
		return cause;
	if (!dev->peeking)
		dev->mmu.stats.walk_reads++;
	if (!(e & HW_PTE_VALID))
		return HW_FAULT_VM_NOT_PRESENT;
	*pte = e;
	return HW_FAULT_NONE;
}

/* The directories a walk of the current resolve found for one 2 MiB region:
 * memory does not change during a resolve, so reading them again would give the
 * same entries. A host shortcut only: the walk still counts, and pays for, its
 * directory reads. */
struct dir_memo {
	bool valid;
	bool large;
	uint64_t root, region, table;
	uint64_t vram, pcie; /* the transactions the directory reads cost */
};

/* The walk of a TLB miss: the directories, then the whole line holding va's entry. */
static uint32_t walk_line(struct hw_device *dev, uint64_t root, uint64_t va,
			  uint64_t line[HW_MMU_LINE_PTES], bool *large, struct dir_memo *memo)
{
	uint64_t table;
	uint32_t cause;
	if (memo->valid && memo->root == root && memo->region == va >> 21) {
		table = memo->table;
		*large = memo->large;
		if (!dev->peeking) {
			dev->mmu.walk_vram += memo->vram;
			dev->mmu.walk_pcie += memo->pcie;
			dev->mmu.stats.walk_reads += HW_VM_LEVELS - 1;
		}
	} else {
		uint64_t vram = dev->mmu.walk_vram, pcie = dev->mmu.walk_pcie;
		if ((cause = walk_dirs(dev, root, va, &table, large)))
			return cause;
		*memo = (struct dir_memo){ .valid = !dev->peeking, .large = *large, .root = root,
					   .region = va >> 21, .table = table,
					   .vram = dev->mmu.walk_vram - vram, .pcie = dev->mmu.walk_pcie - pcie };
	}
	uint64_t idx = leaf_index(va, *large);
	if ((cause = pt_read(dev, table + 8 * (idx & ~(uint64_t)(HW_MMU_LINE_PTES - 1)), line,
			     HW_MMU_LINE_PTES)))
		return cause;
	if (!dev->peeking)
		dev->mmu.stats.walk_reads++;
	if (!(line[idx % HW_MMU_LINE_PTES] & HW_PTE_VALID))
		return HW_FAULT_VM_NOT_PRESENT;
	return HW_FAULT_NONE;
}

/* Where a leaf entry puts va: a host pointer and the bytes left in its page. */
static uint32_t place(struct hw_device *dev, uint64_t pte, bool large, uint64_t va, uint8_t **host,
		      uint64_t *avail)
{
	uint64_t psize = large ? HW_LARGE_PAGE_SIZE : HW_PAGE_SIZE;
	uint64_t base = pte & HW_VM_ADDR_MASK, in = va & (psize - 1);
	uint64_t limit = (pte & HW_PTE_SYSTEM) ? dev->sysmem.pages << HW_PAGE_SHIFT : dev->vram.size;
	if ((base & (psize - 1)) || base >= limit || psize > limit - base)
		return HW_FAULT_VM_BAD_ADDR;
	*host = ((pte & HW_PTE_SYSTEM) ? dev->sysmem.base : dev->vram.base) + base + in;
	*avail = psize - in;
	return HW_FAULT_NONE;
}

/* What translate found for va. */
struct xlat {
	uint8_t *host;
	uint64_t avail; /* bytes from va that are contiguous in host memory */
	bool sys;
	unsigned shift; /* of the page size */
};

/* Does a live 4 KiB line hold va's page? Looked at first, as a lookup does. */
static bool small_cached(const struct hw_mmu_tlb *t, uint64_t va, uint32_t asid, long *at)
{
	long i = tlb_find(t, va >> (HW_PAGE_SHIFT + HW_MMU_LINE_SHIFT), asid, false);
	*at = i;
	return i >= 0 && (t->line[i].valid & (1u << ((va >> HW_PAGE_SHIFT) % HW_MMU_LINE_PTES)));
}

/* Translate va through the ring's TLB: va's page, and as many pages after it
 * (while below va + len) as the same line maps contiguously with the same flags,
 * so that a run of them is one step. It is exactly what looking up each page on
 * its own would give: the line that served the first page would serve each of
 * the others (nothing else touches the TLB between them), unless a 4 KiB line
 * holds one of them, which a lookup tries first (the run of 64 KiB pages stops
 * there). */
static uint32_t translate(struct hw_device *dev, unsigned ring, uint64_t va, uint64_t len, bool write,
			  struct xlat *x, struct dir_memo *memo)
{
	struct hw_mmu *m = &dev->mmu;
	const struct hw_mmu_ctx *c = &m->ctx[ring];
	struct hw_mmu_tlb *t = &m->tlb[ring];
	const bool strict = c->ctrl & HW_VM_CTRL_STRICT, peek = dev->peeking;
	uint64_t own[HW_MMU_LINE_PTES];
	const uint64_t *line;
	uint32_t valid, cause;
	bool large = false, hit = true;
	long i, small_line, large_line = -1; /* the live lines of va's groups, -1: none */
	if (small_cached(t, va, c->asid, &small_line)) {
		i = small_line;
	} else {
		large = true;
		i = large_line = tlb_find(t, va >> (HW_LARGE_PAGE_SHIFT + HW_MMU_LINE_SHIFT), c->asid, true);
		if (i >= 0 && !(t->line[i].valid & (1u << ((va >> HW_LARGE_PAGE_SHIFT) % HW_MMU_LINE_PTES))))
			i = -1;
	}
	if (i >= 0) {
		if (!peek) {
			m->stats.tlb_hits++;
			i = (long)tlb_touch(t, (size_t)i);
		}
		line = &t->pte[(size_t)i * HW_MMU_LINE_PTES];
		valid = t->line[i].valid;
	} else {
		hit = false;
		if (!peek)
			m->stats.tlb_misses++;
		if ((cause = walk_line(dev, c->root, va, own, &large, memo)))
			return cause; /* like the GART's, this TLB never caches a miss */
		if (peek) {
			/* Nothing is cached: the next page would be looked up afresh. */
			line = own;
			valid = 0;
		} else {
			uint64_t vline = va >> ((large ? HW_LARGE_PAGE_SHIFT : HW_PAGE_SHIFT) + HW_MMU_LINE_SHIFT);
			size_t k = tlb_fill(t, large ? large_line : small_line, vline, c->asid, large, own);
			line = &t->pte[k * HW_MMU_LINE_PTES];
			valid = t->line[k].valid;
		}
	}
	const unsigned shift = large ? HW_LARGE_PAGE_SHIFT : HW_PAGE_SHIFT;
	const unsigned j = (unsigned)((va >> shift) % HW_MMU_LINE_PTES);
	/* A missed page uses what its walk read; the line may hold an older copy. */
	const uint64_t pte = hit ? line[j] : own[j];
	if (hit && strict) {
		/* The check is the simulator looking, not a walk the engine pays for. */
		uint64_t now_pte = 0;
		bool now_large = false;
		dev->peeking = true;
		cause = walk(dev, c->root, va, &now_pte, &now_large);
		dev->peeking = peek;
		if (cause || now_pte != pte || now_large != large)
			return HW_FAULT_VM_STALE;
	}
	if (write && (pte & HW_PTE_READ_ONLY))
		return HW_FAULT_VM_READ_ONLY;
	if ((cause = place(dev, pte, large, va, &x->host, &x->avail)))
		return cause;
	x->sys = pte & HW_PTE_SYSTEM;
	/* Strict mode checks every page it uses against memory: one page a step. */
	const uint64_t psize = 1ull << shift, end = len < UINT64_MAX - va ? va + len : UINT64_MAX;
	unsigned k = j + 1;
	if (!strict) {
		uint64_t next = (va & ~(psize - 1)) + psize, last = pte & HW_VM_ADDR_MASK;
		uint64_t limit = x->sys ? dev->sysmem.pages << HW_PAGE_SHIFT : dev->vram.size;
		for (; k < HW_MMU_LINE_PTES && next < end && (valid & (1u << k)); k++, next += psize) {
			/* Same flags, the next page of memory, and still inside it. */
			if (line[k] != line[k - 1] + psize || last + psize > limit - psize)
				break;
			long at;
			if (large && small_cached(t, next, c->asid, &at))
				break;
			last += psize;
		}
		x->avail += (uint64_t)(k - j - 1) * psize;
	}
	x->shift = shift;
	return HW_FAULT_NONE;
}

/* The TLB statistics count pages, as if each had been looked up on its own:
 * translate counted the first page of a run; the others, up to the byte before
 * va + bytes, are hits. */
static void count_pages(struct hw_device *dev, const struct xlat *x, uint64_t va, uint64_t bytes)
{
	if (!dev->peeking)
		dev->mmu.stats.tlb_hits += ((va + bytes - 1) >> x->shift) - (va >> x->shift);
}

static bool span_push(struct hw_mmu_span *s, uint8_t *host, uint64_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct hw_mmu_run *r = realloc(s->run, cap * sizeof(*r));
		if (!r)
			return false;
		s->run = r;
		s->cap = cap;
	}
	s->run[s->n++] = (struct hw_mmu_run){ host, len };
	return true;
}

uint32_t hw_mmu_resolve(struct hw_device *dev, unsigned ring, uint64_t va, uint64_t len,
			bool write, struct hw_mmu_span *s, uint64_t *fault_va)
{
	const uint64_t limit = 1ull << dev->cfg.va_bits;
	struct dir_memo memo = { 0 };
	bool last_sys = false;
	s->n = 0;
	s->sys = false;
	while (len) {
		struct xlat x;
		uint64_t bad;
		uint32_t cause;
		if (va >= limit) {
			*fault_va = va;
			return HW_FAULT_VM_RANGE;
		}
		if ((cause = translate(dev, ring, va, len, write, &x, &memo))) {
			*fault_va = va;
			return cause;
		}
		uint64_t n = x.avail < len ? x.avail : len;
		if (!write && !x.sys && dev->vram.nbad) {
			uint64_t off = (uint64_t)(x.host - dev->vram.base);
			if (hw_vram_find_bad(&dev->vram, off, n, &bad)) {
				count_pages(dev, &x, va, bad - off + 1);
				*fault_va = va + (bad - off);
				return HW_FAULT_ECC;
			}
		}
		count_pages(dev, &x, va, n);
		struct hw_mmu_run *last = s->n ? &s->run[s->n - 1] : NULL;
		if (last && last_sys == x.sys && last->host + last->len == x.host) {
			last->len += n;
		} else if (!span_push(s, x.host, n)) {
			/* The host ran out of memory: the engine reports a failed transfer. */
			*fault_va = va;
			return HW_FAULT_DMA;
		}
		last_sys = x.sys;
		s->sys |= x.sys;
		va += n;
		len -= n;
	}
	return HW_FAULT_NONE;
}

static uint64_t read_cost(uint64_t reads, uint64_t bw)
{
	unsigned __int128 ns = ((unsigned __int128)reads * WALK_READ_BYTES * 1000000000u + bw - 1) / bw;
	return ns > UINT64_MAX / 2 ? UINT64_MAX / 2 : (uint64_t)ns;
}

uint64_t hw_mmu_take_walk_cost(struct hw_device *dev)
{
	struct hw_mmu *m = &dev->mmu;
	uint64_t ns = 0;
	if (m->walk_vram)
		ns += read_cost(m->walk_vram, dev->cfg.vram_bandwidth);
	if (m->walk_pcie)
		ns += read_cost(m->walk_pcie, dev->cfg.pcie_bandwidth);
	m->walk_vram = m->walk_pcie = 0;
	return ns;
}

void hw_mmu_fault_latch(struct hw_device *dev, unsigned ring, uint64_t va, uint32_t cause,
			bool write)
{
	struct hw_mmu *m = &dev->mmu;
	if (m->fault_cause)
		return;
	m->fault_cause = cause;
	m->fault_va = va;
	m->fault_ring = ring;
	m->fault_asid = m->ctx[ring].asid;
	m->fault_info = write ? HW_VM_FAULT_INFO_WRITE : 0;
}

uint32_t hw_mmu_debug_translate(struct hw_device *dev, uint64_t root, uint64_t va,
				uint64_t *phys, uint64_t *flags)
{
	uint64_t pte = 0;
	bool large = false, was = dev->peeking;
	uint8_t *h;
	uint64_t avail;
	if (va >> dev->cfg.va_bits)
		return HW_FAULT_VM_RANGE;
	dev->peeking = true;
	uint32_t cause = walk(dev, root, va, &pte, &large);
	dev->peeking = was;
	if (!cause)
		cause = place(dev, pte, large, va, &h, &avail);
	if (cause)
		return cause;
	uint64_t psize = large ? HW_LARGE_PAGE_SIZE : HW_PAGE_SIZE;
	if (phys)
		*phys = (pte & HW_VM_ADDR_MASK) + (va & (psize - 1));
	if (flags)
		*flags = (pte & ~HW_VM_ADDR_MASK) | (large ? HW_VM_DEBUG_LARGE : 0);
	return HW_FAULT_NONE;
}

void hw_mmu_get_stats(const struct hw_device *dev, struct hw_mmu_stats *out)
{
	*out = dev->mmu.stats;
}
