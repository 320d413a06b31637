/*
 * Snapshot files as ELF64 core files (sim/elf/SNAPSHOT.md): the headers and the
 * notes go through libelf, the memory ranges straight from the device's memory to
 * the file with pwritev at offsets the layout reserved; reading maps the file and
 * leaves ranges, state and client bytes pointing into the mapping, so a GiB costs
 * no copy.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sim/elf/snapfile.h"
#include "sim/elf/snapfile_check.h"
#include "sim/elf/snapfile_records.h"

#define NOTE_HDR 12u                  /* namesz, descsz, type */
#define NOTE_NAME 8u                  /* "GPUSIM\0" padded to 4 bytes */
#define EHDR_SIZE sizeof(Elf64_Ehdr)  /* 64 */
#define PHDR_SIZE sizeof(Elf64_Phdr)  /* 56 */
#define SHDR_SIZE sizeof(Elf64_Shdr)  /* 64 */
#define PAGE HW_PAGE_SIZE
#define NSECTIONS 3                   /* null, .note.gpusim, .shstrtab */
#define MAX_CONFIG_TEXT 512

static const char shstrtab[] = "\0.note.gpusim\0.shstrtab";
#define SHSTR_NOTE 1
#define SHSTR_SHSTRTAB 14

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* "NAME: problem" into err. Always -1. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, const char *name,
						       const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "%s: ", name);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -1;
}

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ready;

static void libelf_init(void)
{
	libelf_ready = elf_version(EV_CURRENT) != EV_NONE;
}

static int libelf_start(char *err, size_t errlen, const char *name)
{
	pthread_once(&libelf_once, libelf_init);
	if (!libelf_ready)
		return fail(err, errlen, name, "libelf does not support ELF version %d", EV_CURRENT);
	return 0;
}

/* ---- writing ------------------------------------------------------------------ */

/* Every note's description, in file order; tables encoded into `owned`. */
struct out_note {
	uint32_t type;
	const void *desc;
	uint64_t size;
	void *owned;
};

static void free_notes(struct out_note *notes)
{
	for (int i = 0; i < SNAPFILE_NOTE_COUNT; i++)
		free(notes[i].owned);
}

/* Encode n records of `rsize` bytes each with put(). NULL only when out of memory. */
#define ENCODE_TABLE(note, table, n, rsize, put)                                   \
	do {                                                                       \
		(note)->size = (uint64_t)(n) * (rsize);                            \
		(note)->owned = malloc((note)->size ? (note)->size : 1);           \
		if (!(note)->owned)                                                \
			return -1;                                                 \
		for (uint64_t i_ = 0; i_ < (uint64_t)(n); i_++)                    \
			put((uint8_t *)(note)->owned + i_ * (rsize), &(table)[i_]); \
		(note)->desc = (note)->owned;                                      \
	} while (0)

static int encode_notes(const struct gpusim_snapshot *snap, const char *config, struct out_note *notes)
{
	memset(notes, 0, SNAPFILE_NOTE_COUNT * sizeof(*notes));
	for (int i = 0; i < SNAPFILE_NOTE_COUNT; i++)
		notes[i].type = SNAPFILE_NT_FIRST + (uint32_t)i;

	struct snapfile_header h = {
		.version = snap->version, .time_ns = snap->time_ns, .nregs = snap->nregs,
		.nevents = snap->nevents, .ngart = snap->ngart, .nallocs = snap->nallocs,
		.nranges = snap->nranges, .state_size = snap->state_size,
	};
	struct out_note *n = &notes[SNAPFILE_NT_HEADER - SNAPFILE_NT_FIRST];
	if (!(n->owned = malloc(SNAPFILE_HEADER_SIZE)))
		return -1;
	snapfile_put_header(n->owned, &h);
	n->desc = n->owned;
	n->size = SNAPFILE_HEADER_SIZE;

	n = &notes[SNAPFILE_NT_CONFIG - SNAPFILE_NT_FIRST];
	n->desc = config;
	n->size = strlen(config) + 1;

	n = &notes[SNAPFILE_NT_STATS - SNAPFILE_NT_FIRST];
	if (!(n->owned = malloc(SNAPFILE_STATS_SIZE)))
		return -1;
	snapfile_put_stats(n->owned, &snap->stats);
	n->desc = n->owned;
	n->size = SNAPFILE_STATS_SIZE;

	ENCODE_TABLE(&notes[SNAPFILE_NT_REGISTERS - SNAPFILE_NT_FIRST], snap->regs, snap->nregs,
		     SNAPFILE_REG_SIZE, snapfile_put_reg);
	ENCODE_TABLE(&notes[SNAPFILE_NT_GART - SNAPFILE_NT_FIRST], snap->gart, snap->ngart, SNAPFILE_GART_SIZE,
		     snapfile_put_gart);
	ENCODE_TABLE(&notes[SNAPFILE_NT_ALLOCATIONS - SNAPFILE_NT_FIRST], snap->allocs, snap->nallocs,
		     SNAPFILE_ALLOC_SIZE, snapfile_put_alloc);
	ENCODE_TABLE(&notes[SNAPFILE_NT_EVENTS - SNAPFILE_NT_FIRST], snap->events, snap->nevents,
		     SNAPFILE_EVENT_SIZE, snapfile_put_event);

	n = &notes[SNAPFILE_NT_STATE - SNAPFILE_NT_FIRST];
	n->desc = snap->state;
	n->size = snap->state_size;

	n = &notes[SNAPFILE_NT_CLIENT - SNAPFILE_NT_FIRST];
	n->desc = snap->client;
	n->size = snap->client_size;
	return 0;
}

