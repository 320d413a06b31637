/*
 * Adapters: the registry of simulated GPUs (each a hw device, its driver and a
 * video memory manager), the default adapter made from GPUSIM_CONFIG on first
 * enumeration, event fan-out to listeners, and the interrupt bottom half that
 * turns the driver's fault reports into events and device state.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

static struct kmt_adapter *adapters;
static uint32_t next_luid = 0x1000;
static bool default_made;
/* GPUSIM_TRACE names one file per process, and the first adapter created records
 * into it: a trace holds one adapter's stream (the format has one adapter record),
 * and for a client that is the default adapter made at its first enumeration. A
 * second adapter, or one made after gpusim_reset, is not recorded: opening the
 * same file again would erase the first adapter's trace. */
static bool trace_env_used;

/* Which device made each recent render submission, to blame a page fault. */
#define BLAME_SLOTS KMT_BLAME_SLOTS
static struct { uint64_t fence; D3DKMT_HANDLE dev; struct kmt_adapter *ad; } blame[BLAME_SLOTS];

void kmt_blame_record(struct kmt_adapter *ad, uint64_t fence, D3DKMT_HANDLE dev)
{
	blame[fence % BLAME_SLOTS].fence = fence;
	blame[fence % BLAME_SLOTS].dev = dev;
	blame[fence % BLAME_SLOTS].ad = ad;
}

bool kmt_blame_get(struct kmt_adapter *ad, uint32_t i, uint64_t *fence, D3DKMT_HANDLE *dev)
{
	if (i >= BLAME_SLOTS || blame[i].ad != ad)
		return false;
	*fence = blame[i].fence;
	*dev = blame[i].dev;
	return true;
}

struct kmt_adapter *kmt_adapters(void)
{
	return adapters;
}

struct kmt_adapter *kmt_adapter_by_luid(LUID luid)
{
	for (struct kmt_adapter *a = adapters; a; a = a->next)
		if (a->luid.LowPart == luid.LowPart && a->luid.HighPart == luid.HighPart)
			return a;
	return NULL;
}

static void vidmm_listener(void *ctx, const struct gpusim_event *ev)
{
	/* Faults and fences that happened while the manager ran the device come
	 * first, so the stream stays in time order. */
	kmt_adapter_poll(ctx);
	kmt_emit(ctx, ev);
}

void kmt_emit(struct kmt_adapter *ad, const struct gpusim_event *ev)
{
	for (uint32_t i = 0; i < ad->nlisteners; i++)
		kmt_listener_call(ad->listeners[i].fn, ad->listeners[i].opaque, ev);
}

void kmt_emit_simple(struct kmt_adapter *ad, uint32_t type, uint32_t cause, D3DKMT_HANDLE dev,
		     uint64_t value)
{
	if (!ad->nlisteners)
		return;
	struct gpusim_event ev = { .type = type, .cause = cause, .device = dev, .value = value,
				   .time_ns = hw_clock_now(ad->hw) };
	kmt_emit(ad, &ev);
}

void kmt_emit_uses(struct kmt_adapter *ad, struct vidmm_alloc *const *set, uint32_t n, uint32_t cause,
		   uint64_t value)
{
	if (!ad->nlisteners)
		return;
	uint64_t now = hw_clock_now(ad->hw);
	for (uint32_t i = 0; i < n; i++) {
		const struct vidmm_alloc *a = set[i];
		struct gpusim_event ev = {
			.type = GPUSIM_EV_USE, .cause = cause, .time_ns = now, .device = a->device,
			.allocation = a->handle, .segment = a->seg, .offset = a->seg == GPUSIM_SEG_SYS ? 0 : a->offset,
			.size = a->size, .value = value, .priority = a->priority,
			.preferred = a->pl.n ? a->pl.seg[0] : 0,
		};
		kmt_emit(ad, &ev);
	}
}

int kmt_adapter_create(const struct gpusim_config *cfg, struct kmt_adapter **out)
{
	int rc;
	if (hw_config_validate(&cfg->hw, NULL, 0) || !vidmm_policy_find(cfg->policy) ||
	    cfg->vram_pools > 2 || (cfg->vram_pools == 2 && cfg->hw.vram - cfg->hw.visible < 2 * HW_PAGE_SIZE) ||
	    cfg->ring_faults > GPUSIM_RING_FAULTS_STOP)
		return -EINVAL;
	struct kmt_adapter *ad = calloc(1, sizeof(*ad));
	if (!ad)
		return -ENOMEM;
	ad->cfg = *cfg;
	if (!ad->cfg.vram_pools)
		ad->cfg.vram_pools = 1; /* a configuration zeroed by hand */
	if ((rc = hw_device_create(&cfg->hw, &ad->hw))) {
		free(ad);
		return rc;
	}
	struct kmt_driver_options opt = { .vram_pools = cfg->vram_pools ? cfg->vram_pools : 1,
					  .stop_on_fault = cfg->ring_faults == GPUSIM_RING_FAULTS_STOP };
	if ((rc = vidmm_create(ad->hw, &gsdrv_ddi, &opt, cfg->policy, &ad->mm))) {
		hw_device_destroy(ad->hw);
		free(ad);
		return rc;
	}
	vidmm_set_listener(ad->mm, vidmm_listener, ad, false);
	ad->luid.LowPart = next_luid++;
	ad->luid.HighPart = 0;
	ad->next = adapters;
	adapters = ad;
	if (!trace_env_used) {
		const char *path = getenv("GPUSIM_TRACE");
		if (path && *path) {
			trace_env_used = true;
			/* A file that cannot be made leaves the client running untraced:
			 * the library does not print, and the client's own work matters more. */
			kmt_trace_attach(ad, path);
		}
	}
	*out = ad;
	return 0;
}

