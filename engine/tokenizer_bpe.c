/* tokenizer_bpe.c — the BPE merge loops on one pre-tokenized word.
 *
 * Two rules:
 *   - by rank (Hugging Face `tokenizers` BPE, and llama.cpp's gpt2 vocab):
 *     repeatedly merge the adjacent pair with the lowest merge rank, the
 *     leftmost one on ties; a min-heap with lazy invalidation keeps this
 *     O(n log n) so a LLaMA-2 style "whole line is one word" stays fast;
 *   - by score (llama.cpp's SentencePiece vocab from a GGUF "llama" file):
 *     repeatedly merge the adjacent pair whose concatenation is a token with
 *     the highest score, leftmost on ties; symbols that end up outside the
 *     vocabulary fall back to <0xNN> byte tokens.
 * Initial symbols: byte-level words start from one symbol per byte (the
 * GPT-2 byte-to-char map is applied implicitly through byte_id[]); SPM words
 * start from one symbol per UTF-8 character, with byte fallback and (fused)
 * unknown tokens as HF's BPE::merge_word does.
 * Not here: dropout, continuing_subword_prefix / end_of_word_suffix.
 * Tested by tests/test_tokenizer.c (parity with HF on the fixtures).
 */
#include <string.h>

#include "gq_alloc.h"
#include "gq_array.h"
#include "tokenizer_internal.h"

typedef struct {
    int32_t id;
    int32_t prev, next;
    uint32_t start, len; /* bytes of the word this symbol covers; len 0 = removed */
} bpe_sym;

typedef struct {
    int32_t rank; /* or score order key */
    float score;
    int32_t pos;  /* left symbol */
    int32_t right;
    int32_t new_id;
    uint32_t size;
} bpe_item;

typedef struct {
    bpe_item *v;
    size_t n, cap;
    int by_score;
} bpe_heap;

/* a goes before b? */
static int item_before(const bpe_heap *h, const bpe_item *a, const bpe_item *b)
{
    if (h->by_score) {
        if (a->score != b->score) return a->score > b->score;
        return a->pos < b->pos;
    }
    if (a->rank != b->rank) return a->rank < b->rank;
    return a->pos < b->pos;
}

static int heap_push(bpe_heap *h, bpe_item it, gq_error *err)
{
    int rc = gq_array_reserve(&h->v, &h->cap, h->n + 1, sizeof *h->v, 64, "BPE merge queue", err);
    if (rc) return rc;
    size_t i = h->n++;
    h->v[i] = it;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_before(h, &h->v[i], &h->v[p])) break;
        bpe_item tmp = h->v[p];
        h->v[p] = h->v[i];
        h->v[i] = tmp;
        i = p;
    }
    return GQ_OK;
}

static bpe_item heap_pop(bpe_heap *h)
{
    bpe_item top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && item_before(h, &h->v[l], &h->v[m])) m = l;
        if (r < h->n && item_before(h, &h->v[r], &h->v[m])) m = r;
        if (m == i) break;
        bpe_item tmp = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = tmp;
        i = m;
    }
    return top;
}

typedef struct {
    bpe_sym *s;
    size_t n, cap;
} sym_list;

static int sym_add(sym_list *l, int32_t id, uint32_t start, uint32_t len, gq_error *err)
{
    int rc = gq_array_reserve(&l->s, &l->cap, l->n + 1, sizeof *l->s, 64, "BPE symbols", err);
    if (rc) return rc;
    bpe_sym *s = &l->s[l->n];
    s->id = id;
    s->start = start;
    s->len = len;
    s->prev = (int32_t)l->n - 1;
    s->next = (int32_t)l->n + 1;
    l->n++;
    return GQ_OK;
}

/* HF BPE::merge_word's initial symbols for a non-byte-level word: one per
 * character, else its <0xNN> bytes (byte_fallback), else unk (fused runs
 * when fuse_unk), else dropped. */
