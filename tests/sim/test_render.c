/*
 * The SDL viewer's pixels: models built from known event sequences and scenarios
 * are rendered headless (software renderer) and checked where an allocation must
 * be, where nothing is, and what an eviction, a colour mode or a comparison changes.
 */
#include <config.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>

#include <gpusim/trace.h>

#include "sim/scenario/scenario.h"
#include "sim/view/app.h"
#include "sim/view/font.h"
#include "sim/view/model.h"
#include "sim/view/render.h"

Suite *sim_render_suite(void);

#define KiB 1024ull
#define MiB (1024ull * 1024ull)

#define VIS GPUSIM_SEG_VISIBLE
#define INV GPUSIM_SEG_INVISIBLE
#define GART GPUSIM_SEG_GART
#define SYS GPUSIM_SEG_SYS
#define VRAM2 GPUSIM_SEG_VRAM2

#define PRIO_MIN D3DDDI_ALLOCATIONPRIORITY_MINIMUM
#define PRIO_NORMAL D3DDDI_ALLOCATIONPRIORITY_NORMAL
#define PRIO_MAX D3DDDI_ALLOCATIONPRIORITY_MAXIMUM

#define DEV0 0x40001001u
#define DEV1 0x40001041u
/* Handles as the kernel makes them: 0x40000000 | index << 6 | generation. */
#define H(i) (0x40000000u | (uint32_t)(i) << 6 | 1u)

#define W 1280
#define HT 800

/* 4 MiB visible, 12 MiB invisible, an 8 MiB GART. */
static struct gpusim_trace_adapter adapter(void)
{
	struct gpusim_trace_adapter ad;
	memset(&ad, 0, sizeof(ad));
	ad.vram = 16 * MiB;
	ad.visible = 4 * MiB;
	ad.gart = 8 * MiB;
	ad.sysmem = 256 * MiB;
	ad.seg_size[VIS] = 4 * MiB;
	ad.seg_size[INV] = 12 * MiB;
	ad.seg_size[GART] = 8 * MiB;
	ad.budget_local = 16 * MiB;
	ad.budget_nonlocal = 8 * MiB;
	strcpy(ad.policy, "priority-lru");
	return ad;
}

static uint64_t clock_ns;

static void rec_init(struct vm_recording *r)
{
	vm_recording_init(r);
	r->adapter = adapter();
	clock_ns = 0;
}

/* One event; paging events carry their size as the bytes copied. */
static void ev(struct vm_recording *r, uint32_t type, uint32_t h, uint32_t dev, uint32_t seg, uint32_t from,
	       uint64_t off, uint64_t size, uint32_t prio, uint32_t pref)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	clock_ns += 1000;
	it.event.type = type;
	it.event.cause = type == GPUSIM_EV_CREATE ? GPUSIM_CAUSE_CREATE : GPUSIM_CAUSE_PRESSURE;
	it.event.time_ns = clock_ns;
	it.event.device = dev;
	it.event.allocation = h;
	it.event.segment = seg;
	it.event.from_segment = from;
	it.event.offset = off;
	it.event.size = size;
	it.event.value = type == GPUSIM_EV_CREATE ? 0 : size;
	it.event.priority = prio;
	it.event.preferred = pref;
	vm_recording_add(r, &it);
}

static void create(struct vm_recording *r, uint32_t h, uint32_t seg, uint64_t off, uint64_t size, uint32_t pref)
{
	ev(r, GPUSIM_EV_CREATE, h, DEV0, seg, 0, off, size, PRIO_NORMAL, pref);
}

static void name(struct vm_recording *r, uint32_t h, const char *n)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_NAME;
	it.allocation = h;
	it.device = DEV0;
	snprintf(it.name, sizeof(it.name), "%s", n);
	vm_recording_add(r, &it);
}

static uint32_t pixel(const SDL_Surface *s, int x, int y)
{
	ck_assert(x >= 0 && y >= 0 && x < s->w && y < s->h);
	const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + (size_t)y * s->pitch);
	return row[x] & 0xffffff;
}

static SDL_Surface *render(const struct vm_model *m, enum vw_colour_mode mode, int w, int h)
{
	struct vw_options opt = { .colour = mode };
	SDL_Surface *s = vw_render_surface(m, &opt, w, h);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->format->format, SDL_PIXELFORMAT_ARGB8888);
	ck_assert_int_eq(s->w, w);
	ck_assert_int_eq(s->h, h);
	return s;
}

static uint32_t colour(const struct vm_model *m, uint32_t h, enum vw_colour_mode mode)
{
	const struct vm_alloc *a = vm_find(m, h);
	ck_assert_ptr_nonnull(a);
	return vw_alloc_rgb(m, a, mode);
}

static const struct vw_strip *strip_of(const struct vw_layout *L, uint32_t seg)
{
	for (int i = 0; i < L->nstrips; i++)
		if (L->strip[i].seg == seg)
			return &L->strip[i];
	ck_abort_msg("no strip for segment %u", seg);
	return NULL;
}

static size_t count_rgb(const SDL_Surface *s, struct vw_rect r, uint32_t rgb)
{
	size_t n = 0;
	for (int y = r.y; y < r.y + r.h; y++)
		for (int x = r.x; x < r.x + r.w; x++)
			n += pixel(s, x, y) == rgb;
	return n;
}

/* Three allocations, one per segment, with names. */
static void three(struct vm_recording *r)
{
	rec_init(r);
	create(r, H(1), VIS, 0, 1 * MiB, VIS);
	name(r, H(1), "ui0");
	create(r, H(2), INV, 2 * MiB, 3 * MiB, INV);
	name(r, H(2), "texture");
	create(r, H(3), GART, 1 * MiB, 1 * MiB, GART);
	name(r, H(3), "staging");
}

START_TEST(test_colour_at_located_allocation)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	for (int i = 1; i <= 3; i++) {
		int x, y;
		ck_assert_msg(vw_locate(&m, H(i), W, HT, &x, &y), "allocation %d not on a strip", i);
		ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(i), VW_COLOUR_ALLOCATION));
	}
	/* Each on its own segment's strip. */
	int x, y, sx, sy, sw, sh;
	ck_assert(vw_locate(&m, H(2), W, HT, &x, &y));
	ck_assert(vw_strip_rect(&m, INV, W, HT, &sx, &sy, &sw, &sh));
	ck_assert(x >= sx && x < sx + sw && y >= sy && y < sy + sh);
	/* Distinct handles, distinct colours (here). */
	ck_assert_uint_ne(colour(&m, H(1), VW_COLOUR_ALLOCATION), colour(&m, H(2), VW_COLOUR_ALLOCATION));
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

static bool inside(int x, int y, const struct vm_model *m, uint32_t seg)
{
	int sx, sy, sw, sh;
	ck_assert_msg(vw_strip_rect(m, seg, W, HT, &sx, &sy, &sw, &sh), "no strip for segment %u", seg);
	return x >= sx && x < sx + sw && y >= sy && y < sy + sh;
}

/* pools=2: a strip for the second pool (vram2) beside invisible VRAM, before the
 * GART; an allocation demoted into it is drawn there, not in system memory, and
 * one promoted back out leaves it free. */
