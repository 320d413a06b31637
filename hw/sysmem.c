/*
 * The system-memory page pool. Pages come out in a deterministic order (fresh
 * pages in ascending order, freed pages reused LIFO), and exhaustion, real or
 * injected, is how the layers above meet host-memory pressure. A freed page's
 * host memory goes back to the host, so it reads as zero when handed out again.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hw/hw_internal.h"

int hw_sysmem_init(struct hw_sysmem *s, uint64_t bytes)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->pages = bytes >> HW_PAGE_SHIFT;
	s->fd = memfd_create("gpusim-sysmem", MFD_CLOEXEC);
	if (s->fd < 0)
		return -errno;
	if (ftruncate(s->fd, (off_t)bytes) < 0)
		goto fail;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, s->fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	s->base = p;
	s->allocated = calloc((size_t)((s->pages + 7) / 8), 1);
	if (!s->allocated)
		goto fail;
	return 0;
fail:
	hw_sysmem_fini(s);
	return -ENOMEM;
}

void hw_sysmem_fini(struct hw_sysmem *s)
{
	if (s->base)
		munmap(s->base, s->pages << HW_PAGE_SHIFT);
	if (s->fd >= 0)
		close(s->fd);
	free(s->free_stack);
	free(s->allocated);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Hand out a page; the caller has checked limits. */
static uint64_t take_page(struct hw_sysmem *s)
{
	uint64_t p = s->nfree ? s->free_stack[--s->nfree] : s->next_fresh++;
	s->allocated[p / 8] |= (uint8_t)(1u << (p % 8));
	s->used++;
	return p;
}

int hw_sysmem_alloc(struct hw_device *dev, uint64_t *pfn)
{
	struct hw_sysmem *s = &dev->sysmem;
	if (!pfn)
		return -EINVAL;
	if (s->oom_armed && s->oom_left == 0)
		return -ENOMEM;
	if (s->used + s->reserved >= s->pages)
		return -ENOMEM;
	uint64_t p;
	if (s->oom_armed)
		s->oom_left--;
	p = take_page(s);
	*pfn = p;
	return 0;
}

int hw_sysmem_reserve(struct hw_device *dev, uint64_t n)
{
	struct hw_sysmem *s = &dev->sysmem;
	if (n > s->pages - s->used - s->reserved)
		return -ENOMEM;
	if (s->oom_armed) {
		if (n > s->oom_left)
			return -ENOMEM;
		s->oom_left -= n;
	}
	s->reserved += n;
	return 0;
}

void hw_sysmem_unreserve(struct hw_device *dev, uint64_t n)
{
	struct hw_sysmem *s = &dev->sysmem;
	s->reserved -= n > s->reserved ? s->reserved : n;
}

uint64_t hw_sysmem_pages_reserved(const struct hw_device *dev)
{
	return dev->sysmem.reserved;
}

int hw_sysmem_alloc_reserved(struct hw_device *dev, uint64_t *pfn)
{
	struct hw_sysmem *s = &dev->sysmem;
	if (!pfn)
		return -EINVAL;
	if (!s->reserved)
		return -ENOSPC;
	s->reserved--;
	*pfn = take_page(s);
	return 0;
}

/* Punch [pfn, pfn + n) out of the memfd: the host frees the pages, and every
 * mapping of them (the direct map, vmaps) reads zeros from then on. */
static void release(struct hw_sysmem *s, uint64_t pfn, uint64_t n)
{
	off_t off = (off_t)(pfn << HW_PAGE_SHIFT), len = (off_t)(n << HW_PAGE_SHIFT);
	if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		memset(s->base + off, 0, (size_t)len); /* still zero, just not given back */
}

/* The pool's books for one page; false when the page was not ours to free. */
static bool put_page(struct hw_sysmem *s, uint64_t pfn)
{
	if (pfn >= s->pages || !(s->allocated[pfn / 8] & (1u << (pfn % 8))))
		return false; /* not ours to free: ignore rather than corrupt the pool */
	if (s->nfree == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *ns = realloc(s->free_stack, ncap * sizeof(*ns));
		if (!ns)
			return false; /* leak the page rather than lose track of it twice */
		s->free_stack = ns;
		s->cap = ncap;
	}
	s->allocated[pfn / 8] &= (uint8_t)~(1u << (pfn % 8));
	s->free_stack[s->nfree++] = pfn;
	s->used--;
	return true;
}

void hw_sysmem_free(struct hw_device *dev, uint64_t pfn)
{
	if (put_page(&dev->sysmem, pfn))
		release(&dev->sysmem, pfn, 1);
}

void hw_sysmem_free_reserved(struct hw_device *dev, uint64_t pfn)
{
	hw_sysmem_free_reserved_pages(dev, &pfn, 1);
}

void hw_sysmem_free_reserved_pages(struct hw_device *dev, const uint64_t *pfns, uint64_t n)
{
	struct hw_sysmem *s = &dev->sysmem;
	/* One punch per run of consecutive page numbers (ascending, or descending as
	 * LIFO reuse hands them out): a syscall per page would cost more than the
	 * page faults that filled them. The pool's books see the pages one by one,
	 * in order, exactly as single frees would. */
	uint64_t lo = 0, hi = 0; /* the run [lo, hi) not yet released; empty when lo == hi */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = pfns[i];
		if (!put_page(s, pfn))
			continue;
		s->reserved++;
		if (lo < hi && pfn == hi) {
			hi++;
		} else if (lo < hi && pfn + 1 == lo) {
			lo--;
		} else {
			if (lo < hi)
				release(s, lo, hi - lo);
			lo = pfn;
			hi = pfn + 1;
		}
	}
	if (lo < hi)
		release(s, lo, hi - lo);
}

uint64_t hw_sysmem_pages_total(const struct hw_device *dev)
{
	return dev->sysmem.pages;
}

uint64_t hw_sysmem_pages_used(const struct hw_device *dev)
{
	return dev->sysmem.used;
}

void *hw_sysmem_page(struct hw_device *dev, uint64_t pfn)
{
	if (pfn >= dev->sysmem.pages)
		return NULL;
	return dev->sysmem.base + (pfn << HW_PAGE_SHIFT);
}

void *hw_sysmem_vmap(struct hw_device *dev, const uint64_t *pfns, size_t n)
{
	struct hw_sysmem *s = &dev->sysmem;
	if (!pfns || !n || n > SIZE_MAX / HW_PAGE_SIZE)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (pfns[i] >= s->pages)
			return NULL;
	size_t len = n * HW_PAGE_SIZE;
	uint8_t *va = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (va == MAP_FAILED)
		return NULL;
	/* One mmap per run of consecutive page numbers keeps big vmaps cheap. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && pfns[j] == pfns[j - 1] + 1)
			j++;
		void *r = mmap(va + i * HW_PAGE_SIZE, (j - i) * HW_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, s->fd, (off_t)(pfns[i] << HW_PAGE_SHIFT));
		if (r == MAP_FAILED) {
			munmap(va, len);
			return NULL;
		}
		i = j;
	}
	return va;
}

void hw_sysmem_vunmap(void *ptr, size_t n)
{
	if (ptr && n)
		munmap(ptr, n * HW_PAGE_SIZE);
}
