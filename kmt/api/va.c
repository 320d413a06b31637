/*
 * D3DKMTReserveGpuVirtualAddress, D3DKMTMapGpuVirtualAddress,
 * D3DKMTUpdateGpuVirtualAddress and D3DKMTFreeGpuVirtualAddress: the GPU virtual
 * address space of this process on an adapter (one per process and adapter, as
 * dxgkrnl keeps them; FreeGpuVirtualAddress names only the adapter). Everything
 * is validated before anything changes; paging is synchronous, so the paging
 * fence a call returns has completed already.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"
#include "kmt/procva.h"

#define PAGE HW_PAGE_SIZE
#define PROT_WRITE 0x1ull
#define PROT_EXECUTE 0x2ull
#define PROT_ZERO 0x4ull
#define PROT_NO_ACCESS 0x8ull
#define PROT_SYSTEM_USE_ONLY 0x10ull
#define UPDATE_DO_NOT_WAIT 0x1u
#define UPDATE_MAX_OPS 4096u

/* The device of hPagingQueue: a paging queue (*pq set), or, as MakeResident
 * also takes for WDDM 1 callers, the device handle itself (*pq NULL). */
static struct kmt_device *paging_queue_device(D3DKMT_HANDLE queue, struct kmt_pagingqueue **pq)
{
	*pq = kmt_handle_get(queue, KMT_T_PAGINGQUEUE);
	return *pq ? (*pq)->dev : kmt_get_device(queue);
}

/* A Map's PagingFenceValue through a paging queue: the queue's next value,
 * written by the copy engine behind the page-table writes (which have landed
 * already: paging is synchronous), as MakeResident's. */
static int queue_signal(struct kmt_adapter *ad, struct kmt_pagingqueue *pq, uint64_t *value)
{
	struct kmt_fence_storage fs;
	int rc = kmt_fence_storage(ad, pq->fence->slot, &fs);
	if (rc)
		return rc;
	struct kmt_paging_op op = { .type = KMT_PAGING_SIGNAL_FENCE, .fence_gpu = fs.gpu, .value = pq->last + 1 };
	if ((rc = ad->mm->ddi->build_paging_buffer(ad->mm->drv, &op)))
		return rc;
	*value = ++pq->last;
	return 0;
}

static NTSTATUS status_of(int rc)
{
	switch (rc) {
	case 0: return STATUS_SUCCESS;
	case -EINVAL: return STATUS_INVALID_PARAMETER;
	case -ENODEV: return STATUS_NOT_SUPPORTED;
	case -ENOSPC: return STATUS_NO_MEMORY; /* no room in the address space */
	default: return kmt_status_from_errno(rc);
	}
}

static void emit_va(struct kmt_adapter *ad, uint32_t type, D3DKMT_HANDLE dev, D3DKMT_HANDLE alloc, uint64_t va,
		    uint64_t size, uint64_t value)
{
	struct gpusim_event ev = { .type = type, .time_ns = ad->mm->ddi->now(ad->mm->drv), .device = dev,
				   .allocation = alloc, .offset = va, .size = size, .value = value };
	kmt_emit(ad, &ev);
}

static bool page_aligned(uint64_t x)
{
	return !(x % PAGE);
}

/* A protection the user-mode driver may ask for a mapping; *ro: without Write. */
static bool map_protection_ok(uint64_t prot, bool *ro)
{
	if (prot & ~(PROT_WRITE | PROT_EXECUTE | PROT_ZERO | PROT_NO_ACCESS | PROT_SYSTEM_USE_ONLY))
		return false;
	/* Zero and NoAccess describe a range without an allocation; SystemUseOnly is
	 * the kernel's own. */
	if (prot & (PROT_ZERO | PROT_NO_ACCESS | PROT_SYSTEM_USE_ONLY))
		return false;
	*ro = !(prot & PROT_WRITE);
	return true;
}

