/*
 * The SDL residency viewer: draws a vm_model (sim/view/model.h) into a window or,
 * headless, into a surface, and plays a recording (or follows a growing trace) with
 * the keys of DESIGN.md. Built only with SDL2 (HAVE_SDL2).
 */
#ifndef SIM_VIEW_APP_H
#define SIM_VIEW_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/view/model.h"

enum vw_colour_mode {
	VW_COLOUR_ALLOCATION = 0,  /* each allocation its own colour (from its handle) */
	VW_COLOUR_PRIORITY,
	VW_COLOUR_DEVICE,
	VW_COLOUR_AGE,             /* time since last use */
	VW_COLOUR_PREFERRED,       /* preferred versus actual segment */
	VW_COLOUR_MODES
};

struct vw_options {
	int width, height;         /* window size; default 1280 x 800 */
	enum vw_colour_mode colour;
	const char *screenshot;    /* headless: write a BMP here after `frames` frames */
	uint32_t frames;           /* with screenshot: frames to play (one item per frame
				    * by default), then write the image and quit */
	uint32_t items_per_frame;  /* playback speed; 0 = 1 */
	bool start_at_end;         /* show the final state at once */
	const char *follow;        /* a trace file being written: keep reading it */
	size_t compare_at;         /* 0 = off; else compare the moment after this many
				    * items with the current one (what appeared/left/moved) */
};

/* Run the viewer on a recording. Headless when opt->screenshot is set (SDL's dummy
 * video driver and a software renderer, so the pixels are the same everywhere).
 * Returns 0, or -1 with a sentence in err. */
int vw_run(const struct vm_recording *rec, const struct vw_options *opt, char *err, size_t errlen);

/* Draw the model into a software surface of w x h (ARGB8888): what a frame shows.
 * The caller frees it with SDL_FreeSurface. For tests and the benchmark. */
struct SDL_Surface;
struct SDL_Surface *vw_render_surface(const struct vm_model *m, const struct vw_options *opt, int w, int h);

/* Where the viewer draws allocation `handle` on its strip (the centre of its span)
 * in a w x h frame of model m; false when it is not on a strip. For pixel tests. */
bool vw_locate(const struct vm_model *m, uint32_t handle, int w, int h, int *x, int *y);
/* The rectangle of segment `seg`'s strip in a w x h frame. */
bool vw_strip_rect(const struct vm_model *m, uint32_t seg, int w, int h, int *x, int *y, int *sw, int *sh);

#endif
