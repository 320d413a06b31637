/*
 * gpusim inspect's device-state section: a walk over the named fields of the
 * device's state (<gpusim/hwstate.h>) in the snapshot's resume state. Nothing
 * here knows a field: names, types and lengths come with the bytes.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>

#include <gpusim/hwstate.h>

#include "sim/inspect_devstate.h"
#include "sim/jsonw.h"

#define TEXT_VALUES 8 /* of an array, in the text report */

struct out {
	FILE *f;
	uint32_t n;
};

static void text_value(FILE *f, const struct hw_state_item *it, uint64_t i)
{
	uint64_t v = hw_state_item_value(it, i);
	if (it->type == HW_STATE_BOOL)
		fputs(v ? "true" : "false", f);
	else if (it->hex)
		fprintf(f, "0x%" PRIx64, v);
	else
		fprintf(f, "%" PRIu64, v);
}

static int text_item(void *opaque, const struct hw_state_item *it)
{
	FILE *f = ((struct out *)opaque)->f;
	fprintf(f, "  %-24s ", it->name);
	if (!it->array) {
		text_value(f, it, 0);
	} else {
		fprintf(f, "[%" PRIu64 "]", it->count);
		for (uint64_t i = 0; i < it->count && i < TEXT_VALUES; i++) {
			fputc(' ', f);
			text_value(f, it, i);
		}
		if (it->count > TEXT_VALUES)
			fputs(" ...", f);
	}
	fputc('\n', f);
	return 0;
}

static int count_item(void *opaque, const struct hw_state_item *it)
{
	(void)it;
	((struct out *)opaque)->n++;
	return 0;
}

/* The state's bytes, or a sentence saying why there are none. */
static const char *find(const struct gpusim_snapshot *s, const void **buf, size_t *len)
{
	int rc = gpusim_snapshot_device_state(s, buf, len);
	if (rc == -ENOENT)
		return "none in this snapshot";
	if (rc)
		return "unreadable: the resume state is not of this gpusim's version";
	return NULL;
}

void inspect_devstate_text(FILE *f, const struct gpusim_snapshot *s)
{
	const void *buf;
	size_t len;
	const char *none = find(s, &buf, &len);
	char err[256] = "";
	uint32_t version = 0;
	struct out o = { f, 0 };
	if (!none && hw_state_walk(buf, len, &version, count_item, &o, err, sizeof(err)))
		none = err;
	if (none) {
		fprintf(f, "\ndevice state: %s\n", none);
		return;
	}
	fprintf(f, "\ndevice state (%" PRIu32 " fields, version %" PRIu32 ")\n", o.n, version);
	hw_state_walk(buf, len, NULL, text_item, &o, NULL, 0);
}

static void json_value(FILE *f, const struct hw_state_item *it, uint64_t i)
{
	uint64_t v = hw_state_item_value(it, i);
	if (it->type == HW_STATE_BOOL)
		fputs(v ? "true" : "false", f);
	else if (v > INT64_MAX)
		fprintf(f, "\"%" PRIu64 "\"", v); /* all ones (an empty TLB slot): not every parser holds it */
	else
		fprintf(f, "%" PRIu64, v);
}

static int json_item(void *opaque, const struct hw_state_item *it)
{
	struct out *o = opaque;
	static const char *const types[] = { [HW_STATE_U32] = "u32", [HW_STATE_U64] = "u64",
					     [HW_STATE_BOOL] = "bool" };
	/* Names are [A-Za-z0-9_.] (the walk refuses others): no escaping. */
	fprintf(o->f, "%s\n      {\"name\": \"%s\", \"type\": \"%s\", \"hex\": %s, ", o->n++ ? "," : "",
		it->name, types[it->type], it->hex ? "true" : "false");
	if (!it->array) {
		fputs("\"value\": ", o->f);
		json_value(o->f, it, 0);
	} else {
		fputs("\"values\": [", o->f);
		for (uint64_t i = 0; i < it->count; i++) {
			if (i)
				fputs(", ", o->f);
			json_value(o->f, it, i);
		}
		fputc(']', o->f);
	}
	fputc('}', o->f);
	return 0;
}

void inspect_devstate_json(FILE *f, const struct gpusim_snapshot *s)
{
	const void *buf;
	size_t len;
	const char *none = find(s, &buf, &len);
	char err[256] = "";
	uint32_t version = 0;
	if (!none && hw_state_walk(buf, len, &version, NULL, NULL, err, sizeof(err)))
		none = err;
	if (none) {
		fputs("  \"device_state\": {\"error\": ", f);
		jw_string(f, none);
		fputs("},\n", f);
		return;
	}
	struct out o = { f, 0 };
	fprintf(f, "  \"device_state\": {\"version\": %" PRIu32 ", \"fields\": [", version);
	hw_state_walk(buf, len, NULL, json_item, &o, NULL, 0);
	fputs(o.n ? "\n  ]},\n" : "]},\n", f);
}
