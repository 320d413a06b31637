/*
 * Residency and priorities: D3DKMTMakeResident/Evict with a per-device residency
 * count and budgets, Set/GetAllocationPriority, QueryAllocationResidency and
 * QueryVideoMemoryInfo. MakeResident's hPagingQueue is a paging queue (WDDM 2),
 * whose fence the copy engine signals behind the page-ins, or, for WDDM 1
 * callers, the device handle (the paging work is complete on return).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

/* Residency is what the budget governs: report each group's new total. */
static void emit_budget(struct kmt_adapter *ad, uint32_t cause)
{
	if (!ad->nlisteners)
		return;
	for (int g = 0; g < 2; g++) {
		struct gpusim_event ev = {
			.type = GPUSIM_EV_BUDGET, .cause = cause, .time_ns = hw_clock_now(ad->hw),
			.offset = (uint64_t)g,
			.size = g ? ad->mm->budget_nonlocal : ad->mm->budget_local,
			.value = g ? ad->mm->resident_nonlocal : ad->mm->resident_local,
		};
		kmt_emit(ad, &ev);
	}
}

static void add_residency(struct kmt_adapter *ad, struct kmt_alloc *a)
{
	struct vidmm_alloc *v = &a->mem->v;
	if (a->resident++ == 0) {
		a->dev->resident_bytes[vidmm_group(ad->mm, v)] += v->size;
		if (v->resident_count++ == 0) {
			if (vidmm_group(ad->mm, v))
				ad->mm->resident_nonlocal += v->size;
			else
				ad->mm->resident_local += v->size;
		}
	}
}

static void drop_residency(struct kmt_adapter *ad, struct kmt_alloc *a)
{
	struct vidmm_alloc *v = &a->mem->v;
	if (!a->resident || --a->resident)
		return;
	a->dev->resident_bytes[vidmm_group(ad->mm, v)] -= v->size;
	if (--v->resident_count == 0) {
		if (vidmm_group(ad->mm, v))
			ad->mm->resident_nonlocal -= v->size;
		else
			ad->mm->resident_local -= v->size;
	}
}

void kmt_residency_drop_handle(struct kmt_adapter *ad, struct kmt_alloc *a)
{
	if (!a->resident)
		return;
	/* a->resident counts this handle's calls, the memory counts handles and
	 * is in the budget once: the handle goes as one, and the memory leaves the
	 * budget if no other handle keeps it resident. */
	a->resident = 1;
	drop_residency(ad, a);
}

