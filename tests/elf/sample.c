/*
 * The hand-built snapshot of the snapshot-file tests (see sample.h): values chosen
 * so that a field read from the wrong offset, a swapped pair or a lost high half
 * shows, and memory ranges at the first and last pages of VRAM and system memory.
 */
#include <config.h>

#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tests/elf/sample.h"

_Static_assert(sizeof(struct gpusim_event) == 64, "events compare as bytes: no padding");

#define KiB 1024ull
#define MiB (1024ull * KiB)

const char sample_config_text[] =
	"vram=64M,visible=16M,gart=32M,sysmem=128M,gart_base=2T,vram_bw=100000000000,"
	"pcie_bw=16000000000,packet_ns=250,tlb=128,policy=lru,seed=18446744073709551557";

uint8_t sample_byte(uint64_t addr, uint64_t i)
{
	uint64_t x = (addr + i) * 0x9E3779B97F4A7C15ull;
	return (uint8_t)(x >> 56) | 1; /* never 0: a populated page has a non-zero byte */
}

static const char *const names[SAMPLE_NALLOCS] = {
	"vertex_buffer", "", "a-name-of-exactly-31-characters", "tex.0",
};

void sample_build(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	struct gpusim_snapshot *g = &s->snap;
	g->version = GPUSIM_SNAPSHOT_VERSION;
	gpusim_config_default(&g->cfg);
	g->cfg.hw.vram = 64 * MiB;
	g->cfg.hw.visible = 16 * MiB;
	g->cfg.hw.gart = 32 * MiB;
	g->cfg.hw.sysmem = 128 * MiB;
	g->cfg.hw.gart_base = 2ull << 40;
	g->cfg.hw.vram_bandwidth = 100000000000ull;
	g->cfg.hw.pcie_bandwidth = 16000000000ull;
	g->cfg.hw.packet_overhead_ns = 250;
	g->cfg.hw.tlb_entries = 128;
	strcpy(g->cfg.policy, "lru");
	g->cfg.seed = UINT64_MAX - 58; /* all 64 bits matter */
	g->time_ns = 0x0123456789abcdefull;

	/* Every counter different, with bits in both halves. */
	struct gpusim_stats *st = &g->stats;
	uint64_t v = 0x1000000000000001ull;
	st->time_ns = v++;
	st->allocations = v++ << 1;
	st->evictions = v++ << 2;
	st->page_ins = v++ << 3;
	st->moves = v++ >> 1;
	st->bytes_in = v++ >> 2;
	st->bytes_out = v++ >> 3;
	st->faults = v++ ^ 0xff;
	st->submits = v++ ^ 0xff00;
	st->usage_local = v++ ^ 0xff0000;
	st->budget_local = v++ ^ 0xff000000;
	st->usage_nonlocal = v++ ^ 0xff00000000;
	st->budget_nonlocal = v++ ^ 0xff0000000000;
	st->commit_pages = v ^ 0xff000000000000;
	for (int k = 0; k < 4; k++) {
		g->stats.seg[k].size = (uint64_t)(k + 1) << 33;
		g->stats.seg[k].used = (uint64_t)k << 20;
		g->stats.seg[k].largest_free = 0xfeedull << k;
		g->stats.seg[k].allocations = 1000u + (uint64_t)k;
		g->stats.seg[k].fragmentation = 1.0 / (k + 3);
	}

	for (uint32_t i = 0; i < SAMPLE_NREGS; i++)
		s->regs[i] = (struct gpusim_snapshot_reg){ .offset = i * 0x14 + (i > 6 ? 0x100 : 0),
							   .value = 0xA5000000u ^ (i * 0x01010101u) };
	static const uint64_t pages[SAMPLE_NGART] = { 0, 1, 2, 100, 101, 8191 }; /* 32 MiB: 8192 */
	for (int i = 0; i < SAMPLE_NGART; i++)
		s->gart[i] = (struct gpusim_snapshot_gart){
			.page = pages[i],
			.entry = HW_GART_ENTRY(32767 - i * 1000, HW_GART_VALID | HW_GART_READ | (i & 1 ? HW_GART_WRITE : 0)),
		};
	for (uint32_t i = 0; i < SAMPLE_NALLOCS; i++) {
		struct gpusim_snapshot_alloc *a = &s->allocs[i];
		a->handle = 0x40000040u + i * 0x41u;
		a->device = 0x40000001u;
		a->size = (i + 1) * 0x3000ull + (0x7ull << 32) * (i == 3);
		a->segment = GPUSIM_SEG_VISIBLE + i;
		a->priority = 0x50000000u + i * 0x1000u;
		a->offset = 0x100000ull * i + 0x5000;
		a->gpu_address = a->segment == GPUSIM_SEG_SYS ? 0 : a->offset + (i == 2 ? g->cfg.hw.gart_base : 0);
		a->flags = i & GPUSIM_ALLOC_FLAGS_ALL;
		a->lock_count = i;
		a->residency_count = 3 - i;
		memcpy(a->name, names[i], strlen(names[i]));
	}
	for (uint32_t i = 0; i < SAMPLE_NEVENTS; i++)
		s->events[i] = (struct gpusim_event){
			.type = GPUSIM_EV_CREATE + i * 2, .cause = i, .time_ns = 1000ull * i + (1ull << 40),
			.device = 0x40000001u, .allocation = 0x40000040u + i, .segment = i % 4 + 1,
			.from_segment = (i + 2) % 4 + 1, .offset = 0xabc000ull * i, .size = 0x1000ull << i,
			.value = UINT64_MAX - i, .priority = 0x78000000u + i, .preferred = 3 - i % 3,
		};

	/* Both ends of VRAM and of system memory, one range of several pages. */
	const uint64_t sys = GPUSIM_SYSMEM_BUS_BASE;
	static const uint64_t pages_of[SAMPLE_NRANGES] = { 3, 1, 1, 2, 1 };
	const uint64_t addr[SAMPLE_NRANGES] = {
		0, 1 * MiB, 64 * MiB - 4 * KiB, sys + 5 * 4 * KiB, sys + 128 * MiB - 4 * KiB,
	};
	uint64_t total = 0;
	for (int i = 0; i < SAMPLE_NRANGES; i++)
		total += pages_of[i] * 4 * KiB;
	s->mem = malloc(total);
	ck_assert_ptr_nonnull(s->mem);
	uint8_t *p = s->mem;
	for (int i = 0; i < SAMPLE_NRANGES; i++) {
		uint64_t size = pages_of[i] * 4 * KiB;
		for (uint64_t b = 0; b < size; b++)
			p[b] = sample_byte(addr[i], b);
		s->ranges[i] = (struct gpusim_snapshot_range){ .addr = addr[i], .size = size, .data = p };
		p += size;
	}
	for (int i = 0; i < SAMPLE_STATE; i++)
		s->state[i] = (uint8_t)(i * 7 + 3);

	g->regs = s->regs;
	g->nregs = SAMPLE_NREGS;
	g->gart = s->gart;
	g->ngart = SAMPLE_NGART;
	g->allocs = s->allocs;
	g->nallocs = SAMPLE_NALLOCS;
	g->events = s->events;
	g->nevents = SAMPLE_NEVENTS;
	g->ranges = s->ranges;
	g->nranges = SAMPLE_NRANGES;
	g->state = s->state;
	g->state_size = SAMPLE_STATE;
}

