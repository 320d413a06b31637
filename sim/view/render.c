/*
 * The viewer's frame: layout from the window size, page maps built cell by cell from
 * the model, and the drawing of strips, usage bars, the system-memory panel, the
 * timeline, counters, per-device usage, details and the compare overlay.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "sim/view/font.h"
#include "sim/view/render.h"

#define RGB_SYS_EMPTY 0x20242b   /* the system-memory panel where no box is */
#define RGB_IN VW_RGB_PAGE_IN
#define RGB_OUT VW_RGB_PAGE_OUT
#define RGB_MOVE VW_RGB_PAGE_MOVE
#define RGB_DEMOTE VW_RGB_PAGE_DEMOTE
#define RGB_PROMOTE VW_RGB_PAGE_PROMOTE
#define RGB_FAULT VW_RGB_FAULT

/* ---- colours ------------------------------------------------------------------ */

/* Sixteen colours picked to be told apart on the dark background and from the free
 * grey; an allocation gets one from its handle, so it keeps it across frames. */
static const uint32_t palette[16] = {
	0x5b8def, 0xe8804a, 0x56b881, 0xd65c7a, 0x9a7fe0, 0x46b3c7, 0xd9b44a, 0xb86fc2,
	0x7fae3f, 0xe0676a, 0x4f9fd9, 0xc98b5b, 0x6fc2a3, 0xa3a63c, 0x8791e8, 0xd783b0,
};
static const uint32_t device_palette[8] = {
	0x4f9fd9, 0xe8804a, 0x56b881, 0xd65c7a, 0x9a7fe0, 0xd9b44a, 0x46b3c7, 0xc98b5b,
};
/* Priority: the five D3DDDI levels are equally spaced, one stop each. */
static const uint32_t priority_stops[5] = { 0x3d6fe0, 0x35b0c8, 0x5cb85c, 0xe6a93a, 0xe5483d };
/* Age: recent is bright, old is dark. */
static const uint32_t age_stops[4] = { 0xfff3b0, 0xf5a142, 0xa33d6e, 0x3a2550 };

static uint32_t lerp_rgb(uint32_t a, uint32_t b, double t)
{
	uint32_t out = 0;
	for (int sh = 0; sh <= 16; sh += 8) {
		double ca = (a >> sh) & 0xff, cb = (b >> sh) & 0xff;
		out |= (uint32_t)(ca + (cb - ca) * t + 0.5) << sh;
	}
	return out;
}

static uint32_t gradient(const uint32_t *stops, int n, double t)
{
	if (!(t > 0))
		return stops[0];
	if (t >= 1)
		return stops[n - 1];
	double p = t * (n - 1);
	int i = (int)p;
	return lerp_rgb(stops[i], stops[i + 1], p - i);
}

static uint32_t darken(uint32_t rgb, int num, int den)
{
	return (((rgb >> 16 & 0xff) * num / den) << 16) | (((rgb >> 8 & 0xff) * num / den) << 8) |
	       ((rgb & 0xff) * num / den);
}

static bool is_light(uint32_t rgb)
{
	return (299 * (rgb >> 16 & 0xff) + 587 * (rgb >> 8 & 0xff) + 114 * (rgb & 0xff)) / 1000 > 150;
}

/* A monotone, piecewise-linear log2: enough for colours, and no libm. */
static double lg(uint64_t x)
{
	if (!x)
		return 0;
	int b = 63 - __builtin_clzll(x);
	uint64_t top = 1ull << b;
	return b + (double)(x - top) / (double)top;
}

static size_t device_index(const struct vm_model *m, uint32_t device)
{
	for (size_t i = 0; i < m->ndevices; i++)
		if (m->devices[i].device == device)
			return i;
	return m->ndevices;
}

static bool in_preferred(const struct vm_alloc *a)
{
	return a->preferred == GPUSIM_SEG_NONE || a->preferred > GPUSIM_SEG_MAX || a->preferred == a->seg;
}

static uint32_t rgb_for(const struct vm_model *m, const struct vm_alloc *a, enum vw_colour_mode mode,
			uint64_t oldest)
{
	switch (mode) {
	case VW_COLOUR_PRIORITY: {
		uint32_t p = a->priority ? a->priority : D3DDDI_ALLOCATIONPRIORITY_NORMAL;
		double lo = D3DDDI_ALLOCATIONPRIORITY_MINIMUM, hi = D3DDDI_ALLOCATIONPRIORITY_MAXIMUM;
		return gradient(priority_stops, 5, ((double)p - lo) / (hi - lo));
	}
	case VW_COLOUR_DEVICE:
		return device_palette[device_index(m, a->device) % 8];
	case VW_COLOUR_AGE: {
		uint64_t now = m->now_ns;
		uint64_t age = now > a->last_use_ns ? now - a->last_use_ns : 0;
		uint64_t span = now > oldest ? now - oldest : 0;
		return span ? gradient(age_stops, 4, lg(age + 1) / lg(span + 1)) : age_stops[0];
	}
	case VW_COLOUR_PREFERRED:
		return in_preferred(a) ? VW_RGB_IN_PREF : VW_RGB_OUT_PREF;
	case VW_COLOUR_ALLOCATION:
	default:
		/* Fibonacci hashing: handles handed out in sequence get far-apart colours. */
		return palette[(uint32_t)(a->handle * 2654435761u) >> 28];
	}
}

static uint64_t oldest_use(const struct vm_model *m)
{
	uint64_t oldest = m->now_ns;
	for (size_t i = 0; i < m->nallocs; i++)
		if (m->allocs[i].live && m->allocs[i].last_use_ns < oldest)
			oldest = m->allocs[i].last_use_ns;
	return oldest;
}

uint32_t vw_alloc_rgb(const struct vm_model *m, const struct vm_alloc *a, enum vw_colour_mode mode)
{
	return rgb_for(m, a, mode, mode == VW_COLOUR_AGE ? oldest_use(m) : 0);
}

const char *vw_colour_name(enum vw_colour_mode mode)
{
	static const char *const names[] = { "allocation", "priority", "device", "age", "preferred" };
	return mode < VW_COLOUR_MODES ? names[mode] : "?";
}

/* ---- formats -------------------------------------------------------------------- */

/* Three significant digits: "704 KiB", "3.00 MiB", "14.0 MiB". */
static void fmt_3(char *buf, size_t len, double v, const char *unit)
{
	if (v < 9.995)
		snprintf(buf, len, "%.2f %s", v, unit);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f %s", v, unit);
	else
		snprintf(buf, len, "%.0f %s", v, unit);
}

void vw_fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b < 1024)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else if (b < (1ull << 20))
		fmt_3(buf, len, b / 1024.0, "KiB");
	else if (b < (1ull << 30))
		fmt_3(buf, len, b / 1048576.0, "MiB");
	else if (b < (1ull << 40))
		fmt_3(buf, len, b / 1073741824.0, "GiB");
	else
		fmt_3(buf, len, b / 1099511627776.0, "TiB");
}

/* A pair in one unit, the unit once: "3.00/3.69 MiB". */
static void fmt_pair(char *buf, size_t len, uint64_t a, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	uint64_t big = a > b ? a : b;
	int u = 0;
	while (u < 4 && big >= (1024ull << (10 * u)))
		u++;
	if (u == 0) {
		snprintf(buf, len, "%" PRIu64 "/%" PRIu64 " B", a, b);
		return;
	}
	double d = (double)(1ull << (10 * u)), x = a / d, y = b / d;
	int prec = y < 9.995 ? 2 : y < 99.95 ? 1 : 0;
	snprintf(buf, len, "%.*f/%.*f %s", prec, x, prec, y, units[u]);
}

