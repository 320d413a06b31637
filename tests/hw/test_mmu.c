/*
 * The GPU MMU from bare registers and packets: page tables built by hand in VRAM (and
 * in system pages behind the GART), rings in VA mode, 4 KiB, 64 KiB and system pages,
 * VA faults and restarts, the per-engine TLB (stale, invalidated, strict), SET_VM,
 * monitored fences across rings and the host, walk timing, VA mode off.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <gpusim/hwstate.h>

#include "tests/hw/helpers.h"
#include "tests/hw/hw_suites.h"

#define PT_BASE 0x200000u  /* page tables are allocated from here, one 4 KiB page each */
#define PHYS 0x400000u     /* data pages */
#define VA0 0x7f1234560000ull /* a VA that needs every level of a 48-bit space */
#define ALL_RW (HW_PTE_VALID)

/* ---- a page-table builder, as a driver would write the tables ------------------- */

struct pt {
	struct hw_device *dev;
	unsigned va_bits;
	uint64_t root, next;
};

static uint64_t rd64(struct hw_device *dev, uint64_t off)
{
	uint64_t v;
	memcpy(&v, hw_debug_vram(dev, off, 8), 8);
	return v;
}

static void wr64(struct hw_device *dev, uint64_t off, uint64_t v)
{
	memcpy(hw_debug_vram(dev, off, 8), &v, 8);
}

static uint64_t pt_alloc(struct pt *t)
{
	uint64_t a = t->next;
	t->next += HW_PAGE_SIZE;
	memset(hw_debug_vram(t->dev, a, HW_PAGE_SIZE), 0, HW_PAGE_SIZE);
	return a;
}

static void pt_init(struct pt *t, struct hw_device *dev, uint64_t base, unsigned va_bits)
{
	*t = (struct pt){ .dev = dev, .va_bits = va_bits, .next = base };
	t->root = pt_alloc(t);
}

/* VRAM offset of the entry for va at level 0, making directories on the way. */
static uint64_t pt_slot(struct pt *t, uint64_t va, bool large)
{
	uint64_t table = t->root;
	for (unsigned shift = 39; shift >= 21; shift -= 9) {
		uint64_t mask = shift == 39 ? (1ull << (t->va_bits - 39)) - 1 : 511;
		uint64_t at = table + 8 * ((va >> shift) & mask), e = rd64(t->dev, at);
		if (!(e & HW_PDE_VALID)) {
			e = HW_PDE(pt_alloc(t), HW_PDE_VALID | (shift == 21 && large ? HW_PDE_LARGE : 0));
			wr64(t->dev, at, e);
		}
		table = e & HW_VM_ADDR_MASK;
	}
	return large ? table + 8 * ((va >> 16) & 31) : table + 8 * ((va >> 12) & 511);
}

static void pt_map(struct pt *t, uint64_t va, uint64_t pte)
{
	wr64(t->dev, pt_slot(t, va, false), pte);
}

static void pt_map_large(struct pt *t, uint64_t va, uint64_t pte)
{
	wr64(t->dev, pt_slot(t, va, true), pte);
}

/* pages 4 KiB pages from va on, to VRAM from phys on. */
static void pt_map_linear(struct pt *t, uint64_t va, uint64_t phys, unsigned pages, uint64_t flags)
{
	for (unsigned i = 0; i < pages; i++)
		pt_map(t, va + i * HW_PAGE_SIZE, HW_PTE_LOCAL(phys + i * HW_PAGE_SIZE, HW_PTE_VALID | flags));
}

/* ---- rings in VA mode ------------------------------------------------------------ */

static void vm_regs(struct hw_device *dev, unsigned ring, uint64_t root, uint32_t asid, uint32_t ctrl)
{
	hw_mmio_write(dev, HW_REG_RING(ring, HW_RING_VM_ROOT_LO), (uint32_t)root);
	hw_mmio_write(dev, HW_REG_RING(ring, HW_RING_VM_ROOT_HI), (uint32_t)(root >> 32));
	hw_mmio_write(dev, HW_REG_RING(ring, HW_RING_VM_ASID), asid);
	hw_mmio_write(dev, HW_REG_RING(ring, HW_RING_VM_CTRL), ctrl);
}

static void set_vm(struct ht_ring *r, uint64_t root, uint32_t asid, uint32_t ctrl)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_SET_VM, 0, 4), (uint32_t)root,
				 (uint32_t)(root >> 32), asid, ctrl };
	ht_emit(r, pkt, 5);
}

static void tlb_inv(struct ht_ring *r, uint32_t flags, uint32_t asid, uint64_t va, uint32_t pages)
{
	const uint32_t pkt[] = { HW_PKT_HEADER(HW_PKT_TLB_INVALIDATE, flags, 4), asid, (uint32_t)va,
				 (uint32_t)(va >> 32), pages };
	ht_emit(r, pkt, 5);
}

/* A small device, the page tables at PT_BASE, ring 0 in VA mode on them with asid 1. */
static struct hw_device *vm_device(const char *cfg, struct pt *t, struct ht_ring *r,
				   uint32_t ring_ctrl, uint32_t vm_ctrl)
{
	struct hw_device *dev = ht_device(cfg);
	pt_init(t, dev, PT_BASE, hw_device_config(dev)->va_bits);
	ht_ring_init(r, dev, 0, HT_RING0, HT_RING_SIZE, ring_ctrl);
	vm_regs(dev, 0, t->root, 1, HW_VM_CTRL_ENABLE | vm_ctrl);
	return dev;
}

static void run_clean(struct ht_ring *r)
{
	ht_submit(r);
	ht_run(r->dev);
	ck_assert_uint_eq(ht_fault_cause(r->dev), HW_FAULT_NONE);
	ck_assert_uint_eq(ht_ring_reg(r, HW_RING_RPTR), r->wptr);
}

