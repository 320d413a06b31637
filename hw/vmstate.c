/*
 * The device's state, declared once: every field a snapshot carries, with its
 * rule, and the members that are deliberately not carried. Save, load, the
 * resume state and `gpusim inspect` all read this table (hw/STATE.md).
 *
 * Adding a field is one line in a section below (and the member in its struct):
 *   { F(mmu.fault_vmid, HW_STATE_U32), .since = 2, .max = 15 },
 * with HW_STATE_VERSION raised to 2 in <gpusim/hwstate.h>.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/hw_internal.h"
#include "hw/vmstate.h"

#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
/* A member of struct hw_device: name (as saved) = the member's path. */
#define F(m, t) .name = #m, .type = (t), .offset = offsetof(struct hw_device, m), \
		.size = MEMBER_SIZE(struct hw_device, m)
/* The same under another name. */
#define FN(n, m, t) .name = (n), .type = (t), .offset = offsetof(struct hw_device, m), \
		    .size = MEMBER_SIZE(struct hw_device, m)
/* A member of struct hw_ring. */
#define R(m, t) .name = #m, .type = (t), .offset = offsetof(struct hw_ring, m), \
		.size = MEMBER_SIZE(struct hw_ring, m)
/* An array's field: the pointer member, and the element's member it saves. */
#define A(n, ptr, t, arr) .name = (n), .type = (t), .offset = offsetof(struct hw_device, ptr), \
			  .size = MEMBER_SIZE(struct hw_device, ptr), .array = (arr)

#define U32 HW_STATE_U32
#define U64 HW_STATE_U64
#define BOOL HW_STATE_BOOL
#define HEX HW_STATE_HEX

static bool say(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return false;
}

/* ---- the arrays' sizes ---------------------------------------------------- */

static uint64_t tlb_count(const struct hw_device *d)
{
	return (uint64_t)d->gart.tlb_mask + 1;
}

static uint64_t free_count(const struct hw_device *d)
{
	return d->sysmem.nfree;
}

static uint64_t sys_pages(const struct hw_device *d)
{
	return d->sysmem.pages;
}

static void free_set_count(struct hw_device *d, uint64_t n)
{
	d->sysmem.nfree = (size_t)n;
	d->sysmem.cap = n ? (size_t)n : 1;
}

static uint64_t bad_count(const struct hw_device *d)
{
	return d->vram.nbad;
}

static uint64_t vram_pages(const struct hw_device *d)
{
	return d->cfg.vram >> HW_PAGE_SHIFT;
}

static void bad_set_count(struct hw_device *d, uint64_t n)
{
	d->vram.nbad = (size_t)n;
}

static const struct hw_vms_array tlb_page = {
	sizeof(struct hw_gart_tlb), offsetof(struct hw_gart_tlb, page), tlb_count, tlb_count, NULL,
};
static const struct hw_vms_array tlb_entry = {
	sizeof(struct hw_gart_tlb), offsetof(struct hw_gart_tlb, entry), tlb_count, tlb_count, NULL,
};
static const struct hw_vms_array free_stack = {
	sizeof(uint64_t), 0, free_count, sys_pages, free_set_count,
};
/* The engines' TLBs: as many lines as the configuration says (vm_tlb / 8), every
 * ring alike, and 8 entries per line. */
static uint64_t vm_tlb_lines(const struct hw_device *d)
{
	return d->cfg.vm_tlb_entries / HW_MMU_LINE_PTES;
}

static uint64_t vm_tlb_ptes(const struct hw_device *d)
{
	return vm_tlb_lines(d) * HW_MMU_LINE_PTES;
}

#define VMTLB_LINE(m) { sizeof(struct hw_mmu_tlb_line), offsetof(struct hw_mmu_tlb_line, m), \
			vm_tlb_lines, vm_tlb_lines, NULL }