/* At most six characters, for table columns and gutters: "512K", "1.5M", "12M". */
static void fmt_short(char *buf, size_t len, uint64_t b)
{
	static const char units[] = "BKMGT";
	double v = (double)b;
	int u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (!b)
		snprintf(buf, len, "0");
	else if (u == 0)
		snprintf(buf, len, "%" PRIu64 "B", b);
	else if (v >= 10 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f%c", v, units[u]);
	else if (u >= 3)
		snprintf(buf, len, "%.2f%c", v, units[u]);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
}

void vw_fmt_time(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		fmt_3(buf, len, ns / 1e3, "us");
	else if (ns < 1000000000)
		fmt_3(buf, len, ns / 1e6, "ms");
	else
		snprintf(buf, len, "%.3f s", ns / 1e9);
}

static const char *seg_short(uint32_t seg)
{
	static const char *const names[] = { "-", "vis", "invis", "gart", "sys", "vram2" };
	return seg < sizeof(names) / sizeof(names[0]) ? names[seg] : "?";
}

static const char *cause_name(uint32_t cause)
{
	static const char *const names[] = { "",         "create",   "pressure", "render", "resident",
					     "evict-call", "lock",   "destroy",  "injected" };
	return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "";
}

static void fmt_priority(char *buf, size_t len, uint32_t p)
{
	static const char *const names[] = { "minimum", "low", "normal", "high", "maximum" };
	if (p == 0)
		p = D3DDDI_ALLOCATIONPRIORITY_NORMAL;
	if (p % 0x28000000u == 0 && p / 0x28000000u >= 1 && p / 0x28000000u <= 5)
		snprintf(buf, len, "%s", names[p / 0x28000000u - 1]);
	else
		snprintf(buf, len, "0x%08" PRIx32, p);
}

/* ---- layout ---------------------------------------------------------------------- */

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t isqrt(uint64_t x)
{
	uint64_t r = 0, bit = 1ull << 62;
	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

static int row_pitch(const struct vw_map *mp)
{
	return mp->row_h + mp->gap;
}

static void zoom_range(const struct vm_model *m, const struct vw_view *v, uint32_t seg, uint64_t *start,
		       uint64_t *len)
{
	uint64_t size = m->adapter.seg_size[seg];
	*start = 0;
	*len = size ? size : 1;
	if (v && v->zoom_len[seg] && v->zoom_len[seg] < size) {
		*len = v->zoom_len[seg];
		*start = v->zoom_start[seg] <= size - *len ? v->zoom_start[seg] : size - *len;
	}
}

/* The gutter left of a map holds its rows' start addresses in the small font. */
static int gutter_width(void)
{
	return 6 * VW_CELL_W + 6;
}

static void map_rows(struct vw_map *mp, int x, int y, int w, int rows, int row_h, int gap)
{
	mp->r = (struct vw_rect){ x, y, w > 0 ? w : 0, rows > 0 ? rows * (row_h + gap) - gap : 0 };
	mp->cols = mp->r.w;
	mp->rows = rows > 0 && w > 0 ? rows : 0;
	mp->row_h = row_h;
	mp->gap = gap;
}

void vw_layout_compute(const struct vm_model *m, const struct vw_view *v, int w, int h, struct vw_layout *L)
{
	memset(L, 0, sizeof(*L));
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	L->w = w;
	L->h = h;
	int ts = (w >= 1100 && h >= 680) ? 2 : 1;
	int lh = vw_line_height(ts), M = 4 * ts, P = 2 * ts + 1;
	L->ts = ts;
	L->top = (struct vw_rect){ 0, 0, w, lh + 2 * P };

	/* Right column: wide enough for ~37 characters, at most half the window. */
	int rw = w * 32 / 100, want = 37 * VW_CELL_W * ts + 2 * P;
	if (rw < want)
		rw = want < w / 2 ? want : w / 2;
	int lw = w - rw - 3 * M;
	if (lw < 1)
		lw = 1;
	int lx = M, rx = 2 * M + lw, y0 = L->top.h + M, avail = h - y0 - M;
	if (avail < 0)
		avail = 0;

	/* Left column, bottom up: timeline, system memory, then the strips. */
	int th = 2 * lh + clampi(h / 10, 24, 100) + 2 * P;
	int sh = lh + 2 * P + 2 * ts + clampi(h / 10, 2 * lh, 100);
	if (th + sh > avail * 2 / 3) {
		th = avail / 3;
		sh = avail / 3;
	}
	int strips_h = avail - th - sh - 2 * M;
	if (strips_h < 0)
		strips_h = 0;
	L->strips = (struct vw_rect){ lx, y0, lw, strips_h };

	/* VRAM first, the second pool beside the first, whatever the ids' order. */
	static const uint32_t order[VW_MAX_STRIPS] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VRAM2,
						       GPUSIM_SEG_GART };
	uint32_t segs[VW_MAX_STRIPS];
	uint64_t weight[VW_MAX_STRIPS], wsum = 0;
	int n = 0;
	for (int k = 0; k < VW_MAX_STRIPS; k++)
		if (m->adapter.seg_size[order[k]]) {
			uint32_t s = order[k];
			segs[n] = s;
			/* Bigger segments get more rows, but a small one never vanishes. */
			weight[n] = isqrt(m->adapter.seg_size[s] >> 10) + 1;
			wsum += weight[n++];
		}
	L->nstrips = n;
	int barh = 2 + 2 * ts, over = lh + 2 * ts + barh + 2 * ts + 2 * P;
	int row_h = 9 * ts + 4, gap = ts;
	int maps_h = strips_h - n * over - (n > 0 ? (n - 1) * M : 0);
	int total_rows = maps_h > 0 ? (maps_h + gap) / (row_h + gap) : 0;
	int rows[VW_MAX_STRIPS] = { 0 };
	if (n && total_rows < n) {
		/* Too short for a full row each: squeeze the rows. */
		for (int i = 0; i < n; i++)
			rows[i] = 1;
		row_h = maps_h > n ? maps_h / n - gap : 1;
		if (row_h < 1)
			row_h = 1;
		total_rows = n;
	} else if (n) {
		int left = total_rows - n;
		for (int i = 0; i < n; i++) {
			rows[i] = 1 + (int)((uint64_t)(total_rows - n) * weight[i] / wsum);
			left -= rows[i] - 1;
		}
		for (int i = 0; left > 0; i = (i + 1) % n, left--)
			rows[i]++;
	}
	int y = y0;
	for (int i = 0; i < n; i++) {
		struct vw_strip *st = &L->strip[i];
		int mh = rows[i] * (row_h + gap) - gap;
		st->seg = segs[i];
		st->box = (struct vw_rect){ lx, y, lw, over + mh };
		int ix = lx + P, iw = lw - 2 * P;
		st->head = (struct vw_rect){ ix, y + P, iw, lh };
		st->bar = (struct vw_rect){ ix, y + P + lh + 2 * ts, iw, barh };
		map_rows(&st->map, ix + gutter_width(), st->bar.y + barh + 2 * ts, iw - gutter_width(), rows[i],
			 row_h, gap);
		zoom_range(m, v, segs[i], &st->map.start, &st->map.len);
		y += st->box.h + M;
	}

	/* System memory takes what the strips left over. */
	int sys_y = n ? y : y0 + strips_h + M;
	int sys_h = h - M - th - M - sys_y;
	if (sys_h < 0)
		sys_h = 0;
	/* The VA space, when the model has one, between system memory and the
	 * timeline, taken from system memory's room (a WDDM 1 layout is unchanged). */
	if (m->nva_res || m->nva_map || m->nva_faults) {
		int mk = 2 * ts + 1, vbar_h = 9 * ts + 4;
		int va_h = 2 * P + lh + ts + mk + vbar_h + 2 * ts;
		if (sys_h - va_h - M >= lh + 2 * P) {
			int vy = h - M - th - M - va_h, bx = lx + P + gutter_width(), bw = lw - 2 * P - gutter_width();
			L->va = (struct vw_rect){ lx, vy, lw, va_h };
			L->va_head = (struct vw_rect){ lx + P, vy + P, lw - 2 * P, lh };
			L->va_faults = (struct vw_rect){ bx, vy + P + lh + ts, bw, mk };
			L->va_bar = (struct vw_rect){ bx, L->va_faults.y + mk, bw, vbar_h };
			L->va_under = (struct vw_rect){ bx, L->va_bar.y + vbar_h, bw, 2 * ts };
			sys_h -= va_h + M;
		}
	}
	L->sys = (struct vw_rect){ lx, sys_y, lw, sys_h };
	L->sys_head = (struct vw_rect){ lx + P, sys_y + P, lw - 2 * P, lh };
	int smh = sys_h - 2 * P - lh - 2 * ts;
	int srow_h = 9 * ts + 4 < smh ? 9 * ts + 4 : smh;
	int srows = srow_h > 0 ? (smh + gap) / (srow_h + gap) : 0;
	map_rows(&L->sys_map, lx + P + gutter_width(), L->sys_head.y + lh + 2 * ts, lw - 2 * P - gutter_width(),
		 srows, srow_h, gap);
	uint64_t vram = m->adapter.seg_size[GPUSIM_SEG_VISIBLE] + m->adapter.seg_size[GPUSIM_SEG_INVISIBLE] +
			m->adapter.seg_size[GPUSIM_SEG_VRAM2];
	L->sys_map.len = vram ? vram : 1;
	L->timeline = (struct vw_rect){ lx, h - M - th, lw, th };
	L->plot = (struct vw_rect){ lx + P, L->timeline.y + P + lh + ts, lw - 2 * P, th - 2 * P - 2 * lh - 2 * ts };

	/* Right column, top down: counters, devices, legend at the bottom, details between. */
	int ry = y0, rh = h - y0 - M;
	int counters_h = 8 * lh + 2 * (barh + 2 * ts) + 2 * P + (m->device_removed ? lh : 0);
	size_t ndev = m->ndevices < 6 ? m->ndevices : 6;
	int devices_h = (int)(3 + ndev + (m->ndevices > 6)) * lh + 2 * P;
	int legend_h = 6 * lh + 2 * P + 2 * ts;
	if (counters_h + devices_h + legend_h + 3 * M > rh) {
		legend_h = 0;
		if (counters_h + devices_h + 2 * M > rh)
			devices_h = 0;
	}
	L->counters = (struct vw_rect){ rx, ry, rw, counters_h < rh ? counters_h : rh };
	ry += L->counters.h + M;
	L->devices = (struct vw_rect){ rx, ry, rw, devices_h };
	ry += devices_h + (devices_h ? M : 0);
	L->legend = (struct vw_rect){ rx, h - M - legend_h, rw, legend_h };
	int dh = L->legend.y - (legend_h ? M : 0) - ry;
	L->details = (struct vw_rect){ rx, ry, rw, dh > 0 ? dh : 0 };
}

/* ---- page maps --------------------------------------------------------------------- */

static uint64_t map_cells(const struct vw_map *mp)
{
	return (uint64_t)mp->cols * (uint64_t)mp->rows;
}

/* The cells [c0, c1) that bytes [off, off + size) touch; at least one cell. */
static bool span_cells(const struct vw_map *mp, uint64_t off, uint64_t size, uint64_t *c0, uint64_t *c1)
{
	uint64_t n = map_cells(mp), end = off + (size ? size : 1);
	if (!n || !mp->len || end < off)
		return false;
	if (end <= mp->start || off >= mp->start + mp->len)
		return false;
	uint64_t a = off > mp->start ? off - mp->start : 0;
	uint64_t b = (end < mp->start + mp->len ? end : mp->start + mp->len) - mp->start;
	if (b <= (UINT64_MAX - mp->len) / n) {  /* the common case, without 128-bit division */
		*c0 = a * n / mp->len;
		*c1 = (b * n + mp->len - 1) / mp->len;
	} else {
		*c0 = (uint64_t)((unsigned __int128)a * n / mp->len);
		*c1 = (uint64_t)(((unsigned __int128)b * n + mp->len - 1) / mp->len);
	}
	if (*c1 <= *c0)
		*c1 = *c0 + 1;
	if (*c1 > n)
		*c1 = n;
	return *c0 < n;
}

/* The cells lying wholly inside bytes [off, off + size). */
static bool inner_cells(const struct vw_map *mp, uint64_t off, uint64_t size, uint64_t *c0, uint64_t *c1)
{
	uint64_t n = map_cells(mp), end = off + size;
	if (!n || !mp->len || end <= mp->start || off >= mp->start + mp->len)
		return false;
	uint64_t a = off > mp->start ? off - mp->start : 0;
	uint64_t b = (end < mp->start + mp->len ? end : mp->start + mp->len) - mp->start;
	*c0 = (uint64_t)(((unsigned __int128)a * n + mp->len - 1) / mp->len);
	*c1 = (uint64_t)((unsigned __int128)b * n / mp->len);
	return *c1 > *c0;
}

static void cell_xy(const struct vw_map *mp, uint64_t c, int *x, int *y)
{
	*x = mp->r.x + (int)(c % (uint64_t)mp->cols);
	*y = mp->r.y + (int)(c / (uint64_t)mp->cols) * row_pitch(mp);
}

/* The first byte of cell c. */
static uint64_t cell_byte(const struct vw_map *mp, uint64_t c)
{
	uint64_t n = map_cells(mp);
	if (c <= UINT64_MAX / mp->len)
		return mp->start + c * mp->len / n;
	return mp->start + (uint64_t)((unsigned __int128)c * mp->len / n);
}

/* How much of cell c bytes [off, end) cover, in 1/VW_OCC_FULL. */
static uint32_t cover(const struct vw_map *mp, uint64_t c, uint64_t off, uint64_t end)
{
	uint64_t cs = cell_byte(mp, c), ce = cell_byte(mp, c + 1);
	uint64_t a = off > cs ? off : cs, b = end < ce ? end : ce;
	if (ce <= cs)
		return VW_OCC_FULL;  /* zoomed in past a byte a cell */
	if (b <= a)
		return 0;
	return (uint32_t)((unsigned __int128)(b - a) * VW_OCC_FULL / (ce - cs));
}

static void add_occ(uint32_t *occ, uint64_t c, uint32_t v)
{
	occ[c] = occ[c] + v > VW_OCC_FULL ? VW_OCC_FULL : occ[c] + v;
}

/* Paint an allocation's cells with its index, and add what it covers of each to the
 * cells' occupancy: the interior is full, the two ends may be partly covered. */
static void paint(const struct vw_map *mp, int32_t *owner, uint32_t *occ, uint64_t off, uint64_t size,
		  int32_t idx)
{
	uint64_t c0, c1, end = off + (size ? size : 1);
	if (!owner || !span_cells(mp, off, size, &c0, &c1))
		return;
	for (uint64_t c = c0; c < c1; c++)
		owner[c] = idx;
	if (!occ)
		return;
	add_occ(occ, c0, cover(mp, c0, off, end));
	for (uint64_t c = c0 + 1; c + 1 < c1; c++)
		occ[c] = VW_OCC_FULL;
	if (c1 - 1 > c0)
		add_occ(occ, c1 - 1, cover(mp, c1 - 1, off, end));
}

/* Sort allocation indices by offset: keys are gathered once (an allocation record is
 * large, so touching it per pass would miss the cache), then a stable LSD radix
 * sort, 11 bits a pass, skips the digits every key shares (page-aligned offsets
 * below 8 GiB take two passes). O(n): 10^5 allocations in about a millisecond.
 * Already sorted input (allocations made in address order) costs one scan. */
static void sort_by_offset(const struct vm_alloc *A, uint32_t *idx, size_t n)
{
	if (n < 2)
		return;
	struct pair {
		uint64_t key;
		uint32_t idx;
	} *p = malloc(2 * n * sizeof(*p));
	if (!p)
		return;
	struct pair *tmp = p + n;
	bool sorted = true;
	uint64_t all_or = 0, all_and = ~0ull;
	for (size_t i = 0; i < n; i++) {
		p[i].key = A[idx[i]].offset;
		p[i].idx = idx[i];
		sorted = sorted && (i == 0 || p[i - 1].key <= p[i].key);
		all_or |= p[i].key;
		all_and &= p[i].key;
	}
	for (int shift = 0; !sorted && shift < 64; shift += 11) {
		/* A digit that is the same in every key changes nothing. */
		if (!(((all_or ^ all_and) >> shift) & 0x7ff))
			continue;
		size_t count[2049] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[((p[i].key >> shift) & 0x7ff) + 1]++;
		for (int d = 1; d <= 2048; d++)
			count[d] += count[d - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[(p[i].key >> shift) & 0x7ff]++] = p[i];
		struct pair *t = p;
		p = tmp;
		tmp = t;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = p[i].idx;
	free(p < tmp ? p : tmp);
}

static int strip_index(const struct vw_layout *L, uint32_t seg)
{
	for (int i = 0; i < L->nstrips; i++)
		if (L->strip[i].seg == seg)
			return i;
	return -1;
}

void vw_frame_free(struct vw_frame *f)
{
	for (int i = 0; i < VW_MAX_STRIPS; i++)
		free(f->owner[i]);
	free(f->sys_owner);
	for (int i = 0; i < VW_MAX_STRIPS; i++)
		free(f->occ[i]);
	free(f->sys_occ);
	free(f->sys_idx);
	free(f->sys_off);
	free(f->va_cols);
	free(f->va_px);
	memset(f, 0, sizeof(*f));
}

static int32_t *new_owner(const struct vw_map *mp)
{
	uint64_t n = map_cells(mp);
	int32_t *o = malloc((n ? n : 1) * sizeof(*o));
	if (o)
		memset(o, 0xff, (n ? n : 1) * sizeof(*o));
	return o;
}

static uint32_t *new_occ(const struct vw_map *mp)
{
	uint64_t n = map_cells(mp);
	return calloc(n ? n : 1, sizeof(uint32_t));
}

static int va_build(struct vw_frame *f);

int vw_frame_build(struct vw_frame *f, const struct vm_model *m, const struct vw_view *v, int w, int h)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
	f->colour = v->colour;
	vw_layout_compute(m, v, w, h, &f->L);
	struct vw_layout *L = &f->L;

	uint32_t *byseg[GPUSIM_SEG_MAX + 1] = { NULL };
	size_t nseg[GPUSIM_SEG_MAX + 1] = { 0 };
	int rc = 0;
	f->oldest_use = m->now_ns;
	for (size_t i = 0; i < m->nallocs; i++) {
		const struct vm_alloc *a = &m->allocs[i];
		if (!a->live)
			continue;
		if (a->last_use_ns < f->oldest_use)
			f->oldest_use = a->last_use_ns;
		if (a->preferred >= 1 && a->preferred <= GPUSIM_SEG_MAX)
			f->demand[a->preferred] += a->size;
		if (vm_is_segment(a->seg))
			nseg[a->seg]++;
		else if (a->seg == GPUSIM_SEG_SYS) {
			f->evicted_count++;
			f->evicted_bytes += a->size;
		} else {
			f->unplaced++;
		}
	}
	for (int i = 0; i < L->nstrips; i++) {
		f->owner[i] = new_owner(&L->strip[i].map);
		f->occ[i] = new_occ(&L->strip[i].map);
		if (!f->owner[i] || !f->occ[i])
			rc = -1;
	}
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++) {
		if (!vm_is_segment(s))
			continue;
		byseg[s] = malloc((nseg[s] ? nseg[s] : 1) * sizeof(uint32_t));
		if (!byseg[s])
			rc = -1;
		nseg[s] = 0;
	}
	/* The system-memory panel shows at least a VRAM's worth of bytes, so one small
	 * eviction is a small box, not the whole panel. */
	if (f->evicted_bytes > L->sys_map.len)
		L->sys_map.len = f->evicted_bytes;
	f->sys_owner = new_owner(&L->sys_map);
	f->sys_occ = new_occ(&L->sys_map);
	f->sys_idx = malloc((f->evicted_count ? f->evicted_count : 1) * sizeof(*f->sys_idx));
	f->sys_off = malloc((f->evicted_count ? f->evicted_count : 1) * sizeof(*f->sys_off));
	if (rc || !f->sys_owner || !f->sys_occ || !f->sys_idx || !f->sys_off) {
		for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++)
			free(byseg[s]);
		vw_frame_free(f);
		vw_layout_compute(m, v, w, h, &f->L);
		f->m = m;
		return -1;
	}

	/* Paint in creation order: where two spans share a boundary cell, the later wins. */
	int strip_of[GPUSIM_SEG_MAX + 1];
	for (uint32_t s = 0; s <= GPUSIM_SEG_MAX; s++)
		strip_of[s] = strip_index(L, s);
	uint64_t sys_pos = 0;
	for (size_t i = 0; i < m->nallocs; i++) {
		const struct vm_alloc *a = &m->allocs[i];
		if (!a->live)
			continue;
		if (vm_is_segment(a->seg)) {
			byseg[a->seg][nseg[a->seg]++] = (uint32_t)i;
			if (strip_of[a->seg] >= 0)
				paint(&L->strip[strip_of[a->seg]].map, f->owner[strip_of[a->seg]],
				      f->occ[strip_of[a->seg]], a->offset, a->size, (int32_t)i);
		} else if (a->seg == GPUSIM_SEG_SYS) {
			f->sys_idx[f->nsys] = (uint32_t)i;
			f->sys_off[f->nsys++] = sys_pos;
			paint(&L->sys_map, f->sys_owner, f->sys_occ, sys_pos, a->size, (int32_t)i);
			sys_pos += a->size;
		}
	}

	/* The largest free block of each segment, exactly, from the sorted offsets. */
	for (uint32_t s = 1; s <= GPUSIM_SEG_MAX; s++) {
		if (!vm_is_segment(s))
			continue;
		sort_by_offset(m->allocs, byseg[s], nseg[s]);
		uint64_t pos = 0, size = m->adapter.seg_size[s];
		for (size_t k = 0; k <= nseg[s]; k++) {
			uint64_t off = size, end = size;
			if (k < nseg[s]) {
				const struct vm_alloc *a = &m->allocs[byseg[s][k]];
				off = a->offset < size ? a->offset : size;
				end = a->offset + a->size;
			}
			if (off > pos && off - pos > f->largest_len[s]) {
				f->largest_off[s] = pos;
				f->largest_len[s] = off - pos;
			}
			if (end > pos)
				pos = end;
		}
		free(byseg[s]);
	}
	return va_build(f);
}

