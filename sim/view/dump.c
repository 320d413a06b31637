/*
 * `gpusim view --dump json`: the data the viewer's window shows, as one JSON object,
 * for scripts and tests that have no display. Written with fprintf: the schema is
 * small and fixed, and gpusim links no JSON library.
 *
 * The schema (version 1; keys are never renamed or removed, only added; sizes and
 * offsets in bytes, times in simulated nanoseconds, handles as "0x%08x" strings):
 *
 * {
 *   "version": 1,
 *   "time_ns": N,              latest event time seen
 *   "items": N,                trace items applied (events and names)
 *   "device_removed": BOOL,
 *   "adapter": { "vram", "visible", "gart", "sysmem": N, "policy": "arc" },
 *   "segments": [              by id: visible, invisible, gart always, then vram2
 *                              (id 5, the second pool of pools=2) when the adapter
 *                              has it or an allocation is in it
 *     { "id": 1, "name": "visible", "group": "local"|"nonlocal",
 *       "size": N (0: the segment is absent), "used": N, "free": N,
 *       "largest_free": N, "allocations": N, "budget": N (its group's budget) } ],
 *   "usage": { "local": N, "nonlocal": N, "sys": N (evicted bytes),
 *              "budget_local": N, "budget_nonlocal": N },
 *   "counters": { "evictions", "page_ins", "moves", "bytes_in", "bytes_out",
 *                 "faults", "submits", "demotions", "promotions": N },
 *   "devices": [               in order of first appearance
 *     { "device": "0x..", "used": { "visible", "invisible", "gart", "sys": N,
 *                                   "vram2": N (with a vram2 segment) } } ],
 *   "allocations": [           live ones only, in creation order
 *     { "name": "tex0" (or "#<handle hex>"), "handle": "0x..", "device": "0x..",
 *       "size": N, "segment": "visible"|"invisible"|"gart"|"vram2"|"sys",
 *       "offset": N (0 in sys), "priority": N (D3DDDI_ALLOCATIONPRIORITY_* value),
 *       "preferred": "visible"|"invisible"|"gart"|"vram2"|"sys"|"none", "locked": BOOL,
 *       "created_ns": N, "last_use_ns": N (last placement change, lock or GPU use),
 *       "history": [ { "time_ns": N, "event": "create"|"place"|"evict"|"page-in"|
 *                      "move"|"demote"|"promote"|"destroy", "from": SEG, "to": SEG, "offset": N,
 *                      "cause": "none"|"create"|"pressure"|"render"|"make-resident"|
 *                      "evict"|"lock"|"destroy"|"injected" } ],
 *       "va": [ { "base": "0x..", "size": N, "protection": "unknown"|"read-only",
 *                 "fence": N (the map's paging fence) } ]   its GPU VA mappings } ],
 *   "va_space": {              the adapter's GPU virtual address space (WDDM 2)
 *     "reservations": [ { "base": "0x..", "size": N,
 *                         "type": "no-access"|"zero"|"implicit"|"type-N" } ],
 *     "mappings": [ { "base": "0x..", "size": N, "handle": "0x..", "device": "0x..",
 *                     "allocation": "name"|null, "protection", "fence": N } ],
 *     "faults": [ { "time_ns": N, "va": "0x..", "cause": "vm-not-present"|...,
 *                   "handle": "0x.." (mapped there then; "0x00000000": nothing) } ],
 *     "faults_total": N, "dropped": N (ranges past the model's bound) },
 *   "fences": [                monitored fences, in order of first SIGNAL or WAIT
 *     { "handle": "0x..", "device": "0x..", "value": N, "signals": N, "waits": N,
 *       "last_cause": "cpu"|"gpu"|"render"|"none", "last_ns": N } ]
 * }
 * "counters" also has "submits_va" (SubmitCommand), "signals" and "waits".
 *
 * sim/view/VIEWER.md carries the same description for users.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/jsonw.h"
#include "sim/view/model.h"

static const char *seg_name(uint32_t seg)
{
	return seg == GPUSIM_SEG_NONE ? "none" : gpusim_segment_name(seg);
}

/* The second pool and any other id past the standard three: only when the
 * adapter has it, or a (version-1) trace put allocations there without its size,
 * so a WDDM 1 dump keeps its three segments. */
