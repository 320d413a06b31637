/*
 * A snapshot as the viewer sees it: a recording of the snapshot's recent events
 * (what led up to it) that ends at the snapshot's moment, where the model holds
 * exactly the allocation table. The table is the truth; the events are history.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gpusim/snapshot.h>

#include "sim/view/model.h"

/* What the window of recent events says about one row of the table. */
struct row {
	const struct gpusim_snapshot_alloc *a;
	size_t last_create;     /* position (+1) of its last CREATE in the window; 0: none */
	bool born;              /* a CREATE or DESTROY of its handle is in the window */
	bool placed;            /* a placement event of it is in the window */
	bool start_known;       /* where it was when the window began */
	uint32_t start_seg;
	uint64_t start_offset;
	bool lock_events;
	uint32_t preferred;     /* from its first event; 0 when none says */
	bool have_preferred;
};

struct build {
	struct vm_recording *r;
	struct row *rows;       /* by ascending handle */
	size_t nrows;
	const struct gpusim_event **events; /* in time order */
	size_t nevents;
	bool failed;
};

/* By handle, then by place in the table, so that of two rows of one handle the
 * first in the table is the one kept, whatever qsort does with equal keys. */
static int handle_order(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	if (a->a->handle != b->a->handle)
		return a->a->handle < b->a->handle ? -1 : 1;
	return a->a < b->a ? -1 : a->a > b->a;
}

static int time_order(const void *x, const void *y)
{
	const struct gpusim_event *a = *(const struct gpusim_event *const *)x;
	const struct gpusim_event *b = *(const struct gpusim_event *const *)y;
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	return a < b ? -1 : a > b;
}

static struct row *find_row(const struct build *b, uint32_t handle)
{
	size_t lo = 0, hi = b->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->rows[mid].a->handle == handle)
			return &b->rows[mid];
		if (b->rows[mid].a->handle < handle)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool is_segment(uint32_t seg)
{
	return vm_is_segment(seg);
}

static bool is_placement(uint32_t type)
{
	return type == GPUSIM_EV_PLACE || type == GPUSIM_EV_EVICT || type == GPUSIM_EV_PAGE_IN ||
	       type == GPUSIM_EV_MOVE || type == GPUSIM_EV_DEMOTE || type == GPUSIM_EV_PROMOTE;
}

static bool is_alloc_event(uint32_t type)
{
	return (type >= GPUSIM_EV_CREATE && type <= GPUSIM_EV_UNLOCK) || type == GPUSIM_EV_DEMOTE ||
	       type == GPUSIM_EV_PROMOTE || type == GPUSIM_EV_USE;
}

/* The room for the recording is checked here, so the builder never aborts the
 * program the way vm_recording_add does. */
static void add(struct build *b, const struct gpusim_trace_item *item)
{
	struct vm_recording *r = b->r;
	if (b->failed)
		return;
	if (r->nitems == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct gpusim_trace_item *p = cap <= SIZE_MAX / sizeof(*p) ? realloc(r->items, cap * sizeof(*p)) : NULL;
		if (!p) {
			b->failed = true;
			return;
		}
		r->items = p;
		r->cap = cap;
	}
	r->items[r->nitems++] = *item;
}

static void add_event(struct build *b, const struct gpusim_event *ev)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	it.event = *ev;
	add(b, &it);
}

static void add_name(struct build *b, const struct gpusim_snapshot_alloc *a)
{
	size_t n = strnlen(a->name, sizeof(a->name));
	if (!n)
		return; /* the model calls it #<handle> */
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_NAME;
	it.allocation = a->handle;
	it.device = a->device;
	memcpy(it.name, a->name, n);
	add(b, &it);
}

/* An event about row a, with the table's size, device and priority. */
static struct gpusim_event row_event(const struct row *w, uint32_t type, uint64_t time_ns, uint32_t seg,
				     uint64_t offset)
{
	const struct gpusim_snapshot_alloc *a = w->a;
	return (struct gpusim_event){
		.type = type,
		.cause = GPUSIM_CAUSE_NONE,
		.time_ns = time_ns,
		.device = a->device,
		.allocation = a->handle,
		.segment = seg,
		.offset = is_segment(seg) ? offset : 0,
		.size = a->size,
		.priority = a->priority,
		.preferred = w->have_preferred ? w->preferred : GPUSIM_SEG_NONE,
	};
}

/* What the window says about each row: born in it or there before, and if there
 * before, where it was when the window began. A placement event names where an
 * allocation goes; where it came from is known for an EVICT (its old segment and
 * offset) and for a move out of the backing store, not for a move between
 * segments (MOVE, DEMOTE, PROMOTE: their old offset is not in the event). */
