/*
 * The static check of a parsed scenario: every allocation and device name is defined
 * before it is used and not used after `free`, none is defined twice while alive, and
 * `adapter` comes first and once. Runs over the flat list, so it is linear in commands.
 */
#include <config.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/elf/image.h"
#include "sim/scenario/scenario.h"

struct ent {
	const char *key;     /* points into the script */
	struct scn_loc def;  /* where it was last defined */
	struct scn_loc freed;
	bool alive;
	bool implicit;       /* the default device, created by its first use */
	const struct scn_cmd *image; /* images: the `image` command that loaded it */
	const char *parent;  /* VA mapped at=R: R, whose free-va frees it too */
	struct scn_loc parent_def;
};

/* Open addressing: a script may define millions of names through repeat. */
struct table {
	struct ent *slots;
	size_t cap, n;
};

struct cctx {
	struct scn_error *err;
	struct table allocs, devices, images;
	/* WDDM 2 names, one table per kind: a fence and a VA may share a name. */
	struct table queues, contexts, vas, fences, cmdbufs;
	const struct scn_cmd *first;    /* the script's first command */
	const struct scn_cmd *adapter;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct ent *find(const struct table *t, const char *key)
{
	if (!t->cap)
		return NULL;
	for (size_t i = hash(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->slots[i].key)
			return NULL;
		if (!strcmp(t->slots[i].key, key))
			return &t->slots[i];
	}
}

/* The entry for key, added (not alive) when missing; NULL when out of memory. */
static struct ent *insert(struct table *t, const char *key)
{
	struct ent *e = find(t, key);
	if (e)
		return e;
	if ((t->n + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		struct ent *ns = calloc(ncap, sizeof *ns);
		if (!ns)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i].key)
				continue;
			size_t j = hash(t->slots[i].key) & (ncap - 1);
			while (ns[j].key)
				j = (j + 1) & (ncap - 1);
			ns[j] = t->slots[i];
		}
		free(t->slots);
		t->slots = ns;
		t->cap = ncap;
	}
	size_t i = hash(key) & (t->cap - 1);
	while (t->slots[i].key)
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = (struct ent){ .key = key };
	t->n++;
	return &t->slots[i];
}

static int fail(struct cctx *c, const struct scn_loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct cctx *c, const struct scn_loc *loc, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->err->file, sizeof c->err->file, "%s", loc->file ? loc->file : "");
	c->err->line = loc->line;
	c->err->col = loc->col;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof c->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *file_of(const struct scn_loc *loc)
{
	return loc->file ? loc->file : "";
}

static const char *kind_name(enum scn_kind k)
{
	static const char *const names[] = {
		[SCN_ADAPTER] = "adapter",     [SCN_DEVICE] = "device",
		[SCN_ALLOC] = "alloc",         [SCN_FREE] = "free",
		[SCN_WRITE] = "write",         [SCN_VERIFY] = "verify",
		[SCN_LOCK] = "lock",           [SCN_UNLOCK] = "unlock",
		[SCN_SUBMIT] = "submit",       [SCN_GPU_FILL] = "gpu-fill",
		[SCN_GPU_COPY] = "gpu-copy",   [SCN_RESIDENT] = "resident",
		[SCN_EVICT] = "evict",         [SCN_PRIORITY] = "priority",
		[SCN_IDLE] = "idle",           [SCN_INJECT] = "inject",
		[SCN_SNAPSHOT] = "snapshot",   [SCN_SHOW] = "show",
		[SCN_ECHO] = "echo",           [SCN_EXPECT_IN] = "expect",
		[SCN_EXPECT_STAT] = "expect",  [SCN_EXPECT_STATUS] = "expect",
		[SCN_IMAGE] = "image",         [SCN_SUBMIT_IMAGE] = "submit-image",
		[SCN_PAGINGQUEUE] = "pagingqueue", [SCN_WAIT_PAGING] = "wait-paging",
		[SCN_VCONTEXT] = "vcontext",   [SCN_RESERVE] = "reserve",
		[SCN_MAP] = "map",             [SCN_UNMAP] = "unmap",
		[SCN_FREE_VA] = "free-va",     [SCN_FENCE] = "fence",
		[SCN_SIGNAL] = "signal",       [SCN_WAIT] = "wait",
		[SCN_GPU_SIGNAL] = "gpu-signal", [SCN_GPU_WAIT] = "gpu-wait",
		[SCN_CMDBUF] = "cmdbuf",       [SCN_CMD] = "cmd",
		[SCN_SUBMIT_COMMAND] = "submit-command", [SCN_EXPECT_FENCE] = "expect",
		[SCN_EXPECT_VA] = "expect",    [SCN_EXPECT_FAULT] = "expect",
	};
	return (unsigned)k < sizeof names / sizeof names[0] && names[k] ? names[k] : "command";
}