/* The notes as one PT_NOTE body: header, "GPUSIM\0" padded, description padded to 4. */
static uint8_t *build_note_segment(const struct out_note *notes, uint64_t *size)
{
	uint64_t total = 0;
	for (int i = 0; i < SNAPFILE_NOTE_COUNT; i++)
		total += NOTE_HDR + NOTE_NAME + align_up(notes[i].size, 4);
	if (total > SIZE_MAX)
		return NULL;
	uint8_t *buf = calloc(1, (size_t)total), *p = buf;
	if (!buf)
		return NULL;
	for (int i = 0; i < SNAPFILE_NOTE_COUNT; i++) {
		/* libelf writes ELF_T_BYTE data as it is: the header words go in LSB order here. */
		put_le32(p, sizeof(SNAPFILE_OWNER));
		put_le32(p + 4, (uint32_t)notes[i].size);
		put_le32(p + 8, notes[i].type);
		memcpy(p + NOTE_HDR, SNAPFILE_OWNER, sizeof(SNAPFILE_OWNER));
		if (notes[i].size)
			memcpy(p + NOTE_HDR + NOTE_NAME, notes[i].desc, (size_t)notes[i].size);
		p += NOTE_HDR + NOTE_NAME + align_up(notes[i].size, 4);
	}
	*size = total;
	return buf;
}

/* Where everything goes: headers and notes first, then each range at a page
 * boundary, back to back (sizes are page multiples). */
struct layout {
	uint64_t phnum, phoff, note_off, note_size, shstr_off, shoff, data_off, end;
};

static int plan_layout(const struct gpusim_snapshot *snap, uint64_t note_size, struct layout *l)
{
	l->phnum = 1 + snap->nranges;
	l->phoff = EHDR_SIZE;
	l->note_off = align_up(l->phoff + l->phnum * PHDR_SIZE, 8);
	l->note_size = note_size;
	l->shstr_off = l->note_off + note_size;
	l->shoff = align_up(l->shstr_off + sizeof(shstrtab), 8);
	l->data_off = align_up(l->shoff + NSECTIONS * SHDR_SIZE, PAGE);
	l->end = l->data_off;
	/* Ranges are disjoint inside VRAM (< 2^48) or system memory (< 2^53): the sum fits. */
	for (uint64_t i = 0; i < snap->nranges; i++)
		l->end += snap->ranges[i].size;
	return l->end <= (uint64_t)INT64_MAX ? 0 : -1;
}

#define PROBLEM_MAX 200

/* The ELF part: header, program headers, the note and string sections. */
static int write_headers(int fd, const struct gpusim_snapshot *snap, const struct layout *l, uint8_t *notes,
			 char *problem)
{
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e)
		goto libelf_error;
	Elf64_Ehdr *eh = elf64_newehdr(e);
	if (!eh)
		goto libelf_error;
	/* Sections first: with PN_XNUM program headers libelf keeps the count in section 0. */
	Elf_Scn *note_scn = elf_newscn(e), *str_scn = note_scn ? elf_newscn(e) : NULL;
	if (!str_scn)
		goto libelf_error;
	Elf64_Phdr *ph = elf64_newphdr(e, (size_t)l->phnum);
	if (!ph)
		goto libelf_error;

	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_NONE;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = l->phoff;
	eh->e_shoff = l->shoff;
	eh->e_shstrndx = 2;

	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = l->note_off, .p_filesz = l->note_size, .p_align = 4 };
	uint64_t off = l->data_off;
	for (uint64_t i = 0; i < snap->nranges; i++) {
		const struct gpusim_snapshot_range *r = &snap->ranges[i];
		ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = off,
					  .p_vaddr = r->addr, .p_paddr = r->addr, .p_filesz = r->size,
					  .p_memsz = r->size, .p_align = PAGE };
		off += r->size;
	}

	Elf_Data *d = elf_newdata(note_scn);
	if (!d)
		goto libelf_error;
	d->d_buf = notes;
	d->d_size = (size_t)l->note_size;
	d->d_type = ELF_T_BYTE;
	d->d_align = 4;
	d->d_off = 0;
	Elf64_Shdr *sh = elf64_getshdr(note_scn);
	if (!sh)
		goto libelf_error;
	sh->sh_name = SHSTR_NOTE;
	sh->sh_type = SHT_NOTE;
	sh->sh_offset = l->note_off;
	sh->sh_size = l->note_size;
	sh->sh_addralign = 4;

	if (!(d = elf_newdata(str_scn)))
		goto libelf_error;
	d->d_buf = (void *)shstrtab;
	d->d_size = sizeof(shstrtab);
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	d->d_off = 0;
	if (!(sh = elf64_getshdr(str_scn)))
		goto libelf_error;
	sh->sh_name = SHSTR_SHSTRTAB;
	sh->sh_type = SHT_STRTAB;
	sh->sh_offset = l->shstr_off;
	sh->sh_size = sizeof(shstrtab);
	sh->sh_addralign = 1;

	/* Our offsets, not libelf's: the ranges go where the layout put them. */
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	if (elf_update(e, ELF_C_WRITE) < 0)
		goto libelf_error;
	elf_end(e);
	return 0;