static const struct hw_vms_array vmtlb_vline = VMTLB_LINE(vline);
static const struct hw_vms_array vmtlb_gen = VMTLB_LINE(gen);
static const struct hw_vms_array vmtlb_asid = VMTLB_LINE(asid);
static const struct hw_vms_array vmtlb_large = VMTLB_LINE(large);
static const struct hw_vms_array vmtlb_valid = VMTLB_LINE(valid);
static const struct hw_vms_array vmtlb_pte = { sizeof(uint64_t), 0, vm_tlb_ptes, vm_tlb_ptes, NULL };

static const struct hw_vms_array bad_pages = {
	sizeof(uint64_t), 0, bad_count, vram_pages, bad_set_count,
};

/* ---- rules that need more than the value ------------------------------------ */

static bool gart_table_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
			  char *why, size_t whylen)
{
	(void)inst, (void)i;
	return v < st->cfg.vram || say(why, whylen, "0x%llx is not a page of VRAM", (unsigned long long)v);
}

static bool tlb_page_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v, char *why,
			size_t whylen)
{
	(void)inst;
	/* Direct-mapped: a slot caches only the pages that index it. */
	if (v == UINT64_MAX || ((v & st->gart.tlb_mask) == i && v < st->cfg.gart >> HW_PAGE_SHIFT))
		return true;
	return say(why, whylen, "caches aperture page %llu, which cannot be there", (unsigned long long)v);
}

static bool tlb_entry_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
			 char *why, size_t whylen)
{
	(void)inst;
	/* An empty slot holds 0, so that equal devices save equal bytes. */
	return st->gart.tlb[i].page != UINT64_MAX || v == 0 ||
	       say(why, whylen, "is 0x%llx in an empty slot", (unsigned long long)v);
}

static bool ring_size_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
			 char *why, size_t whylen)
{
	(void)st, (void)inst, (void)i;
	return !v || (v >= 16 && v % 4 == 0) ||
	       say(why, whylen, "%llu is neither 0 nor a multiple of 4 from 16", (unsigned long long)v);
}

/* rptr, wptr, fetch_wptr: byte offsets inside the ring (0 in a ring of size 0). */
static bool ring_ptr_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
			char *why, size_t whylen)
{
	(void)i;
	uint32_t size = st->rings[inst].size;
	return v < (size ? size : 1) ||
	       say(why, whylen, "%llu is not below the ring's size %u", (unsigned long long)v, size);
}

static bool bad_page_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
			char *why, size_t whylen)
{
	(void)inst;
	if (v >= st->cfg.vram >> HW_PAGE_SHIFT)
		return say(why, whylen, "page %llu is beyond VRAM", (unsigned long long)v);
	/* Ascending: hw_vram_find_bad searches it by halves. */
	if (i && v <= st->vram.bad[i - 1])
		return say(why, whylen, "page %llu does not ascend", (unsigned long long)v);
	return true;
}

/* A TLB's generation is never 0 (0 is how a wrapped generation restarts). A slot's
 * translation is not checked against the page table here: a hit is bounds-checked
 * like a walk (HW_FAULT_VM_BAD_ADDR), and strict mode compares it with the table. */
static bool vm_gen_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v, char *why,
		      size_t whylen)
{
	(void)st, (void)inst, (void)i;
	return v != 0 || say(why, whylen, "is 0, which no TLB generation is");
}

/* A live line sits in the set its group indexes, once: a lookup searches only
 * there, and a second copy would make which one serves a page depend on way order. */
static bool vm_line_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v,
		       char *why, size_t whylen)
{
	(void)v;
	const struct hw_mmu_tlb *t = &st->mmu.tlb[inst];
	const struct hw_mmu_tlb_line *l = &t->line[i];
	if (!hw_mmu_line_live(t, l))
		return true;
	uint64_t set = i / t->ways;
	if (hw_mmu_tlb_set(t, l->vline) != set)
		return say(why, whylen, "line of group 0x%llx is in set %llu, it belongs in set %u",
			   (unsigned long long)l->vline, (unsigned long long)set, hw_mmu_tlb_set(t, l->vline));
	for (uint64_t k = set * t->ways; k < i; k++) {
		const struct hw_mmu_tlb_line *o = &t->line[k];
		if (hw_mmu_line_live(t, o) && o->vline == l->vline && o->asid == l->asid && o->large == l->large)
			return say(why, whylen, "line of group 0x%llx (asid %u) is also in way %llu",
				   (unsigned long long)l->vline, l->asid, (unsigned long long)(k - set * t->ways));
	}
	return true;
}