void sample_free(struct sample *s)
{
	free(s->mem);
	s->mem = NULL;
}

static void assert_config_equal(const struct gpusim_config *a, const struct gpusim_config *b)
{
	ck_assert_uint_eq(a->hw.vram, b->hw.vram);
	ck_assert_uint_eq(a->hw.visible, b->hw.visible);
	ck_assert_uint_eq(a->hw.gart, b->hw.gart);
	ck_assert_uint_eq(a->hw.sysmem, b->hw.sysmem);
	ck_assert_uint_eq(a->hw.gart_base, b->hw.gart_base);
	ck_assert_uint_eq(a->hw.vram_bandwidth, b->hw.vram_bandwidth);
	ck_assert_uint_eq(a->hw.pcie_bandwidth, b->hw.pcie_bandwidth);
	ck_assert_uint_eq(a->hw.packet_overhead_ns, b->hw.packet_overhead_ns);
	ck_assert_uint_eq(a->hw.tlb_entries, b->hw.tlb_entries);
	ck_assert_str_eq(a->policy, b->policy);
	ck_assert_uint_eq(a->seed, b->seed);
}

void sample_assert_equal(const struct gpusim_snapshot *a, const struct gpusim_snapshot *b)
{
	ck_assert_uint_eq(a->version, b->version);
	assert_config_equal(&a->cfg, &b->cfg);
	ck_assert_uint_eq(a->time_ns, b->time_ns);
	/* Plain 64-bit fields and doubles: byte equality, so a NaN compares too. */
	ck_assert_mem_eq(&a->stats, &b->stats, sizeof(a->stats));

	ck_assert_uint_eq(a->nregs, b->nregs);
	for (uint32_t i = 0; i < a->nregs; i++) {
		ck_assert_uint_eq(a->regs[i].offset, b->regs[i].offset);
		ck_assert_uint_eq(a->regs[i].value, b->regs[i].value);
	}
	ck_assert_uint_eq(a->ngart, b->ngart);
	for (uint64_t i = 0; i < a->ngart; i++) {
		ck_assert_uint_eq(a->gart[i].page, b->gart[i].page);
		ck_assert_uint_eq(a->gart[i].entry, b->gart[i].entry);
	}
	ck_assert_uint_eq(a->nallocs, b->nallocs);
	for (uint64_t i = 0; i < a->nallocs; i++) {
		const struct gpusim_snapshot_alloc *x = &a->allocs[i], *y = &b->allocs[i];
		ck_assert_uint_eq(x->handle, y->handle);
		ck_assert_uint_eq(x->device, y->device);
		ck_assert_uint_eq(x->size, y->size);
		ck_assert_uint_eq(x->segment, y->segment);
		ck_assert_uint_eq(x->priority, y->priority);
		ck_assert_uint_eq(x->offset, y->offset);
		ck_assert_uint_eq(x->gpu_address, y->gpu_address);
		ck_assert_uint_eq(x->flags, y->flags);
		ck_assert_uint_eq(x->lock_count, y->lock_count);
		ck_assert_uint_eq(x->residency_count, y->residency_count);
		ck_assert_uint_eq(x->reserved, y->reserved);
		ck_assert_mem_eq(x->name, y->name, sizeof(x->name));
	}
	ck_assert_uint_eq(a->nevents, b->nevents);
	for (uint32_t i = 0; i < a->nevents; i++)
		ck_assert_mem_eq(&a->events[i], &b->events[i], sizeof(a->events[i]));
	ck_assert_uint_eq(a->nranges, b->nranges);
	for (uint64_t i = 0; i < a->nranges; i++) {
		ck_assert_uint_eq(a->ranges[i].addr, b->ranges[i].addr);
		ck_assert_uint_eq(a->ranges[i].size, b->ranges[i].size);
		ck_assert_msg(!memcmp(a->ranges[i].data, b->ranges[i].data, a->ranges[i].size),
			      "range %" PRIu64 " at 0x%" PRIx64 ": bytes differ", i, a->ranges[i].addr);
	}
	ck_assert_uint_eq(a->state_size, b->state_size);
	ck_assert_msg(!a->state_size || !memcmp(a->state, b->state, a->state_size), "state bytes differ");
}