libelf_error:
	snprintf(problem, PROBLEM_MAX, "libelf: %s", elf_errmsg(-1));
	elf_end(e);
	return -1;
}

/* pwritev of every range, up to IOV_MAX at a time, through short writes. */
static int write_ranges(int fd, const struct gpusim_snapshot *snap, uint64_t off)
{
	struct iovec iov[64];
	uint64_t i = 0;
	while (i < snap->nranges) {
		int n = 0;
		for (; n < 64 && i < snap->nranges; n++, i++)
			iov[n] = (struct iovec){ .iov_base = (void *)snap->ranges[i].data,
						 .iov_len = (size_t)snap->ranges[i].size };
		struct iovec *v = iov;
		while (n) {
			ssize_t w = pwritev(fd, v, n, (off_t)off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (w == 0)
					errno = EIO;
				return -1;
			}
			off += (uint64_t)w;
			while (n && (size_t)w >= v->iov_len) {
				w -= (ssize_t)v->iov_len;
				v++;
				n--;
			}
			if (n) {
				v->iov_base = (char *)v->iov_base + w;
				v->iov_len -= (size_t)w;
			}
		}
	}
	return 0;
}

/* The text of cfg, and a check that it reads back as cfg: the file holds the text. */
static int config_text(const struct gpusim_config *cfg, char *text, char *problem)
{
	struct gpusim_config back;
	char why[160];
	if (snapfile_config_text(cfg, text, MAX_CONFIG_TEXT) < 0) {
		snprintf(problem, PROBLEM_MAX, "configuration text too long");
		return -1;
	}
	if (snapfile_config_parse(text, &back, why, sizeof(why))) {
		snprintf(problem, PROBLEM_MAX, "bad configuration: %s", why);
		return -1;
	}
	if (memcmp(&back.hw, &cfg->hw, sizeof(back.hw)) || strcmp(back.policy, cfg->policy) ||
	    back.seed != cfg->seed || back.vram_pools != (cfg->vram_pools ? cfg->vram_pools : 1) ||
	    back.ring_faults != cfg->ring_faults) {
		snprintf(problem, PROBLEM_MAX, "configuration does not read back from its text \"%s\"", text);
		return -1;
	}
	return 0;
}

/* The limits of the format: 32-bit note sizes and a 32-bit program header count. */
static const char *over_limits(const struct gpusim_snapshot *snap)
{
	const uint64_t max = UINT32_MAX - 3; /* a description padded to 4 bytes */
	if (snap->nranges >= UINT32_MAX - 1)
		return "too many ranges for one file";
	if (snap->ngart > max / SNAPFILE_GART_SIZE)
		return "too many GART rows for one note";
	if (snap->nallocs > max / SNAPFILE_ALLOC_SIZE)
		return "too many allocations for one note";
	if (snap->nregs > max / SNAPFILE_REG_SIZE)
		return "too many registers for one note";
	if (snap->nevents > max / SNAPFILE_EVENT_SIZE)
		return "too many events for one note";
	if (snap->state_size > max)
		return "state too large for one note";
	if (snap->client_size > max)
		return "client bytes too large for one note";
	return NULL;
}

