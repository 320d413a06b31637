/*
 * <gpusim/hw.h> — the simulated GPU as a hardware team hands it to a driver team.
 * A device is its state plus the ways a host reaches it: BAR0 registers, the BAR2
 * window onto visible VRAM, system-memory pages, a simulated clock and an interrupt
 * line. See hw/REGISTERS.md for the register map, packet formats and fault causes.
 *
 * Threading: a device is not locked internally; the driver serializes calls on one
 * device (kmt/ holds its adapter lock). Distinct devices are independent.
 * Errors are negative errno values (-EINVAL, -ENOMEM, -EFAULT, -EIO, -ENODEV, -EBUSY).
 */
#ifndef GPUSIM_HW_H
#define GPUSIM_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HW_PAGE_SHIFT 12
#define HW_PAGE_SIZE (1ull << HW_PAGE_SHIFT)
#define HW_NUM_RINGS 2          /* ring 0: graphics, ring 1: copy (paging) */
#define HW_DEVICE_ID 0x47505553u /* "GPUS" read from HW_REG_ID */
#define HW_DEVICE_REV 0x00010000u
#define HW_GART_BASE_DEFAULT 0x10000000000ull /* 1 TiB: above any VRAM we model */
#define HW_RESET_MAGIC 0x52534554u            /* "RSET" written to HW_REG_RESET */

/* ---- configuration ---------------------------------------------------- */

struct hw_config {
	uint64_t vram;              /* bytes of VRAM, default 256 MiB */
	uint64_t visible;           /* bytes of VRAM behind BAR2, default 64 MiB */
	uint64_t gart;              /* bytes of GART aperture, default 512 MiB */
	uint64_t sysmem;            /* bytes of simulated system memory, default 2 GiB */
	uint64_t gart_base;         /* GPU address of the aperture, default 1 TiB */
	uint64_t vram_bandwidth;    /* bytes per second for VRAM-only traffic */
	uint64_t pcie_bandwidth;    /* bytes per second when a GART page is touched */
	uint32_t packet_overhead_ns;/* fixed cost of every packet */
	uint32_t tlb_entries;       /* GART TLB size, a power of two */
	uint32_t va_bits;           /* GPU virtual address bits, 40..48, default 48 */
	uint32_t vm_tlb_entries;    /* each engine's GPU MMU TLB: page entries (lines of 8),
				     * a power of two from 8, default 512 */
};

void hw_config_default(struct hw_config *cfg);
/* Parse "4K", "64M", "1G", "0x1000", "12345" into bytes; -EINVAL or -ERANGE. */
int hw_parse_size(const char *text, uint64_t *out);
/* Set one key ("vram", "visible", "gart", "sysmem", "gart_base", "vram_bw",
 * "pcie_bw", "packet_ns", "tlb", "va_bits", "vm_tlb") from text; -EINVAL for an
 * unknown key or value. */
int hw_config_set(struct hw_config *cfg, const char *key, const char *value);
/* Check sizes: page multiples, visible <= vram, vram <= gart_base, ...; on error
 * writes a sentence into err (may be NULL) and returns -EINVAL. */
int hw_config_validate(const struct hw_config *cfg, char *err, size_t errlen);

/* ---- device ----------------------------------------------------------- */

struct hw_device;

int hw_device_create(const struct hw_config *cfg, struct hw_device **out);
void hw_device_destroy(struct hw_device *dev);
const struct hw_config *hw_device_config(const struct hw_device *dev);

/* BAR0: 32-bit registers; 64-bit values are LO/HI pairs (reading LO latches HI). */
uint32_t hw_mmio_read(struct hw_device *dev, uint32_t offset);
void hw_mmio_write(struct hw_device *dev, uint32_t offset, uint32_t value);

/* BAR2: the CPU window onto VRAM [0, visible). Accesses outside it are refused
 * with -EFAULT; a read touching a page with an uncorrectable error gives -EIO. */
int hw_bar2_read(struct hw_device *dev, uint64_t offset, void *buf, size_t len);
int hw_bar2_write(struct hw_device *dev, uint64_t offset, const void *buf, size_t len);
/* A CPU mapping of [offset, offset+len) of BAR2, or NULL when out of bounds. */
void *hw_bar2_map(struct hw_device *dev, uint64_t offset, uint64_t len);

