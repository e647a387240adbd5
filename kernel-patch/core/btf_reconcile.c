// SPDX-License-Identifier: GPL-2.0
/*
 * BTF reconciliation: move a module's split BTF from the distilled base it
 * was built on (the module's ".BTF.base" section) onto the running kernel's
 * BTF, so that a module built against one kernel keeps usable BTF on
 * another one.
 *
 * The distilled base holds only named INT, FLOAT, ENUM, STRUCT, UNION and
 * FWD types: what the split refers to in the kernel it was built against,
 * reduced to name, kind and size. Each of them is matched by name (and, where
 * the name is ambiguous or the kind has one, size) to a type of the running
 * kernel; then every type id and string offset in the split is rewritten to
 * point there. A composite the module holds by value must keep its size.
 *
 * All three inputs are raw BTF (header, type section, string section) in
 * host byte order; converting foreign-endian BTF is the caller's job. The
 * distilled base may sit at any address (it is read in place from the
 * module image: it is copied before use); the split and the base must be
 * 4-byte aligned. The split is rewritten in place, and only once every
 * check has passed: on failure it is left as it was.
 *
 * This file is built both into the kernel and, with a small shim header,
 * into a userspace test driver; keep its interface free of kernel types.
 */

#define pr_fmt(fmt) "BTF: " fmt

#include <linux/align.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <uapi/linux/btf.h>

#include "btf_reconcile.h"

/* One raw BTF, checked for layout by parse_raw(). */
struct btf_raw {
	const u32 *types;	/* type section, 4-byte words */
	u32 types_len;		/* in bytes */
	const char *strs;
	u32 strs_len;
	u32 nr_types;		/* records in the type section */
	u32 *offs;		/* word offset of each record, when indexed */
};

/* A distilled type in matching order. */
struct dist_entry {
	const char *name;
	u32 id;
	u32 size;		/* as a 31-bit key */
};

struct btf_reconcile {
	const char *name;	/* module, for messages */
	struct btf_raw dist;
	struct btf_raw split;
	struct btf_raw base;
	u32 *split_types;	/* writable view of split.types */
	u32 nd;			/* distilled ids, void included */
	u32 ns;			/* split types */
	u32 nb;			/* base ids, void included */
	void *dist_copy;	/* aligned copy of the distilled base */
	struct dist_entry *sorted;
	u32 *chain;		/* member type chain results, by local id */
	u8 *embedded;		/* by distilled id */
	u8 *name_cnt;		/* base composites by name offset, up to 2 */
	u32 *name_map;		/* distilled name offset -> base name offset */
	u32 *id_map;		/* pre-relocation id -> base id */
};

/* Where a kind keeps its type ids or string offsets: up to two runs of words. */
struct field_runs {
	struct {
		u32 first;
		u32 stride;
		u32 count;
	} run[2];
};

#define KEY_SIZE_MASK	0x7fffffffu

/*
 * Every allocation here is sized by the input (a module's BTF): a huge one
 * is refused quietly, as the kernel does for BTF loaded from userspace.
 */
#define RECON_GFP	(GFP_KERNEL | __GFP_NOWARN)

/* A scheduling point every this many types in the long loops. */
#define RESCHED_EVERY	1024

static u32 type_kind(const u32 *t)
{
	return BTF_INFO_KIND(t[1]);
}

static u32 type_vlen(const u32 *t)
{
	return BTF_INFO_VLEN(t[1]);
}

static bool type_kflag(const u32 *t)
{
	return BTF_INFO_KFLAG(t[1]);
}

static bool kind_is_composite(u32 kind)
{
	return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION;
}

