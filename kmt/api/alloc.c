/*
 * D3DKMTCreateAllocation(2), D3DKMTDestroyAllocation(2), D3DKMTQueryResourceInfo
 * and D3DKMTOpenResource: allocations standing alone or in resources, shared
 * resources opened by global share handle. Everything is validated before
 * anything is created, and a failure part-way undoes what was made.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

#define MAX_BLOB (64u * 1024) /* private runtime/driver data we keep per resource */
#define SMALL_BATCH 8

/* Flags user mode may pass; the rest are kernel-only, reserved or out-only. */
#define CA_CREATE_RESOURCE 0x1u
#define CA_CREATE_SHARED 0x2u
#define CA_NON_SECURE 0x4u
#define CA_RESTRICT_SHARED 0x10u
#define CA_NT_SECURITY_SHARING 0x40u
#define CA_READ_ONLY 0x80u
#define CA_SWAPCHAIN_BACKBUFFER 0x400u
#define CA_CROSS_ADAPTER 0x800u
#define CA_PARTIAL_SHARED 0x2000u
#define CA_WRITE_WATCH 0x8000u
#define CA_STANDARD_ALLOCATION 0x10000u
#define CA_EXISTING_SECTION 0x20000u
#define CA_ALLOW_NOT_ZEROED 0x40000u
#define CA_PHYS_CONTIGUOUS 0x80000u
#define CA_NO_KMD_ACCESS 0x100000u
#define CA_USER_FLAGS (CA_CREATE_RESOURCE | CA_CREATE_SHARED | CA_NON_SECURE | CA_RESTRICT_SHARED | \
		       CA_NT_SECURITY_SHARING | CA_READ_ONLY | CA_SWAPCHAIN_BACKBUFFER | CA_CROSS_ADAPTER | \
		       CA_PARTIAL_SHARED | CA_WRITE_WATCH | CA_STANDARD_ALLOCATION | CA_EXISTING_SECTION | \
		       CA_ALLOW_NOT_ZEROED | CA_PHYS_CONTIGUOUS | CA_NO_KMD_ACCESS)
/* Features gpusim does not model: refused rather than silently ignored. */
#define CA_UNSUPPORTED (CA_NT_SECURITY_SHARING | CA_CROSS_ADAPTER | CA_STANDARD_ALLOCATION | \
			CA_EXISTING_SECTION | CA_WRITE_WATCH | CA_PARTIAL_SHARED)

static void *dup_blob(const void *p, uint32_t n)
{
	if (!n)
		return NULL;
	void *c = malloc(n);
	if (c)
		memcpy(c, p, n);
	return c;
}

static void link_alloc(struct kmt_device *dev, struct kmt_resource *r, struct kmt_alloc *a)
{
	dev->nallocs++;
	a->res = r;
	if (r) {
		/* Keep creation order: QueryResourceInfo/OpenResource report it. */
		struct kmt_alloc **pp = &r->allocs;
		while (*pp)
			pp = &(*pp)->res_next;
		*pp = a;
		r->nallocs++;
	}
}

static struct kmt_resource *new_resource(struct kmt_device *dev)
{
	struct kmt_resource *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->handle = kmt_handle_new(KMT_T_RESOURCE, r);
	if (!r->handle) {
		free(r);
		return NULL;
	}
	r->dev = dev;
	r->next = dev->resources;
	if (dev->resources)
		dev->resources->prev = r;
	dev->resources = r;
	return r;
}