/* Submit on a ring; expect a VA fault with these registers; clear them. */
static void expect_vm_fault(struct ht_ring *r, uint32_t cause, uint64_t va, uint32_t asid, bool write)
{
	struct hw_device *dev = r->dev;
	ht_submit(r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), cause);
	ck_assert_uint_eq(ht_fault_addr(dev), va);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_FAULT_RING), r->id);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_CAUSE), cause);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VM_FAULT_ADDR_LO), va);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_RING), r->id);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_ASID), asid);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_INFO), write ? HW_VM_FAULT_INFO_WRITE : 0);
	ck_assert_uint_ne(ht_irq_status(dev) & HW_IRQ_FAULT, 0);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_VM_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_CAUSE), 0);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VM_FAULT_ADDR_LO), 0);
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(test_mmu_packets_through_va)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	uint8_t want[4 * 4096];
	const uint32_t data[3] = { 0x11111111, 0x22222222, 0x33333333 };

	/* Source: VA0 .. +4 pages on PHYS in reverse page order; destination: VA0 + 1 MiB
	 * .. +4 pages linear at PHYS + 64 KiB. */
	for (unsigned i = 0; i < 4; i++)
		pt_map(&t, VA0 + i * 4096ull, HW_PTE_LOCAL(PHYS + (3 - i) * 4096ull, HW_PTE_VALID));
	pt_map_linear(&t, VA0 + 0x100000, PHYS + 0x10000, 4, 0);
	for (unsigned i = 0; i < 4; i++)
		ht_debug_fill_pattern(dev, PHYS + (3 - i) * 4096ull, 4096, 60 + i);

	ht_copy(&r, VA0 + 100, VA0 + 0x100000 + 100, 4 * 4096 - 200);
	run_clean(&r);
	for (unsigned i = 0; i < 4; i++)
		ht_pattern(want + 4096 * i, 4096, 60 + i);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, PHYS + 0x10000 + 100, sizeof want - 200),
				want + 100, sizeof want - 200), 0);
	ck_assert(ht_vram_is(dev, PHYS + 0x10000, 100, 0));

	/* FILL across a page boundary with a pattern whose phase must carry over. */
	ht_fill(&r, VA0 + 4096 - 6, 12, 0x44332211);
	run_clean(&r);
	const uint8_t *p2 = hw_debug_vram(dev, PHYS + 2 * 4096, 4096), *p3 = hw_debug_vram(dev, PHYS + 3 * 4096, 4096);
	static const uint8_t fill[12] = { 0x11, 0x22, 0x33, 0x44, 0x11, 0x22, 0x33, 0x44, 0x11, 0x22, 0x33, 0x44 };
	ck_assert_int_eq(memcmp(p3 + 4090, fill, 6), 0);
	ck_assert_int_eq(memcmp(p2, fill + 6, 6), 0);

	/* WRITE_DATA across the same boundary, CHECKSUM of two pages to a VA. */
	ht_write_data(&r, VA0 + 4096 - 4, data, 3);
	ht_checksum(&r, VA0, 8192, VA0 + 0x100000 + 8);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 3 * 4096 + 4092), 0x11111111);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 2 * 4096), 0x22222222);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 2 * 4096 + 4), 0x33333333);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, hw_debug_vram(dev, PHYS + 3 * 4096, 4096), 4096);
	crc = crc32(crc, hw_debug_vram(dev, PHYS + 2 * 4096, 4096), 4096);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x10000 + 8), (uint32_t)crc);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_copy_overlap_through_aliases)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	uint8_t before[8192], want[8192];

	/* Two VA pages mapped to VRAM pages in reverse order; a COPY within them that
	 * overlaps itself must behave as memmove on the virtual view. */
	pt_map(&t, VA0, HW_PTE_LOCAL(PHYS + 4096, HW_PTE_VALID));
	pt_map(&t, VA0 + 4096, HW_PTE_LOCAL(PHYS, HW_PTE_VALID));
	ht_debug_fill_pattern(dev, PHYS, 8192, 70);
	memcpy(before, hw_debug_vram(dev, PHYS + 4096, 4096), 4096);
	memcpy(before + 4096, hw_debug_vram(dev, PHYS, 4096), 4096);
	memcpy(want, before, sizeof want);
	memmove(want + 300, want + 100, 7000);
	ht_copy(&r, VA0 + 100, VA0 + 300, 7000);
	run_clean(&r);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, PHYS + 4096, 4096), want, 4096), 0);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, PHYS, 4096), want + 4096, 4096), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_large_pages)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	const uint64_t va = VA0 & ~0x1fffffull; /* a 2 MiB region of 64 KiB pages */
	uint64_t phys, flags;

	/* Two 64 KiB pages, swapped: VA page 0 -> PHYS + 128K, VA page 1 -> PHYS + 64K. */
	pt_map_large(&t, va, HW_PTE_LOCAL(PHYS + 0x20000, HW_PTE_VALID));
	pt_map_large(&t, va + 0x10000, HW_PTE_LOCAL(PHYS + 0x10000, HW_PTE_VALID));
	ht_fill(&r, va + 0x10000 - 8, 16, 0x5a5a5a5a);
	ht_fill(&r, va + 0x4000, 4, 0x01020304); /* inside the first large page, past 4 KiB */
	run_clean(&r);
	ck_assert(ht_vram_is(dev, PHYS + 0x30000 - 8, 8, 0x5a));
	ck_assert(ht_vram_is(dev, PHYS + 0x10000, 8, 0x5a));
	ck_assert(ht_vram_is(dev, PHYS + 0x10008, 8, 0));
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x24000), 0x01020304);

	ck_assert_uint_eq(hw_mmu_debug_translate(dev, t.root, va + 0x10000 + 0x1234, &phys, &flags), 0);
	ck_assert_uint_eq(phys, PHYS + 0x10000 + 0x1234);
	ck_assert_uint_ne(flags & HW_VM_DEBUG_LARGE, 0);
	ck_assert_uint_ne(flags & HW_PTE_VALID, 0);

	/* A 64 KiB page must be 64 KiB aligned. */
	pt_map_large(&t, va + 0x20000, HW_PTE_LOCAL(PHYS + 0x31000, HW_PTE_VALID));
	ht_fill(&r, va + 0x20010, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_BAD_ADDR, va + 0x20010, 1, true);
	/* A PTE beyond VRAM. */
	pt_map_large(&t, va + 0x30000, HW_PTE_LOCAL(16ull << 20, HW_PTE_VALID));
	ht_fill(&r, va + 0x30000, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_BAD_ADDR, va + 0x30000, 1, true);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_system_pages)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL ",vram_bw=1000000000,pcie_bw=100000000", &t, &r,
					  0, 0);
	uint64_t pfn = ht_sysmem_alloc(dev), phys, flags;

	memset(ht_page(dev, pfn), 0, 4096);
	/* Reached directly by pfn: the GART is not even enabled. */
	pt_map(&t, VA0, HW_PTE_SYS(pfn, HW_PTE_VALID | HW_PTE_CACHE_CACHED << HW_PTE_CACHE_SHIFT));
	pt_map(&t, VA0 + 4096, HW_PTE_LOCAL(PHYS, HW_PTE_VALID));
	ht_vram_fill_pattern(dev, PHYS, 4096, 71);
	ht_copy(&r, VA0 + 4096, VA0, 4096);
	ht_submit(&r);
	uint64_t t0 = hw_clock_now(dev);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), 0);
	ck_assert_int_eq(memcmp(ht_page(dev, pfn), hw_debug_vram(dev, PHYS, 4096), 4096), 0);
	/* The system page sets the pace: PCIe, 4096 bytes at 100 MB/s. */
	ck_assert_uint_ge(hw_clock_now(dev) - t0, 40960 + 100);

	ck_assert_uint_eq(hw_mmu_debug_translate(dev, t.root, VA0 + 12, &phys, &flags), 0);
	ck_assert_uint_eq(phys, (pfn << 12) + 12);
	ck_assert_uint_ne(flags & HW_PTE_SYSTEM, 0);
	ck_assert_uint_eq(flags & HW_PTE_CACHE_MASK, HW_PTE_CACHE_CACHED << HW_PTE_CACHE_SHIFT);

	/* A pfn beyond system memory. */
	pt_map(&t, VA0 + 8192, HW_PTE_SYS(hw_sysmem_pages_total(dev), HW_PTE_VALID));
	ht_ring_write_reg(&r, HW_RING_CTRL, HW_RING_CTRL_ENABLE | HW_RING_CTRL_SKIP_FAULT);
	ht_fill(&r, VA0 + 8192, 4, 1);
	expect_vm_fault(&r, HW_FAULT_VM_BAD_ADDR, VA0 + 8192, 1, true);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_read_only)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);

	pt_map_linear(&t, VA0, PHYS, 1, 0);
	pt_map_linear(&t, VA0 + 4096, PHYS + 4096, 1, HW_PTE_READ_ONLY);
	ht_debug_fill_pattern(dev, PHYS + 4096, 4096, 72);
	/* A FILL whose second page is read-only faults at that page and writes nothing. */
	ht_fill(&r, VA0 + 4000, 200, 0xffffffff);
	expect_vm_fault(&r, HW_FAULT_VM_READ_ONLY, VA0 + 4096, 1, true);
	ck_assert(ht_vram_is(dev, PHYS + 4000, 96, 0));
	ck_assert(ht_vram_has_pattern(dev, PHYS + 4096, 4096, 72));
	/* Reading it is fine. */
	ht_copy(&r, VA0 + 4096, VA0, 64);
	run_clean(&r);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, PHYS, 64), hw_debug_vram(dev, PHYS + 4096, 64), 64), 0);
	hw_device_destroy(dev);
}
END_TEST

struct irq_log {
	unsigned calls;
	uint32_t last;
	struct hw_device *dev;
	uint64_t vm_fault_va;
};

static void on_irq(void *opaque, uint32_t pending)
{
	struct irq_log *l = opaque;
	l->calls++;
	l->last = pending;
	/* The VM fault registers are filled before the interrupt. */
	l->vm_fault_va = ht_read64(l->dev, HW_REG_VM_FAULT_ADDR_LO);
}

