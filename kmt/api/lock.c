/*
 * D3DKMTLock/Unlock and Lock2/Unlock2: CPU access to an allocation. The manager
 * first moves an allocation the CPU cannot reach (invisible VRAM); a locked
 * allocation never moves; a busy one makes the caller wait or, with DonotWait,
 * answers STATUS_GRAPHICS_ALLOCATION_BUSY. A GPUSIM_ALLOC_READ_ONLY allocation
 * is locked for reading only, except by the OS loader (gpusim_lock_for_load).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

#define LOCK_READ_ONLY 0x1u
#define LOCK_WRITE_ONLY 0x2u
#define LOCK_DONOT_WAIT 0x4u
#define LOCK_KNOWN 0x7ffu /* the eleven flags D3DDDICB_LOCKFLAGS names */

/* `write`: the caller did not promise to only read. */
static NTSTATUS lock_one(D3DKMT_HANDLE hdev, D3DKMT_HANDLE halloc, bool nowait, bool write, void **out)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(hdev);
	struct kmt_alloc *a = dev ? kmt_get_alloc(dev, halloc) : NULL;
	if (!a)
		goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	if (write && (a->mem->v.flags & GPUSIM_ALLOC_READ_ONLY)) {
		st = STATUS_ACCESS_DENIED;
		goto out;
	}
	kmt_adapter_poll(dev->ad);
	int rc = vidmm_lock(dev->ad->mm, &a->mem->v, nowait, out);
	kmt_adapter_poll(dev->ad);
	if (rc) {
		st = kmt_status_from_errno(rc);
		goto out;
	}
	a->locks++;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTLock(D3DKMT_LOCK *pData)
{
	if (!pData)
		return STATUS_INVALID_PARAMETER;
	uint32_t f = pData->Flags.Value;
	if ((f & ~LOCK_KNOWN) || ((f & LOCK_READ_ONLY) && (f & LOCK_WRITE_ONLY)) ||
	    (pData->NumPages && !pData->pPages))
		return STATUS_INVALID_PARAMETER;
	/* A page list narrows what the caller touches; we map the whole allocation,
	 * which is a superset and keeps every page's address where it expects. */
	void *p = NULL;
	NTSTATUS st = lock_one(pData->hDevice, pData->hAllocation, f & LOCK_DONOT_WAIT,
			       !(f & LOCK_READ_ONLY), &p);
	if (st == STATUS_SUCCESS) {
		pData->pData = p;
		pData->GpuVirtualAddress = 0;
	}
	return st;
}

NTSTATUS APIENTRY D3DKMTLock2(D3DKMT_LOCK2 *pData)
{
	if (!pData || pData->Flags.Value)
		return STATUS_INVALID_PARAMETER;
	/* Lock2's flags have no ReadOnly: it is a lock for writing. */
	void *p = NULL;
	NTSTATUS st = lock_one(pData->hDevice, pData->hAllocation, false, true, &p);
	if (st == STATUS_SUCCESS)
		pData->pData = p;
	return st;
}

NTSTATUS gpusim_lock_for_load(D3DKMT_HANDLE device, D3DKMT_HANDLE allocation, void **data)
{
	if (!data)
		return STATUS_INVALID_PARAMETER;
	void *p = NULL;
	NTSTATUS st = lock_one(device, allocation, false, false, &p);
	if (st == STATUS_SUCCESS)
		*data = p;
	return st;
}

static NTSTATUS unlock_list(D3DKMT_HANDLE hdev, const D3DKMT_HANDLE *list, uint32_t n)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	/* Unlock2 names one allocation, and a frame's Lock/Unlock pairs are hot: a
	 * short list needs no allocation. */
	struct kmt_alloc *few[16], **v = few;
	if (!list || !n || n > D3DKMT_MAKERESIDENT_ALLOC_MAX)
		return st;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(hdev);
	if (!dev)
		goto out;
	if (n > sizeof(few) / sizeof(few[0]))
		v = malloc(n * sizeof(*v));
	if (!v) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	if (!kmt_alloc_list(dev, list, n, v))
		goto out;
	for (uint32_t i = 0; i < n; i++)
		if (!v[i]->locks)
			goto out; /* not locked by this device: nothing changes */
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		v[i]->locks--;
		vidmm_unlock(dev->ad->mm, &v[i]->mem->v);
	}
	st = STATUS_SUCCESS;
out:
	if (v != few)
		free(v);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTUnlock(CONST D3DKMT_UNLOCK *pData)
{
	if (!pData)
		return STATUS_INVALID_PARAMETER;
	return unlock_list(pData->hDevice, pData->phAllocations, pData->NumAllocations);
}

NTSTATUS APIENTRY D3DKMTUnlock2(CONST D3DKMT_UNLOCK2 *pData)
{
	if (!pData)
		return STATUS_INVALID_PARAMETER;
	return unlock_list(pData->hDevice, &pData->hAllocation, 1);
}
