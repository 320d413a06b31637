/*
 * Placement as data and demotion before eviction: an allocation pushed out of a
 * segment moves down its own placement (visible to invisible VRAM, VRAM to the
 * GART) and reaches system memory only when nothing in its placement has room;
 * one used away from its preferred segment goes back when there is room. Also
 * the configurations the manager must handle unchanged: a resizable BAR and two
 * VRAM pools.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/kmt/kmt_helpers.h"
#include "tests/kmt/kmt_suites.h"

#define MIB (1024ull * 1024ull)
#define PAGES_MAX 8192u /* 32 MiB of 4 KiB pages per segment, enough for these adapters */

/* ---- an event recorder that replays where every page of every segment is ---- */

struct occupancy {
	uint8_t used[GPUSIM_SEG_MAX + 1][PAGES_MAX];
	uint64_t pages[GPUSIM_SEG_MAX + 1];   /* segment sizes */
	uint32_t allowed[1024];               /* by handle index: the placement's segments */
	uint64_t evicts, demotes, promotes, bad;
	char why[256];
};

static uint32_t slot(D3DKMT_HANDLE h)
{
	return (h >> 6) & 1023u;
}

static void mark(struct occupancy *o, uint32_t seg, uint64_t off, uint64_t size, uint8_t v)
{
	if (seg == 0 || seg > GPUSIM_SEG_MAX || seg == GPUSIM_SEG_SYS)
		return;
	for (uint64_t p = off / 4096; p < (off + size) / 4096 && p < PAGES_MAX; p++)
		o->used[seg][p] = v;
}

static bool has_room(const struct occupancy *o, uint32_t seg, uint64_t size)
{
	uint64_t run = 0, need = size / 4096;
	for (uint64_t p = 0; p < o->pages[seg]; p++) {
		run = o->used[seg][p] ? 0 : run + 1;
		if (run >= need)
			return true;
	}
	return false;
}

/* Each allocation's current range, to clear it when it moves (an event says
 * only where it goes). */
struct where {
	uint32_t seg;
	uint64_t off;
};
static struct where last[1024];

static void on_event(void *opaque, const struct gpusim_event *e)
{
	struct occupancy *o = opaque;
	uint32_t allowed = o->allowed[slot(e->allocation)];
	struct where *w = &last[slot(e->allocation)];
	switch (e->type) {
	case GPUSIM_EV_EVICT:
		o->evicts++;
		/* The moment of truth, before its pages are given back: nothing else
		 * in its placement had room. */
		if (e->cause == GPUSIM_CAUSE_PRESSURE && allowed)
			for (uint32_t t = 1; t <= GPUSIM_SEG_MAX; t++)
				if (t != e->from_segment && (allowed & (1u << t)) && has_room(o, t, e->size) &&
				    !o->bad++)
					snprintf(o->why, sizeof(o->why),
						 "0x%x evicted from %s while %s had room for it", e->allocation,
						 gpusim_segment_name(e->from_segment), gpusim_segment_name(t));
		mark(o, e->from_segment, e->offset, e->size, 0);
		*w = (struct where){ GPUSIM_SEG_SYS, 0 };
		break;
	case GPUSIM_EV_DESTROY:
		mark(o, w->seg, w->off, e->size, 0);
		*w = (struct where){ GPUSIM_SEG_SYS, 0 };
		break;
	case GPUSIM_EV_DEMOTE:
	case GPUSIM_EV_PROMOTE:
	case GPUSIM_EV_MOVE:
	case GPUSIM_EV_PAGE_IN:
	case GPUSIM_EV_PLACE:
		o->demotes += e->type == GPUSIM_EV_DEMOTE;
		o->promotes += e->type == GPUSIM_EV_PROMOTE;
		if (allowed && !(allowed & (1u << e->segment)) && !o->bad++)
			snprintf(o->why, sizeof(o->why), "0x%x placed in %s, outside its placement", e->allocation,
				 gpusim_segment_name(e->segment));
		mark(o, w->seg, w->off, e->size, 0);
		mark(o, e->segment, e->offset, e->size, 1);
		*w = (struct where){ e->segment, e->offset };
		break;
	default:
		break;
	}
}

static void occupancy_start(struct occupancy *o, struct kt_gpu *g)
{
	memset(o, 0, sizeof(*o));
	memset(last, 0, sizeof(last));
	struct gpusim_stats st = kt_stats(g);
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++) {
		o->pages[s] = st.seg[s].size / 4096;
		ck_assert_uint_le(o->pages[s], PAGES_MAX);
	}
	/* What is already placed (the helpers' result buffer) takes its pages. */
	struct gpusim_alloc_info info = kt_query(g->result);
	mark(o, info.segment, info.offset, info.size, 1);
	last[slot(g->result)] = (struct where){ info.segment, info.offset };
	KT_ST_EQ(gpusim_subscribe(g->luid, on_event, o), STATUS_SUCCESS);
}