/* The TLB caches VALID entries only. */
static bool vm_pte_ok(const struct hw_device *st, unsigned inst, uint64_t i, uint64_t v, char *why,
		      size_t whylen)
{
	const struct hw_mmu_tlb *t = &st->mmu.tlb[inst];
	const struct hw_mmu_tlb_line *l = &t->line[i / HW_MMU_LINE_PTES];
	if (!hw_mmu_line_live(t, l) || !(l->valid & (1u << (i % HW_MMU_LINE_PTES))) || (v & HW_PTE_VALID))
		return true;
	return say(why, whylen, "0x%llx is cached but not VALID", (unsigned long long)v);
}

/* ---- the table -------------------------------------------------------------- */

#define IRQ_BITS (HW_IRQ_FAULT | ((1u << HW_NUM_RINGS) - 1))

static const struct hw_vms_field device_fields[] = {
	{ FN("clock.now", now, U64), .since = 1 },
	{ FN("clock.hi_latch", clock_hi_latch, U32 | HEX), .since = 1 },
	{ F(gart.ctrl, U32 | HEX), .since = 1, .bits = HW_GART_CTRL_ENABLE | HW_GART_CTRL_STRICT },
	{ F(gart.table, U64 | HEX), .since = 1, .align = HW_PAGE_SIZE, .check = gart_table_ok },
	{ A("gart.tlb.page", gart.tlb, U64, &tlb_page), .since = 1, .check = tlb_page_ok },
	{ A("gart.tlb.entry", gart.tlb, U64 | HEX, &tlb_entry), .since = 1, .check = tlb_entry_ok },
	{ F(irq.status, U32 | HEX), .since = 1, .bits = IRQ_BITS },
	{ F(irq.mask, U32 | HEX), .since = 1, .bits = IRQ_BITS },
	{ FN("fault.addr", fault_addr, U64 | HEX), .since = 1 },
	{ FN("fault.cause", fault_cause, U32), .since = 1, .max = HW_FAULT_MAX },
	{ FN("fault.ring", fault_ring, U32), .since = 1, .max = HW_NUM_RINGS - 1 },
	{ F(removed, BOOL), .since = 1 },
	{ F(dma_error_pending, BOOL), .since = 1 },
	{ F(stats.packets, U64), .since = 1 },
	{ F(stats.bytes_copied, U64), .since = 1 },
	{ F(stats.bytes_filled, U64), .since = 1 },
	{ F(stats.bytes_checksummed, U64), .since = 1 },
	{ F(stats.faults, U64), .since = 1 },
	{ F(stats.tlb_hits, U64), .since = 1 },
	{ F(stats.tlb_misses, U64), .since = 1 },
	{ F(stats.irqs, U64), .since = 1 },
	/* The books are checked together in hw_vms_derive. */
	{ F(sysmem.used, U64), .since = 1 },
	{ F(sysmem.reserved, U64), .since = 1 },
	{ F(sysmem.next_fresh, U64), .since = 1 },
	{ A("sysmem.free", sysmem.free_stack, U64, &free_stack), .since = 1 },
	{ F(sysmem.oom_armed, BOOL), .since = 1 },
	{ F(sysmem.oom_left, U64), .since = 1 },
	{ A("vram.bad", vram.bad, U64, &bad_pages), .since = 1, .check = bad_page_ok },
	/* The GPU MMU's fault registers and counters. */
	{ F(mmu.fault_va, U64 | HEX), .since = 2 },
	{ F(mmu.fault_cause, U32), .since = 2, .max = HW_FAULT_VM_BAD_ADDR },
	{ F(mmu.fault_ring, U32), .since = 2, .max = HW_NUM_RINGS - 1 },
	{ F(mmu.fault_asid, U32), .since = 2, .max = HW_VM_ASID_MASK },
	{ F(mmu.fault_info, U32 | HEX), .since = 2, .bits = 1 },
	{ F(mmu.stats.tlb_hits, U64), .since = 2 },
	{ F(mmu.stats.tlb_misses, U64), .since = 2 },
	{ F(mmu.stats.walk_reads, U64), .since = 2 },
};