int snapfile_write(const char *path, const struct gpusim_snapshot *snap, char *err, size_t errlen)
{
	char problem[PROBLEM_MAX], text[MAX_CONFIG_TEXT];
	struct out_note notes[SNAPFILE_NOTE_COUNT];
	if (!path)
		return fail(err, errlen, "(null)", "no path");
	if (!snap)
		return fail(err, errlen, path, "no snapshot");
	if (libelf_start(err, errlen, path))
		return -1;
	/* Everything is checked before the file is touched: a refused snapshot leaves
	 * an existing file as it was. */
	if (snapfile_check(snap, problem, sizeof(problem)) || config_text(&snap->cfg, text, problem))
		return fail(err, errlen, path, "%s", problem);
	const char *limit = over_limits(snap);
	if (limit)
		return fail(err, errlen, path, "%s", limit);
	if (encode_notes(snap, text, notes)) {
		free_notes(notes);
		return fail(err, errlen, path, "out of memory");
	}
	uint64_t note_size = 0;
	uint8_t *note_seg = build_note_segment(notes, &note_size);
	free_notes(notes);
	if (!note_seg)
		return fail(err, errlen, path, "out of memory");
	struct layout l;
	if (plan_layout(snap, note_size, &l)) {
		free(note_seg);
		return fail(err, errlen, path, "snapshot too large for a file");
	}

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		int e = errno;
		free(note_seg);
		return fail(err, errlen, path, "cannot create: %s", strerror(e));
	}
	int rc = write_headers(fd, snap, &l, note_seg, problem);
	free(note_seg);
	if (!rc && write_ranges(fd, snap, l.data_off)) {
		snprintf(problem, sizeof(problem), "write failed: %s", strerror(errno));
		rc = -1;
	}
	if (close(fd) && !rc) {
		snprintf(problem, sizeof(problem), "write failed: %s", strerror(errno));
		rc = -1;
	}
	if (rc) {
		/* No half-written snapshot stays behind to be read later. */
		unlink(path);
		return fail(err, errlen, path, "%s", problem);
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------------ */

/* What snapfile_read / snapfile_read_mem hand out: the snapshot, the tables it
 * points to, and the mapping its ranges, state and client bytes point into. */
struct owned {
	struct gpusim_snapshot snap;
	void *map;
	size_t maplen;
};

struct in_note {
	const uint8_t *desc; /* into the caller's buffer */
	uint64_t size;
	bool seen;
};

struct reader {
	const uint8_t *buf;
	size_t len;
	const char *name;
	char *err;
	size_t errlen;
	Elf *elf;
	struct in_note notes[SNAPFILE_NOTE_COUNT];
	struct gpusim_snapshot_range *ranges;
	uint64_t nranges;
};

#define RFAIL(r, ...) fail((r)->err, (r)->errlen, (r)->name, __VA_ARGS__)

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* What libelf needs to trust the file: its identity, then that the header tables
 * lie inside it. Checked on the raw bytes so each refusal can be named. */
static int read_ident(struct reader *r)
{
	const uint8_t *b = r->buf;
	if (r->len < SELFMAG || memcmp(b, ELFMAG, SELFMAG))
		return RFAIL(r, "not an ELF file");
	if (r->len < EI_NIDENT)
		return RFAIL(r, "truncated: %zu bytes, shorter than the ELF header (%zu bytes)", r->len, EHDR_SIZE);
	if (b[EI_CLASS] == ELFCLASS32)
		return RFAIL(r, "wrong class ELF32 (expected ELF64)");
	if (b[EI_CLASS] != ELFCLASS64)
		return RFAIL(r, "wrong class %u (expected ELF64)", b[EI_CLASS]);
	if (b[EI_DATA] == ELFDATA2MSB)
		return RFAIL(r, "wrong byte order: big endian (expected little endian)");
	if (b[EI_DATA] != ELFDATA2LSB)
		return RFAIL(r, "wrong byte order %u (expected little endian)", b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return RFAIL(r, "unknown ELF version %u (expected %d)", b[EI_VERSION], EV_CURRENT);
	if (r->len < EHDR_SIZE)
		return RFAIL(r, "truncated: %zu bytes, shorter than the ELF header (%zu bytes)", r->len, EHDR_SIZE);
	/* e_type, e_machine: before libelf, which would judge the section headers first. */
	uint64_t type = le(b + 16, 2), machine = le(b + 18, 2);
	if (type != ET_CORE)
		return RFAIL(r, "not a core file (type %" PRIu64 ", expected ET_CORE %d)", type, ET_CORE);
	if (machine != EM_NONE)
		return RFAIL(r, "wrong machine %" PRIu64 " (expected %d)", machine, EM_NONE);
	/* libelf would refuse a short table without saying so: count it here, unless
	 * the count is in section 0 (PN_XNUM), which read_phdrs checks again. */
	uint64_t phoff = le(b + 32, 8), phnum = le(b + 56, 2);
	if (phnum != PN_XNUM && (phoff > r->len || phnum > (r->len - phoff) / PHDR_SIZE))
		return RFAIL(r, "truncated: %zu bytes, shorter than its program headers (%" PRIu64
			     " at offset 0x%" PRIx64 ")", r->len, phnum, phoff);
	uint64_t shoff = le(b + 40, 8), shentsize = le(b + 58, 2), shnum = le(b + 60, 2);
	if (shoff) {
		if (shentsize != SHDR_SIZE)
			return RFAIL(r, "section header entry size %" PRIu64 " (expected %zu)", shentsize, SHDR_SIZE);
		/* shnum 0 with a table: the count is in section 0, which must be there. */
		uint64_t n = shnum ? shnum : 1;
		if (shoff > r->len || n > (r->len - shoff) / SHDR_SIZE)
			return RFAIL(r, "truncated: %zu bytes, shorter than its section headers (%" PRIu64
				     " at offset 0x%" PRIx64 ")", r->len, n, shoff);
	}
	return 0;
}

/* The program headers, copied: libelf may hand out pointers into the image that
 * are not aligned for the structure (the file decides where they are). */
static GElf_Phdr *read_phdrs(struct reader *r, size_t *phnum)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(r->elf, &eh))
		return RFAIL(r, "libelf: %s", elf_errmsg(-1)), NULL;
	if (eh.e_ehsize != EHDR_SIZE)
		return RFAIL(r, "ELF header size %u (expected %zu)", eh.e_ehsize, EHDR_SIZE), NULL;
	if (elf_getphdrnum(r->elf, phnum))
		return RFAIL(r, "cannot count the program headers: %s", elf_errmsg(-1)), NULL;
	if (!*phnum)
		return RFAIL(r, "no program headers"), NULL;
	if (eh.e_phentsize != PHDR_SIZE)
		return RFAIL(r, "program header entry size %u (expected %zu)", eh.e_phentsize, PHDR_SIZE), NULL;
	if (eh.e_phoff > r->len || *phnum > (r->len - eh.e_phoff) / PHDR_SIZE)
		return RFAIL(r, "truncated: %zu bytes, shorter than its program headers (%zu at offset 0x%" PRIx64 ")",
			     r->len, *phnum, (uint64_t)eh.e_phoff), NULL;
	/* At most one per 56 bytes of file. */
	GElf_Phdr *ph = malloc(*phnum * sizeof(*ph));
	if (!ph)
		return RFAIL(r, "out of memory"), NULL;
	for (size_t i = 0; i < *phnum; i++)
		if (!gelf_getphdr(r->elf, (int)i, &ph[i])) {
			free(ph);
			return RFAIL(r, "program header %zu: libelf: %s", i, elf_errmsg(-1)), NULL;
		}
	return ph;
}

