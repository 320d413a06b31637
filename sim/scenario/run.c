/*
 * The scenario runner: plays a parsed script against a fresh simulated adapter
 * through the public D3DKMT API, as a user-mode driver would, and checks what the
 * script expects. Names in the script map to handles here; the API never sees them.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include <gpusim/snapshot.h>
#include "sim/elf/snapfile.h"
#include "sim/elf/image.h"
#include "sim/scenario/scenario.h"

#define MAX_SHOWN_NAMES 4      /* names a message lists before "..." */
#define PROGRESS_MIN_COMMANDS 2000
#define PROGRESS_WIDTH 40
#define PATTERN_CHUNK 4096
#define RECENT_EVENTS 256      /* kept for snapshots */
#define MAX_FAULT_DUMPS 16     /* --dump-on-fault writes at most this many */

/* ---- a small intrusive hash map -------------------------------------------------
 * Scripts may hold a million live allocations; each command looks names up, and
 * each event looks a handle up, so both need constant time. */

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct hmap {
	struct hnode **b;
	size_t nb, n;
};

#define container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_u32(uint32_t v)
{
	uint64_t h = v * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static bool hmap_grow(struct hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 64;
	struct hnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return false;
	for (size_t i = 0; i < m->nb; i++)
		for (struct hnode *e = m->b[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return true;
}

static bool hmap_insert(struct hmap *m, struct hnode *e, uint64_t hash)
{
	if (m->n >= m->nb && !hmap_grow(m) && !m->nb)
		return false; /* a full table still works, only slower */
	e->hash = hash;
	e->next = m->b[hash & (m->nb - 1)];
	m->b[hash & (m->nb - 1)] = e;
	m->n++;
	return true;
}

static void hmap_remove(struct hmap *m, struct hnode *e)
{
	if (!m->nb)
		return;
	for (struct hnode **pp = &m->b[e->hash & (m->nb - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			m->n--;
			return;
		}
}

static struct hnode *hmap_first(const struct hmap *m, uint64_t hash)
{
	return m->nb ? m->b[hash & (m->nb - 1)] : NULL;
}

/* ---- the runner's view of the world ------------------------------------------ */

struct range {
	uint64_t off, len, seed;
	uint32_t line;
};

struct rt_dev {
	char *name;
	D3DKMT_HANDLE hdev, hctx;
	void *cmdbuf;
	uint32_t cmdbuf_size;
	D3DDDI_ALLOCATIONLIST *alist;
	uint32_t alist_size;
	D3DDDI_PATCHLOCATIONLIST *plist;
	uint32_t plist_size;
	struct hnode by_name, by_handle;
	struct rt_dev *next;
};

struct rt_alloc {
	char *name;
	struct rt_dev *dev;
	D3DKMT_HANDLE handle;   /* 0 when its alloc failed: the API answers for it */
	uint64_t size;          /* as the script asked */
	uint64_t gpu_addr;      /* where the runner last saw it resident */
	bool has_addr;
	struct range *ranges;   /* written by `write` and not overwritten since */
	size_t nranges, cap;
	struct hnode by_name, by_handle;
	bool in_handle_map;
	struct rt_alloc *prev, *next; /* creation order, for `show` and the end check */
};

/* A loaded ELF image: the `image` command, and the handles its segments got. */
struct rt_image {
	char *name;
	const struct scn_cmd *def;
	struct rt_dev *dev;
	D3DKMT_HANDLE *handles;   /* one per segment */
	struct hnode by_name;
	struct rt_image *next;
};

struct rt_res {
	char *name;
	D3DKMT_HANDLE handle;
	struct hnode by_name;
	struct rt_res *next;
};

struct rt {
	const struct scn_script *s;
	const struct scn_options *opt;
	struct scn_result *res;
	const char *script_name;
	bool quiet, verbose;

	LUID luid;
	D3DKMT_HANDLE hadapter;
	bool have_adapter, subscribed, removed;
	bool ending;        /* in the end checks: observers no longer see events */
	bool no_invisible;  /* visible == vram: the adapter has no invisible segment */

	struct hmap allocs, alloc_handles, devs, dev_handles, resources;
	struct rt_alloc *first, *last;
	struct rt_alloc *grave;  /* freed this command: events may still name them */
	struct rt_dev *dev_list, *dev_tail;
	struct rt_res *res_list;
	struct hmap images;
	struct rt_image *image_list;

	struct gpusim_event *ev;
	size_t nev, evcap;
	uint64_t ev_dropped;

	/* The last events, for snapshots (kept when the script snapshots or
	 * --dump-on-fault is on). */
	struct gpusim_event *recent;
	uint32_t recent_head, nrecent;
	const char *dump_reason;  /* a fault or removal this command: dump after it */
	uint32_t dumps;

	bool bar_shown;
	int bar_pct;

	/* WDDM 2 objects (pagingqueue, vcontext, reserve, map, fence, cmdbuf) */
	struct hmap objs;
	struct rt_obj *obj_list, *obj_tail;  /* creation order, for `show` */
	/* The last GPU page fault the events told of (kept for `expect fault`). */
	bool has_fault;
	uint64_t fault_va;
	D3DKMT_HANDLE fault_alloc;
	uint32_t fault_cause;

	const struct scn_cmd *cur; /* the command running (the inner one of expect status) */
	char msg[1024];  /* the current command's own failure text, replacing the status one */
	char note[256];  /* appended to the status failure text */
};

/* ---- formatting ---------------------------------------------------------------- */

static void fmt_size(char *buf, size_t n, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (b < 1024) {
		snprintf(buf, n, "%" PRIu64 " B", b);
		return;
	}
	double v = (double)b / 1024;
	int u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	uint64_t unit = 1ull << (10 * (u + 1));
	if (b % unit == 0)
		snprintf(buf, n, "%" PRIu64 " %s", b / unit, units[u]);
	else
		snprintf(buf, n, "%.1f %s", v, units[u]);
}

static void fmt_status(char *buf, size_t n, NTSTATUS st)
{
	const char *name = scn_status_name(st);
	if (name)
		snprintf(buf, n, "%s (0x%08" PRIx32 ")", name, (uint32_t)st);
	else
		snprintf(buf, n, "0x%08" PRIx32, (uint32_t)st);
}

static const char *status_short(NTSTATUS st, char *buf, size_t n)
{
	const char *name = scn_status_name(st);
	if (name)
		return name;
	snprintf(buf, n, "0x%08" PRIx32, (uint32_t)st);
	return buf;
}

static const char *priority_name(uint32_t p, char *buf, size_t n)
{
	switch (p) {
	case 0:
	case D3DDDI_ALLOCATIONPRIORITY_NORMAL: return "normal";
	case D3DDDI_ALLOCATIONPRIORITY_MINIMUM: return "minimum";
	case D3DDDI_ALLOCATIONPRIORITY_LOW: return "low";
	case D3DDDI_ALLOCATIONPRIORITY_HIGH: return "high";
	case D3DDDI_ALLOCATIONPRIORITY_MAXIMUM: return "maximum";
	}
	snprintf(buf, n, "0x%08" PRIx32, p);
	return buf;
}

static const char *kind_name(enum scn_kind k)
{
	static const char *const names[] = {
		[SCN_ADAPTER] = "adapter",     [SCN_DEVICE] = "device",     [SCN_ALLOC] = "alloc",
		[SCN_FREE] = "free",           [SCN_WRITE] = "write",       [SCN_VERIFY] = "verify",
		[SCN_LOCK] = "lock",           [SCN_UNLOCK] = "unlock",     [SCN_SUBMIT] = "submit",
		[SCN_GPU_FILL] = "gpu-fill",   [SCN_GPU_COPY] = "gpu-copy", [SCN_RESIDENT] = "resident",
		[SCN_EVICT] = "evict",         [SCN_PRIORITY] = "priority", [SCN_IDLE] = "idle",
		[SCN_INJECT] = "inject",       [SCN_SNAPSHOT] = "snapshot", [SCN_SHOW] = "show",
		[SCN_ECHO] = "echo",           [SCN_EXPECT_IN] = "expect",  [SCN_EXPECT_STAT] = "expect stat",
		[SCN_EXPECT_STATUS] = "expect status", [SCN_IMAGE] = "image",
		[SCN_SUBMIT_IMAGE] = "submit-image", [SCN_PAGINGQUEUE] = "pagingqueue",
		[SCN_WAIT_PAGING] = "wait-paging", [SCN_VCONTEXT] = "vcontext", [SCN_RESERVE] = "reserve",
		[SCN_MAP] = "map",             [SCN_UNMAP] = "unmap",       [SCN_FREE_VA] = "free-va",
		[SCN_FENCE] = "fence",         [SCN_SIGNAL] = "signal",     [SCN_WAIT] = "wait",
		[SCN_GPU_SIGNAL] = "gpu-signal", [SCN_GPU_WAIT] = "gpu-wait", [SCN_CMDBUF] = "cmdbuf",
		[SCN_CMD] = "cmd",             [SCN_SUBMIT_COMMAND] = "submit-command",
		[SCN_EXPECT_FENCE] = "expect fence", [SCN_EXPECT_VA] = "expect va",
		[SCN_EXPECT_FAULT] = "expect fault",
	};
	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "?";
}

static const char *inject_name(enum scn_inject i)
{
	switch (i) {
	case SCN_INJ_DEVICE_REMOVED: return "device-removed";
	case SCN_INJ_DMA_ERROR: return "dma-error";
	case SCN_INJ_SYSMEM_OOM: return "sysmem-oom";
	}
	return "?";
}

static const char *where_name(enum scn_where w)
{
	switch (w) {
	case SCN_IN_VISIBLE: return "visible";
	case SCN_IN_INVISIBLE: return "invisible";
	case SCN_IN_VRAM: return "vram";
	case SCN_IN_GART: return "gart";
	case SCN_IN_SYS: return "sys";
	case SCN_IN_RESIDENT: return "resident";
	case SCN_IN_VRAM2: return "vram2";
	}
	return "?";
}

/* "alloc big", "free a b c d ...": how messages name a command. */
static void describe(const struct scn_cmd *c, char *buf, size_t n)
{
	size_t len = (size_t)snprintf(buf, n, "%s", kind_name(c->kind));
#define ADD(...)                                                              \
	do {                                                                  \
		if (len < n)                                                  \
			len += (size_t)snprintf(buf + len, n - len, __VA_ARGS__); \
	} while (0)
	switch (c->kind) {
	case SCN_FREE:
	case SCN_SUBMIT:
	case SCN_RESIDENT:
	case SCN_EVICT:
		for (uint32_t i = 0; i < c->nnames && i < MAX_SHOWN_NAMES; i++)
			ADD(" %s", c->names[i]);
		if (c->nnames > MAX_SHOWN_NAMES)
			ADD(" ...");
		break;
	case SCN_GPU_COPY:
	case SCN_MAP:
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT:
	case SCN_SUBMIT_COMMAND:
		ADD(" %s %s", c->name ? c->name : "?", c->name2 ? c->name2 : "?");
		break;
	case SCN_CMD: {
		static const char *const ops[] = { [SCN_OP_FILL] = "fill", [SCN_OP_COPY] = "copy",
						   [SCN_OP_WRITE] = "write", [SCN_OP_SIGNAL] = "signal",
						   [SCN_OP_WAIT] = "wait", [SCN_OP_RESET] = "reset",
						   [SCN_OP_RAW] = "raw" };
		ADD(" %s %s", c->name ? c->name : "?",
		    (unsigned)c->op < sizeof(ops) / sizeof(ops[0]) && ops[c->op] ? ops[c->op] : "?");
		break;
	}
	case SCN_INJECT:
		ADD(" %s", inject_name(c->inject));
		break;
	case SCN_SNAPSHOT:
		ADD(" %s", c->path ? c->path : "");
		break;
	case SCN_EXPECT_STAT:
		ADD(" %s", c->stat_key ? c->stat_key : "?");
		break;
	case SCN_EXPECT_STATUS:
		if (c->inner && len + 1 < n) {
			buf[len++] = ' ';
			describe(c->inner, buf + len, n - len);
		}
		break;
	case SCN_ECHO:
	case SCN_IDLE:
	case SCN_SHOW:
	case SCN_ADAPTER:
		break;
	default:
		if (c->name)
			ADD(" %s", c->name);
	}
#undef ADD
}

/* rt_msg with the running command's description in front: "submit a b: ...". */
static void cmd_msg(struct rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd_msg(struct rt *rt, const char *fmt, ...)
{
	char what[256];
	describe(rt->cur, what, sizeof(what));
	size_t len = (size_t)snprintf(rt->msg, sizeof(rt->msg), "%s: ", what);
	if (len >= sizeof(rt->msg))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rt->msg + len, sizeof(rt->msg) - len, fmt, ap);
	va_end(ap);
}

/* ---- output: story and events on `out`, failures on `err` ---------------------- */

static void bar_clear(struct rt *rt)
{
	if (rt->bar_shown) {
		fprintf(rt->opt->err, "\r%*s\r", PROGRESS_WIDTH + 16, "");
		rt->bar_shown = false;
	}
}

static void bar_update(struct rt *rt, size_t done)
{
	size_t total = rt->s->ncmds;
	int pct = (int)(done * 100 / total);
	if (pct == rt->bar_pct && rt->bar_shown)
		return;
	rt->bar_pct = pct;
	int fill = pct * PROGRESS_WIDTH / 100;
	char bar[PROGRESS_WIDTH + 1];
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '.', (size_t)(PROGRESS_WIDTH - fill));
	bar[PROGRESS_WIDTH] = '\0';
	fprintf(rt->opt->err, "\r[%s] %3d%%", bar, pct);
	fflush(rt->opt->err);
	rt->bar_shown = true;
}

static void report_v(struct rt *rt, const struct scn_loc *loc, const char *fmt, va_list ap)
{
	if (!rt->opt->err)
		return;
	bar_clear(rt);
	if (rt->opt->out)
		fflush(rt->opt->out); /* a failure follows the story it interrupts, even in a pipe */
	if (loc)
		fprintf(rt->opt->err, "%s:%" PRIu32 ": ", loc->file ? loc->file : rt->script_name, loc->line);
	else
		fprintf(rt->opt->err, "%s: ", rt->script_name);
	vfprintf(rt->opt->err, fmt, ap);
	fputc('\n', rt->opt->err);
}

static void report(struct rt *rt, const struct scn_loc *loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(struct rt *rt, const struct scn_loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_v(rt, loc, fmt, ap);
	va_end(ap);
}

/* A failure: counted, printed as "file:line: message". */
static void fail(struct rt *rt, const struct scn_loc *loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct rt *rt, const struct scn_loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report_v(rt, loc, fmt, ap);
	va_end(ap);
	rt->res->failed++;
}

static void say(struct rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct rt *rt, const char *fmt, ...)
{
	if (!rt->opt->out)
		return;
	bar_clear(rt);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(rt->opt->out, fmt, ap);
	va_end(ap);
}

/* ---- lookups ------------------------------------------------------------------- */

static struct rt_alloc *find_alloc(struct rt *rt, const char *name)
{
	if (!name)
		return NULL;
	uint64_t h = hash_str(name);
	for (struct hnode *e = hmap_first(&rt->allocs, h); e; e = e->next)
		if (e->hash == h && !strcmp(container_of(e, struct rt_alloc, by_name)->name, name))
			return container_of(e, struct rt_alloc, by_name);
	return NULL;
}

static struct rt_alloc *find_alloc_handle(struct rt *rt, D3DKMT_HANDLE handle)
{
	uint64_t h = hash_u32(handle);
	for (struct hnode *e = hmap_first(&rt->alloc_handles, h); e; e = e->next)
		if (e->hash == h && container_of(e, struct rt_alloc, by_handle)->handle == handle)
			return container_of(e, struct rt_alloc, by_handle);
	return NULL;
}

static struct rt_dev *find_dev(struct rt *rt, const char *name)
{
	uint64_t h = hash_str(name);
	for (struct hnode *e = hmap_first(&rt->devs, h); e; e = e->next)
		if (e->hash == h && !strcmp(container_of(e, struct rt_dev, by_name)->name, name))
			return container_of(e, struct rt_dev, by_name);
	return NULL;
}

static struct rt_dev *find_dev_handle(struct rt *rt, D3DKMT_HANDLE handle)
{
	uint64_t h = hash_u32(handle);
	for (struct hnode *e = hmap_first(&rt->dev_handles, h); e; e = e->next)
		if (e->hash == h && container_of(e, struct rt_dev, by_handle)->hdev == handle)
			return container_of(e, struct rt_dev, by_handle);
	return NULL;
}

static struct rt_res *find_res(struct rt *rt, const char *name)
{
	uint64_t h = hash_str(name);
	for (struct hnode *e = hmap_first(&rt->resources, h); e; e = e->next)
		if (e->hash == h && !strcmp(container_of(e, struct rt_res, by_name)->name, name))
			return container_of(e, struct rt_res, by_name);
	return NULL;
}

/* ---- events ---------------------------------------------------------------------- */

/* Called with the adapter lock held: only record; names are resolved after the
 * command, when the runner knows the handles the call handed out. An observer
 * (opt->on_item) gets the event at once, under the same lock, so events and the
 * NAME items cmd_alloc gives after its call stay in the order they happened. */
static void on_event(void *opaque, const struct gpusim_event *ev)
{
	struct rt *rt = opaque;
	if (rt->opt->on_item && !rt->ending) {
		struct gpusim_trace_item item = { .type = GPUSIM_TRACE_EVENT, .event = *ev };
		rt->opt->on_item(rt->opt->ctx, &item);
	}
	if (rt->recent) {
		rt->recent[(rt->recent_head + rt->nrecent) % RECENT_EVENTS] = *ev;
		if (rt->nrecent < RECENT_EVENTS)
			rt->nrecent++;
		else
			rt->recent_head = (rt->recent_head + 1) % RECENT_EVENTS;
	}
	if (ev->type == GPUSIM_EV_FAULT) {
		rt->has_fault = true;
		rt->fault_va = ev->offset;
		rt->fault_alloc = ev->allocation;
		rt->fault_cause = ev->cause;
	}
	if (ev->type == GPUSIM_EV_FAULT && !rt->dump_reason)
		rt->dump_reason = "a GPU page fault";
	else if (ev->type == GPUSIM_EV_DEVICE_REMOVED)
		rt->dump_reason = "the device was removed";
	if (!rt->verbose)
		return;
	if (rt->nev == rt->evcap) {
		size_t cap = rt->evcap ? rt->evcap * 2 : 256;
		struct gpusim_event *p = realloc(rt->ev, cap * sizeof(*p));
		if (!p) {
			rt->ev_dropped++;
			return;
		}
		rt->ev = p;
		rt->evcap = cap;
	}
	rt->ev[rt->nev++] = *ev;
}

static const char *alloc_label(struct rt *rt, D3DKMT_HANDLE h, char *buf, size_t n)
{
	struct rt_alloc *a = find_alloc_handle(rt, h);
	if (a)
		return a->name;
	snprintf(buf, n, "0x%08" PRIx32, h);
	return buf;
}

static const char *dev_label(struct rt *rt, D3DKMT_HANDLE h, char *buf, size_t n)
{
	struct rt_dev *d = find_dev_handle(rt, h);
	if (d)
		return d->name;
	snprintf(buf, n, "0x%08" PRIx32, h);
	return buf;
}

static void print_event(struct rt *rt, const struct gpusim_event *ev)
{
	FILE *f = rt->opt->out;
	char nb[32], db[32], sz[32], sz2[32];
	const char *name = alloc_label(rt, ev->allocation, nb, sizeof(nb));
	fmt_size(sz, sizeof(sz), ev->size);
	fprintf(f, "[%7" PRIu64 " ns] %s", ev->time_ns, gpusim_event_name(ev->type));
	switch (ev->type) {
	case GPUSIM_EV_CREATE:
	case GPUSIM_EV_PLACE:
		if (ev->segment == GPUSIM_SEG_SYS || ev->segment == GPUSIM_SEG_NONE)
			fprintf(f, " %s %s %s", name, gpusim_segment_name(ev->segment), sz);
		else
			fprintf(f, " %s %s @0x%" PRIx64 " %s", name, gpusim_segment_name(ev->segment),
				ev->offset, sz);
		break;
	case GPUSIM_EV_EVICT:
		fprintf(f, " %s %s -> sys %s", name, gpusim_segment_name(ev->from_segment), sz);
		break;
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
		fprintf(f, " %s %s -> %s @0x%" PRIx64 " %s", name, gpusim_segment_name(ev->from_segment),
			gpusim_segment_name(ev->segment), ev->offset, sz);
		break;
	case GPUSIM_EV_USE:
		fprintf(f, " %s in %s, fence %" PRIu64, name, gpusim_segment_name(ev->segment), ev->value);
		break;
	case GPUSIM_EV_DESTROY:
	case GPUSIM_EV_LOCK:
	case GPUSIM_EV_UNLOCK:
		fprintf(f, " %s", name);
		break;
	case GPUSIM_EV_SUBMIT:
		fprintf(f, " %s fence %" PRIu64, dev_label(rt, ev->device, db, sizeof(db)), ev->value);
		break;
	case GPUSIM_EV_FENCE:
		fprintf(f, " %" PRIu64, ev->value);
		break;
	case GPUSIM_EV_FAULT:
		fprintf(f, " at 0x%" PRIx64 " (%s)", ev->offset, hw_fault_name(ev->cause));
		if (ev->device)
			fprintf(f, " by %s", dev_label(rt, ev->device, db, sizeof(db)));
		fputc('\n', f);
		return;
	case GPUSIM_EV_BUDGET:
		fmt_size(sz2, sizeof(sz2), ev->value);
		fprintf(f, " %s %s of %s", ev->offset ? "nonlocal" : "local", sz2, sz);
		break;
	default:
		break;
	}
	/* The cause of a creation, destruction or submission is the event itself. */
	if (ev->cause != GPUSIM_CAUSE_NONE && ev->type != GPUSIM_EV_CREATE && ev->type != GPUSIM_EV_DESTROY &&
	    ev->type != GPUSIM_EV_SUBMIT)
		fprintf(f, " (%s)", ev->cause == GPUSIM_CAUSE_NONE ? "" : gpusim_cause_name(ev->cause));
	fputc('\n', f);
}

static void flush_events(struct rt *rt)
{
	if (rt->nev)
		bar_clear(rt);
	if (rt->opt->out)
		for (size_t i = 0; i < rt->nev; i++)
			print_event(rt, &rt->ev[i]);
	if (rt->ev_dropped && rt->opt->out)
		fprintf(rt->opt->out, "(%" PRIu64 " events dropped: out of memory)\n", rt->ev_dropped);
	rt->nev = 0;
	rt->ev_dropped = 0;
}

/* ---- allocations table ----------------------------------------------------------- */

static void alloc_free(struct rt_alloc *a)
{
	free(a->name);
	free(a->ranges);
	free(a);
}

/* Out of the name table and the creation order; the handle stays known until the
 * command's events are printed. */
static void alloc_bury(struct rt *rt, struct rt_alloc *a)
{
	hmap_remove(&rt->allocs, &a->by_name);
	if (a->prev)
		a->prev->next = a->next;
	else
		rt->first = a->next;
	if (a->next)
		a->next->prev = a->prev;
	else
		rt->last = a->prev;
	a->prev = NULL;
	a->next = rt->grave;
	rt->grave = a;
}

static void reap_grave(struct rt *rt)
{
	while (rt->grave) {
		struct rt_alloc *a = rt->grave;
		rt->grave = a->next;
		if (a->in_handle_map)
			hmap_remove(&rt->alloc_handles, &a->by_handle);
		alloc_free(a);
	}
}

/* The GPU address the driver learns for an allocation each time it touches it. */
static void note_address(struct rt_alloc *a)
{
	struct gpusim_alloc_info info;
	if (a && a->handle && gpusim_query_allocation(a->handle, &info) == STATUS_SUCCESS &&
	    info.segment != GPUSIM_SEG_SYS && info.segment != GPUSIM_SEG_NONE) {
		a->gpu_addr = info.gpu_address;
		a->has_addr = true;
	}
}

static bool range_push(struct rt_alloc *a, struct range r)
{
	if (a->nranges == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 4;
		struct range *p = realloc(a->ranges, cap * sizeof(*p));
		if (!p)
			return false;
		a->ranges = p;
		a->cap = cap;
	}
	a->ranges[a->nranges++] = r;
	return true;
}

/* Forget what was written to [off, off + len): it has been overwritten. The ranges
 * are disjoint (every write cuts before it adds), so at most one of them contains
 * the cut and leaves a piece on both sides. */
static void ranges_cut(struct rt_alloc *a, uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	size_t w = 0;
	struct range right = { 0, 0, 0, 0 };
	for (size_t i = 0; i < a->nranges; i++) {
		struct range r = a->ranges[i];
		uint64_t rend = r.off + r.len;
		if (rend <= off || r.off >= end) {
			a->ranges[w++] = r;
			continue;
		}
		if (r.off < off)
			a->ranges[w++] = (struct range){ r.off, off - r.off, r.seed, r.line };
		if (rend > end)
			right = (struct range){ end, rend - end, r.seed, r.line };
	}
	a->nranges = w;
	if (right.len)
		range_push(a, right);
}

static int range_cmp(const void *x, const void *y)
{
	const struct range *a = x, *b = y;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* ---- the pattern: a function of (seed, byte offset), so any sub-range verifies --- */

static uint64_t pattern_word(uint64_t seed, uint64_t q)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull ^ (q + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 29;
	return x;
}

static void pattern(uint8_t *dst, uint64_t off, uint64_t len, uint64_t seed)
{
	uint64_t i = 0;
	while (i < len) {
		uint64_t pos = off + i;
		uint64_t w = pattern_word(seed, pos >> 3);
		for (unsigned k = pos & 7; k < 8 && i < len; k++, i++)
			dst[i] = (uint8_t)(w >> (8 * k));
	}
}

/* Offset of the first byte of [off, off+len) that differs, or UINT64_MAX. */
static uint64_t pattern_check(const uint8_t *p, uint64_t off, uint64_t len, uint64_t seed, uint8_t *want)
{
	uint8_t buf[PATTERN_CHUNK];
	for (uint64_t done = 0; done < len; done += PATTERN_CHUNK) {
		uint64_t n = len - done < PATTERN_CHUNK ? len - done : PATTERN_CHUNK;
		pattern(buf, off + done, n, seed);
		if (memcmp(buf, p + done, n))
			for (uint64_t i = 0; i < n; i++)
				if (buf[i] != p[done + i]) {
					*want = buf[i];
					return off + done + i;
				}
	}
	return UINT64_MAX;
}

/* The same for a 32-bit value repeated from offset 0 (what FILL and WRITE_DATA
 * store): byte x of the allocation is byte x % 4 of the value, little endian. */
static uint64_t value_check(const uint8_t *p, uint64_t off, uint64_t len, uint32_t value, uint8_t *want)
{
	for (uint64_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(value >> (8 * ((off + i) & 3)));
		if (p[i] != b) {
			*want = b;
			return off + i;
		}
	}
	return UINT64_MAX;
}

/* ---- devices ---------------------------------------------------------------------- */

/* Into the runner's tables: a device with its context's buffers (from
 * D3DKMTCreateContext, or gpusim_context_buffers after a restore). */
static void dev_enlist(struct rt *rt, struct rt_dev *d, const D3DKMT_CREATECONTEXT *cc)
{
	d->hdev = cc->hDevice;
	d->hctx = cc->hContext;
	d->cmdbuf = cc->pCommandBuffer;
	d->cmdbuf_size = cc->CommandBufferSize;
	d->alist = cc->pAllocationList;
	d->alist_size = cc->AllocationListSize;
	d->plist = cc->pPatchLocationList;
	d->plist_size = cc->PatchLocationListSize;
	hmap_insert(&rt->devs, &d->by_name, hash_str(d->name));
	hmap_insert(&rt->dev_handles, &d->by_handle, hash_u32(d->hdev));
	if (rt->dev_tail)
		rt->dev_tail->next = d;
	else
		rt->dev_list = d;
	rt->dev_tail = d;
}

/* Into the runner's tables, last in creation order: an allocation whose name,
 * device, size and handle are set. */
static void alloc_enlist(struct rt *rt, struct rt_alloc *a)
{
	hmap_insert(&rt->allocs, &a->by_name, hash_str(a->name));
	if (a->handle)
		a->in_handle_map = hmap_insert(&rt->alloc_handles, &a->by_handle, hash_u32(a->handle));
	a->prev = rt->last;
	if (rt->last)
		rt->last->next = a;
	else
		rt->first = a;
	rt->last = a;
}

static NTSTATUS make_device(struct rt *rt, const char *name, struct rt_dev **out)
{
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = rt->hadapter;
	NTSTATUS st = D3DKMTCreateDevice(&cd);
	if (st != STATUS_SUCCESS)
		return st;
	D3DKMT_CREATECONTEXT cc;
	memset(&cc, 0, sizeof(cc));
	cc.hDevice = cd.hDevice;
	st = D3DKMTCreateContext(&cc);
	if (st != STATUS_SUCCESS) {
		D3DKMT_DESTROYDEVICE dd = { .hDevice = cd.hDevice };
		D3DKMTDestroyDevice(&dd);
		return st;
	}
	struct rt_dev *d = calloc(1, sizeof(*d));
	if (d)
		d->name = strdup(name);
	if (!d || !d->name) {
		free(d);
		D3DKMT_DESTROYDEVICE dd = { .hDevice = cd.hDevice };
		D3DKMTDestroyDevice(&dd);
		return STATUS_NO_MEMORY;
	}
	dev_enlist(rt, d, &cc);
	*out = d;
	return STATUS_SUCCESS;
}

/* The device a command names (NULL: `default`, created when first needed). */
static NTSTATUS get_device(struct rt *rt, const char *name, struct rt_dev **out)
{
	const char *n = name ? name : "default";
	*out = find_dev(rt, n);
	if (*out)
		return STATUS_SUCCESS;
	if (!strcmp(n, "default"))
		return make_device(rt, n, out);
	cmd_msg(rt, "there is no device %s (its creation failed)", n);
	return STATUS_INVALID_PARAMETER;
}

/* The allocation a command names. A name whose alloc failed maps to handle 0, so
 * the API gives its own answer for it. */
static NTSTATUS get_alloc(struct rt *rt, const char *name, struct rt_alloc **out)
{
	*out = find_alloc(rt, name);
	if (*out)
		return STATUS_SUCCESS;
	cmd_msg(rt, "there is no allocation %s", name ? name : "?");
	return STATUS_INVALID_PARAMETER;
}

/* ---- command buffers --------------------------------------------------------------- */

struct cmdbuf {
	struct rt_dev *d;
	uint32_t ndw, nalloc, npatch;
	bool overflow;
};

static void cb_dw(struct cmdbuf *cb, uint32_t v)
{
	if ((uint64_t)(cb->ndw + 1) * 4 > cb->d->cmdbuf_size) {
		cb->overflow = true;
		return;
	}
	((uint32_t *)cb->d->cmdbuf)[cb->ndw++] = v;
}

static uint32_t cb_list(struct cmdbuf *cb, D3DKMT_HANDLE h)
{
	for (uint32_t i = 0; i < cb->nalloc; i++)
		if (cb->d->alist[i].hAllocation == h)
			return i;
	if (cb->nalloc == cb->d->alist_size) {
		cb->overflow = true;
		return 0;
	}
	D3DDDI_ALLOCATIONLIST *e = &cb->d->alist[cb->nalloc];
	memset(e, 0, sizeof(*e));
	e->hAllocation = h;
	return cb->nalloc++;
}

/* Two dwords the kernel patches with the allocation's GPU address. */
static void cb_addr(struct cmdbuf *cb, D3DKMT_HANDLE h, bool write)
{
	uint32_t idx = cb_list(cb, h);
	if (cb->npatch == cb->d->plist_size) {
		cb->overflow = true;
		return;
	}
	if (write && !cb->overflow)
		cb->d->alist[idx].WriteOperation = 1;
	D3DDDI_PATCHLOCATIONLIST *pl = &cb->d->plist[cb->npatch++];
	memset(pl, 0, sizeof(*pl));
	pl->AllocationIndex = idx;
	pl->PatchOffset = cb->ndw * 4;
	cb_dw(cb, 0);
	cb_dw(cb, 0);
}

static NTSTATUS cb_submit(struct rt *rt, struct cmdbuf *cb)
{
	if (cb->overflow) {
		cmd_msg(rt, "the command does not fit the context's buffers (%" PRIu32 " allocations, %" PRIu32
			    " patch locations, %" PRIu32 " bytes)",
		       cb->d->alist_size, cb->d->plist_size, cb->d->cmdbuf_size);
		return STATUS_INVALID_PARAMETER;
	}
	D3DKMT_RENDER r;
	memset(&r, 0, sizeof(r));
	r.hContext = cb->d->hctx;
	r.CommandLength = cb->ndw * 4;
	r.AllocationCount = cb->nalloc;
	r.PatchLocationCount = cb->npatch;
	NTSTATUS st = D3DKMTRender(&r);
	if (st == STATUS_SUCCESS && r.pNewCommandBuffer) {
		/* The kernel hands back the buffers for the next submission. */
		cb->d->cmdbuf = r.pNewCommandBuffer;
		cb->d->cmdbuf_size = r.NewCommandBufferSize;
		cb->d->alist = r.pNewAllocationList;
		cb->d->alist_size = r.NewAllocationListSize;
		cb->d->plist = r.pNewPatchLocationList;
		cb->d->plist_size = r.NewPatchLocationListSize;
	}
	return st;
}

/* ---- commands ---------------------------------------------------------------------- */

static NTSTATUS run_cmd(struct rt *rt, const struct scn_cmd *c);

static NTSTATUS cmd_device(struct rt *rt, const struct scn_cmd *c)
{
	if (find_dev(rt, c->name)) {
		cmd_msg(rt, "it exists already");
		return STATUS_INVALID_PARAMETER;
	}
	struct rt_dev *d;
	return make_device(rt, c->name, &d);
}

static NTSTATUS cmd_alloc(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	struct rt_alloc *old = find_alloc(rt, c->name);
	if (old && old->handle) {
		cmd_msg(rt, "%s exists already", c->name);
		return STATUS_INVALID_PARAMETER;
	}

	struct gpusim_alloc_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.version = GPUSIM_ALLOC_DESC_VERSION;
	desc.size = c->size;
	desc.alignment = c->align;
	desc.allowed = c->only;
	desc.priority = c->priority;
	desc.flags = (c->cpu ? GPUSIM_ALLOC_CPU_VISIBLE : 0) | (c->pinned ? GPUSIM_ALLOC_PINNED : 0);
	/* A driver only prefers segments its adapter has: `vram` means both VRAM
	 * segments, and a resizable-BAR adapter has no invisible one. */
	uint32_t np = 0;
	for (uint32_t i = 0; i < c->nprefer && i < 3; i++)
		if (!(rt->no_invisible && c->prefer[i] == GPUSIM_SEG_INVISIBLE && c->nprefer > 1))
			desc.preferred[np++] = c->prefer[i];

	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &desc;
	info.PrivateDriverDataSize = sizeof(desc);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = d->hdev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	struct rt_res *r = c->resource ? find_res(rt, c->resource) : NULL;
	if (c->resource && !r)
		ca.Flags.CreateResource = 1;
	else if (r)
		ca.hResource = r->handle;
	if (c->shared)
		ca.Flags.CreateShared = 1;
	st = D3DKMTCreateAllocation2(&ca);
	if (st == STATUS_SUCCESS && rt->opt->on_item) {
		struct gpusim_trace_item item = { .type = GPUSIM_TRACE_NAME, .allocation = info.hAllocation,
						  .device = d->hdev };
		snprintf(item.name, sizeof(item.name), "%s", c->name); /* at most 255 bytes, as traces keep */
		rt->opt->on_item(rt->opt->ctx, &item);
	}

	if (c->resource && !r && st == STATUS_SUCCESS) {
		r = calloc(1, sizeof(*r));
		if (r && !(r->name = strdup(c->resource))) {
			free(r);
			r = NULL;
		}
		if (r) {
			r->handle = ca.hResource;
			hmap_insert(&rt->resources, &r->by_name, hash_str(r->name));
			r->next = rt->res_list;
			rt->res_list = r;
		}
	}
	/* The name is bound even when the call failed, to handle 0: what follows
	 * gets the API's own answer for a handle that never was. */
	if (old) {
		alloc_bury(rt, old);
	}
	struct rt_alloc *a = calloc(1, sizeof(*a));
	if (a && !(a->name = strdup(c->name))) {
		free(a);
		a = NULL;
	}
	if (!a) {
		if (st == STATUS_SUCCESS) {
			D3DKMT_DESTROYALLOCATION2 da;
			memset(&da, 0, sizeof(da));
			da.hDevice = d->hdev;
			da.phAllocationList = &info.hAllocation;
			da.AllocationCount = 1;
			D3DKMTDestroyAllocation2(&da);
		}
		cmd_msg(rt, "the runner ran out of memory");
		return STATUS_NO_MEMORY;
	}
	a->dev = d;
	a->size = c->size;
	a->handle = st == STATUS_SUCCESS ? info.hAllocation : 0;
	alloc_enlist(rt, a);
	note_address(a);
	return st;
}

/* Runs `call` once per device, on the named allocations of that device, in the
 * order the names first appear: the API takes one device per call. */
typedef NTSTATUS (*per_device_fn)(struct rt *rt, struct rt_dev *d, const D3DKMT_HANDLE *h, uint32_t n);

static NTSTATUS by_device(struct rt *rt, const struct scn_cmd *c, per_device_fn call)
{
	uint32_t n = c->nnames;
	struct rt_alloc **v = calloc(n ? n : 1, sizeof(*v));
	D3DKMT_HANDLE *h = calloc(n ? n : 1, sizeof(*h));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	NTSTATUS result = STATUS_SUCCESS;
	if (!v || !h || !done) {
		result = STATUS_NO_MEMORY;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		NTSTATUS st = get_alloc(rt, c->names[i], &v[i]);
		if (st) {
			result = st;
			goto out;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		uint32_t k = 0;
		for (uint32_t j = i; j < n; j++)
			if (!done[j] && v[j]->dev == v[i]->dev) {
				h[k++] = v[j]->handle;
				done[j] = true;
			}
		NTSTATUS st = call(rt, v[i]->dev, h, k);
		/* The first failure wins; else STATUS_PENDING when paging was queued anywhere. */
		if (NT_SUCCESS(result) && st != STATUS_SUCCESS)
			result = st;
	}
out:
	free(v);
	free(h);
	free(done);
	return result;
}

static NTSTATUS do_free(struct rt *rt, struct rt_dev *d, const D3DKMT_HANDLE *h, uint32_t n)
{
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = d->hdev;
	da.phAllocationList = h;
	da.AllocationCount = n;
	NTSTATUS st = D3DKMTDestroyAllocation2(&da);
	if (st == STATUS_SUCCESS)
		for (uint32_t i = 0; i < n; i++) {
			struct rt_alloc *a = find_alloc_handle(rt, h[i]);
			if (a)
				alloc_bury(rt, a);
		}
	return st;
}

static NTSTATUS cmd_free(struct rt *rt, const struct scn_cmd *c)
{
	return by_device(rt, c, do_free);
}

static NTSTATUS do_resident(struct rt *rt, struct rt_dev *d, const D3DKMT_HANDLE *h, uint32_t n)
{
	D3DDDI_MAKERESIDENT mr;
	memset(&mr, 0, sizeof(mr));
	mr.hPagingQueue = d->hdev; /* gpusim: one paging queue per device */
	mr.NumAllocations = n;
	mr.AllocationList = h;
	NTSTATUS st = D3DKMTMakeResident(&mr);
	if (st == STATUS_NO_MEMORY && mr.NumBytesToTrim) {
		char sz[32];
		fmt_size(sz, sizeof(sz), mr.NumBytesToTrim);
		snprintf(rt->note, sizeof(rt->note), "; %s to trim", sz);
	}
	if (NT_SUCCESS(st))
		for (uint32_t i = 0; i < n; i++)
			note_address(find_alloc_handle(rt, h[i]));
	return st;
}

static NTSTATUS do_evict(struct rt *rt, struct rt_dev *d, const D3DKMT_HANDLE *h, uint32_t n)
{
	D3DKMT_EVICT ev;
	memset(&ev, 0, sizeof(ev));
	ev.hDevice = d->hdev;
	ev.NumAllocations = n;
	ev.AllocationList = h;
	return D3DKMTEvict(&ev);
}

static NTSTATUS cmd_resident(struct rt *rt, const struct scn_cmd *c)
{
	return by_device(rt, c, c->kind == SCN_RESIDENT ? do_resident : do_evict);
}

/* The byte range a write or verify covers, checked against the allocation. */
static NTSTATUS cpu_range(struct rt *rt, const struct scn_cmd *c, const struct rt_alloc *a, uint64_t *off,
			  uint64_t *len)
{
	*off = c->offset;
	if (c->offset > a->size) {
		cmd_msg(rt, "offset 0x%" PRIx64 " is past the end of %s (size 0x%" PRIx64 ")", c->offset, a->name,
			a->size);
		return STATUS_INVALID_PARAMETER;
	}
	*len = c->length_given ? c->length : a->size - c->offset;
	if (*len > a->size - c->offset) {
		cmd_msg(rt, "bytes 0x%" PRIx64 "..0x%" PRIx64 " are outside %s (size 0x%" PRIx64 ")", c->offset,
			c->offset + *len, a->name, a->size);
		return STATUS_INVALID_PARAMETER;
	}
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_write_verify(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *a;
	uint64_t off, len;
	NTSTATUS st = get_alloc(rt, c->name, &a);
	if (st || (st = cpu_range(rt, c, a, &off, &len)))
		return st;
	void *data;
	if (c->kind == SCN_WRITE) {
		D3DKMT_LOCK2 lk;
		memset(&lk, 0, sizeof(lk));
		lk.hDevice = a->dev->hdev;
		lk.hAllocation = a->handle;
		st = D3DKMTLock2(&lk);
		data = lk.pData;
	} else {
		/* Reading only: a read-only allocation (an image's segment) allows it. */
		D3DKMT_LOCK lk;
		memset(&lk, 0, sizeof(lk));
		lk.hDevice = a->dev->hdev;
		lk.hAllocation = a->handle;
		lk.Flags.ReadOnly = 1;
		st = D3DKMTLock(&lk);
		data = lk.pData;
	}
	if (st)
		return st;
	uint8_t *p = (uint8_t *)data + off;
	uint64_t bad = UINT64_MAX;
	uint8_t want = 0;
	if (c->kind == SCN_WRITE) {
		uint8_t buf[PATTERN_CHUNK];
		for (uint64_t done = 0; done < len; done += PATTERN_CHUNK) {
			uint64_t n = len - done < PATTERN_CHUNK ? len - done : PATTERN_CHUNK;
			pattern(buf, off + done, n, c->seed);
			memcpy(p + done, buf, n);
		}
	} else if (c->value_given) {
		bad = value_check(p, off, len, c->value, &want);
	} else {
		bad = pattern_check(p, off, len, c->seed, &want);
	}
	uint8_t got = bad != UINT64_MAX ? ((uint8_t *)data)[bad] : 0;
	D3DKMT_UNLOCK2 ul = { .hDevice = a->dev->hdev, .hAllocation = a->handle };
	st = D3DKMTUnlock2(&ul);
	if (st)
		return st;
	note_address(a);
	if (c->kind == SCN_WRITE) {
		if (len) {
			ranges_cut(a, off, len);
			range_push(a, (struct range){ off, len, c->seed, c->loc.line });
		}
		return STATUS_SUCCESS;
	}
	rt->res->expectations++;
	if (bad != UINT64_MAX)
		fail(rt, &c->loc, "verify %s: byte 0x%" PRIx64 " is 0x%02x, expected 0x%02x", a->name, bad, got, want);
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_lock(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *a;
	NTSTATUS st = get_alloc(rt, c->name, &a);
	if (st)
		return st;
	if (c->kind == SCN_UNLOCK) {
		D3DKMT_UNLOCK ul;
		memset(&ul, 0, sizeof(ul));
		ul.hDevice = a->dev->hdev;
		ul.NumAllocations = 1;
		ul.phAllocations = &a->handle;
		return D3DKMTUnlock(&ul);
	}
	D3DKMT_LOCK lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = a->dev->hdev;
	lk.hAllocation = a->handle;
	lk.Flags.DonotWait = c->nowait;
	st = D3DKMTLock(&lk);
	if (st == STATUS_SUCCESS)
		note_address(a);
	return st;
}

static NTSTATUS cmd_submit(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	struct rt_alloc **v = calloc(c->nnames ? c->nnames : 1, sizeof(*v));
	if (!v)
		return STATUS_NO_MEMORY;
	struct cmdbuf cb = { .d = d };
	for (uint32_t i = 0; i < c->nnames && !st; i++) {
		st = get_alloc(rt, c->names[i], &v[i]);
		if (!st)
			cb_list(&cb, v[i]->handle);
	}
	if (!st) {
		cb_dw(&cb, HW_PKT_HEADER(HW_PKT_NOP, 0, 0));
		st = cb_submit(rt, &cb);
	}
	if (st == STATUS_SUCCESS)
		for (uint32_t i = 0; i < c->nnames; i++)
			note_address(v[i]);
	free(v);
	return st;
}

static NTSTATUS cmd_gpu_fill(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *a;
	NTSTATUS st = get_alloc(rt, c->name, &a);
	if (st)
		return st;
	/* FILL writes whole dwords; the allocation is whole pages, so rounding up
	 * stays inside it. */
	uint64_t bytes = (a->size + 3) & ~3ull;
	struct cmdbuf cb = { .d = a->dev };
	cb_dw(&cb, HW_PKT_HEADER(HW_PKT_FILL, 0, 5));
	if (c->stale) {
		/* The driver bug on purpose: an address remembered from an earlier
		 * submission, and nothing telling the kernel the allocation is used. */
		if (!a->has_addr) {
			cmd_msg(rt, "%s has never been resident: there is no old address to use", a->name);
			return STATUS_INVALID_PARAMETER;
		}
		cb_dw(&cb, (uint32_t)a->gpu_addr);
		cb_dw(&cb, (uint32_t)(a->gpu_addr >> 32));
	} else {
		cb_addr(&cb, a->handle, true);
	}
	cb_dw(&cb, (uint32_t)bytes);
	cb_dw(&cb, (uint32_t)(bytes >> 32));
	cb_dw(&cb, c->value);
	st = cb_submit(rt, &cb);
	if (st == STATUS_SUCCESS) {
		ranges_cut(a, 0, a->size);
		if (!c->stale)
			note_address(a);
	}
	return st;
}

static NTSTATUS cmd_gpu_copy(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *src, *dst;
	NTSTATUS st = get_alloc(rt, c->name, &src);
	if (st || (st = get_alloc(rt, c->name2, &dst)))
		return st;
	uint64_t bytes = src->size < dst->size ? src->size : dst->size;
	/* Both go on SRC's device: an allocation of another device is the API's to refuse. */
	struct cmdbuf cb = { .d = src->dev };
	cb_dw(&cb, HW_PKT_HEADER(HW_PKT_COPY, 0, 6));
	cb_addr(&cb, src->handle, false);
	cb_addr(&cb, dst->handle, true);
	cb_dw(&cb, (uint32_t)bytes);
	cb_dw(&cb, (uint32_t)(bytes >> 32));
	st = cb_submit(rt, &cb);
	if (st == STATUS_SUCCESS) {
		ranges_cut(dst, 0, bytes);
		note_address(src);
		note_address(dst);
	}
	return st;
}

static NTSTATUS cmd_priority(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *a;
	NTSTATUS st = get_alloc(rt, c->name, &a);
	if (st)
		return st;
	UINT prio = c->priority;
	D3DKMT_SETALLOCATIONPRIORITY sp;
	memset(&sp, 0, sizeof(sp));
	sp.hDevice = a->dev->hdev;
	sp.phAllocationList = &a->handle;
	sp.AllocationCount = 1;
	sp.pPriorities = &prio;
	return D3DKMTSetAllocationPriority(&sp);
}

static NTSTATUS cmd_inject(struct rt *rt, const struct scn_cmd *c)
{
	NTSTATUS st;
	switch (c->inject) {
	case SCN_INJ_DEVICE_REMOVED:
		st = gpusim_inject(rt->luid, GPUSIM_FAULT_DEVICE_REMOVED, 0);
		if (st == STATUS_SUCCESS)
			rt->removed = true;
		return st;
	case SCN_INJ_DMA_ERROR:
		return gpusim_inject(rt->luid, GPUSIM_FAULT_DMA_ERROR, 0);
	case SCN_INJ_SYSMEM_OOM:
		return gpusim_inject(rt->luid, GPUSIM_FAULT_SYSMEM_OOM, c->after);
	}
	return STATUS_INVALID_PARAMETER;
}

/* ---- ELF images ------------------------------------------------------------------- */

static struct rt_image *find_image(struct rt *rt, const char *name)
{
	uint64_t h = hash_str(name);
	for (struct hnode *e = hmap_first(&rt->images, h); e; e = e->next)
		if (e->hash == h && !strcmp(container_of(e, struct rt_image, by_name)->name, name))
			return container_of(e, struct rt_image, by_name);
	return NULL;
}

static void images_free(struct rt *rt)
{
	for (struct rt_image *im = rt->image_list, *next; im; im = next) {
		next = im->next;
		free(im->name);
		free(im->handles);
		free(im);
	}
	rt->image_list = NULL;
}

static void target_from(const struct rt_dev *d, struct elfimg_target *t)
{
	*t = (struct elfimg_target){
		.device = d->hdev, .context = d->hctx,
		.cmdbuf = d->cmdbuf, .cmdbuf_size = d->cmdbuf_size,
		.alist = d->alist, .alist_size = d->alist_size,
		.plist = d->plist, .plist_size = d->plist_size,
	};
}

static void target_to(struct rt_dev *d, const struct elfimg_target *t)
{
	d->cmdbuf = t->cmdbuf;
	d->cmdbuf_size = t->cmdbuf_size;
	d->alist = t->alist;
	d->alist_size = t->alist_size;
	d->plist = t->plist;
	d->plist_size = t->plist_size;
}

/* `image NAME FILE`: every segment an allocation NAME.i, as alloc makes them. */
static NTSTATUS cmd_image(struct rt *rt, const struct scn_cmd *c)
{
	const struct elfimg *img = c->image;
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	if (!img || c->nnames != img->nsegs) {
		cmd_msg(rt, "the image was not read");
		return STATUS_INVALID_PARAMETER;
	}
	for (uint32_t i = 0; i < c->nnames; i++) {
		struct rt_alloc *old = find_alloc(rt, c->names[i]);
		if (old && old->handle) {
			cmd_msg(rt, "%s exists already", c->names[i]);
			return STATUS_INVALID_PARAMETER;
		}
	}
	/* Everything the runner needs first: once loaded, nothing may fail. */
	uint32_t n = img->nsegs;
	struct rt_alloc **v = calloc(n, sizeof(*v));
	struct rt_image *im = calloc(1, sizeof(*im));
	D3DKMT_HANDLE *h = calloc(n, sizeof(*h));
	bool ok = v && im && h && (im->name = strdup(c->name));
	for (uint32_t i = 0; ok && i < n; i++)
		ok = (v[i] = calloc(1, sizeof(*v[i]))) && (v[i]->name = strdup(c->names[i]));
	if (!ok) {
		cmd_msg(rt, "the runner ran out of memory");
		st = STATUS_NO_MEMORY;
		goto out;
	}

	struct elfimg_placement pl;
	memset(&pl, 0, sizeof(pl));
	uint32_t np = 0;
	for (uint32_t i = 0; i < c->nprefer && i < 3; i++) /* as alloc: only segments the adapter has */
		if (!(rt->no_invisible && c->prefer[i] == GPUSIM_SEG_INVISIBLE && c->nprefer > 1))
			pl.preferred[np++] = c->prefer[i];
	pl.allowed = c->only;
	pl.priority = c->priority;
	struct elfimg_target t;
	target_from(d, &t);
	char why[512];
	st = elfimg_load(img, &t, &pl, h, why, sizeof(why));
	target_to(d, &t);
	if (st) {
		if (why[0])
			snprintf(rt->note, sizeof(rt->note), " (%.240s)", why);
		goto out;
	}

	for (uint32_t i = 0; i < n; i++) {
		struct rt_alloc *a = v[i], *old = find_alloc(rt, a->name);
		if (old)
			alloc_bury(rt, old);
		a->dev = d;
		a->size = img->segs[i].lead + img->segs[i].memsz; /* from the allocation's start */
		a->handle = h[i];
		alloc_enlist(rt, a);
		v[i] = NULL;
		note_address(a);
		if (rt->opt->on_item) {
			struct gpusim_trace_item item = { .type = GPUSIM_TRACE_NAME, .allocation = a->handle,
							  .device = d->hdev };
			snprintf(item.name, sizeof(item.name), "%s", a->name);
			rt->opt->on_item(rt->opt->ctx, &item);
		}
	}
	struct rt_image *old = find_image(rt, c->name);
	if (old) { /* a name loaded again: the new image answers to it */
		free(old->handles);
		old->handles = h;
		old->def = c;
		old->dev = d;
		h = NULL;
	} else {
		im->def = c;
		im->dev = d;
		im->handles = h;
		h = NULL;
		hmap_insert(&rt->images, &im->by_name, hash_str(im->name));
		im->next = rt->image_list;
		rt->image_list = im;
		im = NULL;
	}
out:
	for (uint32_t i = 0; v && i < n; i++)
		if (v[i])
			alloc_free(v[i]);
	free(v);
	if (im)
		free(im->name);
	free(im);
	free(h);
	return st;
}

/* Why the kernel would refuse these packets (kmt/README.md, the framing the driver
 * checks), in a note for the failure line; nothing when they look well formed. */
static void explain_packets(struct rt *rt, const void *bytes, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		const uint8_t *b = (const uint8_t *)bytes + 4 * (size_t)i;
		uint32_t h = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		uint32_t op = HW_PKT_OPCODE(h), count = HW_PKT_COUNT(h);
		if (op == HW_PKT_SET_VM || op == HW_PKT_TLB_INVALIDATE) {
			snprintf(rt->note, sizeof(rt->note), " (the packet at byte 0x%" PRIx32 " is %s, the kernel's)",
				 4 * i, op == HW_PKT_SET_VM ? "SET_VM" : "TLB_INVALIDATE");
			return;
		}
		if (count > n - i - 1) {
			snprintf(rt->note, sizeof(rt->note),
				 " (the packet at byte 0x%" PRIx32 ", opcode %" PRIu32 " with %" PRIu32
				 " body dwords, runs past the end of the %" PRIu32 " bytes submitted)",
				 4 * i, op, count, 4 * n);
			return;
		}
		i += 1 + count;
	}
}

/* `submit-image NAME [SEG]`: the segment's packets, relocated, on the image's device. */
static NTSTATUS cmd_submit_image(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_image *im = find_image(rt, c->name);
	if (!im) {
		cmd_msg(rt, "there is no image %s", c->name);
		return STATUS_INVALID_PARAMETER;
	}
	const struct elfimg *img = im->def->image;
	int seg = c->segment_given ? (int)c->segment : elfimg_only_exec(img);
	if (seg < 0 || (uint32_t)seg >= img->nsegs) {
		cmd_msg(rt, "image %s has no single executable segment to submit", c->name);
		return STATUS_INVALID_PARAMETER;
	}
	/* The names must still stand for the image's own allocations. */
	for (uint32_t i = 0; i < img->nsegs; i++) {
		struct rt_alloc *a = find_alloc(rt, im->def->names[i]);
		if (!a || a->handle != im->handles[i]) {
			cmd_msg(rt, "%s is no longer segment %" PRIu32 " of image %s (freed or replaced)",
				im->def->names[i], i, c->name);
			return STATUS_INVALID_PARAMETER;
		}
	}
	struct elfimg_target t;
	char why[512];
	target_from(im->dev, &t);
	NTSTATUS st = elfimg_submit(img, (uint32_t)seg, &t, im->handles, NULL, why, sizeof(why));
	target_to(im->dev, &t);
	if (st) {
		if (why[0])
			cmd_msg(rt, "%s", why);
		else if (st == STATUS_INVALID_PARAMETER && img->segs[seg].filesz <= UINT32_MAX)
			explain_packets(rt, img->segs[seg].data, (uint32_t)(img->segs[seg].filesz / 4));
		return st;
	}
	/* What the packets write is no longer what `write` put there. */
	struct elfimg_reloc *r = NULL;
	size_t nr = 0;
	if (elfimg_relocs(img, (uint32_t)seg, &r, &nr, NULL, 0) == 0)
		for (size_t i = 0; i < nr; i++)
			if (r[i].write) {
				struct rt_alloc *a = find_alloc(rt, im->def->names[r[i].segment]);
				ranges_cut(a, 0, a->size);
			}
	free(r);
	for (uint32_t i = 0; i < img->nsegs; i++)
		note_address(find_alloc(rt, im->def->names[i]));
	return STATUS_SUCCESS;
}

static void show_vas(struct rt *rt, FILE *f, const struct rt_alloc *a);

static void cmd_show(struct rt *rt)
{
	FILE *f = rt->opt->out;
	if (rt->quiet || !f)
		return;
	bar_clear(rt);
	fprintf(f, "%-20s %-12s %10s  %-9s %12s  %s\n", "allocation", "device", "size", "segment", "offset",
		"priority");
	for (struct rt_alloc *a = rt->first; a; a = a->next) {
		struct gpusim_alloc_info info;
		if (!a->handle || gpusim_query_allocation(a->handle, &info) != STATUS_SUCCESS)
			continue;
		char sz[32], off[32], pb[16];
		fmt_size(sz, sizeof(sz), a->size);
		if (info.segment == GPUSIM_SEG_SYS)
			snprintf(off, sizeof(off), "-");
		else
			snprintf(off, sizeof(off), "0x%" PRIx64, info.offset);
		fprintf(f, "%-20s %-12s %10s  %-9s %12s  %s\n", a->name, a->dev->name, sz,
			gpusim_segment_name(info.segment), off, priority_name(info.priority, pb, sizeof(pb)));
		show_vas(rt, f, a);
	}
	struct gpusim_stats st;
	if (gpusim_get_stats(rt->luid, &st) != STATUS_SUCCESS)
		return;
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++) {
		if (!st.seg[s].size)
			continue;
		char used[32], size[32];
		fmt_size(used, sizeof(used), st.seg[s].used);
		fmt_size(size, sizeof(size), st.seg[s].size);
		fprintf(f, "%-9s %s of %s used, %" PRIu64 " allocations\n", gpusim_segment_name(s), used, size,
			st.seg[s].allocations);
	}
	fprintf(f, "time %" PRIu64 " ns, %" PRIu64 " evictions, %" PRIu64 " page-ins, %" PRIu64
		" moves, %" PRIu64 " demotions, %" PRIu64 " promotions, %" PRIu64 " bytes in, %" PRIu64
		" bytes out, %" PRIu64 " faults, %" PRIu64 " submits\n",
		st.time_ns, st.evictions, st.page_ins, st.moves, st.demotions, st.promotions, st.bytes_in,
		st.bytes_out, st.faults, st.submits);
}

static bool where_holds(enum scn_where w, uint32_t seg)
{
	switch (w) {
	case SCN_IN_VISIBLE: return seg == GPUSIM_SEG_VISIBLE;
	/* With pools=2 the VRAM the CPU cannot see is two segments: both are invisible. */
	case SCN_IN_INVISIBLE: return seg == GPUSIM_SEG_INVISIBLE || seg == GPUSIM_SEG_VRAM2;
	case SCN_IN_VRAM:
		return seg == GPUSIM_SEG_VISIBLE || seg == GPUSIM_SEG_INVISIBLE || seg == GPUSIM_SEG_VRAM2;
	case SCN_IN_GART: return seg == GPUSIM_SEG_GART;
	case SCN_IN_SYS: return seg == GPUSIM_SEG_SYS;
	case SCN_IN_RESIDENT: return seg != GPUSIM_SEG_SYS && seg != GPUSIM_SEG_NONE;
	case SCN_IN_VRAM2: return seg == GPUSIM_SEG_VRAM2;
	}
	return false;
}

static void cmd_expect_in(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	gpusim_idle(rt->luid); /* expectations see the device after queued work; removed: no work runs */
	struct rt_alloc *a = find_alloc(rt, c->name);
	struct gpusim_alloc_info info;
	if (!a || !a->handle || gpusim_query_allocation(a->handle, &info) != STATUS_SUCCESS) {
		fail(rt, &c->loc, "expected %s in %s, found no such allocation", c->name ? c->name : "?",
		     where_name(c->where));
		return;
	}
	if (!where_holds(c->where, info.segment))
		fail(rt, &c->loc, "expected %s in %s, found %s", a->name, where_name(c->where),
		     gpusim_segment_name(info.segment));
}

static bool stat_value(const struct gpusim_stats *s, const char *key, uint64_t *v)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "evictions", offsetof(struct gpusim_stats, evictions) },
		{ "page_ins", offsetof(struct gpusim_stats, page_ins) },
		{ "moves", offsetof(struct gpusim_stats, moves) },
		{ "demotions", offsetof(struct gpusim_stats, demotions) },
		{ "promotions", offsetof(struct gpusim_stats, promotions) },
		{ "bytes_in", offsetof(struct gpusim_stats, bytes_in) },
		{ "bytes_out", offsetof(struct gpusim_stats, bytes_out) },
		{ "faults", offsetof(struct gpusim_stats, faults) },
		{ "submits", offsetof(struct gpusim_stats, submits) },
		{ "allocations", offsetof(struct gpusim_stats, allocations) },
		{ "time", offsetof(struct gpusim_stats, time_ns) },
		{ "usage.local", offsetof(struct gpusim_stats, usage_local) },
		{ "budget.local", offsetof(struct gpusim_stats, budget_local) },
		{ "usage.nonlocal", offsetof(struct gpusim_stats, usage_nonlocal) },
		{ "budget.nonlocal", offsetof(struct gpusim_stats, budget_nonlocal) },
	};
	for (size_t i = 0; key && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].key)) {
			memcpy(v, (const char *)s + keys[i].off, sizeof(*v));
			return true;
		}
	return false;
}

static const char *cmp_name(enum scn_cmp op)
{
	switch (op) {
	case SCN_EQ: return "==";
	case SCN_NE: return "!=";
	case SCN_LT: return "<";
	case SCN_LE: return "<=";
	case SCN_GT: return ">";
	case SCN_GE: return ">=";
	}
	return "?";
}

static bool cmp_holds(enum scn_cmp op, uint64_t a, uint64_t b)
{
	switch (op) {
	case SCN_EQ: return a == b;
	case SCN_NE: return a != b;
	case SCN_LT: return a < b;
	case SCN_LE: return a <= b;
	case SCN_GT: return a > b;
	case SCN_GE: return a >= b;
	}
	return false;
}

static void cmd_expect_stat(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	gpusim_idle(rt->luid);
	struct gpusim_stats s;
	uint64_t v;
	if (gpusim_get_stats(rt->luid, &s) != STATUS_SUCCESS || !stat_value(&s, c->stat_key, &v)) {
		fail(rt, &c->loc, "expected stat %s %s %" PRIu64 ", found no such statistic",
		     c->stat_key ? c->stat_key : "?", cmp_name(c->cmp), c->stat_value);
		return;
	}
	if (!cmp_holds(c->cmp, v, c->stat_value))
		fail(rt, &c->loc, "expected stat %s %s %" PRIu64 ", found %" PRIu64, c->stat_key, cmp_name(c->cmp),
		     c->stat_value, v);
}

static void cmd_expect_status(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	if (!c->inner) {
		fail(rt, &c->loc, "expect status: no command to run");
		return;
	}
	NTSTATUS st = run_cmd(rt, c->inner);
	if (st == c->status) {
		rt->msg[0] = rt->note[0] = '\0';
		return;
	}
	char what[256], got[64], want[32];
	describe(c->inner, what, sizeof(what));
	fmt_status(got, sizeof(got), st);
	const char *wname = c->status_name ? c->status_name : status_short(c->status, want, sizeof(want));
	if (rt->msg[0]) /* it names the command already */
		fail(rt, &c->loc, "%s; expected %s, got %s", rt->msg, wname, got);
	else
		fail(rt, &c->loc, "%s: expected %s, got %s%s", what, wname, got, rt->note);
	rt->msg[0] = rt->note[0] = '\0';
}

/* ---- WDDM 2: paging queues, virtual contexts, GPU VAs, monitored fences -------------
 * The objects of these commands live in one table keyed by kind and name; VA
 * ranges remember the allocation they map so that `show` and the GPU's writes
 * can be put back on allocations. */

enum obj_kind { OBJ_QUEUE = 1, OBJ_CONTEXT, OBJ_VA, OBJ_FENCE, OBJ_CMDBUF };

struct va_write {
	uint64_t va, len;
};

struct rt_obj {
	char *name;
	enum obj_kind kind;
	struct rt_dev *dev;
	D3DKMT_HANDLE handle;          /* queue, context, fence; a command buffer's allocation */
	D3DKMT_HANDLE hsync;           /* queue: its paging fence */
	const volatile uint64_t *cpu;  /* queue, fence: the value, read-only */
	uint64_t gpu_va;               /* fence: FenceValueGPUVirtualAddress */
	uint64_t last;                 /* queue: the last paging fence value it handed out */
	uint64_t va, size;             /* VA range; command buffer: where it is mapped, bytes */
	D3DKMT_HANDLE alloc;           /* VA: the allocation mapped there (0: none) */
	uint64_t alloc_off;            /* VA: bytes into it */
	bool reservation;              /* VA: reserve or a base-less map: free-va frees it */
	uint32_t *dw;                  /* command buffer: the packets, size / 4 dwords */
	uint32_t ndw;
	struct va_write *writes;       /* command buffer: what its packets write */
	size_t nwrites, wcap;
	struct hnode by_name;
	struct rt_obj *next;
};

static uint64_t obj_hash(enum obj_kind k, const char *name)
{
	return hash_str(name) ^ ((uint64_t)k * 0x9e3779b97f4a7c15ull);
}

static struct rt_obj *find_obj(struct rt *rt, enum obj_kind k, const char *name)
{
	if (!name)
		return NULL;
	uint64_t h = obj_hash(k, name);
	for (struct hnode *e = hmap_first(&rt->objs, h); e; e = e->next) {
		struct rt_obj *o = container_of(e, struct rt_obj, by_name);
		if (e->hash == h && o->kind == k && !strcmp(o->name, name))
			return o;
	}
	return NULL;
}

static void obj_free(struct rt_obj *o)
{
	free(o->name);
	free(o->dw);
	free(o->writes);
	free(o);
}

static void obj_remove(struct rt *rt, struct rt_obj *o)
{
	hmap_remove(&rt->objs, &o->by_name);
	struct rt_obj *prev = NULL;
	for (struct rt_obj **pp = &rt->obj_list; *pp; prev = *pp, pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (rt->obj_tail == o)
		rt->obj_tail = prev;
	obj_free(o);
}

/* A new object under name (replacing one a failed command left). NULL: out of memory. */
static struct rt_obj *obj_new(struct rt *rt, enum obj_kind k, const char *name, struct rt_dev *d)
{
	struct rt_obj *old = find_obj(rt, k, name);
	if (old)
		obj_remove(rt, old);
	struct rt_obj *o = calloc(1, sizeof(*o));
	if (o && !(o->name = strdup(name))) {
		free(o);
		o = NULL;
	}
	if (!o) {
		cmd_msg(rt, "the runner ran out of memory");
		return NULL;
	}
	o->kind = k;
	o->dev = d;
	hmap_insert(&rt->objs, &o->by_name, obj_hash(k, name));
	if (rt->obj_tail)
		rt->obj_tail->next = o;
	else
		rt->obj_list = o;
	rt->obj_tail = o;
	return o;
}

static NTSTATUS get_obj(struct rt *rt, enum obj_kind k, const char *name, struct rt_obj **out)
{
	static const char *const what[] = { [OBJ_QUEUE] = "paging queue", [OBJ_CONTEXT] = "context",
					    [OBJ_VA] = "VA", [OBJ_FENCE] = "fence",
					    [OBJ_CMDBUF] = "command buffer" };
	*out = find_obj(rt, k, name);
	if (*out)
		return STATUS_SUCCESS;
	cmd_msg(rt, "there is no %s %s (its creation failed)", what[k], name ? name : "?");
	return STATUS_INVALID_PARAMETER;
}

/* The address a VA operand stands for. */
static NTSTATUS resolve_va(struct rt *rt, const struct scn_va *v, uint64_t *out)
{
	if (!v->name) {
		*out = v->addr;
		return STATUS_SUCCESS;
	}
	struct rt_obj *o;
	NTSTATUS st = get_obj(rt, OBJ_VA, v->name, &o);
	if (st)
		return st;
	if (v->addr > UINT64_MAX - o->va) {
		cmd_msg(rt, "%s+0x%" PRIx64 " overflows 64 bits", v->name, v->addr);
		return STATUS_INVALID_PARAMETER;
	}
	*out = o->va + v->addr;
	return STATUS_SUCCESS;
}

/* "0x10000 (V+0x10)" for messages. */
static const char *va_label(const struct scn_va *v, uint64_t addr, char *buf, size_t n)
{
	if (!v->name)
		snprintf(buf, n, "0x%" PRIx64, addr);
	else if (v->addr)
		snprintf(buf, n, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", addr, v->name, v->addr);
	else
		snprintf(buf, n, "0x%" PRIx64 " (%s)", addr, v->name);
	return buf;
}

static NTSTATUS wait_cpu(struct rt_dev *d, D3DKMT_HANDLE sync, uint64_t value)
{
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMCPU w;
	memset(&w, 0, sizeof(w));
	w.hDevice = d->hdev;
	w.ObjectCount = 1;
	w.ObjectHandleArray = &sync;
	w.FenceValueArray = &value;
	return D3DKMTWaitForSynchronizationObjectFromCpu(&w);
}

static NTSTATUS cmd_pagingqueue(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	D3DKMT_CREATEPAGINGQUEUE pq;
	memset(&pq, 0, sizeof(pq));
	pq.hDevice = d->hdev;
	pq.Priority = D3DDDI_PAGINGQUEUE_PRIORITY_NORMAL;
	st = D3DKMTCreatePagingQueue(&pq);
	if (st)
		return st;
	struct rt_obj *q = obj_new(rt, OBJ_QUEUE, c->name, d);
	if (!q) {
		D3DDDI_DESTROYPAGINGQUEUE dq = { .hPagingQueue = pq.hPagingQueue };
		D3DKMTDestroyPagingQueue(&dq);
		return STATUS_NO_MEMORY;
	}
	q->handle = pq.hPagingQueue;
	q->hsync = pq.hSyncObject;
	q->cpu = pq.FenceValueCPUVirtualAddress;
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_wait_paging(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *q;
	NTSTATUS st = get_obj(rt, OBJ_QUEUE, c->name, &q);
	if (st)
		return st;
	return wait_cpu(q->dev, q->hsync, q->last);
}

/* `resident NAME... queue=Q`: one MakeResident through the queue (the API checks
 * that every allocation is of the queue's device). */
static NTSTATUS resident_queue(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *q;
	NTSTATUS st = get_obj(rt, OBJ_QUEUE, c->queue, &q);
	if (st)
		return st;
	D3DKMT_HANDLE *h = calloc(c->nnames ? c->nnames : 1, sizeof(*h));
	if (!h)
		return STATUS_NO_MEMORY;
	for (uint32_t i = 0; i < c->nnames && !st; i++) {
		struct rt_alloc *a;
		st = get_alloc(rt, c->names[i], &a);
		if (!st)
			h[i] = a->handle;
	}
	if (!st) {
		D3DDDI_MAKERESIDENT mr;
		memset(&mr, 0, sizeof(mr));
		mr.hPagingQueue = q->handle;
		mr.NumAllocations = c->nnames;
		mr.AllocationList = h;
		st = D3DKMTMakeResident(&mr);
		if (st == STATUS_NO_MEMORY && mr.NumBytesToTrim) {
			char sz[32];
			fmt_size(sz, sizeof(sz), mr.NumBytesToTrim);
			snprintf(rt->note, sizeof(rt->note), "; %s to trim", sz);
		}
		if (NT_SUCCESS(st) && mr.PagingFenceValue > q->last)
			q->last = mr.PagingFenceValue;
		if (NT_SUCCESS(st))
			for (uint32_t i = 0; i < c->nnames; i++)
				note_address(find_alloc_handle(rt, h[i]));
	}
	free(h);
	return st;
}

static NTSTATUS cmd_vcontext(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	D3DKMT_CREATECONTEXTVIRTUAL cv;
	memset(&cv, 0, sizeof(cv));
	cv.hDevice = d->hdev;
	st = D3DKMTCreateContextVirtual(&cv);
	if (st)
		return st;
	struct rt_obj *o = obj_new(rt, OBJ_CONTEXT, c->name, d);
	if (!o) {
		D3DKMT_DESTROYCONTEXT dc = { .hContext = cv.hContext };
		D3DKMTDestroyContext(&dc);
		return STATUS_NO_MEMORY;
	}
	o->handle = cv.hContext;
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_reserve(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	D3DDDI_RESERVEGPUVIRTUALADDRESS r;
	memset(&r, 0, sizeof(r));
	r.hPagingQueue = d->hdev; /* gpusim takes the device where a queue goes, as MakeResident does */
	r.BaseAddress = c->base;
	r.MinimumAddress = c->min;
	r.MaximumAddress = c->max;
	r.Size = c->size;
	r.ReservationType = D3DDDIGPUVIRTUALADDRESS_RESERVE_NO_ACCESS;
	st = D3DKMTReserveGpuVirtualAddress(&r);
	if (st)
		return st;
	struct rt_obj *o = obj_new(rt, OBJ_VA, c->name, d);
	if (!o) {
		D3DKMT_FREEGPUVIRTUALADDRESS f = { .hAdapter = rt->hadapter, .BaseAddress = r.VirtualAddress,
						   .Size = c->size };
		D3DKMTFreeGpuVirtualAddress(&f);
		return STATUS_NO_MEMORY;
	}
	o->va = r.VirtualAddress;
	o->size = c->size;
	o->reservation = true;
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_map(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_alloc *a;
	struct rt_obj *q = NULL;
	uint64_t base = 0;
	NTSTATUS st = get_alloc(rt, c->name2, &a);
	if (st || (c->queue && (st = get_obj(rt, OBJ_QUEUE, c->queue, &q))) ||
	    (c->va_given && (st = resolve_va(rt, &c->va, &base))))
		return st;
	uint64_t total = (a->size + HW_PAGE_SIZE - 1) / HW_PAGE_SIZE;
	uint64_t pages = c->pages_given ? c->pages : c->offset < total ? total - c->offset : 0;
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = q ? q->handle : a->dev->hdev;
	m.BaseAddress = base;
	m.hAllocation = a->handle;
	m.OffsetInPages = c->offset;
	m.SizeInPages = pages;
	m.Protection.Write = !c->readonly;
	st = D3DKMTMapGpuVirtualAddress(&m);
	if (!NT_SUCCESS(st))
		return st;
	struct rt_obj *o = obj_new(rt, OBJ_VA, c->name, a->dev);
	if (!o)
		return STATUS_NO_MEMORY;
	o->va = m.VirtualAddress;
	o->size = pages * HW_PAGE_SIZE;
	o->alloc = a->handle;
	o->alloc_off = c->offset * HW_PAGE_SIZE;
	o->reservation = !c->va_given;
	/* The page tables are usable once the paging fence is reached: a queue's is
	 * written by the copy engine later; the device's has completed already. */
	if (st == STATUS_PENDING && q) {
		if (m.PagingFenceValue > q->last)
			q->last = m.PagingFenceValue;
		NTSTATUS w = wait_cpu(q->dev, q->hsync, m.PagingFenceValue);
		if (w != STATUS_SUCCESS) {
			char sb[64];
			fmt_status(sb, sizeof(sb), w);
			cmd_msg(rt, "waiting for paging fence %" PRIu64 " of %s: expected STATUS_SUCCESS, got %s",
				m.PagingFenceValue, q->name, sb);
			return w;
		}
	}
	return st;
}

/* The allocation mapped at [va, va + size) is no longer: nothing names it there. */
static void forget_mappings(struct rt *rt, uint64_t va, uint64_t size)
{
	for (struct rt_obj *o = rt->obj_list; o; o = o->next)
		if (o->kind == OBJ_VA && o->va >= va && o->va - va < size)
			o->alloc = 0;
}

static NTSTATUS cmd_unmap(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *v;
	NTSTATUS st = get_obj(rt, OBJ_VA, c->name, &v);
	if (st)
		return st;
	D3DDDI_UPDATEGPUVIRTUALADDRESS_OPERATION op;
	memset(&op, 0, sizeof(op));
	op.OperationType = D3DDDI_UPDATEGPUVIRTUALADDRESS_UNMAP;
	op.Unmap.BaseAddress = v->va;
	op.Unmap.SizeInBytes = v->size;
	D3DKMT_UPDATEGPUVIRTUALADDRESS u;
	memset(&u, 0, sizeof(u));
	u.hDevice = v->dev->hdev;
	u.hContext = v->dev->hctx;
	u.NumOperations = 1;
	u.Operations = &op;
	st = D3DKMTUpdateGpuVirtualAddress(&u);
	if (st == STATUS_SUCCESS)
		forget_mappings(rt, v->va, v->size);
	return st;
}

static NTSTATUS cmd_free_va(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *v;
	NTSTATUS st = get_obj(rt, OBJ_VA, c->name, &v);
	if (st)
		return st;
	D3DKMT_FREEGPUVIRTUALADDRESS f = { .hAdapter = rt->hadapter, .BaseAddress = v->va, .Size = v->size };
	st = D3DKMTFreeGpuVirtualAddress(&f);
	if (st == STATUS_SUCCESS) {
		forget_mappings(rt, v->va, v->size);
		obj_remove(rt, v);
	}
	return st;
}

static NTSTATUS cmd_fence(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	D3DKMT_CREATESYNCHRONIZATIONOBJECT2 cs;
	memset(&cs, 0, sizeof(cs));
	cs.hDevice = d->hdev;
	cs.Info.Type = D3DDDI_MONITORED_FENCE;
	cs.Info.MonitoredFence.InitialFenceValue = c->fence_value;
	st = D3DKMTCreateSynchronizationObject2(&cs);
	if (st)
		return st;
	struct rt_obj *f = obj_new(rt, OBJ_FENCE, c->name, d);
	if (!f) {
		D3DKMT_DESTROYSYNCHRONIZATIONOBJECT ds = { .hSyncObject = cs.hSyncObject };
		D3DKMTDestroySynchronizationObject(&ds);
		return STATUS_NO_MEMORY;
	}
	f->handle = cs.hSyncObject;
	f->cpu = cs.Info.MonitoredFence.FenceValueCPUVirtualAddress;
	f->gpu_va = cs.Info.MonitoredFence.FenceValueGPUVirtualAddress;
	return STATUS_SUCCESS;
}

static NTSTATUS cmd_signal_wait(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *f;
	NTSTATUS st = get_obj(rt, OBJ_FENCE, c->name, &f);
	if (st)
		return st;
	if (c->kind == SCN_WAIT)
		return wait_cpu(f->dev, f->handle, c->fence_value);
	D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMCPU s;
	memset(&s, 0, sizeof(s));
	s.hDevice = f->dev->hdev;
	s.ObjectCount = 1;
	s.ObjectHandleArray = &f->handle;
	s.FenceValueArray = &c->fence_value;
	return D3DKMTSignalSynchronizationObjectFromCpu(&s);
}

static NTSTATUS cmd_gpu_signal_wait(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *ctx, *f;
	NTSTATUS st = get_obj(rt, OBJ_CONTEXT, c->name, &ctx);
	if (st || (st = get_obj(rt, OBJ_FENCE, c->name2, &f)))
		return st;
	if (c->kind == SCN_GPU_SIGNAL) {
		D3DKMT_SIGNALSYNCHRONIZATIONOBJECTFROMGPU s;
		memset(&s, 0, sizeof(s));
		s.hContext = ctx->handle;
		s.ObjectCount = 1;
		s.ObjectHandleArray = &f->handle;
		s.MonitoredFenceValueArray = &c->fence_value;
		return D3DKMTSignalSynchronizationObjectFromGpu(&s);
	}
	D3DKMT_WAITFORSYNCHRONIZATIONOBJECTFROMGPU w;
	memset(&w, 0, sizeof(w));
	w.hContext = ctx->handle;
	w.ObjectCount = 1;
	w.ObjectHandleArray = &f->handle;
	w.MonitoredFenceValueArray = &c->fence_value;
	return D3DKMTWaitForSynchronizationObjectFromGpu(&w);
}

/* `cmdbuf B`: an allocation the CPU writes the packets into, mapped at a VA of
 * its own and made resident, as a user-mode driver keeps its command buffers. */
static NTSTATUS cmd_cmdbuf(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_dev *d;
	NTSTATUS st = get_device(rt, c->device, &d);
	if (st)
		return st;
	struct gpusim_alloc_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.version = GPUSIM_ALLOC_DESC_VERSION;
	desc.size = c->size;
	desc.flags = GPUSIM_ALLOC_CPU_VISIBLE;
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &desc;
	info.PrivateDriverDataSize = sizeof(desc);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = d->hdev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	st = D3DKMTCreateAllocation2(&ca);
	if (st)
		return st;
	const char *step = "MapGpuVirtualAddress";
	D3DDDI_MAPGPUVIRTUALADDRESS m;
	memset(&m, 0, sizeof(m));
	m.hPagingQueue = d->hdev;
	m.hAllocation = info.hAllocation;
	m.SizeInPages = (c->size + HW_PAGE_SIZE - 1) / HW_PAGE_SIZE;
	m.Protection.Write = 1;
	st = D3DKMTMapGpuVirtualAddress(&m);
	if (NT_SUCCESS(st)) {
		step = "MakeResident";
		D3DDDI_MAKERESIDENT mr;
		memset(&mr, 0, sizeof(mr));
		mr.hPagingQueue = d->hdev;
		mr.NumAllocations = 1;
		mr.AllocationList = &info.hAllocation;
		st = D3DKMTMakeResident(&mr);
	}
	struct rt_obj *b = NT_SUCCESS(st) ? obj_new(rt, OBJ_CMDBUF, c->name, d) : NULL;
	if (b && !(b->dw = calloc(c->size / 4, sizeof(*b->dw)))) {
		obj_remove(rt, b);
		b = NULL;
		cmd_msg(rt, "the runner ran out of memory");
		st = STATUS_NO_MEMORY;
	}
	if (!b) {
		if (NT_SUCCESS(st))
			st = STATUS_NO_MEMORY;
		else if (!rt->msg[0]) {
			char sb[64];
			fmt_status(sb, sizeof(sb), st);
			cmd_msg(rt, "%s of its allocation: expected STATUS_SUCCESS, got %s", step, sb);
		}
		D3DKMT_DESTROYALLOCATION2 da;
		memset(&da, 0, sizeof(da));
		da.hDevice = d->hdev;
		da.phAllocationList = &info.hAllocation;
		da.AllocationCount = 1;
		D3DKMTDestroyAllocation2(&da); /* its mapping goes with it */
		return st;
	}
	b->handle = info.hAllocation;
	b->va = m.VirtualAddress;
	b->size = c->size;
	return STATUS_SUCCESS;
}

static bool cb_push(struct rt *rt, struct rt_obj *b, const uint32_t *dw, uint32_t n)
{
	if ((uint64_t)b->ndw + n > b->size / 4) {
		cmd_msg(rt, "command buffer %s is full (%" PRIu64 " bytes, %" PRIu32 " used; cmd %s reset empties it)",
			b->name, b->size, b->ndw * 4, b->name);
		return false;
	}
	memcpy(b->dw + b->ndw, dw, n * sizeof(*dw));
	b->ndw += n;
	return true;
}

static bool cb_note_write(struct rt *rt, struct rt_obj *b, uint64_t va, uint64_t len)
{
	if (b->nwrites == b->wcap) {
		size_t cap = b->wcap ? b->wcap * 2 : 8;
		struct va_write *p = realloc(b->writes, cap * sizeof(*p));
		if (!p) {
			cmd_msg(rt, "the runner ran out of memory");
			return false;
		}
		b->writes = p;
		b->wcap = cap;
	}
	b->writes[b->nwrites++] = (struct va_write){ va, len };
	return true;
}

#define LO(x) ((uint32_t)(x))
#define HI(x) ((uint32_t)((uint64_t)(x) >> 32))

static NTSTATUS cmd_packet(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *b, *f = NULL;
	uint64_t va = 0, dst = 0;
	NTSTATUS st = get_obj(rt, OBJ_CMDBUF, c->name, &b);
	if (st)
		return st;
	if (c->op == SCN_OP_RESET) {
		b->ndw = 0;
		b->nwrites = 0;
		return STATUS_SUCCESS;
	}
	if (c->op == SCN_OP_RAW) /* no address in them the runner knows of */
		return cb_push(rt, b, c->raw, c->nraw) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
	if (c->op == SCN_OP_SIGNAL || c->op == SCN_OP_WAIT) {
		if ((st = get_obj(rt, OBJ_FENCE, c->name2, &f)))
			return st;
		if (!f->gpu_va) {
			cmd_msg(rt, "fence %s has no GPU virtual address (its FenceValueGPUVirtualAddress is 0)",
				f->name);
			return STATUS_NOT_SUPPORTED;
		}
	} else if ((st = resolve_va(rt, &c->va, &va)) || (c->va2_given && (st = resolve_va(rt, &c->va2, &dst)))) {
		return st;
	}
	bool ok = false;
	switch (c->op) {
	case SCN_OP_FILL: {
		uint32_t p[] = { HW_PKT_HEADER(HW_PKT_FILL, 0, 5), LO(va), HI(va), LO(c->length), HI(c->length),
				 c->value };
		ok = cb_push(rt, b, p, 6) && cb_note_write(rt, b, va, c->length);
		break;
	}
	case SCN_OP_COPY: {
		uint32_t p[] = { HW_PKT_HEADER(HW_PKT_COPY, 0, 6), LO(va), HI(va), LO(dst), HI(dst),
				 LO(c->length), HI(c->length) };
		ok = cb_push(rt, b, p, 7) && cb_note_write(rt, b, dst, c->length);
		break;
	}
	case SCN_OP_WRITE: {
		uint32_t p[] = { HW_PKT_HEADER(HW_PKT_WRITE_DATA, 0, 3), LO(va), HI(va), c->value };
		ok = cb_push(rt, b, p, 4) && cb_note_write(rt, b, va, 4);
		break;
	}
	case SCN_OP_SIGNAL:
	case SCN_OP_WAIT: {
		/* FENCE raises its interrupt (flag bit 0): that is what wakes CPU waiters. */
		uint32_t p[] = { c->op == SCN_OP_SIGNAL ? HW_PKT_HEADER(HW_PKT_FENCE, 1, 4)
							: HW_PKT_HEADER(HW_PKT_WAIT, 0, 4),
				 LO(f->gpu_va), HI(f->gpu_va), LO(c->fence_value), HI(c->fence_value) };
		ok = cb_push(rt, b, p, 5);
		break;
	}
	case SCN_OP_RESET:
	case SCN_OP_RAW:
		break;
	}
	return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

/* What a submission's packets write is no longer what `write` put there: each
 * page of each range is put back on the allocation mapped there now. */
static void cut_gpu_writes(struct rt *rt, const struct rt_obj *b)
{
	for (size_t i = 0; i < b->nwrites; i++) {
		uint64_t va = b->writes[i].va, end = va + b->writes[i].len;
		if (end < va)
			end = UINT64_MAX;
		while (va < end) {
			uint64_t page_end = (va | (HW_PAGE_SIZE - 1)) + 1;
			uint64_t n = (page_end < end && page_end > va ? page_end : end) - va;
			D3DKMT_HANDLE h;
			uint64_t off;
			uint32_t flags;
			struct rt_alloc *a;
			if (gpusim_va_query(rt->luid, va, &h, &off, &flags) != STATUS_SUCCESS)
				break;
			if (h && (a = find_alloc_handle(rt, h)))
				ranges_cut(a, off, n);
			va += n;
		}
	}
}

static NTSTATUS cmd_submit_command(struct rt *rt, const struct scn_cmd *c)
{
	struct rt_obj *ctx, *b;
	NTSTATUS st = get_obj(rt, OBJ_CONTEXT, c->name, &ctx);
	if (st || (st = get_obj(rt, OBJ_CMDBUF, c->name2, &b)))
		return st;
	if (!b->ndw) {
		cmd_msg(rt, "command buffer %s holds no packet", b->name);
		return STATUS_INVALID_PARAMETER;
	}
	D3DKMT_LOCK2 lk;
	memset(&lk, 0, sizeof(lk));
	lk.hDevice = b->dev->hdev;
	lk.hAllocation = b->handle;
	st = D3DKMTLock2(&lk);
	if (st) {
		char sb[64];
		fmt_status(sb, sizeof(sb), st);
		cmd_msg(rt, "Lock2 of command buffer %s: expected STATUS_SUCCESS, got %s", b->name, sb);
		return st;
	}
	memcpy(lk.pData, b->dw, b->ndw * 4u);
	D3DKMT_UNLOCK2 ul = { .hDevice = b->dev->hdev, .hAllocation = b->handle };
	if ((st = D3DKMTUnlock2(&ul)))
		return st;
	D3DKMT_SUBMITCOMMAND sc;
	memset(&sc, 0, sizeof(sc));
	sc.Commands = b->va;
	sc.CommandLength = b->ndw * 4;
	sc.BroadcastContextCount = 1;
	sc.BroadcastContext[0] = ctx->handle;
	st = D3DKMTSubmitCommand(&sc);
	if (st == STATUS_SUCCESS)
		cut_gpu_writes(rt, b);
	else if (st == STATUS_INVALID_PARAMETER)
		explain_packets(rt, b->dw, b->ndw);
	return st;
}

static void cmd_expect_fence(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	gpusim_idle(rt->luid);
	struct rt_obj *f = find_obj(rt, OBJ_FENCE, c->name);
	if (!f || !f->cpu) {
		fail(rt, &c->loc, "expected fence %s %s %" PRIu64 ", found no such fence", c->name ? c->name : "?",
		     cmp_name(c->cmp), c->stat_value);
		return;
	}
	uint64_t v = *f->cpu;
	if (!cmp_holds(c->cmp, v, c->stat_value))
		fail(rt, &c->loc, "expected fence %s %s %" PRIu64 ", found %" PRIu64, f->name, cmp_name(c->cmp),
		     c->stat_value, v);
}

static void cmd_expect_va(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	gpusim_idle(rt->luid);
	uint64_t va;
	char where[96];
	if (resolve_va(rt, &c->va, &va)) {
		fail(rt, &c->loc, "expected %s %s%s, found no such VA", c->va.name ? c->va.name : "?",
		     c->mapped ? "mapped to " : "unmapped", c->mapped ? c->name2 : "");
		rt->msg[0] = '\0';
		return;
	}
	va_label(&c->va, va, where, sizeof(where));
	D3DKMT_HANDLE h;
	uint64_t off;
	uint32_t flags;
	NTSTATUS st = gpusim_va_query(rt->luid, va, &h, &off, &flags);
	if (st) {
		char sb[64];
		fmt_status(sb, sizeof(sb), st);
		fail(rt, &c->loc, "expected VA %s %s, found that gpusim_va_query answers %s", where,
		     c->mapped ? "mapped" : "unmapped", sb);
		return;
	}
	char nb[32], found[160];
	if (!(flags & GPUSIM_VA_MAPPED))
		snprintf(found, sizeof(found), "it unmapped%s", flags & GPUSIM_VA_RESERVED ? " (reserved)" : "");
	else if (flags & GPUSIM_VA_KERNEL)
		snprintf(found, sizeof(found), "it mapped to kernel memory (a fence page)");
	else
		snprintf(found, sizeof(found), "it mapped to %s at offset 0x%" PRIx64 "%s",
			 alloc_label(rt, h, nb, sizeof(nb)), off, flags & GPUSIM_VA_PRESENT ? "" : " (not resident)");
	if (!c->mapped) {
		if (flags & GPUSIM_VA_MAPPED)
			fail(rt, &c->loc, "expected VA %s unmapped, found %s", where, found);
		return;
	}
	struct rt_alloc *a = find_alloc(rt, c->name2);
	if (!a || !a->handle) {
		fail(rt, &c->loc, "expected VA %s mapped to %s, found no such allocation", where,
		     c->name2 ? c->name2 : "?");
		return;
	}
	if (!(flags & GPUSIM_VA_MAPPED) || h != a->handle)
		fail(rt, &c->loc, "expected VA %s mapped to %s, found %s", where, a->name, found);
}

static void cmd_expect_fault(struct rt *rt, const struct scn_cmd *c)
{
	rt->res->expectations++;
	gpusim_idle(rt->luid); /* the fault, if the work faults, has happened */
	uint64_t va;
	char where[96], nb[32];
	if (!c->va_given) { /* cause= alone: any fault, a packet's too (no VA there) */
		if (!rt->has_fault)
			fail(rt, &c->loc, "expected a GPU fault with cause %s, found none", hw_fault_name(c->fault_cause));
		else if (rt->fault_cause != c->fault_cause)
			fail(rt, &c->loc, "expected a GPU fault with cause %s, found the last one with cause %s at 0x%" PRIx64,
			     hw_fault_name(c->fault_cause), hw_fault_name(rt->fault_cause), rt->fault_va);
		return;
	}
	if (resolve_va(rt, &c->va, &va)) {
		fail(rt, &c->loc, "expected a GPU page fault at %s, found no such VA", c->va.name ? c->va.name : "?");
		rt->msg[0] = '\0';
		return;
	}
	va_label(&c->va, va, where, sizeof(where));
	if (!rt->has_fault) {
		fail(rt, &c->loc, "expected a GPU page fault at %s, found none", where);
		return;
	}
	if (rt->fault_va != va) {
		fail(rt, &c->loc, "expected a GPU page fault at %s, found the last one at 0x%" PRIx64 " (%s)", where,
		     rt->fault_va, hw_fault_name(rt->fault_cause));
		return;
	}
	if (c->fault_cause && rt->fault_cause != c->fault_cause) {
		fail(rt, &c->loc, "expected the GPU page fault at %s to have cause %s, found %s", where,
		     hw_fault_name(c->fault_cause), hw_fault_name(rt->fault_cause));
		return;
	}
	if (!c->name2)
		return;
	struct rt_alloc *a = find_alloc(rt, c->name2);
	if (!a || !a->handle || rt->fault_alloc != a->handle)
		fail(rt, &c->loc, "expected the GPU page fault at %s to name %s, found %s", where, c->name2,
		     rt->fault_alloc ? alloc_label(rt, rt->fault_alloc, nb, sizeof(nb)) : "no allocation");
}

/* `show`: the VA ranges mapping one allocation. */
static void show_vas(struct rt *rt, FILE *f, const struct rt_alloc *a)
{
	for (struct rt_obj *o = rt->obj_list; o; o = o->next)
		if (o->kind == OBJ_VA && o->alloc && o->alloc == a->handle)
			fprintf(f, "  va %-16s 0x%" PRIx64 "..0x%" PRIx64 " -> bytes 0x%" PRIx64 "..0x%" PRIx64 "\n",
				o->name, o->va, o->va + o->size, o->alloc_off, o->alloc_off + o->size);
}

static void objs_free(struct rt *rt)
{
	for (struct rt_obj *o = rt->obj_list, *next; o; o = next) {
		next = o->next;
		obj_free(o);
	}
	rt->obj_list = rt->obj_tail = NULL;
	free(rt->objs.b);
}

/* ---- snapshots -----------------------------------------------------------------------
 * A snapshot written by the runner carries, beside the device, the runner's own
 * state as a client note of text lines, so that `adapter from=` can go on with
 * the same names and still check every byte written before:
 *   gpusim-run 1
 *   device NAME HDEV HCTX
 *   resource NAME HANDLE
 *   alloc NAME DEVICE HANDLE SIZE GPUADDR HASADDR
 *   range NAME OFF LEN SEED LINE
 * Handles are the snapshot's; the restore's handle map renames them. */

struct text {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	for (int pass = 0; pass < 2 && !t->nomem; pass++) {
		va_start(ap, fmt);
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->nomem = true;
			return;
		}
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap : 4096;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *nb = realloc(t->buf, cap);
		if (!nb) {
			t->nomem = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

static void runner_state(struct rt *rt, struct text *t)
{
	text_add(t, "gpusim-run 1\n");
	for (struct rt_dev *d = rt->dev_list; d; d = d->next)
		text_add(t, "device %s %u %u\n", d->name, d->hdev, d->hctx);
	for (struct rt_res *r = rt->res_list; r; r = r->next)
		text_add(t, "resource %s %u\n", r->name, r->handle);
	for (struct rt_alloc *a = rt->first; a; a = a->next) {
		text_add(t, "alloc %s %s %u %" PRIu64 " %" PRIu64 " %d\n", a->name, a->dev->name, a->handle,
			 a->size, a->gpu_addr, a->has_addr);
		for (size_t i = 0; i < a->nranges; i++)
			text_add(t, "range %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 "\n", a->name,
				 a->ranges[i].off, a->ranges[i].len, a->ranges[i].seed, a->ranges[i].line);
	}
}

/* Take a snapshot and write it to path: the allocation rows get the script's
 * names, the recent events and the runner's state come along. */
static int write_snapshot(struct rt *rt, const char *path, char *err, size_t errlen)
{
	struct gpusim_snapshot *snap;
	NTSTATUS st = gpusim_snapshot_take(rt->luid, &snap);
	if (st != STATUS_SUCCESS) {
		char sb[64];
		fmt_status(sb, sizeof(sb), st);
		snprintf(err, errlen, "%s: cannot take a snapshot: %s", path, sb);
		return -1;
	}
	for (uint64_t i = 0; i < snap->nallocs; i++) {
		struct rt_alloc *a = find_alloc_handle(rt, snap->allocs[i].handle);
		if (a)
			snprintf(snap->allocs[i].name, sizeof(snap->allocs[i].name), "%s", a->name);
	}
	if (rt->nrecent && (snap->events = malloc(rt->nrecent * sizeof(*snap->events)))) {
		for (uint32_t i = 0; i < rt->nrecent; i++)
			snap->events[i] = rt->recent[(rt->recent_head + i) % RECENT_EVENTS];
		snap->nevents = rt->nrecent;
	}
	struct text t = { 0 };
	runner_state(rt, &t);
	int rc = -1;
	if (t.nomem) {
		snprintf(err, errlen, "%s: out of memory", path);
	} else {
		snap->client = t.buf;
		snap->client_size = t.len;
		rc = snapfile_write(path, snap, err, errlen);
	}
	snap->client = NULL;
	free(t.buf);
	gpusim_snapshot_free(snap);
	return rc;
}

static NTSTATUS cmd_snapshot(struct rt *rt, const struct scn_cmd *c)
{
	char err[512];
	if (write_snapshot(rt, c->path, err, sizeof(err))) {
		/* The command's description names the file already. */
		size_t n = strlen(c->path);
		bool named = !strncmp(err, c->path, n) && err[n] == ':' && err[n + 1] == ' ';
		cmd_msg(rt, "%s", named ? err + n + 2 : err);
		return STATUS_UNSUCCESSFUL;
	}
	if (rt->verbose)
		say(rt, "snapshot written to %s\n", c->path);
	return STATUS_SUCCESS;
}

/* --dump-on-fault: after a command during which the GPU faulted or the device
 * went, write DIR/fault-N.elf and say so. */
static void dump_on_fault(struct rt *rt, const struct scn_cmd *c)
{
	const char *why = rt->dump_reason;
	rt->dump_reason = NULL;
	if (!why || !rt->opt->dump_dir || rt->dumps >= MAX_FAULT_DUMPS)
		return;
	/* Named for the scenario, so that the dumps of several scenarios in one run
	 * (or one after another into the same directory) do not overwrite each other. */
	char path[4096], err[512], base[256];
	const char *slash = strrchr(rt->script_name, '/');
	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : rt->script_name);
	char *dot = strrchr(base, '.');
	if (dot && dot != base)
		*dot = '\0';
	snprintf(path, sizeof(path), "%s/%s-fault-%u.elf", rt->opt->dump_dir, base, ++rt->dumps);
	if (write_snapshot(rt, path, err, sizeof(err)))
		report(rt, &c->loc, "--dump-on-fault: %s", err);
	else if (rt->opt->out && !rt->quiet)
		say(rt, "%s:%" PRIu32 ": %s: snapshot written to %s\n", c->loc.file ? c->loc.file : rt->script_name,
		    c->loc.line, why, path);
}

/* The snapshot's handle for an old one, 0 when the map has none of that type. */
static D3DKMT_HANDLE remap(const struct gpusim_handle_map *m, size_t n, D3DKMT_HANDLE old, uint32_t type)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m[mid].old_handle < old)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && m[lo].old_handle == old && m[lo].type == type ? m[lo].new_handle : 0;
}

static bool word(char **cur, char **out)
{
	char *p = *cur;
	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return false;
	*out = p;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	if (*p == ' ')
		*p++ = '\0';
	*cur = p;
	return true;
}

static bool number(char **cur, uint64_t *out)
{
	char *w, *end;
	if (!word(cur, &w) || *w < '0' || *w > '9')
		return false;
	errno = 0;
	*out = strtoull(w, &end, 10);
	return !errno && !*end;
}

/* Rebuild the runner's devices, resources and allocations from a restored
 * snapshot's client note. 0, or -1 with a sentence in err. */
static int load_runner_state(struct rt *rt, const struct gpusim_snapshot *snap,
			     const struct gpusim_handle_map *m, size_t nm, char *err, size_t errlen)
{
	if (!snap->client || snap->client_size < 13 || memcmp(snap->client, "gpusim-run 1\n", 13)) {
		snprintf(err, errlen, "it was not written by gpusim run (no scenario state in it)");
		return -1;
	}
	char *text = malloc(snap->client_size + 1);
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(text, snap->client, snap->client_size);
	text[snap->client_size] = '\0';
	int rc = -1;
	uint32_t lineno = 1;
	char *line = strchr(text, '\n') + 1;
	while (*line) {
		lineno++;
		char *nl = strchr(line, '\n');
		if (!nl) {
			snprintf(err, errlen, "its scenario state is cut short at line %u", lineno);
			goto out;
		}
		*nl = '\0';
		char *cur = line, *kind, *name, *devname;
		uint64_t v[5];
		bool ok = word(&cur, &kind) && word(&cur, &name) && strlen(name) < 256;
		if (ok && !strcmp(kind, "device")) {
			ok = number(&cur, &v[0]) && number(&cur, &v[1]) && !find_dev(rt, name);
			D3DKMT_HANDLE hdev = ok ? remap(m, nm, (D3DKMT_HANDLE)v[0], GPUSIM_HANDLE_DEVICE) : 0;
			D3DKMT_HANDLE hctx = ok ? remap(m, nm, (D3DKMT_HANDLE)v[1], GPUSIM_HANDLE_CONTEXT) : 0;
			D3DKMT_CREATECONTEXT cc;
			memset(&cc, 0, sizeof(cc));
			struct rt_dev *d = NULL;
			ok = hdev && hctx && gpusim_context_buffers(hctx, &cc) == STATUS_SUCCESS &&
			     cc.hDevice == hdev && (d = calloc(1, sizeof(*d))) && (d->name = strdup(name));
			if (!ok)
				free(d);
			else
				dev_enlist(rt, d, &cc);
		} else if (ok && !strcmp(kind, "resource")) {
			struct rt_res *r = NULL;
			ok = number(&cur, &v[0]) && !find_res(rt, name) && (r = calloc(1, sizeof(*r))) &&
			     (r->name = strdup(name)) &&
			     (r->handle = remap(m, nm, (D3DKMT_HANDLE)v[0], GPUSIM_HANDLE_RESOURCE));
			if (!ok && r) {
				free(r->name);
				free(r);
			} else if (ok) {
				hmap_insert(&rt->resources, &r->by_name, hash_str(r->name));
				r->next = rt->res_list;
				rt->res_list = r;
			}
		} else if (ok && !strcmp(kind, "alloc")) {
			struct rt_dev *d = word(&cur, &devname) ? find_dev(rt, devname) : NULL;
			struct rt_alloc *a = NULL;
			ok = d && number(&cur, &v[0]) && number(&cur, &v[1]) && number(&cur, &v[2]) &&
			     number(&cur, &v[3]) && v[3] <= 1 && !find_alloc(rt, name) &&
			     (a = calloc(1, sizeof(*a))) && (a->name = strdup(name));
			D3DKMT_HANDLE h = ok && v[0] ? remap(m, nm, (D3DKMT_HANDLE)v[0], GPUSIM_HANDLE_ALLOCATION) : 0;
			if (ok && v[0] && !h)
				ok = false;
			if (!ok && a) {
				free(a->name);
				free(a);
			} else if (ok) {
				a->dev = d;
				a->handle = h;
				a->size = v[1];
				a->gpu_addr = v[2];
				a->has_addr = v[3];
				alloc_enlist(rt, a);
			}
		} else if (ok && !strcmp(kind, "range")) {
			struct rt_alloc *a = find_alloc(rt, name);
			ok = a && number(&cur, &v[0]) && number(&cur, &v[1]) && number(&cur, &v[2]) &&
			     number(&cur, &v[3]) && v[3] <= UINT32_MAX && v[1] && v[0] <= a->size &&
			     v[1] <= a->size - v[0] &&
			     range_push(a, (struct range){ v[0], v[1], v[2], (uint32_t)v[3] });
		} else {
			ok = false;
		}
		if (!ok || *cur) {
			snprintf(err, errlen, "its scenario state line %u is malformed or names what the "
				 "snapshot does not hold", lineno);
			goto out;
		}
		line = nl + 1;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* `adapter from=FILE.elf`: the adapter and the runner's world from a snapshot. */
static NTSTATUS start_from_snapshot(struct rt *rt, const struct scn_cmd *adapter)
{
	struct gpusim_snapshot *snap;
	char err[512], why[400];
	if (snapfile_read(adapter->path, &snap, err, sizeof(err))) {
		fail(rt, &adapter->loc, "adapter from=%s", err);
		return STATUS_INVALID_PARAMETER;
	}
	struct gpusim_handle_map *m = NULL;
	size_t nm = 0;
	NTSTATUS st = gpusim_snapshot_restore(snap, &rt->luid, &m, &nm, why, sizeof(why));
	if (st != STATUS_SUCCESS) {
		fail(rt, &adapter->loc, "adapter from=%s: cannot restore it: %s", adapter->path, why);
		snapfile_free(snap);
		return st;
	}
	D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = rt->luid };
	st = D3DKMTOpenAdapterFromLuid(&oa);
	if (st == STATUS_SUCCESS) {
		rt->hadapter = oa.hAdapter;
		rt->have_adapter = true;
		rt->no_invisible = snap->cfg.hw.visible == snap->cfg.hw.vram;
		if (load_runner_state(rt, snap, m, nm, why, sizeof(why))) {
			fail(rt, &adapter->loc, "adapter from=%s: %s", adapter->path, why);
			st = STATUS_INVALID_PARAMETER;
		}
	} else {
		gpusim_adapter_destroy(rt->luid);
		fail(rt, &adapter->loc, "adapter from=%s: cannot open the restored adapter", adapter->path);
	}
	free(m);
	snapfile_free(snap);
	return st;
}

/* One command: the status its API call returned. Expectations report their own
 * failures and answer STATUS_SUCCESS. */
static NTSTATUS run_cmd(struct rt *rt, const struct scn_cmd *c)
{
	rt->msg[0] = rt->note[0] = '\0';
	rt->cur = c;
	switch (c->kind) {
	case SCN_ADAPTER: return STATUS_SUCCESS; /* made before the first command */
	case SCN_DEVICE: return cmd_device(rt, c);
	case SCN_ALLOC: return cmd_alloc(rt, c);
	case SCN_FREE: return cmd_free(rt, c);
	case SCN_WRITE:
	case SCN_VERIFY: return cmd_write_verify(rt, c);
	case SCN_LOCK:
	case SCN_UNLOCK: return cmd_lock(rt, c);
	case SCN_SUBMIT: return cmd_submit(rt, c);
	case SCN_GPU_FILL: return cmd_gpu_fill(rt, c);
	case SCN_GPU_COPY: return cmd_gpu_copy(rt, c);
	case SCN_RESIDENT:
		if (c->queue)
			return resident_queue(rt, c);
		return cmd_resident(rt, c);
	case SCN_EVICT: return cmd_resident(rt, c);
	case SCN_PRIORITY: return cmd_priority(rt, c);
	case SCN_IDLE: return gpusim_idle(rt->luid);
	case SCN_INJECT: return cmd_inject(rt, c);
	case SCN_SNAPSHOT: return cmd_snapshot(rt, c);
	case SCN_SHOW:
		cmd_show(rt);
		return STATUS_SUCCESS;
	case SCN_ECHO:
		if (!rt->quiet)
			say(rt, "%s\n", c->text ? c->text : "");
		return STATUS_SUCCESS;
	case SCN_EXPECT_IN:
		cmd_expect_in(rt, c);
		return STATUS_SUCCESS;
	case SCN_EXPECT_STAT:
		cmd_expect_stat(rt, c);
		return STATUS_SUCCESS;
	case SCN_EXPECT_STATUS:
		cmd_expect_status(rt, c);
		return STATUS_SUCCESS;
	case SCN_IMAGE: return cmd_image(rt, c);
	case SCN_SUBMIT_IMAGE: return cmd_submit_image(rt, c);
	case SCN_PAGINGQUEUE: return cmd_pagingqueue(rt, c);
	case SCN_WAIT_PAGING: return cmd_wait_paging(rt, c);
	case SCN_VCONTEXT: return cmd_vcontext(rt, c);
	case SCN_RESERVE: return cmd_reserve(rt, c);
	case SCN_MAP: return cmd_map(rt, c);
	case SCN_UNMAP: return cmd_unmap(rt, c);
	case SCN_FREE_VA: return cmd_free_va(rt, c);
	case SCN_FENCE: return cmd_fence(rt, c);
	case SCN_SIGNAL:
	case SCN_WAIT: return cmd_signal_wait(rt, c);
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT: return cmd_gpu_signal_wait(rt, c);
	case SCN_CMDBUF: return cmd_cmdbuf(rt, c);
	case SCN_CMD: return cmd_packet(rt, c);
	case SCN_SUBMIT_COMMAND: return cmd_submit_command(rt, c);
	case SCN_EXPECT_FENCE:
		cmd_expect_fence(rt, c);
		return STATUS_SUCCESS;
	case SCN_EXPECT_VA:
		cmd_expect_va(rt, c);
		return STATUS_SUCCESS;
	case SCN_EXPECT_FAULT:
		cmd_expect_fault(rt, c);
		return STATUS_SUCCESS;
	}
	cmd_msg(rt, "unknown command kind %d", (int)c->kind);
	return STATUS_NOT_IMPLEMENTED;
}

/* ---- the end of a scenario ---------------------------------------------------------- */

static void end_checks(struct rt *rt)
{
	char err[512] = "";
	rt->res->expectations++;
	if (gpusim_check_invariants(rt->luid, err, sizeof(err)) != STATUS_SUCCESS)
		fail(rt, NULL, "invariants: %s", err[0] ? err : "violated");

	bool any = false, lost = false;
	for (struct rt_alloc *a = rt->first; a; a = a->next)
		any |= a->handle && a->nranges;
	if (!any)
		return;
	rt->res->expectations++;
	for (struct rt_alloc *a = rt->first; a; a = a->next) {
		if (!a->handle || !a->nranges)
			continue;
		qsort(a->ranges, a->nranges, sizeof(a->ranges[0]), range_cmp);
		D3DKMT_LOCK2 lk = { .hDevice = a->dev->hdev, .hAllocation = a->handle };
		NTSTATUS st = D3DKMTLock2(&lk);
		if (st) {
			char sb[64];
			fmt_status(sb, sizeof(sb), st);
			report(rt, NULL, "end: cannot read %s back: %s", a->name, sb);
			lost = true;
			continue;
		}
		for (size_t i = 0; i < a->nranges; i++) {
			const struct range *r = &a->ranges[i];
			uint8_t want;
			uint64_t bad = pattern_check((const uint8_t *)lk.pData + r->off, r->off, r->len, r->seed, &want);
			if (bad == UINT64_MAX)
				continue;
			lost = true;
			report(rt, NULL,
			       "end: bytes written to %s at line %" PRIu32 " were lost (byte 0x%" PRIx64
			       " is 0x%02x, expected 0x%02x)",
			       a->name, r->line, bad, ((const uint8_t *)lk.pData)[bad], want);
		}
		D3DKMT_UNLOCK2 ul = { .hDevice = a->dev->hdev, .hAllocation = a->handle };
		D3DKMTUnlock2(&ul);
	}
	if (lost)
		rt->res->failed++;
}

static void teardown(struct rt *rt)
{
	if (rt->subscribed)
		gpusim_unsubscribe(rt->luid, on_event, rt);
	for (struct rt_dev *d = rt->dev_list, *next; d; d = next) {
		next = d->next;
		D3DKMT_DESTROYDEVICE dd = { .hDevice = d->hdev };
		D3DKMTDestroyDevice(&dd);
		free(d->name);
		free(d);
	}
	if (rt->have_adapter) {
		D3DKMT_CLOSEADAPTER ca = { .hAdapter = rt->hadapter };
		D3DKMTCloseAdapter(&ca);
		gpusim_adapter_destroy(rt->luid);
	}
	reap_grave(rt);
	for (struct rt_alloc *a = rt->first, *next; a; a = next) {
		next = a->next;
		alloc_free(a);
	}
	for (struct rt_res *r = rt->res_list, *next; r; r = next) {
		next = r->next;
		free(r->name);
		free(r);
	}
	images_free(rt);
	objs_free(rt);
	free(rt->allocs.b);
	free(rt->alloc_handles.b);
	free(rt->devs.b);
	free(rt->dev_handles.b);
	free(rt->resources.b);
	free(rt->images.b);
	free(rt->ev);
	free(rt->recent);
}

static const char *script_name(const struct scn_script *s)
{
	if (s->nfiles && s->files[0])
		return s->files[0];
	if (s->ncmds && s->cmds[0].loc.file)
		return s->cmds[0].loc.file;
	return "scenario";
}

int scn_run(const struct scn_script *s, const struct scn_options *opt, struct scn_result *res)
{
	struct scn_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	struct rt rt = {
		.s = s,
		.opt = opt,
		.res = res,
		.script_name = script_name(s),
		.quiet = opt->quiet,
		.verbose = opt->verbose && !opt->quiet && opt->out,
		.bar_pct = -1,
	};
	gpusim_reset();

	const struct scn_cmd *adapter = NULL;
	bool snapshots = opt->dump_dir != NULL, faults = false;
	for (size_t i = 0; i < s->ncmds; i++) {
		faults |= s->cmds[i].kind == SCN_EXPECT_FAULT;
		if (s->cmds[i].kind == SCN_ADAPTER && !adapter)
			adapter = &s->cmds[i];
		snapshots |= s->cmds[i].kind == SCN_SNAPSHOT ||
			     (s->cmds[i].inner && s->cmds[i].inner->kind == SCN_SNAPSHOT);
	}
	if (snapshots)
		rt.recent = calloc(RECENT_EVENTS, sizeof(*rt.recent));
	if (adapter && adapter->path) {
		if (start_from_snapshot(&rt, adapter) != STATUS_SUCCESS) {
			res->stopped = true;
			teardown(&rt);
			return 1;
		}
		goto started;
	}
	struct gpusim_config cfg;
	if (adapter)
		cfg = adapter->config;
	else
		gpusim_config_default(&cfg);
	if (opt->seed_given)
		cfg.seed = opt->seed;
	NTSTATUS st = gpusim_adapter_create(&cfg, &rt.luid);
	if (st == STATUS_SUCCESS) {
		D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = rt.luid };
		st = D3DKMTOpenAdapterFromLuid(&oa);
		if (st == STATUS_SUCCESS)
			rt.hadapter = oa.hAdapter;
		else
			gpusim_adapter_destroy(rt.luid);
	}
	if (st != STATUS_SUCCESS) {
		char sb[64];
		fmt_status(sb, sizeof(sb), st);
		fail(&rt, adapter ? &adapter->loc : NULL, "adapter: expected STATUS_SUCCESS, got %s", sb);
		res->stopped = true;
		teardown(&rt);
		return 1;
	}
	rt.have_adapter = true;
	rt.no_invisible = cfg.hw.visible == cfg.hw.vram;
started:
	if (opt->on_adapter)
		opt->on_adapter(opt->ctx, rt.luid);
	/* Faults are only known from events: listen when the script asks about them. */
	if (rt.verbose || opt->on_item || rt.recent || faults)
		rt.subscribed = gpusim_subscribe(rt.luid, on_event, &rt) == STATUS_SUCCESS;

	/* Events already tell how far a verbose run is; a bar would only garble them. */
	bool progress = opt->progress && !rt.verbose && opt->err && s->ncmds > PROGRESS_MIN_COMMANDS;
	for (size_t i = 0; i < s->ncmds; i++) {
		const struct scn_cmd *c = &s->cmds[i];
		if (progress)
			bar_update(&rt, i);
		if (rt.verbose) {
			char what[256];
			describe(c, what, sizeof(what));
			say(&rt, "-- %s:%" PRIu32 ": %s\n", c->loc.file ? c->loc.file : rt.script_name, c->loc.line,
			    what);
		}
		res->commands++;
		st = run_cmd(&rt, c);
		dump_on_fault(&rt, c);
		flush_events(&rt);
		reap_grave(&rt);
		/* STATUS_PENDING (MakeResident queued paging) is how success looks there. */
		if (st == STATUS_SUCCESS || st == STATUS_PENDING)
			continue;
		if (rt.msg[0]) {
			fail(&rt, &c->loc, "%s", rt.msg);
		} else {
			char what[256], sb[64];
			describe(c, what, sizeof(what));
			fmt_status(sb, sizeof(sb), st);
			fail(&rt, &c->loc, "%s: expected STATUS_SUCCESS, got %s%s", what, sb, rt.note);
		}
		res->stopped = true;
		break;
	}
	if (progress)
		bar_update(&rt, s->ncmds);

	gpusim_idle(rt.luid);
	gpusim_get_stats(rt.luid, &res->stats);
	/* The end checks lock and so may move allocations: what observers see, like
	 * the summary's statistics, is the scenario's own story. */
	rt.ending = true;
	if (!rt.removed) {
		if (rt.verbose)
			say(&rt, "-- %s: end\n", rt.script_name);
		end_checks(&rt);
		flush_events(&rt);
	}
	bar_clear(&rt);
	teardown(&rt);
	return res->failed ? 1 : 0;
}