/* A ring's address-space registers (struct hw_mmu_ctx): "vm0.root". */
#define V(m, t) .name = #m, .type = (t), .offset = offsetof(struct hw_mmu_ctx, m), \
		.size = MEMBER_SIZE(struct hw_mmu_ctx, m)
static const struct hw_vms_field vm_fields[] = {
	{ V(ctrl, U32 | HEX), .since = 2, .bits = HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT },
	{ V(asid, U32), .since = 2, .max = HW_VM_ASID_MASK },
	{ V(root, U64 | HEX), .since = 2, .bits = HW_VM_ADDR_MASK },
};

/* A ring's TLB (struct hw_mmu_tlb): its generation and every line, live or not
 * (a dead line's bytes are what the live run has too, so equal runs save equally),
 * in way order, which is the order of use. */
#define T(n, m, t, arr) .name = (n), .type = (t), .offset = offsetof(struct hw_mmu_tlb, m), \
			.size = MEMBER_SIZE(struct hw_mmu_tlb, m), .array = (arr)
static const struct hw_vms_field vmtlb_fields[] = {
	{ .name = "gen", .type = U32, .offset = offsetof(struct hw_mmu_tlb, gen),
	  .size = MEMBER_SIZE(struct hw_mmu_tlb, gen), .since = 2, .check = vm_gen_ok },
	{ T("line.vline", line, U64 | HEX, &vmtlb_vline), .since = 3 },
	{ T("line.gen", line, U32, &vmtlb_gen), .since = 3 },
	{ T("line.asid", line, U32, &vmtlb_asid), .since = 3, .max = HW_VM_ASID_MASK },
	{ T("line.large", line, U32, &vmtlb_large), .since = 3, .max = 1 },
	/* Its rule reads the line's other fields: after them, so that a state
	 * built field by field in table order (tests/hw/test_vmstate.c) has them. */
	{ T("line.valid", line, U32 | HEX, &vmtlb_valid), .since = 3,
	  .bits = (1u << HW_MMU_LINE_PTES) - 1, .check = vm_line_ok },
	{ T("line.pte", pte, U64 | HEX, &vmtlb_pte), .since = 3, .check = vm_pte_ok },
};

static const struct hw_vms_field ring_fields[] = {
	{ R(base, U64 | HEX), .since = 1, .align = 4 },
	{ R(size, U32), .since = 1, .check = ring_size_ok },
	{ R(rptr, U32), .since = 1, .align = 4, .check = ring_ptr_ok },
	{ R(wptr, U32), .since = 1, .align = 4, .check = ring_ptr_ok },
	{ R(fetch_wptr, U32), .since = 1, .align = 4, .check = ring_ptr_ok },
	{ R(ctrl, U32 | HEX), .since = 1, .bits = HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT },
	{ R(stopped, BOOL), .since = 1 },
	{ R(waiting, BOOL), .since = 1 },
	{ R(fence, U64), .since = 1 },
	{ R(ready_at, U64), .since = 1 },
};

const struct hw_vms_section hw_vms_sections[] = {
	{ "", 0, sizeof(struct hw_device), 1, device_fields,
	  sizeof(device_fields) / sizeof(device_fields[0]) },
	{ "ring", offsetof(struct hw_device, rings), sizeof(struct hw_ring), HW_NUM_RINGS, ring_fields,
	  sizeof(ring_fields) / sizeof(ring_fields[0]) },
	{ "vm", offsetof(struct hw_device, mmu.ctx), sizeof(struct hw_mmu_ctx), HW_NUM_RINGS, vm_fields,
	  sizeof(vm_fields) / sizeof(vm_fields[0]) },
	{ "vmtlb", offsetof(struct hw_device, mmu.tlb), sizeof(struct hw_mmu_tlb), HW_NUM_RINGS,
	  vmtlb_fields, sizeof(vmtlb_fields) / sizeof(vmtlb_fields[0]) },
};
const size_t hw_vms_nsections = sizeof(hw_vms_sections) / sizeof(hw_vms_sections[0]);

