/*
 * Trace items -> Chrome trace-event JSON for Perfetto and chrome://tracing: one pass
 * over the items writes counters and instants as they come and collects residency
 * periods; the periods are then packed onto per-segment tracks and written as slices.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sim/perfetto.h"

#define PID 1
#define GPU_TID 1
#define FIRST_SEGMENT_TID 2
/* WDDM 2's tracks, far above the segments' lanes so that those keep their ids;
 * named only when a trace has their events, so a WDDM 1 export is unchanged. */
#define VA_TID 1000   /* the GPU VA space: reserve, map, unmap, copy, free */
#define CPU_TID 1001  /* CPU waits on monitored fences */
#define NSEG (GPUSIM_SEG_MAX + 1) /* by place id (segments and SYS); [0] unused */

static const char *const track_names[NSEG] = {
	[GPUSIM_SEG_VISIBLE] = "visible VRAM",
	[GPUSIM_SEG_INVISIBLE] = "invisible VRAM",
	[GPUSIM_SEG_GART] = "GART",
	[GPUSIM_SEG_SYS] = "system memory",
	[GPUSIM_SEG_VRAM2] = "vram2 (VRAM pool 2)",
};

/* The keys of the "usage" counter, by segment id. */
static const char *const usage_keys[NSEG] = {
	[GPUSIM_SEG_VISIBLE] = "visible",
	[GPUSIM_SEG_INVISIBLE] = "invisible",
	[GPUSIM_SEG_GART] = "gart",
	[GPUSIM_SEG_SYS] = "system",
	[GPUSIM_SEG_VRAM2] = "vram2",
};

/* Tracks and counter keys in this order: the VRAM pools together, then the GART,
 * then system memory, whatever their ids (the second pool came after SYS's id).
 * Ids the adapter lacks give no track, so a one-pool adapter's tracks and their
 * thread ids are what they always were. */
static const uint32_t place_order[] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VRAM2,
					GPUSIM_SEG_GART, GPUSIM_SEG_SYS };
#define NPLACES (sizeof(place_order) / sizeof(place_order[0]))
_Static_assert(sizeof(place_order) / sizeof(place_order[0]) == GPUSIM_SEG_MAX,
	       "a place id without a track: add it to place_order");

const char *trace_cause_name(const struct gpusim_event *ev)
{
	return ev->type == GPUSIM_EV_FAULT ? hw_fault_name(ev->cause) : gpusim_cause_name(ev->cause);
}

/* ---- state: allocations and their residency periods ----------------------------- */

/* One allocation's life; a handle may name another allocation after a destroy. */
struct inst {
	uint32_t handle;
	const char *name;   /* into the caller's items, which outlive the write */
	uint64_t size;
	bool live, open;    /* open: a period runs since `since` */
	uint32_t seg;
	uint64_t off, since;
	uint32_t cause;
	uint32_t kind;      /* the event that began the running period */
};

struct period {
	uint32_t inst, seg, cause, lane, kind;
	uint64_t off, size, start, end;
};

/* A SubmitCommand waiting for its fence. */
struct submission {
	uint64_t time_ns, va, size, fence;
	uint32_t device;
};

struct state {
	FILE *out;
	bool first;         /* no event written yet: no comma before the next */
	struct inst *insts;
	size_t ninsts, icap;
	uint32_t *map;      /* open addressing: handle -> inst index + 1 (0 empty) */
	size_t mapcap, mapn;
	struct period *periods;
	size_t nperiods, pcap;
	uint64_t used[NSEG];
	uint64_t bytes_in, bytes_out;
	uint64_t resident[2];
	uint64_t end_ns;
	/* SubmitCommands in flight, oldest first (a queue in [qhead, nqueue)). */
	struct submission *queue;
	size_t qhead, nqueue, qcap;
	uint64_t gpu_free_ns;  /* the end of the last submission slice written */
	bool va_track, cpu_track;
};

static size_t slot_of(const struct state *st, uint32_t handle)
{
	size_t mask = st->mapcap - 1;
	size_t i = (size_t)(handle * 0x9e3779b1u) & mask;
	while (st->map[i] && st->insts[st->map[i] - 1].handle != handle)
		i = (i + 1) & mask;
	return i;
}

static struct inst *find(const struct state *st, uint32_t handle)
{
	if (!st->mapcap)
		return NULL;
	size_t i = slot_of(st, handle);
	return st->map[i] ? &st->insts[st->map[i] - 1] : NULL;
}

