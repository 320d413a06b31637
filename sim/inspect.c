/*
 * The report `gpusim inspect` prints, as text for people and as JSON for tools,
 * from a struct gpusim_snapshot alone. Both walk the same tables in the same
 * order, so a field a person sees is a field a tool can read.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/inspect.h"
#include "sim/inspect_devstate.h"
#include "sim/jsonw.h"

#define GART_BITS_MASK ((1ull << HW_GART_PFN_SHIFT) - 1)

/* ---- shared pieces ----------------------------------------------------------- */

/* Bytes in the scenario language's notation, exactly: "256M", "3756K", "1000". A
 * person reads the size, and can paste it into `adapter vram=...`. */
static const char *fmt_size(char *buf, size_t n, uint64_t b)
{
	static const char units[] = "KMGTPE";
	int u = -1;
	while (b && u < 5 && b % (1024ull << (10 * (u + 1))) == 0)
		u++;
	if (u < 0)
		snprintf(buf, n, "%" PRIu64, b);
	else
		snprintf(buf, n, "%" PRIu64 "%c", b >> (10 * (u + 1)), units[u]);
	return buf;
}

static const char *seg_name(uint32_t seg, char *buf, size_t n)
{
	if (seg <= GPUSIM_SEG_SYS)
		return gpusim_segment_name(seg);
	snprintf(buf, n, "segment-%" PRIu32, seg);
	return buf;
}

static const char *priority_name(uint32_t p)
{
	switch (p) {
	case D3DDDI_ALLOCATIONPRIORITY_MINIMUM: return "minimum";
	case D3DDDI_ALLOCATIONPRIORITY_LOW: return "low";
	case D3DDDI_ALLOCATIONPRIORITY_NORMAL: return "normal";
	case D3DDDI_ALLOCATIONPRIORITY_HIGH: return "high";
	case D3DDDI_ALLOCATIONPRIORITY_MAXIMUM: return "maximum";
	}
	return NULL;
}

static const char *const flag_names[] = { "cpu", "pinned", "primary", "read-only" };
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))
_Static_assert(GPUSIM_ALLOC_FLAGS_ALL == (1u << NFLAGS) - 1, "a name for every allocation flag");

/* Append to a string of room n that holds len bytes; a text that does not fit is
 * cut, never written past the room. Returns the new length. */
static size_t append(char *buf, size_t n, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static size_t append(char *buf, size_t n, size_t len, const char *fmt, ...)
{
	if (len + 1 >= n)
		return len;
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
	if (k < 0)
		return len;
	return (size_t)k < n - len ? len + (size_t)k : n - 1;
}

/* "cpu,pinned", "-" for none; bits without a name in hex. */
static const char *flags_text(uint32_t flags, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < NFLAGS; i++)
		if (flags & (1u << i))
			len = append(buf, n, len, "%s%s", len ? "," : "", flag_names[i]);
	if (flags & ~GPUSIM_ALLOC_FLAGS_ALL)
		len = append(buf, n, len, "%s0x%" PRIx32, len ? "," : "", flags & ~GPUSIM_ALLOC_FLAGS_ALL);
	if (!len)
		append(buf, n, 0, "-");
	return buf;
}

static bool is_alloc_event(uint32_t type)
{
	return (type >= GPUSIM_EV_CREATE && type <= GPUSIM_EV_UNLOCK) || type == GPUSIM_EV_DEMOTE ||
	       type == GPUSIM_EV_PROMOTE || type == GPUSIM_EV_USE;
}

/* The table is in ascending handle order (the snapshot's contract): a binary
 * search, and a linear one when a hand-made table is not sorted. */
static const struct gpusim_snapshot_alloc *find_alloc(const struct gpusim_snapshot *s, uint32_t handle)
{
	uint64_t lo = 0, hi = s->nallocs;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (s->allocs[mid].handle == handle)
			return &s->allocs[mid];
		if (s->allocs[mid].handle < handle)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint64_t i = 0; i < s->nallocs; i++)
		if (s->allocs[i].handle == handle)
			return &s->allocs[i];
	return NULL;
}

uint64_t inspect_gart_run_last_pfn(const struct inspect_gart_run *run)
{
	return run->descending ? run->pfn - (run->pages - 1) : run->pfn + (run->pages - 1);
}

