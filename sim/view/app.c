/*
 * vw_run: plays a recording (or follows a trace that is still being written) in a
 * resizable SDL window with the viewer's keys, or headless into a BMP file. The
 * frames themselves come from render.c, the same code for both.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>

#include <gpusim/trace.h>

#include "sim/view/app.h"
#include "sim/view/render.h"

/* Items read from a followed trace per frame at most: the window stays responsive
 * while a long trace is caught up with. */
#define FOLLOW_BATCH 200000u
#define MAX_ITEMS_PER_FRAME (1u << 24)
#define MAX_FRAMES_PER_ITEM 64u

struct app {
	const struct vm_recording *rec;  /* what plays: the caller's, or `own` when following */
	struct vm_recording own;
	struct gpusim_trace_reader *reader;  /* following a trace being written */
	struct vm_model cur, before;
	bool have_before;
	struct vm_diff diff;
	size_t pos;                      /* items applied to cur */
	uint64_t tick;
	struct vw_view view;
	char *err;
	size_t errlen;
};

static size_t nitems(const struct app *a)
{
	return a->rec->nitems;
}

/* Move playback to item n: forward by applying, backward by replaying. */
static void seek(struct app *a, size_t n)
{
	if (n > nitems(a))
		n = nitems(a);
	if (n < a->pos) {
		vm_free(&a->cur);
		vm_replay(&a->cur, a->rec, n);
	} else {
		for (size_t i = a->pos; i < n; i++)
			vm_apply(&a->cur, &a->rec->items[i]);
		if (n == a->pos)
			return;
		vm_refresh(&a->cur);
	}
	a->pos = n;
	a->view.pos = n;
	a->view.total = nitems(a);
}

static void update_diff(struct app *a)
{
	if (!a->have_before)
		return;
	vm_diff_free(&a->diff);
	vm_diff(&a->before, &a->cur, &a->diff);
	a->view.diff = &a->diff;
}

/* Compare from now on with the moment after `at` items (what appeared, left, moved). */
static void compare_on(struct app *a, size_t at)
{
	if (at > nitems(a))
		at = nitems(a);
	vm_free(&a->before);
	vm_replay(&a->before, a->rec, at);
	a->have_before = true;
	a->view.before = &a->before;
	a->view.before_pos = at;
	update_diff(a);
}

static void compare_off(struct app *a)
{
	if (!a->have_before)
		return;
	vm_diff_free(&a->diff);
	vm_free(&a->before);
	a->have_before = false;
	a->view.before = NULL;
	a->view.diff = NULL;
}

/* Read what the followed trace has gained; -1 with a sentence on a corrupt record. */
static int follow_read(struct app *a)
{
	struct gpusim_trace_item item;
	for (uint32_t k = 0; k < FOLLOW_BATCH; k++) {
		int rc = gpusim_trace_next(a->reader, true, &item, a->err, a->errlen);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		vm_recording_add(&a->own, &item);
	}
	a->view.total = nitems(a);
	return 0;
}

/* One frame of playback. Returns -1 when following fails. */
static int advance(struct app *a)
{
	if (a->reader) {
		if (follow_read(a) < 0)
			return -1;
		if (!a->view.paused)
			seek(a, nitems(a));
		return 0;
	}
	if (a->view.paused || a->pos >= nitems(a))
		return 0;
	if (a->view.frames_per_item > 1) {
		if (++a->tick % a->view.frames_per_item == 0)
			seek(a, a->pos + 1);
	} else {
		seek(a, a->pos + a->view.items_per_frame);
	}
	return 0;
}

static uint64_t last_time(const struct vm_recording *r)
{
	for (size_t i = r->nitems; i-- > 0;)
		if (r->items[i].type == GPUSIM_TRACE_EVENT)
			return r->items[i].event.time_ns;
	return 0;
}