/* ---- the GPU VA space strip ------------------------------------------------------------- */

/* The first mapping ending after va (m->va_map is sorted and disjoint). */
static size_t map_ending_after(const struct vm_model *m, uint64_t va)
{
	size_t lo = 0, hi = m->nva_map;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->va_map[mid].base + m->va_map[mid].size <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Addresses [lo, hi) that bar column px of range c shows. */
static void va_column(const struct vw_va_col *c, int px, uint64_t *lo, uint64_t *hi)
{
	uint64_t k = (uint64_t)(px - c->x);
	*lo = c->base + (uint64_t)((unsigned __int128)c->size * k / (uint64_t)c->w);
	*hi = c->base + (uint64_t)((unsigned __int128)c->size * (k + 1) / (uint64_t)c->w);
	if (*hi <= *lo)
		*hi = *lo + 1;
}

/* The 2^48 bytes of a VA space are mostly never reserved: only the reserved
 * ranges get pixels, side by side in address order, and what lies between two
 * of them (and before the first, after the last) is one narrow gap mark,
 * whatever its size. A range's width grows with the square root of its size
 * from a floor of two pixels, so a 64 KiB range stays visible beside a 1 GiB
 * one; inside a range, addresses are linear. */
static int va_build(struct vw_frame *f)
{
	const struct vm_model *m = f->m;
	const struct vw_rect *bar = &f->L.va_bar;
	f->va_tail_x = -1;
	if (bar->w <= 0 || bar->h <= 0)
		return 0;
	size_t n = m->nva_res;
	f->va_px = malloc((size_t)bar->w * sizeof(*f->va_px));
	f->va_cols = calloc(n ? n : 1, sizeof(*f->va_cols));
	if (!f->va_px || !f->va_cols) {
		free(f->va_px);
		free(f->va_cols);
		f->va_px = NULL;
		f->va_cols = NULL;
		return -1;
	}
	for (int x = 0; x < bar->w; x++)
		f->va_px[x] = VW_VA_PX_GAP;
	f->nva_cols = n;
	if (!n)
		return 0;
	const struct vm_va_range *R = m->va_res;
	uint64_t W = (uint64_t)bar->w;
	/* Gaps: before the first range unless it starts at 0, between ranges that
	 * do not touch, and always after the last. */
	uint64_t ngaps = 1 + (R[0].base > 0);
	for (size_t i = 1; i < n; i++)
		ngaps += R[i].base != R[i - 1].base + R[i - 1].size;
	/* Narrower gap marks first, then none, before any range goes unshown. */
	uint64_t gw = 4 * (uint64_t)f->L.ts + 2, minw = 2;
	if (n * minw + ngaps * gw > W)
		gw = 1;
	if (n * minw + ngaps * gw > W)
		minw = 1;
	if (n * minw + ngaps * gw > W)
		gw = 0;
	size_t shown = n * minw + ngaps * gw <= W ? n : (size_t)(W / minw);
	uint64_t wsum = 0, used = 0;
	for (size_t i = 0; i < shown; i++)
		wsum += isqrt(R[i].size) + 1;
	for (size_t i = 0; i < shown; i++)
		used += minw + ((i == 0 && R[0].base > 0) || (i > 0 && R[i].base != R[i - 1].base + R[i - 1].size)) * gw;
	used += gw; /* the tail */
	uint64_t extra = W > used ? W - used : 0, given = 0;
	int x = bar->x;
	for (size_t i = 0; i < n; i++) {
		struct vw_va_col *c = &f->va_cols[i];
		c->base = R[i].base;
		c->size = R[i].size;
		c->gap_before = i == 0 ? R[0].base > 0 : R[i].base != R[i - 1].base + R[i - 1].size;
		if (i >= shown) {
			c->x = bar->x + bar->w;
			continue;
		}
		if (c->gap_before) {
			c->gap_x = x + (int)gw / 2;
			x += (int)gw;
		}
		uint64_t w = extra ? (uint64_t)((unsigned __int128)extra * (isqrt(R[i].size) + 1) / wsum) : 0;
		given += w;
		if (i == shown - 1)
			w += extra - given; /* what rounding left goes to the last */
		c->x = x;
		c->w = (int)(minw + w);
		x += c->w;
	}
	f->va_hidden = n - shown;
	f->va_tail_x = gw && x < bar->x + bar->w ? x + (int)gw / 2 : -1;
	/* Each column shows the mapping at its first address, else the first one
	 * starting inside it: a mapping smaller than a column still shows. */
	for (size_t i = 0; i < shown; i++) {
		const struct vw_va_col *c = &f->va_cols[i];
		for (int px = c->x; px < c->x + c->w && px < bar->x + bar->w; px++) {
			uint64_t lo, hi;
			va_column(c, px, &lo, &hi);
			size_t j = map_ending_after(m, lo);
			f->va_px[px - bar->x] = j < m->nva_map && m->va_map[j].base < hi ? (int32_t)j : VW_VA_PX_RESERVED;
		}
	}
	return 0;
}

bool vw_frame_va_x(const struct vw_frame *f, uint64_t va, int *x)
{
	const struct vw_rect *bar = &f->L.va_bar;
	if (!f->va_px || bar->w <= 0)
		return false;
	size_t lo = 0, hi = f->nva_cols;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->va_cols[mid].base + f->va_cols[mid].size <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nva_cols) {
		const struct vw_va_col *c = &f->va_cols[lo];
		if (!c->w)
			return false; /* no room to show it */
		if (c->base <= va) {
			*x = c->x + (int)((unsigned __int128)(va - c->base) * (uint64_t)c->w / c->size);
			return true;
		}
		*x = c->gap_before ? c->gap_x : c->x;
		return true;
	}
	if (f->va_tail_x >= 0) {
		*x = f->va_tail_x;
		return true;
	}
	*x = bar->x + bar->w - 1;
	return true;
}

bool vw_frame_va_hit(const struct vw_frame *f, int x, int y, struct vw_va_hit *out)
{
	const struct vw_rect *bar = &f->L.va_bar;
	memset(out, 0, sizeof(*out));
	if (!f->va_px || x < bar->x || x >= bar->x + bar->w || y < f->L.va_faults.y || y >= bar->y + bar->h)
		return false;
	const struct vm_model *m = f->m;
	out->gap = true;
	for (size_t i = 0; i < f->nva_cols && i < m->nva_res; i++) {
		const struct vw_va_col *c = &f->va_cols[i];
		if (x < c->x || x >= c->x + c->w)
			continue;
		uint64_t lo, hi;
		va_column(c, x, &lo, &hi);
		out->gap = false;
		out->va = lo;
		out->reservation = &m->va_res[i];
		break;
	}
	int32_t k = f->va_px[x - bar->x];
	if (!out->gap && k >= 0 && (size_t)k < m->nva_map) {
		out->mapping = &m->va_map[k];
		const struct vm_alloc *a = vm_find(m, out->mapping->handle);
		out->alloc = a && a->live ? a : NULL;
	}
	return true;
}

void vw_va_hit_text(char *buf, size_t len, const struct vw_va_hit *h)
{
	char sz[32];
	if (h->gap || !h->reservation) {
		snprintf(buf, len, "(addresses not reserved, elided)");
		return;
	}
	if (h->mapping) {
		vw_fmt_bytes(sz, sizeof(sz), h->mapping->size);
		snprintf(buf, len, "0x%" PRIx64 " +%s maps %s 0x%" PRIx32 "%s", h->mapping->base, sz,
			 h->alloc ? h->alloc->name : "(gone)", h->mapping->handle,
			 h->mapping->kind == VM_VA_PROT_READ_ONLY ? " read-only" : "");
		return;
	}
	const struct vm_va_range *r = h->reservation;
	vw_fmt_bytes(sz, sizeof(sz), r->size);
	snprintf(buf, len, "0x%" PRIx64 " +%s reserved%s, nothing mapped at 0x%" PRIx64, r->base, sz,
		 r->kind == VM_VA_IMPLICIT ? " by a map" : "", h->va);
}

