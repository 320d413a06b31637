/*
 * One frame of the residency viewer: the layout computed from the window size, the
 * page maps (which allocation owns each cell), and the drawing. The window, the
 * headless screenshots and the pixel tests all go through these functions.
 */
#ifndef SIM_VIEW_RENDER_H
#define SIM_VIEW_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "sim/view/app.h"
#include "sim/view/model.h"

/* Colours, 0xRRGGBB. */
#define VW_RGB_BG 0x111318        /* window background, gaps between page-map rows */
#define VW_RGB_PANEL 0x1a1d23     /* panel background */
#define VW_RGB_FREE 0x2c323c      /* free space on a strip */
#define VW_RGB_TEXT 0xdfe4ea
#define VW_RGB_DIM 0x8c96a3
#define VW_RGB_LARGEST 0x8fd3ff   /* outline of a strip's largest free block */
#define VW_RGB_LABEL_DARK 0x101318  /* names on light spans */
#define VW_RGB_LABEL_LIGHT 0xf4f6f8 /* names on dark spans */
#define VW_RGB_OK 0x3fb950        /* usage bar: up to 80% */
#define VW_RGB_WARN 0xe3b341      /* usage bar: above 80% */
#define VW_RGB_OVER 0xf85149      /* usage bar: oversubscribed */
#define VW_RGB_IN_PREF 0x4caf50   /* colour mode "preferred": where it wants to be */
#define VW_RGB_OUT_PREF 0xf0882a  /* ... and elsewhere */
#define VW_RGB_APPEARED 0x3ddc84  /* compare: outline of what appeared */
#define VW_RGB_LEFT 0xff4d4d      /* compare: ghost of what left */
#define VW_RGB_MOVED 0xffd23f     /* compare: outline of what moved, and its arrow */
#define VW_RGB_PAGE_IN 0x4f9fd9   /* timeline: bytes paged in */
#define VW_RGB_PAGE_OUT 0xe8804a  /* timeline: bytes paged out (evictions), eviction marks */
#define VW_RGB_PAGE_MOVE 0x9a7fe0 /* timeline: moves between segments */
#define VW_RGB_PAGE_DEMOTE 0xd9b44a  /* timeline: demotions (to a less preferred segment) */
#define VW_RGB_PAGE_PROMOTE 0x56b881 /* timeline: promotions (back to a more preferred one) */
#define VW_RGB_FAULT 0xff3b3b     /* timeline: fault marks; VA strip: faulted addresses */
#define VW_RGB_SIGNAL_CPU 0x4fd1c5   /* timeline: a monitored fence signalled from the CPU */
#define VW_RGB_SIGNAL_GPU 0xc586f0   /* ... by an engine or a queue's signal landing */
#define VW_RGB_WAIT 0xf0e68c      /* timeline: a CPU wait met */
#define VW_RGB_VA_RESERVED 0x3b4454  /* VA strip: reserved, nothing mapped */
#define VW_RGB_VA_ORPHAN 0x9aa3ad /* VA strip: mapped to an allocation the model does not hold */
#define VW_RGB_VA_GAP 0x5c6470    /* VA strip: the marks of an elided gap */

struct vw_rect {
	int x, y, w, h;
};

/* A page map: bytes [start, start + len) laid over `rows` rows of `cols` one-pixel
 * cells, left to right, then the next row down. Cell c covers the bytes from
 * start + c * len / n up to start + (c + 1) * len / n (n = cols * rows). */
struct vw_map {
	struct vw_rect r;       /* the cells' pixels, gaps between rows included */
	int cols, rows, row_h, gap;
	uint64_t start, len;
};

/* A strip per segment an adapter can have: the standard three and the second VRAM
 * pool (pools=2). */
#define VW_MAX_STRIPS (GPUSIM_SEG_COUNT + 1)

struct vw_strip {
	uint32_t seg;           /* GPUSIM_SEG_VISIBLE, _INVISIBLE, _VRAM2 or _GART */
	struct vw_rect box;     /* the whole strip: header, bar, gutter and map */
	struct vw_rect head;    /* its text line */
	struct vw_rect bar;     /* its usage bar */
	struct vw_map map;      /* its page map (vw_strip_rect) */
};

struct vw_layout {
	int w, h;
	int ts;                 /* text scale: 2 from 1100 x 680 up, else 1 */
	struct vw_rect top;     /* status line */
	struct vw_rect strips, sys, timeline;           /* left column */
	struct vw_rect plot;    /* the timeline's bars and marks */
	struct vw_rect counters, devices, details, legend; /* right column */
	struct vw_strip strip[VW_MAX_STRIPS];  /* present segments: VRAM ones, then the GART */
	int nstrips;
	struct vw_rect sys_head;
	struct vw_map sys_map;  /* evicted allocations packed end to end */
	/* The GPU VA space (all zero when the model has none): a text line, a row
	 * of fault marks, the compressed address bar, a row marking the selected
	 * allocation's ranges. */
	struct vw_rect va, va_head, va_faults, va_bar, va_under;
};

/* One reserved range of the VA space as the strip lays it out: pixels
 * [x, x + w) of va_bar show addresses [base, base + size) linearly. */
struct vw_va_col {
	uint64_t base, size;
	int x, w;               /* w 0: no room left to show it */
	bool gap_before;        /* addresses elided between this range and the one before */
	int gap_x;              /* where that gap's mark is */
};

