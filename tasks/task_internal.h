/* task_internal.h — what the task files share and the tests may reach:
 * Python str semantics (strip, capitalize), typed row
 * access with row-naming errors, lm-eval's per-document view (doc_to_text,
 * doc_to_choice, doc_to_target) and the generic document builder.
 *
 * Not part of the public face (task.h); only the task files and the tests include it.
 */
#ifndef GQ_TASK_INTERNAL_H
#define GQ_TASK_INTERNAL_H

#include <stdint.h>
#include "gq_sbuf.h"
#include "task.h"

/* ---- UTF-8 and Python str semantics ---- */

/* Decode the code point at s[0..n); *len = bytes used (>= 1).  A malformed
 * sequence decodes as its first byte's value with *len = 1 (rows are valid
 * UTF-8 by datasets/' contract; this only keeps bad input from crashing). */
uint32_t gq_task_utf8_decode(const char *s, size_t n, size_t *len);
/* Python str.isspace() for one code point (tasks.md §2.4's list). */
int gq_py_isspace(uint32_t cp);
/* Python str.strip() (left and right), str.lstrip() (left only), str.rstrip()
 * as a fresh string. */
char *gq_py_strip(const char *s, int left, int right, gq_error *err);
/* Python str.capitalize(): first code point to its full title-case mapping,
 * the rest to full lower case (with the Final_Sigma rule), appended to out.
 * Tables are CPython 3.11's (unicase_table.h). */
int gq_py_capitalize(const char *s, gq_sbuf *out, gq_error *err);

/* ---- typed row access; errors are GQ_ERR_INVALID "<where>: field `f`: ..." ---- */

/* Borrowed string value of row[field]. */
int gq_row_str(const cJSON *row, const char *field, const char *where, const char **out,
               gq_error *err);
/* obj[field] as an array of strings: *out is a fresh array of borrowed
 * pointers (gq_free it), *n its length (may be 0).  `name` is the field's
 * name in messages (e.g. "choices.text"; NULL: field). */
int gq_row_str_list(const cJSON *obj, const char *field, const char *name, const char *where,
                    const char ***out, int *n, gq_error *err);
/* row[field] as an index in [0, n): a JSON integer or a string of ASCII
 * digits (HF label columns are one or the other depending on the copy). */
int gq_row_index(const cJSON *row, const char *field, const char *where, int n, int *out,
                 gq_error *err);

/* ---- lm-eval's view of one row ---- */

typedef struct gq_qa {
    char *q;          /* doc_to_text (NULL for multiple-input tasks) */
    int n_choices;
    char **choices;   /* doc_to_choice: bare choice texts; WinoGrande: per-option contexts */
    int gold;         /* doc_to_target index (multiple input: doc_to_text) */
    char *suffix;     /* multiple input only: doc_to_target, the shared continuation text */
    cJSON *doc;       /* processed HF row (process_docs applied), only when asked for */
} gq_qa;

void gq_qa_free(gq_qa *qa);

/* Render one row.  want_doc: also build qa->doc.  On failure qa is freed
 * and zeroed. */
typedef int (*gq_qa_fn)(const cJSON *row, const char *where, int want_doc, gq_qa *qa,
                        gq_error *err);

typedef enum {
    GQ_FEWSHOT_RANDOM,       /* random.sample(pool, k): ARC, OpenBookQA (fewshot split != test split) */
    GQ_FEWSHOT_RANDOM_EXCL,  /* sample k+1, drop rows equal to the eval doc, keep k: HellaSwag, PIQA, WinoGrande */
    GQ_FEWSHOT_FIRST_N       /* the first k pool rows in order: MMLU */
} gq_fewshot_kind;

/* fewshot.c: append the k shots for eval_row to out, each
 * Q + " " + A + "\n\n" (tasks.md §2.2; multiple input: gold context + " " +
 * suffix).  Errors name `where` and the pool row. */
int gq_fewshot_append(gq_qa_fn fn, gq_fewshot_kind kind, const cJSON *eval_row, const char *where,
                      const cJSON *pool, int k, gq_rng *rng, gq_sbuf *out, gq_error *err);

/* doc.c: the whole make_doc: description + shots + the document, requests
 * as tasks.md §2.2-2.3, target = str(doc_to_target). */
int gq_build_doc(gq_qa_fn fn, gq_fewshot_kind kind, const char *description, const cJSON *row,
                 const char *where, int doc_id, const cJSON *pool, int k, gq_rng *rng,
                 gq_doc *out, gq_error *err);

/* arc.c, for ARC and OpenBookQA: choices {text, label} of row and the gold
 * index of `key` among the labels (fills qa->choices, n_choices, gold). */
int gq_arc_style_choices(const cJSON *row, const char *where, const char *key, gq_qa *qa,
                         gq_error *err);

/* hellaswag.c: lm-eval's preprocess() (tasks.md §3.4 steps 1-4). */
char *gq_hellaswag_clean(const char *text, gq_error *err);

/* ---- the tasks (registry.c lists them) ---- */

extern const gq_task gq_task_arc_easy, gq_task_arc_challenge, gq_task_piqa, gq_task_openbookqa,
    gq_task_hellaswag, gq_task_winogrande;
#define GQ_MMLU_N_SUBJECTS 57
/* In evaluation order: stem, other, social_sciences, humanities; each sorted by name. */
extern const gq_task gq_mmlu_tasks[GQ_MMLU_N_SUBJECTS];

#endif