/* Whether entry e continues the run by one page (the run's direction given). */
static bool continues(const struct inspect_gart_run *run, const struct gpusim_snapshot_gart *e)
{
	uint64_t next = inspect_gart_run_last_pfn(run);
	uint64_t pfn = e->entry >> HW_GART_PFN_SHIFT;
	/* Page numbers that wrap end a run: they are not contiguous. */
	if (run->page + run->pages == 0 || e->page != run->page + run->pages ||
	    (e->entry & GART_BITS_MASK) != run->bits)
		return false;
	return run->descending ? next > 0 && pfn == next - 1 : next < UINT64_MAX && pfn == next + 1;
}

bool inspect_next_gart_run(const struct gpusim_snapshot *s, uint64_t *pos, struct inspect_gart_run *run)
{
	uint64_t i = *pos;
	if (i >= s->ngart)
		return false;
	const struct gpusim_snapshot_gart *g = s->gart;
	run->page = g[i].page;
	run->pfn = g[i].entry >> HW_GART_PFN_SHIFT;
	run->bits = g[i].entry & GART_BITS_MASK;
	run->pages = 1;
	run->descending = false;
	i++;
	if (i < s->ngart && !continues(run, &g[i])) {
		/* The second page sets the direction: try the other one. */
		run->descending = true;
		if (!continues(run, &g[i]))
			run->descending = false;
	}
	for (; i < s->ngart && continues(run, &g[i]); i++)
		run->pages++;
	if (run->pages == 1)
		run->descending = false;
	*pos = i;
	return true;
}

/* Orders of the tables the report shows differently from how they are stored. */

static int alloc_order(const void *x, const void *y)
{
	const struct gpusim_snapshot_alloc *a = *(const struct gpusim_snapshot_alloc *const *)x;
	const struct gpusim_snapshot_alloc *b = *(const struct gpusim_snapshot_alloc *const *)y;
	if (a->segment != b->segment)
		return a->segment < b->segment ? -1 : 1;
	if (a->offset != b->offset)
		return a->offset < b->offset ? -1 : 1;
	return a->handle < b->handle ? -1 : a->handle > b->handle;
}

/* By segment (visible, invisible, gart, sys), then offset, then handle. NULL with
 * errno ENOMEM; a table of 0 rows gives a non-NULL empty array. */
static const struct gpusim_snapshot_alloc **allocs_by_place(const struct gpusim_snapshot *s)
{
	if (s->nallocs > SIZE_MAX / sizeof(void *)) {
		errno = ENOMEM;
		return NULL;
	}
	const struct gpusim_snapshot_alloc **v = malloc(s->nallocs ? (size_t)s->nallocs * sizeof(*v) : 1);
	if (!v)
		return NULL;
	for (uint64_t i = 0; i < s->nallocs; i++)
		v[i] = &s->allocs[i];
	if (s->nallocs > 1)
		qsort(v, (size_t)s->nallocs, sizeof(*v), alloc_order);
	return v;
}

static int event_order(const void *x, const void *y)
{
	const struct gpusim_event *a = *(const struct gpusim_event *const *)x;
	const struct gpusim_event *b = *(const struct gpusim_event *const *)y;
	if (a->time_ns != b->time_ns)
		return a->time_ns < b->time_ns ? -1 : 1;
	return a < b ? -1 : a > b; /* the stored order among equal times: stable */
}

/* Oldest first, as stored when the snapshot keeps its contract; sorted (stably)
 * when it does not, so the report never runs backwards in time. */
static const struct gpusim_event **events_by_time(const struct gpusim_snapshot *s)
{
	const struct gpusim_event **v = malloc(s->nevents ? (size_t)s->nevents * sizeof(*v) : 1);
	if (!v)
		return NULL;
	for (uint32_t i = 0; i < s->nevents; i++)
		v[i] = &s->events[i];
	if (s->nevents > 1)
		qsort(v, s->nevents, sizeof(*v), event_order);
	return v;
}

static uint64_t populated_bytes(const struct gpusim_snapshot *s)
{
	uint64_t total = 0;
	for (uint64_t i = 0; i < s->nranges; i++)
		total += s->ranges[i].size;
	return total;
}

static bool is_sys_addr(uint64_t addr)
{
	return addr >= GPUSIM_SYSMEM_BUS_BASE;
}

/* The page number of a bus address in its own space: VRAM page, or system pfn. */
static uint64_t space_page(uint64_t addr)
{
	return (is_sys_addr(addr) ? addr - (uint64_t)GPUSIM_SYSMEM_BUS_BASE : addr) >> HW_PAGE_SHIFT;
}