/* What the window adds to the model: interaction and playback state. */
struct vw_view {
	enum vw_colour_mode colour;
	uint64_t zoom_start[GPUSIM_SEG_MAX + 1];  /* by segment id; */
	uint64_t zoom_len[GPUSIM_SEG_MAX + 1];    /* len 0: the whole segment */
	uint32_t hover, selected;                   /* handles; 0 = none */
	bool va_hover_on;       /* the pointer is on the VA strip, at va_hover_x */
	int va_hover_x;
	/* Compare: the earlier moment and what changed since (both NULL when off). */
	const struct vm_model *before;
	const struct vm_diff *diff;
	size_t before_pos;
	/* Playback, for the status line. */
	size_t pos, total;
	uint64_t t_end;         /* time axis of the timeline ends here; 0 = model's now */
	bool paused, following;
	uint32_t items_per_frame, frames_per_item;
	char message[256];      /* shown in the status line (screenshot saved, errors) */
};

#define VW_OCC_FULL 65536u

/* The cells of every map and the figures derived from the model for one frame. */
struct vw_frame {
	struct vw_layout L;
	const struct vm_model *m;
	int32_t *owner[VW_MAX_STRIPS];  /* per strip: allocs[] index per cell, -1 free */
	int32_t *sys_owner;
	uint32_t *occ[VW_MAX_STRIPS];   /* per strip: how much of each cell is in use, */
	uint32_t *sys_occ;                 /* in 1/VW_OCC_FULL */
	uint32_t *sys_idx;                 /* evicted allocations (allocs[] order) and */
	uint64_t *sys_off;                 /* their offsets in the packed panel */
	size_t nsys;
	uint64_t largest_off[GPUSIM_SEG_MAX + 1], largest_len[GPUSIM_SEG_MAX + 1];
	uint64_t demand[GPUSIM_SEG_MAX + 1];  /* bytes of live allocations preferring it */
	uint64_t evicted_bytes, evicted_count, unplaced;
	uint64_t oldest_use;                    /* for the age colours */
	enum vw_colour_mode colour;
	/* The VA strip: reserved ranges in address order, and for every pixel
	 * column of the bar the mapping it shows (index into m->va_map), or one of
	 * VW_VA_PX_*. */
	struct vw_va_col *va_cols;
	size_t nva_cols, va_hidden;             /* va_hidden: ranges with no room */
	int va_tail_x;                          /* the mark of the gap after the last range */
	int32_t *va_px;
};
#define VW_VA_PX_RESERVED -1  /* reserved, nothing mapped */
#define VW_VA_PX_GAP -2       /* an elided gap, or no range */

/* Pixel buffers and the texture the maps are copied through, kept between frames. */
struct vw_gfx {
	SDL_Renderer *r;
	SDL_Texture *tex;
	int tw, th;
	uint32_t *pixels;
};

void vw_view_init(struct vw_view *v, const struct vw_options *opt);
void vw_layout_compute(const struct vm_model *m, const struct vw_view *v, int w, int h, struct vw_layout *L);
/* 0, or -1 when memory runs out (the frame is then empty). */
int vw_frame_build(struct vw_frame *f, const struct vm_model *m, const struct vw_view *v, int w, int h);
void vw_frame_free(struct vw_frame *f);
void vw_frame_draw(struct vw_gfx *g, const struct vw_frame *f, const struct vw_view *v);
void vw_gfx_free(struct vw_gfx *g);
/* A software rendering of the frame into a new ARGB8888 surface (NULL on failure). */
SDL_Surface *vw_render_view(const struct vm_model *m, const struct vw_view *v, int w, int h);

/* The allocation under pixel (x, y) of a built frame, on a strip or in the
 * system-memory panel: its handle, or 0. */
uint32_t vw_frame_hit(const struct vw_frame *f, int x, int y);
/* A pixel of allocation `handle`'s span near its middle (on a strip, else in the
 * system-memory panel) that no label or separator covers: the row's second line. */
bool vw_frame_find(const struct vw_frame *f, uint32_t handle, bool sys, int *x, int *y);
/* What the VA strip shows under (x, y): false off the bar. */
struct vw_va_hit {
	bool gap;                               /* an elided gap: no reservation */
	uint64_t va;                            /* the first address of the column */
	const struct vm_va_range *reservation;  /* NULL on a gap */
	const struct vm_va_range *mapping;      /* NULL when nothing is mapped there */
	const struct vm_alloc *alloc;           /* the mapping's allocation, when live */
};
bool vw_frame_va_hit(const struct vw_frame *f, int x, int y, struct vw_va_hit *out);
/* The hit in words: the range, what maps it and its allocation's name. */
void vw_va_hit_text(char *buf, size_t len, const struct vw_va_hit *h);
/* The bar's pixel column showing address va; an address outside every
 * reservation gets the mark of the gap it is in (or the bar's nearest end).
 * False when there is no VA strip. */
bool vw_frame_va_x(const struct vw_frame *f, uint64_t va, int *x);
/* The segment and byte under (x, y) when it is on a strip. */
bool vw_frame_byte_at(const struct vw_frame *f, int x, int y, uint32_t *seg, uint64_t *byte);

/* An allocation's colour in a mode (0xRRGGBB), as the frame draws it. */
uint32_t vw_alloc_rgb(const struct vm_model *m, const struct vm_alloc *a, enum vw_colour_mode mode);
/* The colour of segment seg's usage bar (VW_RGB_OK, _WARN or _OVER). */
uint32_t vw_usage_rgb(const struct vw_frame *f, uint32_t seg);

/* Zoom strip `seg` by `steps` wheel notches (> 0 in) around byte `at`. */
void vw_zoom(struct vw_view *v, const struct vm_model *m, uint32_t seg, uint64_t at, int steps);

/* "1.5 MiB", "12.345 ms": the viewer's number formats. */
void vw_fmt_bytes(char *buf, size_t len, uint64_t bytes);
void vw_fmt_time(char *buf, size_t len, uint64_t ns);
const char *vw_colour_name(enum vw_colour_mode mode);

#endif