static int read_notes(struct reader *r, const GElf_Phdr *ph)
{
	if (!ph->p_filesz)
		return 0;
	Elf_Data *d = elf_getdata_rawchunk(r->elf, (int64_t)ph->p_offset, (size_t)ph->p_filesz, ELF_T_NHDR);
	if (!d)
		return RFAIL(r, "cannot read the note segment: %s", elf_errmsg(-1));
	size_t off = 0;
	while (off < d->d_size) {
		if (d->d_size - off < NOTE_HDR)
			return RFAIL(r, "truncated note at offset 0x%zx of the note segment: %zu bytes left, a note "
				     "header has %u", off, d->d_size - off, NOTE_HDR);
		GElf_Nhdr nh;
		size_t name_off, desc_off;
		size_t next = gelf_getnote(d, off, &nh, &name_off, &desc_off);
		if (!next || next <= off) {
			/* libelf converted the header words to host order in d_buf. */
			uint32_t words[2];
			memcpy(words, (const char *)d->d_buf + off, sizeof(words));
			return RFAIL(r, "note at offset 0x%zx of the note segment runs past its end (name %" PRIu32
				     " bytes, description %" PRIu32 " bytes, %zu bytes left)", off, words[0], words[1],
				     d->d_size - off - NOTE_HDR);
		}
		const char *owner = (const char *)d->d_buf + name_off;
		if (nh.n_namesz == sizeof(SNAPFILE_OWNER) && !memcmp(owner, SNAPFILE_OWNER, sizeof(SNAPFILE_OWNER))) {
			const char *what = snapfile_note_name(nh.n_type);
			if (!what)
				return RFAIL(r, "unknown GPUSIM note type 0x%" PRIx32 " at offset 0x%zx of the note segment",
					     (uint32_t)nh.n_type, off);
			struct in_note *n = &r->notes[nh.n_type - SNAPFILE_NT_FIRST];
			if (n->seen)
				return RFAIL(r, "duplicate %s note", what);
			n->seen = true;
			/* Into the caller's bytes, not libelf's copy of them. */
			n->desc = r->buf + ph->p_offset + desc_off;
			n->size = nh.n_descsz;
		}
		off = next;
	}
	return 0;
}

/* A stretch of the file and who owns it: a range's data (the index of its program
 * header, and its range number), or one of the file's own structures. */
struct extent {
	uint64_t off, len;
	size_t ph, range;
	const char *what; /* NULL for a range */
};

static int by_offset(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int overlap_fail(struct reader *r, const struct extent *a, const struct extent *b)
{
	const struct extent *rg = b->what ? a : b, *other = rg == a ? b : a;
	if (other->what)
		return RFAIL(r, "range %zu (program header %zu): its data at file offset 0x%" PRIx64 " (0x%" PRIx64
			     " bytes) overlaps %s", rg->range, rg->ph, rg->off, rg->len, other->what);
	return RFAIL(r, "range %zu (program header %zu): its data at file offset 0x%" PRIx64 " (0x%" PRIx64
		     " bytes) overlaps range %zu's (program header %zu) at 0x%" PRIx64, rg->range, rg->ph, rg->off,
		     rg->len, other->range, other->ph, other->off);
}

/*
 * A range's bytes are its own: the writer lays them out after the headers and the
 * notes, each in a place of its own. A range whose data is the ELF header (a first
 * LOAD with p_offset 0), the headers or the notes would put those bytes into device
 * memory, the driver's rings included, where the restored device would run them as
 * packets; two ranges sharing data would make one memory out of two. n extents,
 * sorted here; each is compared with the one reaching furthest before it.
 */
static int check_extents(struct reader *r, struct extent *e, size_t n)
{
	qsort(e, n, sizeof(*e), by_offset);
	const struct extent *far = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!e[i].len)
			continue;
		if (far && far->off + far->len > e[i].off && (!far->what || !e[i].what))
			return overlap_fail(r, far, &e[i]);
		if (!far || e[i].off + e[i].len > far->off + far->len)
			far = &e[i];
	}
	return 0;
}

