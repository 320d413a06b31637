/*
 * The bodies of a snapshot file's notes (sim/elf/SNAPSHOT.md): note types, record
 * sizes, and each record encoded to and decoded from its little-endian bytes, so the
 * file's layout does not depend on the host's structure layout or byte order.
 */
#ifndef SIM_ELF_SNAPFILE_RECORDS_H
#define SIM_ELF_SNAPFILE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <gpusim/snapshot.h>

#define SNAPFILE_OWNER "GPUSIM" /* namesz 7 with its NUL */

/* "GP" in the high half keeps readelf from naming them as core notes (NT_PRSTATUS...). */
enum snapfile_note_type {
	SNAPFILE_NT_HEADER = 0x47500001,
	SNAPFILE_NT_CONFIG,
	SNAPFILE_NT_STATS,
	SNAPFILE_NT_REGISTERS,
	SNAPFILE_NT_GART,
	SNAPFILE_NT_ALLOCATIONS,
	SNAPFILE_NT_EVENTS,
	SNAPFILE_NT_STATE,
	SNAPFILE_NT_CLIENT,   /* optional: the bytes of the program that took it */
};
#define SNAPFILE_NT_FIRST SNAPFILE_NT_HEADER
#define SNAPFILE_NOTE_COUNT 9 /* every type above, each once; all but CLIENT required */

/* Sizes of the fixed records, in bytes. */
#define SNAPFILE_HEADER_SIZE 56
#define SNAPFILE_STATS_SIZE_V1 272 /* before demotions, promotions and segments 4..5 */
#define SNAPFILE_STATS_SIZE 368
#define SNAPFILE_REG_SIZE 8
#define SNAPFILE_GART_SIZE 16
#define SNAPFILE_ALLOC_SIZE 88
#define SNAPFILE_EVENT_SIZE 64

/* The HEADER note: the version, the clock and how many of everything follow. */
struct snapfile_header {
	uint32_t version;
	uint32_t reserved; /* 0 */
	uint64_t time_ns;
	uint32_t nregs, nevents;
	uint64_t ngart, nallocs, nranges, state_size;
};

/* "HEADER", "CONFIG", ... for a note type of the list above; NULL for any other. */
const char *snapfile_note_name(uint32_t type);

void snapfile_put_header(uint8_t *p, const struct snapfile_header *h);
void snapfile_get_header(const uint8_t *p, struct snapfile_header *h);
void snapfile_put_stats(uint8_t *p, const struct gpusim_stats *s);
void snapfile_get_stats(const uint8_t *p, size_t len, struct gpusim_stats *s);
void snapfile_put_reg(uint8_t *p, const struct gpusim_snapshot_reg *r);
void snapfile_get_reg(const uint8_t *p, struct gpusim_snapshot_reg *r);
void snapfile_put_gart(uint8_t *p, const struct gpusim_snapshot_gart *g);
void snapfile_get_gart(const uint8_t *p, struct gpusim_snapshot_gart *g);
/* The name goes out up to its NUL and zero-padded to 32 bytes (the caller has
 * checked that it has a NUL); it comes back as its 32 bytes. */
void snapfile_put_alloc(uint8_t *p, const struct gpusim_snapshot_alloc *a);
void snapfile_get_alloc(const uint8_t *p, struct gpusim_snapshot_alloc *a);
void snapfile_put_event(uint8_t *p, const struct gpusim_event *e);
void snapfile_get_event(const uint8_t *p, struct gpusim_event *e);

/* The CONFIG text of cfg: every key, sizes with the largest binary suffix that is
 * exact. The length written (without the NUL), or -1 when len is too small. */
int snapfile_config_text(const struct gpusim_config *cfg, char *buf, size_t len);
/* The configuration a CONFIG text stands for: the defaults, then the text's keys.
 * 0, or -1 with gpusim_config_parse's sentence in why. */
int snapfile_config_parse(const char *text, struct gpusim_config *cfg, char *why, size_t whylen);

#endif
