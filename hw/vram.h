/*
 * VRAM: host memory reserved for the whole size but committed page by page as it
 * is touched, plus the set of pages with an (injected) uncorrectable error.
 */
#ifndef HW_VRAM_H
#define HW_VRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hw_vram {
	uint8_t *base;
	uint64_t size;
	uint64_t *bad;   /* sorted page numbers with an uncorrectable error */
	size_t nbad;
};

int hw_vram_init(struct hw_vram *v, uint64_t size);
void hw_vram_fini(struct hw_vram *v);
int hw_vram_mark_bad(struct hw_vram *v, uint64_t offset);
/* Zero [off, off+len) (in range) and give its whole host pages back to the host. */
void hw_vram_release(struct hw_vram *v, uint64_t off, uint64_t len);
/* First bad byte address in [off, off+len), or false when the range is clean. */
bool hw_vram_find_bad(const struct hw_vram *v, uint64_t off, uint64_t len, uint64_t *bad_off);

#endif