START_TEST(test_mmu_not_present_restart)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	struct irq_log log = { .dev = dev };

	hw_set_irq_handler(dev, on_irq, &log);
	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FAULT);
	vm_regs(dev, 0, t.root, 7, HW_VM_CTRL_ENABLE);
	pt_map_linear(&t, VA0, PHYS, 1, 0);
	ht_vram_fill_pattern(dev, PHYS + 0x8000, 8192, 73);
	/* Source in VRAM by VA too: map it. Destination's second page is missing. */
	pt_map_linear(&t, VA0 + 0x100000, PHYS + 0x8000, 2, 0);
	uint32_t hdr = ht_copy(&r, VA0 + 0x100000, VA0, 8192);
	ht_fill(&r, VA0, 4, 0xabababab);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_VM_NOT_PRESENT);
	ck_assert_uint_eq(ht_fault_addr(dev), VA0 + 4096);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_VM_FAULT_ADDR_LO), VA0 + 4096);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_ASID), 7);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_RING), 0);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_INFO), HW_VM_FAULT_INFO_WRITE);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_ne(log.last & HW_IRQ_FAULT, 0);
	ck_assert_uint_eq(log.vm_fault_va, VA0 + 4096);
	ck_assert_uint_ne(ht_ring_reg(&r, HW_RING_STATUS) & HW_RING_STATUS_STOPPED, 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
	ck_assert(ht_vram_is(dev, PHYS, 4096, 0)); /* nothing moved */

	/* The driver maps the page (a miss is never cached: no flush needed), clears the
	 * fault and restarts the ring: the COPY and the FILL after it complete. */
	pt_map_linear(&t, VA0 + 4096, PHYS + 4096, 1, 0);
	hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_VM_FAULT_CAUSE, 0);
	hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
	ht_ring_restart(&r, HW_RING_CTRL_ENABLE);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), 0);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0xabababab);
	ck_assert_int_eq(memcmp(hw_debug_vram(dev, PHYS + 4, 8188), hw_debug_vram(dev, PHYS + 0x8004, 8188),
				8188), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_beyond_space)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL ",va_bits=40", &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	const uint64_t top = 1ull << 40;

	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_VA_BITS), 40);
	/* The last page of the 40-bit space works (root index 1 of 2). */
	pt_map_linear(&t, top - 4096, PHYS, 1, 0);
	ht_fill(&r, top - 4096, 4096, 0x77777777);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, PHYS, 4096, 0x77));
	/* A range running past the end faults at the end; one starting there too. */
	ht_fill(&r, top - 8, 16, 0);
	expect_vm_fault(&r, HW_FAULT_VM_RANGE, top, 1, true);
	ck_assert(ht_vram_is(dev, PHYS + 4088, 8, 0x77));
	ht_copy(&r, top + 0x1000, top - 4096, 4);
	expect_vm_fault(&r, HW_FAULT_VM_RANGE, top + 0x1000, 1, false);
	ht_fence(&r, 1ull << 47, 1, 0);
	expect_vm_fault(&r, HW_FAULT_VM_RANGE, 1ull << 47, 1, true);
	ck_assert_uint_eq(hw_mmu_debug_translate(dev, t.root, top, NULL, NULL), HW_FAULT_VM_RANGE);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_tables_in_system_memory)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	uint64_t leaf = ht_sysmem_alloc(dev);
	uint8_t *lp = ht_page(dev, leaf);
	uint64_t pte = HW_PTE_LOCAL(PHYS + 0x3000, HW_PTE_VALID);

	/* The level-0 table sits in a system page behind aperture page 3. */
	ht_gart_init(dev, HT_GART_TABLE, HW_GART_CTRL_ENABLE);
	ht_gart_map(dev, HT_GART_TABLE, 3, leaf);
	memset(lp, 0, 4096);
	memcpy(lp + 8 * ((VA0 >> 12) & 511), &pte, 8);
	pt_slot(&t, VA0, false); /* builds levels 3..1 in VRAM */
	/* Point the level-1 entry at the aperture address instead of the VRAM table. */
	uint64_t table = t.root;
	for (unsigned shift = 39; shift > 21; shift -= 9)
		table = rd64(dev, table + 8 * ((VA0 >> shift) & 511)) & HW_VM_ADDR_MASK;
	wr64(dev, table + 8 * ((VA0 >> 21) & 511), HW_PDE(ht_gart_addr(dev, 3), HW_PDE_VALID));
	ht_fill(&r, VA0 + 16, 4, 0x0badcafe);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x3010), 0x0badcafe);

	/* The aperture page unmapped: the walk cannot read the table. */
	ht_gart_set(dev, HT_GART_TABLE, 3, 0);
	ht_tlb_invalidate(dev, HW_TLB_INVALIDATE_ALL);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_VM_INVALIDATE), HW_VM_INVALIDATE_ALL);
	ht_fill(&r, VA0 + 16, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_PT_UNREACHABLE, VA0 + 16, 1, true);
	/* A root nowhere in the GPU's physical space. */
	vm_regs(dev, 0, 0x80000000ull, 1, HW_VM_CTRL_ENABLE);
	ht_fill(&r, 0x5000, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_PT_UNREACHABLE, 0x5000, 1, true);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x3010), 0x0badcafe);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_stale_tlb)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	const uint64_t a = PHYS, b = PHYS + 0x1000, c = PHYS + 0x2000, out = PHYS + 0x10000;

	ck_assert(ht_vram_is(dev, a, 1, 0));
	memset(hw_debug_vram(dev, a, 4096), 0xaa, 4096);
	memset(hw_debug_vram(dev, b, 4096), 0xbb, 4096);
	memset(hw_debug_vram(dev, c, 4096), 0xcc, 4096);
	pt_map_linear(&t, VA0, a, 1, 0);
	pt_map_linear(&t, VA0 + 0x100000, out, 4, 0);
	ht_copy(&r, VA0, VA0 + 0x100000, 16); /* caches VA0 -> a */
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out, 16, 0xaa));

	/* The driver remaps VA0 to b but forgets to flush: the engine still reads a. */
	pt_map_linear(&t, VA0, b, 1, 0);
	ht_copy(&r, VA0, VA0 + 0x101000, 16);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out + 0x1000, 16, 0xaa));
	/* An invalidation of another asid or another page changes nothing. */
	tlb_inv(&r, 0, 2, VA0, 1);
	tlb_inv(&r, 0, 1, VA0 + 4096, 4);
	ht_copy(&r, VA0, VA0 + 0x101000, 16);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out + 0x1000, 16, 0xaa));
	/* The ranged invalidation packet: now b. */
	tlb_inv(&r, 0, 1, VA0, 1);
	ht_copy(&r, VA0, VA0 + 0x102000, 16);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out + 0x2000, 16, 0xbb));
	/* The ring's register, by asid. */
	pt_map_linear(&t, VA0, c, 1, 0);
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_VM_INVALIDATE), 1);
	ht_copy(&r, VA0, VA0 + 0x103000, 16);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out + 0x3000, 16, 0xcc));

	/* Strict mode: the stale entry faults instead of being used. */
	ht_ring_write_reg(&r, HW_RING_VM_CTRL, HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT);
	pt_map_linear(&t, VA0, a, 1, 0);
	ht_copy(&r, VA0, VA0 + 0x103000, 16);
	expect_vm_fault(&r, HW_FAULT_VM_STALE, VA0, 1, false);
	ck_assert(ht_vram_is(dev, out + 0x3000, 16, 0xcc));
	/* Unmapping without a flush is stale too. */
	pt_map(&t, VA0 + 0x103000, 0);
	ht_fill(&r, VA0 + 0x103000, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_STALE, VA0 + 0x103000, 1, true);
	tlb_inv(&r, HW_PKT_TLBINV_ALL, 0, 0, 0);
	ht_copy(&r, VA0, VA0 + 0x102000, 16);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, out + 0x2000, 16, 0xaa));
	struct hw_mmu_stats st;
	hw_mmu_get_stats(dev, &st);
	ck_assert_uint_gt(st.tlb_hits, 0);
	ck_assert_uint_gt(st.tlb_misses, 0);
	ck_assert_uint_gt(st.walk_reads, 4 * 3);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_set_vm_switch)
{
	struct pt t1, t2;
	struct ht_ring r;
	struct hw_device *dev = ht_device(HT_SMALL);

	pt_init(&t1, dev, PT_BASE, 48);
	pt_init(&t2, dev, PT_BASE + 0x40000, 48);
	pt_map_linear(&t1, VA0, PHYS, 1, 0);
	pt_map_linear(&t2, VA0, PHYS + 0x1000, 1, 0);
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	/* Two contexts on one ring, then back to physical addresses. */
	set_vm(&r, t1.root, 1, HW_VM_CTRL_ENABLE);
	ht_fill(&r, VA0, 64, 0x11111111);
	set_vm(&r, t2.root, 2, HW_VM_CTRL_ENABLE);
	ht_fill(&r, VA0 + 64, 64, 0x22222222);
	set_vm(&r, t1.root, 1, HW_VM_CTRL_ENABLE);
	ht_fill(&r, VA0 + 128, 64, 0x33333333);
	set_vm(&r, 0, 0, 0);
	ht_fill(&r, PHYS + 0x2000, 64, 0x44444444);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, PHYS, 64, 0x11));
	ck_assert(ht_vram_is(dev, PHYS + 64, 64, 0));
	ck_assert(ht_vram_is(dev, PHYS + 128, 64, 0x33));
	ck_assert(ht_vram_is(dev, PHYS + 0x1000, 64, 0));
	ck_assert(ht_vram_is(dev, PHYS + 0x1040, 64, 0x22));
	ck_assert(ht_vram_is(dev, PHYS + 0x2000, 64, 0x44));
	/* SET_VM is visible in the ring's registers. */
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_VM_CTRL), 0);
	set_vm(&r, t2.root | 0xfff, 0x12345, HW_VM_CTRL_ENABLE | 0xf0);
	run_clean(&r);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(0, HW_RING_VM_ROOT_LO)), t2.root);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_VM_ASID), 0x2345);
	ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_VM_CTRL), HW_VM_CTRL_ENABLE);
	hw_device_destroy(dev);
}
END_TEST