static bool map_grow(struct state *st)
{
	size_t cap = st->mapcap ? st->mapcap * 2 : 1024;
	uint32_t *old = st->map;
	size_t oldcap = st->mapcap;
	st->map = calloc(cap, sizeof(*st->map));
	if (!st->map) {
		st->map = old;
		return false;
	}
	st->mapcap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			st->map[slot_of(st, st->insts[old[i] - 1].handle)] = old[i];
	free(old);
	return true;
}

/* A new life for `handle` (replacing the map entry of an earlier one). */
static struct inst *inst_new(struct state *st, uint32_t handle)
{
	if ((st->mapn + 1) * 2 > st->mapcap && !map_grow(st))
		return NULL;
	if (st->ninsts == st->icap) {
		size_t cap = st->icap ? st->icap * 2 : 256;
		struct inst *p = realloc(st->insts, cap * sizeof(*p));
		if (!p)
			return NULL;
		st->insts = p;
		st->icap = cap;
	}
	if (st->ninsts >= UINT32_MAX - 1)
		return NULL;
	struct inst *in = &st->insts[st->ninsts];
	memset(in, 0, sizeof(*in));
	in->handle = handle;
	in->live = true;
	size_t i = slot_of(st, handle);
	if (!st->map[i])
		st->mapn++;
	st->map[i] = (uint32_t)++st->ninsts;
	return in;
}

static bool period_close(struct state *st, struct inst *in, uint64_t t)
{
	if (!in->open)
		return true;
	in->open = false;
	if (st->nperiods == st->pcap) {
		size_t cap = st->pcap ? st->pcap * 2 : 256;
		struct period *p = realloc(st->periods, cap * sizeof(*p));
		if (!p)
			return false;
		st->periods = p;
		st->pcap = cap;
	}
	st->periods[st->nperiods++] = (struct period){
		.inst = (uint32_t)(in - st->insts), .seg = in->seg, .cause = in->cause, .kind = in->kind,
		.off = in->seg == GPUSIM_SEG_SYS ? 0 : in->off, .size = in->size,
		.start = in->since, .end = t > in->since ? t : in->since,
	};
	return true;
}

/* ---- JSON output ------------------------------------------------------------------ */

/* Microseconds with three decimals, from exact nanoseconds (no rounding). */
static void put_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
}

/* Length of the valid UTF-8 sequence at s (max bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t max)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n > max)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values beyond Unicode are not text. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string: quotes, backslashes and control characters escaped; bytes that
 * are not UTF-8 (names come from files) become U+FFFD, so the output stays valid. */
static void put_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	fputc('"', f);
	while (left) {
		unsigned char c = *p;
		size_t n = utf8_len(p, left);
		if (!n) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
		left -= n;
	}
	fputc('"', f);
}

/* The start of one trace event: separator, phase, name, time, pid and tid. */
static void ev_begin(struct state *st, const char *ph, const char *name, uint64_t ns, int tid)
{
	FILE *f = st->out;
	fputs(st->first ? "\n" : ",\n", f);
	st->first = false;
	fprintf(f, "{\"ph\":\"%s\",\"name\":", ph);
	put_str(f, name);
	fputs(",\"ts\":", f);
	put_us(f, ns);
	fprintf(f, ",\"pid\":%d", PID);
	if (tid >= 0)
		fprintf(f, ",\"tid\":%d", tid);
}

static void counter_paging(struct state *st, uint64_t ns)
{
	ev_begin(st, "C", "paging", ns, -1);
	fprintf(st->out, ",\"args\":{\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64 "}}", st->bytes_in,
		st->bytes_out);
}

static void counter_usage(struct state *st, const struct gpusim_trace_adapter *ad, uint64_t ns)
{
	ev_begin(st, "C", "usage", ns, -1);
	fputs(",\"args\":{", st->out);
	bool comma = false;
	for (size_t k = 0; k < NPLACES; k++) {
		uint32_t s = place_order[k];
		if (s != GPUSIM_SEG_SYS && !ad->seg_size[s] && !st->used[s])
			continue; /* a segment this adapter does not have */
		fprintf(st->out, "%s\"%s\":%" PRIu64, comma ? "," : "", usage_keys[s], st->used[s]);
		comma = true;
	}
	fputs("}}", st->out);
}

static void counter_resident(struct state *st, uint64_t ns)
{
	ev_begin(st, "C", "made resident", ns, -1);
	fprintf(st->out, ",\"args\":{\"local\":%" PRIu64 ",\"nonlocal\":%" PRIu64 "}}", st->resident[0],
		st->resident[1]);
}

