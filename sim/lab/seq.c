/*
 * The allocation-use sequence of a trace (sim/lab/seq.h): the builder that keeps
 * the derived sizes, and the reader that turns a trace's events into steps. What
 * counts as what is written in sim/lab/LAB.md; the rules in brief:
 *
 * - CREATE makes an allocation: its size, its priority, and whether it is a VRAM
 *   or a GART allocation (its most preferred segment is the GART). A CREATE for a
 *   handle still live ends the old allocation first (its DESTROY was lost).
 * - DESTROY ends it.
 * - A use group is a run of consecutive USE events with the same device, cause
 *   and value: one Render's allocation list (before its SUBMIT) or one
 *   MakeResident's (before its BUDGET events). A USE of a handle never created in
 *   the trace (recording began later) creates it there, from the USE.
 * - Any event of a live allocation that shows another priority than the last one
 *   seen changes it there (SetAllocationPriority emits nothing of its own).
 * Everything else (placements, paging, locks, fences, names) is what a policy
 * decides or what the lab does not replay, and is skipped.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/lab/seq.h"

void lab_seq_init(struct lab_seq *s)
{
	memset(s, 0, sizeof(*s));
}

void lab_seq_free(struct lab_seq *s)
{
	free(s->allocs);
	free(s->steps);
	free(s->uses);
	free(s->live);
	memset(s, 0, sizeof(*s));
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return -ENOMEM;
		n *= 2;
	}
	void *q = realloc(*p, n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int add_step(struct lab_seq *s, struct lab_step st)
{
	int rc = grow((void **)&s->steps, &s->stepcap, s->nsteps + 1, sizeof(*s->steps));
	if (!rc)
		s->steps[s->nsteps++] = st;
	return rc;
}

int lab_seq_create(struct lab_seq *s, uint64_t size, uint32_t priority, bool vram, uint32_t *index)
{
	if (s->nallocs == UINT32_MAX)
		return -ENOMEM;
	if (s->nallocs == s->alloccap) {
		uint32_t cap = s->alloccap ? (s->alloccap > UINT32_MAX / 2 ? UINT32_MAX : s->alloccap * 2) : 64;
		struct lab_alloc *a = realloc(s->allocs, (size_t)cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		s->allocs = a;
		bool *l = realloc(s->live, (size_t)cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		s->live = l;
		s->alloccap = cap;
	}
	uint32_t i = s->nallocs;
	int rc = add_step(s, (struct lab_step){ .kind = LAB_CREATE, .alloc = i });
	if (rc)
		return rc;
	s->allocs[i] = (struct lab_alloc){ .size = size, .priority = priority, .vram = vram };
	s->live[i] = true;
	s->nallocs++;
	if (vram) {
		s->vram_allocs++;
		s->live_vram += size;
		if (size > s->largest_alloc)
			s->largest_alloc = size;
	} else {
		s->live_gart += size;
	}
	if (s->live_vram > s->peak_vram)
		s->peak_vram = s->live_vram;
	if (s->live_gart > s->peak_gart)
		s->peak_gart = s->live_gart;
	if (s->live_vram + s->live_gart > s->peak_all)
		s->peak_all = s->live_vram + s->live_gart;
	*index = i;
	return 0;
}

int lab_seq_destroy(struct lab_seq *s, uint32_t index)
{
	if (index >= s->nallocs || !s->live[index])
		return -EINVAL;
	int rc = add_step(s, (struct lab_step){ .kind = LAB_DESTROY, .alloc = index });
	if (rc)
		return rc;
	s->live[index] = false;
	if (s->allocs[index].vram)
		s->live_vram -= s->allocs[index].size;
	else
		s->live_gart -= s->allocs[index].size;
	return 0;
}

int lab_seq_priority(struct lab_seq *s, uint32_t index, uint32_t priority)
{
	if (index >= s->nallocs || !s->live[index])
		return -EINVAL;
	return add_step(s, (struct lab_step){ .kind = LAB_PRIORITY, .alloc = index, .priority = priority });
}

int lab_seq_use(struct lab_seq *s, const uint32_t *index, size_t n)
{
	if (!n || s->ngroups == UINT32_MAX)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (index[k] >= s->nallocs || !s->live[index[k]])
			return -EINVAL;
	int rc = grow((void **)&s->uses, &s->usecap, s->nuses + n, sizeof(*s->uses));
	if (rc)
		return rc;
	size_t first = s->nuses, m = 0;
	uint64_t bytes = 0;
	for (size_t k = 0; k < n; k++) {
		/* Lists are short next to the trace; a repeat is rare. */
		bool seen = false;
		for (size_t j = 0; j < m && !seen; j++)
			seen = s->uses[first + j] == index[k];
		if (seen)
			continue;
		s->uses[first + m++] = index[k];
		if (s->allocs[index[k]].vram)
			bytes += s->allocs[index[k]].size;
	}
	rc = add_step(s, (struct lab_step){ .kind = LAB_USE, .group = s->ngroups, .first = first, .n = m });
	if (rc)
		return rc;
	s->nuses += m;
	s->ngroups++;
	if (bytes > s->largest_group)
		s->largest_group = bytes;
	return 0;
}