#define FENCE_VA (VA0 + 0x200000)
#define FENCE_PHYS (PHYS + 0x20000)

/* Rings 0 and 1 on the same address space (asid 1), the fence page mapped. */
static struct hw_device *fence_device(struct pt *t, struct ht_ring *r0, struct ht_ring *r1)
{
	struct hw_device *dev = vm_device(HT_SMALL, t, r0, 0, 0);
	ht_ring_init(r1, dev, 1, HT_RING1, HT_RING_SIZE, 0);
	vm_regs(dev, 1, t->root, 1, HW_VM_CTRL_ENABLE);
	pt_map_linear(t, FENCE_VA, FENCE_PHYS, 1, 0);
	pt_map_linear(t, VA0, PHYS, 1, 0);
	return dev;
}

START_TEST(test_mmu_fence_across_rings)
{
	struct pt t;
	struct ht_ring r0, r1;
	struct hw_device *dev = fence_device(&t, &r0, &r1);
	struct irq_log log = { .dev = dev };

	hw_set_irq_handler(dev, on_irq, &log);
	hw_mmio_write(dev, HW_REG_IRQ_MASK, HW_IRQ_FENCE(1));
	/* Ring 0 waits for 5 at FENCE_VA + 8, then fills. */
	ht_wait(&r0, FENCE_VA + 8, 5);
	ht_fill(&r0, VA0, 4, 0xdddddddd);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_ne(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0);
	/* Ring 1 signals 4 (not enough), works a while, then signals 5 with an IRQ. */
	ht_fence(&r1, FENCE_VA + 8, 4, 0);
	ht_fill(&r1, VA0 + 64, 1024, 0);
	ht_fence(&r1, FENCE_VA + 8, 5, HW_PKT_FENCE_IRQ);
	ht_submit(&r1);
	uint64_t t0 = hw_clock_now(dev);
	uint64_t end = ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), 0);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), r0.wptr);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0xdddddddd);
	ck_assert_uint_eq(ht_vram_read64(dev, FENCE_PHYS + 8), 5);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(1, HW_RING_FENCE_LO)), 5);
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_ne(log.last & HW_IRQ_FENCE(1), 0);
	/* Ring 0's FILL ran after ring 1's three packets. */
	ck_assert_uint_ge(end - t0, 4 * 100);
	hw_device_destroy(dev);
}
END_TEST

/* FENCE with PHYS on a ring in VA mode: the kernel's own fence page by its physical
 * address, which no page table maps; without the flag the same address is a VA. */
START_TEST(test_mmu_fence_phys)
{
	struct pt t;
	struct ht_ring r0, r1;
	struct hw_device *dev = fence_device(&t, &r0, &r1);
	const uint64_t kernel = PHYS + 0x30000;
	ht_fence(&r0, FENCE_VA + 16, 7, 0);
	ht_fence(&r0, kernel, 9, HW_PKT_FENCE_PHYS);
	run_clean(&r0);
	ck_assert_uint_eq(ht_vram_read64(dev, FENCE_PHYS + 16), 7);
	ck_assert_uint_eq(ht_vram_read64(dev, kernel), 9);
	ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(0, HW_RING_FENCE_LO)), 9);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_VM_CTRL), HW_VM_CTRL_ENABLE); /* still VA mode */
	ht_fence(&r0, kernel, 10, 0);
	expect_vm_fault(&r0, HW_FAULT_VM_NOT_PRESENT, kernel, 1, true);
	ck_assert_uint_eq(ht_vram_read64(dev, kernel), 9);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_host_write_wakes_wait)
{
	struct pt t;
	struct ht_ring r0, r1;
	struct hw_device *dev = fence_device(&t, &r0, &r1);
	uint64_t pfn = ht_sysmem_alloc(dev), v = 9;

	/* A monitored fence in a system page: the CPU signals it. */
	memset(ht_page(dev, pfn), 0, 4096);
	pt_map(&t, FENCE_VA + 4096, HW_PTE_SYS(pfn, HW_PTE_VALID));
	ht_wait(&r0, FENCE_VA + 4096 + 16, 9);
	ht_fill(&r0, VA0, 4, 0x99999999);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_ne(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ck_assert_uint_eq(hw_recheck_waits(dev), 0);
	ck_assert_uint_ne(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	memcpy(ht_page(dev, pfn) + 16, &v, 8);
	ck_assert_uint_eq(hw_recheck_waits(dev), 1);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0x99999999);
	ck_assert_uint_eq(ht_ring_reg(&r0, HW_RING_RPTR), r0.wptr);

	/* The same with a value in VRAM written through BAR2. */
	ht_wait(&r0, FENCE_VA, 3);
	ht_fill(&r0, VA0, 4, 0x12121212);
	ht_submit(&r0);
	ht_run(dev);
	ck_assert_uint_ne(ht_ring_reg(&r0, HW_RING_STATUS) & HW_RING_STATUS_WAITING, 0);
	ht_vram_write32(dev, FENCE_PHYS, 3);
	ck_assert_uint_eq(hw_recheck_waits(dev), 1);
	ht_run(dev);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0x12121212);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_walk_cost)
{
	struct pt t;
	struct ht_ring r;
	/* 1 GB/s: a walk's 4 reads of 64 bytes cost 256 ns; 4096 bytes cost 4096 ns. */
	struct hw_device *dev = vm_device(HT_SMALL ",vram_bw=1000000000,packet_ns=100", &t, &r, 0, 0);

	pt_map_linear(&t, VA0, PHYS, 1, 0);
	ht_fill(&r, VA0, 4096, 1);
	ht_submit(&r);
	uint64_t t0 = hw_clock_now(dev), t1 = ht_run(dev);
	ck_assert_uint_eq(t1 - t0, 100 + 4096 + 256);
	ht_fill(&r, VA0, 4096, 2); /* a TLB hit */
	ht_submit(&r);
	uint64_t t2 = ht_run(dev);
	ck_assert_uint_eq(t2 - t1, 100 + 4096);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_off_is_physical)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);

	/* Mapped VA0 -> PHYS; with VA mode off, the same numbers are physical. */
	pt_map_linear(&t, VA0, PHYS, 1, 0);
	ht_ring_write_reg(&r, HW_RING_VM_CTRL, 0);
	ht_fill(&r, PHYS + 0x1000, 16, 0x31313131);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, PHYS + 0x1000, 16, 0x31));
	ht_fill(&r, VA0, 16, 0);
	ht_submit(&r);
	ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_UNMAPPED);
	ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_CAUSE), 0); /* not a VA fault */
	/* RESET clears the VM registers. */
	vm_regs(dev, 1, t.root, 3, HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT);
	hw_mmio_write(dev, HW_REG_RESET, HW_RESET_MAGIC);
	for (unsigned i = 0; i < HW_NUM_RINGS; i++) {
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(i, HW_RING_VM_CTRL)), 0);
		ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_RING(i, HW_RING_VM_ASID)), 0);
		ck_assert_uint_eq(ht_read64(dev, HW_REG_RING(i, HW_RING_VM_ROOT_LO)), 0);
	}
	ck_assert_str_eq(hw_fault_name(HW_FAULT_VM_STALE), "vm-stale");
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_reset_drops_tlb)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);

	pt_map_linear(&t, VA0, PHYS, 1, 0);
	ht_fill(&r, VA0, 4, 0x01010101);
	run_clean(&r);
	pt_map_linear(&t, VA0, PHYS + 0x1000, 1, 0); /* no flush, but a RESET */
	hw_mmio_write(dev, HW_REG_RESET, HW_RESET_MAGIC);
	ht_ring_init(&r, dev, 0, HT_RING0, HT_RING_SIZE, 0);
	vm_regs(dev, 0, t.root, 1, HW_VM_CTRL_ENABLE);
	ht_fill(&r, VA0, 4, 0x02020202);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS), 0x01010101);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x1000), 0x02020202);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_debug_translate_no_side_effects)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	struct hw_mmu_stats a, b;
	uint64_t phys = 0, flags = 0;

	pt_map_linear(&t, VA0, PHYS + 0x5000, 1, HW_PTE_READ_ONLY);
	hw_mmu_get_stats(dev, &a);
	ck_assert_uint_eq(hw_mmu_debug_translate(dev, t.root, VA0 + 0x123, &phys, &flags), 0);
	ck_assert_uint_eq(phys, PHYS + 0x5123);
	ck_assert_uint_eq(flags, HW_PTE_VALID | HW_PTE_READ_ONLY);
	ck_assert_uint_eq(hw_mmu_debug_translate(dev, t.root, VA0 + 4096, &phys, &flags),
			  HW_FAULT_VM_NOT_PRESENT);
	hw_mmu_get_stats(dev, &b);
	ck_assert_int_eq(memcmp(&a, &b, sizeof a), 0);
	/* Nothing was cached: remapping without a flush is seen by the engine. */
	pt_map_linear(&t, VA0, PHYS + 0x6000, 1, 0);
	ht_fill(&r, VA0, 4, 0x5e5e5e5e);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x6000), 0x5e5e5e5e);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x5000), 0);
	hw_device_destroy(dev);
}
END_TEST