static bool valid_seg(uint32_t s)
{
	return s >= GPUSIM_SEG_VISIBLE && s <= GPUSIM_SEG_MAX; /* every segment, and SYS */
}

/* Where an allocation is after a placement event: close its running period and
 * open one in the new place. */
static bool placed(struct state *st, const struct gpusim_trace_adapter *ad, const struct gpusim_event *ev)
{
	struct inst *in = find(st, ev->allocation);
	if (!in || !in->live) {
		if (!(in = inst_new(st, ev->allocation)))
			return false;
	}
	if (in->open && in->seg == ev->segment && in->off == ev->offset && in->size == ev->size)
		return true; /* CREATE after the PLACE that put it there */
	if (!period_close(st, in, ev->time_ns))
		return false;
	bool was_counted = in->seg && valid_seg(in->seg);
	if (was_counted)
		st->used[in->seg] -= in->size;
	in->size = ev->size;
	if (!valid_seg(ev->segment)) {
		in->seg = 0;
		return true;
	}
	in->seg = ev->segment;
	in->off = ev->offset;
	in->since = ev->time_ns;
	in->cause = ev->cause;
	in->kind = ev->type;
	in->open = true;
	st->used[in->seg] += in->size;
	counter_usage(st, ad, ev->time_ns);
	return true;
}

static bool destroyed(struct state *st, const struct gpusim_trace_adapter *ad, const struct gpusim_event *ev)
{
	struct inst *in = find(st, ev->allocation);
	if (!in || !in->live)
		return true;
	in->live = false;
	if (!period_close(st, in, ev->time_ns))
		return false;
	if (in->seg && valid_seg(in->seg)) {
		st->used[in->seg] -= in->size;
		counter_usage(st, ad, ev->time_ns);
	}
	in->seg = 0;
	return true;
}

/* "handle" and "allocation" (its name when known) of an event's arguments. */
static void put_alloc_args(struct state *st, uint32_t handle)
{
	const struct inst *in = find(st, handle);
	fprintf(st->out, ",\"handle\":\"0x%08" PRIx32 "\",\"allocation\":", handle);
	if (in && in->name)
		put_str(st->out, in->name);
	else
		fprintf(st->out, "\"0x%08" PRIx32 "\"", handle);
}

