/*
 * libFuzzer harness for what reads a snapshot after the file reader: gpusim
 * inspect's text and JSON (sim/inspect.c) and the viewer's recording of it
 * (sim/view/snapshot.c). An input that starts with the ELF magic is a file, read
 * as gpusim inspect reads it; any other input is a snapshot's tables as raw bytes,
 * so every field takes any value. The JSON must parse and the viewer's last moment
 * must be exactly the allocation table, whatever the events say.
 */
#include <config.h>

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>

#include "sim/elf/snapfile.h"
#include "sim/inspect.h"
#include "sim/view/model.h"

/* Input: five count bytes (registers, GART entries, allocations, events, ranges),
 * then version, cfg, time_ns, stats and state_size, then each table's rows, each
 * a raw struct as in <gpusim/snapshot.h> (x86-64 layout, little endian; a range is
 * addr then size); what the input lacks is zero. Bounded so that an input costs
 * milliseconds. The seeds in tests/fuzz/inspect-corpus: table.bin (the table of
 * tests/sim/snap_fixture.c), disagree.bin (events the table contradicts),
 * odd.bin (duplicate handles, unknown segments and types, wrapping GART pages),
 * fixture.elf (that table written by snapfile_write). */
#define MAX_ROWS 200u

struct input {
	const uint8_t *p;
	size_t n;
};

static void take(struct input *in, void *dst, size_t size)
{
	size_t k = in->n < size ? in->n : size;
	memset(dst, 0, size);
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
}

static uint32_t count(struct input *in, uint32_t max)
{
	uint8_t b = 0;
	take(in, &b, 1);
	return b % (max + 1);
}

static void check_json(const char *text)
{
	json_error_t e;
	/* As reals: a 64-bit field above 2^63 is valid JSON that jansson's integers
	 * cannot hold (sim/INSPECT.md says so); the syntax is what is checked. */
	json_t *j = json_loads(text, JSON_DECODE_INT_AS_REAL, &e);
	if (!j)
		__builtin_trap();
	json_decref(j);
}

/* As the viewer's model decides it (the second pool, id 5, is a segment). */
static bool is_segment(uint32_t seg)
{
	return vm_is_segment(seg);
}

/* The last moment of the recording holds every row of the table (the first row
 * of a handle that appears twice) and nothing else. */
static void check_view(const struct gpusim_snapshot *s)
{
	struct vm_recording r;
	char err[256];
	if (vm_recording_from_snapshot(&r, s, err, sizeof(err)))
		__builtin_trap();
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	size_t rows = 0, live = 0;
	for (uint64_t i = 0; i < s->nallocs; i++) {
		const struct gpusim_snapshot_alloc *a = &s->allocs[i];
		bool first = true;
		for (uint64_t k = 0; k < i && first; k++)
			first = s->allocs[k].handle != a->handle;
		if (!first)
			continue;
		rows++;
		const struct vm_alloc *v = vm_find(&m, a->handle);
		uint32_t seg = is_segment(a->segment) ? a->segment : GPUSIM_SEG_SYS;
		if (!v || !v->live || v->seg != seg || (seg != GPUSIM_SEG_SYS && v->offset != a->offset) ||
		    v->size != a->size || v->device != a->device || v->priority != a->priority ||
		    v->locked != (a->lock_count != 0))
			__builtin_trap();
	}
	for (size_t i = 0; i < m.nallocs; i++)
		live += m.allocs[i].live;
	if (live != rows)
		__builtin_trap();
	uint64_t t = s->time_ns;
	for (uint32_t i = 0; i < s->nevents; i++)
		if (s->events[i].time_ns > t)
			t = s->events[i].time_ns;
	if (m.now_ns != t)
		__builtin_trap();
	/* The model's dump, VA space and fences included, is JSON whatever the
	 * events said. */
	char *dump = NULL;
	size_t dlen = 0;
	FILE *df = open_memstream(&dump, &dlen);
	if (!df || vm_dump_json(&m, df) || fclose(df))
		__builtin_trap();
	check_json(dump);
	free(dump);
	vm_free(&m);
	vm_recording_free(&r);
}

static void check_all(const struct gpusim_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f || inspect_text(f, s) || fclose(f))
		__builtin_trap();
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (!f || inspect_json(f, s) || fclose(f))
		__builtin_trap();
	check_json(buf);
	free(buf);
	check_view(s);
}

/* As gpusim inspect reads a file: a snapshot, or a message that names the file. */
static void from_file(const uint8_t *data, size_t size)
{
	static const char name[] = "fuzz.elf";
	struct gpusim_snapshot *s = NULL;
	char err[512] = "";
	if (snapfile_read_mem(data, size, name, &s, err, sizeof(err))) {
		if (s || strncmp(err, "fuzz.elf: ", 10) || !err[10])
			__builtin_trap();
		return;
	}
	check_all(s);
	snapfile_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && !memcmp(data, "\177ELF", 4)) {
		from_file(data, size);
		return 0;
	}
	struct input in = { data, size };
	struct gpusim_snapshot s;
	memset(&s, 0, sizeof(s));
	s.nregs = count(&in, MAX_ROWS);
	s.ngart = count(&in, MAX_ROWS);
	s.nallocs = count(&in, MAX_ROWS);
	s.nevents = count(&in, MAX_ROWS);
	s.nranges = count(&in, 8);
	take(&in, &s.version, sizeof(s.version));
	take(&in, &s.cfg, sizeof(s.cfg));
	take(&in, &s.time_ns, sizeof(s.time_ns));
	take(&in, &s.stats, sizeof(s.stats));
	take(&in, &s.state_size, sizeof(s.state_size));
	s.regs = calloc(s.nregs + 1, sizeof(*s.regs));
	s.gart = calloc(s.ngart + 1, sizeof(*s.gart));
	s.allocs = calloc(s.nallocs + 1, sizeof(*s.allocs));
	s.events = calloc(s.nevents + 1, sizeof(*s.events));
	s.ranges = calloc(s.nranges + 1, sizeof(*s.ranges));
	if (!s.regs || !s.gart || !s.allocs || !s.events || !s.ranges)
		abort();
	for (uint32_t i = 0; i < s.nregs; i++)
		take(&in, &s.regs[i], sizeof(s.regs[i]));
	for (uint64_t i = 0; i < s.ngart; i++)
		take(&in, &s.gart[i], sizeof(s.gart[i]));
	for (uint64_t i = 0; i < s.nallocs; i++)
		take(&in, &s.allocs[i], sizeof(s.allocs[i]));
	for (uint32_t i = 0; i < s.nevents; i++)
		take(&in, &s.events[i], sizeof(s.events[i]));
	for (uint64_t i = 0; i < s.nranges; i++) {
		take(&in, &s.ranges[i].addr, sizeof(s.ranges[i].addr));
		take(&in, &s.ranges[i].size, sizeof(s.ranges[i].size));
		s.ranges[i].data = data; /* never read by these */
	}

	check_all(&s);

	free(s.regs);
	free(s.gart);
	free(s.allocs);
	free(s.events);
	free(s.ranges);
	return 0;
}