/* A scenario that starts from a snapshot (adapter from=FILE) uses names the
 * snapshot defines, which only the runner can know: a name first seen in use is
 * taken as one of them, and the runner reports it if the snapshot lacks it. */
static struct ent *from_snapshot(struct cctx *c, struct table *t, const struct scn_cmd *cmd,
				 const char *name)
{
	if (!c->adapter || !c->adapter->path)
		return NULL;
	struct ent *e = insert(t, name);
	if (e)
		*e = (struct ent){ .key = name, .def = c->adapter->loc, .alive = true };
	return e;
}

static int use_alloc(struct cctx *c, const struct scn_cmd *cmd, const char *name)
{
	const struct ent *e = find(&c->allocs, name);

	if (!e && !(e = from_snapshot(c, &c->allocs, cmd, name)))
		return fail(c, &cmd->loc, "unknown allocation '%s'", name);
	if (!e->alive)
		return fail(c, &cmd->loc, "allocation '%s' was freed at %s:%u", name,
			    file_of(&e->freed), e->freed.line);
	return 0;
}

/* NULL is the default device, which the first command that needs it creates. */
static int use_device(struct cctx *c, const struct scn_cmd *cmd, const char *name)
{
	if (name) {
		if (!find(&c->devices, name) && !from_snapshot(c, &c->devices, cmd, name))
			return fail(c, &cmd->loc, "unknown device '%s' (expected a name defined by device)",
				    name);
		return 0;
	}
	struct ent *e = insert(&c->devices, "default");
	if (!e)
		return fail(c, &cmd->loc, "out of memory");
	if (!e->alive) {
		e->alive = true;
		e->implicit = true;
		e->def = cmd->loc;
	}
	return 0;
}

/* `image NAME FILE`: NAME.0 .. NAME.n-1 are allocations like alloc's. */
static int check_image(struct cctx *c, const struct scn_cmd *cmd, bool takes_effect)
{
	struct ent *e;
	if (use_device(c, cmd, cmd->device) < 0)
		return -1;
	for (uint32_t i = 0; i < cmd->nnames; i++) {
		e = find(&c->allocs, cmd->names[i]);
		if (e && e->alive)
			return fail(c, &cmd->loc, "allocation '%s' already exists (defined at %s:%u)",
				    cmd->names[i], file_of(&e->def), e->def.line);
	}
	if (!takes_effect)
		return 0;
	for (uint32_t i = 0; i < cmd->nnames; i++) {
		if (!(e = insert(&c->allocs, cmd->names[i])))
			return fail(c, &cmd->loc, "out of memory");
		e->def = cmd->loc;
		e->alive = true;
	}
	if (!(e = insert(&c->images, cmd->name)))
		return fail(c, &cmd->loc, "out of memory");
	e->def = cmd->loc;
	e->alive = true;
	e->image = cmd;
	return 0;
}

/* The segment submit-image runs: the one named, which must be executable, or the
 * image's only executable one. */
static int check_submit_image(struct cctx *c, const struct scn_cmd *cmd)
{
	const struct ent *e = find(&c->images, cmd->name);
	if (!e)
		return fail(c, &cmd->loc, "unknown image '%s' (expected a name defined by image)", cmd->name);
	const struct scn_cmd *def = e->image;
	const struct elfimg *img = def->image;
	for (uint32_t i = 0; i < def->nnames; i++)
		if (use_alloc(c, cmd, def->names[i]) < 0)
			return -1;
	if (!img)
		return 0;
	if (cmd->segment_given) {
		if (cmd->segment >= img->nsegs)
			return fail(c, &cmd->loc, "image '%s' has no segment %u (it has %u, loaded at %s:%u)",
				    cmd->name, cmd->segment, img->nsegs, file_of(&def->loc), def->loc.line);
		if (!(img->segs[cmd->segment].flags & ELFIMG_X))
			return fail(c, &cmd->loc, "segment %u of image '%s' is not executable (no X in its flags)",
				    cmd->segment, cmd->name);
		return 0;
	}
	int x = elfimg_only_exec(img);
	if (x == -1)
		return fail(c, &cmd->loc, "image '%s' has no executable segment to submit", cmd->name);
	if (x < 0)
		return fail(c, &cmd->loc,
			    "image '%s' has several executable segments: name the one to submit "
			    "(submit-image %s SEG)",
			    cmd->name, cmd->name);
	return 0;
}