static void instant_event(struct state *st, const struct gpusim_event *ev)
{
	FILE *f = st->out;
	switch (ev->type) {
	case GPUSIM_EV_SUBMIT:
		ev_begin(st, "i", "submit", ev->time_ns, GPU_TID);
		fprintf(f, ",\"s\":\"t\",\"args\":{\"device\":\"0x%08" PRIx32 "\",\"fence\":%" PRIu64 "}}",
			(uint32_t)ev->device, ev->value);
		break;
	case GPUSIM_EV_FENCE:
		ev_begin(st, "i", "fence", ev->time_ns, GPU_TID);
		fprintf(f, ",\"s\":\"t\",\"args\":{\"fence\":%" PRIu64 "}}", ev->value);
		break;
	case GPUSIM_EV_FAULT:
		ev_begin(st, "i", "GPU page fault", ev->time_ns, GPU_TID);
		fprintf(f, ",\"s\":\"g\",\"args\":{\"address\":\"0x%" PRIx64 "\",\"cause\":\"%s\",\"device\":\"0x%08" PRIx32
			"\",\"fence\":%" PRIu64,
			ev->offset, trace_cause_name(ev), (uint32_t)ev->device, ev->value);
		/* A GPU MMU fault's address is a virtual one: say so, and name
		 * the allocation the event names. */
		if (ev->cause >= HW_FAULT_VM_NOT_PRESENT && ev->cause <= HW_FAULT_VM_BAD_ADDR) {
			fprintf(f, ",\"va\":\"0x%" PRIx64 "\"", ev->offset);
			if (ev->allocation)
				put_alloc_args(st, ev->allocation);
		}
		fputs("}}", f);
		break;
	case GPUSIM_EV_VA_RESERVE:
	case GPUSIM_EV_VA_MAP:
	case GPUSIM_EV_VA_UNMAP:
	case GPUSIM_EV_VA_COPY:
	case GPUSIM_EV_VA_FREE:
		st->va_track = true;
		ev_begin(st, "i", gpusim_event_name(ev->type), ev->time_ns, VA_TID);
		fprintf(f, ",\"s\":\"t\",\"args\":{\"va\":\"0x%" PRIx64 "\",\"size\":%" PRIu64, ev->offset, ev->size);
		if (ev->type == GPUSIM_EV_VA_MAP) {
			put_alloc_args(st, ev->allocation);
			fprintf(f, ",\"fence\":%" PRIu64, ev->value);
		} else if (ev->type == GPUSIM_EV_VA_UNMAP) {
			fprintf(f, ",\"fence\":%" PRIu64, ev->value);
		} else if (ev->type == GPUSIM_EV_VA_COPY) {
			fprintf(f, ",\"from\":\"0x%" PRIx64 "\"", ev->value);
		} else if (ev->type == GPUSIM_EV_VA_RESERVE) {
			fprintf(f, ",\"type\":%" PRIu64, ev->value);
		}
		fputs("}}", f);
		break;
	case GPUSIM_EV_SIGNAL: {
		/* One counter per monitored fence: Perfetto gives each name its
		 * own track, and the steps are the signals. */
		char name[32];
		snprintf(name, sizeof(name), "fence 0x%08" PRIx32, (uint32_t)ev->allocation);
		ev_begin(st, "C", name, ev->time_ns, -1);
		fprintf(f, ",\"args\":{\"value\":%" PRIu64 "}}", ev->value);
		break;
	}
	case GPUSIM_EV_WAIT:
		st->cpu_track = true;
		ev_begin(st, "i", "wait", ev->time_ns, CPU_TID);
		fprintf(f, ",\"s\":\"t\",\"args\":{\"fence\":\"0x%08" PRIx32 "\",\"value\":%" PRIu64
			",\"objects\":%" PRIu64 ",\"async\":%s}}",
			(uint32_t)ev->allocation, ev->value, ev->size, ev->offset ? "true" : "false");
		break;
	case GPUSIM_EV_DEVICE_REMOVED:
		ev_begin(st, "i", "device removed", ev->time_ns, GPU_TID);
		fprintf(f, ",\"s\":\"g\",\"args\":{\"cause\":\"%s\"}}", gpusim_cause_name(ev->cause));
		break;
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE: {
		/* The manager's own choices, easy to miss as a slice that merely
		 * changes track: a mark on the GPU track named by what it was. */
		const struct inst *in = find(st, ev->allocation);
		ev_begin(st, "i", gpusim_event_name(ev->type), ev->time_ns, GPU_TID);
		fprintf(f, ",\"s\":\"t\",\"args\":{\"handle\":\"0x%08" PRIx32 "\",\"allocation\":", ev->allocation);
		if (in && in->name)
			put_str(f, in->name);
		else
			fprintf(f, "\"0x%08" PRIx32 "\"", ev->allocation);
		fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\",\"bytes\":%" PRIu64 ",\"cause\":\"%s\"}}",
			gpusim_segment_name(ev->from_segment), gpusim_segment_name(ev->segment), ev->value,
			gpusim_cause_name(ev->cause));
		break;
	}
	default:
		break;
	}
}

/* A copy between places (EVICT, PAGE_IN, MOVE, DEMOTE, PROMOTE): the bytes it
 * moved count in when they went into VRAM and out otherwise, as the statistics
 * count them; then the allocation is in its new place. */
static bool paging(struct state *st, const struct gpusim_trace_adapter *ad, const struct gpusim_event *ev)
{
	if (ev->type != GPUSIM_EV_EVICT && (ev->segment == GPUSIM_SEG_VISIBLE || ev->segment == GPUSIM_SEG_INVISIBLE))
		st->bytes_in += ev->value;
	else
		st->bytes_out += ev->value;
	counter_paging(st, ev->time_ns);
	return placed(st, ad, ev);
}

/* The oldest SubmitCommand in flight, as a slice on the GPU track: the GPU runs
 * them in order, so it starts when it was submitted or when the one before
 * ended, whichever is later, and slices never overlap. */
static void submission_slice(struct state *st, uint64_t end_ns, bool completed)
{
	const struct submission *s = &st->queue[st->qhead++];
	uint64_t start = s->time_ns > st->gpu_free_ns ? s->time_ns : st->gpu_free_ns;
	if (end_ns < start)
		end_ns = start;
	st->gpu_free_ns = end_ns;
	ev_begin(st, "X", "submit-va", start, GPU_TID);
	fputs(",\"cat\":\"submission\",\"dur\":", st->out);
	put_us(st->out, end_ns - start);
	fprintf(st->out,
		",\"args\":{\"va\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"fence\":%" PRIu64
		",\"device\":\"0x%08" PRIx32 "\",\"completed\":%s}}",
		s->va, s->size, s->fence, s->device, completed ? "true" : "false");
	if (st->qhead == st->nqueue)
		st->qhead = st->nqueue = 0;
}