uint32_t vw_usage_rgb(const struct vw_frame *f, uint32_t seg)
{
	const struct vm_model *m = f->m;
	uint64_t size = m->adapter.seg_size[seg], used = m->seg[seg].used;
	if (f->demand[seg] > size)
		return VW_RGB_OVER;
	if (used * 5 > size * 4)
		return VW_RGB_WARN;
	return VW_RGB_OK;
}

/* ---- hit testing ----------------------------------------------------------------------- */

static bool map_cell_at(const struct vw_map *mp, int x, int y, bool allow_gap, uint64_t *cell)
{
	if (!mp->rows || x < mp->r.x || x >= mp->r.x + mp->r.w || y < mp->r.y || y >= mp->r.y + mp->r.h)
		return false;
	int dy = y - mp->r.y, row = dy / row_pitch(mp);
	if (!allow_gap && dy % row_pitch(mp) >= mp->row_h)
		return false;
	if (row >= mp->rows)
		row = mp->rows - 1;
	*cell = (uint64_t)row * (uint64_t)mp->cols + (uint64_t)(x - mp->r.x);
	return true;
}

uint32_t vw_frame_hit(const struct vw_frame *f, int x, int y)
{
	uint64_t c;
	int32_t k = -1;
	for (int i = 0; i < f->L.nstrips && k < 0; i++)
		if (f->owner[i] && map_cell_at(&f->L.strip[i].map, x, y, false, &c))
			k = f->owner[i][c];
	if (k < 0 && f->sys_owner && map_cell_at(&f->L.sys_map, x, y, false, &c))
		k = f->sys_owner[c];
	struct vw_va_hit vh;
	if (k < 0 && vw_frame_va_hit(f, x, y, &vh))
		return vh.alloc ? vh.alloc->handle : 0;
	/* A frame laid out before the model lost its allocations (a restart, a
	 * rewind) may still name cells: no allocation, no handle. */
	if (k < 0 || !f->m || !f->m->allocs || (size_t)k >= f->m->nallocs)
		return 0;
	return f->m->allocs[k].handle;
}

bool vw_frame_byte_at(const struct vw_frame *f, int x, int y, uint32_t *seg, uint64_t *byte)
{
	uint64_t c;
	for (int i = 0; i < f->L.nstrips; i++) {
		const struct vw_map *mp = &f->L.strip[i].map;
		if (map_cell_at(mp, x, y, true, &c)) {
			*seg = f->L.strip[i].seg;
			*byte = mp->start + (uint64_t)((unsigned __int128)c * mp->len / map_cells(mp));
			return true;
		}
	}
	return false;
}

static long alloc_index(const struct vm_model *m, uint32_t handle)
{
	const struct vm_alloc *a = handle ? vm_find(m, handle) : NULL;
	return a ? (long)(a - m->allocs) : -1;
}

/* Position of an evicted allocation in the packed system-memory panel. */
static bool sys_offset(const struct vw_frame *f, uint32_t idx, uint64_t *off)
{
	size_t lo = 0, hi = f->nsys;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (f->sys_idx[mid] < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nsys && f->sys_idx[lo] == idx) {
		*off = f->sys_off[lo];
		return true;
	}
	return false;
}

/* The map, owner cells and span of allocation idx as the frame shows it. */
static bool place_of(const struct vw_frame *f, uint32_t idx, const struct vw_map **mp, const int32_t **owner,
		     uint64_t *c0, uint64_t *c1)
{
	const struct vm_alloc *a = &f->m->allocs[idx];
	if (!a->live)
		return false;
	if (a->seg == GPUSIM_SEG_SYS) {
		uint64_t off;
		*mp = &f->L.sys_map;
		*owner = f->sys_owner;
		return sys_offset(f, idx, &off) && span_cells(*mp, off, a->size, c0, c1);
	}
	int s = vm_is_segment(a->seg) ? strip_index(&f->L, a->seg) : -1;
	if (s < 0)
		return false;
	*mp = &f->L.strip[s].map;
	*owner = f->owner[s];
	return span_cells(*mp, a->offset, a->size, c0, c1);
}

bool vw_frame_find(const struct vw_frame *f, uint32_t handle, bool sys, int *x, int *y)
{
	long idx = alloc_index(f->m, handle);
	const struct vw_map *mp;
	const int32_t *owner;
	uint64_t c0, c1;
	if (idx < 0 || !place_of(f, (uint32_t)idx, &mp, &owner, &c0, &c1) || !owner)
		return false;
	if ((f->m->allocs[idx].seg == GPUSIM_SEG_SYS) != sys)
		return false;
	/* The middle cell it owns; its first cell may carry a separator. */
	uint64_t mid = c0 + (c1 - c0 - 1) / 2, best = UINT64_MAX;
	for (uint64_t d = 0; d <= c1 - c0; d++) {
		if (mid + d < c1 && owner[mid + d] == idx && (mid + d > c0 || c1 - c0 < 3)) {
			best = mid + d;
			break;
		}
		if (mid >= c0 + d && owner[mid - d] == idx && (mid - d > c0 || c1 - c0 < 3)) {
			best = mid - d;
			break;
		}
	}
	if (best == UINT64_MAX)
		return false;
	cell_xy(mp, best, x, y);
	if (mp->row_h >= 3)
		*y += 1;
	return true;
}

/* ---- drawing helpers ------------------------------------------------------------------- */

static void set_rgb(SDL_Renderer *r, uint32_t rgb)
{
	SDL_SetRenderDrawColor(r, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, 0xff);
}

static void fill(SDL_Renderer *r, int x, int y, int w, int h, uint32_t rgb)
{
	if (w <= 0 || h <= 0)
		return;
	set_rgb(r, rgb);
	SDL_RenderFillRect(r, &(SDL_Rect){ x, y, w, h });
}

static void panel(SDL_Renderer *r, struct vw_rect b)
{
	fill(r, b.x, b.y, b.w, b.h, VW_RGB_PANEL);
}

/* Text drawn piece by piece along a line, each in its colour, cut at the right edge. */
struct line {
	SDL_Renderer *r;
	int x, y, end, ts;
};

static void put(struct line *ln, uint32_t rgb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(struct line *ln, uint32_t rgb, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ln->x >= ln->end)
		return;
	ln->x = vw_draw_text_fit(ln->r, ln->x, ln->y, ln->ts, rgb, buf, ln->end - ln->x);
}

/* Outline cells [c0, c1) of a map as one block that wraps from row to row. With
 * `bracket`, only its corners: a top line and a short tick where it starts, a
 * bottom line and a tick where it ends (rows between are left alone), so a block
 * across a whole strip does not stripe every row, and middle lines keep their colour. */
static void outline_cells(SDL_Renderer *r, const struct vw_map *mp, uint64_t c0, uint64_t c1, uint32_t rgb,
			  int thick, bool bracket)
{
	if (c1 <= c0 || !mp->cols)
		return;
	set_rgb(r, rgb);
	uint64_t cols = (uint64_t)mp->cols;
	for (uint64_t row = c0 / cols; row * cols < c1; row++) {
		uint64_t a = row * cols > c0 ? row * cols : c0, b = (row + 1) * cols < c1 ? (row + 1) * cols : c1;
		bool first = a == c0, last = b == c1;
		if (bracket && !first && !last)
			continue;
		int x0, y0;
		cell_xy(mp, a, &x0, &y0);
		int w = (int)(b - a), h = mp->row_h, t = thick < h ? thick : h;
		int eh = bracket ? (h - 1) / 3 : h;
		if (!bracket || first)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0, y0, w, t });
		if (!bracket || last)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0, y0 + h - t, w, t });
		if (first && eh > 0)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0, y0, t, eh });
		if (last && eh > 0)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0 + w - t, y0 + h - eh, t, eh });
		if (!bracket && first)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0, y0, t, h });
		if (!bracket && last)
			SDL_RenderFillRect(r, &(SDL_Rect){ x0 + w - t, y0, t, h });
	}
}

static void span_centre(const struct vw_map *mp, uint64_t c0, uint64_t c1, int *x, int *y)
{
	cell_xy(mp, c0 + (c1 - c0) / 2, x, y);
	*y += mp->row_h / 2;
}

/* ---- the maps' pixels ------------------------------------------------------------------- */