#define U(m, w) { #m, offsetof(struct hw_device, m), MEMBER_SIZE(struct hw_device, m), w }
const struct hw_vms_unsaved hw_vms_unsaved[] = {
	U(cfg, "the configuration: a state loads only into a device made from the same one"),
	U(vram.base, "host memory; the snapshot carries VRAM's bytes as ranges"),
	U(vram.size, "the configuration"),
	U(vram.nbad, "the length of vram.bad"),
	U(sysmem.fd, "a host resource"),
	U(sysmem.base, "host memory; the snapshot carries the pages as ranges"),
	U(sysmem.pages, "the configuration"),
	U(sysmem.nfree, "the length of sysmem.free"),
	U(sysmem.cap, "the free stack's capacity, a host detail"),
	U(sysmem.allocated, "derived from sysmem.next_fresh and sysmem.free"),
	U(gart.tlb_mask, "the configuration (tlb)"),
	U(irq.fn, "the driver's handler: a load keeps the one registered"),
	U(irq.opaque, "the driver's handler's argument"),
	U(in_run, "true only inside hw_run_*, never when a state is saved"),
	U(peeking, "true only inside a debug read"),
	U(mmu.tlb[0].sets, "the configuration (vm_tlb)"),
	U(mmu.tlb[0].ways, "the configuration (vm_tlb)"),
	U(mmu.tlb[1].sets, "the configuration (vm_tlb)"),
	U(mmu.tlb[1].ways, "the configuration (vm_tlb)"),
	U(mmu.walk_vram, "the current packet's walk cost: 0 between packets"),
	U(mmu.walk_pcie, "the current packet's walk cost: 0 between packets"),
	U(mmu.span, "scratch of the packet being executed"),
};
const size_t hw_vms_nunsaved = sizeof(hw_vms_unsaved) / sizeof(hw_vms_unsaved[0]);

/* ---- reading and writing a field ------------------------------------------------ */

size_t hw_vms_offset(const struct hw_vms_section *sec, unsigned inst, const struct hw_vms_field *f)
{
	return sec->offset + (size_t)inst * sec->stride + f->offset;
}

static uint8_t *field_at(const struct hw_device *dev, const struct hw_vms_section *sec, unsigned inst,
			 const struct hw_vms_field *f)
{
	return (uint8_t *)dev + hw_vms_offset(sec, inst, f);
}

/* Element `k` of an array field (NULL base: none). */
static uint8_t *elem_at(const struct hw_device *dev, const struct hw_vms_section *sec, unsigned inst,
			const struct hw_vms_field *f, uint64_t k)
{
	uint8_t *base;
	memcpy(&base, field_at(dev, sec, inst, f), sizeof(base));
	return base + (size_t)k * f->array->stride + f->array->member;
}

static uint64_t load_member(const uint8_t *m, uint32_t type)
{
	switch (type & HW_STATE_TYPE_MASK) {
	case HW_STATE_U32: { uint32_t v; memcpy(&v, m, 4); return v; }
	case HW_STATE_U64: { uint64_t v; memcpy(&v, m, 8); return v; }
	default: { bool v; memcpy(&v, m, sizeof(v)); return v; }
	}
}

static void store_member(uint8_t *m, uint32_t type, uint64_t x)
{
	switch (type & HW_STATE_TYPE_MASK) {
	case HW_STATE_U32: { uint32_t v = (uint32_t)x; memcpy(m, &v, 4); break; }
	case HW_STATE_U64: memcpy(m, &x, 8); break;
	default: { bool v = x != 0; memcpy(m, &v, sizeof(v)); break; }
	}
}

