/*
 * The image tests' toolchain: libelf writes an ELF32 or ELF64 image with the
 * layout the test asks for (ELF_F_LAYOUT), one section per segment's bytes.
 */
#include <config.h>

#include <check.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/elf/build_elf.h"

static uint64_t congruent(uint64_t cursor, uint64_t vaddr, uint64_t align)
{
	if (align <= 1)
		return cursor;
	return cursor + ((vaddr - cursor) & (align - 1));
}

char *tb_write(const struct tb_image *im, uint8_t **buf, size_t *len)
{
	char *path = strdup("/tmp/gpusim-image-test.XXXXXX");
	ck_assert_ptr_nonnull(path);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	ck_assert_msg(e != NULL, "elf_begin: %s", elf_errmsg(-1));
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	ck_assert_ptr_nonnull(gelf_newehdr(e, im->elfclass));
	if (im->n)
		ck_assert_ptr_nonnull(gelf_newphdr(e, im->n));
	GElf_Ehdr eh; /* after gelf_newphdr, which sets e_phnum */
	ck_assert_ptr_nonnull(gelf_getehdr(e, &eh));
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = im->type ? im->type : ET_EXEC;
	eh.e_machine = im->machine ? im->machine : EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = im->n ? im->segs[0].vaddr : 0;
	size_t ehsize = im->elfclass == ELFCLASS32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	size_t phsize = im->elfclass == ELFCLASS32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	eh.e_phoff = im->n ? ehsize : 0;
	uint64_t cursor = ehsize + im->n * phsize;
	uint64_t *offs = calloc(im->n ? im->n : 1, sizeof(*offs));
	ck_assert_ptr_nonnull(offs);
	for (size_t i = 0; i < im->n; i++) {
		const struct tb_seg *s = &im->segs[i];
		offs[i] = congruent(cursor, s->vaddr, s->align);
		if (!s->filesz)
			continue;
		Elf_Scn *scn = elf_newscn(e);
		Elf_Data *d = elf_newdata(scn);
		ck_assert_ptr_nonnull(d);
		d->d_buf = (void *)s->bytes;
		d->d_size = s->filesz;
		d->d_type = ELF_T_BYTE;
		d->d_align = 1;
		d->d_off = 0;
		d->d_version = EV_CURRENT;
		GElf_Shdr sh;
		ck_assert_ptr_nonnull(gelf_getshdr(scn, &sh));
		sh.sh_type = SHT_PROGBITS;
		sh.sh_flags = SHF_ALLOC;
		sh.sh_addr = s->vaddr;
		sh.sh_offset = offs[i];
		sh.sh_size = s->filesz;
		sh.sh_addralign = 1;
		ck_assert(gelf_update_shdr(scn, &sh));
		cursor = offs[i] + s->filesz;
	}
	eh.e_shoff = (cursor + 7) & ~7ull;
	ck_assert(gelf_update_ehdr(e, &eh));
	for (size_t i = 0; i < im->n; i++) {
		const struct tb_seg *s = &im->segs[i];
		GElf_Phdr ph = {
			.p_type = s->type ? s->type : PT_LOAD,
			.p_flags = s->flags,
			.p_offset = offs[i],
			.p_vaddr = s->vaddr,
			.p_paddr = s->vaddr,
			.p_filesz = s->filesz,
			.p_memsz = s->memsz,
			.p_align = s->align,
		};
		ck_assert(gelf_update_phdr(e, (int)i, &ph));
	}
	ck_assert_msg(elf_update(e, ELF_C_WRITE) >= 0, "elf_update: %s", elf_errmsg(-1));
	elf_end(e);
	free(offs);

	off_t end = lseek(fd, 0, SEEK_END);
	ck_assert_int_gt(end, 0);
	*len = (size_t)end;
	*buf = malloc(*len);
	ck_assert_ptr_nonnull(*buf);
	ck_assert_int_eq(pread(fd, *buf, *len, 0), (ssize_t)*len);
	close(fd);
	return path;
}

void tb_put(uint8_t *buf, size_t off, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
}

size_t tb_phdr_field(const uint8_t *buf, unsigned i, const char *field)
{
	static const struct {
		const char *name;
		size_t off32, off64;
	} f[] = {
		{ "p_type", 0, 0 },    { "p_offset", 4, 8 },  { "p_vaddr", 8, 16 }, { "p_filesz", 16, 32 },
		{ "p_memsz", 20, 40 }, { "p_flags", 24, 4 },  { "p_align", 28, 48 },
	};
	bool is64 = buf[EI_CLASS] == ELFCLASS64;
	size_t phoff = is64 ? 64 : 52, size = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
		if (!strcmp(f[k].name, field))
			return phoff + i * size + (is64 ? f[k].off64 : f[k].off32);
	ck_abort_msg("no field %s", field);
	return 0;
}

void tb_set_phdr(uint8_t *buf, unsigned i, const char *field, uint64_t v)
{
	bool is64 = buf[EI_CLASS] == ELFCLASS64;
	bool wide = is64 && strcmp(field, "p_type") && strcmp(field, "p_flags");
	tb_put(buf, tb_phdr_field(buf, i, field), v, wide ? 8 : 4);
}

void tb_dw(struct tb_words *p, uint32_t v)
{
	ck_assert_uint_lt(p->n, sizeof p->w / sizeof p->w[0]);
	uint8_t *b = (uint8_t *)&p->w[p->n++];
	tb_put(b, 0, v, 4);
}

void tb_qw(struct tb_words *p, uint64_t v)
{
	tb_dw(p, (uint32_t)v);
	tb_dw(p, (uint32_t)(v >> 32));
}