static void study(struct build *b)
{
	for (size_t i = 0; i < b->nevents; i++) {
		const struct gpusim_event *ev = b->events[i];
		if (!is_alloc_event(ev->type))
			continue;
		struct row *w = find_row(b, ev->allocation);
		if (!w)
			continue;
		if (!w->have_preferred) {
			w->preferred = ev->preferred;
			w->have_preferred = true;
		}
		if (ev->type == GPUSIM_EV_CREATE)
			w->last_create = i + 1;
		if (ev->type == GPUSIM_EV_CREATE || ev->type == GPUSIM_EV_DESTROY)
			w->born = true;
		if (ev->type == GPUSIM_EV_LOCK || ev->type == GPUSIM_EV_UNLOCK)
			w->lock_events = true;
		if (is_placement(ev->type) && !w->placed) {
			w->placed = true;
			if (ev->type == GPUSIM_EV_EVICT && is_segment(ev->from_segment)) {
				w->start_known = true;
				w->start_seg = ev->from_segment;
				w->start_offset = ev->offset;
			} else if (ev->type != GPUSIM_EV_MOVE && ev->type != GPUSIM_EV_DEMOTE &&
				   ev->type != GPUSIM_EV_PROMOTE && ev->from_segment == GPUSIM_SEG_SYS) {
				w->start_known = true;
				w->start_seg = GPUSIM_SEG_SYS;
				w->start_offset = 0;
			}
		}
	}
	for (size_t i = 0; i < b->nrows; i++) {
		struct row *w = &b->rows[i];
		if (!w->placed) {
			/* Nothing moved it in the window: it was where the table has it. */
			w->start_known = true;
			w->start_seg = is_segment(w->a->segment) ? w->a->segment : GPUSIM_SEG_SYS;
			w->start_offset = w->a->offset;
		}
	}
}

/* The allocations that were there before the oldest event, where they were then. */
static void prelude(struct build *b, uint64_t t0)
{
	for (size_t i = 0; i < b->nrows; i++) {
		const struct row *w = &b->rows[i];
		if (w->born || !w->start_known)
			continue;
		struct gpusim_event ev = row_event(w, GPUSIM_EV_CREATE, t0, w->start_seg, w->start_offset);
		add_event(b, &ev);
		add_name(b, w->a);
		if (w->a->lock_count && !w->lock_events) {
			ev.type = GPUSIM_EV_LOCK;
			add_event(b, &ev);
		}
	}
}

/* The recent events as they happened; each allocation's name right after the
 * CREATE that made the allocation the table holds. */
static void window(struct build *b)
{
	for (size_t i = 0; i < b->nevents; i++) {
		const struct gpusim_event *ev = b->events[i];
		add_event(b, ev);
		if (ev->type != GPUSIM_EV_CREATE)
			continue;
		const struct row *w = find_row(b, ev->allocation);
		if (w && w->last_create == i + 1)
			add_name(b, w->a);
	}
}

static bool same_place(const struct vm_alloc *m, const struct gpusim_snapshot_alloc *a)
{
	uint32_t seg = is_segment(a->segment) ? a->segment : GPUSIM_SEG_SYS;
	return m->seg == seg && (seg == GPUSIM_SEG_SYS || m->offset == a->offset);
}

/* The snapshot's moment: bring the model to the table wherever the events leave it
 * elsewhere, with events of cause "none" (never counted as paging): allocations
 * the table does not hold go, missing ones come, misplaced ones are placed.
 * Last, the budgets of the statistics: the moment exists even when nothing else
 * needs saying. */
static void moment(struct build *b, const struct gpusim_snapshot *snap, const struct vm_model *m, uint64_t t)
{
	for (size_t i = 0; i < m->nallocs; i++) {
		const struct vm_alloc *ma = &m->allocs[i];
		if (!ma->live || find_row(b, ma->handle))
			continue;
		struct gpusim_event ev = {
			.type = GPUSIM_EV_DESTROY, .time_ns = t, .device = ma->device, .allocation = ma->handle,
			.segment = GPUSIM_SEG_NONE, .from_segment = ma->seg, .size = ma->size,
			.priority = ma->priority, .preferred = ma->preferred,
		};
		add_event(b, &ev);
	}
	for (size_t i = 0; i < b->nrows; i++) {
		const struct row *w = &b->rows[i];
		const struct gpusim_snapshot_alloc *a = w->a;
		const struct vm_alloc *ma = vm_find(m, a->handle);
		uint32_t seg = is_segment(a->segment) ? a->segment : GPUSIM_SEG_SYS;
		struct gpusim_event ev = row_event(w, GPUSIM_EV_PLACE, t, seg, a->offset);
		if (ma && ma->live && (ma->size != a->size || ma->device != a->device)) {
			/* Not the allocation the table holds under this handle. */
			struct gpusim_event gone = ev;
			gone.type = GPUSIM_EV_DESTROY;
			gone.segment = GPUSIM_SEG_NONE;
			gone.from_segment = ma->seg;
			gone.device = ma->device;
			gone.size = ma->size;
			add_event(b, &gone);
			ma = NULL;
		}
		if (!ma || !ma->live) {
			ev.type = GPUSIM_EV_CREATE;
			add_event(b, &ev);
			add_name(b, a);
			if (a->lock_count) {
				ev.type = GPUSIM_EV_LOCK;
				add_event(b, &ev);
			}
			continue;
		}
		ev.preferred = ma->preferred;
		if (!same_place(ma, a) || ma->priority != a->priority) {
			ev.from_segment = ma->seg;
			add_event(b, &ev);
		}
		if ((a->lock_count != 0) != ma->locked) {
			ev.type = a->lock_count ? GPUSIM_EV_LOCK : GPUSIM_EV_UNLOCK;
			add_event(b, &ev);
		}
	}
	const struct gpusim_stats *st = &snap->stats;
	struct gpusim_event budget = { .type = GPUSIM_EV_BUDGET, .time_ns = t };
	budget.offset = 0;
	budget.value = st->usage_local;
	budget.size = st->budget_local;
	add_event(b, &budget);
	budget.offset = 1;
	budget.value = st->usage_nonlocal;
	budget.size = st->budget_nonlocal;
	add_event(b, &budget);
}

