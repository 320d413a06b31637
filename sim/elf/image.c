/*
 * The ELF image reader: an ELF32 or ELF64 little-endian executable or shared
 * object from any toolchain, its PT_LOAD segments listed and every field that the
 * loader relies on checked first (sim/elf/IMAGES.md has the rules). Any bytes give
 * an image or "PATH: problem", never a crash.
 */
#include <config.h>

#include <inttypes.h>

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpusim/hw.h>
#include "sim/elf/image.h"

int elfimg_fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	if (!err || !errlen)
		return -1;
	int n = snprintf(err, errlen, "%s: ", name);
	if (n >= 0 && (size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define fail elfimg_fail

uint64_t elfimg_seg_size(const struct elfimg_segment *s)
{
	return (s->lead + s->memsz + HW_PAGE_SIZE - 1) & ~(HW_PAGE_SIZE - 1);
}

uint64_t elfimg_seg_align(const struct elfimg_segment *s)
{
	return s->align > HW_PAGE_SIZE ? s->align : HW_PAGE_SIZE;
}

int elfimg_only_exec(const struct elfimg *img)
{
	int found = -1;
	for (uint32_t i = 0; i < img->nsegs; i++) {
		if (!(img->segs[i].flags & ELFIMG_X))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

int elfimg_find(const struct elfimg *img, uint64_t addr)
{
	for (uint32_t i = 0; i < img->nsegs; i++) {
		const struct elfimg_segment *s = &img->segs[i];
		if (addr >= s->vaddr && addr - s->vaddr < s->memsz)
			return (int)i;
	}
	return -1;
}

void elfimg_free(struct elfimg *img)
{
	if (!img)
		return;
	free(img->name);
	free(img->segs);
	free(img->buf);
	free(img);
}

static const char *type_problem(unsigned type, char *buf, size_t n)
{
	switch (type) {
	case ET_REL: return "wrong type: a relocatable object (ET_REL), not a linked image";
	case ET_CORE: return "wrong type: a core file (ET_CORE, a snapshot?), not an image";
	case ET_NONE: return "wrong type: ET_NONE (expected ET_EXEC or ET_DYN)";
	}
	snprintf(buf, n, "wrong type: e_type 0x%x (expected ET_EXEC or ET_DYN)", type);
	return buf;
}

struct span {
	uint64_t start, end;
	uint32_t index;
};

static int span_cmp(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* One PT_LOAD header checked and copied into *s. */
static int check_segment(const struct elfimg *img, const GElf_Phdr *ph, uint32_t k, uint32_t i,
			 const struct elfimg_limits *lim, struct elfimg_segment *s, char *err, size_t errlen)
{
	const char *name = img->name;
	char where[64];
	snprintf(where, sizeof where, "segment %" PRIu32 " (program header %" PRIu32 ")", k, i);

	if (ph->p_filesz > ph->p_memsz)
		return fail(err, errlen, name, "%s: p_filesz 0x%" PRIx64 " is larger than p_memsz 0x%" PRIx64,
			    where, (uint64_t)ph->p_filesz, (uint64_t)ph->p_memsz);
	if (ph->p_memsz == 0)
		return fail(err, errlen, name, "%s: empty (p_memsz 0): nothing to load", where);
	if (ph->p_filesz &&
	    (ph->p_offset > img->len || ph->p_filesz > img->len - ph->p_offset))
		return fail(err, errlen, name,
			    "%s: truncated: its %" PRIu64 " file bytes at offset 0x%" PRIx64
			    " run past the end of the file (%zu bytes)",
			    where, (uint64_t)ph->p_filesz, (uint64_t)ph->p_offset, img->len);
	uint64_t align = ph->p_align;
	if (align > 1 && (align & (align - 1)))
		return fail(err, errlen, name, "%s: p_align 0x%" PRIx64 " is not 0, 1 or a power of two", where,
			    align);
	if (align > 1 && (ph->p_vaddr & (align - 1)) != (ph->p_offset & (align - 1)))
		return fail(err, errlen, name,
			    "%s: p_vaddr 0x%" PRIx64 " and p_offset 0x%" PRIx64 " differ modulo p_align 0x%" PRIx64,
			    where, (uint64_t)ph->p_vaddr, (uint64_t)ph->p_offset, align);
	uint64_t top = img->elfclass == 32 ? UINT32_MAX : UINT64_MAX;
	if (ph->p_memsz - 1 > top - ph->p_vaddr)
		return fail(err, errlen, name,
			    "%s: p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64 " overflows the %u-bit address space",
			    where, (uint64_t)ph->p_vaddr, (uint64_t)ph->p_memsz, img->elfclass);
	uint64_t lead = ph->p_vaddr & ((align > HW_PAGE_SIZE ? align : HW_PAGE_SIZE) - 1);
	if (ph->p_memsz > UINT64_MAX - (HW_PAGE_SIZE - 1) - lead)
		return fail(err, errlen, name,
			    "%s: p_memsz 0x%" PRIx64 " overflows when its allocation is rounded to pages", where,
			    (uint64_t)ph->p_memsz);
	*s = (struct elfimg_segment){
		.phdr = i,
		.flags = ph->p_flags & (ELFIMG_R | ELFIMG_W | ELFIMG_X),
		.vaddr = ph->p_vaddr,
		.memsz = ph->p_memsz,
		.filesz = ph->p_filesz,
		.offset = ph->p_offset,
		.align = align,
		.lead = lead,
		.data = ph->p_filesz ? img->buf + ph->p_offset : NULL,
	};
	uint64_t size = elfimg_seg_size(s);
	if (lim && lim->max_segment && size > lim->max_segment)
		return fail(err, errlen, name,
			    "%s: needs 0x%" PRIx64 " bytes, more than the device can ever hold in one segment (0x%" PRIx64 ")",
			    where, size, lim->max_segment);
	return 0;
}

/* Takes buf over. */
static int parse(uint8_t *buf, size_t len, const char *name, const struct elfimg_limits *lim,
		 struct elfimg **out, char *err, size_t errlen)
{
	struct elfimg *img = calloc(1, sizeof(*img));
	Elf *e = NULL;
	int rc = -1;
	if (!img || !(img->name = strdup(name))) {
		free(img);
		free(buf);
		return fail(err, errlen, name, "out of memory");
	}
	img->buf = buf;
	img->len = len;

	/* The identification by hand: libelf would convert a big-endian file for
	 * us, and its messages do not say which field is wrong. */
	if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG)) {
		fail(err, errlen, name, "not an ELF file (no \\x7fELF magic)");
		goto out;
	}
	if (len < EI_NIDENT) {
		fail(err, errlen, name, "truncated: %zu bytes, shorter than the ELF identification (%d)", len,
		     EI_NIDENT);
		goto out;
	}
	switch (buf[EI_CLASS]) {
	case ELFCLASS32: img->elfclass = 32; break;
	case ELFCLASS64: img->elfclass = 64; break;
	default:
		fail(err, errlen, name, "wrong class: EI_CLASS %u (expected ELFCLASS32 or ELFCLASS64)",
		     buf[EI_CLASS]);
		goto out;
	}
	if (buf[EI_DATA] == ELFDATA2MSB) {
		fail(err, errlen, name, "wrong byte order: big endian (the device is little endian)");
		goto out;
	}
	if (buf[EI_DATA] != ELFDATA2LSB) {
		fail(err, errlen, name, "wrong byte order: EI_DATA %u (expected ELFDATA2LSB)", buf[EI_DATA]);
		goto out;
	}
	if (buf[EI_VERSION] != EV_CURRENT) {
		fail(err, errlen, name, "unknown ELF version %u (expected %u)", buf[EI_VERSION], EV_CURRENT);
		goto out;
	}
	size_t ehsize = img->elfclass == 32 ? sizeof(Elf32_Ehdr) : sizeof(Elf64_Ehdr);
	if (len < ehsize) {
		fail(err, errlen, name, "truncated: %zu bytes, shorter than the ELF%u header (%zu)", len,
		     img->elfclass, ehsize);
		goto out;
	}

	if (elf_version(EV_CURRENT) == EV_NONE) {
		fail(err, errlen, name, "libelf: %s", elf_errmsg(-1));
		goto out;
	}
	e = elf_memory((char *)buf, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		fail(err, errlen, name, "not an ELF file (libelf: %s)", e ? "not ELF_K_ELF" : elf_errmsg(-1));
		goto out;
	}
	GElf_Ehdr eh;
	if (!gelf_getehdr(e, &eh)) {
		fail(err, errlen, name, "cannot read the ELF header (libelf: %s)", elf_errmsg(-1));
		goto out;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		char tb[96];
		fail(err, errlen, name, "%s", type_problem(eh.e_type, tb, sizeof tb));
		goto out;
	}
	img->type = eh.e_type;
	img->machine = eh.e_machine;
	img->entry = eh.e_entry;
	if (lim && lim->machine >= 0 && eh.e_machine != (unsigned)lim->machine) {
		fail(err, errlen, name, "wrong machine: e_machine %u, expected %" PRId32, eh.e_machine,
		     lim->machine);
		goto out;
	}

	/* From the header, not elf_getphdrnum: libelf quietly counts only the
	 * headers that fit the file, and a cut table must be called truncated. */
	size_t phnum = eh.e_phnum;
	if (eh.e_phnum == PN_XNUM) { /* the count is in section 0's sh_info */
		GElf_Shdr sh0;
		Elf_Scn *scn0 = elf_getscn(e, 0);
		if (!scn0 || !gelf_getshdr(scn0, &sh0)) {
			fail(err, errlen, name, "e_phnum is PN_XNUM but section 0 cannot be read (libelf: %s)",
			     elf_errmsg(-1));
			goto out;
		}
		phnum = sh0.sh_info;
	}
	if (phnum == 0) {
		fail(err, errlen, name, "no loadable segment (no program headers)");
		goto out;
	}
	size_t phentsize = img->elfclass == 32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	if (eh.e_phentsize != phentsize) {
		fail(err, errlen, name, "program header size %u (expected %zu for ELF%u)", eh.e_phentsize,
		     phentsize, img->elfclass);
		goto out;
	}
	if (eh.e_phoff > len || phnum > (len - eh.e_phoff) / phentsize) {
		fail(err, errlen, name,
		     "truncated: %zu program headers at offset 0x%" PRIx64 " run past the end of the file (%zu bytes)",
		     phnum, (uint64_t)eh.e_phoff, len);
		goto out;
	}

	uint32_t nload = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph)) {
			fail(err, errlen, name, "cannot read program header %zu (libelf: %s)", i, elf_errmsg(-1));
			goto out;
		}
		if (ph.p_type == PT_LOAD && ++nload > ELFIMG_MAX_SEGMENTS) {
			fail(err, errlen, name, "more than %u loadable segments", ELFIMG_MAX_SEGMENTS);
			goto out;
		}
	}
	if (nload == 0) {
		fail(err, errlen, name, "no loadable segment (no PT_LOAD program header)");
		goto out;
	}
	img->segs = calloc(nload, sizeof(*img->segs));
	struct span *spans = calloc(nload, sizeof(*spans));
	if (!img->segs || !spans) {
		free(spans);
		fail(err, errlen, name, "out of memory");
		goto out;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD) /* read once above already */
			continue;
		uint32_t k = img->nsegs;
		struct elfimg_segment *s = &img->segs[k];
		if (check_segment(img, &ph, k, (uint32_t)i, lim, s, err, errlen)) {
			free(spans);
			goto out;
		}
		img->nsegs++;
		uint64_t size = elfimg_seg_size(s);
		total = total > UINT64_MAX - size ? UINT64_MAX : total + size;
		spans[k] = (struct span){ s->vaddr, s->vaddr + (s->memsz - 1), k };
	}
	if (lim && lim->max_total && total > lim->max_total) {
		free(spans);
		fail(err, errlen, name,
		     "the %" PRIu32 " segments need 0x%" PRIx64 " bytes together, more than the device's "
		     "VRAM and GART (0x%" PRIx64 ")",
		     img->nsegs, total, lim->max_total);
		goto out;
	}
	/* Each segment becomes an allocation of its own: sharing an address (a byte,
	 * not only a page) would make a packet's address ambiguous. */
	qsort(spans, nload, sizeof(*spans), span_cmp);
	for (uint32_t k = 1; k < nload; k++) {
		if (spans[k].start > spans[k - 1].end)
			continue;
		uint32_t a = spans[k - 1].index < spans[k].index ? spans[k - 1].index : spans[k].index;
		uint32_t b = spans[k - 1].index < spans[k].index ? spans[k].index : spans[k - 1].index;
		fail(err, errlen, name, "segments %" PRIu32 " and %" PRIu32 " overlap at 0x%" PRIx64, a, b,
		     spans[k].start);
		free(spans);
		goto out;
	}
	free(spans);
	rc = 0;
