/*
 * The device's state as data, for snapshots: get and set everything that is not
 * memory (registers behind BAR0, the TLB, the page allocator, counters), a
 * side-effect-free register dump, and the scan for the pages that hold data.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/hw_internal.h"

int hw_device_get_state(struct hw_device *dev, struct hw_device_state *st)
{
	memset(st, 0, sizeof(*st));
	uint32_t n = dev->gart.tlb_mask + 1;
	uint64_t *tlb = malloc(sizeof(uint64_t) * 2 * n);
	if (!tlb)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		tlb[2 * i] = dev->gart.tlb[i].page;
		/* An empty slot's entry is stale garbage nobody reads: write 0. */
		tlb[2 * i + 1] = dev->gart.tlb[i].page == UINT64_MAX ? 0 : dev->gart.tlb[i].entry;
	}
	st->now = dev->now;
	st->clock_hi_latch = dev->clock_hi_latch;
	st->gart_ctrl = dev->gart.ctrl;
	st->gart_table = dev->gart.table;
	st->tlb = tlb;
	st->ntlb = n;
	st->irq_status = dev->irq.status;
	st->irq_mask = dev->irq.mask;
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		const struct hw_ring *r = &dev->rings[i];
		st->rings[i] = (struct hw_ring_state){
			.base = r->base, .size = r->size, .rptr = r->rptr, .wptr = r->wptr,
			.fetch_wptr = r->fetch_wptr, .ctrl = r->ctrl, .stopped = r->stopped,
			.waiting = r->waiting, .fence = r->fence, .ready_at = r->ready_at,
		};
	}
	st->fault_addr = dev->fault_addr;
	st->fault_cause = dev->fault_cause;
	st->fault_ring = dev->fault_ring;
	st->removed = dev->removed;
	st->dma_error_pending = dev->dma_error_pending;
	st->stats = dev->stats;
	st->sys_used = dev->sysmem.used;
	st->sys_reserved = dev->sysmem.reserved;
	st->sys_next_fresh = dev->sysmem.next_fresh;
	st->sys_free = dev->sysmem.free_stack;
	st->nsys_free = dev->sysmem.nfree;
	st->oom_armed = dev->sysmem.oom_armed;
	st->oom_left = dev->sysmem.oom_left;
	st->bad_pages = dev->vram.bad;
	st->nbad = dev->vram.nbad;
	return 0;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_state(const struct hw_device *dev, const struct hw_device_state *st, char *err,
		       size_t errlen)
{
	const struct hw_config *c = &dev->cfg;
	uint64_t pages = dev->sysmem.pages;
	if (st->ntlb != dev->gart.tlb_mask + 1)
		return bad(err, errlen, "the TLB has %u entries, the configuration %u", st->ntlb,
			   dev->gart.tlb_mask + 1);
	if (st->gart_ctrl & ~(HW_GART_CTRL_ENABLE | HW_GART_CTRL_STRICT))
		return bad(err, errlen, "GART_CTRL 0x%x has unknown bits", st->gart_ctrl);
	if (st->gart_table & (HW_PAGE_SIZE - 1) || st->gart_table >= c->vram)
		return bad(err, errlen, "the GART table offset 0x%llx is not a VRAM page",
			   (unsigned long long)st->gart_table);
	for (uint32_t i = 0; i < st->ntlb; i++) {
		uint64_t page = st->tlb[2 * i];
		if (page != UINT64_MAX && ((page & (st->ntlb - 1)) != i || page >= c->gart >> HW_PAGE_SHIFT))
			return bad(err, errlen, "TLB entry %u caches aperture page %llu, which cannot be there",
				   i, (unsigned long long)page);
	}
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		const struct hw_ring_state *r = &st->rings[i];
		if (r->size && (r->size < 16 || r->size % 4))
			return bad(err, errlen, "ring %u has size %u", i, r->size);
		uint32_t lim = r->size ? r->size : 1;
		if (r->rptr >= lim || r->wptr >= lim || r->fetch_wptr >= lim ||
		    (r->rptr | r->wptr | r->fetch_wptr) % 4)
			return bad(err, errlen, "ring %u's pointers (%u, %u, %u) do not fit its size %u", i,
				   r->rptr, r->wptr, r->fetch_wptr, r->size);
		if (r->ctrl & ~(HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT) || r->stopped > 1 ||
		    r->waiting > 1 || r->base % 4)
			return bad(err, errlen, "ring %u has invalid control state", i);
	}
	if (st->fault_cause > HW_FAULT_BAD_PACKET || st->fault_ring >= HW_NUM_RINGS ||
	    st->removed > 1 || st->dma_error_pending > 1 || st->oom_armed > 1)
		return bad(err, errlen, "the fault registers or flags hold invalid values");
	if ((st->irq_status | st->irq_mask) & ~(HW_IRQ_FAULT | ((1u << HW_NUM_RINGS) - 1)))
		return bad(err, errlen, "the interrupt registers have unknown bits");
	if (st->sys_next_fresh > pages || st->nsys_free > st->sys_next_fresh ||
	    st->sys_used != st->sys_next_fresh - st->nsys_free || st->sys_reserved > pages - st->sys_used)
		return bad(err, errlen, "the system-page books do not add up (%llu used, %llu reserved, "
			   "%llu handed out, %llu returned, %llu pages)",
			   (unsigned long long)st->sys_used, (unsigned long long)st->sys_reserved,
			   (unsigned long long)st->sys_next_fresh, (unsigned long long)st->nsys_free,
			   (unsigned long long)pages);
	for (uint64_t i = 0; i < st->nbad; i++)
		if (st->bad_pages[i] >= c->vram >> HW_PAGE_SHIFT || (i && st->bad_pages[i] <= st->bad_pages[i - 1]))
			return bad(err, errlen, "the bad VRAM pages are not ascending pages of VRAM");
	return 0;
}

