/*
 * The bodies of a snapshot file's notes, byte by byte as sim/elf/SNAPSHOT.md lays
 * them out: little-endian integers at fixed offsets (notes are only 4-byte aligned,
 * so nothing here reads a wider integer through a pointer), and the CONFIG text.
 */
#include <config.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim/elf/snapfile_records.h"

/* A record size is part of the file format: a change to a structure that would
 * change one must be a new version, not an accident. */
_Static_assert(sizeof(((struct gpusim_stats *)0)->seg) / sizeof(struct gpusim_segment_stats) == 6,
	       "the STATS record holds six segment entries");
_Static_assert(GPUSIM_SNAPSHOT_NAME_MAX == 32, "the ALLOCATIONS record holds a 32-byte name");

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A double travels as the 64 bits of its IEEE 754 binary64 form. */
static uint64_t double_bits(double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof(v));
	return v;
}

static double bits_double(uint64_t v)
{
	double d;
	memcpy(&d, &v, sizeof(d));
	return d;
}

const char *snapfile_note_name(uint32_t type)
{
	static const char *const names[SNAPFILE_NOTE_COUNT] = {
		"HEADER", "CONFIG", "STATS", "REGISTERS", "GART", "ALLOCATIONS", "EVENTS", "STATE",
		"CLIENT",
	};
	if (type < SNAPFILE_NT_FIRST || type - SNAPFILE_NT_FIRST >= SNAPFILE_NOTE_COUNT)
		return NULL;
	return names[type - SNAPFILE_NT_FIRST];
}

void snapfile_put_header(uint8_t *p, const struct snapfile_header *h)
{
	put32(p + 0, h->version);
	put32(p + 4, h->reserved);
	put64(p + 8, h->time_ns);
	put32(p + 16, h->nregs);
	put32(p + 20, h->nevents);
	put64(p + 24, h->ngart);
	put64(p + 32, h->nallocs);
	put64(p + 40, h->nranges);
	put64(p + 48, h->state_size);
}

void snapfile_get_header(const uint8_t *p, struct snapfile_header *h)
{
	h->version = get32(p + 0);
	h->reserved = get32(p + 4);
	h->time_ns = get64(p + 8);
	h->nregs = get32(p + 16);
	h->nevents = get32(p + 20);
	h->ngart = get64(p + 24);
	h->nallocs = get64(p + 32);
	h->nranges = get64(p + 40);
	h->state_size = get64(p + 48);
}

/* The STATS record: the 14 counters in declaration order, then for segment ids
 * 0..3 size, used, largest_free, allocations and the fragmentation's bits (the
 * first form, 272 bytes); then demotions, promotions and segment ids 4..5. A
 * reader takes either form: the first leaves what it lacks zero. */
#define STATS_COUNTERS 14
#define STATS_SEG_SIZE 40
_Static_assert(8 * STATS_COUNTERS + 4 * STATS_SEG_SIZE == SNAPFILE_STATS_SIZE_V1, "STATS record size");
_Static_assert(SNAPFILE_STATS_SIZE_V1 + 16 + 2 * STATS_SEG_SIZE == SNAPFILE_STATS_SIZE, "STATS record size");

static void put_seg(uint8_t *q, const struct gpusim_segment_stats *g)
{
	put64(q + 0, g->size);
	put64(q + 8, g->used);
	put64(q + 16, g->largest_free);
	put64(q + 24, g->allocations);
	put64(q + 32, double_bits(g->fragmentation));
}

static void get_seg(const uint8_t *q, struct gpusim_segment_stats *g)
{
	g->size = get64(q + 0);
	g->used = get64(q + 8);
	g->largest_free = get64(q + 16);
	g->allocations = get64(q + 24);
	g->fragmentation = bits_double(get64(q + 32));
}

/* Where each counter lives: one list for both directions. */
static const size_t stats_counter[STATS_COUNTERS] = {
	offsetof(struct gpusim_stats, time_ns),        offsetof(struct gpusim_stats, allocations),
	offsetof(struct gpusim_stats, evictions),      offsetof(struct gpusim_stats, page_ins),
	offsetof(struct gpusim_stats, moves),          offsetof(struct gpusim_stats, bytes_in),
	offsetof(struct gpusim_stats, bytes_out),      offsetof(struct gpusim_stats, faults),
	offsetof(struct gpusim_stats, submits),        offsetof(struct gpusim_stats, usage_local),
	offsetof(struct gpusim_stats, budget_local),   offsetof(struct gpusim_stats, usage_nonlocal),
	offsetof(struct gpusim_stats, budget_nonlocal), offsetof(struct gpusim_stats, commit_pages),
};