static bool gfx_ready(struct vw_gfx *g, int w, int h)
{
	if (g->tex && g->tw == w && g->th == h)
		return true;
	if (g->tex)
		SDL_DestroyTexture(g->tex);
	free(g->pixels);
	g->tex = SDL_CreateTexture(g->r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
	g->pixels = malloc((size_t)w * (size_t)h * sizeof(uint32_t));
	if (!g->tex || !g->pixels) {
		if (g->tex)
			SDL_DestroyTexture(g->tex);
		free(g->pixels);
		g->tex = NULL;
		g->pixels = NULL;
		return false;
	}
	SDL_SetTextureBlendMode(g->tex, SDL_BLENDMODE_NONE);
	g->tw = w;
	g->th = h;
	return true;
}

void vw_gfx_free(struct vw_gfx *g)
{
	if (g->tex)
		SDL_DestroyTexture(g->tex);
	free(g->pixels);
	g->tex = NULL;
	g->pixels = NULL;
	g->tw = g->th = 0;
}

/* Fill a map's pixels from its owner cells: one colour per cell, the first cell of a
 * span of three or more darkened (or, in boxes mode, a gap) so neighbours in the same
 * colour stay apart. Rows are one line computed and copied down. */
static void fill_map(struct vw_gfx *g, const struct vw_frame *f, const struct vw_map *mp, const int32_t *owner,
		     const uint32_t *occ, uint32_t empty, bool boxes)
{
	if (!mp->rows || !mp->cols || !owner || !g->pixels)
		return;
	const struct vm_model *m = f->m;
	uint32_t *px = g->pixels;
	int W = g->tw;
	int32_t last = -2;
	uint32_t last_rgb = 0;
	uint64_t n = map_cells(mp);
	for (int row = 0; row < mp->rows; row++) {
		int y = mp->r.y + row * row_pitch(mp);
		if (y >= g->th || y + mp->row_h > g->th)
			break;
		uint32_t *line = px + (size_t)y * W + mp->r.x;
		for (int col = 0; col < mp->cols; col++) {
			uint64_t c = (uint64_t)row * mp->cols + col;
			int32_t o = owner[c];
			uint32_t rgb;
			if (o < 0) {
				rgb = empty;
			} else {
				if (o != last) {
					last = o;
					last_rgb = rgb_for(m, &m->allocs[o], f->colour, f->oldest_use);
				}
				rgb = last_rgb;
				/* A cell only partly in use shows how much: sparse regions of
				 * small allocations look dimmer than packed ones. */
				if (occ && occ[c] < VW_OCC_FULL)
					rgb = lerp_rgb(empty, rgb, 0.25 + 0.75 * occ[c] / (double)VW_OCC_FULL);
				bool start = c == 0 || owner[c - 1] != o;
				if (start && c + 2 < n && owner[c + 1] == o && owner[c + 2] == o)
					rgb = boxes ? empty : darken(rgb, 5, 8);
			}
			line[col] = 0xff000000u | rgb;
		}
		for (int k = 1; k < mp->row_h; k++)
			memcpy(line + (size_t)k * W, line, (size_t)mp->cols * sizeof(uint32_t));
		if (row + 1 < mp->rows)
			for (int k = mp->row_h; k < row_pitch(mp) && y + k < g->th; k++)
				for (int col = 0; col < mp->cols; col++)
					line[(size_t)k * W + col] = 0xff000000u | VW_RGB_PANEL;
	}
	SDL_Rect rect = { mp->r.x, mp->r.y, mp->r.w, mp->r.h };
	if (rect.y + rect.h > g->th)
		rect.h = g->th - rect.y;
	if (rect.w <= 0 || rect.h <= 0)
		return;
	SDL_UpdateTexture(g->tex, &rect, px + (size_t)rect.y * W + rect.x, W * (int)sizeof(uint32_t));
	SDL_RenderCopy(g->r, g->tex, &rect, &rect);
}

/* Names on spans wide enough, once per allocation, on its first wide enough run. */
static void draw_labels(SDL_Renderer *r, const struct vw_frame *f, const struct vw_map *mp, const int32_t *owner,
			uint8_t *done)
{
	int ls = f->L.ts;
	if (mp->row_h < 7 * ls + 4)
		ls = 1;
	if (mp->row_h < 7 * ls + 4 || !owner || !done)
		return;
	const struct vm_model *m = f->m;
	int min_w = vw_text_width("ab", ls) + 6;
	for (int row = 0; row < mp->rows; row++) {
		const int32_t *o = owner + (size_t)row * mp->cols;
		int ty = mp->r.y + row * row_pitch(mp) + (mp->row_h - 7 * ls) / 2;
		for (int col = 0; col < mp->cols;) {
			int s = col;
			while (col < mp->cols && o[col] == o[s])
				col++;
			if (o[s] < 0 || done[o[s]] || col - s < min_w)
				continue;
			done[o[s]] = 1;
			const struct vm_alloc *a = &m->allocs[o[s]];
			uint32_t bg = rgb_for(m, a, f->colour, f->oldest_use);
			vw_draw_text_fit(r, mp->r.x + s + 3, ty, ls, is_light(bg) ? VW_RGB_LABEL_DARK : VW_RGB_LABEL_LIGHT, a->name,
					 col - s - 6);
		}
	}
}

static void draw_gutter(SDL_Renderer *r, const struct vw_map *mp, bool addresses)
{
	if (mp->row_h < 8 || !addresses)
		return;
	uint64_t n = map_cells(mp);
	/* Label every row when there is room, else every other one, and so on. */
	int every = 1;
	while (mp->row_h * every < 8)
		every++;
	for (int row = 0; row < mp->rows; row += every) {
		char buf[16];
		uint64_t b = mp->start + (uint64_t)((unsigned __int128)row * mp->cols * mp->len / n);
		fmt_short(buf, sizeof(buf), b);
		int x = mp->r.x - 4 - vw_text_width(buf, 1);
		vw_draw_text(r, x, mp->r.y + row * row_pitch(mp) + (mp->row_h - 7) / 2, 1, VW_RGB_DIM, buf);
	}
}

/* ---- strips, usage bars, system memory --------------------------------------------------- */

static void usage_bar(SDL_Renderer *r, struct vw_rect b, uint64_t used, uint64_t cap, uint64_t budget,
		      uint32_t rgb)
{
	/* Oversubscribed: the unused part turns dark red too, so even an empty segment
	 * that everything is evicted from says so. */
	fill(r, b.x, b.y, b.w, b.h, rgb == VW_RGB_OVER ? 0x5a2326 : VW_RGB_FREE);
	if (!cap)
		return;
	int fw = (int)((unsigned __int128)(used < cap ? used : cap) * b.w / cap);
	if (used && !fw)
		fw = 1;
	fill(r, b.x, b.y, fw, b.h, rgb);
	if (budget && budget < cap) {
		int tx = b.x + (int)((unsigned __int128)budget * b.w / cap);
		fill(r, tx, b.y - 2, 2, b.h + 4, VW_RGB_TEXT);
	}
}

/* Where the group's budget puts this segment's limit, given the other segments of
 * the group as they are; 0 when the budget does not constrain it. */
static uint64_t budget_tick(const struct vm_model *m, uint32_t seg)
{
	if (seg == GPUSIM_SEG_GART)
		return m->adapter.budget_nonlocal;
	/* The others of the group: every VRAM segment but this one (both pools). */
	uint64_t ou = vm_usage_local(m) - m->seg[seg].used;
	return m->adapter.budget_local > ou ? m->adapter.budget_local - ou : 1;
}

static void draw_strip(struct vw_gfx *g, const struct vw_frame *f, int i, uint8_t *labelled)
{
	SDL_Renderer *r = g->r;
	const struct vw_strip *st = &f->L.strip[i];
	const struct vm_model *m = f->m;
	uint32_t s = st->seg;
	uint64_t size = m->adapter.seg_size[s], used = m->seg[s].used;
	int ts = f->L.ts;
	char a[32], b[32], c[32], d[32];
	panel(r, st->box);

	struct line ln = { r, st->head.x, st->head.y, st->head.x + st->head.w, ts };
	char zoom[96] = "";
	if (st->map.len < size) {
		vw_fmt_bytes(a, sizeof(a), st->map.start);
		vw_fmt_bytes(b, sizeof(b), st->map.start + st->map.len);
		snprintf(zoom, sizeof(zoom), "x%.1f  %s..%s", (double)size / (double)st->map.len, a, b);
		int zw = vw_text_width(zoom, ts);
		if (zw < st->head.w / 2) {
			vw_draw_text(r, st->head.x + st->head.w - zw, st->head.y, ts, VW_RGB_LARGEST, zoom);
			ln.end -= zw + 2 * VW_CELL_W * ts;
		}
	}
	/* Most important first: the line is cut at the right edge. */
	fmt_pair(a, sizeof(a), used, size);
	vw_fmt_bytes(c, sizeof(c), size - (used < size ? used : size));
	vw_fmt_bytes(d, sizeof(d), f->largest_len[s]);
	put(&ln, VW_RGB_TEXT, "%s ", gpusim_segment_name(s));
	put(&ln, VW_RGB_TEXT, "%s ", a);
	put(&ln, vw_usage_rgb(f, s), "%" PRIu64 "%%", size ? used * 100 / size : 0);
	if (f->demand[s] > size) {
		vw_fmt_bytes(b, sizeof(b), f->demand[s]);
		put(&ln, VW_RGB_OVER, " wanted %s", b);
	}
	put(&ln, VW_RGB_DIM, "  free %s  largest %s  %" PRIu32 " allocs", c, d, m->seg[s].count);

	usage_bar(r, st->bar, used, size, budget_tick(m, s), vw_usage_rgb(f, s));
	fill_map(g, f, &st->map, f->owner[i], f->occ[i], VW_RGB_FREE, false);
	draw_gutter(r, &st->map, true);

	uint64_t c0, c1;
	if (f->largest_len[s] && inner_cells(&st->map, f->largest_off[s], f->largest_len[s], &c0, &c1))
		outline_cells(r, &st->map, c0, c1, VW_RGB_LARGEST, 1, true);
	draw_labels(r, f, &st->map, f->owner[i], labelled);
}

static void draw_sys(struct vw_gfx *g, const struct vw_frame *f, uint8_t *labelled)
{
	SDL_Renderer *r = g->r;
	const struct vw_layout *L = &f->L;
	if (L->sys.h <= 0)
		return;
	panel(r, L->sys);
	char a[32], b[32];
	vw_fmt_bytes(a, sizeof(a), f->evicted_bytes);
	vw_fmt_bytes(b, sizeof(b), L->sys_map.len);
	struct line ln = { r, L->sys_head.x, L->sys_head.y, L->sys_head.x + L->sys_head.w, L->ts };
	put(&ln, VW_RGB_TEXT, "system memory ");
	put(&ln, VW_RGB_DIM, " %" PRIu64 " evicted, %s", f->evicted_count, a);
	if (f->unplaced)
		put(&ln, VW_RGB_DIM, ", %" PRIu64 " not placed", f->unplaced);
	put(&ln, VW_RGB_DIM, "  (panel spans %s)", b);
	fill_map(g, f, &L->sys_map, f->sys_owner, f->sys_occ, RGB_SYS_EMPTY, true);
	draw_labels(r, f, &L->sys_map, f->sys_owner, labelled);
}

/* ---- the VA strip ------------------------------------------------------------------------- */

static void draw_va(SDL_Renderer *r, const struct vw_frame *f, const struct vw_view *v)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	if (L->va.h <= 0)
		return;
	int ts = L->ts;
	panel(r, L->va);
	struct line ln = { r, L->va_head.x, L->va_head.y, L->va_head.x + L->va_head.w, ts };
	put(&ln, VW_RGB_TEXT, "GPU VA space ");
	struct vw_va_hit hit;
	if (v->va_hover_on && vw_frame_va_hit(f, v->va_hover_x, L->va_bar.y, &hit)) {
		char text[160];
		vw_va_hit_text(text, sizeof(text), &hit);
		put(&ln, hit.alloc ? rgb_for(m, hit.alloc, f->colour, f->oldest_use) : VW_RGB_TEXT, " %s", text);
	} else {
		uint64_t reserved = 0, mapped = 0;
		for (size_t i = 0; i < m->nva_res; i++)
			reserved += m->va_res[i].size;
		for (size_t i = 0; i < m->nva_map; i++)
			mapped += m->va_map[i].size;
		char a[32], b[32];
		vw_fmt_bytes(a, sizeof(a), reserved);
		vw_fmt_bytes(b, sizeof(b), mapped);
		put(&ln, VW_RGB_DIM, " %zu reserved %s, %zu mapped %s", m->nva_res, a, m->nva_map, b);
		if (m->va_faults_total)
			put(&ln, VW_RGB_FAULT, "  %" PRIu64 " faults", m->va_faults_total);
		if (f->va_hidden)
			put(&ln, VW_RGB_OVER, "  %zu ranges not shown", f->va_hidden);
		put(&ln, VW_RGB_DIM, "  (gaps elided)");
	}
	const struct vw_rect *bar = &L->va_bar;
	fill(r, bar->x, bar->y, bar->w, bar->h, VW_RGB_BG);
	if (!f->va_px)
		return;
	uint32_t sel = v->selected ? v->selected : v->hover;
	for (int px = 0; px < bar->w; px++) {
		int32_t k = f->va_px[px];
		if (k == VW_VA_PX_GAP)
			continue;
		uint32_t rgb = VW_RGB_VA_RESERVED;
		if (k >= 0 && (size_t)k < m->nva_map) {
			const struct vm_alloc *a = vm_find(m, m->va_map[k].handle);
			rgb = a && a->live ? rgb_for(m, a, f->colour, f->oldest_use) : VW_RGB_VA_ORPHAN;
			if (sel && m->va_map[k].handle == sel)
				fill(r, bar->x + px, L->va_under.y, 1, L->va_under.h, 0xffffff);
		}
		fill(r, bar->x + px, bar->y, 1, bar->h, rgb);
	}
	/* A gap: a broken double line, the mark of something left out. */
	for (size_t i = 0; i <= f->nva_cols; i++) {
		int gx;
		if (i < f->nva_cols) {
			if (!f->va_cols[i].gap_before || !f->va_cols[i].w)
				continue;
			gx = f->va_cols[i].gap_x;
		} else if ((gx = f->va_tail_x) < 0) {
			continue;
		}
		for (int y = 0; y < bar->h; y += 4) {
			fill(r, gx - ts, bar->y + y, 1, 2, VW_RGB_VA_GAP);
			fill(r, gx + ts, bar->y + y + 2, 1, 2, VW_RGB_VA_GAP);
		}
	}
	for (size_t i = 0; i < m->nva_faults; i++) {
		int x;
		if (vw_frame_va_x(f, m->va_faults[i].va, &x))
			fill(r, x - ts, L->va_faults.y, 2 * ts + 1, L->va_faults.h, VW_RGB_FAULT);
	}
}

/* ---- timeline ------------------------------------------------------------------------ */

