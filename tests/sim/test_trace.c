/*
 * Trace files and their exports: the writer and reader round trip, the reader's
 * errors on damaged files, following a file being written, the recorder libkmt
 * attaches to an adapter, the runner's observer hooks, and the Perfetto JSON.
 */
#include <config.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gpusim/trace.h>

#include "sim/perfetto.h"
#include "sim/scenario/scenario.h"
#include "tests/sim/sim_suites.h"

/* Where the records start: the 16-byte header, then the adapter record. */
#define FIRST_RECORD (16 + 8 + 112)
#define EVENT_RECORD (8 + 64)

static char dir[64];
static char path[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gpusim-trace-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.trace", dir);
}

static void teardown(void)
{
	gpusim_reset();
	unlink(path);
	rmdir(dir);
}

static struct gpusim_trace_adapter sample_adapter(void)
{
	struct gpusim_trace_adapter ad;
	memset(&ad, 0, sizeof(ad));
	ad.vram = 32u << 20;
	ad.visible = 8u << 20;
	ad.gart = 16u << 20;
	ad.sysmem = 256u << 20;
	ad.seg_size[1] = 7u << 20;
	ad.seg_size[2] = 24u << 20;
	ad.seg_size[3] = 15u << 20;
	ad.seg_size[5] = 5u << 20; /* the second pool: its own slot since version 2 */
	ad.budget_local = 31u << 20;
	ad.budget_nonlocal = 15u << 20;
	snprintf(ad.policy, sizeof(ad.policy), "lru");
	return ad;
}

/* Every field different, so a swapped field shows. */
static struct gpusim_event sample_event(uint32_t i)
{
	struct gpusim_event ev = {
		.type = GPUSIM_EV_MOVE, .cause = GPUSIM_CAUSE_PRESSURE, .time_ns = 0x1122334455667788ull + i,
		.device = 0x40000041, .allocation = 0x40000081 + i, .segment = GPUSIM_SEG_GART,
		.from_segment = GPUSIM_SEG_VISIBLE, .offset = 0xabcdef012345ull, .size = 0x100000, .value = 0xfeedbeefull,
		.priority = 0x78000000, .preferred = GPUSIM_SEG_INVISIBLE,
	};
	return ev;
}

static void write_sample(void)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	struct gpusim_event ev = sample_event(0);
	ck_assert_int_eq(gpusim_trace_event(w, &ev), 0);
	ck_assert_int_eq(gpusim_trace_name(w, 0x40000081, 0x40000041, "texture"), 0);
	ck_assert_int_eq(gpusim_trace_close(w), 0);
}

static size_t file_bytes(unsigned char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void put_bytes(const unsigned char *buf, size_t n, const char *mode)
{
	FILE *f = fopen(path, mode);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

/* Open `path`, read to the first error, and return the message (static). */
static const char *read_error(int *opened)
{
	static char err[512];
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_item item;
	err[0] = '\0';
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	*opened = r != NULL;
	if (!r)
		return err;
	int rc;
	while ((rc = gpusim_trace_next(r, false, &item, err, sizeof(err))) == 1)
		;
	ck_assert_int_eq(rc, -1);
	/* The error stays: the reader does not skip ahead past damage. */
	char again[512];
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, again, sizeof(again)), -1);
	ck_assert_str_eq(again, err);
	gpusim_trace_close_reader(r);
	return err;
}

static void ck_error(const char *want_suffix, bool fails_at_open)
{
	int opened;
	const char *err = read_error(&opened);
	char want[512];
	snprintf(want, sizeof(want), "%s: %s", path, want_suffix);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(opened, !fails_at_open);
}

/* ---- writer and reader ------------------------------------------------------------- */

START_TEST(test_round_trip_every_field)
{
	write_sample();
	char err[256] = "";
	struct gpusim_trace_adapter ad, want = sample_adapter();
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_mem_eq(&ad, &want, sizeof(ad));
	struct gpusim_trace_item item;
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_uint_eq(item.type, GPUSIM_TRACE_EVENT);
	struct gpusim_event ev = sample_event(0);
	ck_assert_uint_eq(item.event.type, ev.type);
	ck_assert_uint_eq(item.event.cause, ev.cause);
	ck_assert_uint_eq(item.event.time_ns, ev.time_ns);
	ck_assert_uint_eq(item.event.device, ev.device);
	ck_assert_uint_eq(item.event.allocation, ev.allocation);
	ck_assert_uint_eq(item.event.segment, ev.segment);
	ck_assert_uint_eq(item.event.from_segment, ev.from_segment);
	ck_assert_uint_eq(item.event.offset, ev.offset);
	ck_assert_uint_eq(item.event.size, ev.size);
	ck_assert_uint_eq(item.event.value, ev.value);
	ck_assert_uint_eq(item.event.priority, ev.priority);
	ck_assert_uint_eq(item.event.preferred, ev.preferred);
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_uint_eq(item.type, GPUSIM_TRACE_NAME);
	ck_assert_uint_eq(item.allocation, 0x40000081);
	ck_assert_uint_eq(item.device, 0x40000041);
	ck_assert_str_eq(item.name, "texture");
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 0);
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	gpusim_trace_close_reader(r);
}
END_TEST

/* Version 2 on disk: the header says so and the adapter record has a slot for
 * every id up to GPUSIM_SEG_MAX, the second pool's size at its id. */
START_TEST(test_version_2_layout)
{
	write_sample();
	unsigned char buf[1024];
	file_bytes(buf, sizeof(buf));
	ck_assert_uint_eq(buf[8], 2);
	ck_assert_uint_eq(GPUSIM_TRACE_VERSION, 2);
	ck_assert_uint_eq(buf[16], GPUSIM_TRACE_ADAPTER);
	ck_assert_uint_eq(buf[16 + 2] | buf[16 + 3] << 8, 112);
	/* vram, visible, gart, sysmem, then seg_size[0..5]: id 5 at u64 index 9. */
	const unsigned char *vram2 = buf + 16 + 8 + 9 * 8;
	uint64_t v = 0;
	for (int k = 7; k >= 0; k--)
		v = v << 8 | vram2[k];
	ck_assert_uint_eq(v, 5u << 20);
}
END_TEST

/* A file from the source tree (tests/sim/data). */
static void fixture_path(char *out, size_t n, const char *name)
{
	const char *src = getenv("srcdir");
	snprintf(out, n, "%s/tests/sim/data/%s", src ? src : ".", name);
}

/* tests/sim/data/v1-two-pools.trace is what the version-1 writer recorded of
 * v1-two-pools.gsim (a pools=2 adapter): it still reads, its adapter record with
 * no size for the second pool, its events naming segment 5 as they were. */
START_TEST(test_read_version_1)
{
	char v1[1024], err[512] = "";
	fixture_path(v1, sizeof(v1), "v1-two-pools.trace");
	struct gpusim_trace_adapter ad;
	memset(&ad, 0xa5, sizeof(ad));
	struct gpusim_trace_reader *r = gpusim_trace_open(v1, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(ad.vram, 12u << 20);
	ck_assert_uint_eq(ad.visible, 4u << 20);
	ck_assert_uint_eq(ad.seg_size[0], 0);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_VISIBLE], 3846144);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_INVISIBLE], 4u << 20);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_GART], 7u << 20);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_SYS], 0);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_VRAM2], 0); /* version 1 has no slot */
	ck_assert_uint_eq(ad.budget_local, 12234752);
	ck_assert_uint_eq(ad.budget_nonlocal, 7u << 20);
	ck_assert_str_eq(ad.policy, "arc");
	struct gpusim_trace_item item;
	size_t events = 0, names = 0, in_vram2 = 0, demotions = 0;
	int rc;
	while ((rc = gpusim_trace_next(r, false, &item, err, sizeof(err))) == 1) {
		if (item.type == GPUSIM_TRACE_NAME) {
			names++;
			continue;
		}
		events++;
		in_vram2 += item.event.segment == GPUSIM_SEG_VRAM2;
		if (item.event.type == GPUSIM_EV_DEMOTE) {
			ck_assert_uint_eq(item.event.from_segment, GPUSIM_SEG_INVISIBLE);
			ck_assert_uint_eq(item.event.segment, GPUSIM_SEG_VRAM2);
			demotions++;
		}
	}
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(events, 13);
	ck_assert_uint_eq(names, 6);
	ck_assert_uint_eq(in_vram2, 3); /* t4's PLACE and CREATE, t0's DEMOTE */
	ck_assert_uint_eq(demotions, 1);
	gpusim_trace_close_reader(r);
}
END_TEST

