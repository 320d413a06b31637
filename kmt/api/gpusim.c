/*
 * The simulator's own API (<gpusim/gpusim.h>): adapters from a configuration,
 * event listeners, statistics, allocation look-up, invariants and injected
 * faults. Same lock and the same validation as the D3DKMT entry points.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmt/core.h"

void gpusim_config_default(struct gpusim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	hw_config_default(&cfg->hw);
	snprintf(cfg->policy, sizeof(cfg->policy), "%s", vidmm_policy_find(NULL)->name);
	cfg->vram_pools = 1;
}

const char *gpusim_policy_name(unsigned i)
{
	const struct vidmm_policy_ops *p = vidmm_policy_at(i);
	return p ? p->name : NULL;
}

/* "priority-lru, lru": the list a message offers, from the policies themselves. */
static void policy_names(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	for (unsigned i = 0; gpusim_policy_name(i) && n < len; i++) {
		int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", gpusim_policy_name(i));
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int gpusim_config_parse(struct gpusim_config *cfg, const char *spec, char *err, size_t errlen)
{
	if (!cfg || !spec)
		return -EINVAL;
	char *copy = strdup(spec), *save = NULL;
	int rc = 0;
	if (!copy)
		return -ENOMEM;
	for (char *kv = strtok_r(copy, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			if (err)
				snprintf(err, errlen, "'%s' is not key=value", kv);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		const char *val = eq + 1;
		if (!strcmp(kv, "policy")) {
			if (!vidmm_policy_find(val) || strlen(val) >= sizeof(cfg->policy)) {
				if (err) {
					char names[128];
					policy_names(names, sizeof(names));
					snprintf(err, errlen, "unknown policy '%s' (%s)", val, names);
				}
				rc = -EINVAL;
			} else {
				snprintf(cfg->policy, sizeof(cfg->policy), "%s", val);
			}
		} else if (!strcmp(kv, "pools")) {
			if (strcmp(val, "1") && strcmp(val, "2")) {
				if (err)
					snprintf(err, errlen, "pools must be 1 or 2, not '%s'", val);
				rc = -EINVAL;
			} else {
				cfg->vram_pools = (uint32_t)(val[0] - '0');
			}
		} else if (!strcmp(kv, "ring_faults")) {
			if (!strcmp(val, "skip")) {
				cfg->ring_faults = GPUSIM_RING_FAULTS_SKIP;
			} else if (!strcmp(val, "stop")) {
				cfg->ring_faults = GPUSIM_RING_FAULTS_STOP;
			} else {
				if (err)
					snprintf(err, errlen, "ring_faults must be skip or stop, not '%s'", val);
				rc = -EINVAL;
			}
		} else if (!strcmp(kv, "seed")) {
			uint64_t s;
			if (hw_parse_size(val, &s)) {
				if (err)
					snprintf(err, errlen, "bad seed '%s'", val);
				rc = -EINVAL;
			} else {
				cfg->seed = s;
			}
		} else if (hw_config_set(&cfg->hw, kv, val)) {
			if (err)
				snprintf(err, errlen, "bad configuration item '%s=%s'", kv, val);
			rc = -EINVAL;
		}
	}
	free(copy);
	if (!rc && hw_config_validate(&cfg->hw, err, errlen))
		rc = -EINVAL;
	if (!rc && cfg->vram_pools == 2 && cfg->hw.vram - cfg->hw.visible < 2 * HW_PAGE_SIZE) {
		if (err)
			snprintf(err, errlen, "pools=2 splits the VRAM beyond visible in two, and "
				 "vram (%llu) - visible (%llu) leaves less than two pages",
				 (unsigned long long)cfg->hw.vram, (unsigned long long)cfg->hw.visible);
		rc = -EINVAL;
	}
	return rc;
}

NTSTATUS gpusim_adapter_create(const struct gpusim_config *cfg, LUID *luid)
{
	if (!cfg || !luid)
		return STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad;
	int rc = kmt_adapter_create(cfg, &ad);
	if (!rc)
		*luid = ad->luid;
	kmt_unlock();
	return kmt_status_from_errno(rc);
}

NTSTATUS gpusim_adapter_destroy(LUID luid)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad) {
		kmt_adapter_destroy(ad);
		st = STATUS_SUCCESS;
	}
	kmt_unlock();
	return st;
}

void gpusim_reset(void)
{
	/* Nothing to answer with: from a listener, the reset does not happen. */
	if (kmt_in_listener())
		return;
	kmt_lock();
	while (kmt_adapters())
		kmt_adapter_destroy(kmt_adapters());
	kmt_handles_reset();
	kmt_adapter_forget_default();
	kmt_unlock();
}

static void update_listening(struct kmt_adapter *ad)
{
	vidmm_set_listener(ad->mm, ad->mm->emit, ad, ad->nlisteners > 0);
}

NTSTATUS gpusim_subscribe(LUID luid, gpusim_event_fn fn, void *opaque)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad && fn) {
		if (ad->nlisteners == KMT_MAX_LISTENERS) {
			st = STATUS_NO_MEMORY;
		} else {
			ad->listeners[ad->nlisteners].fn = fn;
			ad->listeners[ad->nlisteners].opaque = opaque;
			ad->nlisteners++;
			update_listening(ad);
			st = STATUS_SUCCESS;
		}
	}
	kmt_unlock();
	return st;
}