static int initial_chars(const gq_tokenizer *t, const char *w, size_t len, sym_list *l, gq_error *err)
{
    int32_t unk_start = -1;
    uint32_t unk_len = 0;
    int rc;
    size_t i = 0;
    while (i < len) {
        size_t cl = gq_utf8_seq_len((unsigned char)w[i]);
        if (cl > len - i) cl = len - i;
        int32_t id = gq_strmap_get(&t->vocab, w + i, cl);
        if (id >= 0) {
            if (unk_start >= 0) {
                if ((rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err))) return rc;
                unk_start = -1;
            }
            if ((rc = sym_add(l, id, (uint32_t)i, (uint32_t)cl, err))) return rc;
            i += cl;
            continue;
        }
        if (t->byte_fallback) {
            int all = 1;
            for (size_t k = 0; k < cl; k++)
                if (t->byte_id[(unsigned char)w[i + k]] < 0) all = 0;
            if (all) {
                /* Keep order: a pending unknown run ends here. */
                if (unk_start >= 0) {
                    if ((rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err))) return rc;
                    unk_start = -1;
                }
                for (size_t k = 0; k < cl; k++)
                    if ((rc = sym_add(l, t->byte_id[(unsigned char)w[i + k]], (uint32_t)(i + k), 1, err)))
                        return rc;
                i += cl;
                continue;
            }
        }
        if (t->unk_id >= 0) {
            if (unk_start >= 0 && t->fuse_unk) {
                unk_len += (uint32_t)cl;
            } else {
                if (unk_start >= 0 && (rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err)))
                    return rc;
                unk_start = (int32_t)i;
                unk_len = (uint32_t)cl;
            }
        }
        i += cl;
    }
    if (unk_start >= 0 && (rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err))) return rc;
    return GQ_OK;
}

static int initial_bytes(const gq_tokenizer *t, const char *w, size_t len, sym_list *l, gq_error *err)
{
    int32_t unk_start = -1;
    uint32_t unk_len = 0;
    int rc;
    for (size_t i = 0; i < len; i++) {
        int32_t id = t->byte_id[(unsigned char)w[i]];
        if (id >= 0) {
            if (unk_start >= 0) {
                if ((rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err))) return rc;
                unk_start = -1;
            }
            if ((rc = sym_add(l, id, (uint32_t)i, 1, err))) return rc;
        } else if (t->unk_id >= 0) {
            if (unk_start >= 0 && t->fuse_unk) {
                unk_len++;
            } else {
                if (unk_start >= 0 && (rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err)))
                    return rc;
                unk_start = (int32_t)i;
                unk_len = 1;
            }
        }
    }
    if (unk_start >= 0 && (rc = sym_add(l, t->unk_id, (uint32_t)unk_start, unk_len, err))) return rc;
    return GQ_OK;
}

static int push_rank_pair(const gq_tokenizer *t, bpe_heap *h, const sym_list *l, int32_t left,
                          gq_error *err)
{
    if (left < 0) return GQ_OK;
    int32_t right = l->s[left].next;
    if (right < 0 || (size_t)right >= l->n) return GQ_OK;
    int32_t rank, merged;
    if (!gq_pairmap_get(&t->merges, l->s[left].id, l->s[right].id, &rank, &merged)) return GQ_OK;
    bpe_item it = {.rank = rank, .pos = left, .right = right, .new_id = merged};
    return heap_push(h, it, err);
}

static void merge_by_rank(const gq_tokenizer *t, sym_list *l, bpe_heap *h)
{
    while (h->n > 0) {
        bpe_item top = heap_pop(h);
        bpe_sym *a = &l->s[top.pos];
        if (a->len == 0 || a->next < 0 || (size_t)a->next >= l->n) continue;
        bpe_sym *b = &l->s[a->next];
        int32_t rank, merged;
        if (!gq_pairmap_get(&t->merges, a->id, b->id, &rank, &merged) || merged != top.new_id) continue;
        a->id = merged;
        a->len += b->len;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0 && (size_t)b->next < l->n) l->s[b->next].prev = top.pos;
        if (push_rank_pair(t, h, l, a->prev, NULL) != GQ_OK) return;
        if (push_rank_pair(t, h, l, top.pos, NULL) != GQ_OK) return;
    }
}

/* llama.cpp SPM: pair of symbols whose text is a token, scored by that token. */
static int push_score_pair(const gq_tokenizer *t, bpe_heap *h, const sym_list *l, const char *w,
                           int32_t left, gq_error *err)
{
    if (left < 0) return GQ_OK;
    int32_t right = l->s[left].next;
    if (right < 0 || (size_t)right >= l->n) return GQ_OK;
    const bpe_sym *a = &l->s[left], *b = &l->s[right];
    int32_t id = gq_strmap_get(&t->vocab, w + a->start, (size_t)a->len + b->len);
    if (id < 0 || (size_t)id >= t->n_vocab) return GQ_OK;
    bpe_item it = {.score = t->scores[id], .pos = left, .right = right, .new_id = id,
                   .size = a->len + b->len};
    return heap_push(h, it, err);
}

