/*
 * Address translation for the engines. A range is resolved in host-contiguous
 * chunks: all of VRAM at once, the aperture page by page (merging pages whose
 * system pages are consecutive), so translation costs per page, not per byte.
 */
#include <config.h>

#include <string.h>

#include "hw/hw_internal.h"
#include "hw/addrmap.h"

uint32_t hw_addrmap_chunk(struct hw_device *dev, uint64_t addr, uint64_t len, bool write,
			  uint8_t **host, uint64_t *n, uint64_t *fault_addr)
{
	const struct hw_config *c = &dev->cfg;
	if (addr < c->vram) {
		uint64_t run = c->vram - addr;
		if (run > len)
			run = len;
		uint64_t bad;
		if (!write && hw_vram_find_bad(&dev->vram, addr, run, &bad)) {
			if (bad == addr) {
				*fault_addr = addr;
				return HW_FAULT_ECC;
			}
			run = bad - addr; /* the fault is reported when we get there */
		}
		*host = dev->vram.base + addr;
		*n = run;
		return HW_FAULT_NONE;
	}
	if (addr >= c->gart_base && addr - c->gart_base < c->gart) {
		uint64_t rel = addr - c->gart_base;
		uint64_t page = rel >> HW_PAGE_SHIFT, pfn;
		uint32_t cause = hw_gart_translate(dev, page, write, &pfn);
		if (cause) {
			*fault_addr = addr;
			return cause;
		}
		uint64_t first_pfn = pfn;
		uint64_t in_page = rel & (HW_PAGE_SIZE - 1);
		uint64_t run = HW_PAGE_SIZE - in_page;
		uint64_t last_pages = c->gart >> HW_PAGE_SHIFT;
		while (run < len && page + 1 < last_pages) {
			uint64_t next;
			if (hw_gart_translate(dev, page + 1, write, &next) || next != pfn + 1)
				break; /* a fault there is reported when we get there */
			page++;
			pfn++;
			run += HW_PAGE_SIZE;
		}
		if (run > len)
			run = len;
		*host = dev->sysmem.base + (first_pfn << HW_PAGE_SHIFT) + in_page;
		*n = run;
		return HW_FAULT_NONE;
	}
	*fault_addr = addr;
	return HW_FAULT_UNMAPPED;
}

uint32_t hw_addrmap_check(struct hw_device *dev, uint64_t addr, uint64_t len, bool write,
			  struct hw_access_fault *f)
{
	while (len) {
		uint8_t *h;
		uint64_t n, fa;
		uint32_t cause = hw_addrmap_chunk(dev, addr, len, write, &h, &n, &fa);
		if (cause) {
			f->cause = cause;
			f->addr = fa;
			return cause;
		}
		addr += n;
		len -= n;
	}
	return HW_FAULT_NONE;
}

void hw_addrmap_read(struct hw_device *dev, uint64_t addr, void *buf, uint64_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint8_t *h;
		uint64_t n, fa;
		if (hw_addrmap_chunk(dev, addr, len, false, &h, &n, &fa))
			return; /* callers check first; never reached */
		memcpy(out, h, n);
		out += n;
		addr += n;
		len -= n;
	}
}

void hw_addrmap_write(struct hw_device *dev, uint64_t addr, const void *buf, uint64_t len)
{
	const uint8_t *in = buf;
	while (len) {
		uint8_t *h;
		uint64_t n, fa;
		if (hw_addrmap_chunk(dev, addr, len, true, &h, &n, &fa))
			return;
		memcpy(h, in, n);
		in += n;
		addr += n;
		len -= n;
	}
}

bool hw_addrmap_in_gart(const struct hw_device *dev, uint64_t addr, uint64_t len)
{
	const struct hw_config *c = &dev->cfg;
	if (!len || !c->gart)
		return false;
	uint64_t end = addr + len; /* may wrap: then it certainly spans high addresses */
	if (end < addr)
		return addr < c->gart_base + c->gart;
	return addr < c->gart_base + c->gart && end > c->gart_base;
}