static int app_init(struct app *a, const struct vm_recording *rec, const struct vw_options *opt, char *err,
		    size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->err = err;
	a->errlen = errlen;
	vm_recording_init(&a->own);
	vw_view_init(&a->view, opt);
	if (opt->follow) {
		struct gpusim_trace_adapter ad;
		a->reader = gpusim_trace_open(opt->follow, &ad, err, errlen);
		if (!a->reader)
			return -1;
		a->own.adapter = ad;
		a->rec = &a->own;
		a->view.following = true;
	} else if (rec) {
		a->rec = rec;
	} else {
		snprintf(err, errlen, "nothing to show: no recording and no trace to follow");
		return -1;
	}
	vm_begin(&a->cur, a->rec);
	vm_refresh(&a->cur);
	a->view.total = nitems(a);
	if (a->reader && follow_read(a) < 0)
		return -1;
	if (opt->start_at_end || a->reader)
		seek(a, nitems(a));
	a->view.t_end = a->reader ? 0 : last_time(a->rec);
	if (opt->compare_at)
		compare_on(a, opt->compare_at);
	return 0;
}

static void app_free(struct app *a)
{
	compare_off(a);
	vm_free(&a->cur);
	vm_recording_free(&a->own);
	if (a->reader)
		gpusim_trace_close_reader(a->reader);
}

/* SDL writes a BMP's header last and seeks back to it: encode in memory, then write
 * it in one go, so a pipe (`--screenshot /dev/stdout`) works too. */
