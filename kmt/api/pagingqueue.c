/*
 * Paging queues (WDDM 2.0): D3DKMTCreatePagingQueue and D3DKMTDestroyPagingQueue.
 * A paging queue carries a device's paging work and owns a monitored fence, the
 * paging fence, that the copy engine signals behind that work: MakeResident
 * through a queue answers the value to wait for. gpusim has one copy engine,
 * which every queue feeds in order, so Priority is checked and kept, not used.
 * The order of checks is described in adapter.c.
 */
#include <config.h>

#include <stdlib.h>

#include "kmt/core.h"

NTSTATUS APIENTRY D3DKMTCreatePagingQueue(D3DKMT_CREATEPAGINGQUEUE *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;

	KMT_ENTER();
	if (!pData)
		goto out;
	if (pData->Priority != D3DDDI_PAGINGQUEUE_PRIORITY_BELOW_NORMAL &&
	    pData->Priority != D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL &&
	    pData->Priority != D3DDDI_PAGINGQUEUE_PRIORITY_ABOVE_NORMAL)
		goto out;
	/* One physical adapter. */
	if (pData->PhysicalAdapterIndex)
		goto out;
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	if (!dev)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	struct kmt_pagingqueue *q = calloc(1, sizeof(*q));
	if (!q) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	/* The paging fence starts at 0: nothing has been paged for it yet. */
	int rc = kmt_sync_new(dev, D3DDDI_MONITORED_FENCE, 0, 0, &q->fence);
	if (rc) {
		free(q);
		st = STATUS_NO_MEMORY;
		goto out;
	}
	q->fence->pq = q;
	q->dev = dev;
	q->priority = pData->Priority;
	q->handle = kmt_handle_new(KMT_T_PAGINGQUEUE, q);
	if (!q->handle) {
		kmt_sync_destroy(q->fence);
		free(q);
		st = STATUS_NO_MEMORY;
		goto out;
	}
	q->next = dev->pqs;
	if (dev->pqs)
		dev->pqs->prev = q;
	dev->pqs = q;
	pData->hPagingQueue = q->handle;
	pData->hSyncObject = q->fence->handle;
	pData->FenceValueCPUVirtualAddress = (VOID *)q->fence->user_value;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTDestroyPagingQueue(D3DDDI_DESTROYPAGINGQUEUE *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;

	KMT_ENTER();
	if (!pData)
		goto out;
	struct kmt_pagingqueue *q = kmt_handle_get(pData->hPagingQueue, KMT_T_PAGINGQUEUE);
	if (!q)
		goto out;
	/* Also after removal, as every Destroy. */
	kmt_pagingqueue_destroy(q);
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}