static int merge_by_score(const gq_tokenizer *t, sym_list *l, bpe_heap *h, const char *w, gq_error *err)
{
    int rc;
    for (size_t i = 0; i + 1 < l->n; i++)
        if ((rc = push_score_pair(t, h, l, w, (int32_t)i, err))) return rc;
    while (h->n > 0) {
        bpe_item top = heap_pop(h);
        bpe_sym *a = &l->s[top.pos], *b = &l->s[top.right];
        if (a->len == 0 || b->len == 0 || a->len + b->len != top.size) continue;
        a->len += b->len;
        a->id = top.new_id;
        b->len = 0;
        a->next = b->next;
        if (b->next >= 0 && (size_t)b->next < l->n) l->s[b->next].prev = top.pos;
        if ((rc = push_score_pair(t, h, l, w, a->prev, err))) return rc;
        if ((rc = push_score_pair(t, h, l, w, top.pos, err))) return rc;
    }
    return GQ_OK;
}

int gq_bpe_word(const gq_tokenizer *t, const char *w, size_t len, gq_tokens *out, gq_error *err)
{
    sym_list l = {0};
    bpe_heap h = {0};
    int rc = GQ_OK;
    if (len == 0) return GQ_OK;
    if (len > UINT32_MAX / 2) return gq_error_set(err, GQ_ERR_INVALID, "tokenizer: a word of %zu bytes is too long", len);

    if (t->ignore_merges) {
        int32_t id = -1;
        if (t->kind == GQ_TOK_KIND_BYTELEVEL) {
            /* Look the word up in its byte-level spelling. */
            char small[256];
            char *m = len * 4 <= sizeof small ? small : gq_malloc(len * 4, "byte-level word", err);
            if (!m) return GQ_ERR_NOMEM;
            size_t n = 0;
            for (size_t i = 0; i < len; i++) n += gq_bytelevel_char((uint8_t)w[i], m + n);
            id = gq_strmap_get(&t->vocab, m, n);
            if (m != small) gq_free(m);
        } else {
            id = gq_strmap_get(&t->vocab, w, len);
        }
        if (id >= 0) return gq_tokens_push(out, id, err);
    }

    if (t->use_scores) {
        /* llama.cpp SPM: one symbol per character, ids resolved at the end. */
        size_t i = 0;
        while (i < len) {
            size_t cl = gq_utf8_seq_len((unsigned char)w[i]);
            if (cl > len - i) cl = len - i;
            if ((rc = sym_add(&l, -1, (uint32_t)i, (uint32_t)cl, err))) goto fail;
            i += cl;
        }
        h.by_score = 1;
        if ((rc = merge_by_score(t, &l, &h, w, err))) goto fail;
        for (size_t k = 0; k < l.n; k++) {
            bpe_sym *s = &l.s[k];
            if (s->len == 0) continue;
            int32_t id = gq_strmap_get(&t->vocab, w + s->start, s->len);
            if (id >= 0) {
                if ((rc = gq_tokens_push(out, id, err))) goto fail;
                continue;
            }
            for (uint32_t b = 0; b < s->len; b++) {
                int32_t bid = t->byte_id[(unsigned char)w[s->start + b]];
                if (bid < 0) bid = t->unk_id;
                if (bid >= 0 && (rc = gq_tokens_push(out, bid, err))) goto fail;
            }
        }
        goto fail; /* rc == GQ_OK */
    }

    if (t->kind == GQ_TOK_KIND_BYTELEVEL)
        rc = initial_bytes(t, w, len, &l, err);
    else
        rc = initial_chars(t, w, len, &l, err);
    if (rc) goto fail;
    if (l.n == 0) goto fail; /* rc == GQ_OK */
    l.s[l.n - 1].next = -1;
    for (size_t i = 0; i + 1 < l.n; i++)
        if ((rc = push_rank_pair(t, &h, &l, (int32_t)i, err))) goto fail;
    {
        /* merge_by_rank cannot fail: reserve the most room it can need
         * (each merge pushes at most two items) before it starts. */
        if ((rc = gq_array_reserve(&h.v, &h.cap, h.n + 2 * l.n + 1, sizeof *h.v, 64, "BPE merge queue", err)))
            goto fail;
    }
    merge_by_rank(t, &l, &h);
    for (int32_t k = 0; k >= 0 && (size_t)k < l.n; k = l.s[k].next)
        if (l.s[k].len > 0 && (rc = gq_tokens_push(out, l.s[k].id, err))) goto fail;

fail: /* also the success path, with rc == GQ_OK */
    gq_free(l.s);
    gq_free(h.v);
    return rc;
}