static void draw_timeline(SDL_Renderer *r, const struct vw_frame *f, const struct vw_view *v)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	struct vw_rect b = L->timeline;
	int ts = L->ts, lh = vw_line_height(ts), P = 2 * ts + 1;
	if (b.h <= 2 * lh + 2 * P)
		return;
	panel(r, b);
	char x1[32], x2[32];
	vw_fmt_bytes(x1, sizeof(x1), m->bytes_in);
	vw_fmt_bytes(x2, sizeof(x2), m->bytes_out);
	struct line ln = { r, b.x + P, b.y + P, b.x + b.w - P, ts };
	put(&ln, VW_RGB_TEXT, "paging ");
	put(&ln, RGB_IN, " in %s", x1);
	put(&ln, RGB_OUT, "  out %s", x2);
	put(&ln, RGB_MOVE, "  moves %" PRIu64, m->moves);
	put(&ln, RGB_DEMOTE, "  demotions %" PRIu64, m->demotions);
	put(&ln, RGB_PROMOTE, "  promotions %" PRIu64, m->promotions);
	put(&ln, RGB_OUT, "  evictions %" PRIu64, m->evictions);
	put(&ln, RGB_FAULT, "  faults %" PRIu64, m->faults);
	if (m->signals || m->waits) {
		put(&ln, VW_RGB_SIGNAL_CPU, "  signals %" PRIu64, m->signals);
		put(&ln, VW_RGB_WAIT, "  waits %" PRIu64, m->waits);
	}

	struct vw_rect p = L->plot;
	if (p.w < 2 || p.h < 6)
		return;
	fill(r, p.x, p.y, p.w, p.h, VW_RGB_BG);
	int bw = ts, nb = p.w / bw, mk = 2 * ts + 1;  /* bar width, bins, marker row height */
	uint64_t t_end = v->t_end > m->now_ns ? v->t_end : m->now_ns;
	if (!t_end)
		t_end = 1;
	/* Fences get a row of their own at the bottom, signals over waits, when
	 * the model has any (a WDDM 1 timeline keeps its height for the bars). */
	int fr = (m->signals || m->waits) && p.h >= 4 * mk + 8 ? 2 * mk : 0;
	uint64_t *in = calloc((size_t)nb * 5, sizeof(uint64_t));
	uint16_t *flags = calloc((size_t)nb, sizeof(*flags));
	if (!in || !flags) {
		free(in);
		free(flags);
		return;
	}
	uint64_t *out = in + nb, *mv = out + nb, *dm = mv + nb, *pm = dm + nb;
	for (size_t i = 0; i < m->nmarks; i++) {
		const struct vm_mark *k = &m->marks[i];
		uint64_t t = k->time_ns < t_end ? k->time_ns : t_end;
		size_t bin = (size_t)((unsigned __int128)t * (uint64_t)(nb - 1) / t_end);
		switch (k->type) {
		case GPUSIM_EV_EVICT:
			out[bin] += k->bytes;
			flags[bin] |= 1;
			break;
		case GPUSIM_EV_PAGE_IN:
			in[bin] += k->bytes;
			flags[bin] |= 4;
			break;
		case GPUSIM_EV_MOVE:
			mv[bin] += k->bytes;
			flags[bin] |= 8;
			break;
		case GPUSIM_EV_DEMOTE:
			dm[bin] += k->bytes;
			flags[bin] |= 16;
			break;
		case GPUSIM_EV_PROMOTE:
			pm[bin] += k->bytes;
			flags[bin] |= 32;
			break;
		case GPUSIM_EV_FAULT:
			flags[bin] |= 2;
			break;
		case GPUSIM_EV_SIGNAL:
			flags[bin] |= k->cause == GPUSIM_CAUSE_CPU ? 64 : 128;
			break;
		case GPUSIM_EV_WAIT:
			flags[bin] |= 256;
			break;
		default:
			break;
		}
	}
	uint64_t peak = 1;
	for (int i = 0; i < nb; i++) {
		if (in[i] + mv[i] + dm[i] + pm[i] > peak)
			peak = in[i] + mv[i] + dm[i] + pm[i];
		if (out[i] > peak)
			peak = out[i];
	}
	/* Paged in, moved, demoted and promoted (copies between segments) above the
	 * middle line, stacked in that order; paged out below it. */
	int half = (p.h - mk - fr - 1) / 2, mid = p.y + mk + half;
	fill(r, p.x, mid, p.w, 1, VW_RGB_FREE);
	for (int i = 0; i < nb; i++) {
		int x = p.x + i * bw;
		int hi = in[i] ? (int)((unsigned __int128)in[i] * half / peak) : 0;
		int hm = mv[i] ? (int)((unsigned __int128)mv[i] * half / peak) : 0;
		int ho = out[i] ? (int)((unsigned __int128)out[i] * half / peak) : 0;
		int hd = dm[i] ? (int)((unsigned __int128)dm[i] * half / peak) : 0;
		int hp = pm[i] ? (int)((unsigned __int128)pm[i] * half / peak) : 0;
		if (in[i] && !hi)
			hi = 1;
		if (mv[i] && !hm)
			hm = 1;
		if (out[i] && !ho)
			ho = 1;
		if (dm[i] && !hd)
			hd = 1;
		if (pm[i] && !hp)
			hp = 1;
		fill(r, x, mid - hi, bw, hi, RGB_IN);
		fill(r, x, mid - hi - hm, bw, hm, RGB_MOVE);
		fill(r, x, mid - hi - hm - hd, bw, hd, RGB_DEMOTE);
		fill(r, x, mid - hi - hm - hd - hp, bw, hp, RGB_PROMOTE);
		fill(r, x, mid + 1, bw, ho, RGB_OUT);
		/* One mark a bar, the most telling: eviction, else page-in, else
		 * demotion, promotion, move (a copy of 0 bytes, a GART remap, still
		 * gets its mark). */
		if (flags[i] & 1)
			fill(r, x, p.y, bw, mk, RGB_OUT);
		else if (flags[i] & 4)
			fill(r, x, p.y, bw, mk, RGB_IN);
		else if (flags[i] & 16)
			fill(r, x, p.y, bw, mk, RGB_DEMOTE);
		else if (flags[i] & 32)
			fill(r, x, p.y, bw, mk, RGB_PROMOTE);
		else if (flags[i] & 8)
			fill(r, x, p.y, bw, mk, RGB_MOVE);
		if (fr && (flags[i] & (64 | 128)))
			fill(r, x, p.y + p.h - fr, bw, mk, flags[i] & 64 ? VW_RGB_SIGNAL_CPU : VW_RGB_SIGNAL_GPU);
		if (fr && (flags[i] & 256))
			fill(r, x, p.y + p.h - mk, bw, mk, VW_RGB_WAIT);
		if (flags[i] & 2) {
			fill(r, x, p.y, bw, p.h, RGB_FAULT);
			fill(r, x - ts, p.y, bw + 2 * ts, mk, RGB_FAULT);
		}
	}
	/* Where playback is, and the moment compared with. */
	int nx = p.x + (int)((unsigned __int128)m->now_ns * (uint64_t)(nb - 1) / t_end) * bw;
	fill(r, nx, p.y, 1, p.h, VW_RGB_TEXT);
	if (v->before) {
		uint64_t bt = v->before->now_ns < t_end ? v->before->now_ns : t_end;
		int cx = p.x + (int)((unsigned __int128)bt * (uint64_t)(nb - 1) / t_end) * bw;
		for (int y = p.y; y < p.y + p.h; y += 4)
			fill(r, cx, y, 1, 2, VW_RGB_MOVED);
	}
	free(in);
	free(flags);

	char t0[32], t1[32], pk[32];
	vw_fmt_time(t1, sizeof(t1), t_end);
	vw_fmt_bytes(pk, sizeof(pk), peak);
	snprintf(t0, sizeof(t0), "0");
	int ay = p.y + p.h + ts;
	vw_draw_text(r, p.x, ay, ts, VW_RGB_DIM, t0);
	vw_draw_text(r, p.x + p.w - vw_text_width(t1, ts), ay, ts, VW_RGB_DIM, t1);
	char mid_txt[64];
	bool paged = false;
	for (size_t i = 0; i < m->nmarks && !paged; i++)
		paged = vm_mark_is_paging(m->marks[i].type) || m->marks[i].type == GPUSIM_EV_FAULT;
	if (paged)
		snprintf(mid_txt, sizeof(mid_txt), "peak %s per bar", pk);
	else
		snprintf(mid_txt, sizeof(mid_txt), "no paging yet");
	int mw = vw_text_width(mid_txt, ts);
	if (mw + 2 * vw_text_width(t1, ts) + 4 * VW_CELL_W * ts < p.w)
		vw_draw_text(r, p.x + (p.w - mw) / 2, ay, ts, VW_RGB_DIM, mid_txt);
}

/* ---- right column ------------------------------------------------------------------------ */

static uint32_t group_rgb(uint64_t used, uint64_t budget, uint64_t demand, uint64_t cap)
{
	if (demand > cap || (budget && used > budget))
		return VW_RGB_OVER;
	if (budget ? used * 5 > budget * 4 : used * 5 > cap * 4)
		return VW_RGB_WARN;
	return VW_RGB_OK;
}

static void draw_counters(SDL_Renderer *r, const struct vw_frame *f)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	struct vw_rect b = L->counters;
	int ts = L->ts, lh = vw_line_height(ts), P = 2 * ts + 1, barh = 2 + 2 * ts;
	if (b.h <= 0)
		return;
	panel(r, b);
	int x = b.x + P, y = b.y + P, end = b.x + b.w - P;
	char u[32], bu[32], t[32];
	struct line ln;

	/* Local is every VRAM segment, the second pool's too (as the budget counts). */
	uint64_t lu = vm_usage_local(m);
	uint64_t lcap = m->adapter.seg_size[GPUSIM_SEG_VISIBLE] + m->adapter.seg_size[GPUSIM_SEG_INVISIBLE] +
			m->adapter.seg_size[GPUSIM_SEG_VRAM2];
	uint64_t ldem = f->demand[GPUSIM_SEG_VISIBLE] + f->demand[GPUSIM_SEG_INVISIBLE] + f->demand[GPUSIM_SEG_VRAM2];
	uint64_t nu = m->seg[GPUSIM_SEG_GART].used, ncap = m->adapter.seg_size[GPUSIM_SEG_GART];
	struct {
		const char *name;
		uint64_t used, budget, demand, cap;
	} g[2] = { { "local", lu, m->adapter.budget_local, ldem, lcap },
		   { "non-local", nu, m->adapter.budget_nonlocal, f->demand[GPUSIM_SEG_GART], ncap } };
	for (int i = 0; i < 2; i++) {
		vw_fmt_bytes(u, sizeof(u), g[i].used);
		vw_fmt_bytes(bu, sizeof(bu), g[i].budget);
		ln = (struct line){ r, x, y, end, ts };
		uint32_t rgb = group_rgb(g[i].used, g[i].budget, g[i].demand, g[i].cap);
		put(&ln, VW_RGB_TEXT, "%-9s ", g[i].name);
		put(&ln, rgb, "%s", u);
		put(&ln, VW_RGB_DIM, " / budget %s", bu);
		y += lh;
		uint64_t scale = g[i].cap > g[i].budget ? g[i].cap : g[i].budget;
		usage_bar(r, (struct vw_rect){ x, y, end - x, barh }, g[i].used, scale, g[i].budget, rgb);
		y += barh + 2 * ts;
	}
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "evictions ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->evictions);
	put(&ln, VW_RGB_DIM, "  page-ins ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->page_ins);
	put(&ln, VW_RGB_DIM, "  moves ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->moves);
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "demotions ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->demotions);
	put(&ln, VW_RGB_DIM, "  promotions ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->promotions);
	y += lh;
	vw_fmt_bytes(u, sizeof(u), m->bytes_in);
	vw_fmt_bytes(bu, sizeof(bu), m->bytes_out);
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "paged in ");
	put(&ln, VW_RGB_TEXT, "%s", u);
	put(&ln, VW_RGB_DIM, "  out ");
	put(&ln, VW_RGB_TEXT, "%s", bu);
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "faults ");
	put(&ln, m->faults ? RGB_FAULT : VW_RGB_TEXT, "%" PRIu64, m->faults);
	put(&ln, VW_RGB_DIM, "  submits ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->submits);
	y += lh;
	vw_fmt_time(t, sizeof(t), m->now_ns);
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "time ");
	put(&ln, VW_RGB_TEXT, "%s", t);
	put(&ln, VW_RGB_DIM, "  items ");
	put(&ln, VW_RGB_TEXT, "%" PRIu64, m->events);
	y += lh;
	if (m->device_removed)
		vw_draw_text_fit(r, x, y, ts, VW_RGB_OVER, "DEVICE REMOVED", end - x);
}

/* Per-device usage by segment; the sum row must equal the segments' own totals. */
static void draw_devices(SDL_Renderer *r, const struct vw_frame *f)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	struct vw_rect b = L->devices;
	int ts = L->ts, lh = vw_line_height(ts), P = 2 * ts + 1;
	if (b.h <= 0)
		return;
	panel(r, b);
	int x = b.x + P, y = b.y + P, end = b.x + b.w - P;
	/* A vram2 column only with a second pool (or allocations in it): five columns
	 * are narrower, so a one-pool adapter keeps its roomier four. */
	static const char *const head5[5] = { "vis", "invis", "vram2", "gart", "sys" };
	static const uint32_t ids5[5] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_VRAM2, GPUSIM_SEG_GART,
					  GPUSIM_SEG_SYS };
	static const char *const head4[4] = { "vis", "invis", "gart", "sys" };
	static const uint32_t ids4[4] = { GPUSIM_SEG_VISIBLE, GPUSIM_SEG_INVISIBLE, GPUSIM_SEG_GART, GPUSIM_SEG_SYS };
	bool pool2 = m->adapter.seg_size[GPUSIM_SEG_VRAM2] || m->seg[GPUSIM_SEG_VRAM2].count;
	int ncol = pool2 ? 5 : 4;
	const char *const *head = pool2 ? head5 : head4;
	const uint32_t *ids = pool2 ? ids5 : ids4;
	int cw = (pool2 ? 6 : 7) * VW_CELL_W * ts, c0 = x + (pool2 ? 7 : 9) * VW_CELL_W * ts; /* column width, first */
	char buf[32];
	vw_draw_text_fit(r, x, y, ts, VW_RGB_TEXT, "device", c0 - x);
	for (int k = 0; k < ncol; k++) {
		int cx = c0 + k * cw + cw - VW_CELL_W * ts;
		if (cx <= end)
			vw_draw_text(r, cx - vw_text_width(head[k], ts), y, ts, VW_RGB_DIM, head[k]);
	}
	y += lh;
	uint64_t sum[5] = { 0 };
	size_t shown = m->ndevices < 6 ? m->ndevices : 6;
	for (size_t i = 0; i < m->ndevices; i++) {
		for (int k = 0; k < ncol; k++)
			sum[k] += m->devices[i].used[ids[k]];
		if (i >= shown)
			continue;
		fill(r, x, y + ts, 4 * ts, 7 * ts, device_palette[i % 8]);
		snprintf(buf, sizeof(buf), "%" PRIx32, m->devices[i].device);
		vw_draw_text_fit(r, x + 6 * ts, y, ts, VW_RGB_TEXT, buf, c0 - x - 7 * ts);
		for (int k = 0; k < ncol; k++) {
			fmt_short(buf, sizeof(buf), m->devices[i].used[ids[k]]);
			int cx = c0 + k * cw + cw - VW_CELL_W * ts;
			if (cx <= end)
				vw_draw_text(r, cx - vw_text_width(buf, ts), y, ts, VW_RGB_TEXT, buf);
		}
		y += lh;
	}
	if (m->ndevices > shown) {
		snprintf(buf, sizeof(buf), "+%zu more", m->ndevices - shown);
		vw_draw_text(r, x, y, ts, VW_RGB_DIM, buf);
		y += lh;
	}
	/* Sum of the devices, then the segments' totals: red where they disagree. */
	for (int row = 0; row < 2; row++) {
		vw_draw_text_fit(r, x, y, ts, VW_RGB_DIM, row ? "segments" : "sum", c0 - x);
		for (int k = 0; k < ncol; k++) {
			uint64_t segv = ids[k] == GPUSIM_SEG_SYS ? f->evicted_bytes : m->seg[ids[k]].used;
			uint64_t val = row ? segv : sum[k];
			fmt_short(buf, sizeof(buf), val);
			int cx = c0 + k * cw + cw - VW_CELL_W * ts;
			if (cx <= end)
				vw_draw_text(r, cx - vw_text_width(buf, ts), y, ts, sum[k] == segv ? VW_RGB_TEXT : VW_RGB_OVER,
					     buf);
		}
		y += lh;
	}
}

