/* fuzz_dataset.c — libFuzzer target: the six original-release dataset
 * readers of datasets/ds_local.c (fuzz_util.h says how targets build and
 * replay).  Byte 0 picks the format, the rest is DATA [FUZZ_SPLIT LABELS]:
 *   0 ARC jsonl          4 PIQA jsonl + labels .lst
 *   1 OpenBookQA jsonl   5 WinoGrande jsonl + labels .lst
 *   2 HF-export array    6 HellaSwag jsonl
 *   3 MMLU csv           7 HellaSwag val_full.txt
 * The file is laid out as in ../shared/datasets under a scratch data_dir and
 * loaded with gq_dataset_load, which also runs the HF row-shape checks. */
#include "dataset.h"
#include "fuzz_util.h"
#include "gq_error.h"

typedef struct fmt {
    const char *id, *config, *split, *data, *labels;
} fmt;

static const fmt formats[8] = {
    {"allenai/ai2_arc", "ARC-Easy", "test", "arc/ARC-Easy/ARC-Easy-Test.jsonl", NULL},
    {"allenai/openbookqa", "main", "test", "openbookqa/Data/Main/test.jsonl", NULL},
    {"allenai/ai2_arc", "ARC-Challenge", "test", "arc/ARC-Challenge_hf-export/test.json", NULL},
    {"cais/mmlu", "anatomy", "test", "mmlu/data/test/anatomy_test.csv", NULL},
    {"baber/piqa", NULL, "validation", "piqa/valid.jsonl", "piqa/valid-labels.lst"},
    {"allenai/winogrande", "winogrande_xl", "validation", "winogrande/winogrande_1.1/dev.jsonl",
     "winogrande/winogrande_1.1/dev-labels.lst"},
    {"Rowan/hellaswag", NULL, "validation", "hellaswag/hellaswag_val.jsonl", NULL},
    {"Rowan/hellaswag", NULL, "validation", "hellaswag/hellaswag_val_full.txt", NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const fmt *f = &formats[data[0] & 7];
    const uint8_t *body, *labels;
    size_t n_body, n_labels;
    fuzz_split2(data + 1, size - 1, &body, &n_body, &labels, &n_labels);
    fuzz_reset();
    if (!fuzz_write(0, f->data, body, n_body)) return 0;
    if (f->labels && !fuzz_write(1, f->labels, labels, n_labels)) return 0;
    gq_dataset_opts o = {0};
    o.data_dir = fuzz_dir();
    o.offline = 1;
    o.quiet = 1;
    gq_rows rows = {0};
    gq_error err = {0};
    int rc = gq_dataset_load(&rows, f->id, f->config, f->split, &o, &err);
    fuzz_note(f->data, rc, &err);
    if (rc == GQ_OK) gq_rows_free(&rows);
    return 0;
}
