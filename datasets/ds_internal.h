/* ds_internal.h — pieces shared by the files of datasets/ (not a public API;
 * the tests include it to reach the CSV parser, the page parser, the cache
 * container and the id sanitiser directly).
 *
 *   ds_util.c    row builder, UTF-8 checks, typed field access with messages
 *   ds_csv.c     RFC-4180 CSV records
 *   ds_schema.c  checks of Hugging Face-shaped rows, per dataset id
 *   ds_local.c   the original-release readers (data_dir)
 *   hub.c        datasets-server download, cache, offline mode
 *   dataset.c    gq_dataset_load / gq_dataset_fetch / gq_rows_free
 *
 * Message convention: `loc` is "FILE: line N" (or "FILE: record N (line L)",
 * "hub ID/CONFIG/SPLIT: row N"); field checks append ": field 'a.b' ...".
 */
#ifndef GQ_DS_INTERNAL_H
#define GQ_DS_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "gq_error.h"

// ---- bounds -----------------------------------------------------------------

/* The largest row (a JSONL line, a CSV record, an element of a JSON array,
 * a HellaSwag item line) a dataset file may hold.  The biggest real rows of
 * the six benchmarks are a few KiB; a 10 MB line is a broken or hostile file
 * and is refused with a message instead of being parsed (tests/test_bounds.c). */
#define DS_MAX_ROW_BYTES ((size_t)1 << 20)
/* GQ_ERR_FORMAT "LOC: the row is N bytes, more than ..." when n > DS_MAX_ROW_BYTES. */
int ds_check_row_size(size_t n, const char *loc, gq_error *err);

// ---- row builder ---------------------------------------------------------

/* Rows in split order with their "where" strings; turns into a gq_rows. */
typedef struct ds_rows_builder {
    cJSON *arr;     /* JSON array of rows */
    char **where;   /* [cap] */
    size_t n, cap;
} ds_rows_builder;

int ds_builder_init(ds_rows_builder *b, gq_error *err);
/* Appends row (ownership passes to b even on failure) with a copy of where. */
int ds_builder_add(ds_rows_builder *b, cJSON *row, const char *where, gq_error *err);
/* Moves everything into out (zeroed first); b is empty afterwards. */
int ds_builder_finish(ds_rows_builder *b, gq_rows *out, const char *origin, gq_error *err);
void ds_builder_free(ds_rows_builder *b);

// ---- UTF-8 and field checks ------------------------------------------------

/* Every string and key below item must be valid UTF-8; `field` names item. */
int ds_check_utf8_tree(const cJSON *item, const char *loc, const char *field, gq_error *err);

/* "a string", "a number", ... for messages. */
const char *ds_type_name(const cJSON *v);

/* obj[key] must exist and have cJSON type `type` (cJSON_String, cJSON_Number,
 * cJSON_Array, cJSON_Object); `field` is the dotted name for messages. */
int ds_need(const cJSON *obj, const char *key, const char *field, int type, const char *loc,
            const cJSON **out, gq_error *err);
/* obj[key] must be an array of [min_n, max_n] strings. */
int ds_need_str_list(const cJSON *obj, const char *key, const char *field, size_t min_n,
                     size_t max_n, const char *loc, const cJSON **out, gq_error *err);
/* obj[key] must be an integral number in [lo, hi]. */
int ds_need_int(const cJSON *obj, const char *key, const char *field, long lo, long hi,
                const char *loc, long *out, gq_error *err);

/* cJSON constructors that report NOMEM; on failure `parent` keeps ownership
 * of what was added before. */
int ds_add_str(cJSON *obj, const char *key, const char *val, gq_error *err);
int ds_add_num(cJSON *obj, const char *key, double val, gq_error *err);
int ds_add_item(cJSON *obj, const char *key, cJSON *item /* taken */, gq_error *err);
int ds_append_str(cJSON *arr, const char *val, gq_error *err);

/* Lines of a buffer: next line [*line, *line + *len) without its "\n" or
 * "\r\n"; returns 0 at the end.  A final line without "\n" counts. */