/* The program headers: one PT_NOTE and a PT_LOAD per range, inside the file. */
static int check_segments(struct reader *r, const GElf_Phdr *ph, size_t phnum)
{
	size_t note = SIZE_MAX, nloads = 0;
	for (size_t i = 0; i < phnum; i++) {
		const GElf_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD && p->p_type != PT_NOTE)
			return RFAIL(r, "program header %zu has type 0x%" PRIx32 " (expected PT_LOAD or PT_NOTE)", i,
				     p->p_type);
		if (p->p_type == PT_NOTE && note != SIZE_MAX)
			return RFAIL(r, "more than one PT_NOTE segment (program headers %zu and %zu)", note, i);
		if (p->p_offset > r->len || p->p_filesz > r->len - p->p_offset)
			return RFAIL(r, "truncated: %zu bytes, shorter than its %s segment (program header %zu: 0x%" PRIx64
				     " bytes at offset 0x%" PRIx64 ")", r->len, p->p_type == PT_NOTE ? "note" : "LOAD",
				     i, (uint64_t)p->p_filesz, (uint64_t)p->p_offset);
		if (p->p_type == PT_NOTE)
			note = i;
		else
			nloads++;
	}
	if (note == SIZE_MAX)
		return RFAIL(r, "no PT_NOTE segment");
	if (read_notes(r, &ph[note]))
		return -1;

	if (nloads && !(r->ranges = calloc(nloads, sizeof(*r->ranges))))
		return RFAIL(r, "out of memory");
	for (size_t i = 0; i < phnum; i++) {
		const GElf_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		uint64_t k = r->nranges;
		if (p->p_vaddr != p->p_paddr)
			return RFAIL(r, "range %" PRIu64 " (program header %zu): virtual address 0x%" PRIx64
				     " differs from physical address 0x%" PRIx64, k, i, (uint64_t)p->p_vaddr,
				     (uint64_t)p->p_paddr);
		if (p->p_filesz != p->p_memsz)
			return RFAIL(r, "range %" PRIu64 " (program header %zu): file size 0x%" PRIx64
				     " differs from memory size 0x%" PRIx64, k, i, (uint64_t)p->p_filesz,
				     (uint64_t)p->p_memsz);
		if (p->p_offset & (PAGE - 1))
			return RFAIL(r, "range %" PRIu64 " (program header %zu): data at file offset 0x%" PRIx64
				     " is not page aligned", k, i, (uint64_t)p->p_offset);
		r->ranges[r->nranges++] = (struct gpusim_snapshot_range){
			.addr = p->p_paddr, .size = p->p_filesz, .data = r->buf + p->p_offset };
	}

	/* Every offset and size here was checked against the file's length above. */
	GElf_Ehdr eh;
	size_t shnum = 0;
	if (!gelf_getehdr(r->elf, &eh) || (eh.e_shoff && elf_getshdrnum(r->elf, &shnum)))
		return RFAIL(r, "libelf: %s", elf_errmsg(-1));
	struct extent *e = calloc(r->nranges + 4, sizeof(*e));
	if (!e)
		return RFAIL(r, "out of memory");
	size_t n = 0;
	e[n++] = (struct extent){ .off = 0, .len = EHDR_SIZE, .what = "the ELF header" };
	e[n++] = (struct extent){ .off = eh.e_phoff, .len = (uint64_t)phnum * PHDR_SIZE, .what = "the program headers" };
	if (eh.e_shoff)
		e[n++] = (struct extent){ .off = eh.e_shoff, .len = (uint64_t)(shnum ? shnum : 1) * SHDR_SIZE,
					  .what = "the section headers" };
	e[n++] = (struct extent){ .off = ph[note].p_offset, .len = ph[note].p_filesz, .what = "the note segment" };
	for (size_t i = 0, k = 0; i < phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			e[n++] = (struct extent){ .off = ph[i].p_offset, .len = ph[i].p_filesz, .ph = i, .range = k++ };
	int rc = check_extents(r, e, n);
	free(e);
	return rc;
}

static int read_segments(struct reader *r)
{
	size_t phnum;
	GElf_Phdr *ph = read_phdrs(r, &phnum);
	if (!ph)
		return -1;
	int rc = check_segments(r, ph, phnum);
	free(ph);
	return rc;
}