/* ---- WDDM 2 names ------------------------------------------------------------ */

struct kind {
	const char *what;     /* "paging queue" */
	const char *definer;  /* "pagingqueue" */
};
static const struct kind K_QUEUE_ = { "paging queue", "pagingqueue" };
static const struct kind K_CONTEXT_ = { "context", "vcontext" };
static const struct kind K_VA_ = { "VA", "reserve or map" };
static const struct kind K_FENCE_ = { "fence", "fence" };
static const struct kind K_CMDBUF_ = { "command buffer", "cmdbuf" };

/* A VA mapped inside a reservation dies with it: freed (or freed and reserved
 * again, which a different definition tells) since the map. */
static const struct ent *dead_parent(const struct cctx *c, const struct ent *e)
{
	if (!e->alive || !e->parent)
		return NULL;
	const struct ent *p = find(&c->vas, e->parent);
	if (p && p->alive && p->def.line == e->parent_def.line && p->def.col == e->parent_def.col &&
	    p->def.file == e->parent_def.file)
		return NULL;
	return p;
}

static int define_obj(struct cctx *c, struct table *t, const struct kind *k, const struct scn_cmd *cmd,
		      const char *name, bool takes_effect)
{
	struct ent *e = find(t, name);
	if (e && e->alive && !(t == &c->vas && dead_parent(c, e)))
		return fail(c, &cmd->loc, "%s '%s' already exists (defined at %s:%u)", k->what, name,
			    file_of(&e->def), e->def.line);
	if (!takes_effect)
		return 0;
	if (!(e = insert(t, name)))
		return fail(c, &cmd->loc, "out of memory");
	*e = (struct ent){ .key = name, .def = cmd->loc, .alive = true };
	return 0;
}

static int use_obj(struct cctx *c, struct table *t, const struct kind *k, const struct scn_cmd *cmd,
		   const char *name)
{
	const struct ent *e = find(t, name);
	if (!e)
		return fail(c, &cmd->loc, "unknown %s '%s' (expected a name defined by %s)", k->what, name,
			    k->definer);
	if (!e->alive)
		return fail(c, &cmd->loc, "%s '%s' was freed at %s:%u", k->what, name, file_of(&e->freed),
			    e->freed.line);
	const struct ent *p = t == &c->vas ? dead_parent(c, e) : NULL;
	if (p)
		return fail(c, &cmd->loc, "%s '%s' was freed with its reservation '%s' at %s:%u", k->what, name,
			    e->parent, file_of(&p->freed), p->freed.line);
	return 0;
}

static int use_va(struct cctx *c, const struct scn_cmd *cmd, const struct scn_va *va)
{
	return va->name ? use_obj(c, &c->vas, &K_VA_, cmd, va->name) : 0;
}

