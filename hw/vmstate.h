/*
 * The declared table of the device's state (QEMU's VMState idea): each field once,
 * with its name, type, place in struct hw_device, validation rule and the state
 * version it appeared in. hw/state.c saves, loads and checks by walking it.
 */
#ifndef HW_VMSTATE_H
#define HW_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpusim/hwstate.h>

struct hw_device;

/* A variable-length (or configuration-sized) array the device holds through a
 * pointer. Several fields may share one pointer (an array of structs: one field
 * per member); they then share its count. */
struct hw_vms_array {
	size_t stride;           /* bytes between elements */
	size_t member;           /* the field's offset inside an element */
	/* Elements now; the most a state may carry (checked before anything is
	 * allocated); set the count on a proposed device (NULL: the count is fixed
	 * by the configuration and a state must carry exactly count()). */
	uint64_t (*count)(const struct hw_device *dev);
	uint64_t (*bound)(const struct hw_device *dev);
	void (*set_count)(struct hw_device *dev, uint64_t n);
};

/* A rule on one value; `st` is the whole proposed state (every field already
 * decoded into it), so a rule may compare with other fields. false with a
 * sentence (without the field's name) in why when the value is refused. */
typedef bool (*hw_vms_check_fn)(const struct hw_device *st, unsigned inst, uint64_t index,
				uint64_t v, char *why, size_t whylen);

struct hw_vms_field {
	const char *name;        /* unique inside its section: "gart.ctrl", "wptr" */
	uint32_t type;           /* HW_STATE_U32/U64/BOOL, | HW_STATE_HEX */
	size_t offset;           /* of the member in the section's instance, or of the
				  * array's pointer */
	size_t size;             /* of the member (sizeof; the pointer's for an array) */
	const struct hw_vms_array *array;  /* NULL for a scalar */
	uint32_t since;          /* HW_STATE_VERSION that added it */
	/* Declarative rules, 0 meaning none: */
	uint64_t bits;           /* the value has no bit outside these */
	uint64_t align;          /* the value is a multiple of this */
	uint64_t max;            /* the value is at most this */
	hw_vms_check_fn check;   /* anything else, NULL when nothing */
};

/* Fields of one struct that the device holds `count` times (the rings), or once
 * (the device itself, prefix ""). A field's name in saved state is the prefix,
 * the instance number and a dot, then the field's name: "ring1.wptr". */
struct hw_vms_section {
	const char *prefix;      /* "ring"; "" for the device itself (count 1) */
	size_t offset;           /* of instance 0 in struct hw_device */
	size_t stride;           /* between instances */
	unsigned count;
	const struct hw_vms_field *fields;
	size_t nfields;
};

extern const struct hw_vms_section hw_vms_sections[];
extern const size_t hw_vms_nsections;

/* Members of struct hw_device that are deliberately not saved, and why: the
 * configuration, host resources, what is derived from saved fields. Together
 * with the fields they must cover every member (tests/hw/test_vmstate.c). */
struct hw_vms_unsaved {
	const char *name;
	size_t offset, size;
	const char *why;
};
extern const struct hw_vms_unsaved hw_vms_unsaved[];
extern const size_t hw_vms_nunsaved;

/* Where instance inst of field f is in struct hw_device (of the pointer for an
 * array); how many values it has in dev (1 for a scalar); value k of it, read or
 * written in dev as the member's type. */
size_t hw_vms_offset(const struct hw_vms_section *sec, unsigned inst, const struct hw_vms_field *f);
uint64_t hw_vms_count(const struct hw_device *dev, const struct hw_vms_field *f);
uint64_t hw_vms_get(const struct hw_device *dev, const struct hw_vms_section *sec, unsigned inst,
		    const struct hw_vms_field *f, uint64_t k);
void hw_vms_put(struct hw_device *dev, const struct hw_vms_section *sec, unsigned inst,
		const struct hw_vms_field *f, uint64_t k, uint64_t v);

/* Value v of element k (0 for a scalar) of instance inst of field f against the
 * field's rules, in the proposed state st; false with a sentence in why. */
bool hw_vms_field_ok(const struct hw_device *st, unsigned inst, const struct hw_vms_field *f,
		     uint64_t k, uint64_t v, char *why, size_t whylen);

/* Checks that need several fields at once (the system-page books) and the
 * state derived from saved fields (the allocation bitmap), run on the proposed
 * state after every field passed its own rule. What it allocates goes into *st;
 * on failure nothing stays allocated. 0, -ENOMEM, or -EINVAL with a sentence
 * that names the field. */
int hw_vms_derive(struct hw_device *st, char *why, size_t whylen);
/* The name a field of instance `inst` has in saved state, into buf. */
void hw_vms_name(const struct hw_vms_section *sec, unsigned inst, const struct hw_vms_field *f,
		 char *buf, size_t len);
/* Free the derived state of a device whose state is being replaced. */
void hw_vms_derived_free(struct hw_device *dev);

#endif