int kmt_adapter_listen(struct kmt_adapter *ad, gpusim_event_fn fn, void *opaque)
{
	if (ad->nlisteners == KMT_MAX_LISTENERS)
		return -ENOMEM;
	ad->listeners[ad->nlisteners].fn = fn;
	ad->listeners[ad->nlisteners].opaque = opaque;
	ad->nlisteners++;
	vidmm_set_listener(ad->mm, vidmm_listener, ad, true);
	return 0;
}

void kmt_adapter_destroy(struct kmt_adapter *ad)
{
	ad->going = true;
	while (ad->devices)
		kmt_device_destroy(ad->devices);
	/* After the last events (the devices' destruction): the trace is complete. */
	kmt_trace_adapter_gone(ad);
	/* Adapter handles still open on it must not outlive it. */
	uint32_t cur = 0;
	struct kmt_adapter *o;
	while ((o = kmt_handle_iter(KMT_T_ADAPTER, &cur)))
		if (o == ad)
			kmt_handle_free(kmt_handle_at(cur - 1));
	for (struct kmt_adapter **pp = &adapters; *pp; pp = &(*pp)->next)
		if (*pp == ad) {
			*pp = ad->next;
			break;
		}
	for (uint32_t i = 0; i < BLAME_SLOTS; i++)
		if (blame[i].ad == ad)
			blame[i].ad = NULL;
	kmt_fence_fini(ad);
	vidmm_destroy(ad->mm);
	hw_device_destroy(ad->hw);
	free(ad);
}

void kmt_adapter_ensure_default(void)
{
	if (adapters || default_made)
		return;
	default_made = true;
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	const char *env = getenv("GPUSIM_CONFIG");
	if (env && gpusim_config_parse(&cfg, env, NULL, 0))
		gpusim_config_default(&cfg); /* a bad variable must not leave us without a GPU */
	struct kmt_adapter *ad;
	if (kmt_adapter_create(&cfg, &ad)) {
		gpusim_config_default(&cfg);
		if (kmt_adapter_create(&cfg, &ad))
			default_made = false; /* try again at the next enumeration */
	}
}

void kmt_adapter_forget_default(void)
{
	default_made = false;
	next_luid = 0x1000;
}

void kmt_adapter_poll(struct kmt_adapter *ad)
{
	struct kmt_fault_info f;
	while (ad->mm->ddi->take_fault(ad->mm->drv, &f)) {
		ad->faults++;
		ad->last_fault = f;
		ad->has_fault = true;
		D3DKMT_HANDLE who = 0;
		uint64_t fence = f.completed + 1;
		if (f.engine == KMT_ENGINE_RENDER && blame[fence % BLAME_SLOTS].ad == ad &&
		    blame[fence % BLAME_SLOTS].fence == fence)
			who = blame[fence % BLAME_SLOTS].dev;
		for (struct kmt_device *d = ad->devices; d; d = d->next)
			if (d->handle == who) {
				d->faulted = true;
				d->fault = f;
			}
		if (ad->nlisteners) {
			struct gpusim_event ev = { .type = GPUSIM_EV_FAULT, .cause = f.cause,
						   .time_ns = f.time_ns, .device = who,
						   .offset = f.gpu_address, .value = fence };
			/* A fault on a VA names the allocation mapped there, resident
			 * or not (an evicted one is the usual culprit). */
			const struct vidmm_va_mapping *m =
				(f.flags & KMT_FAULT_VA) && ad->va && ad->va->asid == f.asid
					? vidmm_va_lookup(ad->va, f.gpu_address)
					: NULL;
			if (m && m->alloc)
				ev.allocation = m->alloc->handle;
			kmt_emit(ad, &ev);
		}
	}
	/* Fences the queues signalled behind a submission. */
	uint64_t done = ad->mm->ddi->completed_fence(ad->mm->drv, KMT_ENGINE_RENDER);
	if (done > ad->fence_seen) {
		ad->fence_seen = done;
		kmt_emit_simple(ad, GPUSIM_EV_FENCE, GPUSIM_CAUSE_NONE, 0, done);
	}
	for (struct kmt_device *d = ad->devices; d; d = d->next)
		for (struct kmt_sync *s = d->syncs; s; s = s->next)
			if (s->pending_fence && s->pending_fence <= done) {
				/* Rewinds were judged when the signal was made. */
				kmt_sync_set(s, s->pending_value);
				s->pending_fence = 0;
				if (s->cpu_value && ad->nlisteners) {
					struct gpusim_event ev = {
						.type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_RENDER,
						.time_ns = hw_clock_now(ad->hw), .device = d->handle,
						.allocation = s->handle, .value = s->value,
					};
					kmt_emit(ad, &ev);
				}
			}
	kmt_fence_poll(ad);
}
