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

/* A walk reads memory in transactions of this many bytes (for its cost). */
#define WALK_READ_BYTES 64u

static void tlb_flush_all(struct hw_mmu_tlb *t)
{
	/* Entries of an older generation are dead: no need to touch them. */
	if (++t->gen == 0) {
		memset(t->e, 0, sizeof(*t->e) * ((size_t)t->mask + 1));
		t->gen = 1;
	}
}

int hw_mmu_init(struct hw_mmu *m, const struct hw_config *cfg)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		/* calloc: a big TLB costs host memory only once it is used. */
		m->tlb[i].e = calloc(cfg->vm_tlb_entries, sizeof(*m->tlb[i].e));
		if (!m->tlb[i].e) {
			hw_mmu_fini(m);
			return -ENOMEM;
		}
		m->tlb[i].mask = cfg->vm_tlb_entries - 1;
		m->tlb[i].gen = 1;
	}
	return 0;
}

void hw_mmu_fini(struct hw_mmu *m)
{
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		free(m->tlb[i].e);
		m->tlb[i].e = NULL;
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

/* Direct mapped, but indexed by the page number folded with its high bits, so
 * that ranges far apart in the address space (a copy's source and destination)
 * do not land on the same slots page for page. */
static struct hw_mmu_tlb_entry *slot(const struct hw_mmu_tlb *t, uint64_t vpn)
{
	return &t->e[(vpn ^ (vpn >> 12) ^ (vpn >> 24)) & t->mask];
}

static bool entry_live(const struct hw_mmu_tlb *t, const struct hw_mmu_tlb_entry *e)
{
	return e->gen == t->gen;
}

static void tlb_invalidate(struct hw_mmu_tlb *t, uint32_t flags, uint32_t asid, uint64_t va,
			   uint64_t pages)
{
	if (flags & HW_PKT_TLBINV_ALL) {
		tlb_flush_all(t);
		return;
	}
	uint64_t n = (uint64_t)t->mask + 1;
	if ((flags & HW_PKT_TLBINV_ASID) || pages > n / 2) {
		uint64_t lo = va >> HW_PAGE_SHIFT, hi = lo + pages; /* pages < 2^32: no wrap */
		for (uint64_t i = 0; i < n; i++) {
			struct hw_mmu_tlb_entry *e = &t->e[i];
			if (!entry_live(t, e) || e->asid != asid)
				continue;
			uint64_t first = e->large ? e->vpn << 4 : e->vpn, last = first + (e->large ? 16 : 1);
			if ((flags & HW_PKT_TLBINV_ASID) || (first < hi && last > lo))
				e->gen = 0;
		}
		return;
	}
	/* Few pages: probe the slots they can live in. */
	for (uint64_t p = 0; p < pages; p++) {
		uint64_t a = (va & ~(HW_PAGE_SIZE - 1)) + p * HW_PAGE_SIZE;
		struct hw_mmu_tlb_entry *e = slot(t, a >> HW_PAGE_SHIFT);
		if (entry_live(t, e) && !e->large && e->asid == asid && e->vpn == a >> HW_PAGE_SHIFT)
			e->gen = 0;
		e = slot(t, a >> HW_LARGE_PAGE_SHIFT);
		if (entry_live(t, e) && e->large && e->asid == asid && e->vpn == a >> HW_LARGE_PAGE_SHIFT)
			e->gen = 0;
	}
}

void hw_mmu_invalidate(struct hw_device *dev, unsigned ring, uint32_t flags, uint32_t asid,
		       uint64_t va, uint64_t pages)
{
	for (unsigned i = 0; i < HW_NUM_RINGS; i++)
		if (ring == HW_NUM_RINGS || ring == i)
			tlb_invalidate(&dev->mmu.tlb[i], flags, asid & HW_VM_ASID_MASK, va, pages);
}

/* One page-table entry at GPU physical address addr (VRAM or the aperture). */
static uint32_t pt_read(struct hw_device *dev, uint64_t addr, uint64_t *e)
{
	if (addr <= dev->vram.size - 8 && !dev->vram.nbad) {
		memcpy(e, dev->vram.base + addr, 8); /* the common case, without the address map */
		if (!dev->peeking)
			dev->mmu.walk_vram++;
		return HW_FAULT_NONE;
	}
	uint8_t *h;
	uint64_t n, fa;
	if (hw_addrmap_chunk(dev, addr, 8, false, &h, &n, &fa) || n < 8)
		return HW_FAULT_VM_PT_UNREACHABLE;
	memcpy(e, h, 8);
	if (!dev->peeking) {
		if (hw_addrmap_in_gart(dev, addr, 8))
			dev->mmu.walk_pcie++;
		else
			dev->mmu.walk_vram++;
	}
	return HW_FAULT_NONE;
}

/* The leaf entry for va under root, and whether it maps a 64 KiB page. */
static uint32_t walk(struct hw_device *dev, uint64_t root, uint64_t va, uint64_t *pte, bool *large)
{
	uint64_t table = root & HW_VM_ADDR_MASK, e = 0;
	uint64_t top_mask = (1ull << (dev->cfg.va_bits - 39)) - 1;
	uint32_t cause;
	for (unsigned shift = 39; shift >= 21; shift -= 9) {
		uint64_t idx = (va >> shift) & (shift == 39 ? top_mask : HW_VM_ENTRIES - 1);
		if ((cause = pt_read(dev, table + 8 * idx, &e)))
			return cause;
		if (!dev->peeking)
			dev->mmu.stats.walk_reads++;
		if (!(e & HW_PDE_VALID))
			return HW_FAULT_VM_NOT_PRESENT;
		table = e & HW_VM_ADDR_MASK;
	}
	*large = e & HW_PDE_LARGE;
	uint64_t idx = *large ? (va >> HW_LARGE_PAGE_SHIFT) & (HW_VM_LARGE_ENTRIES - 1)
			      : (va >> HW_PAGE_SHIFT) & (HW_VM_ENTRIES - 1);
	if ((cause = pt_read(dev, table + 8 * idx, &e)))
		return cause;
	if (!dev->peeking)
		dev->mmu.stats.walk_reads++;
	if (!(e & HW_PTE_VALID))
		return HW_FAULT_VM_NOT_PRESENT;
	*pte = e;
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

/* Translate the page holding va through the ring's TLB. */
static uint32_t translate(struct hw_device *dev, unsigned ring, uint64_t va, bool write,
			  uint8_t **host, uint64_t *avail, bool *sys)
{
	struct hw_mmu *m = &dev->mmu;
	const struct hw_mmu_ctx *c = &m->ctx[ring];
	struct hw_mmu_tlb *t = &m->tlb[ring];
	uint64_t pte;
	bool large;
	uint32_t cause;
	struct hw_mmu_tlb_entry *e = slot(t, va >> HW_PAGE_SHIFT);
	if (!(entry_live(t, e) && !e->large && e->asid == c->asid && e->vpn == va >> HW_PAGE_SHIFT)) {
		e = slot(t, va >> HW_LARGE_PAGE_SHIFT);
		if (!(entry_live(t, e) && e->large && e->asid == c->asid &&
		      e->vpn == va >> HW_LARGE_PAGE_SHIFT))
			e = NULL;
	}
	if (e) {
		if (!dev->peeking)
			m->stats.tlb_hits++;
		pte = e->pte;
		large = e->large;
		if (c->ctrl & HW_VM_CTRL_STRICT) {
			/* The check is the simulator looking, not a walk the engine pays for. */
			uint64_t now_pte = 0;
			bool now_large = false, was = dev->peeking;
			dev->peeking = true;
			cause = walk(dev, c->root, va, &now_pte, &now_large);
			dev->peeking = was;
			if (cause || now_pte != pte || now_large != large)
				return HW_FAULT_VM_STALE;
		}
	} else {
		if (!dev->peeking)
			m->stats.tlb_misses++;
		if ((cause = walk(dev, c->root, va, &pte, &large)))
			return cause; /* like the GART's, this TLB never caches a miss */
		if (!dev->peeking) {
			uint64_t vpn = large ? va >> HW_LARGE_PAGE_SHIFT : va >> HW_PAGE_SHIFT;
			*slot(t, vpn) = (struct hw_mmu_tlb_entry){
				.vpn = vpn, .pte = pte, .gen = t->gen, .asid = c->asid,
				.large = large,
			};
		}
	}
	if (write && (pte & HW_PTE_READ_ONLY))
		return HW_FAULT_VM_READ_ONLY;
	*sys = pte & HW_PTE_SYSTEM;
	return place(dev, pte, large, va, host, avail);
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
	bool last_sys = false;
	s->n = 0;
	s->sys = false;
	while (len) {
		uint8_t *h;
		uint64_t avail, bad;
		bool sys;
		uint32_t cause;
		if (va >= limit) {
			*fault_va = va;
			return HW_FAULT_VM_RANGE;
		}
		if ((cause = translate(dev, ring, va, write, &h, &avail, &sys))) {
			*fault_va = va;
			return cause;
		}
		uint64_t n = avail < len ? avail : len;
		if (!write && !sys && dev->vram.nbad) {
			uint64_t off = (uint64_t)(h - dev->vram.base);
			if (hw_vram_find_bad(&dev->vram, off, n, &bad)) {
				*fault_va = va + (bad - off);
				return HW_FAULT_ECC;
			}
		}
		struct hw_mmu_run *last = s->n ? &s->run[s->n - 1] : NULL;
		if (last && last_sys == sys && last->host + last->len == h) {
			last->len += n;
		} else if (!span_push(s, h, n)) {
			/* The host ran out of memory: the engine reports a failed transfer. */
			*fault_va = va;
			return HW_FAULT_DMA;
		}
		last_sys = sys;
		s->sys |= sys;
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