static const char *kind_name(u32 kind)
{
	static const char * const names[] = {
		[BTF_KIND_UNKN] = "UNKNOWN",
		[BTF_KIND_INT] = "INT",
		[BTF_KIND_PTR] = "PTR",
		[BTF_KIND_ARRAY] = "ARRAY",
		[BTF_KIND_STRUCT] = "STRUCT",
		[BTF_KIND_UNION] = "UNION",
		[BTF_KIND_ENUM] = "ENUM",
		[BTF_KIND_FWD] = "FWD",
		[BTF_KIND_TYPEDEF] = "TYPEDEF",
		[BTF_KIND_VOLATILE] = "VOLATILE",
		[BTF_KIND_CONST] = "CONST",
		[BTF_KIND_RESTRICT] = "RESTRICT",
		[BTF_KIND_FUNC] = "FUNC",
		[BTF_KIND_FUNC_PROTO] = "FUNC_PROTO",
		[BTF_KIND_VAR] = "VAR",
		[BTF_KIND_DATASEC] = "DATASEC",
		[BTF_KIND_FLOAT] = "FLOAT",
		[BTF_KIND_DECL_TAG] = "DECL_TAG",
		[BTF_KIND_TYPE_TAG] = "TYPE_TAG",
		[BTF_KIND_ENUM64] = "ENUM64",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "UNKNOWN";
}

/* Length of a type record in words, or 0 for an unknown kind. */
static u32 type_words(const u32 *t)
{
	u32 vlen = type_vlen(t);

	switch (type_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 3;
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_ARRAY:
		return 6;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		return 3 + 2 * vlen;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
	case BTF_KIND_ENUM64:
		return 3 + 3 * vlen;
	}
	return 0;
}

/*
 * The type id fields of a record, in BTF's field order: the referenced
 * type, array element then index, member types, return type then
 * parameter types, section variables.
 */
static void id_fields(const u32 *t, struct field_runs *f)
{
	u32 vlen = type_vlen(t);

	memset(f, 0, sizeof(*f));
	switch (type_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
		f->run[0].first = 2;
		f->run[0].count = 1;
		break;
	case BTF_KIND_ARRAY:
		f->run[0].first = 3;
		f->run[0].stride = 1;
		f->run[0].count = 2;
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		f->run[0].first = 4;
		f->run[0].stride = 3;
		f->run[0].count = vlen;
		break;
	case BTF_KIND_FUNC_PROTO:
		f->run[0].first = 2;
		f->run[0].count = 1;
		f->run[1].first = 4;
		f->run[1].stride = 2;
		f->run[1].count = vlen;
		break;
	case BTF_KIND_DATASEC:
		f->run[0].first = 3;
		f->run[0].stride = 3;
		f->run[0].count = vlen;
		break;
	}
}

/* The string offset fields of a record: its name, then member names. */
static void str_fields(const u32 *t, struct field_runs *f)
{
	u32 vlen = type_vlen(t);

	memset(f, 0, sizeof(*f));
	f->run[0].first = 0;
	f->run[0].count = 1;
	switch (type_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM64:
		f->run[1].first = 3;
		f->run[1].stride = 3;
		f->run[1].count = vlen;
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		f->run[1].first = 3;
		f->run[1].stride = 2;
		f->run[1].count = vlen;
		break;
	}
}

/*
 * Check a raw BTF's header and section layout the way the kernel does for
 * module BTF, and walk its type section once. @split: strings may be empty
 * and need not start with "". @index: record each type's offset.
 */
static int parse_raw(const char *what, const void *data, u32 size, bool split,
		     bool index, struct btf_raw *raw)
{
	const struct btf_header *hdr = data;
	const u8 *bytes = data;
	u64 meta_len, type_end, str_end;
	u32 off, nr, i;

	if (size < sizeof(*hdr) || hdr->magic != BTF_MAGIC ||
	    hdr->version != BTF_VERSION || hdr->flags) {
		pr_warn("%s: bad BTF header\n", what);
		return -EINVAL;
	}
	if (hdr->hdr_len < sizeof(*hdr) || hdr->hdr_len > size ||
	    hdr->hdr_len % 4) {
		pr_warn("%s: bad BTF header length %u\n", what, hdr->hdr_len);
		return -EINVAL;
	}
	/* A longer header is only accepted when its extra bytes are zero. */
	for (i = sizeof(*hdr); i < hdr->hdr_len; i++) {
		if (bytes[i]) {
			pr_warn("%s: unsupported BTF header field at byte %u\n",
				what, i);
			return -EINVAL;
		}
	}
	meta_len = size - hdr->hdr_len;
	type_end = (u64)hdr->type_off + hdr->type_len;
	str_end = (u64)hdr->str_off + hdr->str_len;
	if (hdr->type_off % 4 || hdr->type_len % 4 || type_end > hdr->str_off ||
	    str_end > meta_len) {
		pr_warn("%s: bad BTF section layout\n", what);
		return -EINVAL;
	}
	raw->types = (const u32 *)(bytes + hdr->hdr_len + hdr->type_off);
	raw->types_len = hdr->type_len;
	raw->strs = (const char *)(bytes + hdr->hdr_len + hdr->str_off);
	raw->strs_len = hdr->str_len;
	if ((!split && (!raw->strs_len || raw->strs[0])) ||
	    (raw->strs_len && raw->strs[raw->strs_len - 1])) {
		pr_warn("%s: bad BTF string section\n", what);
		return -EINVAL;
	}

	nr = 0;
	for (off = 0; off < raw->types_len / 4; nr++) {
		u32 left = raw->types_len / 4 - off;
		u32 words = left < 3 ? 0 : type_words(raw->types + off);

		if (!words || words > left) {
			pr_warn("%s: bad type record at offset %u\n", what,
				off * 4);
			return -EINVAL;
		}
		off += words;
	}
	raw->nr_types = nr;
	raw->offs = NULL;
	if (!index || !nr)
		return 0;

	raw->offs = kvcalloc(nr, sizeof(*raw->offs), RECON_GFP);
	if (!raw->offs)
		return -ENOMEM;
	for (off = 0, i = 0; i < nr; i++) {
		raw->offs[i] = off;
		off += type_words(raw->types + off);
	}
	return 0;
}

/* The record of void, which has no record in the type section. */
static const u32 void_type[3];

/*
 * A type of the distilled base or the split by pre-relocation id; void for
 * id 0 (and for an id past the split, which check_fields() refuses first).
 */
static const u32 *local_type(const struct btf_reconcile *r, u32 id)
{
	if (!id || id >= r->nd + r->ns)
		return void_type;
	if (id < r->nd)
		return r->dist.types + r->dist.offs[id - 1];
	return r->split.types + r->split.offs[id - r->nd];
}

static const char *raw_name(const struct btf_raw *raw, u32 off)
{
	return off < raw->strs_len ? raw->strs + off : "(bad name)";
}

/*
 * Every id and string field of @raw must be in range: ids below @nr_ids,
 * string offsets below @str_end.
 */
static int check_fields(const char *what, const struct btf_raw *raw,
			u32 first_id, u32 nr_ids, u32 str_end)
{
	struct field_runs f;
	u32 i, j, k;

	for (i = 0; i < raw->nr_types; i++) {
		const u32 *t = raw->types + raw->offs[i];

		id_fields(t, &f);
		for (j = 0; j < ARRAY_SIZE(f.run); j++) {
			for (k = 0; k < f.run[j].count; k++) {
				u32 id = t[f.run[j].first + k * f.run[j].stride];

				if (id >= nr_ids) {
					pr_warn("%s: type [%u] refers to invalid type id %u\n",
						what, first_id + i, id);
					return -EINVAL;
				}
			}
		}
		str_fields(t, &f);
		for (j = 0; j < ARRAY_SIZE(f.run); j++) {
			for (k = 0; k < f.run[j].count; k++) {
				u32 off = t[f.run[j].first + k * f.run[j].stride];

				if (off >= str_end) {
					pr_warn("%s: type [%u] has invalid string offset %u\n",
						what, first_id + i, off);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

/*
 * The distilled base may only hold what a distiller produces: named INT,
 * FLOAT, ENUM, STRUCT, UNION and FWD. Anything else cannot be matched.
 */
static int validate_distilled(struct btf_reconcile *r)
{
	u32 id;

	for (id = 1; id < r->nd; id++) {
		const u32 *t = local_type(r, id);
		u32 kind = type_kind(t);

		switch (kind) {
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
		case BTF_KIND_ENUM:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_FWD:
			if (t[0])
				break;
			pr_warn("module '%s': distilled base type [%u] %s is anonymous\n",
				r->name, id, kind_name(kind));
			return -EINVAL;
		default:
			pr_warn("module '%s': distilled base type [%u] %s '%s' has a kind a distilled base cannot hold\n",
				r->name, id, kind_name(kind),
				raw_name(&r->dist, t[0]));
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Where a member's type chain ends: the chain goes through modifiers,
 * typedefs and array elements, and ends at any other kind. Results are
 * kept per id (CHAIN_DONE | the distilled composite it ends at, or 0), so
 * every id is walked once however many members share its chain; an id on
 * the chain being walked is CHAIN_BUSY, and meeting one again is a cycle.
 */
#define CHAIN_DONE	0x80000000u
#define CHAIN_BUSY	0x40000000u
#define CHAIN_ID	0x3fffffffu

static bool chain_link(const struct btf_reconcile *r, u32 id, u32 *next)
{
	const u32 *t = local_type(r, id);

	switch (type_kind(t)) {
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_TYPE_TAG:
		*next = t[2];
		return true;
	case BTF_KIND_ARRAY:
		*next = t[3];
		return true;
	}
	return false;
}

/* The distilled composite the chain from @start ends at, or 0; -ELOOP. */
static int chain_end(struct btf_reconcile *r, u32 start, u32 *end)
{
	u32 id = start, next, res;

	/* first pass: find the end, marking the way */
	for (;;) {
		if (!id) {
			res = 0;
			break;
		}
		if (r->chain[id] & CHAIN_DONE) {
			res = r->chain[id] & CHAIN_ID;
			break;
		}
		if (r->chain[id] & CHAIN_BUSY)
			return -ELOOP;
		if (!chain_link(r, id, &next)) {
			res = id < r->nd &&
			      kind_is_composite(type_kind(local_type(r, id))) ?
			      id : 0;
			break;
		}
		r->chain[id] = CHAIN_BUSY;
		id = next;
	}
	/* second pass: the same way again, recording the result */
	for (id = start; id && !(r->chain[id] & CHAIN_DONE); id = next) {
		if (!chain_link(r, id, &next))
			next = 0;
		r->chain[id] = CHAIN_DONE | res;
	}
	*end = res;
	return 0;
}

/*
 * A distilled composite that a split composite holds by value, through
 * modifiers, typedefs and arrays, is embedded: the module's layout depends
 * on its size. Pointers end the walk. A cycle of typedefs (or arrays) is
 * refused instead of looping.
 */
static int mark_embedded(struct btf_reconcile *r)
{
	u32 i, m, end;

	for (i = 0; i < r->ns; i++) {
		const u32 *t = r->split.types + r->split.offs[i];

		if (!(i % RESCHED_EVERY))
			cond_resched();
		if (!kind_is_composite(type_kind(t)))
			continue;
		for (m = 0; m < type_vlen(t); m++) {
			if (chain_end(r, t[3 + 3 * m + 1], &end)) {
				pr_warn("module '%s': type [%u] '%s': member %u's type chain does not end\n",
					r->name, r->nd + i,
					raw_name(&r->split, t[0]), m);
				return -ELOOP;
			}
			if (end)
				r->embedded[end] = 1;
		}
	}
	return 0;
}

static int cmp_dist_entry(const void *a, const void *b)
{
	const struct dist_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	/* larger sizes first */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return 0;
}

/* Distilled types, void included, sorted by name and descending size. */
static int sort_distilled(struct btf_reconcile *r)
{
	u32 id;

	r->sorted = kvcalloc(r->nd, sizeof(*r->sorted), RECON_GFP);
	if (!r->sorted)
		return -ENOMEM;
	r->sorted[0].name = "";
	for (id = 1; id < r->nd; id++) {
		const u32 *t = local_type(r, id);

		r->sorted[id].name = r->dist.strs + t[0];
		r->sorted[id].id = id;
		r->sorted[id].size = t[2] & KEY_SIZE_MASK;
	}
	sort(r->sorted, r->nd, sizeof(*r->sorted), cmp_dist_entry, NULL);
	return 0;
}

/* Index of the first sorted distilled type named @name, or r->nd. */
static u32 find_first(const struct btf_reconcile *r, const char *name)
{
	u32 lo = 0, hi = r->nd;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (strcmp(r->sorted[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Walk the base type section once to count its types and, per name
 * offset, its composites: a composite name used more than once is matched
 * by name and size, a unique one by name alone.
 */
static int count_base(struct btf_reconcile *r)
{
	const struct btf_raw *b = &r->base;
	u32 off = 0, i;

	r->name_cnt = kvcalloc(b->strs_len, sizeof(*r->name_cnt), RECON_GFP);
	if (!r->name_cnt)
		return -ENOMEM;
	for (i = 0; i < b->nr_types; i++) {
		const u32 *t = b->types + off;

		if (!(i % RESCHED_EVERY))
			cond_resched();
		if (t[0] >= b->strs_len) {
			pr_warn("base BTF: type [%u] has invalid name offset %u\n",
				i + 1, t[0]);
			return -EINVAL;
		}
		if (t[0] && kind_is_composite(type_kind(t)) &&
		    r->name_cnt[t[0]] < 2)
			r->name_cnt[t[0]]++;
		off += type_words(t);
	}
	return 0;
}

/* Does base type @bt stand for distilled type @dt? */
static bool accept_candidate(const struct btf_reconcile *r, u32 did,
			     const u32 *dt, const u32 *bt)
{
	u32 bkind = type_kind(bt);

	switch (type_kind(dt)) {
	case BTF_KIND_FWD:
		/*
		 * The base's kind_flag is compared even for a composite, where
		 * it is the bitfield flag: what upstream does.
		 */
		if (bkind == BTF_KIND_FWD)
			return type_kflag(bt) == type_kflag(dt);
		if (bkind == BTF_KIND_STRUCT)
			return !type_kflag(bt);
		if (bkind == BTF_KIND_UNION)
			return type_kflag(bt);
		return false;
	case BTF_KIND_INT:
		return bkind == BTF_KIND_INT &&
		       BTF_INT_ENCODING(dt[3]) == BTF_INT_ENCODING(bt[3]);
	case BTF_KIND_FLOAT:
		return bkind == BTF_KIND_FLOAT;
	case BTF_KIND_ENUM:
		return bkind == BTF_KIND_ENUM || bkind == BTF_KIND_ENUM64;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		/*
		 * No kind check. An embedded composite must keep its size;
		 * like upstream, the mark only counts until the type is
		 * mapped, so a second candidate then makes it ambiguous.
		 */
		if (r->embedded[did] && !r->id_map[did])
			return dt[2] == bt[2];
		return true;
	}
	return false;
}

/* Map every distilled type to exactly one base type. */
static int match_types(struct btf_reconcile *r)
{
	const struct btf_raw *b = &r->base;
	u32 off = 0, bid, i;

	for (bid = 1; bid < r->nb; bid++) {
		const u32 *bt = b->types + off;
		u32 bkind = type_kind(bt), bsize = bt[2] & KEY_SIZE_MASK;
		const char *name = b->strs + bt[0];
		bool by_size;

		if (!(bid % RESCHED_EVERY))
			cond_resched();
		off += type_words(bt);
		if (!bt[0])
			continue;
		switch (bkind) {
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			by_size = true;
			break;
		case BTF_KIND_FWD:
			by_size = false;
			break;
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			by_size = r->name_cnt[bt[0]] > 1;
			break;
		default:
			continue;
		}

		for (i = find_first(r, name);
		     i < r->nd && !strcmp(r->sorted[i].name, name); i++) {
			const struct dist_entry *e = &r->sorted[i];
			const u32 *dt;

			if (by_size && e->size != bsize)
				continue;
			if (!e->id) {
				pr_warn("module '%s': base type [%u] %s has an empty name and maps to invalid distilled base BTF id [0]\n",
					r->name, bid, kind_name(bkind));
				return -EINVAL;
			}
			dt = local_type(r, e->id);
			if (!accept_candidate(r, e->id, dt, bt))
				continue;
			if (r->id_map[e->id]) {
				pr_warn("module '%s': distilled base type [%u] %s '%s' has multiple candidates of the same size: base types [%u] and [%u]\n",
					r->name, e->id, kind_name(type_kind(dt)),
					name, r->id_map[e->id], bid);
				return -EINVAL;
			}
			r->id_map[e->id] = bid;
			r->name_map[dt[0]] = bt[0];
		}
	}

	for (i = 1; i < r->nd; i++) {
		const u32 *dt;

		if (r->id_map[i])
			continue;
		dt = local_type(r, i);
		pr_warn("module '%s': distilled base type [%u] %s '%s' size %u is not mapped to base BTF id\n",
			r->name, i, kind_name(type_kind(dt)),
			raw_name(&r->dist, dt[0]), dt[2]);
		return -EINVAL;
	}
	return 0;
}

/*
 * A distilled string can only be the name of a matched distilled type.
 * Checked for every string of the split before anything is rewritten, so
 * that a refusal leaves the split as it was.
 */
static int check_strings(const struct btf_reconcile *r)
{
	u32 dlen = r->dist.strs_len;
	struct field_runs f;
	u32 i, j, k;

	for (i = 0; i < r->ns; i++) {
		const u32 *t = r->split.types + r->split.offs[i];

		str_fields(t, &f);
		for (j = 0; j < ARRAY_SIZE(f.run); j++) {
			for (k = 0; k < f.run[j].count; k++) {
				u32 w = t[f.run[j].first + k * f.run[j].stride];

				if (w && w < dlen && !r->name_map[w]) {
					pr_warn("module '%s': type [%u] refers to distilled string '%s', which names no matched type\n",
						r->name, r->nd + i,
						raw_name(&r->dist, w));
					return -ENOENT;
				}
			}
		}
	}
	return 0;
}

/*
 * Split ids move past the base; distilled ids go where they matched. The
 * split's own strings move past the base's; a distilled string becomes the
 * name of the base type it matched. Cannot fail: every id and string was
 * checked before.
 */
static void rewrite_split(struct btf_reconcile *r)
{
	u32 dlen = r->dist.strs_len, blen = r->base.strs_len;
	struct field_runs f;
	u32 i, j, k;

	for (i = 0; i < r->ns; i++)
		r->id_map[r->nd + i] = r->nb + i;
	for (i = 0; i < r->ns; i++) {
		u32 *t = r->split_types + r->split.offs[i];

		id_fields(t, &f);
		for (j = 0; j < ARRAY_SIZE(f.run); j++) {
			for (k = 0; k < f.run[j].count; k++) {
				u32 *w = &t[f.run[j].first + k * f.run[j].stride];

				*w = r->id_map[*w];
			}
		}
		str_fields(t, &f);
		for (j = 0; j < ARRAY_SIZE(f.run); j++) {
			for (k = 0; k < f.run[j].count; k++) {
				u32 *w = &t[f.run[j].first + k * f.run[j].stride];

				if (!*w)
					continue;
				if (*w >= dlen)
					*w = *w - dlen + blen;
				else
					*w = r->name_map[*w];
			}
		}
	}
}

static int alloc_maps(struct btf_reconcile *r)
{
	r->chain = kvcalloc(r->nd + r->ns, sizeof(*r->chain), RECON_GFP);
	r->embedded = kvcalloc(r->nd, sizeof(*r->embedded), RECON_GFP);
	r->name_map = kvcalloc(r->dist.strs_len, sizeof(*r->name_map),
			       RECON_GFP);
	r->id_map = kvcalloc(r->nd + r->ns, sizeof(*r->id_map), RECON_GFP);
	if (!r->chain || !r->embedded || !r->name_map || !r->id_map)
		return -ENOMEM;
	return 0;
}

static void free_reconcile(struct btf_reconcile *r)
{
	kvfree(r->dist_copy);
	kvfree(r->dist.offs);
	kvfree(r->split.offs);
	kvfree(r->sorted);
	kvfree(r->chain);
	kvfree(r->embedded);
	kvfree(r->name_cnt);
	kvfree(r->name_map);
	kvfree(r->id_map);
}

/**
 * btf_reconcile() - relocate split BTF from its distilled base onto a base
 * @name: module name, for messages
 * @dist: raw distilled base BTF (".BTF.base"), at any alignment
 * @dist_size: its size in bytes
 * @split: raw split BTF built on @dist (".BTF"), 4-byte aligned, rewritten
 *         in place on success and left alone on failure
 * @split_size: its size in bytes
 * @base: raw BTF of the running kernel, 4-byte aligned
 * @base_size: its size in bytes
 * @id_map: on success, the base id of each pre-relocation id (distilled
 *          base then split); free with kvfree()
 * @id_map_cnt: on success, the number of entries in @id_map
 *
 * Return: 0, or a negative errno: -EINVAL for malformed input or types that
 * do not match, -ENOENT for a split string naming no matched type, -ELOOP
 * for a cycle of modifiers, -ENOMEM.
 */
int btf_reconcile(const char *name, const void *dist, u32 dist_size,
		  void *split, u32 split_size, const void *base, u32 base_size,
		  u32 **id_map, u32 *id_map_cnt)
{
	struct btf_reconcile r = { .name = name };
	int err;

	if (!IS_ALIGNED((unsigned long)split, 4) ||
	    !IS_ALIGNED((unsigned long)base, 4)) {
		pr_warn("module '%s': split or base BTF is not 4-byte aligned\n",
			name);
		return -EINVAL;
	}
	/*
	 * The distilled base is read where the module image has it, at
	 * whatever alignment its section got: work on an aligned copy.
	 */
	r.dist_copy = kvmalloc(dist_size ? dist_size : 1, RECON_GFP);
	if (!r.dist_copy)
		return -ENOMEM;
	memcpy(r.dist_copy, dist, dist_size);

	err = parse_raw("distilled base BTF", r.dist_copy, dist_size, false,
			true, &r.dist);
	if (err)
		goto out;
	err = parse_raw("split BTF", split, split_size, true, true, &r.split);
	if (err)
		goto out;
	err = parse_raw("base BTF", base, base_size, false, false, &r.base);
	if (err)
		goto out;
	/* the same words, writable: headers and sections are 4-byte aligned */
	r.split_types = (u32 *)split + (r.split.types - (const u32 *)split);
	r.nd = r.dist.nr_types + 1;
	r.ns = r.split.nr_types;
	r.nb = r.base.nr_types + 1;

	err = check_fields("distilled base BTF", &r.dist, 1, r.nd,
			   r.dist.strs_len);
	if (!err)
		err = check_fields("split BTF", &r.split, r.nd, r.nd + r.ns,
				   r.dist.strs_len + r.split.strs_len);
	if (!err)
		err = alloc_maps(&r);
	if (!err)
		err = validate_distilled(&r);
	if (!err)
		err = mark_embedded(&r);
	if (!err)
		err = count_base(&r);
	if (!err)
		err = sort_distilled(&r);
	if (!err)
		err = match_types(&r);
	if (!err)
		err = check_strings(&r);
	if (err)
		goto out;

	rewrite_split(&r);

	*id_map = r.id_map;
	*id_map_cnt = r.nd + r.ns;
	r.id_map = NULL;
out:
	free_reconcile(&r);
	return err;
}