START_TEST(test_names)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	char longest[256], too_long[400];
	memset(longest, 'x', 255);
	longest[255] = '\0';
	memset(too_long, 'y', 399);
	too_long[399] = '\0';
	ck_assert_int_eq(gpusim_trace_name(w, 1, 2, "a"), 0);
	ck_assert_int_eq(gpusim_trace_name(w, 3, 4, longest), 0);
	ck_assert_int_eq(gpusim_trace_name(w, 5, 6, too_long), 0); /* kept: its first 255 bytes */
	ck_assert_int_eq(gpusim_trace_name(w, 7, 8, "t\xc3\xa9xture \"q\""), 0);
	errno = 0;
	ck_assert_int_eq(gpusim_trace_name(w, 9, 9, ""), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(gpusim_trace_close(w), 0);

	char err[256];
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	struct gpusim_trace_item item;
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_str_eq(item.name, "a");
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_str_eq(item.name, longest);
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_uint_eq(strlen(item.name), 255);
	ck_assert_uint_eq(item.allocation, 5);
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
	ck_assert_str_eq(item.name, "t\xc3\xa9xture \"q\"");
	ck_assert_uint_eq(item.device, 8);
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 0);
	gpusim_trace_close_reader(r);
}
END_TEST

/* The writer's CRC is checked by the reader with zlib's crc32: every payload
 * length a name record can have, and bytes of every value. */
START_TEST(test_crc_every_length)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	char name[256];
	for (int len = 1; len <= 255; len++) {
		for (int k = 0; k < len; k++)
			name[k] = (char)(1 + (len * 37 + k * 101) % 255); /* 1..255: no NUL inside */
		name[len] = '\0';
		ck_assert_int_eq(gpusim_trace_name(w, (uint32_t)len, 0, name), 0);
	}
	ck_assert_int_eq(gpusim_trace_close(w), 0);
	char err[256];
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	struct gpusim_trace_item item;
	for (int len = 1; len <= 255; len++) {
		ck_assert_msg(gpusim_trace_next(r, false, &item, err, sizeof(err)) == 1, "%s", err);
		ck_assert_uint_eq(strlen(item.name), (size_t)len);
		ck_assert_uint_eq(item.allocation, (uint32_t)len);
	}
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 0);
	gpusim_trace_close_reader(r);
}
END_TEST

/* More than the writer's 64 KiB buffer and the reader's: records cross both. */
START_TEST(test_many_records_in_order)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	const uint32_t n = 5000;
	for (uint32_t i = 0; i < n; i++) {
		struct gpusim_event ev = sample_event(i);
		ck_assert_int_eq(gpusim_trace_event(w, &ev), 0);
		if (i % 7 == 0) {
			char name[32];
			snprintf(name, sizeof(name), "alloc%u", i);
			ck_assert_int_eq(gpusim_trace_name(w, i, 0, name), 0);
		}
	}
	ck_assert_int_eq(gpusim_trace_close(w), 0);
	char err[256];
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	struct gpusim_trace_item item;
	for (uint32_t i = 0; i < n; i++) {
		ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
		ck_assert_uint_eq(item.type, GPUSIM_TRACE_EVENT);
		ck_assert_uint_eq(item.event.allocation, 0x40000081 + i);
		ck_assert_uint_eq(item.event.time_ns, 0x1122334455667788ull + i);
		if (i % 7 == 0) {
			char name[32];
			snprintf(name, sizeof(name), "alloc%u", i);
			ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 1);
			ck_assert_str_eq(item.name, name);
		}
	}
	ck_assert_int_eq(gpusim_trace_next(r, false, &item, err, sizeof(err)), 0);
	gpusim_trace_close_reader(r);
}
END_TEST

static size_t count_records(void)
{
	char err[256];
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_item item;
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	size_t n = 0;
	int rc;
	while ((rc = gpusim_trace_next(r, true, &item, err, sizeof(err))) == 1)
		n++;
	ck_assert_int_eq(rc, 0);
	gpusim_trace_close_reader(r);
	return n;
}

/* A follower sees the header at once, records after a flush, and buffered
 * records once 50 ms have passed at the next record. */
START_TEST(test_flush_policy)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &ad);
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(count_records(), 0);
	struct gpusim_event ev = sample_event(0);
	ck_assert_int_eq(gpusim_trace_event(w, &ev), 0);
	ck_assert_int_eq(gpusim_trace_flush(w), 0);
	ck_assert_uint_eq(count_records(), 1);
	ck_assert_int_eq(gpusim_trace_event(w, &ev), 0);
	struct timespec ts = { 0, 60 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	ck_assert_int_eq(gpusim_trace_event(w, &ev), 0);
	ck_assert_uint_eq(count_records(), 3);
	ck_assert_int_eq(gpusim_trace_close(w), 0);
}
END_TEST

START_TEST(test_follow_partial_record)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	ck_assert_uint_eq(n, FIRST_RECORD + EVENT_RECORD + 8 + 8 + 7);
	/* The writer is in the middle of the event record. */
	size_t cut = FIRST_RECORD + EVENT_RECORD / 2;
	put_bytes(buf, cut, "wb");
	char err[256];
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	struct gpusim_trace_item item;
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	/* Three more bytes: still not a whole record. */
	put_bytes(buf + cut, 3, "ab");
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	/* The rest of the event and half of the name record's header. */
	put_bytes(buf + cut + 3, FIRST_RECORD + EVENT_RECORD + 4 - cut - 3, "ab");
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 1);
	ck_assert_uint_eq(item.type, GPUSIM_TRACE_EVENT);
	ck_assert_uint_eq(item.event.time_ns, sample_event(0).time_ns);
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	put_bytes(buf + FIRST_RECORD + EVENT_RECORD + 4, n - (FIRST_RECORD + EVENT_RECORD + 4), "ab");
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 1);
	ck_assert_str_eq(item.name, "texture");
	ck_assert_int_eq(gpusim_trace_next(r, true, &item, err, sizeof(err)), 0);
	gpusim_trace_close_reader(r);
}
END_TEST

START_TEST(test_truncated_record)
{
	write_sample();
	unsigned char buf[1024];
	file_bytes(buf, sizeof(buf));
	put_bytes(buf, FIRST_RECORD + 40, "wb");
	ck_error("truncated at byte 136 (record of 72 bytes, 40 present)", false);
	put_bytes(buf, FIRST_RECORD + 5, "wb");
	ck_error("truncated at byte 136 (record header of 8 bytes, 5 present)", false);
}
END_TEST

START_TEST(test_truncated_header)
{
	write_sample();
	unsigned char buf[1024];
	file_bytes(buf, sizeof(buf));
	put_bytes(buf, 10, "wb");
	ck_error("truncated at byte 0 (header of 16 bytes, 10 present)", true);
	put_bytes(buf, 0, "wb");
	ck_error("truncated at byte 0 (header of 16 bytes, 0 present)", true);
	/* Header whole, adapter record cut. */
	put_bytes(buf, 16 + 50, "wb");
	ck_error("truncated at byte 16 (record of 120 bytes, 50 present)", true);
	put_bytes(buf, 16, "wb");
	ck_error("truncated at byte 16 (no adapter record)", true);
}
END_TEST

START_TEST(test_bad_magic)
{
	put_bytes((const unsigned char *)"#!/bin/sh\necho not a trace\n", 27, "wb");
	ck_error("not a gpusim trace (bad magic)", true);
	/* Too short to be a header, and not the start of one either. */
	put_bytes((const unsigned char *)"GPUX", 4, "wb");
	ck_error("not a gpusim trace (bad magic)", true);
}
END_TEST