uint64_t hw_vms_count(const struct hw_device *dev, const struct hw_vms_field *f)
{
	return f->array ? f->array->count(dev) : 1;
}

uint64_t hw_vms_get(const struct hw_device *dev, const struct hw_vms_section *sec,
			    unsigned inst, const struct hw_vms_field *f, uint64_t k)
{
	return load_member(f->array ? elem_at(dev, sec, inst, f, k) : field_at(dev, sec, inst, f), f->type);
}

void hw_vms_put(struct hw_device *dev, const struct hw_vms_section *sec, unsigned inst,
		const struct hw_vms_field *f, uint64_t k, uint64_t v)
{
	store_member(f->array ? elem_at(dev, sec, inst, f, k) : field_at(dev, sec, inst, f), f->type, v);
}

/* ---- whole-state rules and derived state -------------------------------------- */

void hw_vms_name(const struct hw_vms_section *sec, unsigned inst, const struct hw_vms_field *f,
		 char *buf, size_t len)
{
	if (sec->prefix[0])
		snprintf(buf, len, "%s%u.%s", sec->prefix, inst, f->name);
	else
		snprintf(buf, len, "%s", f->name);
}

bool hw_vms_field_ok(const struct hw_device *st, unsigned inst, const struct hw_vms_field *f,
		     uint64_t k, uint64_t v, char *why, size_t whylen)
{
	if ((f->type & HW_STATE_TYPE_MASK) == HW_STATE_BOOL && v > 1)
		return say(why, whylen, "%llu is neither 0 nor 1", (unsigned long long)v);
	if (f->bits && (v & ~f->bits))
		return say(why, whylen, "0x%llx has bits outside 0x%llx", (unsigned long long)v,
			   (unsigned long long)f->bits);
	if (f->align && v % f->align)
		return say(why, whylen, "0x%llx is not a multiple of %llu", (unsigned long long)v,
			   (unsigned long long)f->align);
	if (f->max && v > f->max)
		return say(why, whylen, "%llu is above %llu", (unsigned long long)v, (unsigned long long)f->max);
	return !f->check || f->check(st, inst, k, v, why, whylen);
}

int hw_vms_derive(struct hw_device *st, char *why, size_t whylen)
{
	const struct hw_sysmem *s = &st->sysmem;
	uint64_t pages = s->pages;
	if (s->next_fresh > pages || s->nfree > s->next_fresh || s->used != s->next_fresh - s->nfree ||
	    s->reserved > pages - s->used) {
		say(why, whylen, "sysmem.used: the system-page books do not add up (%llu used, %llu reserved, "
		    "%llu handed out, %llu returned, %llu pages)", (unsigned long long)s->used,
		    (unsigned long long)s->reserved, (unsigned long long)s->next_fresh,
		    (unsigned long long)s->nfree, (unsigned long long)pages);
		return -EINVAL;
	}
	/* The allocation bitmap: handed out and not returned. */
	uint8_t *alloc = calloc((size_t)((pages + 7) / 8), 1);
	if (!alloc)
		return -ENOMEM;
	for (uint64_t p = 0; p < s->next_fresh; p++)
		alloc[p / 8] |= (uint8_t)(1u << (p % 8));
	for (size_t i = 0; i < s->nfree; i++) {
		uint64_t p = s->free_stack[i];
		if (p >= s->next_fresh || !(alloc[p / 8] & (1u << (p % 8)))) {
			free(alloc);
			say(why, whylen, "sysmem.free[%zu]: returned system page %llu is listed twice or was "
			    "never handed out", i, (unsigned long long)p);
			return -EINVAL;
		}
		alloc[p / 8] &= (uint8_t)~(1u << (p % 8));
	}
	st->sysmem.allocated = alloc;
	return 0;
}

void hw_vms_derived_free(struct hw_device *dev)
{
	free(dev->sysmem.allocated);
	dev->sysmem.allocated = NULL;
}
