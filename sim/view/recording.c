/*
 * Recordings: every trace item of one run, in order, so the viewer can rebuild the
 * model at any moment (vm_replay). Filled from a trace file, or by running a
 * scenario with the runner's observer hooks.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "sim/scenario/scenario.h"
#include "sim/view/model.h"

void vm_recording_init(struct vm_recording *r)
{
	memset(r, 0, sizeof(*r));
}

void vm_recording_free(struct vm_recording *r)
{
	free(r->items);
	memset(r, 0, sizeof(*r));
}

/* -1 when the host has no room: loading reports it, running stops recording. */
static int push(struct vm_recording *r, const struct gpusim_trace_item *item)
{
	if (r->nitems == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		if (cap > SIZE_MAX / sizeof(*r->items))
			return -1;
		struct gpusim_trace_item *p = realloc(r->items, cap * sizeof(*p));
		if (!p)
			return -1;
		r->items = p;
		r->cap = cap;
	}
	r->items[r->nitems++] = *item;
	return 0;
}

void vm_recording_add(struct vm_recording *r, const struct gpusim_trace_item *item)
{
	/* No error channel: a recording that silently lost an item would show a
	 * picture that never was. */
	if (push(r, item)) {
		fputs("gpusim: out of memory\n", stderr);
		abort();
	}
}

int vm_recording_load(struct vm_recording *r, const char *path, char *err, size_t errlen)
{
	vm_recording_init(r);
	if (err && errlen)
		err[0] = '\0';
	struct gpusim_trace_reader *rd = gpusim_trace_open(path, &r->adapter, err, errlen);
	if (!rd) {
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s: cannot read the trace", path);
		return -1;
	}
	struct gpusim_trace_item item;
	int rc;
	while ((rc = gpusim_trace_next(rd, false, &item, err, errlen)) == 1)
		if (push(r, &item)) {
			snprintf(err, errlen, "%s: out of memory after %zu records", path, r->nitems);
			rc = -1;
			break;
		}
	gpusim_trace_close_reader(rd);
	if (rc < 0) {
		if (err && errlen && !err[0])
			snprintf(err, errlen, "%s: cannot read the trace", path);
		vm_recording_free(r);
		return -1;
	}
	return 0;
}

struct run_ctx {
	struct vm_recording *r;
	bool described;    /* the adapter existed and was described */
	bool out_of_memory;
};

static void run_on_adapter(void *opaque, LUID luid)
{
	struct run_ctx *c = opaque;
	c->described = gpusim_trace_describe(luid, &c->r->adapter) == STATUS_SUCCESS;
}

static void run_on_item(void *opaque, const struct gpusim_trace_item *item)
{
	struct run_ctx *c = opaque;
	if (!c->out_of_memory && push(c->r, item))
		c->out_of_memory = true;
}

int vm_recording_run(struct vm_recording *r, const struct scn_script *s, FILE *err)
{
	vm_recording_init(r);
	struct run_ctx c = { .r = r };
	/* Quiet: the story and echo lines belong to `gpusim run`; failures still go to
	 * err (a NULL stream discards, as /dev/null would, and cannot fail to open). */
	struct scn_options opt = {
		.quiet = true, .out = err, .err = err,
		.on_adapter = run_on_adapter, .on_item = run_on_item, .ctx = &c,
	};
	struct scn_result res;
	int rc = scn_run(s, &opt, &res);
	if (!c.described) {
		/* No adapter (its configuration was refused): nothing to show. The
		 * runner has said why on err. */
		vm_recording_free(r);
		return -1;
	}
	if (c.out_of_memory) {
		if (err)
			fprintf(err, "gpusim: out of memory while recording the scenario (%zu items kept)\n",
				r->nitems);
		vm_recording_free(r);
		return -1;
	}
	return rc;
}

void vm_begin(struct vm_model *m, const struct vm_recording *r)
{
	vm_init(m, &r->adapter);
	m->now_ns = r->start.time_ns;
	m->evictions = r->start.evictions;
	m->page_ins = r->start.page_ins;
	m->moves = r->start.moves;
	m->demotions = r->start.demotions;
	m->promotions = r->start.promotions;
	m->bytes_in = r->start.bytes_in;
	m->bytes_out = r->start.bytes_out;
	m->faults = r->start.faults;
	m->submits = r->start.submits;
}

void vm_replay(struct vm_model *m, const struct vm_recording *r, size_t n)
{
	vm_begin(m, r);
	if (n > r->nitems)
		n = r->nitems;
	for (size_t i = 0; i < n; i++)
		vm_apply(m, &r->items[i]);
	vm_refresh(m);
}