static bool shown(const struct vm_model *m, uint32_t s)
{
	if (!vm_is_segment(s))
		return false;
	return s <= GPUSIM_SEG_COUNT || m->seg[s].size || m->seg[s].used || m->seg[s].count;
}

static const char *bool_str(bool b)
{
	return b ? "true" : "false";
}

static void dump_history(FILE *f, const struct vm_alloc *a)
{
	fputs("\"history\": [", f);
	for (uint32_t i = 0; i < a->nhistory; i++) {
		const struct vm_move *h = &a->history[i];
		const char *ev = gpusim_event_name(h->type);
		fprintf(f, "%s\n        {\"time_ns\": %" PRIu64 ", \"event\": ", i ? "," : "", h->time_ns);
		jw_string(f, ev ? ev : "unknown");
		fprintf(f, ", \"from\": \"%s\", \"to\": \"%s\", \"offset\": %" PRIu64 ", \"cause\": \"%s\"}",
			seg_name(h->from), seg_name(h->to), h->offset, gpusim_cause_name(h->cause));
	}
	fputs(a->nhistory ? "\n      ]" : "]", f);
}

static const char *prot_name(uint32_t kind)
{
	return kind == VM_VA_PROT_READ_ONLY ? "read-only" : "unknown";
}

static void put_va_map(FILE *f, const struct vm_va_range *r)
{
	fprintf(f, "{\"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"protection\": \"%s\", \"fence\": %" PRIu64,
		r->base, r->size, prot_name(r->kind), r->fence);
}

/* An allocation's mappings: idx[] holds the positions of the model's mappings
 * sorted by handle, then address, so each allocation finds its own in log n. */
static void dump_alloc_va(FILE *f, const struct vm_model *m, const uint32_t *idx, const struct vm_alloc *a)
{
	size_t lo = 0, hi = idx ? m->nva_map : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->va_map[idx[mid]].handle < a->handle)
			lo = mid + 1;
		else
			hi = mid;
	}
	fputs(",\n      \"va\": [", f);
	bool first = true;
	for (; lo < m->nva_map && idx && m->va_map[idx[lo]].handle == a->handle; lo++) {
		fputs(first ? "" : ", ", f);
		put_va_map(f, &m->va_map[idx[lo]]);
		fputc('}', f);
		first = false;
	}
	fputc(']', f);
}

static const struct vm_model *sort_model;

static int by_handle_then_base(const void *x, const void *y)
{
	const struct vm_va_range *a = &sort_model->va_map[*(const uint32_t *)x];
	const struct vm_va_range *b = &sort_model->va_map[*(const uint32_t *)y];
	if (a->handle != b->handle)
		return a->handle < b->handle ? -1 : 1;
	return a->base < b->base ? -1 : a->base > b->base;
}

static void reservation_type(char *buf, size_t len, uint32_t kind)
{
	if (kind == VM_VA_IMPLICIT)
		snprintf(buf, len, "implicit");
	else if (kind == D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS)
		snprintf(buf, len, "no-access");
	else if (kind == D3DDDIGPUVIRTUALADDRESS_RESERVE_ZERO)
		snprintf(buf, len, "zero");
	else
		snprintf(buf, len, "type-%" PRIu32, kind);
}