START_TEST(test_wrong_version)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	buf[8] = 3;
	put_bytes(buf, n, "wb");
	ck_error("trace version 3, expected 1 to 2", true);
	buf[8] = 0;
	put_bytes(buf, n, "wb");
	ck_error("trace version 0, expected 1 to 2", true);
	/* A version-2 file that says it is version 1: its adapter record has the
	 * other length, which the reader checks against the version. */
	buf[8] = 1;
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 16 (adapter record of 112 bytes, expected 96)", true);
}
END_TEST

START_TEST(test_crc_mismatch)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	buf[FIRST_RECORD + 8 + 20] ^= 0x04; /* one bit of the allocation handle */
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 136 (CRC mismatch)", false);
	/* In the adapter record, the error comes from open. */
	file_bytes(buf, sizeof(buf));
	buf[FIRST_RECORD + 8 + 20] ^= 0x04;
	buf[16 + 8 + 3] ^= 0x80;
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 16 (CRC mismatch)", true);
}
END_TEST

START_TEST(test_unknown_type)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	buf[FIRST_RECORD] = 9;
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 136 (unknown type 9)", false);
}
END_TEST

START_TEST(test_wrong_length)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	buf[FIRST_RECORD + 2] = 63;
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 136 (event record of 63 bytes, expected 64)", false);
	/* A name record: 9 to 263 bytes (two handles and 1 to 255 of name). */
	file_bytes(buf, sizeof(buf));
	buf[FIRST_RECORD + 2] = 64;
	buf[FIRST_RECORD + EVENT_RECORD + 2] = 8;
	put_bytes(buf, n, "wb");
	ck_error("corrupt record at byte 208 (name record of 8 bytes, expected 9 to 263)", false);
}
END_TEST

START_TEST(test_adapter_record_first_and_once)
{
	write_sample();
	unsigned char buf[1024];
	size_t n = file_bytes(buf, sizeof(buf));
	/* Header, then the event record where the adapter record should be. */
	unsigned char other[1024];
	memcpy(other, buf, 16);
	memcpy(other + 16, buf + FIRST_RECORD, n - FIRST_RECORD);
	put_bytes(other, 16 + n - FIRST_RECORD, "wb");
	ck_error("corrupt record at byte 16 (type event, expected the adapter record first)", true);
	/* Two adapter records. */
	memcpy(other, buf, FIRST_RECORD);
	memcpy(other + FIRST_RECORD, buf + 16, FIRST_RECORD - 16);
	put_bytes(other, 2 * FIRST_RECORD - 16, "wb");
	ck_error("corrupt record at byte 136 (a second adapter record)", false);
}
END_TEST

START_TEST(test_open_missing_file)
{
	char err[256];
	struct gpusim_trace_adapter ad;
	ck_assert_ptr_null(gpusim_trace_open(path, &ad, err, sizeof(err)));
	char want[256];
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* The writer says why it cannot create a file. */
	char bad[256];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/t.trace", dir);
	errno = 0;
	ck_assert_ptr_null(gpusim_trace_create(bad, &ad));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- the recorder and describe ------------------------------------------------------ */

struct events {
	struct gpusim_event v[4096];
	size_t n;
};

static void collect(void *opaque, const struct gpusim_event *ev)
{
	struct events *e = opaque;
	if (e->n < sizeof(e->v) / sizeof(e->v[0]))
		e->v[e->n++] = *ev;
}

static D3DKMT_HANDLE make_alloc(D3DKMT_HANDLE dev, uint64_t size, uint32_t seg)
{
	struct gpusim_alloc_desc desc = { .version = GPUSIM_ALLOC_DESC_VERSION, .size = size,
					  .preferred = { seg }, .allowed = GPUSIM_SEG_BIT(seg) };
	D3DDDI_ALLOCATIONINFO2 info;
	memset(&info, 0, sizeof(info));
	info.pPrivateDriverData = &desc;
	info.PrivateDriverDataSize = sizeof(desc);
	D3DKMT_CREATEALLOCATION ca;
	memset(&ca, 0, sizeof(ca));
	ca.hDevice = dev;
	ca.NumAllocations = 1;
	ca.pAllocationInfo2 = &info;
	ck_assert_int_eq(D3DKMTCreateAllocation2(&ca), STATUS_SUCCESS);
	return info.hAllocation;
}

/* What the recorder writes is what a listener sees, in the same order, and the
 * file is complete once the adapter is gone. */
START_TEST(test_attach_records_the_stream)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=16M,visible=4M,gart=8M", NULL, 0), 0);
	LUID luid;
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	static struct events seen;
	seen.n = 0;
	ck_assert_int_eq(gpusim_subscribe(luid, collect, &seen), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_trace_attach(luid, path), STATUS_SUCCESS);

	D3DKMT_OPENADAPTERFROMLUID oa = { .AdapterLuid = luid };
	ck_assert_int_eq(D3DKMTOpenAdapterFromLuid(&oa), STATUS_SUCCESS);
	D3DKMT_CREATEDEVICE cd;
	memset(&cd, 0, sizeof(cd));
	cd.hAdapter = oa.hAdapter;
	ck_assert_int_eq(D3DKMTCreateDevice(&cd), STATUS_SUCCESS);
	/* Visible VRAM holds under 4 MiB: the fourth evicts the first. */
	D3DKMT_HANDLE h[4];
	for (int i = 0; i < 4; i++)
		h[i] = make_alloc(cd.hDevice, 1u << 20, GPUSIM_SEG_VISIBLE);
	D3DKMT_DESTROYALLOCATION2 da;
	memset(&da, 0, sizeof(da));
	da.hDevice = cd.hDevice;
	da.phAllocationList = &h[1];
	da.AllocationCount = 1;
	ck_assert_int_eq(D3DKMTDestroyAllocation2(&da), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_unsubscribe(luid, collect, &seen), STATUS_SUCCESS);
	/* Destroying the adapter (and with it the device) closes the file. */
	ck_assert_int_eq(gpusim_adapter_destroy(luid), STATUS_SUCCESS);

	char err[256];
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &ad, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(ad.vram, 16u << 20);
	ck_assert_uint_eq(ad.visible, 4u << 20);
	ck_assert_str_eq(ad.policy, "arc");
	struct gpusim_trace_item item;
	size_t i = 0, destroys = 0;
	bool evicted = false;
	int rc;
	while ((rc = gpusim_trace_next(r, false, &item, err, sizeof(err))) == 1) {
		ck_assert_uint_eq(item.type, GPUSIM_TRACE_EVENT);
		if (i < seen.n)
			ck_assert_mem_eq(&item.event, &seen.v[i], sizeof(item.event));
		evicted |= item.event.type == GPUSIM_EV_EVICT && item.event.allocation == h[0];
		destroys += item.event.type == GPUSIM_EV_DESTROY;
		i++;
	}
	ck_assert_msg(rc == 0, "%s", err);
	gpusim_trace_close_reader(r);
	ck_assert(seen.n > 8);
	ck_assert(evicted);
	/* Everything the listener saw, then the device's destruction of the other three. */
	ck_assert_uint_eq(destroys, 4);
	ck_assert_uint_ge(i, seen.n + 3);
}
END_TEST

START_TEST(test_attach_errors)
{
	LUID bogus = { 0x7777, 0 };
	ck_assert_int_eq(gpusim_trace_attach(bogus, path), STATUS_INVALID_PARAMETER);
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	LUID luid;
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_trace_attach(luid, NULL), STATUS_INVALID_PARAMETER);
	ck_assert_int_eq(gpusim_trace_attach(luid, ""), STATUS_INVALID_PARAMETER);
	char bad[256];
	snprintf(bad, sizeof(bad), "%s/missing/t.trace", dir);
	errno = 0;
	ck_assert_int_eq(gpusim_trace_attach(luid, bad), STATUS_UNSUCCESSFUL);
	ck_assert_int_eq(errno, ENOENT);
	/* At most 8 listeners: the recorder is one of them. */
	static struct events sink;
	int added = 0;
	while (gpusim_subscribe(luid, collect, &sink) == STATUS_SUCCESS)
		added++;
	ck_assert_int_eq(added, 8);
	ck_assert_int_eq(gpusim_trace_attach(luid, path), STATUS_NO_MEMORY);
}
END_TEST