/* System memory: simulated physical pages, numbered from 0 (pfn). A freed page
 * reads as zero from then on, through every mapping of it, and its host memory is
 * given back to the host (see "host memory" below): a page handed out again never
 * shows its previous owner's bytes. */
int hw_sysmem_alloc(struct hw_device *dev, uint64_t *pfn);
void hw_sysmem_free(struct hw_device *dev, uint64_t pfn);
uint64_t hw_sysmem_pages_total(const struct hw_device *dev);
uint64_t hw_sysmem_pages_used(const struct hw_device *dev);
/* Commit charge: reserve n pages now so that later hw_sysmem_alloc_reserved calls
 * cannot fail (an OS's commit limit). Reserved pages count against exhaustion,
 * injected or real: -ENOMEM when used + reserved + n would pass the total. */
int hw_sysmem_reserve(struct hw_device *dev, uint64_t n);
void hw_sysmem_unreserve(struct hw_device *dev, uint64_t n);
uint64_t hw_sysmem_pages_reserved(const struct hw_device *dev);
/* Take one page out of the reservation (-ENOSPC when nothing is reserved). */
int hw_sysmem_alloc_reserved(struct hw_device *dev, uint64_t *pfn);
/* Free a page and put it back into the reservation it came from. */
void hw_sysmem_free_reserved(struct hw_device *dev, uint64_t pfn);
/* The same for n pages, in this order (the pool's reuse order is as after n single
 * frees); the host memory is given back in one call per run of consecutive pages,
 * which is what makes freeing a large allocation cheap. */
void hw_sysmem_free_reserved_pages(struct hw_device *dev, const uint64_t *pfns, uint64_t n);
/* The CPU's view of one page (its kernel direct map). NULL for a bad pfn. */
void *hw_sysmem_page(struct hw_device *dev, uint64_t pfn);
/* Map n pages, in this order, at one contiguous CPU address (like vmap); the
 * mapping aliases the pages. Unmap with hw_sysmem_vunmap(ptr, n). */
void *hw_sysmem_vmap(struct hw_device *dev, const uint64_t *pfns, size_t n);
void hw_sysmem_vunmap(void *ptr, size_t n);

/* ---- host memory (not a register: the simulator's own bookkeeping) ------
 * VRAM and system memory are host memory that the host commits as it is touched.
 * Giving back what nobody owns any more keeps the simulator's footprint, and its
 * snapshots (which hold every page with a non-zero byte), down to live data. */

/* Discard VRAM [offset, offset+len): afterwards the range reads as zero, to the
 * CPU (BAR2), the engines and the debug views alike, and its host pages are
 * returned to the host (bytes outside the range are untouched, whatever its
 * alignment). Not a device operation: no simulated time passes, no register,
 * statistic or bad-page mark changes; a real device would keep the old bytes,
 * which nobody may rely on. -EINVAL when the range is outside VRAM. */
int hw_vram_discard(struct hw_device *dev, uint64_t offset, uint64_t len);

/* ---- time and interrupts ---------------------------------------------- */

uint64_t hw_clock_now(const struct hw_device *dev);
/* Let simulated time run to t (>= now): engines execute every packet that starts
 * at or before t. Returns 0, or -EBUSY when called from an interrupt handler. */
int hw_run_until(struct hw_device *dev, uint64_t t);
/* Time at which the next packet will start; false when every ring is idle,
 * stopped or waiting on a value nobody will write. */
bool hw_next_event(struct hw_device *dev, uint64_t *t);
/* Run until no ring has work it can make progress on; returns the clock. */
uint64_t hw_run_idle(struct hw_device *dev);

/* Called (synchronously, from inside hw_run_*) when a bit of IRQ_STATUS that is
 * enabled in IRQ_MASK becomes set. The handler may read and write registers but
 * must not run the clock. */
typedef void (*hw_irq_handler)(void *opaque, uint32_t pending);
void hw_set_irq_handler(struct hw_device *dev, hw_irq_handler fn, void *opaque);

/* ---- faults on purpose ------------------------------------------------- */

void hw_inject_device_removed(struct hw_device *dev);
void hw_inject_dma_error(struct hw_device *dev);          /* the next packet */
int hw_inject_vram_error(struct hw_device *dev, uint64_t vram_offset);
void hw_inject_sysmem_oom(struct hw_device *dev, uint64_t after_pages);
bool hw_device_removed(const struct hw_device *dev);
/* "unmapped", "gart-invalid", ..., "pkt-opcode": a fault cause for people. */
const char *hw_fault_name(uint32_t cause);