static void move_text(char *buf, size_t len, const struct vm_move *mv)
{
	char t[32];
	vw_fmt_time(t, sizeof(t), mv->time_ns);
	const char *what = gpusim_event_name(mv->type);
	/* Times right-aligned, so a column of them reads at a glance. */
	if (mv->type == GPUSIM_EV_CREATE || mv->type == GPUSIM_EV_PLACE)
		snprintf(buf, len, "%9s %s %s @%" PRIx64, t, what, seg_short(mv->to), mv->offset);
	else if (mv->type == GPUSIM_EV_DESTROY)
		snprintf(buf, len, "%9s %s", t, what);
	else if (vm_is_segment(mv->to))
		snprintf(buf, len, "%9s %s %s>%s @%" PRIx64 " %s", t, what, seg_short(mv->from), seg_short(mv->to),
			 mv->offset, cause_name(mv->cause));
	else
		snprintf(buf, len, "%9s %s %s>%s %s", t, what, seg_short(mv->from), seg_short(mv->to),
			 cause_name(mv->cause));
}

static void draw_details(SDL_Renderer *r, const struct vw_frame *f, const struct vw_view *v)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	struct vw_rect b = L->details;
	int ts = L->ts, lh = vw_line_height(ts), P = 2 * ts + 1;
	if (b.h < lh + 2 * P)
		return;
	panel(r, b);
	int x = b.x + P, y = b.y + P, end = b.x + b.w - P, bottom = b.y + b.h - P;
	char s1[48], s2[48], s3[48];
	struct line ln;
	uint32_t h = v->hover ? v->hover : v->selected;
	const struct vm_alloc *a = h ? vm_find(m, h) : NULL;
	if (!a) {
		if (v->before && v->diff) {
			ln = (struct line){ r, x, y, end, ts };
			vw_fmt_time(s1, sizeof(s1), v->before->now_ns);
			put(&ln, VW_RGB_TEXT, "compare with item %zu (%s)", v->before_pos, s1);
			y += lh;
			ln = (struct line){ r, x, y, end, ts };
			put(&ln, VW_RGB_APPEARED, "+%zu appeared ", v->diff->nappeared);
			put(&ln, VW_RGB_LEFT, " -%zu left ", v->diff->nleft);
			put(&ln, VW_RGB_MOVED, " %zu moved", v->diff->nmoved);
			y += lh;
			/* Moved first, then left, then appeared; each list gets a fair share
			 * of the lines, and says how many it could not show. */
			struct {
				const uint32_t *h;
				size_t n;
				const struct vm_model *from;
				uint32_t rgb;
				char sign;
			} lists[3] = { { v->diff->moved, v->diff->nmoved, m, VW_RGB_MOVED, '>' },
				       { v->diff->left, v->diff->nleft, v->before, VW_RGB_LEFT, '-' },
				       { v->diff->appeared, v->diff->nappeared, m, VW_RGB_APPEARED, '+' } };
			int nonempty = (lists[0].n > 0) + (lists[1].n > 0) + (lists[2].n > 0);
			for (int k = 0; k < 3; k++) {
				if (!lists[k].n)
					continue;
				int room = (bottom - y) / lh / (nonempty ? nonempty : 1);
				nonempty--;
				size_t show = lists[k].n <= (size_t)room ? lists[k].n : room > 1 ? (size_t)room - 1 : 0;
				for (size_t i = 0; i < show; i++) {
					const struct vm_alloc *c = vm_find(lists[k].from, lists[k].h[i]);
					if (!c)
						continue;
					const struct vm_alloc *old = k == 0 ? vm_find(v->before, c->handle) : NULL;
					vw_fmt_bytes(s1, sizeof(s1), c->size);
					ln = (struct line){ r, x, y, end, ts };
					put(&ln, lists[k].rgb, "%c ", lists[k].sign);
					put(&ln, VW_RGB_TEXT, "%s ", c->name);
					if (old)
						put(&ln, VW_RGB_DIM, "%s>%s ", seg_short(old->seg), seg_short(c->seg));
					else
						put(&ln, VW_RGB_DIM, "%s ", seg_short(c->seg));
					put(&ln, VW_RGB_DIM, "%s", s1);
					y += lh;
				}
				if (show < lists[k].n && room > 0) {
					ln = (struct line){ r, x, y, end, ts };
					put(&ln, lists[k].rgb, "%c ", lists[k].sign);
					put(&ln, VW_RGB_DIM, "... %zu more", lists[k].n - show);
					y += lh;
				}
			}
		} else {
			vw_draw_text_fit(r, x, y, ts, VW_RGB_DIM, "hover or click an allocation", end - x);
			y += lh;
			vw_draw_text_fit(r, x, y, ts, VW_RGB_DIM, "for its details and history", end - x);
		}
		return;
	}
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, rgb_for(m, a, f->colour, f->oldest_use), "%s", a->name);
	put(&ln, VW_RGB_DIM, "  0x%" PRIx32 "%s", a->handle, a->handle == v->selected ? " *" : "");
	y += lh;
	vw_fmt_bytes(s1, sizeof(s1), a->size);
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "size ");
	put(&ln, VW_RGB_TEXT, "%s", s1);
	put(&ln, VW_RGB_DIM, "  device ");
	put(&ln, VW_RGB_TEXT, "%" PRIx32, a->device);
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	if (!a->live) {
		put(&ln, VW_RGB_LEFT, "destroyed");
	} else if (a->seg == GPUSIM_SEG_SYS) {
		put(&ln, VW_RGB_OUT_PREF, "evicted to system memory");
	} else {
		put(&ln, VW_RGB_DIM, "in ");
		put(&ln, VW_RGB_TEXT, "%s", gpusim_segment_name(a->seg));
		put(&ln, VW_RGB_DIM, " at ");
		put(&ln, VW_RGB_TEXT, "0x%" PRIx64, a->offset);
	}
	y += lh;
	fmt_priority(s1, sizeof(s1), a->priority);
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "priority ");
	put(&ln, VW_RGB_TEXT, "%s", s1);
	put(&ln, VW_RGB_DIM, "  prefers ");
	put(&ln, in_preferred(a) ? VW_RGB_TEXT : VW_RGB_OUT_PREF, "%s",
	    a->preferred ? gpusim_segment_name(a->preferred) : "any");
	y += lh;
	vw_fmt_time(s1, sizeof(s1), a->created_ns);
	vw_fmt_time(s2, sizeof(s2), a->last_use_ns);
	vw_fmt_time(s3, sizeof(s3), m->now_ns > a->last_use_ns ? m->now_ns - a->last_use_ns : 0);
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "created ");
	put(&ln, VW_RGB_TEXT, "%s", s1);
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "last use ");
	put(&ln, VW_RGB_TEXT, "%s", s2);
	put(&ln, VW_RGB_DIM, " (%s ago)", s3);
	y += lh;
	if (a->locked) {
		vw_draw_text_fit(r, x, y, ts, VW_RGB_WARN, "locked by the CPU", end - x);
		y += lh;
	}
	/* Its GPU virtual addresses, a few lines at most: the history below
	 * matters as much. */
	const struct vm_va_range *vr[3];
	size_t nva = a->live ? vm_va_ranges_of(m, a->handle, vr, 3) : 0;
	if (nva && y + lh <= bottom) {
		ln = (struct line){ r, x, y, end, ts };
		put(&ln, VW_RGB_TEXT, "VA ranges ");
		put(&ln, VW_RGB_DIM, "(%zu)", nva);
		y += lh;
		for (size_t i = 0; i < nva && i < 3 && y + lh <= bottom; i++, y += lh) {
			ln = (struct line){ r, x, y, end, ts };
			if (i == 2 && nva > 3) {
				put(&ln, VW_RGB_DIM, "  ... %zu more", nva - 2);
				continue;
			}
			vw_fmt_bytes(s1, sizeof(s1), vr[i]->size);
			put(&ln, VW_RGB_TEXT, "  0x%" PRIx64, vr[i]->base);
			put(&ln, VW_RGB_DIM, " +%s %sfence %" PRIu64, s1,
			    vr[i]->kind == VM_VA_PROT_READ_ONLY ? "read-only " : "", vr[i]->fence);
		}
	}
	ln = (struct line){ r, x, y, end, ts };
	put(&ln, VW_RGB_TEXT, "history ");
	put(&ln, VW_RGB_DIM, "(%" PRIu32 ")", a->nhistory);
	y += lh;
	int room = (bottom - y) / lh;
	if (room <= 0)
		return;
	uint32_t first = 0;
	if (a->nhistory > (uint32_t)room) {
		first = a->nhistory - (uint32_t)room + 1;
		snprintf(s1, sizeof(s1), "... %" PRIu32 " earlier", first);
		vw_draw_text_fit(r, x, y, ts, VW_RGB_DIM, s1, end - x);
		y += lh;
	}
	for (uint32_t i = first; i < a->nhistory; i++, y += lh) {
		char buf[160];
		move_text(buf, sizeof(buf), &a->history[i]);
		uint32_t rgb = a->history[i].type == GPUSIM_EV_EVICT     ? RGB_OUT
			       : a->history[i].type == GPUSIM_EV_PAGE_IN ? RGB_IN
			       : a->history[i].type == GPUSIM_EV_DEMOTE  ? RGB_DEMOTE
			       : a->history[i].type == GPUSIM_EV_PROMOTE ? RGB_PROMOTE
									 : VW_RGB_TEXT;
		vw_draw_text_fit(r, x, y, ts, rgb, buf, end - x);
	}
}

