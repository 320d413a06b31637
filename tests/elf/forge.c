/*
 * The tests' own snapshot-file writer (see forge.h): every record encoded from the
 * tables of sim/elf/SNAPSHOT.md by offset, so that a layout change in sim/elf that
 * the document does not follow fails the layout test.
 */
#include <config.h>

#include <check.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "tests/elf/forge.h"

void forge_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void forge_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint8_t *xcalloc(size_t n)
{
	uint8_t *p = calloc(1, n ? n : 1);
	ck_assert_ptr_nonnull(p);
	return p;
}

void forge_add(struct forge *f, const char *owner, uint32_t type, const void *desc, size_t size)
{
	ck_assert_int_lt(f->nnotes, FORGE_MAX_NOTES);
	struct forge_note *n = &f->notes[f->nnotes++];
	memset(n, 0, sizeof(*n));
	strncpy(n->owner, owner, sizeof(n->owner) - 1);
	n->namesz = (uint32_t)strlen(n->owner) + 1;
	n->type = type;
	n->desc = xcalloc(size);
	if (size)
		memcpy(n->desc, desc, size);
	n->size = size;
}

static uint8_t *note_desc(struct forge *f, uint32_t type, size_t size)
{
	forge_add(f, "GPUSIM", type, NULL, 0);
	struct forge_note *n = &f->notes[f->nnotes - 1];
	free(n->desc);
	n->desc = xcalloc(size);
	n->size = size;
	return n->desc;
}