static NTSTATUS create_allocation(D3DKMT_CREATEALLOCATION *p, bool v2)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc_desc small_descs[SMALL_BATCH], *descs = NULL;
	struct kmt_alloc *small_made[SMALL_BATCH], **made = NULL;
	struct kmt_resource *res = NULL, *new_res = NULL;
	uint32_t nmade = 0;

	if (!p)
		return STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(p->hDevice);
	if (!dev)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	uint32_t flags;
	memcpy(&flags, &p->Flags, sizeof(flags));
	if (flags & ~CA_USER_FLAGS)
		goto out;
	if (flags & CA_UNSUPPORTED) {
		st = STATUS_NOT_SUPPORTED;
		goto out;
	}
	uint32_t n = p->NumAllocations;
	if (n == 0 || n > D3DKMT_CREATEALLOCATION_MAX || !p->pAllocationInfo)
		goto out;
	if ((p->PrivateRuntimeDataSize && !p->pPrivateRuntimeData) || p->PrivateRuntimeDataSize > MAX_BLOB ||
	    (p->PrivateDriverDataSize && !p->pPrivateDriverData) || p->PrivateDriverDataSize > MAX_BLOB)
		goto out;
	/* Shared allocations must belong to a resource, and only a resource being
	 * created can be shared: nothing joins an existing shared resource. */
	bool create_res = flags & CA_CREATE_RESOURCE;
	bool shared = flags & CA_CREATE_SHARED;
	if (shared && !create_res)
		goto out;
	if (create_res && p->hResource)
		goto out;
	if (!create_res && p->hResource) {
		res = kmt_handle_get(p->hResource, KMT_T_RESOURCE);
		if (!res || res->dev != dev || res->shared || res->origin)
			goto out;
	}

	/* Most calls create one allocation: keep them off the heap. */
	if (n <= SMALL_BATCH) {
		descs = small_descs;
		made = small_made;
	} else {
		descs = calloc(n, sizeof(*descs));
		made = calloc(n, sizeof(*made));
	}
	if (!descs || !made) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	uint64_t pages = 0;
	for (uint32_t i = 0; i < n; i++) {
		const void *priv;
		uint32_t priv_size, iflags;
		if (v2) {
			const D3DDDI_ALLOCATIONINFO2 *in = &p->pAllocationInfo2[i];
			priv = in->pPrivateDriverData;
			priv_size = in->PrivateDriverDataSize;
			iflags = in->Flags.Value;
			if (in->pSystemMem || (iflags & ~0x7u))
				goto out;
		} else {
			const D3DDDI_ALLOCATIONINFO *in = &p->pAllocationInfo[i];
			priv = in->pPrivateDriverData;
			priv_size = in->PrivateDriverDataSize;
			iflags = in->Flags.Value;
			if (in->pSystemMem || (iflags & ~0x3u))
				goto out;
		}
		if (ad->mm->ddi->describe_allocation(ad->mm->drv, priv, priv_size, &descs[i]))
			goto out;
		if (iflags & 0x1u) /* Primary: scanned out, so it must stay put in VRAM */
			descs[i].flags |= GPUSIM_ALLOC_PRIMARY | GPUSIM_ALLOC_PINNED;
		if (v2 && (iflags & 0x4u)) { /* OverridePriority */
			if (!p->pAllocationInfo2[i].Priority)
				goto out;
			descs[i].priority = p->pAllocationInfo2[i].Priority;
		}
		/* Virtualization fails (STATUS_GRAPHICS_NO_VIDEO_MEMORY) before the
		 * commit charge is weighed: an allocation larger than every segment it
		 * allows is that, whatever system memory is left. */
		int rc = vidmm_alloc_check(ad->mm, &descs[i]);
		if (rc) {
			st = kmt_status_from_errno(rc);
			goto out;
		}
		pages += descs[i].size >> HW_PAGE_SHIFT;
	}
	/* The commit charge of the whole call, before anything moves. */
	if (pages > hw_sysmem_pages_total(ad->hw) - hw_sysmem_pages_used(ad->hw) -
			    hw_sysmem_pages_reserved(ad->hw)) {
		st = STATUS_NO_MEMORY;
		goto out;
	}

	if (create_res) {
		new_res = new_resource(dev);
		if (!new_res) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
		new_res->runtime_data = dup_blob(p->pPrivateRuntimeData, p->PrivateRuntimeDataSize);
		new_res->runtime_size = p->PrivateRuntimeDataSize;
		new_res->driver_data = dup_blob(p->pPrivateDriverData, p->PrivateDriverDataSize);
		new_res->driver_size = p->PrivateDriverDataSize;
		if ((p->PrivateRuntimeDataSize && !new_res->runtime_data) ||
		    (p->PrivateDriverDataSize && !new_res->driver_data)) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
		res = new_res;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct kmt_alloc *a = kmt_alloc_new(dev, false);
		if (!a) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
		a->mem = &a->own;
		a->own.refs = 1;
		a->own.v.owner = a;
		a->own.v.handle = a->handle;
		a->own.v.device = dev->handle;
		memcpy(&a->own.priv, v2 ? p->pAllocationInfo2[i].pPrivateDriverData
					: p->pAllocationInfo[i].pPrivateDriverData, sizeof(a->own.priv));
		int rc = vidmm_alloc_init(ad->mm, &a->own.v, &descs[i]);
		if (rc) {
			kmt_handle_free(a->handle);
			st = kmt_status_from_errno(rc);
			goto out;
		}
		link_alloc(dev, res, a);
		made[nmade++] = a;
	}
	if (shared) {
		new_res->shared = true;
		new_res->share = kmt_handle_new(KMT_T_SHARE, new_res);
		if (!new_res->share) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (v2) {
			p->pAllocationInfo2[i].hAllocation = made[i]->handle;
			p->pAllocationInfo2[i].GpuVirtualAddress = 0; /* no GPU VA: addresses are patched */
		} else {
			p->pAllocationInfo[i].hAllocation = made[i]->handle;
		}
	}
	if (create_res)
		p->hResource = new_res->handle;
	p->hGlobalShare = shared ? new_res->share : 0;
	st = STATUS_SUCCESS;
	nmade = 0;
	new_res = NULL;