static void draw_legend(SDL_Renderer *r, const struct vw_frame *f)
{
	const struct vw_layout *L = &f->L;
	const struct vm_model *m = f->m;
	struct vw_rect b = L->legend;
	int ts = L->ts, lh = vw_line_height(ts), P = 2 * ts + 1;
	if (b.h <= 0)
		return;
	panel(r, b);
	int x = b.x + P, y = b.y + P, end = b.x + b.w - P, sw = 7 * ts;
	struct line ln = { r, x, y, end, ts };
	put(&ln, VW_RGB_DIM, "colour ");
	put(&ln, VW_RGB_TEXT, "%s", vw_colour_name(f->colour));
	put(&ln, VW_RGB_DIM, "  (c: next)");
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	switch (f->colour) {
	case VW_COLOUR_PRIORITY: {
		static const char *const names[5] = { "min", "low", "norm", "high", "max" };
		for (int i = 0; i < 5; i++) {
			fill(r, ln.x, y + ts, sw, sw, priority_stops[i]);
			ln.x += sw + ts;
			put(&ln, VW_RGB_DIM, "%s ", names[i]);
		}
		break;
	}
	case VW_COLOUR_DEVICE:
		for (size_t i = 0; i < m->ndevices && ln.x + sw < end; i++) {
			fill(r, ln.x, y + ts, sw, sw, device_palette[i % 8]);
			ln.x += sw + ts;
			put(&ln, VW_RGB_DIM, "%" PRIx32 " ", m->devices[i].device);
		}
		break;
	case VW_COLOUR_AGE: {
		put(&ln, VW_RGB_DIM, "recent ");
		int gw = 12 * VW_CELL_W * ts;
		for (int i = 0; i < gw && ln.x + i < end; i++)
			fill(r, ln.x + i, y + ts, 1, sw, gradient(age_stops, 4, (double)i / (gw - 1)));
		ln.x += gw + VW_CELL_W * ts;
		put(&ln, VW_RGB_DIM, "old");
		break;
	}
	case VW_COLOUR_PREFERRED:
		fill(r, ln.x, y + ts, sw, sw, VW_RGB_IN_PREF);
		ln.x += sw + ts;
		put(&ln, VW_RGB_DIM, "preferred ");
		fill(r, ln.x, y + ts, sw, sw, VW_RGB_OUT_PREF);
		ln.x += sw + ts;
		put(&ln, VW_RGB_DIM, "elsewhere");
		break;
	default:
		for (int i = 0; i < 8; i++)
			fill(r, ln.x + i * (sw + ts), y + ts, sw, sw, palette[i]);
		ln.x += 8 * (sw + ts) + ts;
		put(&ln, VW_RGB_DIM, "one per allocation");
		break;
	}
	y += lh;
	ln = (struct line){ r, x, y, end, ts };
	fill(r, ln.x, y + ts, sw, sw, VW_RGB_FREE);
	ln.x += sw + ts;
	put(&ln, VW_RGB_DIM, "free  ");
	set_rgb(r, VW_RGB_LARGEST);
	SDL_RenderDrawRect(r, &(SDL_Rect){ ln.x, y + ts, sw, sw });
	ln.x += sw + ts;
	put(&ln, VW_RGB_DIM, "largest free");
	y += lh + 2 * ts;
	static const char *const keys[3] = { "space pause  right step  +/- speed",
					     "c colour  d compare  s screenshot",
					     "wheel zoom  0 unzoom  click  q quit" };
	for (int i = 0; i < 3 && y + lh <= b.y + b.h; i++, y += lh)
		vw_draw_text_fit(r, x, y, ts, VW_RGB_DIM, keys[i], end - x);
}

static void draw_top(SDL_Renderer *r, const struct vw_frame *f, const struct vw_view *v)
{
	const struct vw_layout *L = &f->L;
	int ts = L->ts, P = 2 * ts + 1;
	fill(r, L->top.x, L->top.y, L->top.w, L->top.h, VW_RGB_PANEL);
	struct line ln = { r, P + ts, P, L->w - P, ts };
	char t[32];
	vw_fmt_time(t, sizeof(t), f->m->now_ns);
	put(&ln, VW_RGB_TEXT, "gpusim view ");
	put(&ln, VW_RGB_DIM, " %s ", f->m->adapter.policy[0] ? f->m->adapter.policy : "");
	if (v->total)
		put(&ln, VW_RGB_TEXT, " item %zu/%zu", v->pos, v->total);
	put(&ln, VW_RGB_TEXT, "  t %s  ", t);
	if (v->following)
		put(&ln, VW_RGB_OK, v->paused ? "following (paused)" : "following");
	else if (v->paused)
		put(&ln, VW_RGB_WARN, "paused");
	else if (v->total && v->pos >= v->total)
		put(&ln, VW_RGB_DIM, "end");
	else if (v->frames_per_item > 1)
		put(&ln, VW_RGB_OK, "playing 1 item / %" PRIu32 " frames", v->frames_per_item);
	else if (v->total)
		put(&ln, VW_RGB_OK, "playing %" PRIu32 " item%s/frame", v->items_per_frame,
		    v->items_per_frame == 1 ? "" : "s");
	if (v->before)
		put(&ln, VW_RGB_MOVED, "  comparing with item %zu", v->before_pos);
	if (f->m->device_removed)
		put(&ln, VW_RGB_OVER, "  DEVICE REMOVED");
	if (v->message[0])
		put(&ln, VW_RGB_LARGEST, "  %s", v->message);
}

/* ---- compare, hover, selection ------------------------------------------------------------- */

static void strike_cells(SDL_Renderer *r, const struct vw_map *mp, uint64_t c0, uint64_t c1)
{
	uint64_t cols = (uint64_t)mp->cols;
	for (uint64_t row = c0 / cols; row * cols < c1; row++) {
		uint64_t a = row * cols > c0 ? row * cols : c0, b = (row + 1) * cols < c1 ? (row + 1) * cols : c1;
		int x0, y0;
		cell_xy(mp, a, &x0, &y0);
		SDL_RenderDrawLine(r, x0, y0 + mp->row_h - 1, x0 + (int)(b - a) - 1, y0);
	}
}

static void arrow(SDL_Renderer *r, int x0, int y0, int x1, int y1, int ts)
{
	SDL_RenderDrawLine(r, x0, y0, x1, y1);
	int dx = x1 - x0, dy = y1 - y0, k = 4 * ts;
	/* A head from two short strokes back along the line, turned out by +-45 degrees
	 * (integer approximation; exactness does not matter for a marker). */
	int len = abs(dx) > abs(dy) ? abs(dx) : abs(dy);
	if (!len)
		return;
	int ux = dx * k / len, uy = dy * k / len;
	SDL_RenderDrawLine(r, x1, y1, x1 - ux - uy, y1 - uy + ux);
	SDL_RenderDrawLine(r, x1, y1, x1 - ux + uy, y1 - uy - ux);
}

static void draw_compare(SDL_Renderer *r, const struct vw_frame *f, const struct vw_view *v)
{
	const struct vm_model *m = f->m, *bm = v->before;
	const struct vw_map *mp;
	const int32_t *owner;
	uint64_t c0, c1;
	set_rgb(r, VW_RGB_LEFT);
	for (size_t i = 0; i < v->diff->nleft; i++) {
		const struct vm_alloc *b = vm_find(bm, v->diff->left[i]);
		int s = b && vm_is_segment(b->seg) ? strip_index(&f->L, b->seg) : -1;
		if (s < 0 || !span_cells(&f->L.strip[s].map, b->offset, b->size, &c0, &c1))
			continue;
		outline_cells(r, &f->L.strip[s].map, c0, c1, VW_RGB_LEFT, 1, false);
		strike_cells(r, &f->L.strip[s].map, c0, c1);
	}
	for (size_t i = 0; i < v->diff->nappeared; i++) {
		long idx = alloc_index(m, v->diff->appeared[i]);
		if (idx >= 0 && place_of(f, (uint32_t)idx, &mp, &owner, &c0, &c1))
			outline_cells(r, mp, c0, c1, VW_RGB_APPEARED, 1, false);
	}
	for (size_t i = 0; i < v->diff->nmoved; i++) {
		long idx = alloc_index(m, v->diff->moved[i]);
		if (idx < 0 || !place_of(f, (uint32_t)idx, &mp, &owner, &c0, &c1))
			continue;
		outline_cells(r, mp, c0, c1, VW_RGB_MOVED, 1, false);
		const struct vm_alloc *b = vm_find(bm, v->diff->moved[i]);
		int s = b && vm_is_segment(b->seg) ? strip_index(&f->L, b->seg) : -1;
		uint64_t o0, o1;
		if (s < 0 || !span_cells(&f->L.strip[s].map, b->offset, b->size, &o0, &o1))
			continue;
		int x0, y0, x1, y1;
		span_centre(&f->L.strip[s].map, o0, o1, &x0, &y0);
		span_centre(mp, c0, c1, &x1, &y1);
		set_rgb(r, VW_RGB_MOVED);
		arrow(r, x0, y0, x1, y1, f->L.ts);
	}
}

static void draw_focus(SDL_Renderer *r, const struct vw_frame *f, uint32_t handle, int thick)
{
	long idx = alloc_index(f->m, handle);
	const struct vw_map *mp;
	const int32_t *owner;
	uint64_t c0, c1;
	if (idx >= 0 && place_of(f, (uint32_t)idx, &mp, &owner, &c0, &c1))
		outline_cells(r, mp, c0, c1, 0xffffff, thick, false);
}

void vw_frame_draw(struct vw_gfx *g, const struct vw_frame *f, const struct vw_view *v)
{
	SDL_Renderer *r = g->r;
	const struct vw_layout *L = &f->L;
	set_rgb(r, VW_RGB_BG);
	SDL_RenderClear(r);
	if (!gfx_ready(g, L->w, L->h))
		return;
	uint8_t *labelled = calloc(f->m->nallocs ? f->m->nallocs : 1, 1);
	draw_top(r, f, v);
	for (int i = 0; i < L->nstrips; i++)
		draw_strip(g, f, i, labelled);
	draw_sys(g, f, labelled);
	free(labelled);
	draw_va(r, f, v);
	draw_timeline(r, f, v);
	draw_counters(r, f);
	draw_devices(r, f);
	draw_details(r, f, v);
	draw_legend(r, f);
	if (v->before && v->diff)
		draw_compare(r, f, v);
	if (v->selected)
		draw_focus(r, f, v->selected, 2);
	if (v->hover && v->hover != v->selected)
		draw_focus(r, f, v->hover, 1);
}

SDL_Surface *vw_render_view(const struct vm_model *m, const struct vw_view *v, int w, int h)
{
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
	if (!s)
		return NULL;
	struct vw_gfx g = { .r = SDL_CreateSoftwareRenderer(s) };
	struct vw_frame f;
	if (!g.r) {
		SDL_FreeSurface(s);
		return NULL;
	}
	vw_frame_build(&f, m, v, w, h);
	vw_frame_draw(&g, &f, v);
	SDL_RenderPresent(g.r);
	vw_frame_free(&f);
	vw_gfx_free(&g);
	SDL_DestroyRenderer(g.r);
	return s;
}

/* ---- zoom ------------------------------------------------------------------------------------ */

void vw_zoom(struct vw_view *v, const struct vm_model *m, uint32_t seg, uint64_t at, int steps)
{
	if (!vm_is_segment(seg))
		return;
	uint64_t size = m->adapter.seg_size[seg], start, len;
	zoom_range(m, v, seg, &start, &len);
	if (!size)
		return;
	if (at < start)
		at = start;
	uint64_t nl = len;
	for (int i = 0; i < steps; i++)
		nl = nl * 4 / 5;
	for (int i = 0; i > steps; i--)
		nl = nl > UINT64_MAX / 5 ? UINT64_MAX : nl * 5 / 4 + 1;
	if (nl < 4096)
		nl = 4096 < size ? 4096 : size;
	if (nl >= size) {
		v->zoom_start[seg] = 0;
		v->zoom_len[seg] = 0;
		return;
	}
	/* Keep the byte under the cursor under the cursor. */
	uint64_t ns = at - (uint64_t)((unsigned __int128)(at - start) * nl / len);
	if (ns > size - nl)
		ns = size - nl;
	v->zoom_start[seg] = ns;
	v->zoom_len[seg] = nl;
}

void vw_view_init(struct vw_view *v, const struct vw_options *opt)
{
	memset(v, 0, sizeof(*v));
	v->colour = opt && opt->colour < VW_COLOUR_MODES ? opt->colour : VW_COLOUR_ALLOCATION;
	v->items_per_frame = opt && opt->items_per_frame ? opt->items_per_frame : 1;
	v->frames_per_item = 1;
}

/* ---- app.h's pure entry points ------------------------------------------------------------------ */

SDL_Surface *vw_render_surface(const struct vm_model *m, const struct vw_options *opt, int w, int h)
{
	struct vw_view v;
	vw_view_init(&v, opt);
	v.pos = v.total = (size_t)m->events;
	return vw_render_view(m, &v, w, h);
}

bool vw_locate(const struct vm_model *m, uint32_t handle, int w, int h, int *x, int *y)
{
	struct vw_view v;
	struct vw_frame f;
	vw_view_init(&v, NULL);
	vw_frame_build(&f, m, &v, w, h);
	bool ok = vw_frame_find(&f, handle, false, x, y);
	vw_frame_free(&f);
	return ok;
}

bool vw_strip_rect(const struct vm_model *m, uint32_t seg, int w, int h, int *x, int *y, int *sw, int *sh)
{
	struct vw_layout L;
	vw_layout_compute(m, NULL, w, h, &L);
	int i = strip_index(&L, seg);
	if (i < 0)
		return false;
	*x = L.strip[i].map.r.x;
	*y = L.strip[i].map.r.y;
	*sw = L.strip[i].map.r.w;
	*sh = L.strip[i].map.r.h;
	return true;
}