NTSTATUS APIENTRY D3DKMTMakeResident(D3DDDI_MAKERESIDENT *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	struct vidmm_alloc **set = NULL;
	if (!pData)
		return st;
	uint32_t n = pData->NumAllocations;
	if (!n || n > D3DKMT_MAKERESIDENT_ALLOC_MAX || !pData->AllocationList || (pData->Flags.Value & ~0x3u))
		return st;
	KMT_ENTER();
	struct kmt_pagingqueue *pq = kmt_handle_get(pData->hPagingQueue, KMT_T_PAGINGQUEUE);
	struct kmt_device *dev = pq ? pq->dev : kmt_get_device(pData->hPagingQueue);
	if (!dev)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	v = malloc(n * sizeof(*v));
	set = malloc(n * sizeof(*set));
	if (!v || !set) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	if (!kmt_alloc_list(dev, pData->AllocationList, n, v))
		goto out;
	if (pData->PriorityList)
		for (uint32_t i = 0; i < n; i++)
			if (!pData->PriorityList[i])
				goto out;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	/* The budget counts what callers asked to keep resident, across devices. */
	uint64_t add[2] = { 0, 0 };
	for (uint32_t i = 0; i < n; i++) {
		struct vidmm_alloc *m = &v[i]->mem->v;
		if (!m->resident_count)
			add[vidmm_group(ad->mm, m)] += m->size;
		set[i] = m;
	}
	uint64_t over = 0;
	if (ad->mm->resident_local + add[0] > ad->mm->budget_local)
		over += ad->mm->resident_local + add[0] - ad->mm->budget_local;
	if (ad->mm->resident_nonlocal + add[1] > ad->mm->budget_nonlocal)
		over += ad->mm->resident_nonlocal + add[1] - ad->mm->budget_nonlocal;
	if (over) {
		pData->NumAllocations = 0;
		pData->NumBytesToTrim = over;
		st = STATUS_NO_MEMORY;
		goto out;
	}
	if (pData->PriorityList)
		for (uint32_t i = 0; i < n; i++)
			vidmm_set_priority(ad->mm, set[i], pData->PriorityList[i]);
	bool paged = false; /* anything to bring in means paging work was queued */
	for (uint32_t i = 0; i < n; i++)
		paged |= set[i]->seg == GPUSIM_SEG_SYS;
	for (uint32_t i = 0; i < n; i++)
		add_residency(ad, v[i]);
	int rc = vidmm_make_resident(ad->mm, set, n, true, GPUSIM_CAUSE_MAKE_RESIDENT);
	kmt_adapter_poll(ad);
	if (rc) {
		for (uint32_t i = 0; i < n; i++)
			drop_residency(ad, v[i]);
		/* Fragmentation or pinned memory: trimming others is what would help. */
		pData->NumBytesToTrim = add[0] + add[1];
		pData->NumAllocations = 0;
		st = rc == -ENOSPC || rc == -EBUSY ? STATUS_NO_MEMORY : kmt_status_from_errno(rc);
		goto out;
	}
	if (pq) {
		/* The paging fence: a value per call that paged, written by the copy
		 * engine behind the copies. Nothing paged: the last value, which the
		 * earlier work reaches (or has reached). */
		if (paged) {
			struct kmt_fence_storage fs;
			kmt_fence_storage(ad, pq->fence->slot, &fs);
			struct kmt_paging_op op = { .type = KMT_PAGING_SIGNAL_FENCE, .fence_gpu = fs.gpu,
						    .value = pq->last + 1 };
			rc = ad->mm->ddi->build_paging_buffer(ad->mm->drv, &op);
			if (rc) {
				/* Only a removed device refuses a packet: the allocations are
				 * in place, but nothing will ever signal the fence. */
				st = kmt_status_from_errno(rc);
				goto out;
			}
			pq->last++;
		}
		pData->PagingFenceValue = pq->last;
	} else {
		pData->PagingFenceValue = ad->mm->ddi->submitted_fence(ad->mm->drv, KMT_ENGINE_PAGING);
	}
	pData->NumBytesToTrim = 0;
	pData->NumAllocations = n;
	/* A use: with GPU virtual addresses a submission lists nothing, and what
	 * the caller makes resident is all the kernel learns of what the GPU will
	 * touch. The BUDGET events that follow end the list. */
	kmt_emit_uses(ad, set, n, GPUSIM_CAUSE_MAKE_RESIDENT, pData->PagingFenceValue);
	emit_budget(ad, GPUSIM_CAUSE_MAKE_RESIDENT);
	/* The fence write may have run already (a later copy waited for it). */
	kmt_fence_poll(ad);
	st = paged ? STATUS_PENDING : STATUS_SUCCESS;
out:
	free(v);
	free(set);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTEvict(D3DKMT_EVICT *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	if (!pData)
		return st;
	uint32_t n = pData->NumAllocations;
	if (!n || n > D3DKMT_MAKERESIDENT_ALLOC_MAX || !pData->AllocationList || (pData->Flags.Value & ~0x3u))
		return st;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	v = malloc(n * sizeof(*v));
	if (!v) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	if (!kmt_alloc_list(dev, pData->AllocationList, n, v))
		goto out;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!v[i]->resident)
			goto out; /* evicting what this device never made resident */
	bool only_if_necessary = pData->Flags.Value & 0x1u;
	for (uint32_t i = 0; i < n; i++) {
		drop_residency(ad, v[i]);
		struct vidmm_alloc *m = &v[i]->mem->v;
		/* Evicted now unless another device still wants it, it cannot move, or
		 * the caller only wants it evictable. */
		if (!m->resident_count && !only_if_necessary && !m->lock_count && !(m->flags & GPUSIM_ALLOC_PINNED))
			vidmm_evict(ad->mm, m, GPUSIM_CAUSE_EVICT_CALL);
	}
	kmt_adapter_poll(ad);
	emit_budget(ad, GPUSIM_CAUSE_EVICT_CALL);
	pData->NumBytesToTrim = 0;
	st = STATUS_SUCCESS;
out:
	free(v);
	kmt_unlock();
	return st;
}

/* Resolve a device and "hResource or a list" into allocations: the shape of the
 * priority and residency queries. */
static NTSTATUS resolve(D3DKMT_HANDLE hdev, D3DKMT_HANDLE hres, const D3DKMT_HANDLE *list, uint32_t n,
			struct kmt_device **devp, struct kmt_alloc ***out, uint32_t *count)
{
	struct kmt_device *dev = *devp = kmt_get_device(hdev);
	if (!dev)
		return STATUS_INVALID_PARAMETER;
	if (hres) {
		struct kmt_resource *r = kmt_handle_get(hres, KMT_T_RESOURCE);
		if (!r || r->dev != dev || n)
			return STATUS_INVALID_PARAMETER;
		*out = malloc((r->nallocs ? r->nallocs : 1) * sizeof(**out));
		if (!*out)
			return STATUS_NO_MEMORY;
		uint32_t i = 0;
		for (struct kmt_alloc *a = r->allocs; a; a = a->res_next)
			(*out)[i++] = a;
		*count = i;
		return STATUS_SUCCESS;
	}
	if (!n || n > D3DKMT_MAKERESIDENT_ALLOC_MAX || !list)
		return STATUS_INVALID_PARAMETER;
	*out = malloc(n * sizeof(**out));
	if (!*out)
		return STATUS_NO_MEMORY;
	if (!kmt_alloc_list(dev, list, n, *out)) {
		free(*out);
		*out = NULL;
		return STATUS_INVALID_PARAMETER;
	}
	*count = n;
	return STATUS_SUCCESS;
}