static void dump_va_space(FILE *f, const struct vm_model *m)
{
	char type[32];
	fputs("  \"va_space\": {\"reservations\": [", f);
	for (size_t i = 0; i < m->nva_res; i++) {
		const struct vm_va_range *r = &m->va_res[i];
		reservation_type(type, sizeof(type), r->kind);
		fprintf(f, "%s\n    {\"base\": \"0x%" PRIx64 "\", \"size\": %" PRIu64 ", \"type\": \"%s\"}",
			i ? "," : "", r->base, r->size, type);
	}
	fputs(m->nva_res ? "\n  ],\n  \"mappings\": [" : "],\n  \"mappings\": [", f);
	for (size_t i = 0; i < m->nva_map; i++) {
		const struct vm_va_range *r = &m->va_map[i];
		const struct vm_alloc *a = vm_find(m, r->handle);
		fputs(i ? ",\n    " : "\n    ", f);
		put_va_map(f, r);
		fprintf(f, ", \"handle\": \"0x%08" PRIx32 "\", \"device\": \"0x%08" PRIx32 "\", \"allocation\": ",
			r->handle, r->device);
		if (a && a->live)
			jw_string(f, a->name);
		else
			fputs("null", f);
		fputc('}', f);
	}
	fputs(m->nva_map ? "\n  ],\n  \"faults\": [" : "],\n  \"faults\": [", f);
	for (size_t i = 0; i < m->nva_faults; i++) {
		const struct vm_va_fault *v = &m->va_faults[i];
		const char *cause = hw_fault_name(v->cause);
		fprintf(f, "%s\n    {\"time_ns\": %" PRIu64 ", \"va\": \"0x%" PRIx64 "\", \"cause\": ", i ? "," : "",
			v->time_ns, v->va);
		jw_string(f, cause ? cause : "unknown");
		fprintf(f, ", \"handle\": \"0x%08" PRIx32 "\"}", v->handle);
	}
	fprintf(f, "%s, \"faults_total\": %" PRIu64 ", \"dropped\": %" PRIu64 "},\n", m->nva_faults ? "\n  ]" : "]",
		m->va_faults_total, m->va_dropped);
	fputs("  \"fences\": [", f);
	for (size_t i = 0; i < m->nfences; i++) {
		const struct vm_fence *x = &m->fences[i];
		fprintf(f,
			"%s\n    {\"handle\": \"0x%08" PRIx32 "\", \"device\": \"0x%08" PRIx32 "\", \"value\": %" PRIu64
			", \"signals\": %" PRIu64 ", \"waits\": %" PRIu64 ", \"last_cause\": \"%s\", \"last_ns\": %" PRIu64 "}",
			i ? "," : "", x->handle, x->device, x->value, x->signals, x->waits,
			gpusim_cause_name(x->last_cause), x->last_ns);
	}
	fputs(m->nfences ? "\n  ],\n" : "],\n", f);
}

static void dump_alloc(FILE *f, const struct vm_alloc *a)
{
	fputs("    {\"name\": ", f);
	jw_string(f, a->name);
	fprintf(f,
		", \"handle\": \"0x%08" PRIx32 "\", \"device\": \"0x%08" PRIx32 "\", \"size\": %" PRIu64
		", \"segment\": \"%s\", \"offset\": %" PRIu64 ",\n      \"priority\": %" PRIu32
		", \"preferred\": \"%s\", \"locked\": %s, \"created_ns\": %" PRIu64 ", \"last_use_ns\": %" PRIu64
		",\n      ",
		a->handle, a->device, a->size, seg_name(a->seg), a->offset, a->priority, seg_name(a->preferred),
		bool_str(a->locked), a->created_ns, a->last_use_ns);
	dump_history(f, a);
}