START_TEST(test_vram2_strip)
{
	struct vm_recording r;
	rec_init(&r);
	r.adapter.seg_size[INV] = 6 * MiB;
	r.adapter.seg_size[VRAM2] = 6 * MiB;
	create(&r, H(1), INV, 1 * MiB, 2 * MiB, INV);
	name(&r, H(1), "tex");
	create(&r, H(2), INV, 0, 1 * MiB, INV);
	ev(&r, GPUSIM_EV_DEMOTE, H(1), DEV0, VRAM2, INV, 1 * MiB, 2 * MiB, PRIO_NORMAL, INV);
	ev(&r, GPUSIM_EV_PROMOTE, H(1), DEV0, INV, VRAM2, 3 * MiB, 2 * MiB, PRIO_NORMAL, INV);
	struct vm_model created, demoted, promoted;
	vm_replay(&created, &r, 3);
	vm_replay(&demoted, &r, 4);
	vm_replay(&promoted, &r, r.nitems);

	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	ck_assert_int_eq(vw_frame_build(&f, &demoted, &v, W, HT), 0);
	ck_assert_int_eq(f.L.nstrips, 4);
	ck_assert_uint_eq(f.L.strip[0].seg, VIS);
	ck_assert_uint_eq(f.L.strip[1].seg, INV);
	ck_assert_uint_eq(f.L.strip[2].seg, VRAM2);
	ck_assert_uint_eq(f.L.strip[3].seg, GART);
	ck_assert_uint_eq(f.evicted_count, 0); /* in VRAM, not evicted */
	ck_assert_uint_eq(f.unplaced, 0);
	int x, y, ex, ey;
	ck_assert(vw_frame_find(&f, H(1), false, &x, &y));
	ck_assert(!vw_frame_find(&f, H(1), true, &ex, &ey));
	ck_assert(inside(x, y, &demoted, VRAM2));
	ck_assert_uint_eq(vw_frame_hit(&f, x, y), H(1));
	uint32_t seg;
	uint64_t byte;
	ck_assert(vw_frame_byte_at(&f, x, y, &seg, &byte));
	ck_assert_uint_eq(seg, VRAM2);
	ck_assert(byte >= 1 * MiB && byte < 3 * MiB);
	/* The largest free block of the pool: its 3 MiB after the allocation. */
	ck_assert_uint_eq(f.largest_off[VRAM2], 3 * MiB);
	ck_assert_uint_eq(f.largest_len[VRAM2], 3 * MiB);
	vw_frame_free(&f);

	/* The pixels: its colour in the vram2 strip; before, in invisible VRAM. */
	uint32_t rgb = colour(&demoted, H(1), VW_COLOUR_ALLOCATION);
	SDL_Surface *s0 = render(&created, VW_COLOUR_ALLOCATION, W, HT);
	SDL_Surface *s1 = render(&demoted, VW_COLOUR_ALLOCATION, W, HT);
	SDL_Surface *s2 = render(&promoted, VW_COLOUR_ALLOCATION, W, HT);
	int cx, cy;
	ck_assert(vw_locate(&created, H(1), W, HT, &cx, &cy));
	ck_assert(inside(cx, cy, &created, INV));
	ck_assert_uint_eq(pixel(s0, cx, cy), rgb);
	ck_assert_uint_eq(pixel(s0, x, y), VW_RGB_FREE); /* the pool was empty */
	ck_assert_uint_eq(pixel(s1, x, y), rgb);
	ck_assert_uint_eq(pixel(s1, cx, cy), VW_RGB_FREE);
	ck_assert_uint_eq(pixel(s2, x, y), VW_RGB_FREE);
	int px, py;
	ck_assert(vw_locate(&promoted, H(1), W, HT, &px, &py));
	ck_assert(inside(px, py, &promoted, INV));
	ck_assert_uint_eq(pixel(s2, px, py), rgb);
	SDL_FreeSurface(s0);
	SDL_FreeSurface(s1);
	SDL_FreeSurface(s2);

	/* One pool: three strips, as always. */
	struct vm_recording one;
	struct vm_model m1;
	three(&one);
	vm_replay(&m1, &one, one.nitems);
	ck_assert_int_eq(vw_frame_build(&f, &m1, &v, W, HT), 0);
	ck_assert_int_eq(f.L.nstrips, 3);
	for (int i = 0; i < f.L.nstrips; i++)
		ck_assert_uint_ne(f.L.strip[i].seg, VRAM2);
	vw_frame_free(&f);
	vm_free(&m1);
	vm_recording_free(&one);
	vm_free(&created);
	vm_free(&demoted);
	vm_free(&promoted);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_every_colour_mode)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	ev(&r, GPUSIM_EV_CREATE, H(1), DEV0, VIS, 0, 0, 1 * MiB, PRIO_MIN, VIS);
	ev(&r, GPUSIM_EV_CREATE, H(2), DEV1, INV, 0, 0, 2 * MiB, PRIO_MAX, INV);
	ev(&r, GPUSIM_EV_CREATE, H(3), DEV0, GART, 0, 0, 1 * MiB, PRIO_NORMAL, VIS);
	for (int i = 0; i < 20; i++)  /* time passes */
		ev(&r, GPUSIM_EV_SUBMIT, 0, DEV0, 0, 0, 0, 0, 0, 0);
	ev(&r, GPUSIM_EV_LOCK, H(1), DEV0, VIS, 0, 0, 1 * MiB, PRIO_MIN, VIS);  /* H(1) used just now */
	vm_replay(&m, &r, r.nitems);
	for (int mode = 0; mode < VW_COLOUR_MODES; mode++) {
		SDL_Surface *s = render(&m, (enum vw_colour_mode)mode, W, HT);
		for (int i = 1; i <= 3; i++) {
			int x, y;
			ck_assert(vw_locate(&m, H(i), W, HT, &x, &y));
			ck_assert_msg(pixel(s, x, y) == colour(&m, H(i), (enum vw_colour_mode)mode),
				      "mode %s, allocation %d: %06x, want %06x", vw_colour_name(mode), i, pixel(s, x, y),
				      colour(&m, H(i), (enum vw_colour_mode)mode));
		}
		SDL_FreeSurface(s);
	}
	/* Priority: minimum is blue, maximum red. */
	uint32_t lo = colour(&m, H(1), VW_COLOUR_PRIORITY), hi = colour(&m, H(2), VW_COLOUR_PRIORITY);
	ck_assert_uint_gt(lo & 0xff, lo >> 16);
	ck_assert_uint_gt(hi >> 16, hi & 0xff);
	/* Device: one colour per device. */
	ck_assert_uint_eq(colour(&m, H(1), VW_COLOUR_DEVICE), colour(&m, H(3), VW_COLOUR_DEVICE));
	ck_assert_uint_ne(colour(&m, H(1), VW_COLOUR_DEVICE), colour(&m, H(2), VW_COLOUR_DEVICE));
	/* Age: the one used last is brighter. */
	uint32_t young = colour(&m, H(1), VW_COLOUR_AGE), old = colour(&m, H(2), VW_COLOUR_AGE);
	ck_assert_uint_gt((young >> 16) + (young >> 8 & 0xff) + (young & 0xff),
			  (old >> 16) + (old >> 8 & 0xff) + (old & 0xff));
	/* Preferred: H(3) prefers visible but lives in the GART. */
	ck_assert_uint_eq(colour(&m, H(3), VW_COLOUR_PREFERRED), VW_RGB_OUT_PREF);
	ck_assert_uint_eq(colour(&m, H(1), VW_COLOUR_PREFERRED), VW_RGB_IN_PREF);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_empty_strip_is_free)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), VIS, 0, 2 * MiB, VIS);
	create(&r, H(2), INV, 0, 12 * MiB, INV);
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	const struct vw_map *mp = &strip_of(&L, GART)->map;
	int x, y, sw, sh;
	ck_assert(vw_strip_rect(&m, GART, W, HT, &x, &y, &sw, &sh));
	ck_assert_int_eq(x, mp->r.x);
	ck_assert_int_eq(y, mp->r.y);
	ck_assert_int_eq(sw, mp->r.w);
	ck_assert_int_eq(sh, mp->r.h);
	ck_assert_int_gt(mp->rows, 0);
	for (int row = 0; row < mp->rows; row++) {
		int ly = mp->r.y + row * (mp->row_h + mp->gap) + mp->row_h / 2;
		for (int lx = mp->r.x; lx < mp->r.x + mp->r.w; lx++)
			ck_assert_msg(pixel(s, lx, ly) == VW_RGB_FREE, "(%d, %d) is %06x", lx, ly, pixel(s, lx, ly));
	}
	/* The full invisible strip has no free pixel on its middle lines. */
	mp = &strip_of(&L, INV)->map;
	for (int row = 0; row < mp->rows; row++) {
		int ly = mp->r.y + row * (mp->row_h + mp->gap) + 1;
		for (int lx = mp->r.x; lx < mp->r.x + mp->r.w; lx++)
			ck_assert_uint_ne(pixel(s, lx, ly), VW_RGB_FREE);
	}
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_eviction_frees_the_place)
{
	struct vm_recording r;
	struct vm_model before, after;
	rec_init(&r);
	create(&r, H(1), VIS, 1 * MiB, 1 * MiB, VIS);
	create(&r, H(2), VIS, 0, 1 * MiB, VIS);
	ev(&r, GPUSIM_EV_EVICT, H(1), DEV0, SYS, VIS, 1 * MiB, 1 * MiB, PRIO_NORMAL, VIS);
	vm_replay(&before, &r, 2);
	vm_replay(&after, &r, 3);
	int x, y;
	ck_assert(vw_locate(&before, H(1), W, HT, &x, &y));
	SDL_Surface *s0 = render(&before, VW_COLOUR_ALLOCATION, W, HT);
	SDL_Surface *s1 = render(&after, VW_COLOUR_ALLOCATION, W, HT);
	uint32_t rgb = colour(&before, H(1), VW_COLOUR_ALLOCATION);
	ck_assert_uint_eq(pixel(s0, x, y), rgb);
	ck_assert_uint_eq(pixel(s1, x, y), VW_RGB_FREE);
	int ex, ey;
	ck_assert(!vw_locate(&after, H(1), W, HT, &ex, &ey));
	/* It is in the system-memory panel now, in its colour. */
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	ck_assert_int_eq(vw_frame_build(&f, &after, &v, W, HT), 0);
	ck_assert(vw_frame_find(&f, H(1), true, &ex, &ey));
	ck_assert(ex >= f.L.sys.x && ex < f.L.sys.x + f.L.sys.w && ey >= f.L.sys.y && ey < f.L.sys.y + f.L.sys.h);
	ck_assert_uint_eq(pixel(s1, ex, ey), rgb);
	ck_assert_uint_eq(f.evicted_count, 1);
	ck_assert_uint_eq(f.evicted_bytes, 1 * MiB);
	ck_assert_uint_eq(vw_frame_hit(&f, ex, ey), H(1));
	/* Before the eviction that spot of the panel was empty. */
	ck_assert_uint_ne(pixel(s0, ex, ey), rgb);
	/* The other allocation did not move. */
	ck_assert(vw_locate(&after, H(2), W, HT, &x, &y));
	ck_assert_uint_eq(pixel(s1, x, y), colour(&after, H(2), VW_COLOUR_ALLOCATION));
	vw_frame_free(&f);
	SDL_FreeSurface(s0);
	SDL_FreeSurface(s1);
	vm_free(&before);
	vm_free(&after);
	vm_recording_free(&r);
}
END_TEST

