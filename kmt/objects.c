/*
 * Destruction of kernel objects and the look-ups that check a handle's type and
 * owner. Destroying a device destroys everything it owns; memory shared with
 * another device lives until the last handle on it is gone.
 */
#include <config.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "kmt/core.h"

NTSTATUS kmt_status_from_errno(int err)
{
	switch (err) {
	case 0: return STATUS_SUCCESS;
	case -EINVAL: return STATUS_INVALID_PARAMETER;
	case -ENOMEM: return STATUS_NO_MEMORY;
	case -ENOSPC: return STATUS_GRAPHICS_NO_VIDEO_MEMORY;
	case -EBUSY: return STATUS_GRAPHICS_ALLOCATION_BUSY;
	case -ENODEV: return STATUS_DEVICE_REMOVED;
	/* The driver's -ETIMEDOUT is "never": nothing left to run will get the GPU
	 * there (a stopped ring, a WAIT nobody satisfies). STATUS_TIMEOUT would be a
	 * success to NT_SUCCESS() with nothing done; the CPU waits' failure code says it. */
	case -ETIMEDOUT: return STATUS_POSSIBLE_DEADLOCK;
	case -EACCES: return STATUS_GRAPHICS_CANT_LOCK_MEMORY;
	case -EIO: return STATUS_UNSUCCESSFUL; /* the copy engine kept failing */
	default: return STATUS_UNSUCCESSFUL;
	}
}

struct kmt_device *kmt_get_device(D3DKMT_HANDLE h)
{
	return kmt_handle_get(h, KMT_T_DEVICE);
}

/* kmt_get_alloc is in handle.c: it reads the allocation's cell, not the table. */

bool kmt_alloc_list(struct kmt_device *dev, const D3DKMT_HANDLE *h, uint32_t n, struct kmt_alloc **out)
{
	static uint32_t stamp;
	if (++stamp == 0)
		stamp = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct kmt_alloc *a = kmt_get_alloc(dev, h[i]);
		if (!a || a->stamp == stamp)
			return false;
		a->stamp = stamp;
		out[i] = a;
	}
	return true;
}

/* The memory object's owner cell is given back with the last reference to it. */
static void mem_put(struct kmt_adapter *ad, struct kmt_mem *m)
{
	if (--m->refs)
		return;
	vidmm_alloc_fini(ad->mm, &m->v);
	/* Memory is always some cell's `own`: that cell, found without reading
	 * v.owner, which sits in a line a destroy has no other reason to touch. */
	kmt_alloc_unpark((struct kmt_alloc *)((char *)m - offsetof(struct kmt_alloc, own)));
}

void kmt_alloc_destroy(struct kmt_alloc *a)
{
	struct kmt_device *dev = a->dev;
	struct kmt_adapter *ad = dev->ad;
	struct vidmm_alloc *v = &a->mem->v;
	while (a->locks) {
		a->locks--;
		vidmm_unlock(ad->mm, v);
	}
	kmt_residency_drop_handle(ad, a);
	dev->nallocs--;
	if (a->res) {
		struct kmt_alloc **pp = &a->res->allocs;
		while (*pp && *pp != a)
			pp = &(*pp)->res_next;
		if (*pp)
			*pp = a->res_next;
		a->res->nallocs--;
	}
	D3DKMT_HANDLE h = a->handle;
	struct kmt_mem *m = a->mem;
	/* The cell that holds the memory stays until the memory goes (mem_put). */
	if (m == &a->own)
		kmt_alloc_park(a);
	else
		kmt_handle_free(h);
	if (m->refs > 1 && m->v.handle == h) {
		/* Shared memory outlives this handle: events name a surviving one
		 * (a rare path, so a walk of the handle table is fine). */
		uint32_t cur = 0;
		struct kmt_alloc *o;
		while ((o = kmt_handle_iter(KMT_T_ALLOCATION, &cur)))
			if (o->mem == m) {
				m->v.handle = o->handle;
				m->v.device = o->dev->handle;
				break;
			}
	}
	mem_put(ad, m);
}