START_TEST(test_describe_matches_stats)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=64M,visible=16M,gart=32M,sysmem=512M,policy=lru", NULL, 0), 0);
	LUID luid;
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	struct gpusim_trace_adapter ad;
	ck_assert_int_eq(gpusim_trace_describe(luid, &ad), STATUS_SUCCESS);
	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(luid, &st), STATUS_SUCCESS);
	ck_assert_uint_eq(ad.vram, 64u << 20);
	ck_assert_uint_eq(ad.visible, 16u << 20);
	ck_assert_uint_eq(ad.gart, 32u << 20);
	ck_assert_uint_eq(ad.sysmem, 512u << 20);
	ck_assert_str_eq(ad.policy, "lru");
	for (int s = 1; s <= GPUSIM_SEG_MAX; s++)
		ck_assert_uint_eq(ad.seg_size[s], gpusim_trace_is_segment((uint32_t)s) ? st.seg[s].size : 0);
	ck_assert_uint_eq(ad.seg_size[0], 0);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_VRAM2], 0); /* one pool */
	ck_assert_uint_eq(ad.budget_local, st.budget_local);
	ck_assert_uint_eq(ad.budget_nonlocal, st.budget_nonlocal);
	LUID bogus = { 0x7777, 0 };
	ck_assert_int_eq(gpusim_trace_describe(bogus, &ad), STATUS_INVALID_PARAMETER);
}
END_TEST

/* A pools=2 adapter: describe sizes the second pool as gpusim_get_stats does, and
 * that size survives a trace file. */
START_TEST(test_describe_two_pools_round_trip)
{
	struct gpusim_config cfg;
	gpusim_config_default(&cfg);
	ck_assert_int_eq(gpusim_config_parse(&cfg, "vram=64M,visible=16M,gart=32M,pools=2", NULL, 0), 0);
	LUID luid;
	ck_assert_int_eq(gpusim_adapter_create(&cfg, &luid), STATUS_SUCCESS);
	struct gpusim_trace_adapter ad;
	ck_assert_int_eq(gpusim_trace_describe(luid, &ad), STATUS_SUCCESS);
	struct gpusim_stats st;
	ck_assert_int_eq(gpusim_get_stats(luid, &st), STATUS_SUCCESS);
	ck_assert_uint_gt(st.seg[GPUSIM_SEG_VRAM2].size, 0);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_VRAM2], st.seg[GPUSIM_SEG_VRAM2].size);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_INVISIBLE], st.seg[GPUSIM_SEG_INVISIBLE].size);
	ck_assert_uint_eq(ad.seg_size[GPUSIM_SEG_SYS], 0);
	/* Through a file made by the recorder itself. */
	ck_assert_int_eq(gpusim_trace_attach(luid, path), STATUS_SUCCESS);
	ck_assert_int_eq(gpusim_adapter_destroy(luid), STATUS_SUCCESS);
	char err[512] = "";
	struct gpusim_trace_adapter back;
	struct gpusim_trace_reader *r = gpusim_trace_open(path, &back, err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(back.seg_size[GPUSIM_SEG_VRAM2], st.seg[GPUSIM_SEG_VRAM2].size);
	ck_assert_mem_eq(&back, &ad, sizeof(ad));
	gpusim_trace_close_reader(r);
}
END_TEST

/* ---- the runner's observers and the Perfetto export ------------------------------------ */

struct collected {
	int adapters;
	struct gpusim_trace_adapter ad;
	struct gpusim_trace_item *items;
	size_t n, cap;
};

static void on_adapter(void *ctx, LUID luid)
{
	struct collected *c = ctx;
	c->adapters++;
	ck_assert_int_eq(gpusim_trace_describe(luid, &c->ad), STATUS_SUCCESS);
}

static void on_item(void *ctx, const struct gpusim_trace_item *item)
{
	struct collected *c = ctx;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->items = realloc(c->items, c->cap * sizeof(*c->items));
		ck_assert_ptr_nonnull(c->items);
	}
	c->items[c->n++] = *item;
}

static int run_collect(const char *text, struct collected *c, struct scn_result *res, char **out)
{
	struct scn_script s;
	struct scn_error e;
	memset(&s, 0, sizeof(s));
	memset(&e, 0, sizeof(e));
	ck_assert_msg(scn_parse_string("t.gsim", text, strlen(text), &s, &e) == 0, "parse: %u: %s", e.line, e.msg);
	ck_assert_msg(scn_check(&s, &e) == 0, "check: %u: %s", e.line, e.msg);
	memset(c, 0, sizeof(*c));
	size_t nout = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &nout);
	ck_assert_ptr_nonnull(f);
	struct scn_options opt = { .out = f, .err = f, .verbose = out != NULL, .on_adapter = on_adapter,
				   .on_item = on_item, .ctx = c };
	int rc = scn_run(&s, &opt, res);
	fclose(f);
	if (out)
		*out = buf;
	else
		free(buf);
	scn_script_free(&s);
	return rc;
}

static uint32_t name_handle(const struct collected *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->items[i].type == GPUSIM_TRACE_NAME && !strcmp(c->items[i].name, name))
			return c->items[i].allocation;
	ck_abort_msg("no name item for %s", name);
	return 0;
}

START_TEST(test_run_observers)
{
	struct collected c;
	struct scn_result res;
	char *out = NULL;
	int rc = run_collect("adapter vram=16M visible=4M gart=8M\n"
			     "alloc a size=1M prefer=visible\n"
			     "alloc b size=1M only=gart\n"
			     "write a seed=1\n"
			     "resident a\n"
			     "evict a\n",
			     &c, &res, &out);
	ck_assert_msg(rc == 0, "%s", out);
	ck_assert_int_eq(c.adapters, 1);
	ck_assert_uint_eq(c.ad.vram, 16u << 20);
	/* Each name right after its allocation's creation, with both handles. */
	size_t names = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (c.items[i].type != GPUSIM_TRACE_NAME)
			continue;
		names++;
		ck_assert_uint_gt(i, 0);
		const struct gpusim_event *prev = &c.items[i - 1].event;
		ck_assert_uint_eq(c.items[i - 1].type, GPUSIM_TRACE_EVENT);
		ck_assert_uint_eq(prev->type, GPUSIM_EV_CREATE);
		ck_assert_uint_eq(prev->allocation, c.items[i].allocation);
		ck_assert_uint_eq(prev->device, c.items[i].device);
	}
	ck_assert_uint_eq(names, 2);
	uint32_t a = name_handle(&c, "a");
	bool evicted = false;
	for (size_t i = 0; i < c.n; i++)
		evicted |= c.items[i].type == GPUSIM_TRACE_EVENT && c.items[i].event.type == GPUSIM_EV_EVICT &&
			   c.items[i].event.allocation == a && c.items[i].event.cause == GPUSIM_CAUSE_EVICT_CALL;
	ck_assert(evicted);
	/* The verbose listener still prints, names and all. */
	ck_assert_msg(strstr(out, "evict a visible -> sys") != NULL, "%s", out);
	free(out);
	free(c.items);
}
END_TEST

struct json_trace {
	json_t *root, *events;
	const char *tid_name[4096];
};

static void json_parse_items(struct json_trace *j, const struct collected *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(perfetto_write(f, &c->ad, c->items, c->n), 0);
	fclose(f);
	json_error_t e;
	memset(j, 0, sizeof(*j));
	j->root = json_loads(text, 0, &e);
	ck_assert_msg(j->root != NULL, "JSON: line %d: %s", e.line, e.text);
	free(text);
	ck_assert_str_eq(json_string_value(json_object_get(j->root, "displayTimeUnit")), "ns");
	j->events = json_object_get(j->root, "traceEvents");
	ck_assert(json_is_array(j->events));
	size_t i;
	json_t *ev;
	bool process = false;
	json_array_foreach(j->events, i, ev) {
		const char *ph = json_string_value(json_object_get(ev, "ph"));
		const char *name = json_string_value(json_object_get(ev, "name"));
		ck_assert_ptr_nonnull(ph);
		ck_assert_ptr_nonnull(name);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")), 1);
		if (strcmp(ph, "M"))
			continue;
		const char *arg = json_string_value(json_object_get(json_object_get(ev, "args"), "name"));
		if (!strcmp(name, "process_name")) {
			ck_assert_str_eq(arg, "gpusim");
			process = true;
		} else if (!strcmp(name, "thread_name")) {
			json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
			ck_assert(tid > 0 && tid < 4096);
			j->tid_name[tid] = arg;
		}
	}
	ck_assert(process);
}

