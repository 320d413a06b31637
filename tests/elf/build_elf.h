/*
 * ELF images for the image tests, written with libelf into temporary files (as a
 * toolchain would write them), and byte-level edits that turn a good image into
 * each kind of bad one.
 */
#ifndef TESTS_ELF_BUILD_ELF_H
#define TESTS_ELF_BUILD_ELF_H

#include <stddef.h>
#include <stdint.h>

struct tb_seg {
	uint32_t type;          /* 0 means PT_LOAD */
	uint32_t flags;         /* PF_R | PF_W | PF_X */
	uint64_t vaddr, memsz, align;
	const void *bytes;      /* filesz bytes, or NULL */
	uint64_t filesz;
};

struct tb_image {
	int elfclass;           /* ELFCLASS32 or ELFCLASS64 */
	unsigned type, machine; /* 0: ET_EXEC, EM_X86_64 */
	const struct tb_seg *segs;
	size_t n;
};

/* Write the image (each segment's bytes at the first file offset congruent to
 * its p_vaddr modulo p_align) to a new temporary file. Returns its path
 * (free() it, unlink() it); *buf, *len: the file's bytes (free() it). */
char *tb_write(const struct tb_image *im, uint8_t **buf, size_t *len);

/* Little-endian edits of a written image. Field names as in <elf.h>. */
void tb_put(uint8_t *buf, size_t off, uint64_t v, unsigned bytes);
/* Offset of a program header field: "p_type", "p_flags", "p_offset", "p_vaddr",
 * "p_filesz", "p_memsz", "p_align". */
size_t tb_phdr_field(const uint8_t *buf, unsigned i, const char *field);
void tb_set_phdr(uint8_t *buf, unsigned i, const char *field, uint64_t v);

/* Little-endian dwords for packets. */
struct tb_words {
	uint32_t w[256];
	unsigned n;
};
void tb_dw(struct tb_words *p, uint32_t v);
void tb_qw(struct tb_words *p, uint64_t v);

#endif