/* The visible strip's usage bar at its left end, where it is filled. */
static uint32_t bar_colour(const struct vm_recording *r, uint32_t *frame_rgb)
{
	struct vm_model m;
	vm_replay(&m, r, r->nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, &m, &v, W, HT);
	const struct vw_strip *st = strip_of(&f.L, VIS);
	uint32_t rgb = pixel(s, st->bar.x + 1, st->bar.y + st->bar.h / 2);
	*frame_rgb = vw_usage_rgb(&f, VIS);
	vw_frame_free(&f);
	SDL_FreeSurface(s);
	vm_free(&m);
	return rgb;
}

START_TEST(test_usage_bar_colours)
{
	struct vm_recording r;
	uint32_t rgb;
	rec_init(&r);  /* half full: green */
	create(&r, H(1), VIS, 0, 2 * MiB, VIS);
	ck_assert_uint_eq(bar_colour(&r, &rgb), VW_RGB_OK);
	ck_assert_uint_eq(rgb, VW_RGB_OK);
	vm_recording_free(&r);

	rec_init(&r);  /* 87.5% full: amber */
	create(&r, H(1), VIS, 0, 3 * MiB + 512 * KiB, VIS);
	ck_assert_uint_eq(bar_colour(&r, &rgb), VW_RGB_WARN);
	ck_assert_uint_eq(rgb, VW_RGB_WARN);
	vm_recording_free(&r);

	/* Oversubscribed: 3 MiB placed, 2 MiB more that prefer visible wait in system
	 * memory; the segment is only 75% full but wanted 5 MiB of 4. */
	rec_init(&r);
	create(&r, H(1), VIS, 0, 3 * MiB, VIS);
	create(&r, H(2), SYS, 0, 2 * MiB, VIS);
	ck_assert_uint_eq(bar_colour(&r, &rgb), VW_RGB_OVER);
	ck_assert_uint_eq(rgb, VW_RGB_OVER);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_preferred_mode_shows_misplaced)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), VIS, 0, 1 * MiB, INV);      /* wants invisible, got visible */
	create(&r, H(2), VIS, 1 * MiB, 1 * MiB, VIS);  /* where it wants to be */
	create(&r, H(3), SYS, 0, 1 * MiB, GART);      /* in system memory, wants the GART */
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_PREFERRED, W, HT);
	int x, y;
	ck_assert(vw_locate(&m, H(1), W, HT, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_OUT_PREF);
	ck_assert(vw_locate(&m, H(2), W, HT, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_IN_PREF);
	struct vw_view v;
	struct vw_frame f;
	struct vw_options opt = { .colour = VW_COLOUR_PREFERRED };
	vw_view_init(&v, &opt);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert(vw_frame_find(&f, H(3), true, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_OUT_PREF);
	vw_frame_free(&f);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_resize_keeps_allocations_findable)
{
	static const int sizes[][2] = { { 1280, 800 }, { 800, 500 }, { 1920, 1080 }, { 640, 400 }, { 1100, 680 } };
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	int px = -1, pw = -1;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int w = sizes[k][0], h = sizes[k][1];
		SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, w, h);
		int x, y, sx, sy, sw, sh;
		ck_assert(vw_strip_rect(&m, VIS, w, h, &sx, &sy, &sw, &sh));
		ck_assert(sx + sw <= w && sy + sh <= h);
		ck_assert_msg(sw != pw || sx != px, "the layout did not follow the size %dx%d", w, h);
		px = sx;
		pw = sw;
		for (int i = 1; i <= 3; i++) {
			ck_assert_msg(vw_locate(&m, H(i), w, h, &x, &y), "allocation %d lost at %dx%d", i, w, h);
			ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(i), VW_COLOUR_ALLOCATION));
		}
		SDL_FreeSurface(s);
	}
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

static bool same_pixels(const SDL_Surface *a, const SDL_Surface *b)
{
	if (a->w != b->w || a->h != b->h)
		return false;
	for (int y = 0; y < a->h; y++)
		if (memcmp((const uint8_t *)a->pixels + (size_t)y * a->pitch, (const uint8_t *)b->pixels + (size_t)y * b->pitch,
			   (size_t)a->w * 4))
			return false;
	return true;
}

START_TEST(test_renders_are_deterministic)
{
	struct vm_recording r;
	struct vm_model m1, m2;
	three(&r);
	ev(&r, GPUSIM_EV_EVICT, H(1), DEV0, SYS, VIS, 0, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0x1000, 0, 0, 0);
	vm_replay(&m1, &r, r.nitems);
	vm_replay(&m2, &r, r.nitems);
	for (int mode = 0; mode < VW_COLOUR_MODES; mode++) {
		SDL_Surface *a = render(&m1, (enum vw_colour_mode)mode, W, HT);
		SDL_Surface *b = render(&m1, (enum vw_colour_mode)mode, W, HT);
		SDL_Surface *c = render(&m2, (enum vw_colour_mode)mode, W, HT);
		ck_assert(same_pixels(a, b));
		ck_assert(same_pixels(a, c));
		SDL_FreeSurface(a);
		SDL_FreeSurface(b);
		SDL_FreeSurface(c);
	}
	vm_free(&m1);
	vm_free(&m2);
	vm_recording_free(&r);
}
END_TEST

