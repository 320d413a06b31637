/*
 * Relocation of an image's packets: the command buffer in an executable segment
 * holds gpusim packets (hw/REGISTERS.md) whose address fields are addresses of the
 * image (p_vaddr). Walking the packets by their headers finds every address field
 * that falls inside a segment; the submission turns each into a patch location.
 */
#include <config.h>

#include <inttypes.h>

#include <stdlib.h>
#include <string.h>

#include <gpusim/hw.h>
#include "sim/elf/image.h"

/* Where a packet's 64-bit address fields sit in its body, in dwords. */
struct field {
	uint8_t pos;
	bool write;
};

static const struct {
	uint8_t n;
	struct field f[2];
} layout[] = {
	[HW_PKT_NOP] = { 0, { { 0, false } } },
	[HW_PKT_WRITE_DATA] = { 1, { { 0, true } } },
	[HW_PKT_COPY] = { 2, { { 0, false }, { 2, true } } },          /* src, dst */
	[HW_PKT_FILL] = { 1, { { 0, true } } },
	[HW_PKT_CHECKSUM] = { 2, { { 0, false }, { 4, true } } },      /* src, dst */
	[HW_PKT_FENCE] = { 1, { { 0, true } } },
	[HW_PKT_WAIT] = { 1, { { 0, false } } },
};

#define fail elfimg_fail

/* The device is little endian, whatever the host is. */
static uint32_t dword(const uint8_t *p, size_t i)
{
	p += 4 * i;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int elfimg_relocs(const struct elfimg *img, uint32_t seg, struct elfimg_reloc **out, size_t *n,
		  char *err, size_t errlen)
{
	if (!img || !out || !n)
		return fail(err, errlen, img && img->name ? img->name : "?", "no image");
	*out = NULL;
	*n = 0;
	if (seg >= img->nsegs)
		return fail(err, errlen, img->name, "no segment %" PRIu32 " (the image has %" PRIu32 ")", seg,
			    img->nsegs);
	const struct elfimg_segment *s = &img->segs[seg];
	if (!(s->flags & ELFIMG_X))
		return fail(err, errlen, img->name, "segment %" PRIu32 " is not executable (no X in its flags)",
			    seg);
	if (s->filesz == 0)
		return fail(err, errlen, img->name, "segment %" PRIu32 " holds no packets in the file (p_filesz 0)",
			    seg);
	if (s->filesz % 4)
		return fail(err, errlen, img->name,
			    "segment %" PRIu32 ": %" PRIu64 " bytes of packets are not whole dwords", seg, s->filesz);

	size_t ndw = (size_t)(s->filesz / 4), cap = 0;
	struct elfimg_reloc *v = NULL;
	for (size_t i = 0; i < ndw;) {
		uint32_t h = dword(s->data, i);
		uint32_t op = HW_PKT_OPCODE(h), count = HW_PKT_COUNT(h);
		size_t body = i + 1;
		/* Unknown opcodes and short counts are left for the device to fault on;
		 * the count still says where the next packet starts. */
		for (unsigned k = 0; op < sizeof layout / sizeof layout[0] && k < layout[op].n; k++) {
			const struct field *f = &layout[op].f[k];
			if (f->pos + 2u > count || body + f->pos + 2 > ndw)
				continue;
			uint64_t addr = dword(s->data, body + f->pos) |
					(uint64_t)dword(s->data, body + f->pos + 1) << 32;
			int target = elfimg_find(img, addr);
			if (target < 0)
				continue; /* outside the image: an absolute address, left as is */
			if (*n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct elfimg_reloc *nv = realloc(v, ncap * sizeof(*nv));
				if (!nv) {
					free(v);
					*n = 0;
					return fail(err, errlen, img->name, "out of memory");
				}
				v = nv;
				cap = ncap;
			}
			v[(*n)++] = (struct elfimg_reloc){
				.patch_offset = (uint32_t)((body + f->pos) * 4),
				.segment = (uint32_t)target,
				.alloc_offset = img->segs[target].lead + (addr - img->segs[target].vaddr),
				.write = f->write,
			};
		}
		i = body + count;
	}
	*out = v;
	return 0;
}