START_TEST(test_mmu_config)
{
	struct hw_config cfg, def;

	hw_config_default(&def);
	ck_assert_uint_eq(def.va_bits, 48);
	ck_assert_uint_eq(def.vm_tlb_entries, 512);
	cfg = def;
	ck_assert_int_eq(hw_config_set(&cfg, "va_bits", "44"), 0);
	ck_assert_int_eq(hw_config_set(&cfg, "vm_tlb", "4K"), 0);
	ck_assert_uint_eq(cfg.va_bits, 44);
	ck_assert_uint_eq(cfg.vm_tlb_entries, 4096);
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), 0);
	cfg.va_bits = 39;
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), -EINVAL);
	cfg.va_bits = 49;
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), -EINVAL);
	cfg = def, cfg.vm_tlb_entries = 48;
	ck_assert_int_eq(hw_config_validate(&cfg, NULL, 0), -EINVAL);
	ck_assert_int_lt(hw_config_set(&cfg, "va_bits", "x"), 0);
}
END_TEST

/* ---- COPY across many pages, against the tables in memory ---------------------- */

/* Where va's byte is by the tables in memory (not the TLB), as a host pointer into
 * `vram` (a copy of VRAM: an image) or into the device's memory (vram NULL), and
 * how many bytes from there the same page holds. */
static uint8_t *byte_at(struct hw_device *dev, uint64_t root, uint64_t va, uint8_t *vram, uint64_t *left)
{
	uint64_t phys, flags;
	ck_assert_uint_eq(hw_mmu_debug_translate(dev, root, va, &phys, &flags), 0);
	uint64_t psize = (flags & HW_VM_DEBUG_LARGE) ? HW_LARGE_PAGE_SIZE : HW_PAGE_SIZE;
	*left = psize - (va & (psize - 1));
	if (flags & HW_PTE_SYSTEM) {
		ck_assert_ptr_null(vram); /* images are of VRAM only: tests write there only */
		return ht_page(dev, phys >> HW_PAGE_SHIFT) + (phys & (HW_PAGE_SIZE - 1));
	}
	return vram ? vram + phys : hw_debug_vram(dev, phys, *left);
}

/* Bytes [va, va + n) through the tables: read into buf, or written from buf into
 * the VRAM image `vram`. */
static void va_bytes(struct hw_device *dev, uint64_t root, uint64_t va, uint8_t *buf, uint64_t n,
		     uint8_t *vram)
{
	while (n) {
		uint64_t left;
		uint8_t *h = byte_at(dev, root, va, vram, &left);
		uint64_t k = left < n ? left : n;
		if (vram)
			memcpy(h, buf, k);
		else
			memcpy(buf, h, k);
		va += k, buf += k, n -= k;
	}
}

/* COPY src -> dst (disjoint in memory) on ring r, and check it byte for byte
 * against the tables: the destination holds the source's bytes, and nothing else
 * in VRAM changed. */
static void copy_exact(struct ht_ring *r, uint64_t root, uint64_t src, uint64_t dst, uint64_t n)
{
	struct hw_device *dev = r->dev;
	uint64_t vsize = hw_device_config(dev)->vram;
	uint8_t *want = malloc(n), *got = malloc(n), *image = malloc(vsize);
	ck_assert(want && got && image);
	va_bytes(dev, root, src, want, n, NULL);
	ht_copy(r, src, dst, n);
	memcpy(image, hw_debug_vram(dev, 0, vsize), vsize); /* the ring holds the packet now */
	va_bytes(dev, root, dst, want, n, image);
	run_clean(r);
	va_bytes(dev, root, dst, got, n, NULL);
	ck_assert_int_eq(memcmp(got, want, n), 0);
	ck_assert_int_eq(memcmp(image, hw_debug_vram(dev, 0, vsize), vsize), 0);
	free(want);
	free(got);
	free(image);
}

#define NPG 64                       /* 4 KiB pages on each side */
#define VA_S VA0                     /* group aligned (VA0 is 32 KiB aligned) */
#define VA_D (VA0 + 0x100000 + 0x3000) /* its groups start 5 pages into ours */
#define PHYS_S PHYS
#define PHYS_D (PHYS + 0x80000)
#define VA_LS 0x7f1234800000ull      /* 2 MiB regions of 64 KiB pages */
#define VA_LD 0x7f1234a00000ull
#define PHYS_LS 0x600000u
#define PHYS_LD 0xa00000u

/* The source's 4 KiB pages: one contiguous line, one reversed, one broken in the
 * middle, one with a read-only page, one with two system pages inside, then a
 * scramble. The destination: contiguous across lines with a jump and a reversed
 * piece. Source and destination lines do not line up (VA_D). */
static void map_many_small(struct pt *t, struct hw_device *dev)
{
	uint64_t sys0 = ht_sysmem_alloc(dev), sys1 = ht_sysmem_alloc(dev);
	for (unsigned i = 0; i < NPG; i++) {
		uint64_t pg = i, pte;
		if (i >= 8 && i < 16)
			pg = 23 - i;
		else if (i >= 20 && i < 24)
			pg = 20 + i;
		else if (i >= 40)
			pg = 48 + (i * 7 + 3) % 24;
		pte = HW_PTE_LOCAL(PHYS_S + pg * HW_PAGE_SIZE, HW_PTE_VALID | (i == 27 ? HW_PTE_READ_ONLY : 0));
		if (i == 34 || i == 35)
			pte = HW_PTE_SYS(i == 34 ? sys0 : sys1, HW_PTE_VALID);
		pt_map(t, VA_S + i * HW_PAGE_SIZE, pte);
	}
	for (unsigned i = 0; i < NPG; i++) {
		uint64_t pg = i < 30 ? i : i >= 50 && i <= 52 ? 107 - i : i + 5;
		pt_map(t, VA_D + i * HW_PAGE_SIZE, HW_PTE_LOCAL(PHYS_D + pg * HW_PAGE_SIZE, HW_PTE_VALID));
	}
	ht_debug_fill_pattern(dev, PHYS_S, 72 * HW_PAGE_SIZE, 80);
	ht_pattern(ht_page(dev, sys0), HW_PAGE_SIZE, 81);
	ht_pattern(ht_page(dev, sys1), HW_PAGE_SIZE, 82);
}