out:
	/* Undo: a call that fails creates nothing. */
	while (nmade)
		kmt_alloc_destroy(made[--nmade]);
	if (new_res)
		kmt_resource_destroy(new_res);
	if (descs != small_descs)
		free(descs);
	if (made != small_made)
		free(made);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTCreateAllocation(D3DKMT_CREATEALLOCATION *pData)
{
	return create_allocation(pData, false);
}

NTSTATUS APIENTRY D3DKMTCreateAllocation2(D3DKMT_CREATEALLOCATION *pData)
{
	return create_allocation(pData, true);
}

static NTSTATUS destroy_allocation(D3DKMT_HANDLE hdev, D3DKMT_HANDLE hres, const D3DKMT_HANDLE *list,
				   uint32_t n)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_alloc *small[SMALL_BATCH], **v = NULL;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(hdev);
	if (!dev)
		goto out;
	/* Destruction succeeds on a removed device: it frees what it frees. */
	if (hres) {
		struct kmt_resource *r = kmt_handle_get(hres, KMT_T_RESOURCE);
		if (!r || r->dev != dev || n)
			goto out;
		kmt_resource_destroy(r);
		st = STATUS_SUCCESS;
		goto out;
	}
	if (!n || n > D3DKMT_CREATEALLOCATION_MAX || !list)
		goto out;
	/* Each handle's cell and table entry are a cache miss at scale: start them
	 * all now rather than one after another. */
	for (uint32_t i = 0; i < n && i < SMALL_BATCH; i++)
		kmt_alloc_prefetch(list[i]);
	v = n <= SMALL_BATCH ? small : malloc(n * sizeof(*v));
	if (!v) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	if (!kmt_alloc_list(dev, list, n, v))
		goto out;
	/* The next wave: what each allocation's cell points at. */
	for (uint32_t i = 0; i < n && i < SMALL_BATCH; i++)
		vidmm_alloc_prefetch(dev->ad->mm, &v[i]->mem->v);
	for (uint32_t i = 0; i < n; i++)
		kmt_alloc_destroy(v[i]);
	kmt_adapter_poll(dev->ad);
	st = STATUS_SUCCESS;
out:
	if (v != small)
		free(v);
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTDestroyAllocation(CONST D3DKMT_DESTROYALLOCATION *pData)
{
	if (!pData)
		return STATUS_INVALID_PARAMETER;
	return destroy_allocation(pData->hDevice, pData->hResource, pData->phAllocationList,
				  pData->AllocationCount);
}

NTSTATUS APIENTRY D3DKMTDestroyAllocation2(CONST D3DKMT_DESTROYALLOCATION2 *pData)
{
	if (!pData)
		return STATUS_INVALID_PARAMETER;
	/* AssumeNotInUse and SynchronousDestroy only; SystemUseOnly is the kernel's. */
	if (pData->Flags.Value & ~0x3u)
		return STATUS_INVALID_PARAMETER;
	return destroy_allocation(pData->hDevice, pData->hResource, pData->phAllocationList,
				  pData->AllocationCount);
}