/* ---- the story: written and submitted, never to system memory ---- */

START_TEST(test_written_and_submitted_stay_in_vram)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=16M,visible=4M,gart=8M");
	D3DKMT_HANDLE h[8];
	for (int i = 0; i < 8; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
		/* The CPU's write moves it behind BAR2 ... */
		KT_ST_EQ(kt_write(g.device, h[i], MIB, 100u + (uint32_t)i), STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_VISIBLE);
		/* ... and the GPU's use brings it home, where there is room. */
		kt_cmd_begin(&g);
		kt_cmd_use(&g, h[i]);
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
		ck_assert_uint_eq(kt_segment(h[i]), GPUSIM_SEG_INVISIBLE);
	}
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.bytes_out, 0);
	ck_assert_uint_eq(st.moves, 8);      /* the locks */
	ck_assert_uint_eq(st.promotions, 8); /* the submissions */
	ck_assert_uint_eq(st.seg[GPUSIM_SEG_INVISIBLE].used, 8 * MIB);
	for (int i = 0; i < 8; i++)
		ck_assert(kt_verify(g.device, h[i], MIB, 100u + (uint32_t)i));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* The same at scale: writes fill visible VRAM over and over; what they push out
 * goes down to invisible VRAM, and nothing reaches system memory while VRAM has
 * room. */
START_TEST(test_no_eviction_while_vram_has_room)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=64M,visible=8M,gart=32M,sysmem=512M");
	enum { N = 200 };
	static D3DKMT_HANDLE h[N];
	for (int i = 0; i < N; i++) {
		KT_ST_EQ(kt_alloc(&g, 256 * 1024, 0, 0, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(g.device, h[i], 256 * 1024, (uint32_t)i + 1), STATUS_SUCCESS);
		if (i % 2) /* half of them the GPU never uses again: they stay where the lock put them */
			continue;
		kt_cmd_begin(&g);
		kt_cmd_use(&g, h[i]);
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.bytes_out, 0);
	ck_assert_uint_gt(st.demotions, 0);
	for (int i = 0; i < N; i++) {
		uint32_t s = kt_segment(h[i]);
		ck_assert(s == GPUSIM_SEG_VISIBLE || s == GPUSIM_SEG_INVISIBLE);
	}
	for (int i = 0; i < N; i += 17)
		ck_assert(kt_verify(g.device, h[i], 256 * 1024, (uint32_t)i + 1));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* A demotion is a copy-engine move inside VRAM: an event of its own, counted
 * apart, no bytes across the bus, the bytes intact. */
START_TEST(test_demotion_visible_to_invisible)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=16M,visible=4M,gart=8M");
	D3DKMT_HANDLE t, c[3];
	KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &t), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, t, MIB, 7), STATUS_SUCCESS); /* now in visible VRAM */
	ck_assert_uint_eq(kt_segment(t), GPUSIM_SEG_VISIBLE);
	struct gpusim_stats s0 = kt_stats(&g);
	struct occupancy *o = calloc(1, sizeof(*o));
	occupancy_start(o, &g);
	o->allowed[slot(t)] = KT_SEG(VISIBLE) | KT_SEG(INVISIBLE) | KT_SEG(GART);
	/* Three CPU buffers need visible VRAM (3.7 MiB usable): t is the oldest. */
	for (int i = 0; i < 3; i++)
		KT_ST_EQ(kt_alloc(&g, MIB, GPUSIM_SEG_VISIBLE, KT_SEG(VISIBLE), &c[i]), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(t), GPUSIM_SEG_INVISIBLE);
	struct gpusim_stats s1 = kt_stats(&g);
	ck_assert_uint_eq(s1.demotions, s0.demotions + 1);
	ck_assert_uint_eq(s1.evictions, s0.evictions);
	ck_assert_uint_eq(s1.bytes_in, s0.bytes_in);
	ck_assert_uint_eq(s1.bytes_out, s0.bytes_out);
	ck_assert_uint_eq(o->demotes, 1);
	ck_assert_msg(!o->bad, "%s", o->why);
	gpusim_unsubscribe(g.luid, on_event, o);
	ck_assert(kt_verify(g.device, t, MIB, 7));
	free(o);
	kt_teardown(&g);
}
END_TEST

/* Under real oversubscription, what goes to system memory is exactly what fits
 * nowhere in its placement: checked at every eviction against a replay of the
 * event stream. Two kinds of allocations: VRAM-only ones and ones that may also
 * live in the GART. */