void kmt_resource_destroy(struct kmt_resource *r)
{
	struct kmt_device *dev = r->dev;
	while (r->allocs)
		kmt_alloc_destroy(r->allocs);
	if (r->share)
		kmt_handle_free(r->share);
	/* Opened copies point at us: cut them loose, they keep the memory alive. */
	for (struct kmt_device *d = dev->ad->devices; d; d = d->next)
		for (struct kmt_resource *o = d->resources; o; o = o->next)
			if (o->origin == r)
				o->origin = NULL;
	if (r->prev)
		r->prev->next = r->next;
	else
		dev->resources = r->next;
	if (r->next)
		r->next->prev = r->prev;
	kmt_handle_free(r->handle);
	free(r->runtime_data);
	free(r->driver_data);
	free(r);
}

void kmt_context_destroy(struct kmt_context *c)
{
	struct kmt_device *dev = c->dev;
	if (c->prev)
		c->prev->next = c->next;
	else
		dev->contexts = c->next;
	if (c->next)
		c->next->prev = c->prev;
	kmt_handle_free(c->handle);
	free(c->cmdbuf);
	free(c->alloc_list);
	free(c->patch_list);
	free(c);
}

void kmt_sync_destroy(struct kmt_sync *s)
{
	struct kmt_device *dev = s->dev;
	struct kmt_adapter *ad = dev->ad;
	/* A GPU signal still queued for a monitored fence writes its slot when the
	 * engine gets there, and a freed slot is the next fence's: let the render
	 * work queued so far run first, as a destroyed allocation waits for its
	 * last use. Not when nothing will run (removed, or the adapter going), and
	 * a ring stalled in a WAIT nothing meets cannot get there (kmt/README.md). */
	const struct kmt_ddi *ddi = ad->mm->ddi;
	if (s->slot != KMT_NO_SLOT && s->gpu_queued && !ad->going && !ad->removed) {
		uint64_t queued = ddi->submitted_fence(ad->mm->drv, KMT_ENGINE_RENDER);
		if (ddi->completed_fence(ad->mm->drv, KMT_ENGINE_RENDER) < queued) {
			(void)ddi->wait_fence(ad->mm->drv, KMT_ENGINE_RENDER, queued);
			kmt_adapter_poll(ad); /* what ran is reported, waits it met fire */
		}
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		dev->syncs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	kmt_handle_free(s->handle);
	kmt_cpu_wait_forget(dev->ad, s);
	if (s->slot != KMT_NO_SLOT)
		kmt_fence_slot_free(dev->ad, s->slot);
	free(s);
}

/* Its fence goes with it. A fence write still queued on the paging ring is
 * let run first: once the fence's page is unmapped it would fault. */
void kmt_pagingqueue_destroy(struct kmt_pagingqueue *q)
{
	struct kmt_device *dev = q->dev;
	struct kmt_adapter *ad = dev->ad;
	if (kmt_sync_value(q->fence) < q->last && !ad->removed && !hw_device_removed(ad->hw)) {
		ad->mm->ddi->paging_flush(ad->mm->drv, NULL);
		kmt_adapter_poll(ad);
	}
	if (q->prev)
		q->prev->next = q->next;
	else
		dev->pqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	kmt_handle_free(q->handle);
	kmt_sync_destroy(q->fence);
	free(q);
}

void kmt_device_destroy(struct kmt_device *dev)
{
	struct kmt_adapter *ad = dev->ad;
	while (dev->contexts)
		kmt_context_destroy(dev->contexts);
	while (dev->pqs)
		kmt_pagingqueue_destroy(dev->pqs);
	while (dev->syncs)
		kmt_sync_destroy(dev->syncs);
	while (dev->resources)
		kmt_resource_destroy(dev->resources);
	uint32_t cur = 0;
	struct kmt_alloc *a;
	while (dev->nallocs && (a = kmt_handle_iter(KMT_T_ALLOCATION, &cur)))
		if (a->dev == dev)
			kmt_alloc_destroy(a);
	for (struct kmt_device **pp = &ad->devices; *pp; pp = &(*pp)->next)
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	kmt_handle_free(dev->handle);
	free(dev);
}
