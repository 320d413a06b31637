/*
 * <gpusim/trace.h> — gpusim's trace files: the event stream of one adapter, with
 * what a viewer needs to draw it (segment sizes, allocation names), in a compact
 * binary format that can be read while it is being written. libkmt writes one for
 * any client when GPUSIM_TRACE=FILE is set; `gpusim trace` and `gpusim view` read it.
 *
 * Format (little endian):
 *   header  "GPUSIMTR" (8 bytes), u32 version (GPUSIM_TRACE_VERSION), u32 reserved 0
 *   records, each: u8 type, u8 reserved 0, u16 length of the payload in bytes,
 *                  u32 CRC-32 (zlib) of the payload, then the payload
 *   ADAPTER payload: struct gpusim_trace_adapter   (first record, exactly once):
 *                    u64 vram, visible, gart, sysmem; u64 seg_size[N]; u64
 *                    budget_local, budget_nonlocal; 16 bytes of policy name.
 *                    N = GPUSIM_SEG_MAX + 1 = 6 (112 bytes) in version 2; the slots
 *                    of id 0 and GPUSIM_SEG_SYS are 0.
 *   EVENT payload:   struct gpusim_event           (as in <gpusim/gpusim.h>)
 *   NAME payload:    u32 allocation handle, u32 device handle, then the name bytes
 *                    (no NUL, 1..255 bytes): a label for the viewer, from scenarios
 * A record that is cut short at the end of the file is "not yet written" for a reader
 * that follows the file, and "truncated" for one that does not.
 *
 * Versions. 1: N = GPUSIM_SEG_COUNT + 1 = 4 (96-byte ADAPTER payload), no size for
 * the second VRAM pool (GPUSIM_SEG_VRAM2, id 5) although its events may name it:
 * a version-1 trace of a pools=2 adapter has them. 2: N = 6, every segment id.
 * Writers write version 2 only. Readers read both: a version-1 adapter record
 * reads with seg_size[GPUSIM_SEG_VRAM2] = 0, so a tool shows those allocations in
 * segment 5 of unknown size (counted as VRAM, without a map of the pool). Other
 * records are the same in both versions.
 */
#ifndef GPUSIM_TRACE_H
#define GPUSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gpusim/gpusim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GPUSIM_TRACE_MAGIC "GPUSIMTR"
#define GPUSIM_TRACE_VERSION 2u        /* what writers write */
#define GPUSIM_TRACE_VERSION_OLDEST 1u /* the oldest one readers still read */

enum gpusim_trace_record {
	GPUSIM_TRACE_ADAPTER = 1,
	GPUSIM_TRACE_EVENT = 2,
	GPUSIM_TRACE_NAME = 3,
};

struct gpusim_trace_adapter {
	uint64_t vram, visible, gart, sysmem;
	/* Usable bytes of each segment, by id; 0 for a segment the adapter lacks,
	 * for [0] and for [GPUSIM_SEG_SYS] (no segment). */
	uint64_t seg_size[GPUSIM_SEG_MAX + 1];
	uint64_t budget_local, budget_nonlocal;
	char policy[16];
};

/* A segment id that can hold an allocation (1 .. GPUSIM_SEG_MAX but not
 * GPUSIM_SEG_SYS, an evicted allocation's backing store): what tools lay out and
 * total by. Whether the adapter has it is seg_size[id] != 0. */
static inline bool gpusim_trace_is_segment(uint32_t id)
{
	return id >= GPUSIM_SEG_VISIBLE && id <= GPUSIM_SEG_MAX && id != GPUSIM_SEG_SYS;
}

/* ---- writing --------------------------------------------------------------- */

struct gpusim_trace_writer;

/* Create (truncate) `path` and write the header and the adapter record. NULL with
 * errno set on failure. */
struct gpusim_trace_writer *gpusim_trace_create(const char *path, const struct gpusim_trace_adapter *ad);
int gpusim_trace_event(struct gpusim_trace_writer *w, const struct gpusim_event *ev);
int gpusim_trace_name(struct gpusim_trace_writer *w, uint32_t allocation, uint32_t device, const char *name);
/* Push buffered records to the file (a follower sees them after this). */
int gpusim_trace_flush(struct gpusim_trace_writer *w);
int gpusim_trace_close(struct gpusim_trace_writer *w);

/* Describe an adapter as its trace's ADAPTER record does. */
NTSTATUS gpusim_trace_describe(LUID luid, struct gpusim_trace_adapter *out);

/* Record one adapter's events into `path` until it is destroyed or the process
 * exits (what GPUSIM_TRACE=FILE does for the first adapter a process creates: for
 * a client, the default adapter of its first enumeration). When the file cannot
 * be made, errno says why. */
NTSTATUS gpusim_trace_attach(LUID luid, const char *path);

/* ---- reading ---------------------------------------------------------------- */

struct gpusim_trace_reader;

struct gpusim_trace_item {
	uint32_t type;                 /* GPUSIM_TRACE_EVENT or GPUSIM_TRACE_NAME */
	struct gpusim_event event;
	uint32_t allocation, device;   /* NAME */
	char name[256];                /* NAME, NUL-terminated */
};

/* Open and check the header and the adapter record. NULL on error with a sentence
 * naming the file and the problem in err ("t.trace: not a gpusim trace (bad magic)"). */
struct gpusim_trace_reader *gpusim_trace_open(const char *path, struct gpusim_trace_adapter *ad,
					      char *err, size_t errlen);
/* Next record: 1 and *item; 0 at the end of the file; -1 on a corrupt record (bad
 * CRC, unknown type, wrong length), or a truncated one unless `follow`, with a
 * sentence in err naming the file, the byte offset and the problem. With `follow`,
 * a partial last record gives 0 and is read again on the next call. */
int gpusim_trace_next(struct gpusim_trace_reader *r, bool follow, struct gpusim_trace_item *item,
		      char *err, size_t errlen);
void gpusim_trace_close_reader(struct gpusim_trace_reader *r);

#ifdef __cplusplus
}
#endif
#endif