static uint64_t json_ns(json_t *v)
{
	return (uint64_t)(json_number_value(v) * 1000.0 + 0.5);
}

/* The residency slices of one allocation, in time order: track name, size, ns. */
struct slice {
	const char *track, *cause;
	uint64_t size, start, dur;
};

static size_t slices_of(const struct json_trace *j, const char *name, struct slice *out, size_t max)
{
	size_t n = 0, i;
	json_t *ev;
	json_array_foreach(j->events, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "ph")), "X") ||
		    strcmp(json_string_value(json_object_get(ev, "name")), name))
			continue;
		ck_assert_uint_lt(n, max);
		json_t *args = json_object_get(ev, "args");
		json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
		out[n] = (struct slice){
			.track = j->tid_name[tid],
			.cause = json_string_value(json_object_get(args, "cause")),
			.size = (uint64_t)json_integer_value(json_object_get(args, "size")),
			.start = json_ns(json_object_get(ev, "ts")),
			.dur = json_ns(json_object_get(ev, "dur")),
		};
		ck_assert_ptr_nonnull(out[n].track);
		ck_assert(json_is_string(json_object_get(args, "handle")));
		ck_assert(json_is_integer(json_object_get(args, "offset")));
		n++;
	}
	for (size_t a = 1; a < n; a++) /* insertion sort by start */
		for (size_t b = a; b > 0 && out[b].start < out[b - 1].start; b--) {
			struct slice t = out[b];
			out[b] = out[b - 1];
			out[b - 1] = t;
		}
	return n;
}

/* The last value of a counter's argument. */
static uint64_t counter_last(const struct json_trace *j, const char *name, const char *arg)
{
	uint64_t v = 0, at = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(j->events, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "ph")), "C") ||
		    strcmp(json_string_value(json_object_get(ev, "name")), name))
			continue;
		uint64_t t = json_ns(json_object_get(ev, "ts"));
		ck_assert_uint_ge(t, at); /* written in stream order */
		at = t;
		v = (uint64_t)json_integer_value(json_object_get(json_object_get(ev, "args"), arg));
	}
	return v;
}

/* No two slices on one track overlap: the format forbids it. */
static void ck_no_overlap(const struct json_trace *j)
{
	size_t i, k;
	json_t *a, *b;
	json_array_foreach(j->events, i, a) {
		if (strcmp(json_string_value(json_object_get(a, "ph")), "X"))
			continue;
		uint64_t as = json_ns(json_object_get(a, "ts")), ae = as + json_ns(json_object_get(a, "dur"));
		json_int_t at = json_integer_value(json_object_get(a, "tid"));
		json_array_foreach(j->events, k, b) {
			if (k <= i || strcmp(json_string_value(json_object_get(b, "ph")), "X") ||
			    json_integer_value(json_object_get(b, "tid")) != at)
				continue;
			uint64_t bs = json_ns(json_object_get(b, "ts")), be = bs + json_ns(json_object_get(b, "dur"));
			ck_assert_msg(ae <= bs || be <= as, "slices %zu and %zu overlap on track %lld", i, k,
				      (long long)at);
		}
	}
}

/* An adapter whose VRAM is all visible: the end-of-run read-back locks move
 * nothing, so the run's statistics are the stream's last word on paging. */
#define PAGING_SCENARIO                                   \
	"adapter vram=8M visible=8M gart=16M sysmem=256M\n" \
	"alloc tex size=2M only=vram\n"                     \
	"write tex seed=1\n"                                \
	"repeat 4 {\n"                                      \
	"  alloc big$i size=2M only=vram\n"                 \
	"  write big$i seed=2$i\n"                          \
	"}\n"                                               \
	"submit tex\n"                                      \
	"alloc g size=1M only=gart\n"                       \
	"write g seed=9\n"                                  \
	"free big0\n"                                       \
	"idle\n"

START_TEST(test_perfetto_slices)
{
	struct collected c;
	struct scn_result res;
	ck_assert_int_eq(run_collect(PAGING_SCENARIO, &c, &res, NULL), 0);
	struct json_trace j;
	json_parse_items(&j, &c);
	struct slice s[16];
	/* tex: in VRAM, evicted by pressure, paged back in by the submit. */
	size_t n = slices_of(&j, "tex", s, 16);
	ck_assert_uint_ge(n, 3);
	ck_assert_str_eq(s[0].track, "visible VRAM");
	ck_assert_str_eq(s[0].cause, "create");
	ck_assert_uint_eq(s[0].size, 2u << 20);
	bool evicted = false, back = false;
	for (size_t i = 1; i < n; i++) {
		ck_assert_uint_eq(s[i].size, 2u << 20);
		ck_assert_uint_eq(s[i].start, s[i - 1].start + s[i - 1].dur); /* one period follows the other */
		if (!strcmp(s[i].track, "system memory") && !strcmp(s[i].cause, "pressure"))
			evicted = true;
		if (evicted && !strcmp(s[i].track, "visible VRAM") && !strcmp(s[i].cause, "render"))
			back = true;
	}
	ck_assert(evicted);
	ck_assert(back);
	/* g lives in the GART; big0's last slice ends where it was destroyed. */
	n = slices_of(&j, "g", s, 16);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(s[0].track, "GART");
	ck_assert_uint_eq(s[0].size, 1u << 20);
	ck_assert_uint_ge(slices_of(&j, "big0", s, 16), 1);
	ck_no_overlap(&j);
	json_decref(j.root);
	free(c.items);
}
END_TEST

START_TEST(test_perfetto_counters_match_stats)
{
	struct collected c;
	struct scn_result res;
	ck_assert_int_eq(run_collect(PAGING_SCENARIO "gpu-fill tex value=7\nrepeat 3 {\n  submit big1 big2 big3\n  submit tex\n}\n",
				     &c, &res, NULL),
			 0);
	ck_assert_uint_gt(res.stats.bytes_in, 0);
	ck_assert_uint_gt(res.stats.bytes_out, 0);
	struct json_trace j;
	json_parse_items(&j, &c);
	ck_assert_uint_eq(counter_last(&j, "paging", "bytes_in"), res.stats.bytes_in);
	ck_assert_uint_eq(counter_last(&j, "paging", "bytes_out"), res.stats.bytes_out);
	/* What remains: tex and big1..3 (8 MiB) in VRAM or out, g in the GART. */
	ck_assert_uint_eq(counter_last(&j, "usage", "gart"), 1u << 20);
	ck_assert_uint_eq(counter_last(&j, "usage", "visible") + counter_last(&j, "usage", "system"), 8u << 20);
	ck_no_overlap(&j);
	json_decref(j.root);
	free(c.items);
}
END_TEST