static char tmpdir[64];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_view.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static SDL_Surface *load_bmp(const char *path)
{
	SDL_Surface *raw = SDL_LoadBMP(path);
	ck_assert_msg(raw != NULL, "SDL_LoadBMP(%s): %s", path, SDL_GetError());
	SDL_Surface *s = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_ARGB8888, 0);
	SDL_FreeSurface(raw);
	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(test_vw_run_writes_a_bmp)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	make_tmpdir();
	char path[128], err[256] = "";
	snprintf(path, sizeof(path), "%s/end.bmp", tmpdir);
	struct vw_options opt = { .width = 1024, .height = 700, .screenshot = path, .frames = 1, .start_at_end = true };
	ck_assert_msg(vw_run(&r, &opt, err, sizeof(err)) == 0, "vw_run: %s", err);
	SDL_Surface *s = load_bmp(path);
	ck_assert_int_eq(s->w, 1024);
	ck_assert_int_eq(s->h, 700);
	for (int i = 1; i <= 3; i++) {
		int x, y;
		ck_assert(vw_locate(&m, H(i), 1024, 700, &x, &y));
		ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(i), VW_COLOUR_ALLOCATION));
	}
	/* The file holds exactly what vw_render_surface draws. */
	SDL_Surface *direct = render(&m, VW_COLOUR_ALLOCATION, 1024, 700);
	ck_assert_uint_eq(count_rgb(direct, (struct vw_rect){ 0, 0, 1024, 700 }, VW_RGB_FREE),
			  count_rgb(s, (struct vw_rect){ 0, 0, 1024, 700 }, VW_RGB_FREE));
	SDL_FreeSurface(direct);
	SDL_FreeSurface(s);
	unlink(path);
	rmdir(tmpdir);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_vw_run_frames_play_items)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), VIS, 0, 1 * MiB, VIS);
	create(&r, H(2), INV, 0, 1 * MiB, INV);
	create(&r, H(3), GART, 2 * MiB, 1 * MiB, GART);
	vm_replay(&m, &r, r.nitems);
	make_tmpdir();
	char path[128], err[256] = "";
	snprintf(path, sizeof(path), "%s/f2.bmp", tmpdir);
	/* Two frames of one item: the third allocation is not there yet. */
	struct vw_options opt = { .screenshot = path, .frames = 2, .items_per_frame = 1 };
	ck_assert_msg(vw_run(&r, &opt, err, sizeof(err)) == 0, "vw_run: %s", err);
	SDL_Surface *s = load_bmp(path);
	ck_assert_int_eq(s->w, 1280);
	ck_assert_int_eq(s->h, 800);
	int x, y;
	ck_assert(vw_locate(&m, H(2), 1280, 800, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(2), VW_COLOUR_ALLOCATION));
	ck_assert(vw_locate(&m, H(3), 1280, 800, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_FREE);
	SDL_FreeSurface(s);
	/* Two items a frame: all three. */
	opt.items_per_frame = 2;
	ck_assert_msg(vw_run(&r, &opt, err, sizeof(err)) == 0, "vw_run: %s", err);
	s = load_bmp(path);
	ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(3), VW_COLOUR_ALLOCATION));
	SDL_FreeSurface(s);
	unlink(path);
	rmdir(tmpdir);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_vw_run_reports_errors)
{
	struct vm_recording r;
	three(&r);
	char err[256] = "";
	struct vw_options opt = { .screenshot = "/nonexistent-dir/x.bmp", .start_at_end = true };
	ck_assert_int_eq(vw_run(&r, &opt, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent-dir/x.bmp") != NULL, "err: %s", err);
	err[0] = '\0';
	struct vw_options follow = { .screenshot = "/tmp/never-written.bmp", .follow = "/nonexistent-dir/t.trace" };
	ck_assert_int_eq(vw_run(&r, &follow, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "t.trace") != NULL, "err: %s", err);
	err[0] = '\0';
	struct vw_options none = { .screenshot = "/tmp/never-written.bmp" };
	ck_assert_int_eq(vw_run(NULL, &none, err, sizeof(err)), -1);
	ck_assert(err[0] != '\0');
	ck_assert_int_ne(access("/tmp/never-written.bmp", F_OK), 0);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_largest_free_block_outlined)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), GART, 0, 1 * MiB, GART);
	create(&r, H(2), GART, 3 * MiB, 1 * MiB, GART);  /* gaps: 2 MiB at 1 MiB, 4 MiB at 4 MiB */
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert_uint_eq(f.largest_off[GART], 4 * MiB);
	ck_assert_uint_eq(f.largest_len[GART], 4 * MiB);
	ck_assert_uint_eq(m.seg[GART].largest_free, 4 * MiB);
	/* The first cell wholly inside the block carries the outline's corner. */
	const struct vw_map *mp = &strip_of(&f.L, GART)->map;
	uint64_t n = (uint64_t)mp->cols * mp->rows;
	uint64_t c0 = ((4 * MiB - mp->start) * n + mp->len - 1) / mp->len;
	int x = mp->r.x + (int)(c0 % mp->cols), y = mp->r.y + (int)(c0 / mp->cols) * (mp->row_h + mp->gap);
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_LARGEST);
	ck_assert_uint_eq(pixel(s, x, y + mp->row_h / 2), VW_RGB_FREE);  /* its middle line stays free */
	/* The smaller gap is not outlined. */
	uint64_t g = ((2 * MiB - mp->start) * n) / mp->len;
	x = mp->r.x + (int)(g % mp->cols);
	y = mp->r.y + (int)(g / mp->cols) * (mp->row_h + mp->gap);
	ck_assert_uint_eq(pixel(s, x, y), VW_RGB_FREE);
	vw_frame_free(&f);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_names_drawn_on_wide_spans)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), VIS, 0, 2 * MiB, VIS);
	name(&r, H(1), "framebuffer");
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	const struct vw_map *mp = &strip_of(&L, VIS)->map;
	/* The first row starts with the span; its name is drawn in one of the two label
	 * colours, and nothing else but the span's own colours is there. */
	uint32_t rgb = colour(&m, H(1), VW_COLOUR_ALLOCATION);
	struct vw_rect band = { mp->r.x + 1, mp->r.y + 1, vw_text_width("framebuffer", L.ts) + 4, mp->row_h - 2 };
	size_t label = count_rgb(s, band, VW_RGB_LABEL_DARK) + count_rgb(s, band, VW_RGB_LABEL_LIGHT);
	size_t own = count_rgb(s, band, rgb);
	ck_assert_uint_gt(label, 50);
	ck_assert_uint_eq(label + own, (size_t)band.w * band.h);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_compare_overlay)
{
	struct vm_recording r;
	struct vm_model before, after;
	rec_init(&r);
	create(&r, H(1), VIS, 0, 1 * MiB, VIS);
	create(&r, H(2), VIS, 2 * MiB, 1 * MiB, VIS);
	create(&r, H(3), INV, 0, 2 * MiB, INV);
	/* Then: H(1) moves to invisible VRAM, H(3) is destroyed, H(4) appears. */
	ev(&r, GPUSIM_EV_MOVE, H(1), DEV0, INV, VIS, 6 * MiB, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_DESTROY, H(3), DEV0, 0, INV, 0, 2 * MiB, PRIO_NORMAL, INV);
	create(&r, H(4), GART, 0, 2 * MiB, GART);
	vm_replay(&before, &r, 3);
	vm_replay(&after, &r, r.nitems);
	struct vm_diff d;
	vm_diff(&before, &after, &d);
	ck_assert_uint_eq(d.nappeared, 1);
	ck_assert_uint_eq(d.nleft, 1);
	ck_assert_uint_eq(d.nmoved, 1);

	struct vw_view v;
	vw_view_init(&v, NULL);
	v.before = &before;
	v.diff = &d;
	v.before_pos = 3;
	SDL_Surface *s = vw_render_view(&after, &v, W, HT);
	SDL_Surface *plain = render(&after, VW_COLOUR_ALLOCATION, W, HT);
	struct vw_layout L;
	vw_layout_compute(&after, &v, W, HT, &L);
	/* Outlines start at a span's first cell, top line. */
	struct {
		uint32_t seg;
		uint64_t off;
		uint32_t rgb;
	} want[3] = { { GART, 0, VW_RGB_APPEARED }, { INV, 0, VW_RGB_LEFT }, { INV, 6 * MiB, VW_RGB_MOVED } };
	for (int k = 0; k < 3; k++) {
		const struct vw_map *mp = &strip_of(&L, want[k].seg)->map;
		uint64_t c = (want[k].off - mp->start) * ((uint64_t)mp->cols * mp->rows) / mp->len;
		int x = mp->r.x + (int)(c % mp->cols), y = mp->r.y + (int)(c / mp->cols) * (mp->row_h + mp->gap);
		ck_assert_msg(pixel(s, x, y) == want[k].rgb, "mark %d: %06x, want %06x", k, pixel(s, x, y), want[k].rgb);
		ck_assert_uint_ne(pixel(plain, x, y), want[k].rgb);
	}
	/* The unchanged allocation keeps its colour. */
	int x, y;
	ck_assert(vw_locate(&after, H(2), W, HT, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), colour(&after, H(2), VW_COLOUR_ALLOCATION));
	SDL_FreeSurface(s);
	SDL_FreeSurface(plain);
	vm_diff_free(&d);
	vm_free(&before);
	vm_free(&after);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_device_rows_add_up)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	ev(&r, GPUSIM_EV_CREATE, H(1), DEV0, VIS, 0, 0, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_CREATE, H(2), DEV1, VIS, 0, 1 * MiB, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_CREATE, H(3), DEV1, SYS, 0, 0, 1 * MiB, PRIO_NORMAL, INV);
	vm_replay(&m, &r, r.nitems);
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	ck_assert_int_gt(L.devices.h, 0);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_eq(count_rgb(s, L.devices, VW_RGB_OVER), 0);
	SDL_FreeSurface(s);
	/* Break the accounting: the sum row no longer matches the segment, in red. */
	m.devices[0].used[VIS] += 1 * MiB;
	s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_gt(count_rgb(s, L.devices, VW_RGB_OVER), 0);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