static int check_wddm2(struct cctx *c, const struct scn_cmd *cmd, bool takes_effect)
{
	struct ent *e;

	switch (cmd->kind) {
	case SCN_PAGINGQUEUE:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		return define_obj(c, &c->queues, &K_QUEUE_, cmd, cmd->name, takes_effect);
	case SCN_VCONTEXT:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		return define_obj(c, &c->contexts, &K_CONTEXT_, cmd, cmd->name, takes_effect);
	case SCN_FENCE:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		return define_obj(c, &c->fences, &K_FENCE_, cmd, cmd->name, takes_effect);
	case SCN_CMDBUF:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		return define_obj(c, &c->cmdbufs, &K_CMDBUF_, cmd, cmd->name, takes_effect);
	case SCN_RESERVE:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		return define_obj(c, &c->vas, &K_VA_, cmd, cmd->name, takes_effect);
	case SCN_MAP:
		if (use_alloc(c, cmd, cmd->name2) < 0 || use_va(c, cmd, &cmd->va) < 0 ||
		    (cmd->queue && use_obj(c, &c->queues, &K_QUEUE_, cmd, cmd->queue) < 0) ||
		    define_obj(c, &c->vas, &K_VA_, cmd, cmd->name, takes_effect) < 0)
			return -1;
		if (takes_effect && cmd->va.name) {
			const struct ent *p = find(&c->vas, cmd->va.name);
			struct scn_loc pdef = p->parent ? p->parent_def : p->def;
			const char *pname = p->parent ? p->parent : cmd->va.name; /* at=V: V's reservation */
			e = find(&c->vas, cmd->name);
			e->parent = pname;
			e->parent_def = pdef;
		}
		return 0;
	case SCN_WAIT_PAGING:
		return use_obj(c, &c->queues, &K_QUEUE_, cmd, cmd->name);
	case SCN_UNMAP:
		return use_obj(c, &c->vas, &K_VA_, cmd, cmd->name);
	case SCN_FREE_VA:
		if (use_obj(c, &c->vas, &K_VA_, cmd, cmd->name) < 0)
			return -1;
		if (takes_effect) {
			e = find(&c->vas, cmd->name);
			e->alive = false;
			e->freed = cmd->loc;
		}
		return 0;
	case SCN_SIGNAL:
	case SCN_WAIT:
	case SCN_EXPECT_FENCE:
		return use_obj(c, &c->fences, &K_FENCE_, cmd, cmd->name);
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT:
		if (use_obj(c, &c->contexts, &K_CONTEXT_, cmd, cmd->name) < 0)
			return -1;
		return use_obj(c, &c->fences, &K_FENCE_, cmd, cmd->name2);
	case SCN_CMD:
		if (use_obj(c, &c->cmdbufs, &K_CMDBUF_, cmd, cmd->name) < 0)
			return -1;
		if (cmd->op == SCN_OP_SIGNAL || cmd->op == SCN_OP_WAIT)
			return use_obj(c, &c->fences, &K_FENCE_, cmd, cmd->name2);
		if (cmd->op == SCN_OP_RESET || cmd->op == SCN_OP_RAW)
			return 0;
		if (use_va(c, cmd, &cmd->va) < 0)
			return -1;
		return cmd->va2_given ? use_va(c, cmd, &cmd->va2) : 0;
	case SCN_SUBMIT_COMMAND:
		if (use_obj(c, &c->contexts, &K_CONTEXT_, cmd, cmd->name) < 0)
			return -1;
		return use_obj(c, &c->cmdbufs, &K_CMDBUF_, cmd, cmd->name2);
	case SCN_EXPECT_VA:
		if (use_va(c, cmd, &cmd->va) < 0)
			return -1;
		return cmd->mapped ? use_alloc(c, cmd, cmd->name2) : 0;
	case SCN_EXPECT_FAULT:
		if (use_va(c, cmd, &cmd->va) < 0)
			return -1;
		return cmd->name2 ? use_alloc(c, cmd, cmd->name2) : 0;
	default:
		break;
	}
	return fail(c, &cmd->loc, "unknown command kind %d", (int)cmd->kind);
}