/* ---- reading a trace ------------------------------------------------------------- */

/* Handle -> the newest allocation with it (a handle is given out again after a
 * destroy: the map then names the new one). Open addressing, never deleted. */
struct handle_map {
	uint32_t *key, *val;
	size_t cap, n;
};

static size_t slot(const struct handle_map *m, uint32_t h)
{
	size_t i = (size_t)(((uint64_t)h * 0x9e3779b97f4a7c15ull) >> 32) & (m->cap - 1);
	while (m->key[i] && m->key[i] != h)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int map_put(struct handle_map *m, uint32_t h, uint32_t v)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct handle_map g = { .cap = m->cap ? m->cap * 2 : 1024 };
		g.key = calloc(g.cap, sizeof(*g.key));
		g.val = calloc(g.cap, sizeof(*g.val));
		if (!g.key || !g.val) {
			free(g.key);
			free(g.val);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->cap; i++)
			if (m->key[i]) {
				size_t j = slot(&g, m->key[i]);
				g.key[j] = m->key[i];
				g.val[j] = m->val[i];
				g.n++;
			}
		free(m->key);
		free(m->val);
		*m = g;
	}
	size_t i = slot(m, h);
	if (!m->key[i])
		m->n++;
	m->key[i] = h;
	m->val[i] = v;
	return 0;
}

/* The live allocation with handle h, or -1. */
static int64_t map_live(const struct handle_map *m, const struct lab_seq *s, uint32_t h)
{
	if (!m->cap || !h)
		return -1;
	size_t i = slot(m, h);
	if (!m->key[i] || !s->live[m->val[i]])
		return -1;
	return m->val[i];
}

struct reader {
	struct lab_seq *s;
	struct handle_map map;
	uint32_t *prio;            /* last priority seen, per allocation */
	size_t priocap;
	uint32_t *group;           /* the group being gathered */
	size_t ngroup, groupcap;
	struct gpusim_event key;   /* device, cause and value of that group */
	uint64_t calls;            /* SUBMITs and MakeResident BUDGETs: calls that use */
};

static int flush_group(struct reader *r)
{
	if (!r->ngroup)
		return 0;
	int rc = lab_seq_use(r->s, r->group, r->ngroup);
	r->ngroup = 0;
	return rc;
}

static int new_alloc(struct reader *r, const struct gpusim_event *ev, uint32_t *index)
{
	int64_t old = map_live(&r->map, r->s, ev->allocation);
	int rc;
	if (old >= 0 && (rc = lab_seq_destroy(r->s, (uint32_t)old)))
		return rc;
	rc = lab_seq_create(r->s, ev->size, ev->priority, ev->preferred != GPUSIM_SEG_GART, index);
	if (rc)
		return rc;
	r->s->allocs[*index].handle = ev->allocation;
	if ((rc = grow((void **)&r->prio, &r->priocap, (size_t)*index + 1, sizeof(*r->prio))))
		return rc;
	r->prio[*index] = ev->priority;
	return map_put(&r->map, ev->allocation, *index);
}