/* The run of same-coloured pixels through (x, y) on its line. */
static int run_width(const SDL_Surface *s, int x, int y)
{
	uint32_t rgb = pixel(s, x, y);
	int a = x, b = x;
	while (a > 0 && pixel(s, a - 1, y) == rgb)
		a--;
	while (b + 1 < s->w && pixel(s, b + 1, y) == rgb)
		b++;
	return b - a + 1;
}

START_TEST(test_wheel_zoom_widens_a_span)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	create(&r, H(1), INV, 5 * MiB, 64 * KiB, INV);
	vm_replay(&m, &r, r.nitems);
	struct vw_view v;
	struct vw_frame f;
	int x, y;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert(vw_frame_find(&f, H(1), false, &x, &y));
	SDL_Surface *s = vw_render_view(&m, &v, W, HT);
	int before = run_width(s, x, y);
	SDL_FreeSurface(s);
	/* Zoom at the pointer over the allocation: the byte under it stays there. */
	uint32_t seg;
	uint64_t byte;
	ck_assert(vw_frame_byte_at(&f, x, y, &seg, &byte));
	ck_assert_uint_eq(seg, INV);
	ck_assert(byte >= 5 * MiB && byte < 5 * MiB + 64 * KiB);
	vw_frame_free(&f);
	vw_zoom(&v, &m, INV, byte, 8);
	ck_assert_uint_gt(v.zoom_len[INV], 0);
	ck_assert_uint_lt(v.zoom_len[INV], 12 * MiB);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert(vw_frame_find(&f, H(1), false, &x, &y));
	s = vw_render_view(&m, &v, W, HT);
	ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(1), VW_COLOUR_ALLOCATION));
	ck_assert_int_gt(run_width(s, x, y), 4 * before);
	SDL_FreeSurface(s);
	vw_frame_free(&f);
	/* Zooming out all the way shows the whole segment again. */
	vw_zoom(&v, &m, INV, byte, -100);
	ck_assert_uint_eq(v.zoom_len[INV], 0);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_hit_testing)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, &m, &v, W, HT);
	for (int i = 1; i <= 3; i++) {
		int x, y;
		ck_assert(vw_frame_find(&f, H(i), false, &x, &y));
		ck_assert_uint_eq(vw_frame_hit(&f, x, y), H(i));
	}
	const struct vw_map *mp = &strip_of(&f.L, GART)->map;
	ck_assert_uint_eq(vw_frame_hit(&f, mp->r.x + mp->r.w - 1, mp->r.y + mp->r.h - 1), 0);  /* free */
	ck_assert_uint_eq(vw_frame_hit(&f, 0, 0), 0);  /* the status line */
	/* Hovering draws a white outline round the span. */
	int x, y;
	ck_assert(vw_frame_find(&f, H(2), false, &x, &y));
	v.hover = H(2);
	SDL_Surface *s = vw_render_view(&m, &v, W, HT);
	ck_assert_uint_eq(pixel(s, x, y - 1), 0xffffff);
	SDL_FreeSurface(s);
	vw_frame_free(&f);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_timeline_marks)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_eq(count_rgb(s, L.plot, VW_RGB_FAULT), 0);
	ck_assert_uint_eq(count_rgb(s, L.plot, VW_RGB_PAGE_OUT), 0);
	SDL_FreeSurface(s);
	vm_free(&m);
	ev(&r, GPUSIM_EV_EVICT, H(1), DEV0, SYS, VIS, 0, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_PAGE_IN, H(1), DEV0, VIS, SYS, 0, 1 * MiB, PRIO_NORMAL, VIS);
	ev(&r, GPUSIM_EV_FAULT, 0, DEV0, 0, 0, 0x100000, 0, 0, 0);
	vm_replay(&m, &r, r.nitems);
	s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_gt(count_rgb(s, L.plot, VW_RGB_FAULT), 0);
	ck_assert_uint_gt(count_rgb(s, L.plot, VW_RGB_PAGE_OUT), 0);
	ck_assert_uint_gt(count_rgb(s, L.plot, VW_RGB_PAGE_IN), 0);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_font_glyphs)
{
	for (int c = 33; c < 127; c++) {
		const uint8_t *g = vw_glyph((unsigned char)c);
		int bits = 0;
		for (int row = 0; row < VW_GLYPH_H; row++) {
			ck_assert_msg(!(g[row] & ~0x1fu), "glyph '%c' is wider than 5 columns", c);
			bits += __builtin_popcount(g[row]);
		}
		ck_assert_msg(bits > 0, "glyph '%c' is empty", c);
	}
	ck_assert_ptr_eq(vw_glyph(200), vw_glyph('?'));
	ck_assert_int_eq(vw_text_width("abc", 2), (3 * VW_CELL_W - 1) * 2);
	ck_assert_int_eq(vw_text_width("", 2), 0);
	ck_assert_uint_eq(vw_text_fit("abcdef", 1, 3 * VW_CELL_W - 1), 3);
	ck_assert_uint_eq(vw_text_fit("abcdef", 1, 1000), 6);
	/* Drawn text: 'I' at scale 2 is its bit count times four pixels. */
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 40, 40, 32, SDL_PIXELFORMAT_ARGB8888);
	SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
	SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
	SDL_RenderClear(r);
	vw_draw_text(r, 2, 2, 2, 0xffffff, "I");
	SDL_RenderPresent(r);
	int bits = 0;
	for (int row = 0; row < VW_GLYPH_H; row++)
		bits += __builtin_popcount(vw_glyph('I')[row]);
	ck_assert_uint_eq(count_rgb(s, (struct vw_rect){ 0, 0, 40, 40 }, 0xffffff), (size_t)bits * 4);
	SDL_DestroyRenderer(r);
	SDL_FreeSurface(s);
}
END_TEST