NTSTATUS APIENTRY D3DKMTQueryResourceInfo(D3DKMT_QUERYRESOURCEINFO *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!pData)
		return st;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	struct kmt_resource *r = kmt_handle_get(pData->hGlobalShare, KMT_T_SHARE);
	if (!dev || !r || r->dev->ad != dev->ad)
		goto out;
	if (dev->ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	if (pData->pPrivateRuntimeData && pData->PrivateRuntimeDataSize >= r->runtime_size && r->runtime_size)
		memcpy(pData->pPrivateRuntimeData, r->runtime_data, r->runtime_size);
	pData->PrivateRuntimeDataSize = r->runtime_size;
	pData->ResourcePrivateDriverDataSize = r->driver_size;
	pData->TotalPrivateDriverDataSize = r->nallocs * (UINT)sizeof(struct gpusim_alloc_desc);
	pData->NumAllocations = r->nallocs;
	st = STATUS_SUCCESS;
out:
	kmt_unlock();
	return st;
}

NTSTATUS APIENTRY D3DKMTOpenResource(D3DKMT_OPENRESOURCE *pData)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	struct kmt_resource *nr = NULL;
	if (!pData)
		return st;
	KMT_ENTER();
	struct kmt_device *dev = kmt_get_device(pData->hDevice);
	struct kmt_resource *r = kmt_handle_get(pData->hGlobalShare, KMT_T_SHARE);
	if (!dev || !r || r->dev->ad != dev->ad)
		goto out;
	struct kmt_adapter *ad = dev->ad;
	if (ad->removed) {
		st = STATUS_DEVICE_REMOVED;
		goto out;
	}
	uint32_t per = (uint32_t)sizeof(struct gpusim_alloc_desc);
	if (pData->NumAllocations != r->nallocs || !pData->pOpenAllocationInfo ||
	    !pData->pTotalPrivateDriverDataBuffer ||
	    pData->TotalPrivateDriverDataBufferSize < r->nallocs * per ||
	    (r->runtime_size && (!pData->pPrivateRuntimeData || pData->PrivateRuntimeDataSize < r->runtime_size)) ||
	    (r->driver_size && (!pData->pResourcePrivateDriverData ||
				pData->ResourcePrivateDriverDataSize < r->driver_size)))
		goto out;
	nr = new_resource(dev);
	if (!nr) {
		st = STATUS_NO_MEMORY;
		goto out;
	}
	nr->shared = true;
	uint32_t i = 0;
	for (struct kmt_alloc *src = r->allocs; src; src = src->res_next, i++) {
		struct kmt_alloc *a = kmt_alloc_new(dev, false);
		if (!a) {
			st = STATUS_NO_MEMORY;
			goto out;
		}
		a->mem = src->mem;
		a->mem->refs++;
		link_alloc(dev, nr, a);
	}
	nr->origin = r;
	uint8_t *total = pData->pTotalPrivateDriverDataBuffer;
	i = 0;
	for (struct kmt_alloc *a = nr->allocs; a; a = a->res_next, i++) {
		memcpy(total + i * per, &a->mem->priv, per);
		pData->pOpenAllocationInfo[i].hAllocation = a->handle;
		pData->pOpenAllocationInfo[i].pPrivateDriverData = total + i * per;
		pData->pOpenAllocationInfo[i].PrivateDriverDataSize = per;
	}
	pData->TotalPrivateDriverDataBufferSize = r->nallocs * per;
	if (r->runtime_size)
		memcpy(pData->pPrivateRuntimeData, r->runtime_data, r->runtime_size);
	pData->PrivateRuntimeDataSize = r->runtime_size;
	if (r->driver_size)
		memcpy(pData->pResourcePrivateDriverData, r->driver_data, r->driver_size);
	pData->ResourcePrivateDriverDataSize = r->driver_size;
	pData->hResource = nr->handle;
	nr = NULL;
	st = STATUS_SUCCESS;
out:
	if (nr)
		kmt_resource_destroy(nr);
	kmt_unlock();
	return st;
}
