/*
 * A second, independent writer of snapshot files for the tests: it lays out the
 * bytes as sim/elf/SNAPSHOT.md describes them, without libelf or sim/elf, and lets
 * a test break any one thing (a header field, a note, a segment) before it builds.
 */
#ifndef TESTS_ELF_FORGE_H
#define TESTS_ELF_FORGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/snapshot.h>

/* Note types and record sizes as SNAPSHOT.md gives them. */
enum {
	FORGE_NT_HEADER = 0x47500001,
	FORGE_NT_CONFIG,
	FORGE_NT_STATS,
	FORGE_NT_REGISTERS,
	FORGE_NT_GART,
	FORGE_NT_ALLOCATIONS,
	FORGE_NT_EVENTS,
	FORGE_NT_STATE,
};

#define FORGE_MAX_NOTES 16
#define FORGE_MAX_SEGS 16

struct forge_note {
	char owner[16];
	uint32_t namesz;      /* strlen(owner) + 1 unless a test says otherwise */
	uint32_t type;
	uint8_t *desc;        /* malloc'd */
	size_t size;
	bool descsz_set;      /* claim descsz in the header, write `size` bytes */
	uint32_t descsz;
};

struct forge_seg {
	uint32_t type, flags;
	uint64_t vaddr, paddr, filesz, memsz, align;
	const uint8_t *data;  /* data_len bytes copied to the file, the rest zero */
	uint64_t data_len;
	int64_t offset_delta; /* added to the page-aligned place the forge picks */
	bool note;            /* the note segment: offset and size are the notes' */
};

struct forge {
	uint8_t ei_class, ei_data;
	uint16_t e_type, e_machine;
	struct forge_note notes[FORGE_MAX_NOTES];
	int nnotes;
	struct forge_seg segs[FORGE_MAX_SEGS];
	int nsegs;
};

void forge_le32(uint8_t *p, uint32_t v);
void forge_le64(uint8_t *p, uint64_t v);

/* The file SNAPSHOT.md says s is: notes in order HEADER, CONFIG (config_text),
 * STATS, REGISTERS, GART, ALLOCATIONS, EVENTS, STATE; a PT_NOTE then a PT_LOAD
 * per range. */
void forge_from_snapshot(struct forge *f, const struct gpusim_snapshot *s, const char *config_text);
void forge_free(struct forge *f);

/* The note of that type (the first with owner GPUSIM), or NULL. */
struct forge_note *forge_find(struct forge *f, uint32_t type);
void forge_drop(struct forge *f, uint32_t type);
/* Append a note with a copy of desc. */
void forge_add(struct forge *f, const char *owner, uint32_t type, const void *desc, size_t size);
/* Make a note `size` bytes long (new bytes are zero). */
void forge_resize(struct forge *f, uint32_t type, size_t size);
/* The note segment's bytes alone, as they sit in the file (malloc'd). */
uint8_t *forge_notes(const struct forge *f, size_t *len);
/* The whole file (malloc'd). No section headers: a reader must not need them. */
uint8_t *forge_build(const struct forge *f, size_t *len);

#endif
