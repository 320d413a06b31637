/*
 * libFuzzer harness for the ELF image reader and the packet relocation: any bytes
 * give an image or "NAME: problem", never a crash, a leak or a read outside the
 * input; a good image's segments lie inside the input and its relocations inside
 * their segments.
 */
#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/elf/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elfimg *img = NULL;
	char err[512] = "";
	/* A small device's limits, so that the size checks are reached too. */
	struct elfimg_limits lim = { 256ull << 20, 768ull << 20, ELFIMG_ANY_MACHINE };
	if (elfimg_read_mem(data, size, "fuzz.elf", &lim, &img, err, sizeof err) != 0) {
		if (img || strncmp(err, "fuzz.elf: ", 10) || !err[10])
			__builtin_trap();
		return 0;
	}
	if (!img->nsegs || img->nsegs > ELFIMG_MAX_SEGMENTS || img->len != size)
		__builtin_trap();
	uint64_t total = 0;
	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct elfimg_segment *s = &img->segs[i];
		if (s->filesz > s->memsz || !s->memsz || elfimg_seg_size(s) > lim.max_segment)
			__builtin_trap();
		if (s->filesz && (s->data < img->buf || s->data + s->filesz > img->buf + img->len))
			__builtin_trap();
		if (s->filesz && memcmp(s->data, data + s->offset, s->filesz))
			__builtin_trap();
		if (elfimg_find(img, s->vaddr) != (int)i || elfimg_find(img, s->vaddr + s->memsz - 1) != (int)i)
			__builtin_trap();
		total += elfimg_seg_size(s);
		/* Every byte of every executable segment is walked as packets. */
		struct elfimg_reloc *r = NULL;
		size_t n = 0;
		if (elfimg_relocs(img, i, &r, &n, err, sizeof err) != 0) {
			if (r || n || (s->flags & ELFIMG_X && s->filesz && s->filesz % 4 == 0))
				__builtin_trap();
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			const struct elfimg_reloc *x = &r[k];
			if (x->segment >= img->nsegs || x->patch_offset % 4 || x->patch_offset + 8ull > s->filesz)
				__builtin_trap();
			const struct elfimg_segment *t = &img->segs[x->segment];
			if (x->alloc_offset < t->lead || x->alloc_offset - t->lead >= t->memsz)
				__builtin_trap();
		}
		free(r);
	}
	if (total > lim.max_total)
		__builtin_trap();
	elfimg_free(img);
	return 0;
}