START_TEST(test_sys_only_when_nowhere_in_placement)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=16M,visible=4M,gart=8M,sysmem=256M");
	struct occupancy *o = calloc(1, sizeof(*o));
	occupancy_start(o, &g);
	enum { N = 40 };
	D3DKMT_HANDLE h[N];
	uint64_t s = 12345;
	for (int i = 0; i < N; i++) {
		uint32_t allowed = i % 3 ? KT_SEG(VISIBLE) | KT_SEG(INVISIBLE)
					 : KT_SEG(VISIBLE) | KT_SEG(INVISIBLE) | KT_SEG(GART);
		struct gpusim_alloc_desc d = kt_desc(MIB, i % 5 == 0 ? GPUSIM_ALLOC_CPU_VISIBLE : 0, 0, allowed);
		KT_ST_EQ(kt_alloc_on(g.device, &d, &h[i]), STATUS_SUCCESS);
		o->allowed[slot(h[i])] = allowed;
		KT_ST_EQ(kt_write(g.device, h[i], MIB, (uint32_t)i + 1), STATUS_SUCCESS);
	}
	/* 40 MiB on 15.7 MiB of VRAM and 7 MiB of GART: frames of random sets. */
	for (int f = 0; f < 60; f++) {
		kt_cmd_begin(&g);
		for (int k = 0; k < 6; k++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			kt_cmd_use(&g, h[(s >> 33) % N]);
		}
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
		if (f % 7 == 3) { /* the CPU reads one: a lock that moves it */
			int i = (int)((s >> 40) % N);
			ck_assert(kt_verify(g.device, h[i], MIB, (uint32_t)i + 1));
		}
	}
	kt_idle(&g);
	ck_assert_msg(!o->bad, "%s", o->why);
	ck_assert_uint_gt(o->evicts, 10);  /* not vacuous: it was oversubscribed */
	ck_assert_uint_gt(o->demotes, 10); /* and pushed things down, not only out */
	gpusim_unsubscribe(g.luid, on_event, o);
	for (int i = 0; i < N; i++)
		ck_assert(kt_verify(g.device, h[i], MIB, (uint32_t)i + 1));
	kt_assert_invariants(&g);
	free(o);
	kt_teardown(&g);
}
END_TEST

/* An allocation pushed down to its fallback stays there while its preferred
 * segment is full, and goes back on its next use once there is room. */
START_TEST(test_promotion_needs_room)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=4M,gart=8M");
	D3DKMT_HANDLE a, fill[4];
	struct gpusim_alloc_desc d = kt_desc(MIB, 0, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE) | KT_SEG(GART));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &a), STATUS_SUCCESS);
	KT_ST_EQ(kt_write(g.device, a, MIB, 9), STATUS_SUCCESS); /* the lock moves it to the GART */
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_GART);
	for (int i = 0; i < 4; i++) /* invisible VRAM (4 MiB) full of pinned data */
		KT_ST_EQ(kt_alloc_on(g.device,
				     &(struct gpusim_alloc_desc){ .version = GPUSIM_ALLOC_DESC_VERSION,
								  .flags = GPUSIM_ALLOC_PINNED, .size = MIB,
								  .allowed = KT_SEG(INVISIBLE) },
				     &fill[i]),
			 STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_use(&g, a);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_GART);
	ck_assert_uint_eq(kt_stats(&g).promotions, 0);
	KT_ST_EQ(kt_free(g.device, fill[2]), STATUS_SUCCESS);
	kt_cmd_begin(&g);
	kt_cmd_use(&g, a);
	KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(a), GPUSIM_SEG_INVISIBLE);
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_eq(st.promotions, 1);
	ck_assert_uint_eq(st.bytes_in, MIB); /* GART to VRAM crossed the bus */
	ck_assert(kt_verify(g.device, a, MIB, 9));
	kt_teardown(&g);
}
END_TEST

/* visible = vram: no invisible segment. A GPU allocation lives behind BAR2 (a
 * lock moves nothing), what does not fit goes to the next segment of its
 * placement, the GART, and pressure pushes data down there too. */
START_TEST(test_resizable_bar)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=8M,visible=8M,gart=16M");
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_eq(st.seg[GPUSIM_SEG_INVISIBLE].size, 0);
	D3DKMT_HANDLE h[10], p;
	for (int i = 0; i < 10; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		KT_ST_EQ(kt_write(g.device, h[i], MIB, (uint32_t)i + 1), STATUS_SUCCESS);
		kt_cmd_begin(&g);
		kt_cmd_use(&g, h[i]);
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	st = kt_stats(&g);
	ck_assert_uint_eq(st.moves, 0);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_VISIBLE);
	ck_assert_uint_eq(kt_segment(h[9]), GPUSIM_SEG_GART);
	/* A pinned VRAM-only allocation needs room: the oldest goes down to the GART. */
	struct gpusim_alloc_desc d = kt_desc(MIB, GPUSIM_ALLOC_PINNED, 0, KT_SEG(VISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &p), STATUS_SUCCESS);
	st = kt_stats(&g);
	ck_assert_uint_eq(st.demotions, 1);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_GART);
	for (int i = 0; i < 10; i++)
		ck_assert(kt_verify(g.device, h[i], MIB, (uint32_t)i + 1));
	kt_assert_invariants(&g);
	kt_teardown(&g);
}
END_TEST