int hw_device_set_state(struct hw_device *dev, const struct hw_device_state *st, char *err,
			size_t errlen)
{
	int rc = check_state(dev, st, err, errlen);
	if (rc)
		return rc;
	/* Everything that can fail first, so that a failure leaves the device as it was. */
	struct hw_sysmem *s = &dev->sysmem;
	uint8_t *alloc = calloc((size_t)((s->pages + 7) / 8), 1);
	uint64_t *stack = malloc(sizeof(uint64_t) * (st->nsys_free ? st->nsys_free : 1));
	uint64_t *badp = st->nbad ? malloc(sizeof(uint64_t) * st->nbad) : NULL;
	if (!alloc || !stack || (st->nbad && !badp)) {
		free(alloc);
		free(stack);
		free(badp);
		return -ENOMEM;
	}
	for (uint64_t p = 0; p < st->sys_next_fresh; p++)
		alloc[p / 8] |= (uint8_t)(1u << (p % 8));
	for (uint64_t i = 0; i < st->nsys_free; i++) {
		uint64_t p = st->sys_free[i];
		if (p >= st->sys_next_fresh || !(alloc[p / 8] & (1u << (p % 8)))) {
			free(alloc);
			free(stack);
			free(badp);
			return bad(err, errlen, "returned system page %llu is listed twice or was never handed out",
				   (unsigned long long)p);
		}
		alloc[p / 8] &= (uint8_t)~(1u << (p % 8));
		stack[i] = p;
	}
	if (st->nbad)
		memcpy(badp, st->bad_pages, sizeof(uint64_t) * st->nbad);

	free(s->allocated);
	free(s->free_stack);
	s->allocated = alloc;
	s->free_stack = stack;
	s->nfree = (size_t)st->nsys_free;
	s->cap = st->nsys_free ? (size_t)st->nsys_free : 1;
	s->used = st->sys_used;
	s->reserved = st->sys_reserved;
	s->next_fresh = st->sys_next_fresh;
	s->oom_armed = st->oom_armed;
	s->oom_left = st->oom_left;
	free(dev->vram.bad);
	dev->vram.bad = badp;
	dev->vram.nbad = (size_t)st->nbad;

	dev->now = st->now;
	dev->clock_hi_latch = st->clock_hi_latch;
	dev->gart.ctrl = st->gart_ctrl;
	dev->gart.table = st->gart_table;
	for (uint32_t i = 0; i < st->ntlb; i++) {
		dev->gart.tlb[i].page = st->tlb[2 * i];
		dev->gart.tlb[i].entry = st->tlb[2 * i + 1];
	}
	dev->irq.status = st->irq_status;
	dev->irq.mask = st->irq_mask;
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		const struct hw_ring_state *r = &st->rings[i];
		dev->rings[i] = (struct hw_ring){
			.base = r->base, .size = r->size, .rptr = r->rptr, .wptr = r->wptr,
			.fetch_wptr = r->fetch_wptr, .ctrl = r->ctrl, .stopped = r->stopped,
			.waiting = r->waiting, .fence = r->fence, .ready_at = r->ready_at,
		};
	}
	dev->fault_addr = st->fault_addr;
	dev->fault_cause = st->fault_cause;
	dev->fault_ring = st->fault_ring;
	dev->removed = st->removed;
	dev->dma_error_pending = st->dma_error_pending;
	dev->stats = st->stats;
	return 0;
}