START_TEST(test_perfetto_fault_and_removal)
{
	struct collected c;
	struct scn_result res;
	ck_assert_int_eq(run_collect("adapter vram=16M visible=4M gart=8M\n"
				     "alloc x size=64K only=gart\n"
				     "write x seed=5\n"
				     "resident x\n"
				     "evict x\n"
				     "gpu-fill x value=1 stale\n"
				     "expect stat faults == 1\n"
				     "submit x\n"
				     "inject device-removed\n",
				     &c, &res, NULL),
			 0);
	struct json_trace j;
	json_parse_items(&j, &c);
	size_t i, faults = 0, removed = 0, submits = 0;
	json_t *ev;
	json_array_foreach(j.events, i, ev) {
		const char *name = json_string_value(json_object_get(ev, "name"));
		const char *ph = json_string_value(json_object_get(ev, "ph"));
		if (!strcmp(name, "GPU page fault")) {
			ck_assert_str_eq(ph, "i");
			ck_assert_str_eq(json_string_value(json_object_get(ev, "s")), "g");
			ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "args"), "cause")),
					 "gart-invalid");
			faults++;
		} else if (!strcmp(name, "device removed")) {
			ck_assert_str_eq(ph, "i");
			ck_assert_str_eq(json_string_value(json_object_get(ev, "s")), "g");
			removed++;
		} else if (!strcmp(name, "submit")) {
			ck_assert_str_eq(j.tid_name[json_integer_value(json_object_get(ev, "tid"))], "GPU");
			submits++;
		}
	}
	ck_assert_uint_eq(faults, res.stats.faults);
	ck_assert_uint_eq(faults, 1);
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(submits, res.stats.submits);
	json_decref(j.root);
	free(c.items);
}
END_TEST

/* Overlapping residency on one segment takes more tracks of the same name. */
START_TEST(test_perfetto_overlap_and_escapes)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct collected c = { .ad = ad };
	struct gpusim_trace_item items[6];
	memset(items, 0, sizeof(items));
	const char *names[2] = { "quote\" back\\ tab\t", "bad\xff utf8 \xe2\x82\xac" };
	for (uint32_t k = 0; k < 2; k++) {
		items[3 * k].type = GPUSIM_TRACE_EVENT;
		items[3 * k].event = (struct gpusim_event){ .type = GPUSIM_EV_CREATE, .cause = GPUSIM_CAUSE_CREATE,
							    .time_ns = 1000 * k, .allocation = 0x100 + k,
							    .segment = GPUSIM_SEG_VISIBLE, .offset = 0x100000 * k,
							    .size = 0x100000 };
		items[3 * k + 1].type = GPUSIM_TRACE_NAME;
		items[3 * k + 1].allocation = 0x100 + k;
		snprintf(items[3 * k + 1].name, sizeof(items[0].name), "%s", names[k]);
		items[3 * k + 2].type = GPUSIM_TRACE_EVENT;
		items[3 * k + 2].event = (struct gpusim_event){ .type = GPUSIM_EV_DESTROY, .time_ns = 5000 + 1500 * k,
								.allocation = 0x100 + k };
	}
	/* Order: create 0, name 0, create 1, name 1, destroy 0, destroy 1. */
	struct gpusim_trace_item ordered[6] = { items[0], items[1], items[3], items[4], items[2], items[5] };
	c.items = ordered;
	c.n = 6;
	struct json_trace j;
	json_parse_items(&j, &c);
	struct slice s[4];
	ck_assert_uint_eq(slices_of(&j, "quote\" back\\ tab\t", s, 4), 1);
	ck_assert_str_eq(s[0].track, "visible VRAM");
	ck_assert_uint_eq(s[0].start, 0);
	ck_assert_uint_eq(s[0].dur, 5000);
	ck_assert_uint_eq(slices_of(&j, "bad\xef\xbf\xbd utf8 \xe2\x82\xac", s, 4), 1);
	ck_assert_str_eq(s[0].track, "visible VRAM");
	ck_assert_uint_eq(s[0].start, 1000);
	ck_assert_uint_eq(s[0].dur, 5500);
	ck_no_overlap(&j);
	/* Both segment tracks are named alike; the GART and system tracks exist empty. */
	int visible = 0, gart = 0, sys = 0;
	for (int t = 0; t < 4096; t++) {
		visible += j.tid_name[t] && !strcmp(j.tid_name[t], "visible VRAM");
		gart += j.tid_name[t] && !strcmp(j.tid_name[t], "GART");
		sys += j.tid_name[t] && !strcmp(j.tid_name[t], "system memory");
	}
	ck_assert_int_eq(visible, 2);
	ck_assert_int_eq(gart, 1);
	ck_assert_int_eq(sys, 1);
	json_decref(j.root);
}
END_TEST

/* A demotion and a promotion: instants on the GPU track named by kind, with the
 * allocation's name, segments and bytes; the residency slices say which kind put
 * the allocation there; the paging counter counts their bytes by destination. */
START_TEST(test_perfetto_demote_promote)
{
	struct gpusim_trace_adapter ad = sample_adapter();
	struct collected c = { .ad = ad };
	const uint32_t h = 0x40000041;
	struct gpusim_trace_item items[6];
	memset(items, 0, sizeof(items));
	for (int k = 0; k < 6; k++)
		items[k].type = GPUSIM_TRACE_EVENT;
	items[0].event = (struct gpusim_event){ .type = GPUSIM_EV_CREATE, .cause = GPUSIM_CAUSE_CREATE, .time_ns = 0,
						.allocation = h, .segment = GPUSIM_SEG_VISIBLE, .size = 0x100000 };
	items[1].type = GPUSIM_TRACE_NAME;
	items[1].allocation = h;
	snprintf(items[1].name, sizeof(items[1].name), "tex");
	items[2].event = (struct gpusim_event){ .type = GPUSIM_EV_DEMOTE, .cause = GPUSIM_CAUSE_PRESSURE,
						.time_ns = 1000, .allocation = h, .from_segment = GPUSIM_SEG_VISIBLE,
						.segment = GPUSIM_SEG_INVISIBLE, .offset = 0x200000, .size = 0x100000,
						.value = 0x100000 };
	items[3].event = (struct gpusim_event){ .type = GPUSIM_EV_USE, .cause = GPUSIM_CAUSE_RENDER, .time_ns = 1500,
						.allocation = h, .segment = GPUSIM_SEG_INVISIBLE, .offset = 0x200000,
						.size = 0x100000, .value = 3 };
	items[4].event = (struct gpusim_event){ .type = GPUSIM_EV_PROMOTE, .cause = GPUSIM_CAUSE_RENDER,
						.time_ns = 2000, .allocation = h, .from_segment = GPUSIM_SEG_INVISIBLE,
						.segment = GPUSIM_SEG_VISIBLE, .offset = 0, .size = 0x100000,
						.value = 0x100000 };
	items[5].event = (struct gpusim_event){ .type = GPUSIM_EV_DEMOTE, .cause = GPUSIM_CAUSE_PRESSURE,
						.time_ns = 3000, .allocation = h, .from_segment = GPUSIM_SEG_VISIBLE,
						.segment = GPUSIM_SEG_GART, .offset = 0, .size = 0x100000,
						.value = 0x100000 };
	c.items = items;
	c.n = 6;
	struct json_trace j;
	json_parse_items(&j, &c);
	size_t i, demote = 0, promote = 0;
	json_t *ev;
	json_array_foreach(j.events, i, ev) {
		const char *name = json_string_value(json_object_get(ev, "name"));
		if (strcmp(name, "demote") && strcmp(name, "promote"))
			continue;
		json_t *args = json_object_get(ev, "args");
		bool is_demote = !strcmp(name, "demote");
		ck_assert_str_eq(json_string_value(json_object_get(ev, "ph")), "i");
		ck_assert_str_eq(j.tid_name[json_integer_value(json_object_get(ev, "tid"))], "GPU");
		ck_assert_str_eq(json_string_value(json_object_get(args, "allocation")), "tex");
		ck_assert_str_eq(json_string_value(json_object_get(args, "handle")), "0x40000041");
		ck_assert_int_eq(json_integer_value(json_object_get(args, "bytes")), 0x100000);
		uint64_t t = json_ns(json_object_get(ev, "ts"));
		if (is_demote) {
			ck_assert_str_eq(json_string_value(json_object_get(args, "from")), "visible");
			ck_assert_str_eq(json_string_value(json_object_get(args, "to")), demote ? "gart" : "invisible");
			ck_assert_str_eq(json_string_value(json_object_get(args, "cause")), "pressure");
			ck_assert_uint_eq(t, demote ? 3000 : 1000);
			demote++;
		} else {
			ck_assert_str_eq(json_string_value(json_object_get(args, "from")), "invisible");
			ck_assert_str_eq(json_string_value(json_object_get(args, "to")), "visible");
			ck_assert_uint_eq(t, 2000);
			promote++;
		}
	}
	ck_assert_uint_eq(demote, 2);
	ck_assert_uint_eq(promote, 1);
	/* Four periods: created in visible, demoted to invisible, promoted back,
	 * demoted to the GART; the use moved nothing. */
	const char *want_track[4] = { "visible VRAM", "invisible VRAM", "visible VRAM", "GART" };
	const char *want_by[4] = { "create", "demote", "promote", "demote" };
	size_t n = 0;
	json_array_foreach(j.events, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "ph")), "X"))
			continue;
		ck_assert_str_eq(json_string_value(json_object_get(ev, "name")), "tex");
		uint64_t t = json_ns(json_object_get(ev, "ts"));
		size_t k = t / 1000; /* the periods start at 0, 1000, 2000 and 3000 ns */
		ck_assert_uint_lt(k, 4);
		ck_assert_uint_eq(t, k * 1000);
		ck_assert_str_eq(j.tid_name[json_integer_value(json_object_get(ev, "tid"))], want_track[k]);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "args"), "by")), want_by[k]);
		n++;
	}
	ck_assert_uint_eq(n, 4);
	/* Into VRAM twice (in), out to the GART once (out). */
	ck_assert_uint_eq(counter_last(&j, "paging", "bytes_in"), 0x200000);
	ck_assert_uint_eq(counter_last(&j, "paging", "bytes_out"), 0x100000);
	ck_no_overlap(&j);
	json_decref(j.root);
}
END_TEST