/* A policy name fills its array when it is 16 bytes long: no NUL then. */
static void policy_of(const struct gpusim_snapshot *s, char out[sizeof(s->cfg.policy) + 1])
{
	memcpy(out, s->cfg.policy, sizeof(s->cfg.policy));
	out[sizeof(s->cfg.policy)] = '\0';
}

/* ---- text ---------------------------------------------------------------------- */

/* A name from the file as a person sees it: bytes that are not printable ASCII
 * become '?', so a hostile name cannot drive the terminal. */
static const char *printable(const char *src, size_t n, char *buf, size_t bufn)
{
	size_t len = strnlen(src, n), k = 0;
	for (size_t i = 0; i < len && k + 1 < bufn; i++) {
		unsigned char c = (unsigned char)src[i];
		buf[k++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	buf[k] = '\0';
	return buf;
}

static void text_config(FILE *f, const struct gpusim_snapshot *s)
{
	const struct hw_config *c = &s->cfg.hw;
	char b[32], policy[sizeof(s->cfg.policy) + 1], pb[sizeof(policy)];
	policy_of(s, policy);
	fprintf(f, "configuration\n");
	fprintf(f, "  vram         %s\n", fmt_size(b, sizeof(b), c->vram));
	fprintf(f, "  visible      %s\n", fmt_size(b, sizeof(b), c->visible));
	fprintf(f, "  gart         %s\n", fmt_size(b, sizeof(b), c->gart));
	fprintf(f, "  gart_base    0x%" PRIx64 "\n", c->gart_base);
	fprintf(f, "  sysmem       %s\n", fmt_size(b, sizeof(b), c->sysmem));
	fprintf(f, "  vram_bw      %" PRIu64 " bytes/s\n", c->vram_bandwidth);
	fprintf(f, "  pcie_bw      %" PRIu64 " bytes/s\n", c->pcie_bandwidth);
	fprintf(f, "  packet_ns    %" PRIu32 "\n", c->packet_overhead_ns);
	fprintf(f, "  tlb          %" PRIu32 " entries\n", c->tlb_entries);
	fprintf(f, "  va_bits      %" PRIu32 "\n", c->va_bits);
	fprintf(f, "  vm_tlb       %" PRIu32 " entries per engine\n", c->vm_tlb_entries);
	fprintf(f, "  policy       %s\n", printable(policy, sizeof(policy), pb, sizeof(pb)));
	fprintf(f, "  seed         %" PRIu64 "\n", s->cfg.seed);
	if (s->cfg.vram_pools > 1)
		fprintf(f, "  pools        %" PRIu32 "\n", s->cfg.vram_pools);
	if (s->cfg.ring_faults == GPUSIM_RING_FAULTS_STOP)
		fprintf(f, "  ring faults  stop\n");
}

static void text_stats(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_stats *st = &s->stats;
	char a[32], b[32], c[32];
	fprintf(f, "\nstatistics\n");
	fprintf(f, "  allocations      %" PRIu64 "\n", st->allocations);
	fprintf(f, "  submits          %" PRIu64 "\n", st->submits);
	fprintf(f, "  evictions        %" PRIu64 "\n", st->evictions);
	fprintf(f, "  page_ins         %" PRIu64 "\n", st->page_ins);
	fprintf(f, "  moves            %" PRIu64 "\n", st->moves);
	fprintf(f, "  demotions        %" PRIu64 "\n", st->demotions);
	fprintf(f, "  promotions       %" PRIu64 "\n", st->promotions);
	fprintf(f, "  bytes_in         %s\n", fmt_size(a, sizeof(a), st->bytes_in));
	fprintf(f, "  bytes_out        %s\n", fmt_size(a, sizeof(a), st->bytes_out));
	fprintf(f, "  faults           %" PRIu64 "\n", st->faults);
	fprintf(f, "  usage.local      %s of budget.local %s\n", fmt_size(a, sizeof(a), st->usage_local),
		fmt_size(b, sizeof(b), st->budget_local));
	fprintf(f, "  usage.nonlocal   %s of budget.nonlocal %s\n", fmt_size(a, sizeof(a), st->usage_nonlocal),
		fmt_size(b, sizeof(b), st->budget_nonlocal));
	fprintf(f, "  commit_pages     %" PRIu64 " (%s)\n", st->commit_pages,
		st->commit_pages <= UINT64_MAX >> HW_PAGE_SHIFT
			? fmt_size(a, sizeof(a), st->commit_pages << HW_PAGE_SHIFT)
			: "too many");
	fprintf(f, "  %-10s %10s %10s %13s %12s %14s\n", "segment", "size", "used", "largest_free", "allocations",
		"fragmentation");
	for (uint32_t id = GPUSIM_SEG_VISIBLE; id <= GPUSIM_SEG_MAX; id++) {
		const struct gpusim_segment_stats *g = &st->seg[id];
		if (id > GPUSIM_SEG_COUNT && !g->size && !g->used && !g->allocations)
			continue; /* sys is no segment; the second pool only with pools=2 */
		if (!g->size && !g->used && !g->allocations) {
			fprintf(f, "  %-10s %10s\n", gpusim_segment_name(id), "absent");
			continue;
		}
		char frag[32];
		if (isfinite(g->fragmentation))
			snprintf(frag, sizeof(frag), "%.2f", g->fragmentation);
		else
			snprintf(frag, sizeof(frag), "-");
		fprintf(f, "  %-10s %10s %10s %13s %12" PRIu64 " %14s\n", gpusim_segment_name(id),
			fmt_size(a, sizeof(a), g->size), fmt_size(b, sizeof(b), g->used),
			fmt_size(c, sizeof(c), g->largest_free), g->allocations, frag);
	}
}

static void text_registers(FILE *f, const struct gpusim_snapshot *s)
{
	fprintf(f, "\nregisters (%" PRIu32 ")\n", s->nregs);
	for (uint32_t i = 0; i < s->nregs; i++) {
		const char *name = hw_reg_name(s->regs[i].offset);
		fprintf(f, "  0x%03" PRIx32 "  %-16s 0x%08" PRIx32 "\n", s->regs[i].offset, name ? name : "(unknown)",
			s->regs[i].value);
	}
}

/* "RW", "R-", "-W", "--", with any bits beyond V/R/W in hex. */
static const char *gart_flags(uint64_t bits, char *buf, size_t n)
{
	uint64_t other = bits & ~(HW_GART_VALID | HW_GART_READ | HW_GART_WRITE);
	buf[0] = '\0';
	size_t len = append(buf, n, 0, "%c%c", bits & HW_GART_READ ? 'R' : '-', bits & HW_GART_WRITE ? 'W' : '-');
	if (!(bits & HW_GART_VALID))
		len = append(buf, n, len, " not-valid");
	if (other)
		append(buf, n, len, " bits 0x%" PRIx64, other);
	return buf;
}

/* "0x10..0x1f" (or "0x1f..0x10" for a descending run), "0x10" alone for one page. */
static const char *page_span(uint64_t first, uint64_t last, char *buf, size_t n)
{
	if (first == last)
		snprintf(buf, n, "0x%" PRIx64, first);
	else
		snprintf(buf, n, "0x%" PRIx64 "..0x%" PRIx64, first, last);
	return buf;
}

static void text_gart(FILE *f, const struct gpusim_snapshot *s)
{
	uint64_t pos = 0, nruns = 0;
	struct inspect_gart_run run;
	while (inspect_next_gart_run(s, &pos, &run))
		nruns++;
	fprintf(f, "\nGART mappings: %" PRIu64 " valid %s in %" PRIu64 " %s (aperture at GPU 0x%" PRIx64 ")\n",
		s->ngart, s->ngart == 1 ? "entry" : "entries", nruns, nruns == 1 ? "run" : "runs",
		s->cfg.hw.gart_base);
	pos = 0;
	while (inspect_next_gart_run(s, &pos, &run)) {
		char pages[64], pfns[64], fl[48], sz[32];
		const char *bytes = run.pages <= UINT64_MAX >> HW_PAGE_SHIFT
					    ? fmt_size(sz, sizeof(sz), run.pages << HW_PAGE_SHIFT)
					    : "-";
		fprintf(f, "  aperture %-5s %-16s -> system %-5s %-16s %-3s %" PRIu64 " %s (%s)%s\n",
			run.pages == 1 ? "page" : "pages", page_span(run.page, run.page + run.pages - 1, pages, sizeof(pages)),
			run.pages == 1 ? "page" : "pages",
			page_span(run.pfn, inspect_gart_run_last_pfn(&run), pfns, sizeof(pfns)),
			gart_flags(run.bits, fl, sizeof(fl)), run.pages, run.pages == 1 ? "page" : "pages", bytes,
			run.descending ? ", descending" : "");
	}
}

static int text_allocs(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_snapshot_alloc **v = allocs_by_place(s);
	if (!v)
		return -1;
	fprintf(f, "\nallocations (%" PRIu64 "), by segment and offset\n", s->nallocs);
	if (s->nallocs)
		fprintf(f, "  %-10s  %-16s  %-10s  %8s  %-9s  %12s  %16s  %-10s  %-18s  %5s  %8s\n", "handle", "name",
			"device", "size", "segment", "offset", "gpu_address", "priority", "flags", "locks",
			"resident");
	for (uint64_t i = 0; i < s->nallocs; i++) {
		const struct gpusim_snapshot_alloc *a = v[i];
		char name[GPUSIM_SNAPSHOT_NAME_MAX + 1], sz[32], sb[32], off[32], gpu[32], pb[16], fl[64];
		bool placed = a->segment >= GPUSIM_SEG_VISIBLE && a->segment <= GPUSIM_SEG_MAX &&
			      a->segment != GPUSIM_SEG_SYS;
		printable(a->name, sizeof(a->name), name, sizeof(name));
		if (placed) {
			snprintf(off, sizeof(off), "0x%" PRIx64, a->offset);
			snprintf(gpu, sizeof(gpu), "0x%" PRIx64, a->gpu_address);
		} else {
			snprintf(off, sizeof(off), "-");
			snprintf(gpu, sizeof(gpu), "-");
		}
		const char *prio = priority_name(a->priority);
		if (!prio) {
			snprintf(pb, sizeof(pb), "0x%08" PRIx32, a->priority);
			prio = pb;
		}
		fprintf(f,
			"  0x%08" PRIx32 "  %-16s  0x%08" PRIx32 "  %8s  %-9s  %12s  %16s  %-10s  %-18s  %5" PRIu32
			"  %8" PRIu32 "\n",
			a->handle, name[0] ? name : "-", a->device, fmt_size(sz, sizeof(sz), a->size),
			seg_name(a->segment, sb, sizeof(sb)), off, gpu, prio, flags_text(a->flags, fl, sizeof(fl)),
			a->lock_count, a->residency_count);
	}
	free(v);
	return 0;
}

static void text_ranges(FILE *f, const struct gpusim_snapshot *s)
{
	char sz[32];
	fprintf(f, "\nmemory ranges (%" PRIu64 "), %s populated\n", s->nranges,
		fmt_size(sz, sizeof(sz), populated_bytes(s)));
	for (uint64_t i = 0; i < s->nranges; i++) {
		const struct gpusim_snapshot_range *r = &s->ranges[i];
		if (is_sys_addr(r->addr))
			fprintf(f, "  sys   page 0x%-12" PRIx64 " (bus 0x%" PRIx64 ")  %s\n",
				space_page(r->addr), r->addr,
				fmt_size(sz, sizeof(sz), r->size));
		else
			fprintf(f, "  vram  0x%-17" PRIx64 "  %s\n", r->addr, fmt_size(sz, sizeof(sz), r->size));
	}
	if (s->state_size)
		fprintf(f, "  (and %" PRIu64 " bytes of the memory manager's own state)\n", s->state_size);
}

/* " tex0" or "" for an allocation the table no longer holds. */
static const char *event_alloc_name(const struct gpusim_snapshot *s, uint32_t handle, char *buf, size_t n)
{
	const struct gpusim_snapshot_alloc *a = find_alloc(s, handle);
	char name[GPUSIM_SNAPSHOT_NAME_MAX + 1];
	if (!a || !printable(a->name, sizeof(a->name), name, sizeof(name))[0]) {
		buf[0] = '\0';
		return buf;
	}
	snprintf(buf, n, " %s", name);
	return buf;
}

static void text_event(FILE *f, const struct gpusim_snapshot *s, const struct gpusim_event *ev)
{
	char sz[32], nm[GPUSIM_SNAPSHOT_NAME_MAX + 2], s1[24], s2[24], cp[32];
	fprintf(f, "  [%12" PRIu64 " ns] %-14s", ev->time_ns, gpusim_event_name(ev->type));
	if (is_alloc_event(ev->type)) {
		fprintf(f, " 0x%08" PRIx32 "%s (device 0x%08" PRIx32 ", %s)", ev->allocation,
			event_alloc_name(s, ev->allocation, nm, sizeof(nm)), ev->device,
			fmt_size(sz, sizeof(sz), ev->size));
		const char *to = seg_name(ev->segment, s1, sizeof(s1));
		const char *from = seg_name(ev->from_segment, s2, sizeof(s2));
		switch (ev->type) {
		case GPUSIM_EV_CREATE:
		case GPUSIM_EV_PLACE:
		case GPUSIM_EV_LOCK:
		case GPUSIM_EV_UNLOCK:
			if (ev->segment == GPUSIM_SEG_SYS || ev->segment == GPUSIM_SEG_NONE)
				fprintf(f, " in %s", to);
			else
				fprintf(f, " in %s at 0x%" PRIx64, to, ev->offset);
			break;
		case GPUSIM_EV_EVICT:
			fprintf(f, " %s at 0x%" PRIx64 " -> sys, copied %s", from, ev->offset,
				fmt_size(cp, sizeof(cp), ev->value));
			break;
		case GPUSIM_EV_PAGE_IN:
		case GPUSIM_EV_MOVE:
		case GPUSIM_EV_DEMOTE:
		case GPUSIM_EV_PROMOTE:
			fprintf(f, " %s -> %s at 0x%" PRIx64 ", copied %s", from, to, ev->offset,
				fmt_size(cp, sizeof(cp), ev->value));
			break;
		case GPUSIM_EV_USE:
			fprintf(f, " in %s, fence %" PRIu64, to, ev->value);
			break;
		case GPUSIM_EV_DESTROY:
			fprintf(f, " from %s", from);
			break;
		}
		fprintf(f, ", cause %s\n", gpusim_cause_name(ev->cause));
		return;
	}
	switch (ev->type) {
	case GPUSIM_EV_SUBMIT:
		fprintf(f, " device 0x%08" PRIx32 ", fence %" PRIu64 "\n", ev->device, ev->value);
		break;
	case GPUSIM_EV_FENCE:
		fprintf(f, " fences up to %" PRIu64 " completed\n", ev->value);
		break;
	case GPUSIM_EV_FAULT:
		fprintf(f, " GPU address 0x%" PRIx64 ", cause %s\n", ev->offset, hw_fault_name(ev->cause));
		break;
	case GPUSIM_EV_BUDGET:
		fprintf(f, " %s usage %s, budget %s\n", ev->offset ? "nonlocal" : "local",
			fmt_size(sz, sizeof(sz), ev->value), fmt_size(cp, sizeof(cp), ev->size));
		break;
	case GPUSIM_EV_DEVICE_REMOVED:
		fprintf(f, " cause %s\n", gpusim_cause_name(ev->cause));
		break;
	default:
		fprintf(f, " type %" PRIu32 "\n", ev->type);
		break;
	}
}

static int text_events(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_event **v = events_by_time(s);
	if (!v)
		return -1;
	fprintf(f, "\nrecent events (%" PRIu32 "), oldest first\n", s->nevents);
	for (uint32_t i = 0; i < s->nevents; i++)
		text_event(f, s, v[i]);
	free(v);
	return 0;
}

int inspect_text(FILE *f, const struct gpusim_snapshot *s)
{
	fprintf(f, "snapshot version %" PRIu32 ", at %" PRIu64 " ns simulated (%.6f ms)\n\n", s->version, s->time_ns,
		(double)s->time_ns / 1e6);
	text_config(f, s);
	text_stats(f, s);
	text_registers(f, s);
	inspect_devstate_text(f, s);
	text_gart(f, s);
	if (text_allocs(f, s))
		return -1;
	text_ranges(f, s);
	if (text_events(f, s))
		return -1;
	if (ferror(f)) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

/* ---- JSON ----------------------------------------------------------------------- */

static const char *json_bool(bool b)
{
	return b ? "true" : "false";
}

static void json_seg(FILE *f, uint32_t seg)
{
	char b[24];
	jw_string(f, seg_name(seg, b, sizeof(b)));
}

static void json_config(FILE *f, const struct gpusim_snapshot *s)
{
	const struct hw_config *c = &s->cfg.hw;
	fprintf(f,
		"  \"config\": {\"vram\": %" PRIu64 ", \"visible\": %" PRIu64 ", \"gart\": %" PRIu64
		", \"gart_base\": %" PRIu64 ", \"sysmem\": %" PRIu64 ",\n    \"vram_bw\": %" PRIu64
		", \"pcie_bw\": %" PRIu64 ", \"packet_ns\": %" PRIu32 ", \"tlb\": %" PRIu32 ", \"policy\": ",
		c->vram, c->visible, c->gart, c->gart_base, c->sysmem, c->vram_bandwidth, c->pcie_bandwidth,
		c->packet_overhead_ns, c->tlb_entries);
	jw_string_n(f, s->cfg.policy, sizeof(s->cfg.policy));
	fprintf(f, ", \"seed\": %" PRIu64 "},\n", s->cfg.seed);
}

static void json_stats(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_stats *st = &s->stats;
	fprintf(f,
		"  \"stats\": {\"time_ns\": %" PRIu64 ", \"allocations\": %" PRIu64 ", \"submits\": %" PRIu64
		", \"evictions\": %" PRIu64 ", \"page_ins\": %" PRIu64 ", \"moves\": %" PRIu64
		",\n    \"bytes_in\": %" PRIu64 ", \"bytes_out\": %" PRIu64 ", \"faults\": %" PRIu64
		", \"usage_local\": %" PRIu64 ", \"budget_local\": %" PRIu64 ", \"usage_nonlocal\": %" PRIu64
		",\n    \"budget_nonlocal\": %" PRIu64 ", \"commit_pages\": %" PRIu64 ", \"demotions\": %" PRIu64
		", \"promotions\": %" PRIu64 ", \"segments\": [",
		st->time_ns, st->allocations, st->submits, st->evictions, st->page_ins, st->moves, st->bytes_in,
		st->bytes_out, st->faults, st->usage_local, st->budget_local, st->usage_nonlocal, st->budget_nonlocal,
		st->commit_pages, st->demotions, st->promotions);
	for (uint32_t id = GPUSIM_SEG_VISIBLE; id <= GPUSIM_SEG_MAX; id++) {
		const struct gpusim_segment_stats *g = &st->seg[id];
		if (id > GPUSIM_SEG_COUNT && !g->size)
			continue; /* sys is no segment; the second pool only with pools=2 */
		fprintf(f,
			"%s\n      {\"id\": %" PRIu32 ", \"name\": \"%s\", \"size\": %" PRIu64 ", \"used\": %" PRIu64
			", \"largest_free\": %" PRIu64 ", \"allocations\": %" PRIu64 ", \"fragmentation\": ",
			id > GPUSIM_SEG_VISIBLE ? "," : "", id, gpusim_segment_name(id), g->size, g->used,
			g->largest_free, g->allocations);
		/* JSON has no NaN or infinity. */
		if (isfinite(g->fragmentation))
			fprintf(f, "%.6g}", g->fragmentation);
		else
			fputs("null}", f);
	}
	fputs("\n    ]},\n", f);
}

static void json_registers(FILE *f, const struct gpusim_snapshot *s)
{
	fputs("  \"registers\": [", f);
	for (uint32_t i = 0; i < s->nregs; i++) {
		const char *name = hw_reg_name(s->regs[i].offset);
		fprintf(f, "%s\n    {\"offset\": %" PRIu32 ", \"name\": ", i ? "," : "", s->regs[i].offset);
		if (name)
			jw_string(f, name);
		else
			fputs("null", f);
		fprintf(f, ", \"value\": %" PRIu32 "}", s->regs[i].value);
	}
	fputs(s->nregs ? "\n  ],\n" : "],\n", f);
}

static void json_gart(FILE *f, const struct gpusim_snapshot *s)
{
	uint64_t pos = 0, n = 0;
	struct inspect_gart_run run;
	fprintf(f, "  \"gart\": {\"entries\": %" PRIu64 ", \"runs\": [", s->ngart);
	while (inspect_next_gart_run(s, &pos, &run)) {
		fprintf(f,
			"%s\n    {\"page\": %" PRIu64 ", \"pfn\": %" PRIu64 ", \"last_pfn\": %" PRIu64
			", \"descending\": %s, \"pages\": %" PRIu64 ",\n     \"gpu_address\": %" PRIu64
			", \"valid\": %s, \"read\": %s, \"write\": %s, \"bits\": %" PRIu64 "}",
			n++ ? "," : "", run.page, run.pfn, inspect_gart_run_last_pfn(&run), json_bool(run.descending),
			run.pages,
			s->cfg.hw.gart_base + (run.page << HW_PAGE_SHIFT), json_bool(run.bits & HW_GART_VALID),
			json_bool(run.bits & HW_GART_READ), json_bool(run.bits & HW_GART_WRITE), run.bits);
	}
	fputs(n ? "\n  ]},\n" : "]},\n", f);
}

static void json_flags(FILE *f, uint32_t flags)
{
	bool first = true;
	fputc('[', f);
	for (size_t i = 0; i < NFLAGS; i++)
		if (flags & (1u << i)) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", flag_names[i]);
			first = false;
		}
	fputc(']', f);
}

static int json_allocs(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_snapshot_alloc **v = allocs_by_place(s);
	if (!v)
		return -1;
	fputs("  \"allocations\": [", f);
	for (uint64_t i = 0; i < s->nallocs; i++) {
		const struct gpusim_snapshot_alloc *a = v[i];
		const char *prio = priority_name(a->priority);
		fprintf(f, "%s\n    {\"handle\": \"0x%08" PRIx32 "\", \"name\": ", i ? "," : "", a->handle);
		jw_string_n(f, a->name, sizeof(a->name));
		fprintf(f, ", \"device\": \"0x%08" PRIx32 "\", \"size\": %" PRIu64 ", \"segment\": ", a->device,
			a->size);
		json_seg(f, a->segment);
		fprintf(f, ", \"offset\": %" PRIu64 ",\n      \"gpu_address\": %" PRIu64 ", \"priority\": %" PRIu32
			   ", \"priority_name\": ",
			a->offset, a->gpu_address, a->priority);
		if (prio)
			fprintf(f, "\"%s\"", prio);
		else
			fputs("null", f);
		fprintf(f, ", \"flags\": %" PRIu32 ", \"flag_names\": ", a->flags);
		json_flags(f, a->flags);
		fprintf(f, ", \"lock_count\": %" PRIu32 ", \"residency_count\": %" PRIu32 "}", a->lock_count,
			a->residency_count);
	}
	fputs(s->nallocs ? "\n  ],\n" : "],\n", f);
	free(v);
	return 0;
}

static void json_ranges(FILE *f, const struct gpusim_snapshot *s)
{
	fprintf(f, "  \"populated_bytes\": %" PRIu64 ",\n  \"ranges\": [", populated_bytes(s));
	for (uint64_t i = 0; i < s->nranges; i++) {
		const struct gpusim_snapshot_range *r = &s->ranges[i];
		bool sys = is_sys_addr(r->addr);
		fprintf(f, "%s\n    {\"space\": \"%s\", \"address\": %" PRIu64 ", \"page\": %" PRIu64
			   ", \"size\": %" PRIu64 "}",
			i ? "," : "", sys ? "sys" : "vram", r->addr, space_page(r->addr), r->size);
	}
	fputs(s->nranges ? "\n  ],\n" : "],\n", f);
}

static int json_events(FILE *f, const struct gpusim_snapshot *s)
{
	const struct gpusim_event **v = events_by_time(s);
	if (!v)
		return -1;
	fputs("  \"events\": [", f);
	for (uint32_t i = 0; i < s->nevents; i++) {
		const struct gpusim_event *ev = v[i];
		fprintf(f, "%s\n    {\"time_ns\": %" PRIu64 ", \"event\": \"%s\", \"cause\": \"%s\", ", i ? "," : "",
			ev->time_ns, gpusim_event_name(ev->type),
			ev->type == GPUSIM_EV_FAULT ? hw_fault_name(ev->cause) : gpusim_cause_name(ev->cause));
		fprintf(f, "\"device\": \"0x%08" PRIx32 "\", \"allocation\": \"0x%08" PRIx32 "\", \"name\": ",
			ev->device, ev->allocation);
		const struct gpusim_snapshot_alloc *a = is_alloc_event(ev->type) ? find_alloc(s, ev->allocation) : NULL;
		if (a)
			jw_string_n(f, a->name, sizeof(a->name));
		else
			fputs("null", f);
		fputs(",\n      \"segment\": ", f);
		json_seg(f, ev->segment);
		fputs(", \"from\": ", f);
		json_seg(f, ev->from_segment);
		fprintf(f, ", \"offset\": %" PRIu64 ", \"size\": %" PRIu64 ", \"value\": %" PRIu64
			   ", \"priority\": %" PRIu32 ", \"preferred\": ",
			ev->offset, ev->size, ev->value, ev->priority);
		json_seg(f, ev->preferred);
		fputc('}', f);
	}
	fputs(s->nevents ? "\n  ]\n" : "]\n", f);
	free(v);
	return 0;
}

int inspect_json(FILE *f, const struct gpusim_snapshot *s)
{
	fprintf(f, "{\n  \"format\": \"gpusim-inspect\", \"version\": 1, \"snapshot_version\": %" PRIu32
		   ",\n  \"time_ns\": %" PRIu64 ",\n",
		s->version, s->time_ns);
	json_config(f, s);
	json_stats(f, s);
	json_registers(f, s);
	inspect_devstate_json(f, s);
	json_gart(f, s);
	if (json_allocs(f, s))
		return -1;
	json_ranges(f, s);
	fprintf(f, "  \"state_size\": %" PRIu64 ",\n", s->state_size);
	if (json_events(f, s))
		return -1;
	fputs("}\n", f);
	if (ferror(f)) {
		errno = errno ? errno : EIO;
		return -1;
	}
	return 0;
}