/* 64 KiB pages: 16 each side, scrambled differently. */
static void map_many_large(struct pt *t, struct hw_device *dev)
{
	static const unsigned s_pg[16] = { 0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 12, 13, 14, 15, 10, 11 };
	static const unsigned d_pg[16] = { 2, 3, 4, 5, 6, 0, 1, 9, 10, 11, 15, 14, 13, 12, 7, 8 };
	for (unsigned i = 0; i < 16; i++) {
		pt_map_large(t, VA_LS + i * HW_LARGE_PAGE_SIZE,
			     HW_PTE_LOCAL(PHYS_LS + s_pg[i] * HW_LARGE_PAGE_SIZE, HW_PTE_VALID));
		pt_map_large(t, VA_LD + i * HW_LARGE_PAGE_SIZE,
			     HW_PTE_LOCAL(PHYS_LD + d_pg[i] * HW_LARGE_PAGE_SIZE, HW_PTE_VALID));
	}
	ht_debug_fill_pattern(dev, PHYS_LS, 16 * HW_LARGE_PAGE_SIZE, 83);
}

START_TEST(test_mmu_copy_many_pages)
{
	/* The default TLB, a TLB of one line (every group evicts the last), strict mode. */
	static const struct {
		const char *cfg;
		uint32_t vm_ctrl;
	} runs[] = { { HT_SMALL, 0 }, { HT_SMALL ",vm_tlb=8", 0 }, { HT_SMALL, HW_VM_CTRL_STRICT } };
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		struct pt t;
		struct ht_ring r;
		struct hw_device *dev = vm_device(runs[k].cfg, &t, &r, 0, runs[k].vm_ctrl);
		map_many_small(&t, dev);
		map_many_large(&t, dev);
		/* 4 KiB pages: unaligned at both ends, different offsets in the page. */
		copy_exact(&r, t.root, VA_S + 123, VA_D + 4001, NPG * HW_PAGE_SIZE - 5000);
		/* Again with the TLB warm, other offsets, a length that ends mid-line. */
		copy_exact(&r, t.root, VA_S + 4090, VA_D + 7, 37 * HW_PAGE_SIZE + 11);
		/* 64 KiB pages, unaligned. */
		copy_exact(&r, t.root, VA_LS + 0x1234 + 7, VA_LD + 0x8001, 14 * HW_LARGE_PAGE_SIZE);
		/* 64 KiB pages into 4 KiB pages and back. */
		copy_exact(&r, t.root, VA_LS + 0xfff0, VA_D + 77, 200 * 1024);
		copy_exact(&r, t.root, VA_S + 1, VA_LD + 0x10000 - 3, NPG * HW_PAGE_SIZE - 2);
		hw_device_destroy(dev);
	}
}
END_TEST

/* One page missing in the middle of a COPY's source, then of its destination, then
 * the first page (the COPY starting inside it): the fault names the first byte that
 * cannot be reached and, as for any faulting packet, nothing is copied; the driver
 * maps the page (no flush: a miss is never cached, though the rest of its line is)
 * and restarts the ring, and the COPY completes exactly. Both page sizes. */
START_TEST(test_mmu_copy_fault_mid_copy)
{
	for (int large = 0; large <= 1; large++) {
		struct pt t;
		struct ht_ring r;
		struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
		const uint64_t ps = large ? HW_LARGE_PAGE_SIZE : HW_PAGE_SIZE, n = 12;
		const uint64_t src = large ? VA_LS : VA_S, dst = large ? VA_LD : VA_D;
		const uint64_t ps_phys = large ? PHYS_LS : PHYS_S, pd_phys = large ? PHYS_LD : PHYS_D;
		/* The page of each case that is missing, in the source or the destination. */
		static const struct {
			bool in_dst;
			unsigned page;
		} holes[] = { { false, 9 }, { true, 5 }, { false, 0 } };
		ht_debug_fill_pattern(dev, ps_phys, n * ps, 84);
		ht_debug_fill_pattern(dev, pd_phys, n * ps, 85);
		for (size_t h = 0; h < sizeof(holes) / sizeof(holes[0]); h++) {
			const uint64_t hole = (holes[h].in_dst ? dst : src) + holes[h].page * ps;
			for (unsigned i = 0; i < n; i++) {
				uint64_t a = src + i * ps, b = dst + i * ps;
				uint64_t ea = HW_PTE_LOCAL(ps_phys + i * ps, HW_PTE_VALID);
				uint64_t eb = HW_PTE_LOCAL(pd_phys + i * ps, HW_PTE_VALID);
				if (large) {
					pt_map_large(&t, a, a == hole ? 0 : ea);
					pt_map_large(&t, b, b == hole ? 0 : eb);
				} else {
					pt_map(&t, a, a == hole ? 0 : ea);
					pt_map(&t, b, b == hole ? 0 : eb);
				}
			}
			/* Nothing cached from the previous case: the tables changed. */
			hw_mmio_write(dev, HW_REG_RING(0, HW_RING_VM_INVALIDATE), HW_VM_INVALIDATE_ALL);
			uint8_t *before = malloc(n * ps);
			memcpy(before, hw_debug_vram(dev, pd_phys, n * ps), n * ps);
			const uint64_t off = 100, len = n * ps - 300;
			uint32_t hdr = ht_copy(&r, src + off, dst + off + 33, len);
			ht_submit(&r);
			ht_run(dev);
			uint64_t at = hole == src ? src + off : hole == dst ? dst + off + 33 : hole;
			ck_assert_uint_eq(ht_fault_cause(dev), HW_FAULT_VM_NOT_PRESENT);
			ck_assert_uint_eq(ht_fault_addr(dev), at);
			ck_assert_uint_eq(ht_read64(dev, HW_REG_VM_FAULT_ADDR_LO), at);
			ck_assert_uint_eq(hw_mmio_read(dev, HW_REG_VM_FAULT_INFO),
					  holes[h].in_dst ? HW_VM_FAULT_INFO_WRITE : 0);
			ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), hdr);
			ck_assert_int_eq(memcmp(before, hw_debug_vram(dev, pd_phys, n * ps), n * ps), 0);

			uint64_t e = HW_PTE_LOCAL((holes[h].in_dst ? pd_phys : ps_phys) + holes[h].page * ps,
						  HW_PTE_VALID);
			if (large)
				pt_map_large(&t, hole, e);
			else
				pt_map(&t, hole, e);
			hw_mmio_write(dev, HW_REG_FAULT_CAUSE, 0);
			hw_mmio_write(dev, HW_REG_VM_FAULT_CAUSE, 0);
			hw_mmio_write(dev, HW_REG_IRQ_STATUS, HW_IRQ_FAULT);
			ht_ring_restart(&r, HW_RING_CTRL_ENABLE);
			ht_run(dev);
			ck_assert_uint_eq(ht_fault_cause(dev), 0);
			ck_assert_uint_eq(ht_ring_reg(&r, HW_RING_RPTR), r.wptr);
			ck_assert_int_eq(memcmp(hw_debug_vram(dev, pd_phys + off + 33, len),
						hw_debug_vram(dev, ps_phys + off, len), len), 0);
			ck_assert_int_eq(memcmp(hw_debug_vram(dev, pd_phys, off + 33), before, off + 33), 0);
			ck_assert_int_eq(memcmp(hw_debug_vram(dev, pd_phys + off + 33 + len, n * ps - off - 33 - len),
						before + off + 33 + len, n * ps - off - 33 - len), 0);
			free(before);
		}
		hw_device_destroy(dev);
	}
}
END_TEST

static struct hw_mmu_stats stats_now(struct hw_device *dev)
{
	struct hw_mmu_stats s;
	hw_mmu_get_stats(dev, &s);
	return s;
}