/* ---- observation (not a register: for tests, benches and the viewer) --- */

struct hw_stats {
	uint64_t packets;
	uint64_t bytes_copied;     /* COPY */
	uint64_t bytes_filled;     /* FILL */
	uint64_t bytes_checksummed;/* CHECKSUM */
	uint64_t faults;
	uint64_t tlb_hits, tlb_misses;
	uint64_t irqs;
};
void hw_get_stats(const struct hw_device *dev, struct hw_stats *out);
/* Host pointer to VRAM [offset, offset+len) for debuggers and snapshots, or NULL.
 * Bypasses BAR2 and ECC: this is the simulator looking, not the CPU. */
void *hw_debug_vram(struct hw_device *dev, uint64_t offset, uint64_t len);
/* The name hw/REGISTERS.md gives the BAR0 register at `offset` ("GART_CTRL",
 * "CLOCK_LO", "RING1.WPTR"), or NULL when no register is there. */
const char *hw_reg_name(uint32_t offset);

/* ---- state for snapshots (hw/state.c) -----------------------------------
 * Saving and loading everything of a device that is not its memory:
 * <gpusim/hwstate.h>, from the table of hw/vmstate.c. */
/* BAR0 as a driver would read it, without the reads' side effects (no CLOCK_HI
 * latch) and with a removed device's real values: n registers into offs/vals
 * (at most max). Returns how many there are. */
uint32_t hw_debug_registers(struct hw_device *dev, uint32_t *offs, uint32_t *vals, uint32_t max);
/* Host pointer to system memory [pfn, pfn + n) (contiguous in the host), or NULL. */
void *hw_debug_sysmem(struct hw_device *dev, uint64_t pfn, uint64_t n);
/* The populated pages of VRAM (space 0) or system memory (space 1): calls fn for
 * each maximal run of pages holding a non-zero byte, in ascending order (offsets
 * in bytes; pfn * 4 KiB for system memory). Pages the host never committed are
 * skipped without being read. Stops at fn's first non-zero return and returns it. */
int hw_debug_populated(struct hw_device *dev, int space,
		       int (*fn)(void *opaque, uint64_t off, uint64_t len), void *opaque);

/* ---- register map (BAR0 byte offsets) ---------------------------------- */

enum hw_reg {
	HW_REG_ID = 0x000,             /* ro: HW_DEVICE_ID */
	HW_REG_REV = 0x004,            /* ro: HW_DEVICE_REV */
	HW_REG_VRAM_SIZE_LO = 0x010,   /* ro */
	HW_REG_VRAM_SIZE_HI = 0x014,
	HW_REG_VISIBLE_SIZE_LO = 0x018,/* ro */
	HW_REG_VISIBLE_SIZE_HI = 0x01c,
	HW_REG_GART_SIZE_LO = 0x020,   /* ro */
	HW_REG_GART_SIZE_HI = 0x024,
	HW_REG_GART_BASE_LO = 0x028,   /* ro: GPU address of the aperture */
	HW_REG_GART_BASE_HI = 0x02c,
	HW_REG_SYSMEM_SIZE_LO = 0x030, /* ro */
	HW_REG_SYSMEM_SIZE_HI = 0x034,
	HW_REG_GART_CTRL = 0x040,      /* rw: HW_GART_CTRL_* */
	HW_REG_GART_TABLE_LO = 0x044,  /* rw: VRAM offset of the table, page aligned */
	HW_REG_GART_TABLE_HI = 0x048,
	HW_REG_TLB_INVALIDATE = 0x04c, /* wo: page index, or HW_TLB_INVALIDATE_ALL */
	HW_REG_IRQ_STATUS = 0x060,     /* rw1c: HW_IRQ_* */
	HW_REG_IRQ_MASK = 0x064,       /* rw: 1 = enabled */
	HW_REG_FAULT_ADDR_LO = 0x070,  /* ro: GPU address of the first fault */
	HW_REG_FAULT_ADDR_HI = 0x074,
	HW_REG_FAULT_CAUSE = 0x078,    /* rw: HW_FAULT_*; write 0 to re-arm */
	HW_REG_FAULT_RING = 0x07c,     /* ro: ring that faulted */
	HW_REG_CLOCK_LO = 0x080,       /* ro: simulated ns */
	HW_REG_CLOCK_HI = 0x084,
	HW_REG_RESET = 0x090,          /* wo: HW_RESET_MAGIC resets rings/GART/IRQ */
	HW_REG_STATUS = 0x094,         /* ro: HW_STATUS_* */
	HW_REG_VM_FAULT_ADDR_LO = 0x0a0,/* ro: virtual address of the first VA fault */
	HW_REG_VM_FAULT_ADDR_HI = 0x0a4,
	HW_REG_VM_FAULT_CAUSE = 0x0a8, /* rw: HW_FAULT_*; write 0 to re-arm */
	HW_REG_VM_FAULT_RING = 0x0ac,  /* ro: engine (ring) that faulted */
	HW_REG_VM_FAULT_ASID = 0x0b0,  /* ro: address space it was in */
	HW_REG_VM_FAULT_INFO = 0x0b4,  /* ro: HW_VM_FAULT_INFO_* */
	HW_REG_VM_VA_BITS = 0x0b8,     /* ro: bits of virtual address (config va_bits) */
	HW_REG_RING0 = 0x100,          /* ring n at HW_REG_RING0 + n * HW_RING_STRIDE */
};
#define HW_RING_STRIDE 0x40
#define HW_REG_RING(n, r) (HW_REG_RING0 + (uint32_t)(n) * HW_RING_STRIDE + (r))