NTSTATUS gpusim_unsubscribe(LUID luid, gpusim_event_fn fn, void *opaque)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	for (uint32_t i = 0; ad && i < ad->nlisteners; i++)
		if (ad->listeners[i].fn == fn && ad->listeners[i].opaque == opaque) {
			memmove(&ad->listeners[i], &ad->listeners[i + 1],
				(ad->nlisteners - i - 1) * sizeof(ad->listeners[0]));
			ad->nlisteners--;
			update_listening(ad);
			st = STATUS_SUCCESS;
			break;
		}
	kmt_unlock();
	return st;
}

const char *gpusim_event_name(uint32_t type)
{
	static const char *const names[] = {
		[GPUSIM_EV_CREATE] = "create", [GPUSIM_EV_DESTROY] = "destroy", [GPUSIM_EV_PLACE] = "place",
		[GPUSIM_EV_EVICT] = "evict", [GPUSIM_EV_PAGE_IN] = "page-in", [GPUSIM_EV_MOVE] = "move",
		[GPUSIM_EV_LOCK] = "lock", [GPUSIM_EV_UNLOCK] = "unlock", [GPUSIM_EV_SUBMIT] = "submit",
		[GPUSIM_EV_FENCE] = "fence", [GPUSIM_EV_FAULT] = "fault", [GPUSIM_EV_BUDGET] = "budget",
		[GPUSIM_EV_DEVICE_REMOVED] = "device-removed", [GPUSIM_EV_DEMOTE] = "demote",
		[GPUSIM_EV_PROMOTE] = "promote", [GPUSIM_EV_USE] = "use",
		[GPUSIM_EV_VA_RESERVE] = "va-reserve", [GPUSIM_EV_VA_MAP] = "va-map",
		[GPUSIM_EV_VA_UNMAP] = "va-unmap", [GPUSIM_EV_VA_COPY] = "va-copy", [GPUSIM_EV_VA_FREE] = "va-free",
		[GPUSIM_EV_SUBMIT_VA] = "submit-va",
		[GPUSIM_EV_SIGNAL] = "signal", [GPUSIM_EV_WAIT] = "wait",
	};
	return type < sizeof(names) / sizeof(names[0]) && names[type] ? names[type] : "unknown";
}

const char *gpusim_cause_name(uint32_t cause)
{
	static const char *const names[] = {
		[GPUSIM_CAUSE_NONE] = "none", [GPUSIM_CAUSE_CREATE] = "create",
		[GPUSIM_CAUSE_PRESSURE] = "pressure", [GPUSIM_CAUSE_RENDER] = "render",
		[GPUSIM_CAUSE_MAKE_RESIDENT] = "make-resident", [GPUSIM_CAUSE_EVICT_CALL] = "evict",
		[GPUSIM_CAUSE_LOCK] = "lock", [GPUSIM_CAUSE_DESTROY] = "destroy",
		[GPUSIM_CAUSE_INJECTED] = "injected", [GPUSIM_CAUSE_CPU] = "cpu", [GPUSIM_CAUSE_GPU] = "gpu",
	};
	return cause < sizeof(names) / sizeof(names[0]) && names[cause] ? names[cause] : "unknown";
}

const char *gpusim_segment_name(uint32_t seg)
{
	static const char *const names[] = { "none", "visible", "invisible", "gart", "sys", "vram2" };
	return seg < 6 ? names[seg] : "unknown";
}

NTSTATUS gpusim_get_stats(LUID luid, struct gpusim_stats *out)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!out)
		return st;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad) {
		kmt_adapter_poll(ad);
		kmt_adapter_stats(ad, out);
		st = STATUS_SUCCESS;
	}
	kmt_unlock();
	return st;
}