/* pools=2: the VRAM beyond BAR2 is two segments. The manager fills the first,
 * then the second, and pushes from one to the other before anything leaves
 * VRAM; budgets and usage count both as local. */
START_TEST(test_two_pools)
{
	struct kt_gpu g;
	kt_setup(&g, "vram=12M,visible=4M,gart=8M,pools=2");
	struct gpusim_stats st = kt_stats(&g);
	ck_assert_uint_eq(st.seg[GPUSIM_SEG_INVISIBLE].size, 4 * MIB);
	ck_assert_uint_eq(st.seg[GPUSIM_SEG_VRAM2].size, 4 * MIB);
	ck_assert_uint_eq(st.budget_local, st.seg[GPUSIM_SEG_VISIBLE].size + 8 * MIB);
	D3DKMT_HANDLE h[8], p;
	uint64_t local0 = st.usage_local;
	for (int i = 0; i < 8; i++) {
		KT_ST_EQ(kt_alloc(&g, MIB, 0, 0, &h[i]), STATUS_SUCCESS);
		kt_cmd_begin(&g);
		kt_cmd_fill(&g, h[i], MIB, 0x1000u + (uint32_t)i);
		KT_ST_EQ(kt_cmd_submit(&g), STATUS_SUCCESS);
	}
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_INVISIBLE);
	ck_assert_uint_eq(kt_segment(h[7]), GPUSIM_SEG_VRAM2);
	ck_assert_uint_eq(kt_stats(&g).usage_local, local0 + 8 * MIB);
	/* A pinned allocation that must live in the first pool pushes h[0] (the
	 * oldest there) to the next segment of its placement with room: visible. */
	struct gpusim_alloc_desc d = kt_desc(MIB, GPUSIM_ALLOC_PINNED, GPUSIM_SEG_INVISIBLE, KT_SEG(INVISIBLE));
	KT_ST_EQ(kt_alloc_on(g.device, &d, &p), STATUS_SUCCESS);
	st = kt_stats(&g);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.demotions, 1);
	ck_assert_uint_eq(kt_segment(h[0]), GPUSIM_SEG_VISIBLE);
	/* A placement may name the second pool. */
	D3DKMT_HANDLE q;
	struct gpusim_alloc_desc d2 = kt_desc(MIB, 0, GPUSIM_SEG_VRAM2, 0);
	KT_ST_EQ(kt_alloc_on(g.device, &d2, &q), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_query(q).gpu_address, 8 * MIB + kt_query(q).offset);
	kt_assert_invariants(&g);
	kt_teardown(&g);
	/* Without pools=2 the second pool is an unknown preference: skipped. */
	kt_setup(&g, "vram=12M,visible=4M,gart=8M");
	KT_ST_EQ(kt_alloc_on(g.device, &d2, &q), STATUS_SUCCESS);
	ck_assert_uint_eq(kt_segment(q), GPUSIM_SEG_INVISIBLE);
	kt_teardown(&g);
}
END_TEST

/* A configuration of two pools needs VRAM beyond BAR2 to split. */
START_TEST(test_two_pools_config)
{
	struct gpusim_config cfg;
	char err[200];
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=16M,visible=16M,pools=2", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "pools=2"));
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "pools=3", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "pools must be 1 or 2"));
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=16M,visible=4M,pools=2", err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.vram_pools, 2);
}
END_TEST

Suite *kmt_placement_suite(void)
{
	Suite *s = suite_create("kmt_placement");
	TCase *tc = tcase_create("demotion");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_written_and_submitted_stay_in_vram);
	tcase_add_test(tc, test_no_eviction_while_vram_has_room);
	tcase_add_test(tc, test_demotion_visible_to_invisible);
	tcase_add_test(tc, test_sys_only_when_nowhere_in_placement);
	tcase_add_test(tc, test_promotion_needs_room);
	suite_add_tcase(s, tc);
	tc = tcase_create("configurations");
	tcase_add_test(tc, test_resizable_bar);
	tcase_add_test(tc, test_two_pools);
	tcase_add_test(tc, test_two_pools_config);
	suite_add_tcase(s, tc);
	return s;
}