static const struct vm_alloc *by_name(const struct vm_model *m, const char *n)
{
	for (size_t i = 0; i < m->nallocs; i++)
		if (m->allocs[i].live && !strcmp(m->allocs[i].name, n))
			return &m->allocs[i];
	ck_abort_msg("no allocation named %s", n);
	return NULL;
}

START_TEST(test_scenario_pixels)
{
	static const char text[] = "adapter vram=16M visible=4M gart=8M\n"
				   "alloc a size=1M cpu\n"
				   "alloc b size=2M prefer=invisible\n"
				   "alloc c size=1M prefer=gart\n"
				   "alloc d size=1M prefer=invisible priority=minimum\n"
				   "resident d\n"
				   "evict d\n"
				   "expect d in sys\n";
	struct scn_script sc;
	struct scn_error e;
	ck_assert_msg(scn_parse_string("v.gsim", text, strlen(text), &sc, &e) == 0, "parse: %u: %s", e.line, e.msg);
	struct vm_recording r;
	vm_recording_init(&r);
	ck_assert_int_eq(vm_recording_run(&r, &sc, NULL), 0);
	scn_script_free(&sc);
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	const struct vm_alloc *a = by_name(&m, "a"), *b = by_name(&m, "b"), *c = by_name(&m, "c"), *d = by_name(&m, "d");
	ck_assert_uint_eq(a->seg, VIS);
	ck_assert_uint_eq(b->seg, INV);
	ck_assert_uint_eq(c->seg, GART);
	ck_assert_uint_eq(d->seg, SYS);
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	const struct vm_alloc *placed[3] = { a, b, c };
	for (int i = 0; i < 3; i++) {
		int x, y;
		ck_assert(vw_locate(&m, placed[i]->handle, W, HT, &x, &y));
		ck_assert_uint_eq(pixel(s, x, y), vw_alloc_rgb(&m, placed[i], VW_COLOUR_ALLOCATION));
	}
	struct vw_view v;
	struct vw_frame f;
	int x, y;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert(vw_frame_find(&f, d->handle, true, &x, &y));
	ck_assert_uint_eq(pixel(s, x, y), vw_alloc_rgb(&m, d, VW_COLOUR_ALLOCATION));
	vw_frame_free(&f);
	SDL_FreeSurface(s);
	/* Priority: d is minimum (blue), the rest normal. */
	s = render(&m, VW_COLOUR_PRIORITY, W, HT);
	vw_frame_build(&f, &m, &v, W, HT);
	ck_assert(vw_frame_find(&f, d->handle, true, &x, &y));
	uint32_t rgb = pixel(s, x, y);
	ck_assert_uint_gt(rgb & 0xff, rgb >> 16);
	vw_frame_free(&f);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_absent_segment_and_small_frames)
{
	struct vm_recording r;
	struct vm_model m;
	rec_init(&r);
	r.adapter.seg_size[INV] = 0;  /* visible == vram: no invisible segment */
	create(&r, H(1), VIS, 0, 1 * MiB, VIS);
	vm_replay(&m, &r, r.nitems);
	int x, y, sw, sh;
	ck_assert(!vw_strip_rect(&m, INV, W, HT, &x, &y, &sw, &sh));
	ck_assert(vw_strip_rect(&m, VIS, W, HT, &x, &y, &sw, &sh));
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	ck_assert_int_eq(L.nstrips, 2);
	static const int sizes[][2] = { { 320, 200 }, { 64, 48 }, { 1, 1 }, { 4000, 300 }, { 300, 3000 } };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		SDL_Surface *s = render(&m, VW_COLOUR_AGE, sizes[k][0], sizes[k][1]);
		SDL_FreeSurface(s);
	}
	ck_assert(vw_locate(&m, H(1), 320, 200, &x, &y));
	vm_free(&m);
	/* An empty model draws too. */
	vm_init(&m, &r.adapter);
	SDL_FreeSurface(render(&m, VW_COLOUR_ALLOCATION, W, HT));
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_follow_a_trace)
{
	make_tmpdir();
	char trace[128], path[128], err[256] = "";
	snprintf(trace, sizeof(trace), "%s/live.trace", tmpdir);
	snprintf(path, sizeof(path), "%s/live.bmp", tmpdir);
	struct vm_recording r;
	three(&r);
	struct gpusim_trace_writer *w = gpusim_trace_create(trace, &r.adapter);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < r.nitems; i++) {
		const struct gpusim_trace_item *it = &r.items[i];
		if (it->type == GPUSIM_TRACE_EVENT)
			ck_assert_int_eq(gpusim_trace_event(w, &it->event), 0);
		else
			ck_assert_int_eq(gpusim_trace_name(w, it->allocation, it->device, it->name), 0);
	}
	ck_assert_int_eq(gpusim_trace_flush(w), 0);
	/* The writer is still open: the viewer follows what has been written so far. */
	struct vm_recording empty;
	vm_recording_init(&empty);
	struct vw_options opt = { .screenshot = path, .frames = 1, .follow = trace };
	ck_assert_msg(vw_run(&empty, &opt, err, sizeof(err)) == 0, "vw_run: %s", err);
	ck_assert_int_eq(gpusim_trace_close(w), 0);
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	SDL_Surface *s = load_bmp(path);
	for (int i = 1; i <= 3; i++) {
		int x, y;
		ck_assert(vw_locate(&m, H(i), W, HT, &x, &y));
		ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(i), VW_COLOUR_ALLOCATION));
	}
	SDL_FreeSurface(s);
	unlink(path);
	unlink(trace);
	rmdir(tmpdir);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

/* Keys sent to the window from another thread, as a user would type them. */
static int type_keys(void *data)
{
	/* Two colour modes on (device), compare, step, the mouse, speed, play again from
	 * the start, jump to the end, unzoom, save, quit. */
	static const SDL_Keycode keys[] = { SDLK_c, SDLK_c, SDLK_d, SDLK_RIGHT, SDLK_LEFT, SDLK_HOME, SDLK_PLUS,
					    SDLK_MINUS, SDLK_SPACE, SDLK_END, SDLK_0, SDLK_s, SDLK_q };
	(void)data;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		SDL_Delay(40);
		SDL_Event e;
		memset(&e, 0, sizeof(e));
		if (i == 6) {  /* and the mouse: over a strip, a wheel notch, a click */
			e.type = SDL_MOUSEMOTION;
			e.motion.x = 400;
			e.motion.y = 90;
			SDL_PushEvent(&e);
			memset(&e, 0, sizeof(e));
			e.type = SDL_MOUSEWHEEL;
			e.wheel.y = 2;
			SDL_PushEvent(&e);
			memset(&e, 0, sizeof(e));
			e.type = SDL_MOUSEBUTTONDOWN;
			e.button.button = SDL_BUTTON_LEFT;
			e.button.x = 400;
			e.button.y = 90;
			SDL_PushEvent(&e);
			memset(&e, 0, sizeof(e));
		}
		e.type = SDL_KEYDOWN;
		e.key.keysym.sym = keys[i];
		SDL_PushEvent(&e);
	}
	return 0;
}