int vm_dump_json(const struct vm_model *m, FILE *f)
{
	const struct gpusim_trace_adapter *ad = &m->adapter;
	char policy[sizeof(ad->policy) + 1];
	memcpy(policy, ad->policy, sizeof(ad->policy));
	policy[sizeof(ad->policy)] = '\0'; /* a full 16-byte name has no NUL */

	fprintf(f, "{\n  \"version\": 1,\n  \"time_ns\": %" PRIu64 ",\n  \"items\": %" PRIu64
		   ",\n  \"device_removed\": %s,\n",
		m->now_ns, m->events, bool_str(m->device_removed));
	fprintf(f, "  \"adapter\": {\"vram\": %" PRIu64 ", \"visible\": %" PRIu64 ", \"gart\": %" PRIu64
		   ", \"sysmem\": %" PRIu64 ", \"policy\": ",
		ad->vram, ad->visible, ad->gart, ad->sysmem);
	jw_string(f, policy);
	fputs("},\n  \"segments\": [", f);
	for (uint32_t s = GPUSIM_SEG_VISIBLE; s <= GPUSIM_SEG_MAX; s++) {
		if (!shown(m, s))
			continue;
		const struct vm_segment *g = &m->seg[s];
		bool local = s != GPUSIM_SEG_GART;
		fprintf(f,
			"%s\n    {\"id\": %" PRIu32 ", \"name\": \"%s\", \"group\": \"%s\", \"size\": %" PRIu64
			", \"used\": %" PRIu64 ", \"free\": %" PRIu64 ", \"largest_free\": %" PRIu64
			", \"allocations\": %" PRIu32 ", \"budget\": %" PRIu64 "}",
			s > GPUSIM_SEG_VISIBLE ? "," : "", s, seg_name(s), local ? "local" : "nonlocal", g->size,
			g->used, g->size > g->used ? g->size - g->used : 0, g->largest_free, g->count,
			local ? ad->budget_local : ad->budget_nonlocal);
	}
	uint64_t sys = 0;
	for (size_t i = 0; i < m->ndevices; i++)
		sys += m->devices[i].used[GPUSIM_SEG_SYS];
	fprintf(f,
		"\n  ],\n  \"usage\": {\"local\": %" PRIu64 ", \"nonlocal\": %" PRIu64 ", \"sys\": %" PRIu64
		", \"budget_local\": %" PRIu64 ", \"budget_nonlocal\": %" PRIu64 "},\n",
		vm_usage_local(m), vm_usage_nonlocal(m), sys, ad->budget_local, ad->budget_nonlocal);
	fprintf(f,
		"  \"counters\": {\"evictions\": %" PRIu64 ", \"page_ins\": %" PRIu64 ", \"moves\": %" PRIu64
		", \"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"faults\": %" PRIu64
		", \"submits\": %" PRIu64 ", \"demotions\": %" PRIu64 ", \"promotions\": %" PRIu64
		", \"submits_va\": %" PRIu64 ", \"signals\": %" PRIu64 ", \"waits\": %" PRIu64 "},\n",
		m->evictions, m->page_ins, m->moves, m->bytes_in, m->bytes_out, m->faults, m->submits, m->demotions,
		m->promotions, m->submits_va, m->signals, m->waits);
	dump_va_space(f, m);
	fputs("  \"devices\": [", f);
	for (size_t i = 0; i < m->ndevices; i++) {
		const struct vm_device_usage *d = &m->devices[i];
		fprintf(f,
			"%s\n    {\"device\": \"0x%08" PRIx32 "\", \"used\": {\"visible\": %" PRIu64
			", \"invisible\": %" PRIu64 ", \"gart\": %" PRIu64 ", \"sys\": %" PRIu64,
			i ? "," : "", d->device, d->used[GPUSIM_SEG_VISIBLE], d->used[GPUSIM_SEG_INVISIBLE],
			d->used[GPUSIM_SEG_GART], d->used[GPUSIM_SEG_SYS]);
		if (shown(m, GPUSIM_SEG_VRAM2))
			fprintf(f, ", \"vram2\": %" PRIu64, d->used[GPUSIM_SEG_VRAM2]);
		fputs("}}", f);
	}
	fputs(m->ndevices ? "\n  ],\n  \"allocations\": [" : "],\n  \"allocations\": [", f);
	/* Without room for the index, allocations are dumped without their VAs
	 * rather than not at all. */
	uint32_t *idx = m->nva_map ? malloc(m->nva_map * sizeof(*idx)) : NULL;
	if (idx) {
		for (size_t i = 0; i < m->nva_map; i++)
			idx[i] = (uint32_t)i;
		sort_model = m;
		qsort(idx, m->nva_map, sizeof(*idx), by_handle_then_base);
	}
	bool first = true;
	for (size_t i = 0; i < m->nallocs; i++) {
		if (!m->allocs[i].live)
			continue;
		fputs(first ? "\n" : ",\n", f);
		dump_alloc(f, &m->allocs[i]);
		dump_alloc_va(f, m, idx, &m->allocs[i]);
		fputc('}', f);
		first = false;
	}
	free(idx);
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
	return ferror(f) ? -1 : 0;
}