typedef struct ds_lines {
    const char *p, *end;
    size_t lineno;  /* number of the line last returned (1-based) */
} ds_lines;
void ds_lines_init(ds_lines *it, const char *data, size_t n);
int ds_lines_next(ds_lines *it, const char **line, size_t *len);

/* Iterates the elements of a top-level JSON array, parsing one element at a
 * time so each row knows the line it starts on.  On return 1 *elem is owned
 * by the caller; 0 at the closing ']'; negative on error (message names the
 * file and line). */
typedef struct ds_json_array_iter {
    const char *text, *p, *end, *path;
    size_t lineno;          /* line of p */
    size_t index;           /* elements returned so far */
    int state;              /* 0 before '[', 1 inside, 2 done */
} ds_json_array_iter;
void ds_json_array_init(ds_json_array_iter *it, const char *text, size_t n, const char *path);
int ds_json_array_next(ds_json_array_iter *it, cJSON **elem, size_t *elem_line, gq_error *err);

// ---- CSV (RFC 4180, as Python's csv.reader reads it) -----------------------

typedef struct ds_csv {
    const char *p, *end;
    size_t line;            /* current physical line (1-based) */
    size_t record;          /* records returned so far */
    size_t record_line;     /* line on which the last record started */
    char *buf;              /* field bytes, each NUL-terminated */
    size_t buf_len, buf_cap;
    size_t *offs;           /* [n_fields] offsets into buf */
    size_t *lens;           /* [n_fields] lengths */
    size_t n_fields, cap_fields;
} ds_csv;

void ds_csv_init(ds_csv *c, const char *data, size_t n);
/* Next record: 1 and fields ready; 0 at end of input; <0 on a malformed
 * record (message: "PATH: record N (line L): ...").  Blank lines are skipped.
 * A UTF-8 BOM at the start is skipped. */
int ds_csv_next(ds_csv *c, const char *path, gq_error *err);
static inline const char *ds_csv_field(const ds_csv *c, size_t i) { return c->buf + c->offs[i]; }
void ds_csv_free(ds_csv *c);

// ---- Hugging Face row shapes ----------------------------------------------

/* Checks one HF-shaped row of dataset hf_id (fields, types, UTF-8).  Unknown
 * ids: the row must be an object with valid UTF-8. */
int ds_validate_hf_row(const char *hf_id, const cJSON *row, const char *loc, gq_error *err);

// ---- local release files ---------------------------------------------------

int ds_local_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                  const char *data_dir, gq_error *err);

// ---- hub ------------------------------------------------------------------

/* Checks (id, config, split) and builds "<org>/<name>/<config>/<split>"
 * (config NULL -> "default").  Refuses "..", absolute paths, empty parts and
 * characters outside [A-Za-z0-9._-]. */
int ds_hub_cache_relpath(char *out, size_t cap, const char *hf_id, const char *config,
                         const char *split, gq_error *err);
/* The cache root: opts->cache_dir, $HF_HOME/gqla-eval,
 * $XDG_CACHE_HOME/huggingface/gqla-eval or $HOME/.cache/huggingface/gqla-eval. */
int ds_hub_cache_root(char *out, size_t cap, const gq_dataset_opts *opts, gq_error *err);

/* One datasets-server /rows page: appends its rows to b, checks row_idx ==
 * offset + i, and returns num_rows_total. */
int ds_hub_parse_page(const char *text, size_t len, const char *what, const char *hf_id,
                      const char *ref, size_t offset, ds_rows_builder *b, size_t *total,
                      gq_error *err);

/* Cache container: a gzip file (RFC 1952) whose header carries an extra
 * field "GQ" with the uncompressed length (u64 LE) and its CRC32 (u32 LE), so
 * that `zcat` reads it and a truncated or corrupt file is detected. */
int ds_cache_write(const char *path, const char *data, size_t n, gq_error *err);
int ds_cache_read(const char *path, char **data, size_t *n, gq_error *err);

int ds_hub_load(gq_rows *out, const char *hf_id, const char *config, const char *split,
                const gq_dataset_opts *opts, gq_error *err);
int ds_hub_fetch(const char *hf_id, const char *config, const char *split,
                 const gq_dataset_opts *opts, gq_error *err);

#endif