static const struct in_note *note_of(const struct reader *r, uint32_t type)
{
	return &r->notes[type - SNAPFILE_NT_FIRST];
}

/* A table note: whole records, as many as the header counts. */
static int check_table(struct reader *r, uint32_t type, uint64_t rsize, uint64_t count, const char *what)
{
	const struct in_note *n = note_of(r, type);
	const char *name = snapfile_note_name(type);
	if (n->size % rsize)
		return RFAIL(r, "%s note has %" PRIu64 " bytes, not a multiple of its %" PRIu64 "-byte record", name,
			     n->size, rsize);
	if (n->size / rsize != count)
		return RFAIL(r, "the HEADER note counts %" PRIu64 " %s, the %s note holds %" PRIu64, count, what, name,
			     n->size / rsize);
	return 0;
}

/* Every note there once, of the right size, agreeing with the header. */
static int check_notes(struct reader *r, struct snapfile_header *h, struct gpusim_config *cfg)
{
	const struct in_note *hn = note_of(r, SNAPFILE_NT_HEADER);
	if (!hn->seen)
		return RFAIL(r, "missing HEADER note");
	/* The version first: another version may have another header size. */
	if (hn->size >= 4 && le(hn->desc, 4) != GPUSIM_SNAPSHOT_VERSION)
		return RFAIL(r, "unknown snapshot version %" PRIu64 " (this reader knows %d)", le(hn->desc, 4),
			     GPUSIM_SNAPSHOT_VERSION);
	if (hn->size != SNAPFILE_HEADER_SIZE)
		return RFAIL(r, "HEADER note has %" PRIu64 " bytes (expected %d)", hn->size, SNAPFILE_HEADER_SIZE);
	snapfile_get_header(hn->desc, h);
	if (h->reserved)
		return RFAIL(r, "HEADER note: reserved field is %" PRIu32 " (expected 0)", h->reserved);
	for (uint32_t t = SNAPFILE_NT_FIRST; t < SNAPFILE_NT_FIRST + SNAPFILE_NOTE_COUNT; t++)
		if (!note_of(r, t)->seen && t != SNAPFILE_NT_CLIENT)
			return RFAIL(r, "missing %s note", snapfile_note_name(t));

	const struct in_note *cn = note_of(r, SNAPFILE_NT_CONFIG);
	if (!cn->size || cn->desc[cn->size - 1] || memchr(cn->desc, '\0', (size_t)cn->size - 1))
		return RFAIL(r, "CONFIG note is not one NUL-terminated string");
	char why[160];
	if (snapfile_config_parse((const char *)cn->desc, cfg, why, sizeof(why)))
		return RFAIL(r, "bad configuration in the CONFIG note: %s", why);

	if (note_of(r, SNAPFILE_NT_STATS)->size != SNAPFILE_STATS_SIZE &&
	    note_of(r, SNAPFILE_NT_STATS)->size != SNAPFILE_STATS_SIZE_V1)
		return RFAIL(r, "STATS note has %" PRIu64 " bytes (expected %d or %d)",
			     note_of(r, SNAPFILE_NT_STATS)->size, SNAPFILE_STATS_SIZE, SNAPFILE_STATS_SIZE_V1);
	if (check_table(r, SNAPFILE_NT_REGISTERS, SNAPFILE_REG_SIZE, h->nregs, "registers") ||
	    check_table(r, SNAPFILE_NT_GART, SNAPFILE_GART_SIZE, h->ngart, "GART rows") ||
	    check_table(r, SNAPFILE_NT_ALLOCATIONS, SNAPFILE_ALLOC_SIZE, h->nallocs, "allocations") ||
	    check_table(r, SNAPFILE_NT_EVENTS, SNAPFILE_EVENT_SIZE, h->nevents, "events") ||
	    check_table(r, SNAPFILE_NT_STATE, 1, h->state_size, "state bytes"))
		return -1;
	if (h->nranges != r->nranges)
		return RFAIL(r, "the HEADER note counts %" PRIu64 " ranges, the file has %" PRIu64 " PT_LOAD segments",
			     h->nranges, r->nranges);
	return 0;
}

static void free_owned(struct owned *o)
{
	free(o->snap.regs);
	free(o->snap.gart);
	free(o->snap.allocs);
	free(o->snap.events);
	free(o->snap.ranges);
	if (o->map)
		munmap(o->map, o->maplen);
	free(o);
}

/* Decode the notes into a snapshot that owns its tables. */
#define DECODE_TABLE(r, o, type, field, n, rsize, get)                                  \
	do {                                                                            \
		const struct in_note *tn_ = note_of(r, type);                           \
		if (n) {                                                                \
			(o)->snap.field = calloc((size_t)(n), sizeof(*(o)->snap.field)); \
			if (!(o)->snap.field)                                           \
				return -1;                                              \
			for (uint64_t i_ = 0; i_ < (uint64_t)(n); i_++)                 \
				get(tn_->desc + i_ * (rsize), &(o)->snap.field[i_]);    \
		}                                                                       \
	} while (0)