/* Stats since `a`: hits, misses and entries read by walks. */
static void expect_stats(struct hw_device *dev, const struct hw_mmu_stats *a, uint64_t hits,
			 uint64_t misses, uint64_t walk_reads)
{
	struct hw_mmu_stats b = stats_now(dev);
	ck_assert_uint_eq(b.tlb_hits - a->tlb_hits, hits);
	ck_assert_uint_eq(b.tlb_misses - a->tlb_misses, misses);
	ck_assert_uint_eq(b.walk_reads - a->walk_reads, walk_reads);
}

/* The TLB caches the line a walk read: one walk serves its 8 pages, a page of the
 * line the engine never touched is cached too (stale if remapped without a flush),
 * a ranged invalidation drops only its pages, and a page missing from the line is
 * a miss whose walk adds it and keeps what the line had. */
START_TEST(test_mmu_tlb_lines)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, HW_RING_CTRL_SKIP_FAULT, 0);
	struct hw_mmu_stats s;

	pt_map_linear(&t, VA0, PHYS, 8, 0);
	s = stats_now(dev);
	ht_fill(&r, VA0, 4, 0x01010101);
	run_clean(&r);
	expect_stats(dev, &s, 0, 1, 4); /* three directories and one line */
	s = stats_now(dev);
	ht_fill(&r, VA0 + 5 * 4096, 4, 0x05050505);
	run_clean(&r);
	expect_stats(dev, &s, 1, 0, 0);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 5 * 4096), 0x05050505);

	/* Page 6, never used, remapped without a flush: the engine uses what the line
	 * read; strict mode calls it stale. */
	pt_map_linear(&t, VA0 + 6 * 4096, PHYS + 0x10000, 1, 0);
	pt_map_linear(&t, VA0 + 7 * 4096, PHYS + 0x11000, 1, 0);
	ht_fill(&r, VA0 + 6 * 4096, 4, 0x06060606);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 6 * 4096), 0x06060606);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x10000), 0);
	ht_ring_write_reg(&r, HW_RING_VM_CTRL, HW_VM_CTRL_ENABLE | HW_VM_CTRL_STRICT);
	ht_fill(&r, VA0 + 6 * 4096 + 8, 4, 0);
	expect_vm_fault(&r, HW_FAULT_VM_STALE, VA0 + 6 * 4096 + 8, 1, true);
	ht_ring_write_reg(&r, HW_RING_VM_CTRL, HW_VM_CTRL_ENABLE);

	/* Invalidating page 6 alone: page 6 is walked afresh, page 7 keeps its old entry. */
	tlb_inv(&r, 0, 1, VA0 + 6 * 4096, 1);
	ht_fill(&r, VA0 + 6 * 4096, 4, 0x16161616);
	ht_fill(&r, VA0 + 7 * 4096, 4, 0x17171717);
	run_clean(&r);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x10000), 0x16161616);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 7 * 4096), 0x17171717);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x11000), 0);

	/* The next line: only page 8 mapped. Page 9 mapped later needs no flush, and
	 * its walk leaves page 8's cached entry alone (stale, here). */
	pt_map_linear(&t, VA0 + 8 * 4096, PHYS + 0x8000, 1, 0);
	ht_fill(&r, VA0 + 8 * 4096, 4, 0x08080808);
	run_clean(&r);
	pt_map_linear(&t, VA0 + 8 * 4096, PHYS + 0x12000, 1, 0);
	pt_map_linear(&t, VA0 + 9 * 4096, PHYS + 0x9000, 1, 0);
	s = stats_now(dev);
	ht_fill(&r, VA0 + 9 * 4096, 4, 0x09090909);
	ht_fill(&r, VA0 + 8 * 4096 + 4, 4, 0x18181818);
	run_clean(&r);
	expect_stats(dev, &s, 1, 1, 4);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x9000), 0x09090909);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x8004), 0x18181818);
	ck_assert_uint_eq(ht_vram_read32(dev, PHYS + 0x12004), 0);

	/* A FILL over the first line is one run: 8 pages, 8 hits, no walk. */
	hw_mmio_write(dev, HW_REG_RING(0, HW_RING_VM_INVALIDATE), HW_VM_INVALIDATE_ALL);
	pt_map_linear(&t, VA0, PHYS, 8, 0);
	ht_fill(&r, VA0, 4, 0);
	run_clean(&r);
	s = stats_now(dev);
	ht_fill(&r, VA0 + 100, 8 * 4096 - 200, 0x2a2a2a2a);
	run_clean(&r);
	expect_stats(dev, &s, 8, 0, 0);
	ck_assert(ht_vram_is(dev, PHYS + 100, 8 * 4096 - 200, 0x2a));
	hw_device_destroy(dev);
}
END_TEST

/* A lookup tries the 4 KiB line first, also for the second 64 KiB page of a run:
 * a region remapped from 4 KiB to 64 KiB pages without a flush still serves the
 * 4 KiB page it cached, in the middle of a run of 64 KiB pages. */
START_TEST(test_mmu_tlb_small_line_first)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	const uint64_t va = 0x7f1234c00000ull, l0 = 0x600000, x = PHYS + 0x5000;

	pt_map_linear(&t, va + 0x10000, x, 1, 0);
	ht_fill(&r, va + 0x10000, 4, 0x01010101); /* caches the 4 KiB page */
	run_clean(&r);
	/* The driver turns the 2 MiB region into 64 KiB pages, forgetting the flush. */
	uint64_t table = t.root, leaf = pt_alloc(&t);
	for (unsigned shift = 39; shift > 21; shift -= 9)
		table = rd64(dev, table + 8 * ((va >> shift) & 511)) & HW_VM_ADDR_MASK;
	wr64(dev, leaf, HW_PTE_LOCAL(l0, HW_PTE_VALID));
	wr64(dev, leaf + 8, HW_PTE_LOCAL(l0 + 0x10000, HW_PTE_VALID));
	wr64(dev, table + 8 * ((va >> 21) & 511), HW_PDE(leaf, HW_PDE_VALID | HW_PDE_LARGE));
	ht_fill(&r, va + 0xfff0, 32, 0x5a5a5a5a);
	run_clean(&r);
	ck_assert(ht_vram_is(dev, l0 + 0xfff0, 16, 0x5a));
	ck_assert(ht_vram_is(dev, x, 16, 0x5a));
	ck_assert(ht_vram_is(dev, l0 + 0x10000, 16, 0));
	hw_device_destroy(dev);
}
END_TEST

/* A set's ways are replaced least recently used first: a TLB of 4 lines is one set
 * of 4 ways. */
START_TEST(test_mmu_tlb_lru)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL ",vm_tlb=32", &t, &r, 0, 0);
	struct hw_mmu_stats s;
	const uint64_t group = 8 * 4096; /* the 8 pages of a line */

	pt_map_linear(&t, VA0, PHYS, 5 * 8, 0); /* groups A..E */
	/* Touch one page of the group: a hit or a miss. */
#define TOUCH(g) ht_fill(&r, VA0 + (g) * group + 4096, 4, 0x11 * (g))
	for (unsigned g = 0; g < 4; g++)
		TOUCH(g);
	run_clean(&r);
	s = stats_now(dev);
	TOUCH(0);      /* A hit: A becomes the most recent, B the least */
	TOUCH(4);      /* E misses and replaces B */
	run_clean(&r);
	expect_stats(dev, &s, 1, 1, 4);
	s = stats_now(dev);
	TOUCH(0), TOUCH(2), TOUCH(3), TOUCH(4);
	run_clean(&r);
	expect_stats(dev, &s, 4, 0, 0);
	s = stats_now(dev);
	TOUCH(1);
	run_clean(&r);
	expect_stats(dev, &s, 0, 1, 4);
#undef TOUCH
	hw_device_destroy(dev);
}
END_TEST

/* Buffers with the same alignment far apart (a copy's source and destination)
 * share sets but not ways: a second COPY of 4 MiB of 64 KiB pages (8 lines a side,
 * in a TLB of 64 lines) walks nothing. */
