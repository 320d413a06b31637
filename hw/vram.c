/*
 * VRAM backing. An anonymous MAP_NORESERVE mapping means a 64 GiB device costs
 * only the pages a test actually touches; the kernel zero-fills the rest, and a
 * discarded range goes back to the host and is zero-filled again when touched.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/hw_internal.h"

int hw_vram_init(struct hw_vram *v, uint64_t size)
{
	memset(v, 0, sizeof(*v));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	v->base = p;
	v->size = size;
	return 0;
}

void hw_vram_fini(struct hw_vram *v)
{
	if (v->base)
		munmap(v->base, v->size);
	free(v->bad);
	memset(v, 0, sizeof(*v));
}

int hw_vram_mark_bad(struct hw_vram *v, uint64_t offset)
{
	if (offset >= v->size)
		return -EINVAL;
	uint64_t page = offset >> HW_PAGE_SHIFT;
	size_t i = 0;
	while (i < v->nbad && v->bad[i] < page)
		i++;
	if (i < v->nbad && v->bad[i] == page)
		return 0;
	uint64_t *nb = realloc(v->bad, (v->nbad + 1) * sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	memmove(nb + i + 1, nb + i, (v->nbad - i) * sizeof(*nb));
	nb[i] = page;
	v->bad = nb;
	v->nbad++;
	return 0;
}

bool hw_vram_find_bad(const struct hw_vram *v, uint64_t off, uint64_t len, uint64_t *bad_off)
{
	if (!v->nbad || !len)
		return false;
	uint64_t first = off >> HW_PAGE_SHIFT, last = (off + len - 1) >> HW_PAGE_SHIFT;
	for (size_t i = 0; i < v->nbad; i++) {
		if (v->bad[i] >= first && v->bad[i] <= last) {
			uint64_t a = v->bad[i] << HW_PAGE_SHIFT;
			*bad_off = a > off ? a : off;
			return true;
		}
	}
	return false;
}

void hw_vram_release(struct hw_vram *v, uint64_t off, uint64_t len)
{
	/* MADV_DONTNEED works on whole host pages, which may be larger than the
	 * device's 4 KiB: the bytes of a host page shared with a neighbour are
	 * zeroed by hand and the page stays, so a neighbour never loses a byte. */
	long hp = sysconf(_SC_PAGESIZE);
	uint64_t host = hp > 0 ? (uint64_t)hp : HW_PAGE_SIZE;
	uintptr_t start = (uintptr_t)(v->base + off), end = start + len;
	uintptr_t lo = (start + host - 1) & ~(uintptr_t)(host - 1), hi = end & ~(uintptr_t)(host - 1);
	if (lo >= hi) {
		memset(v->base + off, 0, len);
		return;
	}
	memset((void *)start, 0, lo - start);
	memset((void *)hi, 0, end - hi);
	if (madvise((void *)lo, hi - lo, MADV_DONTNEED))
		memset((void *)lo, 0, hi - lo); /* still zero, just not given back */
}

int hw_vram_discard(struct hw_device *dev, uint64_t offset, uint64_t len)
{
	struct hw_vram *v = &dev->vram;
	if (len > v->size || offset > v->size - len)
		return -EINVAL;
	if (len)
		hw_vram_release(v, offset, len);
	return 0;
}