static bool submitted(struct state *st, const struct gpusim_event *ev)
{
	if (st->nqueue == st->qcap) {
		if (st->qhead) { /* room at the front: slide down */
			memmove(st->queue, st->queue + st->qhead, (st->nqueue - st->qhead) * sizeof(*st->queue));
			st->nqueue -= st->qhead;
			st->qhead = 0;
		} else {
			size_t cap = st->qcap ? st->qcap * 2 : 64;
			struct submission *p = realloc(st->queue, cap * sizeof(*p));
			if (!p)
				return false;
			st->queue = p;
			st->qcap = cap;
		}
	}
	st->queue[st->nqueue++] = (struct submission){ .time_ns = ev->time_ns, .va = ev->offset, .size = ev->size,
						       .fence = ev->value, .device = (uint32_t)ev->device };
	return true;
}

static bool apply(struct state *st, const struct gpusim_trace_adapter *ad, const struct gpusim_trace_item *it)
{
	if (it->type == GPUSIM_TRACE_NAME) {
		struct inst *in = find(st, it->allocation);
		if (in && in->live && it->name[0])
			in->name = it->name;
		return true;
	}
	if (it->type != GPUSIM_TRACE_EVENT)
		return true;
	const struct gpusim_event *ev = &it->event;
	if (ev->time_ns > st->end_ns)
		st->end_ns = ev->time_ns;
	switch (ev->type) {
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
		instant_event(st, ev); /* and a copy like the others: */
		return paging(st, ad, ev);
	case GPUSIM_EV_EVICT:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
		return paging(st, ad, ev);
	case GPUSIM_EV_CREATE:
	case GPUSIM_EV_PLACE:
		return placed(st, ad, ev);
	case GPUSIM_EV_DESTROY:
		return destroyed(st, ad, ev);
	case GPUSIM_EV_BUDGET:
		st->resident[ev->offset ? 1 : 0] = ev->value;
		counter_resident(st, ev->time_ns);
		return true;
	case GPUSIM_EV_SUBMIT_VA:
		return submitted(st, ev);
	case GPUSIM_EV_FENCE:
		/* Render fences up to value are done: so are the submissions
		 * waiting for them. */
		while (st->qhead < st->nqueue && st->queue[st->qhead].fence <= ev->value)
			submission_slice(st, ev->time_ns, true);
		instant_event(st, ev);
		return true;
	default:
		instant_event(st, ev);
		return true;
	}
}

/* ---- tracks: periods packed into as few non-overlapping lanes as possible ------------ */

static int period_cmp(const void *x, const void *y)
{
	const struct period *a = x, *b = y;
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	return a->inst < b->inst ? -1 : a->inst > b->inst;
}

/* A binary min-heap of (key, lane). */
struct heap {
	struct hent { uint64_t key; uint32_t lane; } *v;
	size_t n, cap;
};

static bool heap_push(struct heap *h, uint64_t key, uint32_t lane)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct hent *p = realloc(h->v, cap * sizeof(*p));
		if (!p)
			return false;
		h->v = p;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i && h->v[(i - 1) / 2].key > key) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = (struct hent){ key, lane };
	return true;
}