START_TEST(test_mmu_tlb_no_conflict)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL, &t, &r, 0, 0);
	const uint64_t src = 0x100000000000ull, dst = 0x200000000000ull, n = 4ull << 20;
	struct hw_mmu_stats s;

	for (uint64_t off = 0; off < n; off += HW_LARGE_PAGE_SIZE) {
		pt_map_large(&t, src + off, HW_PTE_LOCAL(0x600000 + off, HW_PTE_VALID));
		pt_map_large(&t, dst + off, HW_PTE_LOCAL(0xa00000 + off, HW_PTE_VALID));
	}
	ht_debug_fill_pattern(dev, 0x600000, n, 86);
	s = stats_now(dev);
	ht_copy(&r, src, dst, n);
	run_clean(&r);
	expect_stats(dev, &s, 2 * 64 - 16, 16, 16 * 4);
	s = stats_now(dev);
	ht_copy(&r, src, dst, n);
	run_clean(&r);
	expect_stats(dev, &s, 2 * 64, 0, 0);
	ck_assert(ht_vram_has_pattern(dev, 0xa00000, n, 86));
	hw_device_destroy(dev);
}
END_TEST

/* The cost model: a 1 MiB COPY of 4 KiB pages, nothing cached, walks 32 lines of
 * the source and 32 of the destination, 4 reads of 64 bytes each; the same COPY
 * again hits on every page (64 lines fit the default TLB) and pays the bytes only. */
START_TEST(test_mmu_copy_walk_cost)
{
	struct pt t;
	struct ht_ring r;
	struct hw_device *dev = vm_device(HT_SMALL ",vram_bw=1000000000,packet_ns=100", &t, &r, 0, 0);
	const uint64_t n = 1 << 20;

	pt_map_linear(&t, VA0, PHYS, 256, 0);
	pt_map_linear(&t, VA0 + 0x200000, PHYS + n, 256, 0);
	ht_copy(&r, VA0, VA0 + 0x200000, n);
	ht_submit(&r);
	uint64_t t0 = hw_clock_now(dev), t1 = ht_run(dev);
	ck_assert_uint_eq(ht_fault_cause(dev), 0);
	ck_assert_uint_eq(t1 - t0, 100 + n + 64 * 4 * 64);
	ht_copy(&r, VA0, VA0 + 0x200000, n);
	ht_submit(&r);
	uint64_t t2 = ht_run(dev);
	ck_assert_uint_eq(t2 - t1, 100 + n);
	/* 64 KiB pages: 2 + 2 lines. */
	const uint64_t va = VA0 & ~0x1fffffull;
	for (uint64_t off = 0; off < n; off += HW_LARGE_PAGE_SIZE) {
		pt_map_large(&t, va + 0x800000 + off, HW_PTE_LOCAL(0x600000 + off, HW_PTE_VALID));
		pt_map_large(&t, va + 0xa00000 + off, HW_PTE_LOCAL(0xa00000 + off, HW_PTE_VALID));
	}
	ht_copy(&r, va + 0x800000, va + 0xa00000, n);
	ht_submit(&r);
	uint64_t t3 = ht_run(dev);
	ck_assert_uint_eq(t3 - t2, 100 + n + 4 * 4 * 64);
	hw_device_destroy(dev);
}
END_TEST

/* A run that saves the device's state mid-way and goes on in a fresh device from
 * it ends as the straight run does, byte for byte: the TLB's lines, their order of
 * use (which decides evictions, so which stale entries survive) and its counters
 * are all in the state. */
static void tlb_workload(struct ht_ring *r, struct pt *t, int phase)
{
	for (unsigned g = 0; g < 6; g++) {
		/* More groups than the TLB's 4 lines, in an order that depends on the phase. */
		unsigned k = phase ? (g * 5 + 1) % 6 : g;
		ht_copy(r, VA0 + k * 0x8000 + 8, VA0 + 0x100000 + g * 0x9000, 0x5000 + g);
	}
	/* Remap without a flush: whether the engine sees it depends on what is cached. */
	pt_map_linear(t, VA0 + (phase ? 0x10000 : 0x28000), PHYS + 0xe0000 + phase * 0x1000, 1, 0);
	ht_copy(r, VA0 + 0x10000, VA0 + 0x180000, 64);
	ht_copy(r, VA0 + 0x28000, VA0 + 0x181000, 64);
	run_clean(r);
}

START_TEST(test_mmu_tlb_state_resumes)
{
	const char *cfg = HT_SMALL ",vm_tlb=32";
	struct pt ta, tb;
	struct ht_ring ra, rb;
	struct hw_device *a = vm_device(cfg, &ta, &ra, 0, 0), *b = ht_device(cfg);
	const uint64_t vsize = hw_device_config(a)->vram;

	pt_map_linear(&ta, VA0, PHYS, 48, 0);
	pt_map_linear(&ta, VA0 + 0x100000, PHYS + 0x40000, 144, 0);
	ht_debug_fill_pattern(a, PHYS, 48 * 4096, 87);
	tlb_workload(&ra, &ta, 0);

	uint8_t *sa, *sb;
	size_t la, lb;
	char err[256] = "";
	ck_assert_int_eq(hw_device_save_state(a, &sa, &la), 0);
	ck_assert_msg(hw_device_load_state(b, sa, la, err, sizeof(err)) == 0, "%s", err);
	memcpy(hw_debug_vram(b, 0, vsize), hw_debug_vram(a, 0, vsize), vsize);
	free(sa);
	tb = ta, tb.dev = b;
	rb = ra, rb.dev = b;

	tlb_workload(&ra, &ta, 1);
	tlb_workload(&rb, &tb, 1);
	ck_assert_int_eq(memcmp(hw_debug_vram(a, 0, vsize), hw_debug_vram(b, 0, vsize), vsize), 0);
	ck_assert_int_eq(hw_device_save_state(a, &sa, &la), 0);
	ck_assert_int_eq(hw_device_save_state(b, &sb, &lb), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert_int_eq(memcmp(sa, sb, la), 0);
	struct hw_mmu_stats st = stats_now(a);
	ck_assert_uint_gt(st.tlb_hits, 0);
	ck_assert_uint_gt(st.tlb_misses, 6);
	free(sa);
	free(sb);
	hw_device_destroy(a);
	hw_device_destroy(b);
}
END_TEST

Suite *hw_mmu_suite(void)
{
	Suite *s = suite_create("hw_mmu");
	TCase *tc = tcase_create("translate");
	tcase_add_test(tc, test_mmu_packets_through_va);
	tcase_add_test(tc, test_mmu_copy_overlap_through_aliases);
	tcase_add_test(tc, test_mmu_large_pages);
	tcase_add_test(tc, test_mmu_system_pages);
	tcase_add_test(tc, test_mmu_tables_in_system_memory);
	tcase_add_test(tc, test_mmu_off_is_physical);
	tcase_add_test(tc, test_mmu_debug_translate_no_side_effects);
	tcase_add_test(tc, test_mmu_config);
	suite_add_tcase(s, tc);
	tc = tcase_create("faults");
	tcase_add_test(tc, test_mmu_read_only);
	tcase_add_test(tc, test_mmu_not_present_restart);
	tcase_add_test(tc, test_mmu_beyond_space);
	suite_add_tcase(s, tc);
	tc = tcase_create("tlb");
	tcase_add_test(tc, test_mmu_stale_tlb);
	tcase_add_test(tc, test_mmu_reset_drops_tlb);
	tcase_add_test(tc, test_mmu_walk_cost);
	tcase_add_test(tc, test_mmu_tlb_lines);
	tcase_add_test(tc, test_mmu_tlb_small_line_first);
	tcase_add_test(tc, test_mmu_tlb_lru);
	tcase_add_test(tc, test_mmu_tlb_no_conflict);
	tcase_add_test(tc, test_mmu_tlb_state_resumes);
	suite_add_tcase(s, tc);
	tc = tcase_create("copy");
	tcase_add_test(tc, test_mmu_copy_many_pages);
	tcase_add_test(tc, test_mmu_copy_fault_mid_copy);
	tcase_add_test(tc, test_mmu_copy_walk_cost);
	suite_add_tcase(s, tc);
	tc = tcase_create("contexts");
	tcase_add_test(tc, test_mmu_set_vm_switch);
	tcase_add_test(tc, test_mmu_fence_across_rings);
	tcase_add_test(tc, test_mmu_fence_phys);
	tcase_add_test(tc, test_mmu_host_write_wakes_wait);
	suite_add_tcase(s, tc);
	return s;
}