enum hw_ring_reg {
	HW_RING_BASE_LO = 0x00,  /* rw: GPU address of the ring, 4-byte aligned */
	HW_RING_BASE_HI = 0x04,
	HW_RING_SIZE = 0x08,     /* rw: bytes, multiple of 4, >= 16 */
	HW_RING_RPTR = 0x0c,     /* ro: byte offset the engine will fetch next */
	HW_RING_WPTR = 0x10,     /* rw: byte offset after the last packet written */
	HW_RING_DOORBELL = 0x14, /* wo: any value; the engine fetches up to WPTR */
	HW_RING_CTRL = 0x18,     /* rw: HW_RING_CTRL_* */
	HW_RING_STATUS = 0x1c,   /* ro: HW_RING_STATUS_* */
	HW_RING_FENCE_LO = 0x20, /* ro: last value written by a FENCE on this ring */
	HW_RING_FENCE_HI = 0x24,
	/* 0x28 is reserved. The ring's address space (GPU MMU, hw/mmu.c): */
	HW_RING_VM_CTRL = 0x2c,       /* rw: HW_VM_CTRL_* */
	HW_RING_VM_ROOT_LO = 0x30,    /* rw: GPU address of the top-level table */
	HW_RING_VM_ROOT_HI = 0x34,
	HW_RING_VM_ASID = 0x38,       /* rw: address-space id (16 bits) tagging TLB entries */
	HW_RING_VM_INVALIDATE = 0x3c, /* wo: asid, or HW_VM_INVALIDATE_ALL, in this ring's TLB */
};

#define HW_GART_CTRL_ENABLE 0x1u
#define HW_GART_CTRL_STRICT 0x2u  /* fault on a TLB entry that disagrees with the table */
#define HW_TLB_INVALIDATE_ALL 0xffffffffu

#define HW_RING_CTRL_ENABLE 0x1u
#define HW_RING_CTRL_SKIP_FAULT 0x2u /* skip a faulting packet instead of stopping */

#define HW_RING_STATUS_BUSY 0x1u    /* has packets it can execute */
#define HW_RING_STATUS_STOPPED 0x2u /* stopped on a fault; cleared by disable+enable */
#define HW_RING_STATUS_WAITING 0x4u /* blocked in a WAIT packet */

#define HW_STATUS_IDLE 0x1u

#define HW_VM_CTRL_ENABLE 0x1u /* the ring's packets address GPU virtual memory */
#define HW_VM_CTRL_STRICT 0x2u /* fault on a TLB entry that disagrees with the page table */
#define HW_VM_ASID_MASK 0xffffu
#define HW_VM_INVALIDATE_ALL 0xffffffffu
#define HW_VM_FAULT_INFO_WRITE 0x1u /* the faulting access was a write */

#define HW_IRQ_FENCE(n) (1u << (n)) /* a FENCE with HW_PKT_FENCE_IRQ on ring n */
#define HW_IRQ_FAULT (1u << 8)      /* see FAULT_CAUSE / FAULT_ADDR / FAULT_RING */