static struct hent heap_pop(struct heap *h)
{
	struct hent top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
			c++;
		if (h->v[c].key >= last.key)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* Lanes per segment: each period gets the lowest lane free at its start. Returns
 * the number of lanes of each segment in nlanes[]. */
static bool assign_lanes(struct state *st, uint32_t nlanes[NSEG])
{
	if (st->nperiods) /* qsort's base may not be NULL, even for none */
		qsort(st->periods, st->nperiods, sizeof(*st->periods), period_cmp);
	struct heap busy = { 0 }, idle = { 0 };
	bool ok = true;
	for (size_t i = 0; i < st->nperiods && ok; i++) {
		struct period *p = &st->periods[i];
		if (i == 0 || p->seg != st->periods[i - 1].seg)
			busy.n = idle.n = 0;
		while (ok && busy.n && busy.v[0].key <= p->start)
			ok = heap_push(&idle, heap_pop(&busy).lane, 0);
		if (!ok)
			break;
		p->lane = idle.n ? (uint32_t)heap_pop(&idle).key : nlanes[p->seg]++;
		ok = heap_push(&busy, p->end, p->lane);
	}
	free(busy.v);
	free(idle.v);
	return ok;
}

static void write_tracks(struct state *st, const struct gpusim_trace_adapter *ad, const uint32_t nlanes[NSEG],
			 int base[NSEG])
{
	FILE *f = st->out;
	fputs(st->first ? "\n" : ",\n", f);
	st->first = false;
	fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":0,\"args\":{\"name\":\"gpusim\"}}", PID);
	fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"GPU\"}}", PID,
		GPU_TID);
	fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
		PID, GPU_TID, GPU_TID);
	static const struct { int tid; const char *name; } extra[] = { { VA_TID, "GPU VA space" },
								       { CPU_TID, "CPU waits" } };
	for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
		if (!(extra[k].tid == VA_TID ? st->va_track : st->cpu_track))
			continue;
		fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}}",
			PID, extra[k].tid, extra[k].name);
		fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
			PID, extra[k].tid, extra[k].tid);
	}
	int tid = FIRST_SEGMENT_TID;
	for (size_t o = 0; o < NPLACES; o++) {
		uint32_t s = place_order[o];
		base[s] = tid;
		/* A segment the adapter has shows even when nothing ever lived there. */
		uint32_t n = nlanes[s];
		if (!n && (s == GPUSIM_SEG_SYS || ad->seg_size[s]))
			n = 1;
		for (uint32_t k = 0; k < n; k++, tid++) {
			fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":", PID,
				tid);
			put_str(f, track_names[s]);
			fputs("}}", f);
			fprintf(f,
				",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
				PID, tid, tid);
		}
	}
}

static void write_slices(struct state *st, const int base[NSEG])
{
	FILE *f = st->out;
	for (size_t i = 0; i < st->nperiods; i++) {
		const struct period *p = &st->periods[i];
		const struct inst *in = &st->insts[p->inst];
		char hb[16];
		snprintf(hb, sizeof(hb), "0x%08" PRIx32, in->handle);
		ev_begin(st, "X", in->name ? in->name : hb, p->start, base[p->seg] + (int)p->lane);
		fputs(",\"cat\":\"residency\",\"dur\":", f);
		put_us(f, p->end - p->start);
		fprintf(f,
			",\"args\":{\"handle\":\"%s\",\"size\":%" PRIu64 ",\"offset\":%" PRIu64
			",\"cause\":\"%s\",\"by\":\"%s\"}}",
			hb, p->size, p->off, gpusim_cause_name(p->cause), gpusim_event_name(p->kind));
	}
}

int perfetto_write(FILE *out, const struct gpusim_trace_adapter *ad, const struct gpusim_trace_item *items,
		   size_t n)
{
	if (!out || !ad || (n && !items)) {
		errno = EINVAL;
		return -1;
	}
	struct state st = { .out = out, .first = true };
	bool ok = true;
	fputs("{\"traceEvents\":[", out);
	counter_paging(&st, 0);
	counter_usage(&st, ad, 0);
	for (size_t i = 0; i < n && ok; i++)
		ok = apply(&st, ad, &items[i]);
	/* What is still somewhere at the end stays there until the last moment seen. */
	for (size_t i = 0; i < st.ninsts && ok; i++)
		if (st.insts[i].live)
			ok = period_close(&st, &st.insts[i], st.end_ns);
	/* Submissions never seen to complete run to the last moment seen. */
	while (ok && st.qhead < st.nqueue)
		submission_slice(&st, st.end_ns, false);
	uint32_t nlanes[NSEG] = { 0 };
	int base[NSEG] = { 0 };
	if (ok)
		ok = assign_lanes(&st, nlanes);
	if (ok) {
		write_tracks(&st, ad, nlanes, base);
		write_slices(&st, base);
	}
	fputs("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"gpusim\",\"policy\":", out);
	put_str(out, ad->policy);
	fprintf(out,
		",\"vram\":%" PRIu64 ",\"visible\":%" PRIu64 ",\"gart\":%" PRIu64 ",\"sysmem\":%" PRIu64
		",\"budget_local\":%" PRIu64 ",\"budget_nonlocal\":%" PRIu64 "}}\n",
		ad->vram, ad->visible, ad->gart, ad->sysmem, ad->budget_local, ad->budget_nonlocal);
	free(st.insts);
	free(st.map);
	free(st.periods);
	free(st.queue);
	if (!ok) {
		errno = ENOMEM;
		return -1;
	}
	if (fflush(out) || ferror(out)) {
		errno = EIO;
		return -1;
	}
	return 0;
}
