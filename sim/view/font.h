/*
 * The viewer's bitmap font: 5x7 glyphs (with two rows of descenders) for ASCII 32..126,
 * drawn as filled rectangles at an integer scale. Its own pixels, so a frame is the
 * same on every machine and the pixel tests can rely on it.
 */
#ifndef SIM_VIEW_FONT_H
#define SIM_VIEW_FONT_H

#include <stddef.h>
#include <stdint.h>

struct SDL_Renderer;

#define VW_GLYPH_W 5   /* glyph pixels; the cell adds one column of spacing */
#define VW_GLYPH_H 9   /* rows 0..6 capitals, 7..8 descenders */
#define VW_CELL_W 6
#define VW_CELL_H 10   /* line height: one row of leading */

/* Width in pixels of the first n bytes of s (no trailing spacing column). */
int vw_text_width_n(const char *s, size_t n, int scale);
int vw_text_width(const char *s, int scale);
static inline int vw_line_height(int scale)
{
	return VW_CELL_H * scale;
}
/* How many leading bytes of s fit in maxw pixels. */
size_t vw_text_fit(const char *s, int scale, int maxw);
/* The 9 bit rows of a glyph (bit 4 = leftmost column); '?' for bytes outside 32..126. */
const uint8_t *vw_glyph(unsigned char c);

/* Draw the first n bytes of s with its top-left corner at (x, y) in colour rgb
 * (0xRRGGBB). Returns the x just after the text. */
int vw_draw_text_n(struct SDL_Renderer *r, int x, int y, int scale, uint32_t rgb, const char *s, size_t n);
int vw_draw_text(struct SDL_Renderer *r, int x, int y, int scale, uint32_t rgb, const char *s);
/* Draw s cut to maxw pixels; a cut text ends in "..". Returns the x after it. */
int vw_draw_text_fit(struct SDL_Renderer *r, int x, int y, int scale, uint32_t rgb, const char *s, int maxw);

#endif