enum hw_fault_cause {
	HW_FAULT_NONE = 0,
	HW_FAULT_UNMAPPED = 1,     /* address in neither VRAM nor the aperture */
	HW_FAULT_GART_INVALID = 2, /* aperture page whose entry is not valid */
	HW_FAULT_GART_NOREAD = 3,  /* read through an entry without the R bit */
	HW_FAULT_GART_NOWRITE = 4, /* write through an entry without the W bit */
	HW_FAULT_GART_STALE = 5,   /* strict mode: TLB disagrees with the table */
	HW_FAULT_GART_BADPFN = 6,  /* entry names a page beyond system memory */
	HW_FAULT_DMA = 7,          /* injected DMA error */
	HW_FAULT_ECC = 8,          /* uncorrectable VRAM error */
	HW_FAULT_BAD_PACKET = 9,   /* a count the opcode does not take, or a bad body field */
	/* GPU virtual addresses (a ring in VA mode); FAULT_ADDR is then the VA. */
	HW_FAULT_VM_NOT_PRESENT = 10, /* an entry on the walk is not VALID */
	HW_FAULT_VM_READ_ONLY = 11,   /* write through a READ_ONLY page */
	HW_FAULT_VM_RANGE = 12,       /* address at or beyond 2^va_bits */
	HW_FAULT_VM_PT_UNREACHABLE = 13, /* a page-table read itself faulted */
	HW_FAULT_VM_STALE = 14,       /* strict mode: TLB disagrees with the page table */
	HW_FAULT_VM_BAD_ADDR = 15,    /* PTE names memory beyond VRAM/system memory, misaligned */
	/* The command processor's framing checks, made on the header before any body
	 * dword is read; FAULT_ADDR is the header's address (hw/REGISTERS.md). */
	HW_FAULT_PKT_OVERRUN = 16,    /* the packet runs past the WPTR of the last doorbell */
	HW_FAULT_PKT_TOO_LONG = 17,   /* longer than the ring can ever hold (SIZE - 4 bytes) */
	HW_FAULT_PKT_WRAP = 18,       /* the packet crosses the end of the ring */
	HW_FAULT_PKT_OPCODE = 19,     /* unknown opcode */
};
/* The highest cause the device reports (saved state holds nothing beyond it). */
#define HW_FAULT_MAX HW_FAULT_PKT_OPCODE

/* GART entry: 64 bits, little endian, in VRAM at GART_TABLE + 8 * page. */
#define HW_GART_VALID 0x1ull
#define HW_GART_READ 0x2ull
#define HW_GART_WRITE 0x4ull
#define HW_GART_PFN_SHIFT 12
#define HW_GART_ENTRY(pfn, flags) (((uint64_t)(pfn) << HW_GART_PFN_SHIFT) | (flags))

/* GPU MMU page tables (hw/REGISTERS.md, "GPU virtual memory"): 4 levels, 64-bit
 * little-endian entries, each table page aligned at a GPU physical address (VRAM
 * or the aperture). Level 3 (the root) is indexed by VA bits [va_bits-1:39], level
 * 2 by [38:30], level 1 by [29:21], level 0 by [20:12] (4 KiB pages) or, below a
 * level-1 entry with HW_PDE_LARGE, by [20:16] (32 entries of 64 KiB pages). */
#define HW_VA_BITS_DEFAULT 48u
#define HW_VA_BITS_MIN 40u
#define HW_VA_BITS_MAX 48u
#define HW_LARGE_PAGE_SHIFT 16
#define HW_LARGE_PAGE_SIZE (1ull << HW_LARGE_PAGE_SHIFT)
#define HW_VM_LEVELS 4
#define HW_VM_ENTRIES 512u           /* per table, at levels 0..2 */
#define HW_VM_LARGE_ENTRIES 32u      /* per level-0 table under HW_PDE_LARGE */
#define HW_VM_ADDR_MASK 0xfffffffffffff000ull /* bits 12..63 of every entry */
/* Directory entry (levels 3..1): the next table's GPU physical address. */
#define HW_PDE_VALID 0x1ull
#define HW_PDE_LARGE 0x2ull          /* level 1 only: the leaf table maps 64 KiB pages */
#define HW_PDE(table, flags) (((uint64_t)(table) & HW_VM_ADDR_MASK) | (flags))
/* Page entry (level 0): a VRAM offset, or with HW_PTE_SYSTEM pfn << 12. */
#define HW_PTE_VALID 0x1ull
#define HW_PTE_READ_ONLY 0x2ull
#define HW_PTE_SYSTEM 0x4ull         /* system page, reached directly (not via the GART) */
#define HW_PTE_CACHE_SHIFT 3         /* bits 3..4: HW_PTE_CACHE_*; kept, not modelled */
#define HW_PTE_CACHE_MASK (3ull << HW_PTE_CACHE_SHIFT)
#define HW_PTE_CACHE_UC 0ull
#define HW_PTE_CACHE_WC 1ull
#define HW_PTE_CACHE_CACHED 2ull
#define HW_PTE_LOCAL(vram_off, flags) (((uint64_t)(vram_off) & HW_VM_ADDR_MASK) | (flags))
#define HW_PTE_SYS(pfn, flags) (((uint64_t)(pfn) << HW_PAGE_SHIFT) | HW_PTE_SYSTEM | (flags))