void forge_from_snapshot(struct forge *f, const struct gpusim_snapshot *s, const char *config_text)
{
	memset(f, 0, sizeof(*f));
	f->ei_class = ELFCLASS64;
	f->ei_data = ELFDATA2LSB;
	f->e_type = ET_CORE;
	f->e_machine = EM_NONE;

	/* HEADER: 56 bytes. */
	uint8_t *p = note_desc(f, FORGE_NT_HEADER, 56);
	forge_le32(p + 0, s->version);
	forge_le32(p + 4, 0);
	forge_le64(p + 8, s->time_ns);
	forge_le32(p + 16, s->nregs);
	forge_le32(p + 20, s->nevents);
	forge_le64(p + 24, s->ngart);
	forge_le64(p + 32, s->nallocs);
	forge_le64(p + 40, s->nranges);
	forge_le64(p + 48, s->state_size);

	forge_add(f, "GPUSIM", FORGE_NT_CONFIG, config_text, strlen(config_text) + 1);

	/* STATS: 14 counters, 4 segments of 5 words, demotions and promotions, then
	 * segments 4 and 5. */
	const struct gpusim_stats *st = &s->stats;
	const uint64_t counters[14] = {
		st->time_ns, st->allocations, st->evictions, st->page_ins, st->moves, st->bytes_in,
		st->bytes_out, st->faults, st->submits, st->usage_local, st->budget_local,
		st->usage_nonlocal, st->budget_nonlocal, st->commit_pages,
	};
	p = note_desc(f, FORGE_NT_STATS, 368);
	for (int i = 0; i < 14; i++)
		forge_le64(p + 8 * i, counters[i]);
	forge_le64(p + 272, st->demotions);
	forge_le64(p + 280, st->promotions);
	for (int k = 0; k < 6; k++) {
		uint8_t *q = k < 4 ? p + 112 + 40 * k : p + 288 + 40 * (k - 4);
		uint64_t bits;
		memcpy(&bits, &st->seg[k].fragmentation, 8);
		forge_le64(q, st->seg[k].size);
		forge_le64(q + 8, st->seg[k].used);
		forge_le64(q + 16, st->seg[k].largest_free);
		forge_le64(q + 24, st->seg[k].allocations);
		forge_le64(q + 32, bits);
	}

	p = note_desc(f, FORGE_NT_REGISTERS, 8 * (size_t)s->nregs);
	for (uint32_t i = 0; i < s->nregs; i++) {
		forge_le32(p + 8 * i, s->regs[i].offset);
		forge_le32(p + 8 * i + 4, s->regs[i].value);
	}
	p = note_desc(f, FORGE_NT_GART, 16 * (size_t)s->ngart);
	for (uint64_t i = 0; i < s->ngart; i++) {
		forge_le64(p + 16 * i, s->gart[i].page);
		forge_le64(p + 16 * i + 8, s->gart[i].entry);
	}
	p = note_desc(f, FORGE_NT_ALLOCATIONS, 88 * (size_t)s->nallocs);
	for (uint64_t i = 0; i < s->nallocs; i++) {
		const struct gpusim_snapshot_alloc *a = &s->allocs[i];
		uint8_t *q = p + 88 * i;
		forge_le32(q + 0, a->handle);
		forge_le32(q + 4, a->device);
		forge_le64(q + 8, a->size);
		forge_le32(q + 16, a->segment);
		forge_le32(q + 20, a->priority);
		forge_le64(q + 24, a->offset);
		forge_le64(q + 32, a->gpu_address);
		forge_le32(q + 40, a->flags);
		forge_le32(q + 44, a->lock_count);
		forge_le32(q + 48, a->residency_count);
		forge_le32(q + 52, a->reserved);
		memcpy(q + 56, a->name, strnlen(a->name, 32));
	}
	p = note_desc(f, FORGE_NT_EVENTS, 64 * (size_t)s->nevents);
	for (uint32_t i = 0; i < s->nevents; i++) {
		const struct gpusim_event *e = &s->events[i];
		uint8_t *q = p + 64 * i;
		forge_le32(q + 0, e->type);
		forge_le32(q + 4, e->cause);
		forge_le64(q + 8, e->time_ns);
		forge_le32(q + 16, e->device);
		forge_le32(q + 20, e->allocation);
		forge_le32(q + 24, e->segment);
		forge_le32(q + 28, e->from_segment);
		forge_le64(q + 32, e->offset);
		forge_le64(q + 40, e->size);
		forge_le64(q + 48, e->value);
		forge_le32(q + 56, e->priority);
		forge_le32(q + 60, e->preferred);
	}
	forge_add(f, "GPUSIM", FORGE_NT_STATE, s->state, (size_t)s->state_size);
	forge_add(f, "GPUSIM", FORGE_NT_CLIENT, s->client, (size_t)s->client_size);

	f->segs[f->nsegs++] = (struct forge_seg){ .type = PT_NOTE, .align = 4, .note = true };
	for (uint64_t i = 0; i < s->nranges; i++) {
		ck_assert_int_lt(f->nsegs, FORGE_MAX_SEGS);
		const struct gpusim_snapshot_range *r = &s->ranges[i];
		f->segs[f->nsegs++] = (struct forge_seg){
			.type = PT_LOAD, .flags = PF_R | PF_W, .vaddr = r->addr, .paddr = r->addr,
			.filesz = r->size, .memsz = r->size, .align = 4096, .data = r->data, .data_len = r->size,
		};
	}
}

void forge_free(struct forge *f)
{
	for (int i = 0; i < f->nnotes; i++)
		free(f->notes[i].desc);
	f->nnotes = 0;
}

struct forge_note *forge_find(struct forge *f, uint32_t type)
{
	for (int i = 0; i < f->nnotes; i++)
		if (f->notes[i].type == type && !strcmp(f->notes[i].owner, "GPUSIM"))
			return &f->notes[i];
	return NULL;
}

void forge_drop(struct forge *f, uint32_t type)
{
	struct forge_note *n = forge_find(f, type);
	ck_assert_ptr_nonnull(n);
	free(n->desc);
	int i = (int)(n - f->notes);
	memmove(&f->notes[i], &f->notes[i + 1], (size_t)(f->nnotes - i - 1) * sizeof(*n));
	f->nnotes--;
}