static int check_cmd(struct cctx *c, const struct scn_cmd *cmd, bool takes_effect)
{
	struct ent *e;

	switch (cmd->kind) {
	case SCN_ADAPTER:
		if (c->adapter)
			return fail(c, &cmd->loc, "expected at most one adapter, found a second (the first at %s:%u)",
				    file_of(&c->adapter->loc), c->adapter->loc.line);
		if (cmd != c->first)
			return fail(c, &cmd->loc,
				    "expected adapter before any other command, found it after %s at %s:%u",
				    kind_name(c->first->kind), file_of(&c->first->loc), c->first->loc.line);
		c->adapter = cmd;
		return 0;
	case SCN_DEVICE:
		e = find(&c->devices, cmd->name);
		if (e && e->alive)
			return fail(c, &cmd->loc, "device '%s' already exists (%s at %s:%u)", cmd->name,
				    e->implicit ? "created implicitly" : "defined", file_of(&e->def),
				    e->def.line);
		if (!takes_effect)
			return 0;
		e = insert(&c->devices, cmd->name);
		if (!e)
			return fail(c, &cmd->loc, "out of memory");
		*e = (struct ent){ .key = cmd->name, .def = cmd->loc, .alive = true };
		return 0;
	case SCN_ALLOC:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		e = find(&c->allocs, cmd->name);
		if (e && e->alive)
			return fail(c, &cmd->loc, "allocation '%s' already exists (defined at %s:%u)",
				    cmd->name, file_of(&e->def), e->def.line);
		if (!takes_effect)
			return 0;
		e = insert(&c->allocs, cmd->name);
		if (!e)
			return fail(c, &cmd->loc, "out of memory");
		e->def = cmd->loc;
		e->alive = true;
		return 0;
	case SCN_FREE:
		for (uint32_t i = 0; i < cmd->nnames; i++) {
			if (use_alloc(c, cmd, cmd->names[i]) < 0)
				return -1;
			if (takes_effect) {
				e = find(&c->allocs, cmd->names[i]);
				e->alive = false;
				e->freed = cmd->loc;
			}
		}
		return 0;
	case SCN_SUBMIT:
		if (use_device(c, cmd, cmd->device) < 0)
			return -1;
		/* fall through */
	case SCN_RESIDENT:
	case SCN_EVICT:
		if (cmd->queue && use_obj(c, &c->queues, &K_QUEUE_, cmd, cmd->queue) < 0)
			return -1;
		for (uint32_t i = 0; i < cmd->nnames; i++)
			if (use_alloc(c, cmd, cmd->names[i]) < 0)
				return -1;
		return 0;
	case SCN_GPU_COPY:
		if (use_alloc(c, cmd, cmd->name) < 0)
			return -1;
		return use_alloc(c, cmd, cmd->name2);
	case SCN_WRITE:
	case SCN_VERIFY:
	case SCN_LOCK:
	case SCN_UNLOCK:
	case SCN_GPU_FILL:
	case SCN_PRIORITY:
	case SCN_EXPECT_IN:
		return use_alloc(c, cmd, cmd->name);
	case SCN_IMAGE:
		return check_image(c, cmd, takes_effect);
	case SCN_SUBMIT_IMAGE:
		return check_submit_image(c, cmd);
	case SCN_EXPECT_STATUS:
		if (!cmd->inner)
			return fail(c, &cmd->loc, "expected a command after expect status, found none");
		/* A call expected to fail creates and destroys nothing. */
		return check_cmd(c, cmd->inner,
				 takes_effect && (cmd->status == STATUS_SUCCESS || cmd->status == STATUS_PENDING));
	case SCN_IDLE:
	case SCN_INJECT:
	case SCN_SNAPSHOT:
	case SCN_SHOW:
	case SCN_ECHO:
	case SCN_EXPECT_STAT:
		return 0;
	case SCN_PAGINGQUEUE:
	case SCN_WAIT_PAGING:
	case SCN_VCONTEXT:
	case SCN_RESERVE:
	case SCN_MAP:
	case SCN_UNMAP:
	case SCN_FREE_VA:
	case SCN_FENCE:
	case SCN_SIGNAL:
	case SCN_WAIT:
	case SCN_GPU_SIGNAL:
	case SCN_GPU_WAIT:
	case SCN_CMDBUF:
	case SCN_CMD:
	case SCN_SUBMIT_COMMAND:
	case SCN_EXPECT_FENCE:
	case SCN_EXPECT_VA:
	case SCN_EXPECT_FAULT:
		return check_wddm2(c, cmd, takes_effect);
	}
	return fail(c, &cmd->loc, "unknown command kind %d", (int)cmd->kind);
}

int scn_check(const struct scn_script *s, struct scn_error *err)
{
	struct scn_error dummy;
	struct cctx c;
	int rc = 0;

	memset(&c, 0, sizeof c);
	c.err = err ? err : &dummy;
	memset(c.err, 0, sizeof *c.err);
	if (!s) {
		snprintf(c.err->msg, sizeof c.err->msg, "no script to check");
		return -1;
	}
	c.first = s->ncmds ? &s->cmds[0] : NULL;
	for (size_t i = 0; i < s->ncmds && rc == 0; i++)
		rc = check_cmd(&c, &s->cmds[i], true);
	free(c.allocs.slots);
	free(c.devices.slots);
	free(c.images.slots);
	free(c.queues.slots);
	free(c.contexts.slots);
	free(c.vas.slots);
	free(c.fences.slots);
	free(c.cmdbufs.slots);
	return rc;
}