START_TEST(test_window_keys_under_dummy_driver)
{
	struct vm_recording r;
	three(&r);
	make_tmpdir();
	char cwd[512], shot[160], err[256] = "";
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	SDL_Thread *t = SDL_CreateThread(type_keys, "keys", NULL);
	ck_assert_ptr_nonnull(t);
	struct vw_options opt = { .width = 1280, .height = 800 };
	int rc = vw_run(&r, &opt, err, sizeof(err));
	SDL_WaitThread(t, NULL);
	ck_assert_msg(rc == 0, "vw_run: %s", err);
	/* `s` saved the frame in the current directory. */
	snprintf(shot, sizeof(shot), "%s/gpusim-0001.bmp", tmpdir);
	SDL_Surface *s = load_bmp(shot);
	ck_assert_int_eq(s->w, 1280);
	ck_assert_int_eq(s->h, 800);
	/* The last moment, in the device colours (the click selected what is under the
	 * pointer, on the visible strip: the other two are clear). */
	struct vm_model m;
	vm_replay(&m, &r, r.nitems);
	for (int i = 2; i <= 3; i++) {
		int x, y;
		ck_assert(vw_locate(&m, H(i), 1280, 800, &x, &y));
		ck_assert_uint_eq(pixel(s, x, y), colour(&m, H(i), VW_COLOUR_DEVICE));
		ck_assert_uint_ne(colour(&m, H(i), VW_COLOUR_DEVICE), colour(&m, H(i), VW_COLOUR_ALLOCATION));
	}
	vm_free(&m);
	SDL_FreeSurface(s);
	unlink(shot);
	ck_assert_int_eq(chdir(cwd), 0);
	rmdir(tmpdir);
	vm_recording_free(&r);
}
END_TEST

/* ---- the GPU VA space and fences ------------------------------------------------------------ */

#define VA_LO 0x100000000ull   /* 4 GiB */
#define VA_HI 0x7f0000000000ull /* far above: a gap of ~127 TiB in between */

static void va_ev(struct vm_recording *r, uint32_t type, uint32_t h, uint64_t va, uint64_t size, uint64_t value,
		  uint32_t cause)
{
	struct gpusim_trace_item it;
	memset(&it, 0, sizeof(it));
	it.type = GPUSIM_TRACE_EVENT;
	clock_ns += 1000;
	it.event.type = type;
	it.event.cause = cause;
	it.event.time_ns = clock_ns;
	it.event.device = DEV0;
	it.event.allocation = h;
	it.event.offset = va;
	it.event.size = size;
	it.event.value = value;
	vm_recording_add(r, &it);
}

/* three(), then two reservations far apart: ui0 mapped at the start of the low
 * one (1 MiB), texture over the whole high one (64 KiB), a fault in the low
 * one where nothing is mapped. */
static void va_scene(struct vm_recording *r)
{
	three(r);
	va_ev(r, GPUSIM_EV_VA_RESERVE, 0, VA_LO, 1 * MiB, 0, 0);
	va_ev(r, GPUSIM_EV_VA_MAP, H(1), VA_LO, 256 * KiB, 1, 0);
	va_ev(r, GPUSIM_EV_VA_MAP, H(2), VA_HI, 64 * KiB, 2, 0);
	va_ev(r, GPUSIM_EV_FAULT, 0, VA_LO + 768 * KiB, 0, 3, HW_FAULT_VM_NOT_PRESENT);
}

