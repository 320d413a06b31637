/*
 * ELF images: the loadable segments of an ELF file made by any toolchain (firmware,
 * command buffers of gpusim packets), read with libelf and checked (image.c), their
 * packets' addresses found for relocation (image_reloc.c), loaded into allocations
 * and submitted (image_load.c). The rules are in sim/elf/IMAGES.md. Prefix: elfimg_.
 */
#ifndef SIM_ELF_IMAGE_H
#define SIM_ELF_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/d3dkmthk.h>

/* One call of D3DKMTCreateAllocation2 creates every segment, so that a load that
 * fails leaves nothing behind: at most D3DKMT_CREATEALLOCATION_MAX of them. */
#define ELFIMG_MAX_SEGMENTS 1024u
/* The reader holds the whole file in memory. */
#define ELFIMG_MAX_FILE (1ull << 30)

/* p_flags bits, as PF_X, PF_W, PF_R. */
#define ELFIMG_X 0x1u
#define ELFIMG_W 0x2u
#define ELFIMG_R 0x4u

#define ELFIMG_ANY_MACHINE (-1)

/* A PT_LOAD segment. Its allocation starts `lead` bytes before vaddr, at vaddr
 * rounded down to max(p_align, 4 KiB), and is aligned like that: the GPU address
 * of every byte is then congruent to its p_vaddr modulo the alignment, as an OS
 * loader keeps a segment's page offsets. */
struct elfimg_segment {
	uint32_t phdr;          /* index of its program header */
	uint32_t flags;         /* ELFIMG_R | ELFIMG_W | ELFIMG_X */
	uint64_t vaddr, memsz, filesz, offset, align;
	uint64_t lead;          /* vaddr mod max(p_align, 4 KiB) */
	const uint8_t *data;    /* the filesz bytes of the file (NULL when 0) */
};

struct elfimg {
	char *name;             /* the path, for messages */
	uint32_t elfclass;      /* 32 or 64 */
	uint32_t type;          /* ET_EXEC or ET_DYN */
	uint32_t machine;       /* e_machine, whatever it is (see IMAGES.md) */
	uint64_t entry;
	uint32_t nsegs;         /* >= 1 */
	struct elfimg_segment *segs; /* PT_LOAD segments in program-header order */
	uint8_t *buf;           /* the file's bytes; segs[].data point into it */
	size_t len;
};

/* What the device can hold, and the machine the caller pins (the reader has no
 * device: the caller passes these in). */
struct elfimg_limits {
	uint64_t max_segment;   /* bytes (pages) one segment may take; 0: no limit */
	uint64_t max_total;     /* bytes (pages) all segments together may take; 0: no limit */
	int32_t machine;        /* the e_machine required, or ELFIMG_ANY_MACHINE */
};

/* Read and check an image file. 0, or -1 with "PATH: problem" in err and *out
 * untouched. lim may be NULL (no limits, any machine). */
int elfimg_read(const char *path, const struct elfimg_limits *lim, struct elfimg **out, char *err,
		size_t errlen);
/* The same from memory (copied: buf need not outlive the result); name stands for
 * the file in messages. */
int elfimg_read_mem(const void *buf, size_t len, const char *name, const struct elfimg_limits *lim,
		    struct elfimg **out, char *err, size_t errlen);
void elfimg_free(struct elfimg *img);

/* Bytes of the allocation a segment becomes: lead + memsz rounded up to 4 KiB pages. */
uint64_t elfimg_seg_size(const struct elfimg_segment *s);
/* Its alignment: max(p_align, 4 KiB). */
uint64_t elfimg_seg_align(const struct elfimg_segment *s);
/* The index of the image's only executable segment; -1: it has none, -2: several. */
int elfimg_only_exec(const struct elfimg *img);
/* Index of the segment whose [vaddr, vaddr + memsz) holds addr, or -1. */
int elfimg_find(const struct elfimg *img, uint64_t addr);

/* Internal: "NAME: " and the message into err; returns -1. */
int elfimg_fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- relocation (image_reloc.c) ----------------------------------------------
 * The packets of an executable segment carry addresses in the image's own address
 * space (p_vaddr). Each address field that falls in a segment becomes a patch
 * location, so the kernel writes where that segment really is. */
struct elfimg_reloc {
	uint32_t patch_offset;  /* byte of the address field in the command buffer */
	uint32_t segment;       /* the segment the address falls in */
	uint64_t alloc_offset;  /* where in that segment's allocation: lead + address - vaddr */
	bool write;             /* the packet writes through it */
};

/* Decode the packets of segment seg (its file bytes) and list the relocations
 * (*out: malloc'd, free() it; NULL when none). 0, or -1 with "PATH: problem" in
 * err: the segment is not executable, has no packets, is not whole dwords. A
 * malformed packet is not an error: it is the device's to fault on. */
int elfimg_relocs(const struct elfimg *img, uint32_t seg, struct elfimg_reloc **out, size_t *n,
		  char *err, size_t errlen);

/* ---- loading and submitting (image_load.c) ------------------------------------ */

/* A device and a context on it, with the buffers the context (or its last Render)
 * handed out; elfimg_submit and loads that need the GPU update them. */
struct elfimg_target {
	D3DKMT_HANDLE device, context;
	void *cmdbuf;
	uint32_t cmdbuf_size;
	D3DDDI_ALLOCATIONLIST *alist;
	uint32_t alist_size;
	D3DDDI_PATCHLOCATIONLIST *plist;
	uint32_t plist_size;
};

/* Placement asked for every segment (struct gpusim_alloc_desc's fields). */
struct elfimg_placement {
	uint32_t preferred[3];  /* GPUSIM_SEG_* ids, 0 ends; all 0: the driver's defaults */
	uint32_t allowed;       /* GPUSIM_SEG_BIT mask; 0 = any */
	uint32_t priority;      /* 0 = normal */
};

/* An upload into invisible VRAM (a GPU copy from a staging buffer) whose bytes do
 * not arrive is submitted again, this many times in all, as the kernel's paging
 * path redoes a faulting copy (GSDRV_PAGING_TRIES). */
#define ELFIMG_UPLOAD_TRIES 3u

/* Create one allocation per segment (handles[i] for segs[i]; all or none) and put
 * the file's bytes in, zeros after them. STATUS_SUCCESS, or the failing call's
 * status with a sentence in err and nothing left behind; an upload into invisible
 * VRAM that the GPU did not complete in ELFIMG_UPLOAD_TRIES tries (its CRC-32
 * check failed) is STATUS_UNSUCCESSFUL. */
NTSTATUS elfimg_load(const struct elfimg *img, struct elfimg_target *t, const struct elfimg_placement *pl,
		     D3DKMT_HANDLE *handles, char *err, size_t errlen);

/* Submit executable segment seg as a D3DKMTRender command buffer, every segment
 * on the allocation list (handles as elfimg_load gave them), its relocations as
 * patch locations. *npatch (may be NULL): how many. */
NTSTATUS elfimg_submit(const struct elfimg *img, uint32_t seg, struct elfimg_target *t,
		       const D3DKMT_HANDLE *handles, uint32_t *npatch, char *err, size_t errlen);

#endif