static int save_bmp(const struct app *a, const char *path, int w, int h, char *err, size_t errlen)
{
	SDL_Surface *s = vw_render_view(&a->cur, &a->view, w, h);
	if (!s) {
		snprintf(err, errlen, "cannot render a %dx%d image: %s", w, h, SDL_GetError());
		return -1;
	}
	size_t cap = (size_t)s->w * (size_t)s->h * 4 + 4096;
	uint8_t *buf = malloc(cap);
	SDL_RWops *rw = buf ? SDL_RWFromMem(buf, (int)cap) : NULL;
	int rc = rw ? SDL_SaveBMP_RW(s, rw, 0) : -1;
	Sint64 len = rw ? SDL_RWtell(rw) : -1;
	if (rw)
		SDL_RWclose(rw);
	SDL_FreeSurface(s);
	if (rc || len <= 0) {
		snprintf(err, errlen, "cannot encode the %dx%d image: %s", w, h, buf ? SDL_GetError() : "out of memory");
		free(buf);
		return -1;
	}
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(buf, 1, (size_t)len, f) == (size_t)len;
	if (f && fclose(f))
		ok = false;
	free(buf);
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- headless -------------------------------------------------------------------- */

static int run_headless(struct app *a, const struct vw_options *opt, int w, int h)
{
	/* The dummy video driver whatever the environment says: a screenshot needs no
	 * display, and the software renderer draws the same pixels everywhere. */
	bool video = false, hint = false;
	if (!SDL_WasInit(SDL_INIT_VIDEO)) {
		hint = SDL_SetHintWithPriority(SDL_HINT_VIDEODRIVER, "dummy", SDL_HINT_OVERRIDE);
		video = SDL_InitSubSystem(SDL_INIT_VIDEO) == 0;
	}
	int rc = 0;
	for (uint32_t i = 0; i < opt->frames && rc == 0; i++) {
		rc = advance(a);
		if (a->have_before)
			update_diff(a);
	}
	if (rc == 0 && opt->start_at_end && !a->reader)
		seek(a, nitems(a));
	if (rc == 0 && a->have_before)
		update_diff(a);
	if (rc == 0)
		rc = save_bmp(a, opt->screenshot, w, h, a->err, a->errlen);
	if (video)
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
	if (hint)
		SDL_ResetHint(SDL_HINT_VIDEODRIVER);
	return rc;
}

/* ---- the window ------------------------------------------------------------------- */

static void screenshot(struct app *a, int w, int h)
{
	char name[32], err[256];
	for (int n = 1; n <= 9999; n++) {
		snprintf(name, sizeof(name), "gpusim-%04d.bmp", n);
		if (access(name, F_OK) != 0)
			break;
	}
	if (save_bmp(a, name, w, h, err, sizeof(err)) == 0) {
		printf("gpusim view: saved %s\n", name);
		fflush(stdout);
		snprintf(a->view.message, sizeof(a->view.message), "saved %s", name);
	} else {
		fprintf(stderr, "gpusim view: %s\n", err);
		snprintf(a->view.message, sizeof(a->view.message), "%s", err);
	}
}

static void faster(struct vw_view *v)
{
	if (v->frames_per_item > 1)
		v->frames_per_item /= 2;
	else if (v->items_per_frame < MAX_ITEMS_PER_FRAME)
		v->items_per_frame *= 2;
}

static void slower(struct vw_view *v)
{
	if (v->items_per_frame > 1)
		v->items_per_frame /= 2;
	else if (v->frames_per_item < MAX_FRAMES_PER_ITEM)
		v->frames_per_item *= 2;
}

/* Returns true when the viewer should quit. */
static bool key(struct app *a, const SDL_KeyboardEvent *k, const struct vw_frame *f)
{
	struct vw_view *v = &a->view;
	v->message[0] = '\0';
	switch (k->keysym.sym) {
	case SDLK_q:
	case SDLK_ESCAPE:
		return true;
	case SDLK_SPACE:
		v->paused = !v->paused;
		if (!v->paused && !a->reader && a->pos >= nitems(a))
			seek(a, 0);  /* play again from the start */
		break;
	case SDLK_RIGHT:
		v->paused = true;
		if (a->reader && a->pos >= nitems(a))
			follow_read(a);
		seek(a, a->pos + 1);
		break;
	case SDLK_LEFT:
		v->paused = true;
		if (a->pos)
			seek(a, a->pos - 1);
		break;
	case SDLK_HOME:
		seek(a, 0);
		break;
	case SDLK_END:
		seek(a, nitems(a));
		break;
	case SDLK_PLUS:
	case SDLK_EQUALS:
	case SDLK_KP_PLUS:
		faster(v);
		break;
	case SDLK_MINUS:
	case SDLK_KP_MINUS:
		slower(v);
		break;
	case SDLK_c:
		v->colour = (v->colour + ((k->keysym.mod & KMOD_SHIFT) ? VW_COLOUR_MODES - 1 : 1)) % VW_COLOUR_MODES;
		break;
	case SDLK_d:
		if (a->have_before)
			compare_off(a);
		else
			compare_on(a, a->pos);
		break;
	case SDLK_s:
		screenshot(a, f->L.w, f->L.h);
		break;
	case SDLK_0:
	case SDLK_KP_0:
		memset(v->zoom_len, 0, sizeof(v->zoom_len));
		memset(v->zoom_start, 0, sizeof(v->zoom_start));
		break;
	default:
		break;
	}
	return false;
}

static int run_window(struct app *a, const struct vw_options *opt, int w, int h)
{
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
		snprintf(a->err, a->errlen,
			 "cannot open a window (%s); without a display, use --screenshot FILE --frames N",
			 SDL_GetError());
		return -1;
	}
	/* Without a display SDL falls back to drivers that draw nowhere: a window there
	 * would run unseen until killed. Only when asked for by name (tests do). */
	const char *drv = SDL_GetCurrentVideoDriver(), *asked = SDL_GetHint(SDL_HINT_VIDEODRIVER);
	if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy")) && !(asked && *asked)) {
		snprintf(a->err, a->errlen,
			 "no display to open a window on (SDL found only its '%s' video driver); set DISPLAY, "
			 "or draw headless with --screenshot FILE",
			 drv);
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		return -1;
	}
	SDL_Window *win = SDL_CreateWindow("gpusim view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h,
					   SDL_WINDOW_RESIZABLE);
	SDL_Renderer *ren = NULL;
	if (win) {
		ren = SDL_CreateRenderer(win, -1, SDL_RENDERER_PRESENTVSYNC);
		if (!ren)
			ren = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
	}
	if (!win || !ren) {
		snprintf(a->err, a->errlen, "cannot open a %dx%d window: %s", w, h, SDL_GetError());
		if (win)
			SDL_DestroyWindow(win);
		SDL_QuitSubSystem(SDL_INIT_VIDEO);
		return -1;
	}
	SDL_SetWindowMinimumSize(win, 320, 200);

	struct vw_gfx gfx = { .r = ren };
	struct vw_frame frame;
	memset(&frame, 0, sizeof(frame));
	int rc = 0, mx = -1, my = -1;
	bool quit = false, dirty = true;
	while (!quit) {
		uint32_t t0 = SDL_GetTicks();
		SDL_Event e;
		while (SDL_PollEvent(&e)) {
			int ww, wh, ow, oh;
			SDL_GetWindowSize(win, &ww, &wh);
			SDL_GetRendererOutputSize(ren, &ow, &oh);
			switch (e.type) {
			case SDL_QUIT:
				quit = true;
				break;
			case SDL_KEYDOWN:
				quit = key(a, &e.key, &frame);
				dirty = true;
				break;
			case SDL_MOUSEMOTION:
				/* Window to renderer pixels (they differ on high-density displays). */
				mx = ww ? e.motion.x * ow / ww : e.motion.x;
				my = wh ? e.motion.y * oh / wh : e.motion.y;
				if (vw_frame_hit(&frame, mx, my) != a->view.hover) {
					a->view.hover = vw_frame_hit(&frame, mx, my);
					dirty = true;
				}
				/* On the VA strip its header names the range under the
				 * pointer, mapped or not. */
				struct vw_va_hit vh;
				bool on_va = vw_frame_va_hit(&frame, mx, my, &vh);
				if (on_va || a->view.va_hover_on) {
					a->view.va_hover_on = on_va;
					a->view.va_hover_x = mx;
					dirty = true;
				}
				break;
			case SDL_MOUSEBUTTONDOWN:
				if (e.button.button == SDL_BUTTON_LEFT) {
					mx = ww ? e.button.x * ow / ww : e.button.x;
					my = wh ? e.button.y * oh / wh : e.button.y;
					a->view.selected = vw_frame_hit(&frame, mx, my);
					dirty = true;
				}
				break;
			case SDL_MOUSEWHEEL: {
				uint32_t seg;
				uint64_t byte;
				int steps = e.wheel.direction == SDL_MOUSEWHEEL_FLIPPED ? -e.wheel.y : e.wheel.y;
				if (steps && vw_frame_byte_at(&frame, mx, my, &seg, &byte)) {
					vw_zoom(&a->view, &a->cur, seg, byte, steps);
					dirty = true;
				}
				break;
			}
			case SDL_WINDOWEVENT:
				if (e.window.event == SDL_WINDOWEVENT_LEAVE && a->view.hover) {
					a->view.hover = 0;
					mx = my = -1;
				}
				if (e.window.event == SDL_WINDOWEVENT_LEAVE)
					a->view.va_hover_on = false;
				dirty = true;
				break;
			default:
				break;
			}
		}
		if (quit)
			break;
		size_t was = a->pos, had = a->view.total;
		if (advance(a) < 0) {
			/* A corrupt record: keep showing what was read, stop following. */
			snprintf(a->view.message, sizeof(a->view.message), "%s", a->err);
			fprintf(stderr, "gpusim view: %s\n", a->err);
			gpusim_trace_close_reader(a->reader);
			a->reader = NULL;
			a->view.following = false;
			dirty = true;
		}
		if (a->pos != was || a->view.total != had)
			dirty = true;
		if (dirty) {
			if (a->have_before)
				update_diff(a);
			int ow, oh;
			SDL_GetRendererOutputSize(ren, &ow, &oh);
			vw_frame_free(&frame);
			vw_frame_build(&frame, &a->cur, &a->view, ow, oh);
			if (mx >= 0)
				a->view.hover = vw_frame_hit(&frame, mx, my);
			vw_frame_draw(&gfx, &frame, &a->view);
			SDL_RenderPresent(ren);
			dirty = false;
		}
		bool playing = a->reader || (!a->view.paused && a->pos < nitems(a));
		if (!playing) {
			SDL_WaitEventTimeout(NULL, 250);
		} else {
			/* About 60 frames a second even when the renderer does not wait for vsync. */
			uint32_t spent = SDL_GetTicks() - t0;
			if (spent < 16)
				SDL_Delay(16 - spent);
		}
	}
	vw_frame_free(&frame);
	vw_gfx_free(&gfx);
	SDL_DestroyRenderer(ren);
	SDL_DestroyWindow(win);
	SDL_QuitSubSystem(SDL_INIT_VIDEO);
	return rc;
}

int vw_run(const struct vm_recording *rec, const struct vw_options *opt_in, char *err, size_t errlen)
{
	struct vw_options opt = { 0 };
	if (opt_in)
		opt = *opt_in;
	int w = opt.width > 0 ? opt.width : 1280, h = opt.height > 0 ? opt.height : 800;
	if (w > 16384 || h > 16384) {
		snprintf(err, errlen, "a %dx%d frame is too large (16384 pixels a side at most)", w, h);
		return -1;
	}
	struct app a;
	int rc = app_init(&a, rec, &opt, err, errlen);
	if (rc == 0)
		rc = opt.screenshot ? run_headless(&a, &opt, w, h) : run_window(&a, &opt, w, h);
	app_free(&a);
	return rc;
}
