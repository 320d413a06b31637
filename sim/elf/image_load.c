/*
 * Loading an ELF image into allocations and submitting its packets, through the
 * public D3DKMT API as a user-mode driver and an OS loader would: one allocation
 * per segment, the file's bytes put in by the CPU where it reaches them and by a
 * GPU copy from a GART staging buffer where it does not (invisible VRAM).
 */
#include <config.h>

#include <inttypes.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <gpusim/gpusim.h>
#include "sim/elf/image.h"

static void say(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void destroy(D3DKMT_HANDLE device, const D3DKMT_HANDLE *h, uint32_t n)
{
	if (!n)
		return;
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = device;
	da.phAllocationList = h;
	da.AllocationCount = n;
	D3DKMTDestroyAllocation2(&da);
}

static NTSTATUS render(struct elfimg_target *t, uint32_t bytes, uint32_t nalloc, uint32_t npatch)
{
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = t->context;
	r.CommandLength = bytes;
	r.AllocationCount = nalloc;
	r.PatchLocationCount = npatch;
	NTSTATUS st = D3DKMTRender(&r);
	if (st == STATUS_SUCCESS && r.pNewCommandBuffer) {
		/* The kernel hands back the buffers for the next submission. */
		t->cmdbuf = r.pNewCommandBuffer;
		t->cmdbuf_size = r.NewCommandBufferSize;
		t->alist = r.pNewAllocationList;
		t->alist_size = r.NewAllocationListSize;
		t->plist = r.pNewPatchLocationList;
		t->plist_size = r.NewPatchLocationListSize;
	}
	return st;
}

/* The first `size` bytes of a segment's allocation: zeros before vaddr, the file's
 * bytes, zeros after them. */
static void put_bytes(uint8_t *dst, const struct elfimg_segment *s, uint64_t size)
{
	uint64_t end = s->lead + s->filesz;
	memset(dst, 0, s->lead < size ? s->lead : size);
	if (s->filesz && s->lead < size)
		memcpy(dst + s->lead, s->data, (end < size ? end : size) - s->lead);
	if (end < size)
		memset(dst + end, 0, size - end);
}

/* CRC-32 (zlib's, the CHECKSUM packet's) of n bytes at p, or of n zeros when p is
 * NULL, continuing crc. */
static uLong crc_feed(uLong crc, const uint8_t *p, uint64_t n)
{
	static const uint8_t zeros[64 * 1024];
	while (n) {
		uInt piece = n < sizeof(zeros) ? (uInt)n : (uInt)sizeof(zeros);
		crc = crc32(crc, p ? p : zeros, piece);
		if (p)
			p += piece;
		n -= piece;
	}
	return crc;
}

/* The CRC-32 of the first `size` bytes of a segment's allocation as put_bytes
 * defines them: zeros before vaddr, the file's bytes, zeros after them. */
static uint32_t segment_crc(const struct elfimg_segment *s, uint64_t size)
{
	uint64_t end = s->lead + s->filesz; /* <= size: filesz <= memsz */
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc_feed(crc, NULL, s->lead);
	crc = crc_feed(crc, s->data, s->filesz);
	crc = crc_feed(crc, NULL, size - end);
	return (uint32_t)crc;
}

/* The CPU cannot reach invisible VRAM, and a lock would move the segment behind
 * BAR2: a driver uploads through a staging buffer in the GART instead, with a COPY
 * of the allocation's bytes up to the end of the file's and a FILL of zeros after.
 *
 * The device skips a packet that faults (an injected DMA error, a page fault, an
 * ECC error) and still signals the submission's fence, so a finished submission
 * does not mean the bytes arrived. The upload checks that they did the way a
 * firmware loader checks its image: a CHECKSUM packet after the COPY and FILL
 * computes the CRC-32 of the whole allocation into the staging buffer's first
 * dword, and the CPU compares it with the CRC-32 of the bytes it meant to put
 * there. Not the fault state or the faults counter: D3DKMTGetDeviceState keeps a
 * device's first fault for good (a device that faulted once would never load
 * again, and a second fault would not show), and gpusim_get_stats counts the
 * faults of the whole adapter (another device's submission that runs while we
 * wait, a paging copy the kernel has already redone), so neither says whether
 * *this* upload's bytes are there; the checksum says exactly that. Its slot holds
 * the complement of the expected CRC until the GPU writes it, so a CHECKSUM that
 * faulted too reads as a failure.
 *
 * A failed upload is submitted again, at most ELFIMG_UPLOAD_TRIES times in all: a
 * DMA error is transient, and the kernel's paging path redoes a faulting copy as
 * often (kmt/gsdrv/paging.c); a fault that stays (an ECC page, an unmapped
 * address) fails every try, and the load with it. */
static NTSTATUS upload_staged(const struct elfimg_segment *s, uint64_t size, D3DKMT_HANDLE target,
			      struct elfimg_target *t, char *err, size_t errlen)
{
	/* Whole dwords (FILL's unit); the staging buffer is zero past the file's bytes.
	 * Its first page holds the CHECKSUM's result, the file's bytes follow it. */
	uint64_t copy = s->filesz ? (s->lead + s->filesz + 3) & ~3ull : 0;
	uint64_t data = HW_PAGE_SIZE;
	D3DKMT_HANDLE staging = 0;
	NTSTATUS st;
	if (t->cmdbuf_size < 20 * 4 || t->alist_size < 2 || t->plist_size < 5) {
		say(err, errlen, "the context's buffers are too small for an upload");
		return STATUS_INVALID_PARAMETER;
	}
	if (size > copy && copy > UINT32_MAX) {
		say(err, errlen, "the zeros after 4 GiB of file bytes cannot be addressed by a patch location");
		return STATUS_INVALID_PARAMETER;
	}
	uint32_t want = segment_crc(s, size), unset = ~want;

	struct gpusim_alloc_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.version = GPUSIM_ALLOC_DESC_VERSION;
	desc.flags = GPUSIM_ALLOC_CPU_VISIBLE;
	desc.size = data + ((copy + HW_PAGE_SIZE - 1) & ~(HW_PAGE_SIZE - 1));
	desc.preferred[0] = GPUSIM_SEG_GART;
	desc.allowed = GPUSIM_SEG_BIT(GPUSIM_SEG_GART);
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &desc;
	info.PrivateDriverDataSize = sizeof(desc);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = t->device;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	if ((st = D3DKMTCreateAllocation2(&ca))) {
		say(err, errlen, "cannot create the staging buffer for the upload");
		return st;
	}
	staging = info.hAllocation;
	D3DKMT_LOCK2 lk = { .hDevice = t->device, .hAllocation = staging };
	if ((st = D3DKMTLock2(&lk))) {
		say(err, errlen, "cannot lock the staging buffer");
		destroy(t->device, &staging, 1);
		return st;
	}
	memset(lk.pData, 0, data);
	memcpy(lk.pData, &unset, sizeof(unset));
	if (copy)
		put_bytes((uint8_t *)lk.pData + data, s, desc.size - data);
	D3DKMT_UNLOCK2 ul = { .hDevice = t->device, .hAllocation = staging };
	D3DKMTUnlock2(&ul);

	uint32_t got = unset, tries = 0;
	while (tries < ELFIMG_UPLOAD_TRIES) {
		tries++;
		uint32_t *dw = t->cmdbuf, n = 0, np = 0;
		memset(t->alist, 0, 2 * sizeof(*t->alist));
		t->alist[0].hAllocation = target;
		t->alist[0].WriteOperation = 1;
		t->alist[1].hAllocation = staging;
		t->alist[1].WriteOperation = 1; /* the CHECKSUM's result */
		/* Patch location: the address of allocation `index` + off at dword n. */
#define ADDR(index, off)                                                                  \
	do {                                                                              \
		memset(&t->plist[np], 0, sizeof(t->plist[np]));                           \
		t->plist[np].AllocationIndex = (index);                                   \
		t->plist[np].AllocationOffset = (UINT)(off);                              \
		t->plist[np++].PatchOffset = n * 4;                                       \
		dw[n++] = 0;                                                              \
		dw[n++] = 0;                                                              \
	} while (0)
		if (copy) {
			dw[n++] = HW_PKT_HEADER(HW_PKT_COPY, 0, 6);
			ADDR(1, data);
			ADDR(0, 0);
			dw[n++] = (uint32_t)copy;
			dw[n++] = (uint32_t)(copy >> 32);
		}
		if (size > copy) {
			dw[n++] = HW_PKT_HEADER(HW_PKT_FILL, 0, 5);
			ADDR(0, copy);
			dw[n++] = (uint32_t)(size - copy);
			dw[n++] = (uint32_t)((size - copy) >> 32);
			dw[n++] = 0;
		}
		dw[n++] = HW_PKT_HEADER(HW_PKT_CHECKSUM, 0, 6);
		ADDR(0, 0);
		dw[n++] = (uint32_t)size;
		dw[n++] = (uint32_t)(size >> 32);
		ADDR(1, 0);
#undef ADDR
		if ((st = render(t, n * 4, 2, np))) {
			say(err, errlen, "the upload's D3DKMTRender failed");
			break;
		}
		/* The lock waits for the GPU to be done with the staging buffer: for the
		 * submission. The slot is set back for the next try. */
		lk = (D3DKMT_LOCK2){ .hDevice = t->device, .hAllocation = staging };
		if ((st = D3DKMTLock2(&lk))) {
			say(err, errlen, "cannot lock the staging buffer to read the upload's checksum");
			break;
		}
		memcpy(&got, lk.pData, sizeof(got));
		memcpy(lk.pData, &unset, sizeof(unset));
		D3DKMTUnlock2(&ul);
		if (got == want)
			break;
	}
	if (!st && got != want) {
		st = STATUS_UNSUCCESSFUL; /* as the kernel's paging copy that keeps faulting */
		if (got == unset)
			say(err, errlen,
			    "the upload into invisible VRAM failed %" PRIu32 " times: the GPU faulted, and its "
			    "CRC-32 check of the bytes never came back",
			    tries);
		else
			say(err, errlen,
			    "the upload into invisible VRAM failed %" PRIu32 " times: the bytes that arrived have "
			    "CRC-32 0x%08" PRIx32 ", the segment's is 0x%08" PRIx32,
			    tries, got, want);
	}
	/* Destruction waits for the GPU to be done with it. */
	destroy(t->device, &staging, 1);
	return st;
}

NTSTATUS elfimg_load(const struct elfimg *img, struct elfimg_target *t, const struct elfimg_placement *pl,
		     D3DKMT_HANDLE *handles, char *err, size_t errlen)
{
	say(err, errlen, "%s", "");
	if (!img || !t || !handles || !img->nsegs || img->nsegs > ELFIMG_MAX_SEGMENTS)
		return STATUS_INVALID_PARAMETER;
	uint32_t n = img->nsegs;
	struct gpusim_alloc_desc *desc = calloc(n, sizeof(*desc));
	D3DDDI_ALLOCATIONINFO2 *info = calloc(n, sizeof(*info));
	NTSTATUS st = STATUS_NO_MEMORY;
	if (!desc || !info)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const struct elfimg_segment *s = &img->segs[i];
		desc[i].version = GPUSIM_ALLOC_DESC_VERSION;
		desc[i].flags = (s->flags & ELFIMG_W) ? 0 : GPUSIM_ALLOC_READ_ONLY;
		desc[i].size = elfimg_seg_size(s);
		desc[i].alignment = elfimg_seg_align(s);
		if (pl) {
			memcpy(desc[i].preferred, pl->preferred, sizeof(desc[i].preferred));
			desc[i].allowed = pl->allowed;
			desc[i].priority = pl->priority;
		}
		info[i].pPrivateDriverData = &desc[i];
		info[i].PrivateDriverDataSize = sizeof(desc[i]);
	}
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = t->device;
	ca.NumAllocations = n;
	ca.pAllocationInfo2 = info;
	st = D3DKMTCreateAllocation2(&ca);
	if (st) {
		say(err, errlen, "%s: D3DKMTCreateAllocation2 of its %" PRIu32 " segments failed", img->name, n);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		handles[i] = info[i].hAllocation;

	for (uint32_t i = 0; i < n && !st; i++) {
		const struct elfimg_segment *s = &img->segs[i];
		uint64_t size = elfimg_seg_size(s);
		struct gpusim_alloc_info where;
		if ((st = gpusim_query_allocation(handles[i], &where)))
			break;
		if (where.segment == GPUSIM_SEG_INVISIBLE) {
			char why[256] = "";
			st = upload_staged(s, size, handles[i], t, why, sizeof(why));
			if (st)
				say(err, errlen, "%s: segment %" PRIu32 ": %s", img->name, i, why);
			continue;
		}
		void *p = NULL;
		if ((st = gpusim_lock_for_load(t->device, handles[i], &p))) {
			say(err, errlen, "%s: segment %" PRIu32 ": the loader's lock failed", img->name, i);
			break;
		}
		put_bytes(p, s, size);
		D3DKMT_UNLOCK2 ul = { .hDevice = t->device, .hAllocation = handles[i] };
		st = D3DKMTUnlock2(&ul);
	}
	if (st) {
		destroy(t->device, handles, n); /* all or nothing */
		memset(handles, 0, n * sizeof(*handles));
	}
out:
	free(desc);
	free(info);
	return st;
}

NTSTATUS elfimg_submit(const struct elfimg *img, uint32_t seg, struct elfimg_target *t,
		       const D3DKMT_HANDLE *handles, uint32_t *npatch, char *err, size_t errlen)
{
	say(err, errlen, "%s", "");
	if (npatch)
		*npatch = 0;
	if (!img || !t || !handles)
		return STATUS_INVALID_PARAMETER;
	struct elfimg_reloc *r = NULL;
	size_t nr = 0;
	if (elfimg_relocs(img, seg, &r, &nr, err, errlen))
		return STATUS_INVALID_PARAMETER;
	const struct elfimg_segment *s = &img->segs[seg];
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (s->filesz > t->cmdbuf_size) {
		say(err, errlen,
		    "%s: segment %" PRIu32 ": %" PRIu64 " bytes of packets, more than the context's command "
		    "buffer (%" PRIu32 ")",
		    img->name, seg, s->filesz, t->cmdbuf_size);
		goto out;
	}
	if (img->nsegs > t->alist_size || nr > t->plist_size) {
		say(err, errlen,
		    "%s: %" PRIu32 " segments and %zu addresses to patch, more than the context's lists "
		    "(%" PRIu32 " allocations, %" PRIu32 " patch locations)",
		    img->name, img->nsegs, nr, t->alist_size, t->plist_size);
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		if (r[i].alloc_offset > UINT32_MAX) {
			say(err, errlen,
			    "%s: segment %" PRIu32 ", byte 0x%" PRIx32 ": an address 0x%" PRIx64 " bytes into "
			    "segment %" PRIu32 "'s allocation, beyond what a patch location expresses (4 GiB)",
			    img->name, seg, r[i].patch_offset, r[i].alloc_offset, r[i].segment);
			goto out;
		}
	}
	memcpy(t->cmdbuf, s->data, s->filesz);
	memset(t->alist, 0, img->nsegs * sizeof(*t->alist));
	for (uint32_t i = 0; i < img->nsegs; i++)
		t->alist[i].hAllocation = handles[i];
	for (size_t i = 0; i < nr; i++) {
		D3DDDI_PATCHLOCATIONLIST *p = &t->plist[i];
		memset(p, 0, sizeof(*p));
		p->AllocationIndex = r[i].segment;
		p->AllocationOffset = (UINT)r[i].alloc_offset;
		p->PatchOffset = r[i].patch_offset;
		if (r[i].write)
			t->alist[r[i].segment].WriteOperation = 1;
	}
	st = render(t, (uint32_t)s->filesz, img->nsegs, (uint32_t)nr);
	if (st == STATUS_SUCCESS && npatch)
		*npatch = (uint32_t)nr;
out:
	free(r);
	return st;
}