NTSTATUS APIENTRY D3DKMTSetAllocationPriority(CONST D3DKMT_SETALLOCATIONPRIORITY *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	uint32_t n = 0;
	if (!pData || !pData->pPriorities)
		return st;
	KMT_ENTER();
	struct kmt_device *dev;
	st = resolve(pData->hDevice, pData->hResource, pData->phAllocationList, pData->AllocationCount,
		     &dev, &v, &n);
	if (st)
		goto out;
	st = STATUS_INVALID_PARAMETER;
	/* With a resource, one priority applies to all of it. */
	uint32_t np = pData->hResource ? 1 : n;
	for (uint32_t i = 0; i < np; i++)
		if (!pData->pPriorities[i])
			goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		vidmm_set_priority(dev->ad->mm, &v[i]->mem->v, pData->pPriorities[pData->hResource ? 0 : i]);
	st = STATUS_SUCCESS;
out:
	free(v);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTGetAllocationPriority(CONST D3DKMT_GETALLOCATIONPRIORITY *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	uint32_t n = 0;
	if (!pData || !pData->pPriorities)
		return st;
	KMT_ENTER();
	struct kmt_device *dev;
	st = resolve(pData->hDevice, pData->hResource, pData->phAllocationList, pData->AllocationCount,
		     &dev, &v, &n);
	if (st)
		goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	if (pData->hResource) {
		/* One priority for a whole resource, in pPriorities[0] (dxgkrnl copies
		 * out one): the lowest of its allocations', the one eviction reaches
		 * first, as its residency is the worst of theirs. A resource whose
		 * allocations are all gone has the priority a new one would. */
		UINT p = n ? v[0]->mem->v.priority : D3DDDI_ALLOCATIONPRIORITY_NORMAL;
		for (uint32_t i = 1; i < n; i++)
			if (v[i]->mem->v.priority < p)
				p = v[i]->mem->v.priority;
		pData->pPriorities[0] = p;
	} else {
		for (uint32_t i = 0; i < n; i++)
			pData->pPriorities[i] = v[i]->mem->v.priority;
	}
	st = STATUS_SUCCESS;
out:
	free(v);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTQueryAllocationResidency(CONST D3DKMT_QUERYALLOCATIONRESIDENCY *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc **v = NULL;
	uint32_t n = 0;
	if (!pData || !pData->pResidencyStatus)
		return st;
	KMT_ENTER();
	struct kmt_device *dev;
	st = resolve(pData->hDevice, pData->hResource, pData->phAllocationList, pData->AllocationCount,
		     &dev, &v, &n);
	if (st)
		goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	/* A resource answers in pResidencyStatus[0] alone, the worst status of its
	 * allocations (the enumerators grow worse: GPU memory, shared memory, not
	 * resident), as Microsoft documents; an empty resource has nothing out of
	 * GPU memory. */
	D3DKMT_ALLOCATIONRESIDENCYSTATUS worst = D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t seg = v[i]->mem->v.seg;
		D3DKMT_ALLOCATIONRESIDENCYSTATUS s =
			seg == GPUSIM_SEG_SYS ? D3DKMT_ALLOCATIONRESIDENCYSTATUS_NOTRESIDENT
			: dev->ad->mm->seg[seg].desc.vram ? D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINGPUMEMORY
							  : D3DKMT_ALLOCATIONRESIDENCYSTATUS_RESIDENTINSHAREDMEMORY;
		if (pData->hResource) {
			if (s > worst)
				worst = s;
		} else {
			pData->pResidencyStatus[i] = s;
		}
	}
	if (pData->hResource)
		pData->pResidencyStatus[0] = worst;
	st = STATUS_SUCCESS;
out:
	free(v);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTQueryVideoMemoryInfo(D3DKMT_QUERYVIDEOMEMORYINFO *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData)
		return st;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_handle_get(pData->hAdapter, KMT_T_ADAPTER);
	/* Only the calling process can be asked about: there is only one. */
	if (!ad || pData->hProcess || pData->PhysicalAdapterIndex ||
	    (pData->MemorySegmentGroup != D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL &&
	     pData->MemorySegmentGroup != D3DKMT_MEMORY_SEGMENT_GROUP_NON_LOCAL))
		goto out;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	int g = pData->MemorySegmentGroup == D3DKMT_MEMORY_SEGMENT_GROUP_LOCAL ? 0 : 1;
	pData->Budget = g ? ad->mm->budget_nonlocal : ad->mm->budget_local;
	pData->CurrentUsage = vidmm_usage(ad->mm, g);
	pData->CurrentReservation = 0;
	/* Windows lets a process reserve up to half of its budget. */
	pData->AvailableForReservation = pData->Budget / 2;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