out:
	if (e)
		elf_end(e);
	if (rc) {
		elfimg_free(img);
		return -1;
	}
	*out = img;
	return 0;
}

int elfimg_read_mem(const void *buf, size_t len, const char *name, const struct elfimg_limits *lim,
		    struct elfimg **out, char *err, size_t errlen)
{
	if (!name)
		name = "<memory>";
	if (!out || (!buf && len))
		return fail(err, errlen, name, "no image to read");
	if (len > ELFIMG_MAX_FILE)
		return fail(err, errlen, name, "larger than %llu MiB", ELFIMG_MAX_FILE >> 20);
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return fail(err, errlen, name, "out of memory");
	if (len)
		memcpy(copy, buf, len);
	return parse(copy, len, name, lim, out, err, errlen);
}

int elfimg_read(const char *path, const struct elfimg_limits *lim, struct elfimg **out, char *err,
		size_t errlen)
{
	if (!path)
		path = "";
	if (!out)
		return fail(err, errlen, path, "no image to read into");
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, path, "cannot open: %s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot open: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, path, "%s", S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
	}
	if ((uint64_t)st.st_size > ELFIMG_MAX_FILE) {
		close(fd);
		return fail(err, errlen, path, "larger than %llu MiB", ELFIMG_MAX_FILE >> 20);
	}
	size_t cap = (size_t)st.st_size, len = 0;
	uint8_t *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return fail(err, errlen, path, "out of memory");
	}
	/* Up to the size fstat saw: a file that grows meanwhile is read as it was. */
	while (len < cap) {
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return fail(err, errlen, path, "read error: %s", strerror(e));
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	return parse(buf, len, path, lim, out, err, errlen);
}