static bool has_track(const struct json_trace *j, const char *name)
{
	for (int t = 0; t < 4096; t++)
		if (j->tid_name[t] && !strcmp(j->tid_name[t], name))
			return true;
	return false;
}

/* A pools=2 scenario: the second pool has its own track between invisible VRAM
 * and the GART, its allocations' slices are on it, the demotion into it names it,
 * and the usage counter has its key with the manager's figure. One pool: none. */
START_TEST(test_perfetto_vram2_track)
{
	struct collected c;
	struct scn_result res;
	int rc = run_collect("adapter vram=12M visible=4M gart=8M pools=2\n"
			     "repeat 6 {\n"
			     "	alloc t$i size=1M\n"
			     "}\n"
			     "alloc p size=1M only=invisible pinned\n"
			     "expect t0 in vram2\n",
			     &c, &res, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_gt(c.ad.seg_size[GPUSIM_SEG_VRAM2], 0);
	struct json_trace j;
	json_parse_items(&j, &c);
	ck_assert(has_track(&j, "vram2 (VRAM pool 2)"));
	/* Track order: ... invisible VRAM, vram2, GART ... */
	int inv = 0, v2 = 0, gart = 0;
	for (int t = 4095; t > 0; t--) {
		if (!j.tid_name[t])
			continue;
		if (!strcmp(j.tid_name[t], "invisible VRAM"))
			inv = t;
		else if (!strcmp(j.tid_name[t], "vram2 (VRAM pool 2)"))
			v2 = t;
		else if (!strcmp(j.tid_name[t], "GART"))
			gart = t;
	}
	ck_assert(inv && v2 && gart);
	ck_assert_int_lt(inv, v2);
	ck_assert_int_lt(v2, gart);
	struct slice sl[8];
	size_t n = slices_of(&j, "t0", sl, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(sl[0].track, "invisible VRAM");
	ck_assert_str_eq(sl[1].track, "vram2 (VRAM pool 2)");
	n = slices_of(&j, "t4", sl, 8);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(sl[0].track, "vram2 (VRAM pool 2)");
	size_t i, demotes = 0;
	json_t *ev;
	json_array_foreach(j.events, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "name")), "demote"))
			continue;
		json_t *args = json_object_get(ev, "args");
		ck_assert_str_eq(json_string_value(json_object_get(args, "to")), "vram2");
		demotes++;
	}
	ck_assert_uint_eq(demotes, 1);
	ck_assert_uint_eq(counter_last(&j, "usage", "vram2"), res.stats.seg[GPUSIM_SEG_VRAM2].used);
	ck_assert_uint_eq(counter_last(&j, "usage", "vram2"), 3u << 20); /* t4, t5, t0 */
	ck_no_overlap(&j);
	json_decref(j.root);
	free(c.items);

	rc = run_collect("adapter vram=12M visible=4M gart=8M\nalloc a size=1M\n", &c, &res, NULL);
	ck_assert_int_eq(rc, 0);
	json_parse_items(&j, &c);
	ck_assert(has_track(&j, "invisible VRAM"));
	ck_assert(!has_track(&j, "vram2 (VRAM pool 2)"));
	json_decref(j.root);
	free(c.items);
}
END_TEST

/* ---- WDDM 2: fences, SubmitCommand, VAs ---------------------------------------------- */

#define FENCE_A 0x40000c01u
#define FENCE_B 0x40000c41u
#define VA_ALLOC 0x40000081u

static void add_ev(struct collected *c, struct gpusim_event ev)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->items = realloc(c->items, c->cap * sizeof(*c->items));
		ck_assert_ptr_nonnull(c->items);
	}
	memset(&c->items[c->n], 0, sizeof(c->items[c->n]));
	c->items[c->n].type = GPUSIM_TRACE_EVENT;
	c->items[c->n++].event = ev;
}

/* An allocation mapped, two monitored fences signalled (one three times), a CPU
 * wait, two SubmitCommands of which the first completes, a VA fault. */
static void wddm2_items(struct collected *c)
{
	memset(c, 0, sizeof(*c));
	c->ad = sample_adapter();
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_CREATE, .cause = GPUSIM_CAUSE_CREATE, .time_ns = 100,
					 .device = 0x40000041, .allocation = VA_ALLOC, .segment = GPUSIM_SEG_VISIBLE,
					 .size = 65536 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_VA_RESERVE, .time_ns = 200, .device = 0x40000041,
					 .offset = 0x100000000ull, .size = 1u << 20 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_VA_MAP, .time_ns = 300, .device = 0x40000041,
					 .allocation = VA_ALLOC, .offset = 0x100000000ull, .size = 65536, .value = 4 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_CPU, .time_ns = 400,
					 .device = 0x40000041, .allocation = FENCE_A, .value = 1 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SUBMIT_VA, .time_ns = 500, .device = 0x40000041,
					 .offset = 0x100000000ull, .size = 256, .value = 1 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SUBMIT_VA, .time_ns = 600, .device = 0x40000041,
					 .offset = 0x100001000ull, .size = 128, .value = 2 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_FENCE, .time_ns = 1500, .value = 1 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_GPU, .time_ns = 1600,
					 .device = 0x40000041, .allocation = FENCE_A, .value = 5 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_RENDER, .time_ns = 1700,
					 .device = 0x40000041, .allocation = FENCE_B, .value = 3 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_WAIT, .time_ns = 1800, .device = 0x40000041,
					 .allocation = FENCE_A, .value = 5, .size = 1 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_FAULT, .cause = HW_FAULT_VM_NOT_PRESENT, .time_ns = 1900,
					 .device = 0x40000041, .allocation = VA_ALLOC, .offset = 0x100002000ull });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_SIGNAL, .cause = GPUSIM_CAUSE_CPU, .time_ns = 2000,
					 .device = 0x40000041, .allocation = FENCE_A, .value = 9 });
	add_ev(c, (struct gpusim_event){ .type = GPUSIM_EV_VA_UNMAP, .time_ns = 2100, .device = 0x40000041,
					 .offset = 0x100000000ull, .size = 4096, .value = 6 });
}

