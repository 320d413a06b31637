/*
 * The Perfetto export of a trace: Chrome trace-event JSON that opens in Perfetto
 * (ui.perfetto.dev) and chrome://tracing, with residency as slices on one track per
 * segment, paging and usage as counters, and faults and submissions as instants.
 */
#ifndef SIM_PERFETTO_H
#define SIM_PERFETTO_H

#include <stddef.h>
#include <stdio.h>

#include <gpusim/trace.h>

/* Write items[0..n) (in stream order) as one JSON object:
 *   {"traceEvents":[...],"displayTimeUnit":"ns","otherData":{...}}
 * Process "gpusim" (pid 1); thread "GPU" (tid 1) holds submits and fences as
 * instants; each segment has a track named "visible VRAM", "invisible VRAM", "GART"
 * or "system memory" (a segment whose residency periods overlap in time gets more
 * tracks of the same name: the format forbids overlapping slices on one track).
 * Every residency period of an allocation is a complete slice ("ph":"X") named
 * after the allocation (NAME items, else its handle in hex) with args handle, size,
 * offset, cause and "by", the kind of event that put it there ("create", "place",
 * "page-in", "move", "demote", "promote", "evict"). Counters: "paging" {bytes_in,
 * bytes_out} (cumulative, from the bytes each EVICT, PAGE_IN, MOVE, DEMOTE and
 * PROMOTE copied: into VRAM is in, anything else out), "usage" {visible,
 * invisible, gart, system} in bytes, "made resident" {local, nonlocal}. Instants
 * on the GPU track: "demote" and "promote" {handle, allocation (its name), from,
 * to, bytes, cause}. Global instants: "GPU page fault", "device removed". USE
 * events add nothing. Times are microseconds with three decimals (exact
 * nanoseconds). 0, or -1 with errno (ENOMEM, or EIO when writing `out` failed). */
int perfetto_write(FILE *out, const struct gpusim_trace_adapter *ad, const struct gpusim_trace_item *items,
		   size_t n);

/* An event's cause as text: the hardware fault cause ("gart-invalid") for FAULT,
 * else the gpusim_event_cause ("pressure", "make-resident"). */
const char *trace_cause_name(const struct gpusim_event *ev);

#endif