static int decode(struct reader *r, const struct snapfile_header *h, const struct gpusim_config *cfg,
		  struct owned *o)
{
	struct gpusim_snapshot *s = &o->snap;
	s->version = h->version;
	s->cfg = *cfg;
	s->time_ns = h->time_ns;
	snapfile_get_stats(note_of(r, SNAPFILE_NT_STATS)->desc, note_of(r, SNAPFILE_NT_STATS)->size, &s->stats);
	s->nregs = h->nregs;
	s->ngart = h->ngart;
	s->nallocs = h->nallocs;
	s->nevents = h->nevents;
	DECODE_TABLE(r, o, SNAPFILE_NT_REGISTERS, regs, h->nregs, SNAPFILE_REG_SIZE, snapfile_get_reg);
	DECODE_TABLE(r, o, SNAPFILE_NT_GART, gart, h->ngart, SNAPFILE_GART_SIZE, snapfile_get_gart);
	DECODE_TABLE(r, o, SNAPFILE_NT_ALLOCATIONS, allocs, h->nallocs, SNAPFILE_ALLOC_SIZE, snapfile_get_alloc);
	DECODE_TABLE(r, o, SNAPFILE_NT_EVENTS, events, h->nevents, SNAPFILE_EVENT_SIZE, snapfile_get_event);
	s->ranges = r->ranges;
	s->nranges = r->nranges;
	r->ranges = NULL;
	s->state = h->state_size ? note_of(r, SNAPFILE_NT_STATE)->desc : NULL;
	s->state_size = h->state_size;
	/* CLIENT is optional: its size is its own, the header does not count it. */
	const struct in_note *client = note_of(r, SNAPFILE_NT_CLIENT);
	s->client = client->seen && client->size ? client->desc : NULL;
	s->client_size = s->client ? client->size : 0;
	return 0;
}

static int parse(const void *buf, size_t len, const char *name, struct owned **out, char *err, size_t errlen)
{
	struct reader r = { .buf = buf, .len = len, .name = name, .err = err, .errlen = errlen };
	struct snapfile_header h;
	struct gpusim_config cfg;
	struct owned *o = NULL;
	int rc = -1;
	if (libelf_start(err, errlen, name) || read_ident(&r))
		return -1;
	/* libelf reads the image in place and never writes to it (native byte order). */
	r.elf = elf_memory((char *)buf, len);
	if (!r.elf)
		return RFAIL(&r, "libelf: %s", elf_errmsg(-1));
	if (elf_kind(r.elf) != ELF_K_ELF) {
		RFAIL(&r, "not an ELF file");
		goto out;
	}
	if (read_segments(&r) || check_notes(&r, &h, &cfg))
		goto out;
	if (!(o = calloc(1, sizeof(*o))) || decode(&r, &h, &cfg, o)) {
		RFAIL(&r, "out of memory");
		goto out;
	}
	char why[PROBLEM_MAX];
	if (snapfile_check(&o->snap, why, sizeof(why))) {
		RFAIL(&r, "%s", why);
		goto out;
	}
	*out = o;
	o = NULL;
	rc = 0;
out:
	if (o)
		free_owned(o);
	free(r.ranges);
	elf_end(r.elf);
	return rc;
}

int snapfile_read_mem(const void *buf, size_t len, const char *name, struct gpusim_snapshot **out, char *err,
		      size_t errlen)
{
	struct owned *o;
	if (!name)
		name = "(buffer)";
	if (!out || (!buf && len))
		return fail(err, errlen, name, "no buffer or no result");
	if (parse(buf ? buf : "", len, name, &o, err, errlen))
		return -1;
	*out = &o->snap;
	return 0;
}

int snapfile_read(const char *path, struct gpusim_snapshot **out, char *err, size_t errlen)
{
	struct stat st;
	struct owned *o;
	if (!path)
		return fail(err, errlen, "(null)", "no path");
	if (!out)
		return fail(err, errlen, path, "no result");
	/* O_NONBLOCK: a FIFO (adapter from=, gpusim inspect) must be refused as not a
	 * regular file below, not waited on until someone writes to it. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, path, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return fail(err, errlen, path, "cannot stat: %s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, errlen, path, "not a regular file");
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return fail(err, errlen, path, "too large to map");
	}
	size_t len = (size_t)st.st_size;
	void *map = NULL;
	if (len) {
		/* Read-only: a stray write through a range pointer faults instead of
		 * changing what a later restore sees. */
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			int e = errno;
			close(fd);
			return fail(err, errlen, path, "cannot map: %s", strerror(e));
		}
	}
	close(fd);
	if (parse(map ? map : "", len, path, &o, err, errlen)) {
		if (map)
			munmap(map, len);
		return -1;
	}
	o->map = map;
	o->maplen = len;
	*out = &o->snap;
	return 0;
}

void snapfile_free(struct gpusim_snapshot *snap)
{
	if (snap)
		free_owned((struct owned *)((char *)snap - offsetof(struct owned, snap)));
}