void kmt_adapter_stats(struct kmt_adapter *ad, struct gpusim_stats *out)
{
	{
		struct vidmm *mm = ad->mm;
		memset(out, 0, sizeof(*out));
		out->time_ns = hw_clock_now(ad->hw);
		out->allocations = mm->stats.allocations;
		out->evictions = mm->stats.evictions;
		out->page_ins = mm->stats.page_ins;
		out->moves = mm->stats.moves;
		out->demotions = mm->stats.demotions;
		out->promotions = mm->stats.promotions;
		out->bytes_in = mm->stats.bytes_in;
		out->bytes_out = mm->stats.bytes_out;
		out->faults = ad->faults;
		out->submits = ad->submits;
		out->usage_local = vidmm_usage(mm, 0);
		out->usage_nonlocal = vidmm_usage(mm, 1);
		out->budget_local = mm->budget_local;
		out->budget_nonlocal = mm->budget_nonlocal;
		out->commit_pages = mm->stats.commit_pages;
		for (uint32_t s = 1; s <= GPUSIM_SEG_MAX && s < VIDMM_SEG_MAX; s++) {
			if (!mm->seg[s].present)
				continue;
			struct vidmm_suballoc_stats ss;
			vidmm_suballoc_get_stats(mm->seg[s].sa, &ss);
			out->seg[s].size = ss.size;
			out->seg[s].used = ss.used;
			out->seg[s].largest_free = ss.largest_free;
			out->seg[s].allocations = ss.allocations;
			out->seg[s].fragmentation = ss.fragmentation;
		}
	}
}

NTSTATUS gpusim_query_allocation(D3DKMT_HANDLE allocation, struct gpusim_alloc_info *out)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	if (!out)
		return st;
	KMT_ENTER();
	struct kmt_alloc *a = kmt_handle_get(allocation, KMT_T_ALLOCATION);
	if (a) {
		struct vidmm_alloc *v = &a->mem->v;
		memset(out, 0, sizeof(*out));
		out->segment = v->seg;
		out->offset = v->seg == GPUSIM_SEG_SYS ? 0 : v->offset;
		out->size = v->size;
		out->gpu_address = vidmm_gpu_address(a->dev->ad->mm, v);
		out->priority = v->priority;
		out->flags = v->flags;
		out->lock_count = v->lock_count;
		out->residency_count = v->resident_count;
		out->device = a->dev->handle;
		st = STATUS_SUCCESS;
	}
	kmt_unlock();
	return st;
}

/* Walk every memory object of one adapter once: an opened shared allocation and
 * its original share one, so a stamp skips the second visit. */
struct mem_walk {
	struct kmt_adapter *ad;
	uint32_t cursor, stamp;
};

static int next_mem(void *ctx, struct vidmm_alloc **out)
{
	struct mem_walk *w = ctx;
	struct kmt_alloc *a;
	while ((a = kmt_handle_iter(KMT_T_ALLOCATION, &w->cursor))) {
		if (a->dev->ad != w->ad || a->mem->seen == w->stamp)
			continue;
		a->mem->seen = w->stamp;
		*out = &a->mem->v;
		return 0;
	}
	*out = NULL;
	return 0;
}

NTSTATUS gpusim_check_invariants(LUID luid, char *err, size_t errlen)
{
	static uint32_t stamp;
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad) {
		struct mem_walk w = { ad, 0, ++stamp ? stamp : ++stamp };
		st = vidmm_check(ad->mm, next_mem, &w, err, errlen) ? STATUS_UNSUCCESSFUL : STATUS_SUCCESS;
		/* The eviction policy's books too: a second walk, with a fresh stamp. */
		struct mem_walk w2 = { ad, 0, ++stamp ? stamp : ++stamp };
		if (!st && ad->mm->policy->check(ad->mm->policy_state, next_mem, &w2, err, errlen))
			st = STATUS_UNSUCCESSFUL;
	}
	kmt_unlock();
	return st;
}

NTSTATUS gpusim_inject(LUID luid, enum gpusim_fault fault, uint64_t arg)
{
	NTSTATUS st = STATUS_SUCCESS;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (!ad) {
		st = STATUS_INVALID_PARAMETER;
		goto out;
	}
	switch (fault) {
	case GPUSIM_FAULT_DEVICE_REMOVED:
		hw_inject_device_removed(ad->hw);
		ad->removed = true;
		kmt_emit_simple(ad, GPUSIM_EV_DEVICE_REMOVED, GPUSIM_CAUSE_INJECTED, 0, 0);
		break;
	case GPUSIM_FAULT_DMA_ERROR:
		hw_inject_dma_error(ad->hw);
		break;
	case GPUSIM_FAULT_VRAM_ERROR:
		if (hw_inject_vram_error(ad->hw, arg))
			st = STATUS_INVALID_PARAMETER;
		break;
	case GPUSIM_FAULT_SYSMEM_OOM:
		hw_inject_sysmem_oom(ad->hw, arg);
		break;
	default:
		st = STATUS_INVALID_PARAMETER;
	}
out:
	kmt_unlock();
	return st;
}

NTSTATUS gpusim_idle(LUID luid)
{
	NTSTATUS st = STATUS_INVALID_PARAMETER;
	KMT_ENTER();
	struct kmt_adapter *ad = kmt_adapter_by_luid(luid);
	if (ad) {
		if (ad->removed) {
			st = STATUS_DEVICE_REMOVED;
		} else {
			ad->mm->ddi->idle(ad->mm->drv);
			kmt_adapter_poll(ad);
			st = STATUS_SUCCESS;
		}
	}
	kmt_unlock();
	return st;
}