START_TEST(test_va_strip_pixels_and_hits)
{
	struct vm_recording r;
	struct vm_model m;
	va_scene(&r);
	vm_replay(&m, &r, r.nitems);
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	ck_assert_int_eq(vw_frame_build(&f, &m, &v, W, HT), 0);
	const struct vw_layout *L = &f.L;
	ck_assert_int_gt(L->va_bar.w, 0);
	ck_assert_int_gt(L->va_bar.h, 0);
	/* Between system memory and the timeline, overlapping neither. */
	ck_assert_int_ge(L->va.y, L->sys.y + L->sys.h);
	ck_assert_int_le(L->va.y + L->va.h, L->timeline.y);
	/* Two ranges in address order with a gap before, between and after. */
	ck_assert_uint_eq(f.nva_cols, 2);
	const struct vw_va_col *lo = &f.va_cols[0], *hi = &f.va_cols[1];
	ck_assert_uint_eq(lo->base, VA_LO);
	ck_assert_uint_eq(hi->base, VA_HI);
	ck_assert(lo->gap_before && hi->gap_before);
	ck_assert_int_gt(lo->gap_x, L->va_bar.x - 1);
	ck_assert_int_lt(lo->gap_x, lo->x);
	ck_assert_int_gt(hi->gap_x, lo->x + lo->w - 1);
	ck_assert_int_lt(hi->gap_x, hi->x);
	ck_assert_int_ge(f.va_tail_x, hi->x + hi->w);
	/* The 1 MiB range is wider than the 64 KiB one (sqrt of sizes: 4x). */
	ck_assert_int_gt(lo->w, 2 * hi->w);
	/* Pixels: ui0's colour over the first quarter of the low range, reserved
	 * grey over the rest, texture's over the high one, background on gaps. */
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	int y = L->va_bar.y + L->va_bar.h / 2;
	uint32_t ui0 = colour(&m, H(1), VW_COLOUR_ALLOCATION), tex = colour(&m, H(2), VW_COLOUR_ALLOCATION);
	ck_assert_uint_eq(pixel(s, lo->x + 1, y), ui0);
	ck_assert_uint_eq(pixel(s, lo->x + lo->w / 8, y), ui0);
	ck_assert_uint_eq(pixel(s, lo->x + lo->w / 2, y), VW_RGB_VA_RESERVED);
	ck_assert_uint_eq(pixel(s, lo->x + lo->w - 1, y), VW_RGB_VA_RESERVED);
	ck_assert_uint_eq(pixel(s, hi->x, y), tex);
	ck_assert_uint_eq(pixel(s, hi->x + hi->w - 1, y), tex);
	ck_assert_uint_eq(pixel(s, lo->x - 1, y), VW_RGB_BG);
	/* The fault: a mark above 3/4 of the low range, nowhere else. */
	int fx;
	ck_assert(vw_frame_va_x(&f, VA_LO + 768 * KiB, &fx));
	ck_assert_int_eq(fx, lo->x + 3 * lo->w / 4);
	ck_assert_uint_eq(pixel(s, fx, L->va_faults.y + L->va_faults.h / 2), VW_RGB_FAULT);
	struct vw_rect left = { L->va_faults.x, L->va_faults.y, fx - 2 * L->ts - L->va_faults.x, L->va_faults.h };
	ck_assert_uint_eq(count_rgb(s, left, VW_RGB_FAULT), 0);
	/* Hit-testing names the range and the allocation. */
	struct vw_va_hit hit;
	char text[160];
	ck_assert(vw_frame_va_hit(&f, lo->x + 1, y, &hit));
	ck_assert(!hit.gap);
	ck_assert_ptr_nonnull(hit.mapping);
	ck_assert_uint_eq(hit.mapping->base, VA_LO);
	ck_assert_ptr_nonnull(hit.alloc);
	ck_assert_str_eq(hit.alloc->name, "ui0");
	vw_va_hit_text(text, sizeof(text), &hit);
	ck_assert_msg(strstr(text, "ui0") && strstr(text, "0x100000000"), "%s", text);
	ck_assert_uint_eq(vw_frame_hit(&f, lo->x + 1, y), H(1));
	ck_assert_uint_eq(vw_frame_hit(&f, hi->x, y), H(2));
	ck_assert(vw_frame_va_hit(&f, lo->x + lo->w / 2, y, &hit));
	ck_assert_ptr_null(hit.mapping);
	ck_assert_ptr_nonnull(hit.reservation);
	ck_assert_uint_eq(hit.reservation->size, 1 * MiB);
	ck_assert_uint_ge(hit.va, VA_LO + 512 * KiB - 64 * KiB);
	ck_assert_uint_lt(hit.va, VA_LO + 512 * KiB + 64 * KiB);
	vw_va_hit_text(text, sizeof(text), &hit);
	ck_assert_msg(strstr(text, "reserved"), "%s", text);
	ck_assert_uint_eq(vw_frame_hit(&f, lo->x + lo->w / 2, y), 0);
	ck_assert(vw_frame_va_hit(&f, lo->gap_x, y, &hit));
	ck_assert(hit.gap);
	ck_assert(!vw_frame_va_hit(&f, L->va_bar.x, L->va_under.y + L->va_under.h, &hit));
	/* Selecting texture underlines its range. */
	SDL_FreeSurface(s);
	v.selected = H(2);
	s = vw_render_view(&m, &v, W, HT);
	ck_assert_uint_eq(pixel(s, hi->x, L->va_under.y), 0xffffff);
	ck_assert_uint_ne(pixel(s, lo->x + 1, L->va_under.y), 0xffffff);
	SDL_FreeSurface(s);
	/* Unmapped, the colour goes; destroyed, the mapping too. The range's place
	 * is kept before the frame that holds it is freed. */
	int lo_x = (int)lo->x;
	vw_frame_free(&f);
	vm_free(&m);
	va_ev(&r, GPUSIM_EV_VA_UNMAP, 0, VA_LO, 256 * KiB, 4, 0);
	vm_replay(&m, &r, r.nitems);
	s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_eq(pixel(s, lo_x + 1, y), VW_RGB_VA_RESERVED);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

/* Many reservations and a WDDM 1 model: the strip never overflows its bar, and
 * without VAs there is no strip at all. */
START_TEST(test_va_strip_bounds)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	struct vw_layout L0;
	vw_layout_compute(&m, NULL, W, HT, &L0);
	ck_assert_int_eq(L0.va.h, 0);
	ck_assert_int_eq(L0.va_bar.w, 0);
	vm_free(&m);
	for (uint64_t i = 0; i < 3000; i++)
		va_ev(&r, GPUSIM_EV_VA_RESERVE, 0, VA_LO + i * 2 * 65536, 65536, 0, 0);
	vm_replay(&m, &r, r.nitems);
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	ck_assert_int_eq(vw_frame_build(&f, &m, &v, W, HT), 0);
	ck_assert_uint_eq(f.nva_cols, 3000);
	ck_assert_uint_gt(f.va_hidden, 0); /* more ranges than pixels */
	for (size_t i = 0; i < f.nva_cols; i++) {
		const struct vw_va_col *c = &f.va_cols[i];
		if (!c->w)
			continue;
		ck_assert_int_ge(c->x, f.L.va_bar.x);
		ck_assert_int_le(c->x + c->w, f.L.va_bar.x + f.L.va_bar.w);
		if (i)
			ck_assert_int_ge(c->x, f.va_cols[i - 1].x + f.va_cols[i - 1].w);
	}
	int x;
	ck_assert(!vw_frame_va_x(&f, VA_LO + 2999 * 2 * 65536, &x)); /* hidden: no place */
	ck_assert(vw_frame_va_x(&f, VA_LO, &x));
	SDL_Surface *s = vw_render_view(&m, &v, W, HT);
	ck_assert_ptr_nonnull(s);
	SDL_FreeSurface(s);
	/* Small windows: whatever fits, no crash. */
	for (int w = 1; w < 400; w += 97) {
		s = vw_render_view(&m, &v, w, w / 2 + 1);
		ck_assert_ptr_nonnull(s);
		SDL_FreeSurface(s);
	}
	vw_frame_free(&f);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

START_TEST(test_fence_marks_on_the_timeline)
{
	struct vm_recording r;
	struct vm_model m;
	three(&r);
	vm_replay(&m, &r, r.nitems);
	struct vw_layout L;
	vw_layout_compute(&m, NULL, W, HT, &L);
	struct vw_rect row = { L.plot.x, L.plot.y + L.plot.h - 4 * L.ts - 2, L.plot.w, 4 * L.ts + 2 };
	SDL_Surface *s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	ck_assert_uint_eq(count_rgb(s, L.plot, VW_RGB_SIGNAL_CPU), 0);
	ck_assert_uint_eq(count_rgb(s, L.plot, VW_RGB_WAIT), 0);
	SDL_FreeSurface(s);
	vm_free(&m);
	va_ev(&r, GPUSIM_EV_SIGNAL, 0x40000c01u, 0, 0, 1, GPUSIM_CAUSE_CPU);
	va_ev(&r, GPUSIM_EV_SIGNAL, 0x40000c01u, 0, 0, 2, GPUSIM_CAUSE_GPU);
	va_ev(&r, GPUSIM_EV_WAIT, 0x40000c01u, 0, 1, 2, GPUSIM_CAUSE_NONE);
	/* Late, so the marks are apart from the creations at the start. */
	clock_ns += 100000;
	va_ev(&r, GPUSIM_EV_SIGNAL, 0x40000c41u, 0, 0, 7, GPUSIM_CAUSE_RENDER);
	vm_replay(&m, &r, r.nitems);
	s = render(&m, VW_COLOUR_ALLOCATION, W, HT);
	/* Both kinds of signal and the wait, in the fence row at the bottom. */
	ck_assert_uint_gt(count_rgb(s, row, VW_RGB_SIGNAL_CPU), 0);
	ck_assert_uint_gt(count_rgb(s, row, VW_RGB_SIGNAL_GPU), 0);
	ck_assert_uint_gt(count_rgb(s, row, VW_RGB_WAIT), 0);
	/* The last signal at the right end of the time axis, the first ones left. */
	struct vw_rect right = { L.plot.x + L.plot.w * 9 / 10, row.y, L.plot.w - L.plot.w * 9 / 10, row.h };
	ck_assert_uint_gt(count_rgb(s, right, VW_RGB_SIGNAL_GPU), 0);
	ck_assert_uint_eq(count_rgb(s, right, VW_RGB_SIGNAL_CPU), 0);
	/* Fences are not paging: no bars. */
	ck_assert_uint_eq(count_rgb(s, L.plot, VW_RGB_PAGE_IN), 0);
	SDL_FreeSurface(s);
	vm_free(&m);
	vm_recording_free(&r);
}
END_TEST

Suite *sim_render_suite(void)
{
	Suite *s = suite_create("sim_render");
	TCase *tc = tcase_create("render");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_colour_at_located_allocation);
	tcase_add_test(tc, test_every_colour_mode);
	tcase_add_test(tc, test_vram2_strip);
	tcase_add_test(tc, test_empty_strip_is_free);
	tcase_add_test(tc, test_eviction_frees_the_place);
	tcase_add_test(tc, test_usage_bar_colours);
	tcase_add_test(tc, test_preferred_mode_shows_misplaced);
	tcase_add_test(tc, test_resize_keeps_allocations_findable);
	tcase_add_test(tc, test_renders_are_deterministic);
	tcase_add_test(tc, test_largest_free_block_outlined);
	tcase_add_test(tc, test_names_drawn_on_wide_spans);
	tcase_add_test(tc, test_compare_overlay);
	tcase_add_test(tc, test_device_rows_add_up);
	tcase_add_test(tc, test_wheel_zoom_widens_a_span);
	tcase_add_test(tc, test_hit_testing);
	tcase_add_test(tc, test_timeline_marks);
	tcase_add_test(tc, test_font_glyphs);
	tcase_add_test(tc, test_absent_segment_and_small_frames);
	tcase_add_test(tc, test_va_strip_pixels_and_hits);
	tcase_add_test(tc, test_va_strip_bounds);
	tcase_add_test(tc, test_fence_marks_on_the_timeline);
	suite_add_tcase(s, tc);
	TCase *run = tcase_create("vw_run");
	tcase_set_timeout(run, 60);
	tcase_add_test(run, test_vw_run_writes_a_bmp);
	tcase_add_test(run, test_vw_run_frames_play_items);
	tcase_add_test(run, test_vw_run_reports_errors);
	tcase_add_test(run, test_scenario_pixels);
	tcase_add_test(run, test_follow_a_trace);
	tcase_add_test(run, test_window_keys_under_dummy_driver);
	suite_add_tcase(s, run);
	return s;
}
