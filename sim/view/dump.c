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
 *                      "evict"|"lock"|"destroy"|"injected" } ] } ]
 * }
 *
 * sim/view/VIEWER.md carries the same description for users.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
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
	fputc('}', f);
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
		", \"submits\": %" PRIu64 ", \"demotions\": %" PRIu64 ", \"promotions\": %" PRIu64 "},\n",
		m->evictions, m->page_ins, m->moves, m->bytes_in, m->bytes_out, m->faults, m->submits, m->demotions,
		m->promotions);
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
	bool first = true;
	for (size_t i = 0; i < m->nallocs; i++) {
		if (!m->allocs[i].live)
			continue;
		fputs(first ? "\n" : ",\n", f);
		dump_alloc(f, &m->allocs[i]);
		first = false;
	}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
	return ferror(f) ? -1 : 0;
}