NTSTATUS APIENTRY D3DKMTReserveGpuVirtualAddress(D3DDDI_RESERVEGPUVIRTUALADDRESS *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData)
		return st;
	D3DDDI_RESERVEGPUVIRTUALADDRESS *p = pData;
	if (!p->Size || !page_aligned(p->Size) || !page_aligned(p->BaseAddress) || !page_aligned(p->MinimumAddress) ||
	    !page_aligned(p->MaximumAddress) || (p->MaximumAddress && p->MaximumAddress <= p->MinimumAddress) ||
	    ((UINT)p->ReservationType != D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS &&
	     (UINT)p->ReservationType != D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO))
		return st;
	KMT_ENTER();
	/* hPagingQueue, or (the M2 form) an adapter handle. */
	struct kmt_adapter *ad = NULL;
	struct kmt_pagingqueue *pq;
	struct kmt_device *dev = paging_queue_device(p->hPagingQueue, &pq);
	if (dev)
		ad = dev->ad;
	else
		ad = kmt_handle_get(p->hAdapter, KMT_T_ADAPTER);
	if (!ad)
		goto out;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct vidmm_va_space *vs;
	uint64_t va = 0;
	int rc = kmt_va_space(ad, &vs);
	if (!rc)
		rc = vidmm_va_reserve(ad->mm, vs, p->BaseAddress, p->MinimumAddress, p->MaximumAddress, p->Size,
				      (uint32_t)p->ReservationType, &va);
	st = status_of(rc);
	if (rc)
		goto out;
	p->VirtualAddress = va;
	/* A new reservation maps nothing: its entries are not present already. */
	p->PagingFenceValue = 0;
	emit_va(ad, GPUSIM_EV_VA_RESERVE, dev ? dev->handle : 0, 0, va, p->Size, (uint64_t)p->ReservationType);
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTMapGpuVirtualAddress(D3DDDI_MAPGPUVIRTUALADDRESS *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	bool ro;
	if (!pData)
		return st;
	D3DDDI_MAPGPUVIRTUALADDRESS *p = pData;
	if (!p->SizeInPages || !page_aligned(p->BaseAddress) || !page_aligned(p->MinimumAddress) ||
	    !page_aligned(p->MaximumAddress) || (p->MaximumAddress && p->MaximumAddress <= p->MinimumAddress) ||
	    !map_protection_ok(p->Protection.Value, &ro) || p->Reserved0 || p->Reserved1)
		return st;
	KMT_ENTER();
	struct kmt_pagingqueue *pq;
	struct kmt_device *dev = paging_queue_device(p->hPagingQueue, &pq);
	struct kmt_alloc *a = dev ? kmt_get_alloc(dev, p->hAllocation) : NULL;
	if (!a)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct vidmm_va_space *vs;
	uint64_t va = p->BaseAddress, fence = 0;
	int rc = kmt_va_space(ad, &vs);
	if (!rc)
		rc = vidmm_va_map(ad->mm, vs, &a->mem->v, p->OffsetInPages, p->SizeInPages, ro, p->MinimumAddress,
				  p->MaximumAddress, &va, &fence);
	if (!rc && pq)
		rc = queue_signal(ad, pq, &fence);
	kmt_adapter_poll(ad);
	if (rc) {
		st = status_of(rc);
		goto out;
	}
	p->VirtualAddress = va;
	p->PagingFenceValue = fence;
	emit_va(ad, GPUSIM_EV_VA_MAP, dev->handle, a->handle, va, p->SizeInPages * PAGE, fence);
	/* The documented answer: the mapping is in place once the paging fence
	 * completes (the device's own: already; a queue's: when the copy engine
	 * runs its signal). */
	st = STATUS_PENDING;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTFreeGpuVirtualAddress(CONST D3DKMT_FREEGPUVIRTUALADDRESS *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData || !pData->Size || !page_aligned(pData->BaseAddress) || !page_aligned(pData->Size))
		return st;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_handle_get(pData->hAdapter, KMT_T_ADAPTER);
	/* Also on a removed adapter: freeing is how a driver tears down. */
	if (!ad || !ad->va)
		goto out;
	int rc = vidmm_va_free(ad->mm, ad->va, pData->BaseAddress, pData->Size);
	if (rc == -EINVAL)
		goto out;
	/* The range is gone from the books even when a removed device could not
	 * take the entries' update. */
	emit_va(ad, GPUSIM_EV_VA_FREE, 0, 0, pData->BaseAddress, pData->Size, 0);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

/* ---- D3DKMTUpdateGpuVirtualAddress ------------------------------------------ */

/* One operation checked against the space as it will be when the operations
 * before it have run: only reservations matter, and operations never change
 * them, so checking against the space now is the same. */
static bool update_op_ok(struct kmt_device *dev, struct vidmm_va_space *vs,
			 const D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *op, struct kmt_alloc **alloc)
{
	bool ro;
	*alloc = NULL;
	switch (op->OperationType) {
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP:
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT: {
		/* Map and MapProtect share their first five fields. */
		uint64_t base = op->Map.BaseAddress, size = op->Map.SizeInBytes;
		uint64_t off = op->Map.AllocationOffsetInBytes;
		if (op->OperationType == D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT &&
		    !map_protection_ok(op->MapProtect.Protection.Value, &ro))
			return false;
		/* The range maps the allocation's range byte for byte: a different
		 * AllocationSizeInBytes (a repeat) is not modelled. */
		if (!size || !page_aligned(base) || !page_aligned(size) || !page_aligned(off) ||
		    op->Map.AllocationSizeInBytes != size || !vidmm_va_reserved(vs, base, size))
			return false;
		struct kmt_alloc *a = kmt_get_alloc(dev, op->Map.hAllocation);
		if (!a || off >= a->mem->v.size || size > a->mem->v.size - off)
			return false;
		*alloc = a;
		return true;
	}
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP: {
		uint64_t prot = op->Unmap.Protection.Value;
		return op->Unmap.SizeInBytes && page_aligned(op->Unmap.BaseAddress) &&
		       page_aligned(op->Unmap.SizeInBytes) && !(prot & ~(PROT_ZERO | PROT_NO_ACCESS)) &&
		       vidmm_va_reserved(vs, op->Unmap.BaseAddress, op->Unmap.SizeInBytes);
	}
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY:
		return op->Copy.SizeInBytes && page_aligned(op->Copy.SourceAddress) &&
		       page_aligned(op->Copy.DestAddress) && page_aligned(op->Copy.SizeInBytes) &&
		       vidmm_va_reserved(vs, op->Copy.SourceAddress, op->Copy.SizeInBytes) &&
		       vidmm_va_reserved(vs, op->Copy.DestAddress, op->Copy.SizeInBytes);
	default:
		return false;
	}
}

static int update_run(struct kmt_adapter *ad, struct kmt_device *dev, struct vidmm_va_space *vs,
		      const D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION *op, struct kmt_alloc *a)
{
	uint64_t fence = 0, va;
	bool ro = false;
	int rc;
	switch (op->OperationType) {
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP_PROTECT:
		map_protection_ok(op->MapProtect.Protection.Value, &ro);
		/* fall through */
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_MAP:
		va = op->Map.BaseAddress;
		rc = vidmm_va_map(ad->mm, vs, &a->mem->v, op->Map.AllocationOffsetInBytes / PAGE,
				  op->Map.SizeInBytes / PAGE, ro, 0, 0, &va, &fence);
		if (!rc)
			emit_va(ad, GPUSIM_EV_VA_MAP, dev->handle, a->handle, va, op->Map.SizeInBytes, fence);
		return rc;
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP:
		rc = vidmm_va_unmap(ad->mm, vs, op->Unmap.BaseAddress, op->Unmap.SizeInBytes, &fence);
		if (!rc)
			emit_va(ad, GPUSIM_EV_VA_UNMAP, dev->handle, 0, op->Unmap.BaseAddress, op->Unmap.SizeInBytes,
				fence);
		return rc;
	case D3DDDI_UPDATEGPUVIRTUALADDRESS_COPY:
		rc = vidmm_va_copy(ad->mm, vs, op->Copy.SourceAddress, op->Copy.DestAddress, op->Copy.SizeInBytes,
				   &fence);
		if (!rc)
			emit_va(ad, GPUSIM_EV_VA_COPY, dev->handle, 0, op->Copy.DestAddress, op->Copy.SizeInBytes,
				op->Copy.SourceAddress);
		return rc;
	default:
		return -EINVAL;
	}
}

NTSTATUS APIENTRY D3DKMTUpdateGpuVirtualAddress(CONST D3DKMT_UPDATEGPUVIRTUALADDRESS *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **allocs = NULL;
	if (!pData || !pData->NumOperations || pData->NumOperations > UPDATE_MAX_OPS || !pData->Operations ||
	    pData->Reserved0 || pData->Reserved1 || (pData->Flags.Value & ~UPDATE_DO_NOT_WAIT))
		return st;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	struct kmt_context *ctx = kmt_handle_get(pData->hContext, KMT_T_CONTEXT);
	if (!dev || !ctx || ctx->dev != dev)
		goto out;
	struct kmt_sync *fence = NULL;
	if (pData->hFenceObject) {
		fence = kmt_handle_get(pData->hFenceObject, KMT_T_SYNC);
		if (!fence || fence->dev != dev || fence->type != D3DDDI_MONITORED_FENCE)
			goto out;
	}
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct vidmm_va_space *vs;
	int rc = kmt_va_space(ad, &vs);
	if (rc) {
		st = status_of(rc);
		goto out;
	}
	allocs = calloc(pData->NumOperations, sizeof(*allocs));
	if (!allocs) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	for (UINT i = 0; i < pData->NumOperations; i++)
		if (!update_op_ok(dev, vs, &pData->Operations[i], &allocs[i]))
			goto out;
	/* The operations start once the fence reaches FenceValue. The model runs
	 * the device to get there; updates queued behind a signal nobody has
	 * issued yet are not modelled (they would wait forever here). */
	if (fence && fence->value < pData->FenceValue) {
		ad->mm->ddi->idle(ad->mm->drv);
		kmt_adapter_poll(ad);
		if (fence->value < pData->FenceValue) {
			st = STATUS_NOT_SUPPORTED;
			goto out;
		}
	}
	for (UINT i = 0; i < pData->NumOperations; i++)
		if ((rc = update_run(ad, dev, vs, &pData->Operations[i], allocs[i]))) {
			st = status_of(rc);
			goto out;
		}
	kmt_adapter_poll(ad);
	st = STATUS_SUCCESS;
out:
	free(allocs);
	kmt_unlock();
	return st;
}