START_TEST(test_perfetto_fences_and_submissions)
{
	struct collected c;
	wddm2_items(&c);
	struct json_trace j;
	json_parse_items(&j, &c);
	ck_assert(has_track(&j, "GPU VA space"));
	ck_assert(has_track(&j, "CPU waits"));
	/* Each fence its own counter, its values in order. */
	uint64_t a[8], b[8];
	size_t na = 0, nb = 0, i;
	json_t *ev;
	size_t submits = 0, maps = 0, unmaps = 0, waits = 0, faults = 0;
	json_array_foreach(j.events, i, ev) {
		const char *ph = json_string_value(json_object_get(ev, "ph"));
		const char *name = json_string_value(json_object_get(ev, "name"));
		json_t *args = json_object_get(ev, "args");
		json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
		if (!strcmp(ph, "C") && !strcmp(name, "fence 0x40000c01")) {
			ck_assert_uint_lt(na, 8);
			a[na++] = (uint64_t)json_integer_value(json_object_get(args, "value"));
		} else if (!strcmp(ph, "C") && !strcmp(name, "fence 0x40000c41")) {
			ck_assert_uint_lt(nb, 8);
			b[nb++] = (uint64_t)json_integer_value(json_object_get(args, "value"));
		} else if (!strcmp(name, "submit-va")) {
			ck_assert_str_eq(ph, "X");
			ck_assert_str_eq(j.tid_name[tid], "GPU");
			uint64_t ts = json_ns(json_object_get(ev, "ts")), dur = json_ns(json_object_get(ev, "dur"));
			uint64_t fence = (uint64_t)json_integer_value(json_object_get(args, "fence"));
			if (fence == 1) {
				/* From its submission to the FENCE that completed it. */
				ck_assert_uint_eq(ts, 500);
				ck_assert_uint_eq(ts + dur, 1500);
				ck_assert(json_is_true(json_object_get(args, "completed")));
				ck_assert_str_eq(json_string_value(json_object_get(args, "va")), "0x100000000");
			} else {
				/* After the first (in order), to the end: never completed. */
				ck_assert_uint_eq(fence, 2);
				ck_assert_uint_eq(ts, 1500);
				ck_assert_uint_eq(ts + dur, 2100);
				ck_assert(json_is_false(json_object_get(args, "completed")));
			}
			submits++;
		} else if (!strcmp(name, "va-map")) {
			ck_assert_str_eq(j.tid_name[tid], "GPU VA space");
			ck_assert_str_eq(json_string_value(json_object_get(args, "va")), "0x100000000");
			ck_assert_int_eq(json_integer_value(json_object_get(args, "size")), 65536);
			ck_assert_int_eq(json_integer_value(json_object_get(args, "fence")), 4);
			maps++;
		} else if (!strcmp(name, "va-unmap")) {
			ck_assert_str_eq(ph, "i");
			unmaps++;
		} else if (!strcmp(name, "wait")) {
			ck_assert_str_eq(j.tid_name[tid], "CPU waits");
			ck_assert_str_eq(json_string_value(json_object_get(args, "fence")), "0x40000c01");
			ck_assert_int_eq(json_integer_value(json_object_get(args, "value")), 5);
			waits++;
		} else if (!strcmp(name, "GPU page fault")) {
			ck_assert_str_eq(json_string_value(json_object_get(args, "va")), "0x100002000");
			ck_assert_str_eq(json_string_value(json_object_get(args, "cause")), "vm-not-present");
			ck_assert_str_eq(json_string_value(json_object_get(args, "handle")), "0x40000081");
			faults++;
		}
	}
	ck_assert_uint_eq(na, 3);
	ck_assert_uint_eq(a[0], 1);
	ck_assert_uint_eq(a[1], 5);
	ck_assert_uint_eq(a[2], 9);
	ck_assert_uint_eq(nb, 1);
	ck_assert_uint_eq(b[0], 3);
	ck_assert_uint_eq(counter_last(&j, "fence 0x40000c01", "value"), 9);
	ck_assert_uint_eq(submits, 2);
	ck_assert_uint_eq(maps, 1);
	ck_assert_uint_eq(unmaps, 1);
	ck_assert_uint_eq(waits, 1);
	ck_assert_uint_eq(faults, 1);
	ck_no_overlap(&j);
	json_decref(j.root);
	free(c.items);
	/* A WDDM 1 stream names neither WDDM 2 track. */
	memset(&c, 0, sizeof(c));
	c.ad = sample_adapter();
	add_ev(&c, (struct gpusim_event){ .type = GPUSIM_EV_SUBMIT, .time_ns = 10, .value = 1 });
	json_parse_items(&j, &c);
	ck_assert(!has_track(&j, "GPU VA space"));
	ck_assert(!has_track(&j, "CPU waits"));
	json_decref(j.root);
	free(c.items);
}
END_TEST

/* `gpusim trace --dump` of the same events, by the program (GPUSIM under make
 * check): VAs in hex, fence values in decimal. */
START_TEST(test_dump_wddm2_events)
{
	struct collected c;
	wddm2_items(&c);
	struct gpusim_trace_writer *w = gpusim_trace_create(path, &c.ad);
	ck_assert_ptr_nonnull(w);
	for (size_t i = 0; i < c.n; i++)
		ck_assert_int_eq(gpusim_trace_event(w, &c.items[i].event), 0);
	ck_assert_int_eq(gpusim_trace_close(w), 0);
	free(c.items);
	const char *g = getenv("GPUSIM");
	char cmd[512], out[160];
	snprintf(out, sizeof(out), "%s/dump.txt", dir);
	snprintf(cmd, sizeof(cmd), "'%s' trace --dump '%s' >'%s'", g && *g ? g : "./sim/gpusim", path, out);
	ck_assert_int_eq(system(cmd), 0);
	FILE *f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	const char *want[] = {
		"event va-reserve device=0x40000041 va=0x100000000 size=0x100000 end=0x100100000 type=no-access time=200\n",
		"event va-map handle=0x40000081 device=0x40000041 va=0x100000000 size=0x10000 end=0x100010000 fence=4 time=300\n",
		"event signal fence=0x40000c01 device=0x40000041 value=1 cause=cpu time=400\n",
		"event submit-va device=0x40000041 va=0x100000000 size=256 fence=1 time=500\n",
		"event signal fence=0x40000c01 device=0x40000041 value=5 cause=gpu time=1600\n",
		"event wait fence=0x40000c01 device=0x40000041 value=5 objects=1 returned time=1800\n",
		"event fault handle=0x40000081 device=0x40000041 va=0x100002000 cause=vm-not-present fence=0 time=1900\n",
		"event va-unmap device=0x40000041 va=0x100000000 size=0x1000 end=0x100001000 fence=6 time=2100\n",
	};
	bool seen[sizeof(want) / sizeof(want[0])] = { false };
	while (fgets(line, sizeof(line), f))
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			seen[k] |= !strcmp(line, want[k]);
	fclose(f);
	unlink(out);
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
		ck_assert_msg(seen[k], "no line: %s", want[k]);
}
END_TEST

Suite *sim_trace_suite(void)
{
	Suite *s = suite_create("sim_trace");
	TCase *tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip_every_field);
	tcase_add_test(tc, test_version_2_layout);
	tcase_add_test(tc, test_read_version_1);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_crc_every_length);
	tcase_add_test(tc, test_many_records_in_order);
	tcase_add_test(tc, test_flush_policy);
	tcase_add_test(tc, test_follow_partial_record);
	tcase_add_test(tc, test_truncated_record);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_wrong_version);
	tcase_add_test(tc, test_crc_mismatch);
	tcase_add_test(tc, test_unknown_type);
	tcase_add_test(tc, test_wrong_length);
	tcase_add_test(tc, test_adapter_record_first_and_once);
	tcase_add_test(tc, test_open_missing_file);
	tcase_add_test(tc, test_dump_wddm2_events);
	suite_add_tcase(s, tc);

	tc = tcase_create("recorder");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_attach_records_the_stream);
	tcase_add_test(tc, test_attach_errors);
	tcase_add_test(tc, test_describe_matches_stats);
	tcase_add_test(tc, test_describe_two_pools_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("export");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_run_observers);
	tcase_add_test(tc, test_perfetto_slices);
	tcase_add_test(tc, test_perfetto_counters_match_stats);
	tcase_add_test(tc, test_perfetto_fault_and_removal);
	tcase_add_test(tc, test_perfetto_overlap_and_escapes);
	tcase_add_test(tc, test_perfetto_demote_promote);
	tcase_add_test(tc, test_perfetto_vram2_track);
	tcase_add_test(tc, test_perfetto_fences_and_submissions);
	suite_add_tcase(s, tc);
	return s;
}