void snapfile_put_stats(uint8_t *p, const struct gpusim_stats *s)
{
	for (int i = 0; i < STATS_COUNTERS; i++) {
		uint64_t v;
		memcpy(&v, (const char *)s + stats_counter[i], sizeof(v));
		put64(p + 8 * i, v);
	}
	for (int k = 0; k < 4; k++)
		put_seg(p + 8 * STATS_COUNTERS + STATS_SEG_SIZE * k, &s->seg[k]);
	put64(p + SNAPFILE_STATS_SIZE_V1, s->demotions);
	put64(p + SNAPFILE_STATS_SIZE_V1 + 8, s->promotions);
	for (int k = 4; k < 6; k++)
		put_seg(p + SNAPFILE_STATS_SIZE_V1 + 16 + STATS_SEG_SIZE * (k - 4), &s->seg[k]);
}

void snapfile_get_stats(const uint8_t *p, size_t len, struct gpusim_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < STATS_COUNTERS; i++) {
		uint64_t v = get64(p + 8 * i);
		memcpy((char *)s + stats_counter[i], &v, sizeof(v));
	}
	for (int k = 0; k < 4; k++)
		get_seg(p + 8 * STATS_COUNTERS + STATS_SEG_SIZE * k, &s->seg[k]);
	if (len < SNAPFILE_STATS_SIZE)
		return;
	s->demotions = get64(p + SNAPFILE_STATS_SIZE_V1);
	s->promotions = get64(p + SNAPFILE_STATS_SIZE_V1 + 8);
	for (int k = 4; k < 6; k++)
		get_seg(p + SNAPFILE_STATS_SIZE_V1 + 16 + STATS_SEG_SIZE * (k - 4), &s->seg[k]);
}

void snapfile_put_reg(uint8_t *p, const struct gpusim_snapshot_reg *r)
{
	put32(p + 0, r->offset);
	put32(p + 4, r->value);
}

void snapfile_get_reg(const uint8_t *p, struct gpusim_snapshot_reg *r)
{
	r->offset = get32(p + 0);
	r->value = get32(p + 4);
}

void snapfile_put_gart(uint8_t *p, const struct gpusim_snapshot_gart *g)
{
	put64(p + 0, g->page);
	put64(p + 8, g->entry);
}

void snapfile_get_gart(const uint8_t *p, struct gpusim_snapshot_gart *g)
{
	g->page = get64(p + 0);
	g->entry = get64(p + 8);
}

void snapfile_put_alloc(uint8_t *p, const struct gpusim_snapshot_alloc *a)
{
	put32(p + 0, a->handle);
	put32(p + 4, a->device);
	put64(p + 8, a->size);
	put32(p + 16, a->segment);
	put32(p + 20, a->priority);
	put64(p + 24, a->offset);
	put64(p + 32, a->gpu_address);
	put32(p + 40, a->flags);
	put32(p + 44, a->lock_count);
	put32(p + 48, a->residency_count);
	put32(p + 52, a->reserved);
	/* Whatever follows the NUL in memory stays out of the file. */
	size_t n = strnlen(a->name, GPUSIM_SNAPSHOT_NAME_MAX);
	memset(p + 56, 0, GPUSIM_SNAPSHOT_NAME_MAX);
	memcpy(p + 56, a->name, n);
}

void snapfile_get_alloc(const uint8_t *p, struct gpusim_snapshot_alloc *a)
{
	a->handle = get32(p + 0);
	a->device = get32(p + 4);
	a->size = get64(p + 8);
	a->segment = get32(p + 16);
	a->priority = get32(p + 20);
	a->offset = get64(p + 24);
	a->gpu_address = get64(p + 32);
	a->flags = get32(p + 40);
	a->lock_count = get32(p + 44);
	a->residency_count = get32(p + 48);
	a->reserved = get32(p + 52);
	memcpy(a->name, p + 56, GPUSIM_SNAPSHOT_NAME_MAX);
}