static bool about_allocation(uint32_t type)
{
	switch (type) {
	case GPUSIM_EV_PLACE:
	case GPUSIM_EV_EVICT:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_LOCK:
	case GPUSIM_EV_UNLOCK:
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
	case GPUSIM_EV_USE:
		return true;
	}
	return false;
}

static int apply(struct reader *r, const struct gpusim_event *ev)
{
	int rc;
	uint32_t i;
	bool same_group = ev->type == GPUSIM_EV_USE && r->ngroup && ev->device == r->key.device &&
			  ev->cause == r->key.cause && ev->value == r->key.value;
	if (!same_group && (rc = flush_group(r)))
		return rc;
	if (ev->type == GPUSIM_EV_SUBMIT ||
	    (ev->type == GPUSIM_EV_BUDGET && ev->cause == GPUSIM_CAUSE_MAKE_RESIDENT && ev->offset == 0))
		r->calls++;
	if (ev->type == GPUSIM_EV_SUBMIT)
		r->s->submits++;
	if (ev->type == GPUSIM_EV_CREATE)
		return new_alloc(r, ev, &i);
	int64_t a = map_live(&r->map, r->s, ev->allocation);
	if (ev->type == GPUSIM_EV_DESTROY)
		return a >= 0 ? lab_seq_destroy(r->s, (uint32_t)a) : 0;
	if (!about_allocation(ev->type))
		return 0;
	if (a < 0) {
		if (ev->type != GPUSIM_EV_USE)
			return 0; /* the PLACE before its CREATE, or from before the recording */
		if ((rc = new_alloc(r, ev, &i)))
			return rc;
		a = i;
	}
	if (ev->priority && ev->priority != r->prio[a]) {
		/* The change happened before this call: its step goes in before the
		 * group being gathered, whose step is added when the group ends. */
		if ((rc = lab_seq_priority(r->s, (uint32_t)a, ev->priority)))
			return rc;
		r->prio[a] = ev->priority;
	}
	if (ev->type != GPUSIM_EV_USE)
		return 0;
	if ((rc = grow((void **)&r->group, &r->groupcap, r->ngroup + 1, sizeof(*r->group))))
		return rc;
	if (!r->ngroup)
		r->key = *ev;
	r->group[r->ngroup++] = (uint32_t)a;
	return 0;
}

int lab_seq_load(struct lab_seq *s, const char *path, char *err, size_t errlen)
{
	lab_seq_init(s);
	struct gpusim_trace_reader *tr = gpusim_trace_open(path, &s->adapter, err, errlen);
	if (!tr)
		return -1;
	struct reader r = { .s = s };
	struct gpusim_trace_item item;
	int got, rc = 0;
	while ((got = gpusim_trace_next(tr, false, &item, err, errlen)) == 1 && !rc)
		if (item.type == GPUSIM_TRACE_EVENT)
			rc = apply(&r, &item.event);
	if (!rc && got == 0)
		rc = flush_group(&r);
	gpusim_trace_close_reader(tr);
	free(r.map.key);
	free(r.map.val);
	free(r.prio);
	free(r.group);
	if (got < 0) {
		lab_seq_free(s);
		return -1; /* the reader's sentence is in err */
	}
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, rc == -ENOMEM ? "out of memory" : "inconsistent events");
		lab_seq_free(s);
		return -1;
	}
	if (r.calls && !s->ngroups) {
		/* Recorded before USE events existed: the uses are not in it. */
		snprintf(err, errlen,
			 "%s: no 'use' events for its %llu submissions and residency calls (a trace from "
			 "an older gpusim: record it again)",
			 path, (unsigned long long)r.calls);
		lab_seq_free(s);
		return -1;
	}
	return 0;
}