/* What a VA maps to, read from the page tables in memory (not the TLB) without
 * side effects: for the kernel's invariant checks and for inspectors. Returns 0
 * with *phys (a VRAM offset, or pfn * 4 KiB + offset with HW_PTE_SYSTEM set in
 * *flags) and *flags (the leaf entry's low 12 bits, plus HW_VM_DEBUG_LARGE for a
 * 64 KiB page); or the HW_FAULT_* cause the walk would fault with (> 0). */
#define HW_VM_DEBUG_LARGE (1ull << 63)
uint32_t hw_mmu_debug_translate(struct hw_device *dev, uint64_t root, uint64_t va,
				uint64_t *phys, uint64_t *flags);
/* "Memory changed": the CPU wrote memory a WAIT may be watching (a monitored
 * fence value). Re-evaluates every waiting ring now; a ring whose condition holds
 * stops WAITING and resumes at the current time. Returns how many were released. */
unsigned hw_recheck_waits(struct hw_device *dev);
/* The GPU MMU's counters (not registers): TLB hits and misses over all engines,
 * page-table entries read by walks. */
struct hw_mmu_stats {
	uint64_t tlb_hits, tlb_misses, walk_reads;
};
void hw_mmu_get_stats(const struct hw_device *dev, struct hw_mmu_stats *out);

/* ---- packets ------------------------------------------------------------
 * A packet is a header dword followed by `count` body dwords:
 *   header = opcode | flags << 8 | count << 16
 * 64-bit fields are two dwords, low first. */
enum hw_opcode {
	HW_PKT_NOP = 0,        /* count dwords ignored */
	HW_PKT_WRITE_DATA = 1, /* addr(2), then count-2 dwords stored at addr */
	HW_PKT_COPY = 2,       /* src(2) dst(2) bytes(2) */
	HW_PKT_FILL = 3,       /* dst(2) bytes(2) value(1): bytes multiple of 4 */
	HW_PKT_CHECKSUM = 4,   /* src(2) bytes(2) dst(2): CRC-32 (zlib) to dst */
	HW_PKT_FENCE = 5,      /* addr(2) value(2): 64-bit store, ring FENCE reg */
	HW_PKT_WAIT = 6,       /* addr(2) value(2): stall until *(u64*)addr >= value */
	HW_PKT_SET_VM = 7,     /* root(2) asid(1) vm_ctrl(1): the ring's address space */
	HW_PKT_TLB_INVALIDATE = 8, /* asid(1) va(2) pages(1): drop TLB entries, all engines */
};
#define HW_PKT_FENCE_IRQ 0x1u
#define HW_PKT_FENCE_PHYS 0x2u /* FENCE: addr is physical even on a ring in VA mode (kernel only) */
#define HW_PKT_TLBINV_ASID 0x1u /* TLB_INVALIDATE: every page of asid (va, pages ignored) */
#define HW_PKT_TLBINV_ALL 0x2u  /* TLB_INVALIDATE: every entry of every asid */
#define HW_PKT_HEADER(op, flags, count) \
	((uint32_t)(op) | ((uint32_t)(flags) << 8) | ((uint32_t)(count) << 16))
#define HW_PKT_OPCODE(h) ((h) & 0xffu)
#define HW_PKT_FLAGS(h) (((h) >> 8) & 0xffu)
#define HW_PKT_COUNT(h) ((h) >> 16)

#ifdef __cplusplus
}
#endif
#endif