void snapfile_put_event(uint8_t *p, const struct gpusim_event *e)
{
	put32(p + 0, e->type);
	put32(p + 4, e->cause);
	put64(p + 8, e->time_ns);
	put32(p + 16, e->device);
	put32(p + 20, e->allocation);
	put32(p + 24, e->segment);
	put32(p + 28, e->from_segment);
	put64(p + 32, e->offset);
	put64(p + 40, e->size);
	put64(p + 48, e->value);
	put32(p + 56, e->priority);
	put32(p + 60, e->preferred);
}

void snapfile_get_event(const uint8_t *p, struct gpusim_event *e)
{
	memset(e, 0, sizeof(*e));
	e->type = get32(p + 0);
	e->cause = get32(p + 4);
	e->time_ns = get64(p + 8);
	e->device = get32(p + 16);
	e->allocation = get32(p + 20);
	e->segment = get32(p + 24);
	e->from_segment = get32(p + 28);
	e->offset = get64(p + 32);
	e->size = get64(p + 40);
	e->value = get64(p + 48);
	e->priority = get32(p + 56);
	e->preferred = get32(p + 60);
}

/* A size as gpusim_config_parse reads it: "16G", "1T", "0", "12345". */
static void size_text(uint64_t v, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int k = 0;
	while (k < 4 && v && !(v & 1023)) {
		v >>= 10;
		k++;
	}
	if (k)
		snprintf(buf, len, "%" PRIu64 "%c", v, suffix[k - 1]);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

int snapfile_config_text(const struct gpusim_config *cfg, char *buf, size_t len)
{
	const struct hw_config *hw = &cfg->hw;
	char vram[24], visible[24], gart[24], sysmem[24], gart_base[24];
	size_text(hw->vram, vram, sizeof(vram));
	size_text(hw->visible, visible, sizeof(visible));
	size_text(hw->gart, gart, sizeof(gart));
	size_text(hw->sysmem, sysmem, sizeof(sysmem));
	size_text(hw->gart_base, gart_base, sizeof(gart_base));
	int n = snprintf(buf, len,
			 "vram=%s,visible=%s,gart=%s,sysmem=%s,gart_base=%s,vram_bw=%" PRIu64
			 ",pcie_bw=%" PRIu64 ",packet_ns=%" PRIu32 ",tlb=%" PRIu32 ",policy=%.*s,seed=%" PRIu64,
			 vram, visible, gart, sysmem, gart_base, hw->vram_bandwidth, hw->pcie_bandwidth,
			 hw->packet_overhead_ns, hw->tlb_entries, (int)sizeof(cfg->policy), cfg->policy,
			 cfg->seed);
	if (n < 0 || (size_t)n >= len)
		return -1;
	/* The GPU MMU's keys only when they differ from the defaults: files of a
	 * default MMU read as before, by readers that predate the keys too. */
	struct hw_config def;
	hw_config_default(&def);
	if (hw->va_bits != def.va_bits || hw->vm_tlb_entries != def.vm_tlb_entries) {
		int m = snprintf(buf + n, len - (size_t)n, ",va_bits=%" PRIu32 ",vm_tlb=%" PRIu32,
				 hw->va_bits, hw->vm_tlb_entries);
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -1;
		n += m;
	}
	if (cfg->vram_pools > 1) { /* only then: files of one pool read as before */
		int m = snprintf(buf + n, len - (size_t)n, ",pools=%" PRIu32, cfg->vram_pools);
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -1;
		n += m;
	}
	if (cfg->ring_faults == GPUSIM_RING_FAULTS_STOP) { /* the same: skip is the default */
		int m = snprintf(buf + n, len - (size_t)n, ",ring_faults=stop");
		if (m < 0 || (size_t)m >= len - (size_t)n)
			return -1;
		n += m;
	}
	return n;
}

int snapfile_config_parse(const char *text, struct gpusim_config *cfg, char *why, size_t whylen)
{
	if (whylen)
		why[0] = '\0';
	gpusim_config_default(cfg);
	if (gpusim_config_parse(cfg, text, why, whylen) == 0)
		return 0;
	if (whylen && !why[0])
		snprintf(why, whylen, "out of memory");
	return -1;
}