uint32_t hw_debug_registers(struct hw_device *dev, uint32_t *offs, uint32_t *vals, uint32_t max)
{
	static const uint32_t regs[] = {
		HW_REG_ID, HW_REG_REV, HW_REG_VRAM_SIZE_LO, HW_REG_VRAM_SIZE_HI,
		HW_REG_VISIBLE_SIZE_LO, HW_REG_VISIBLE_SIZE_HI, HW_REG_GART_SIZE_LO,
		HW_REG_GART_SIZE_HI, HW_REG_GART_BASE_LO, HW_REG_GART_BASE_HI,
		HW_REG_SYSMEM_SIZE_LO, HW_REG_SYSMEM_SIZE_HI, HW_REG_GART_CTRL,
		HW_REG_GART_TABLE_LO, HW_REG_GART_TABLE_HI, HW_REG_IRQ_STATUS, HW_REG_IRQ_MASK,
		HW_REG_FAULT_ADDR_LO, HW_REG_FAULT_ADDR_HI, HW_REG_FAULT_CAUSE, HW_REG_FAULT_RING,
		HW_REG_CLOCK_LO, HW_REG_CLOCK_HI, HW_REG_STATUS,
	};
	static const uint32_t ring_regs[] = {
		HW_RING_BASE_LO, HW_RING_BASE_HI, HW_RING_SIZE, HW_RING_RPTR, HW_RING_WPTR,
		HW_RING_CTRL, HW_RING_STATUS, HW_RING_FENCE_LO, HW_RING_FENCE_HI,
	};
	uint32_t total = (uint32_t)(sizeof(regs) / sizeof(regs[0]) +
				    HW_NUM_RINGS * sizeof(ring_regs) / sizeof(ring_regs[0]));
	/* Looking must not change what is looked at: the CLOCK_HI latch is put back,
	 * and a removed device is read as it was before it went. */
	uint32_t latch = dev->clock_hi_latch;
	bool removed = dev->removed;
	dev->removed = false;
	uint32_t n = 0;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++, n++)
		if (n < max) {
			offs[n] = regs[i];
			vals[n] = regs[i] == HW_REG_CLOCK_HI ? (uint32_t)(dev->now >> 32)
							     : hw_mmio_read(dev, regs[i]);
		}
	for (unsigned r = 0; r < HW_NUM_RINGS; r++)
		for (size_t i = 0; i < sizeof(ring_regs) / sizeof(ring_regs[0]); i++, n++)
			if (n < max) {
				offs[n] = HW_REG_RING(r, ring_regs[i]);
				vals[n] = hw_mmio_read(dev, offs[n]);
			}
	dev->removed = removed;
	dev->clock_hi_latch = latch;
	return total;
}

void *hw_debug_sysmem(struct hw_device *dev, uint64_t pfn, uint64_t n)
{
	if (pfn > dev->sysmem.pages || n > dev->sysmem.pages - pfn)
		return NULL;
	return dev->sysmem.base + (pfn << HW_PAGE_SHIFT);
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;
	for (size_t i = 0; i < HW_PAGE_SIZE / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return false;
	return true;
}

int hw_debug_populated(struct hw_device *dev, int space,
		       int (*fn)(void *opaque, uint64_t off, uint64_t len), void *opaque)
{
	uint8_t *base = space ? dev->sysmem.base : dev->vram.base;
	uint64_t pages = space ? dev->sysmem.pages : dev->vram.size >> HW_PAGE_SHIFT;
	/* mincore says which pages the host ever committed: a 16 GiB VRAM with 1 GiB
	 * used is scanned in the time it takes to read 1 GiB, not 16. A committed
	 * page may still hold only zeros (read, or written with zeros): those are left
	 * out too, so that the ranges depend on the contents alone. */
	enum { CHUNK = 16384 };
	unsigned char vec[CHUNK];
	uint64_t run_start = 0, run_len = 0;
	for (uint64_t p = 0; p < pages; p += CHUNK) {
		uint64_t n = pages - p < CHUNK ? pages - p : CHUNK;
		bool have_vec = mincore(base + (p << HW_PAGE_SHIFT), n << HW_PAGE_SHIFT, vec) == 0;
		for (uint64_t i = 0; i < n; i++) {
			bool data = (!have_vec || (vec[i] & 1)) &&
				    !page_is_zero(base + ((p + i) << HW_PAGE_SHIFT));
			if (data) {
				if (!run_len)
					run_start = p + i;
				run_len++;
				continue;
			}
			if (run_len) {
				int rc = fn(opaque, run_start << HW_PAGE_SHIFT, run_len << HW_PAGE_SHIFT);
				if (rc)
					return rc;
				run_len = 0;
			}
		}
	}
	if (run_len)
		return fn(opaque, run_start << HW_PAGE_SHIFT, run_len << HW_PAGE_SHIFT);
	return 0;
}