static uint64_t before(uint64_t total, uint64_t in_window)
{
	return total > in_window ? total - in_window : 0;
}

static void describe(struct gpusim_trace_adapter *ad, const struct gpusim_snapshot *snap)
{
	memset(ad, 0, sizeof(*ad));
	ad->vram = snap->cfg.hw.vram;
	ad->visible = snap->cfg.hw.visible;
	ad->gart = snap->cfg.hw.gart;
	ad->sysmem = snap->cfg.hw.sysmem;
	for (uint32_t s = GPUSIM_SEG_VISIBLE; s <= GPUSIM_SEG_MAX; s++)
		if (is_segment(s))
			ad->seg_size[s] = snap->stats.seg[s].size;
	ad->budget_local = snap->stats.budget_local;
	ad->budget_nonlocal = snap->stats.budget_nonlocal;
	memcpy(ad->policy, snap->cfg.policy, sizeof(ad->policy));
}

int vm_recording_from_snapshot(struct vm_recording *r, const struct gpusim_snapshot *snap, char *err,
			       size_t errlen)
{
	vm_recording_init(r);
	describe(&r->adapter, snap);
	struct build b = { .r = r };
	if (snap->nallocs > SIZE_MAX / sizeof(*b.rows))
		goto oom;
	b.nrows = (size_t)snap->nallocs;
	b.nevents = snap->nevents;
	b.rows = calloc(b.nrows ? b.nrows : 1, sizeof(*b.rows));
	b.events = malloc((b.nevents ? b.nevents : 1) * sizeof(*b.events));
	if (!b.rows || !b.events)
		goto oom;
	for (size_t i = 0; i < b.nrows; i++)
		b.rows[i].a = &snap->allocs[i];
	qsort(b.rows, b.nrows, sizeof(*b.rows), handle_order);
	/* Two rows of one handle (a table that breaks its contract): the first wins. */
	size_t k = 0;
	for (size_t i = 0; i < b.nrows; i++)
		if (!k || b.rows[i].a->handle != b.rows[k - 1].a->handle)
			b.rows[k++] = b.rows[i];
	b.nrows = k;
	for (size_t i = 0; i < b.nevents; i++)
		b.events[i] = &snap->events[i];
	qsort(b.events, b.nevents, sizeof(*b.events), time_order);

	uint64_t t_end = snap->time_ns;
	if (b.nevents && b.events[b.nevents - 1]->time_ns > t_end)
		t_end = b.events[b.nevents - 1]->time_ns;
	r->start.time_ns = b.nevents ? b.events[0]->time_ns : t_end;

	study(&b);
	prelude(&b, r->start.time_ns);
	window(&b);
	if (b.failed)
		goto oom;

	/* The counters before the window are the statistics less what the window
	 * itself counts. */
	struct vm_model m;
	vm_replay(&m, r, r->nitems);
	const struct gpusim_stats *st = &snap->stats;
	r->start.evictions = before(st->evictions, m.evictions);
	r->start.page_ins = before(st->page_ins, m.page_ins);
	r->start.moves = before(st->moves, m.moves);
	r->start.demotions = before(st->demotions, m.demotions);
	r->start.promotions = before(st->promotions, m.promotions);
	r->start.bytes_in = before(st->bytes_in, m.bytes_in);
	r->start.bytes_out = before(st->bytes_out, m.bytes_out);
	r->start.faults = before(st->faults, m.faults);
	r->start.submits = before(st->submits, m.submits);
	moment(&b, snap, &m, t_end);
	vm_free(&m);
	if (b.failed)
		goto oom;
	free(b.rows);
	free(b.events);
	return 0;
oom:
	free(b.rows);
	free(b.events);
	vm_recording_free(r);
	snprintf(err, errlen, "out of memory building the view of the snapshot (%llu allocations, %u events)",
		 (unsigned long long)snap->nallocs, (unsigned)snap->nevents);
	errno = ENOMEM;
	return -1;
}