void forge_resize(struct forge *f, uint32_t type, size_t size)
{
	struct forge_note *n = forge_find(f, type);
	ck_assert_ptr_nonnull(n);
	uint8_t *d = xcalloc(size);
	memcpy(d, n->desc, n->size < size ? n->size : size);
	free(n->desc);
	n->desc = d;
	n->size = size;
}

static size_t pad4(size_t v)
{
	return (v + 3) & ~(size_t)3;
}

uint8_t *forge_notes(const struct forge *f, size_t *len)
{
	size_t total = 0;
	for (int i = 0; i < f->nnotes; i++)
		total += 12 + pad4(f->notes[i].namesz) + pad4(f->notes[i].size);
	uint8_t *buf = xcalloc(total), *p = buf;
	for (int i = 0; i < f->nnotes; i++) {
		const struct forge_note *n = &f->notes[i];
		forge_le32(p, n->namesz);
		forge_le32(p + 4, n->descsz_set ? n->descsz : (uint32_t)n->size);
		forge_le32(p + 8, n->type);
		memcpy(p + 12, n->owner, n->namesz < sizeof(n->owner) ? n->namesz : sizeof(n->owner));
		p += 12 + pad4(n->namesz);
		if (n->size)
			memcpy(p, n->desc, n->size);
		p += pad4(n->size);
	}
	*len = total;
	return buf;
}

uint8_t *forge_build(const struct forge *f, size_t *len)
{
	size_t nlen;
	uint8_t *notes = forge_notes(f, &nlen);
	uint64_t note_off = (64 + 56 * (uint64_t)f->nsegs + 7) & ~7ull;
	uint64_t place = (note_off + nlen + 4095) & ~4095ull;
	uint64_t off[FORGE_MAX_SEGS], end = note_off + nlen;
	for (int i = 0; i < f->nsegs; i++) {
		const struct forge_seg *s = &f->segs[i];
		if (s->note) {
			off[i] = note_off + (uint64_t)s->offset_delta;
			continue;
		}
		off[i] = place + (uint64_t)s->offset_delta;
		place = (place + s->filesz + 4095) & ~4095ull;
		if (off[i] + s->filesz > end)
			end = off[i] + s->filesz;
	}
	uint8_t *buf = xcalloc(end);
	buf[EI_MAG0] = ELFMAG0;
	buf[EI_MAG1] = ELFMAG1;
	buf[EI_MAG2] = ELFMAG2;
	buf[EI_MAG3] = ELFMAG3;
	buf[EI_CLASS] = f->ei_class;
	buf[EI_DATA] = f->ei_data;
	buf[EI_VERSION] = EV_CURRENT;
	le16(buf + 16, f->e_type);
	le16(buf + 18, f->e_machine);
	forge_le32(buf + 20, EV_CURRENT);
	forge_le64(buf + 32, 64);        /* e_phoff */
	le16(buf + 52, 64);              /* e_ehsize */
	le16(buf + 54, 56);              /* e_phentsize */
	le16(buf + 56, (uint16_t)f->nsegs);
	le16(buf + 58, 64);              /* e_shentsize; e_shoff = 0, e_shnum = 0 */
	memcpy(buf + note_off, notes, nlen);
	for (int i = 0; i < f->nsegs; i++) {
		const struct forge_seg *s = &f->segs[i];
		uint8_t *ph = buf + 64 + 56 * i;
		forge_le32(ph + 0, s->type);
		forge_le32(ph + 4, s->flags);
		forge_le64(ph + 8, off[i]);
		forge_le64(ph + 16, s->vaddr);
		forge_le64(ph + 24, s->paddr);
		forge_le64(ph + 32, s->note ? nlen : s->filesz);
		forge_le64(ph + 40, s->note ? 0 : s->memsz);
		forge_le64(ph + 48, s->align);
		if (!s->note && s->data)
			memcpy(buf + off[i], s->data, s->data_len < s->filesz ? s->data_len : s->filesz);
	}
	free(notes);
	*len = end;
	return buf;
}
