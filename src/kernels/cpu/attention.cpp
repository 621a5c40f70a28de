// Paged causal GQA attention on the CPU.
//
// One task = one query × a few heads that share a kv head, so a tile of 16 keys is read once for
// all of them. Per (query, head) the arithmetic is fixed and depends only on the query, its
// visible keys and d, never on n_q, the batch or the task split:
//   score_j = hsum16(Σ_c q[c-chunk] ⊙ k_j[c-chunk]) (+ the d % 16 tail, sequential) · scale
//     (16-lane partial products over 16-wide chunks of d in order, then a fixed 4-level tree;
//      keys are tiled by absolute index, so key j always sits in the same tile slot),
//   p_j = exp(score_j − max) (vector polynomial, same for every lane),
//   sum = hsum16 of 16-lane partial sums over 16-key chunks (padding adds +0.0 exactly),
//   o = Σ_j (p_j · (1/sum)) · v_j, j in order.
// So results are batch- and chunk-invariant (a prefill chunk and a later decode step agree).
//
// The cache may hold any KvDType (tensor/kv_quant.h). f32 rows are read in place; other formats
// are converted to f32 tile by tile (16 keys for the scores, 32 values for p·V; bf16 and f16 16
// values per instruction pair, kv_rows.h) into L1 scratch, so the memory traffic stays that of
// the compressed cache and the arithmetic after the conversion is the f32 path's, in the same
// order (an f32 cache and a bf16 / f16 one holding the same values give the same bits).
// Converting in registers inside the dot products instead was measured slower (the conversion
// is then repeated for each query head of the group; docs/benchmarks.md).
//
// int8 (when kv_int8_integer_scores(d)) skips the conversion, as llama.cpp's q8_0 dot does: each
// query head is rounded to 16-bit codes (kv_quantize_query_i16), a key's score is the exact int32
// dot product of the codes (pmaddwd / vpdpwssd, or portable vector code: same integers) times
// (sq · scale) · key scale, and p·V folds each value's scale into p_j and multiplies the widened
// codes directly: o = Σ_j (p_j · s_j) · code_j, j in order.
//
// Written with the vector helpers of vec16.h.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "base/check.h"
#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/kv_rows.h"
#include "kernels/cpu/vec16.h"

namespace ag::kernels::cpu {

namespace {

using namespace vec;

// Scores of one head against a tile of 16 keys (rows kr[0..15]); s[l] for key l.
template <int NC>
void score_tile(const float* q, const float* const* kr, int64_t nc, int64_t d, float scale,
                float* s) {
    const int64_t chunks = NC > 0 ? NC : nc;
    v16 acc[kL];
    for (auto& a : acc) a = v16{};
    for (int64_t c = 0; c < chunks; ++c) {
        const v16 qv = load(q + c * kL);
        for (int l = 0; l < kL; ++l) acc[l] += qv * load(kr[l] + c * kL);
    }
    store(s, hsum16(acc));
    for (int64_t t = chunks * kL; t < d; ++t) {
        for (int l = 0; l < kL; ++l) s[l] += q[t] * kr[l][t];
    }
    for (int l = 0; l < kL; ++l) s[l] *= scale;
}

// o_h = Σ_j p_h[j] · v_j over n keys (rows vr(j), d floats) for the nh heads (p_h: p + h · pstride,
// o_h: o + h · d). With NC chunks known, keys go in chunks of kVChunk whose v rows stay in L1
// while every head passes over them; each output element still accumulates j in order.
constexpr int64_t kVChunk = 32;

template <int NC, class Row>
void weighted_sum(const float* p, int64_t pstride, int64_t nh, int64_t n, Row& vr, int64_t nc,
                  int64_t d, float* o) {
    if constexpr (NC > 0) {
        for (int64_t j0 = 0; j0 < n; j0 += kVChunk) {
            const int64_t j1 = j0 + kVChunk < n ? j0 + kVChunk : n;
            vr.prefetch(j1, std::min(j1 + kVChunk, n));
            vr.prepare(j0, j1);
            for (int64_t h = 0; h < nh; ++h) {
                const float* ph = p + h * pstride;
                float* oh = o + h * d;
                v16 acc[NC];
                for (int c = 0; c < NC; ++c) acc[c] = j0 == 0 ? v16{} : load(oh + c * kL);
                for (int64_t j = j0; j < j1; ++j) {
                    const v16 pj = splat(ph[j]);
                    const float* v = vr(j);
                    for (int c = 0; c < NC; ++c) acc[c] += pj * load(v + c * kL);
                }
                for (int c = 0; c < NC; ++c) store(oh + c * kL, acc[c]);
            }
        }
        if (NC * kL < d) vr.prepare(0, n);  // (d % 16 tail: none when NC > 0 is used)
        for (int64_t h = 0; h < nh; ++h) {
            for (int64_t t = NC * kL; t < d; ++t) {
                float a = 0.0f;
                for (int64_t j = 0; j < n; ++j) a += p[h * pstride + j] * vr(j)[t];
                o[h * d + t] = a;
            }
        }
    } else {
        vr.prepare(0, n);
        for (int64_t h = 0; h < nh; ++h) {
            const float* ph = p + h * pstride;
            float* oh = o + h * d;
            for (int64_t t = 0; t < nc * kL; ++t) oh[t] = 0.0f;
            for (int64_t j = 0; j < n; ++j) {
                const v16 pj = splat(ph[j]);
                const float* v = vr(j);
                for (int64_t c = 0; c < nc; ++c) store(oh + c * kL, load(oh + c * kL) + pj * load(v + c * kL));
            }
            for (int64_t t = nc * kL; t < d; ++t) {
                float a = 0.0f;
                for (int64_t j = 0; j < n; ++j) a += ph[j] * vr(j)[t];
                oh[t] = a;
            }
        }
    }
}

// Asks for the records [j0, j1) (`bytes` bytes each) ahead of use: a kv head's records are
// scattered (heads interleave within a slot, slots follow the block table), which the hardware
// prefetcher does not follow; measured 1.4x decode speed at 16k context with an int8 cache.
inline void prefetch_records(const uint8_t* base, const int64_t* offs, int64_t j0, int64_t j1, int64_t bytes) {
    for (int64_t j = j0; j < j1; ++j) {
        for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(base + offs[j] + b);
        __builtin_prefetch(base + offs[j] + bytes - 1);
    }
}

// f32 rows of the visible keys (or values) of one kv head: in place for an f32 cache, else the
// rows [j0, j1) of the last prepare() converted into `tile`.
struct Rows {
    const uint8_t* base;
    const int64_t* offs;  // byte offset of row j's head record
    KvDType dtype;
    int64_t d;
    std::vector<float>* tile;
    int64_t tile_j0 = 0;

    void prefetch(int64_t j0, int64_t j1) const {
        prefetch_records(base, offs, j0, j1, static_cast<int64_t>(kv_head_bytes(dtype, d)));
    }
    void prepare(int64_t j0, int64_t j1) {
        if (dtype == KvDType::kF32) return;
        if (tile->size() < static_cast<size_t>((j1 - j0) * d)) tile->resize(static_cast<size_t>((j1 - j0) * d));
        for (int64_t j = j0; j < j1; ++j) kv_read_row(dtype, base + offs[j], d, tile->data() + (j - j0) * d);
        tile_j0 = j0;
    }
    const float* operator()(int64_t j) const {
        return dtype == KvDType::kF32 ? reinterpret_cast<const float*>(base + offs[j])
                                      : tile->data() + (j - tile_j0) * d;
    }
};

// ---- int8 cache read in place (see the top of the file) ----

using i16x16 = int16_t __attribute__((vector_size(32)));

// 16 int8 codes at p as int16 (w) or f32. GCC scalarises __builtin_convertvector from int8
// vectors, hence the intrinsics; the portable loop gives the same values.
inline void widen_i8(const uint8_t* p, int16_t* w) {
#if defined(__AVX2__)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(w),
                        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
#else
    for (int l = 0; l < kL; ++l) w[l] = static_cast<int8_t>(p[l]);
#endif
}

inline v16 i8_to_f32(const uint8_t* p) {
#if defined(__AVX512F__)
    const __m512 f = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    v16 v;
    std::memcpy(&v, &f, sizeof v);
    return v;
#else
    int32_t w[kL];
    for (int l = 0; l < kL; ++l) w[l] = static_cast<int8_t>(p[l]);
    vi16 iv;
    std::memcpy(&iv, w, sizeof iv);
    return __builtin_convertvector(iv, v16);
#endif
}

// t[l] = Σ_c qc[c] · kw[l · d + c] for 16 widened keys (d % 32 == 0): exact int32 sums.
void dot_tile_i16(const int16_t* qc, const int16_t* kw, int64_t d, int32_t* t) {
    vi16 acc[kL];
#if defined(__AVX512BW__)
    __m512i a[kL];
    for (auto& x : a) x = _mm512_setzero_si512();
    for (int64_t c = 0; c < d; c += 32) {
        const __m512i qv = _mm512_loadu_si512(qc + c);
        for (int l = 0; l < kL; ++l) {
            const __m512i kv = _mm512_loadu_si512(kw + l * d + c);
#if defined(__AVX512VNNI__)
            a[l] = _mm512_dpwssd_epi32(a[l], qv, kv);
#else
            a[l] = _mm512_add_epi32(a[l], _mm512_madd_epi16(qv, kv));
#endif
        }
    }
    for (int l = 0; l < kL; ++l) std::memcpy(&acc[l], &a[l], sizeof acc[l]);
#else
    for (auto& x : acc) x = vi16{};
    for (int64_t c = 0; c < d; c += kL) {
        i16x16 q16;
        std::memcpy(&q16, qc + c, sizeof q16);
        const vi16 qv = __builtin_convertvector(q16, vi16);
        for (int l = 0; l < kL; ++l) {
            i16x16 k16;
            std::memcpy(&k16, kw + l * d + c, sizeof k16);
            acc[l] += qv * __builtin_convertvector(k16, vi16);
        }
    }
#endif
    const vi16 sum = hsum16(acc);
    std::memcpy(t, &sum, sizeof sum);
}

// Scores of heads h0 .. h0 + nh − 1 (queries q_h, rows qstride apart) against the n_vis int8 key
// records at kbase + offs[j]: p_h[j] = float(Σ code·code) · ((sq_h · scale) · s_j).
void scores_i8(const float* q, int64_t qstride, int64_t nh, const uint8_t* kbase,
               const int64_t* offs, int64_t n_vis, int64_t d, float scale, float* p, int64_t pstride) {
    thread_local std::vector<int16_t> qc, kw;
    thread_local std::vector<float> fq;
    qc.resize(static_cast<size_t>(nh * d));
    kw.resize(static_cast<size_t>(kL * d));
    fq.resize(static_cast<size_t>(nh));
    for (int64_t h = 0; h < nh; ++h) {
        fq[static_cast<size_t>(h)] = kv_quantize_query_i16(q + h * qstride, d, qc.data() + h * d) * scale;
    }
    for (int64_t j0 = 0; j0 < n_vis; j0 += kL) {
        prefetch_records(kbase, offs, j0 + kL, std::min(j0 + 2 * kL, n_vis), static_cast<int64_t>(kv_head_bytes(KvDType::kInt8, d)));
        float ks[kL];
        for (int64_t l = 0; l < kL; ++l) {
            // Slots past the visible keys repeat key j0; their scores are overwritten later.
            const uint8_t* rec = kbase + offs[j0 + l < n_vis ? j0 + l : j0];
            std::memcpy(&ks[l], rec + d, 4);
            int16_t* w = kw.data() + l * d;
            for (int64_t c = 0; c < d; c += kL) widen_i8(rec + c, w + c);
        }
        for (int64_t h = 0; h < nh; ++h) {
            int32_t t[kL];
            dot_tile_i16(qc.data() + h * d, kw.data(), d, t);
            float* ph = p + h * pstride + j0;
            const float f = fq[static_cast<size_t>(h)];
            for (int l = 0; l < kL; ++l) ph[l] = static_cast<float>(t[l]) * (f * ks[l]);
        }
    }
}

// One 16-channel chunk (channels c..c+15) of H heads' outputs over keys [j0, j1): acc_h starts
// from o_h (zero when j0 == 0) and adds pw_h[j] · code_j in order of j.
template <int H>
void pv_chunk_i8(const float* pw, int64_t pstride, const uint8_t* vbase, const int64_t* offs,
                 int64_t j0, int64_t j1, int64_t c, int64_t d, float* o) {
    v16 acc[H];
    for (int h = 0; h < H; ++h) acc[h] = j0 == 0 ? v16{} : load(o + h * d + c);
    for (int64_t j = j0; j < j1; ++j) {
        const v16 v = i8_to_f32(vbase + offs[j] + c);
        for (int h = 0; h < H; ++h) acc[h] += splat(pw[h * pstride + j]) * v;
    }
    for (int h = 0; h < H; ++h) store(o + h * d + c, acc[h]);
}

// o_h = Σ_j p_h[j] · s_j · code_j over n int8 value records (d % 16 == 0); p is scaled in place.
void weighted_sum_i8(float* p, int64_t pstride, int64_t nh, int64_t n, const uint8_t* vbase,
                     const int64_t* offs, int64_t d, float* o) {
    for (int64_t j0 = 0; j0 < n; j0 += kVChunk) {
        const int64_t j1 = j0 + kVChunk < n ? j0 + kVChunk : n;
        prefetch_records(vbase, offs, j1, std::min(j1 + kVChunk, n), static_cast<int64_t>(kv_head_bytes(KvDType::kInt8, d)));
        for (int64_t j = j0; j < j1; ++j) {
            float s;
            std::memcpy(&s, vbase + offs[j] + d, 4);
            for (int64_t h = 0; h < nh; ++h) p[h * pstride + j] *= s;
        }
        for (int64_t c = 0; c < d; c += kL) {
            int64_t h = 0;
            for (; h + 4 <= nh; h += 4) pv_chunk_i8<4>(p + h * pstride, pstride, vbase, offs, j0, j1, c, d, o + h * d);
            for (; h < nh; ++h) pv_chunk_i8<1>(p + h * pstride, pstride, vbase, offs, j0, j1, c, d, o + h * d);
        }
    }
}

struct Args {
    const float* q;
    KvView k_cache;
    KvView v_cache;
    const int32_t* block_table;
    int64_t block_size, n_q, n_kv, n_head, n_head_kv, d;
    float scale;
    float* out;
};

// int4 rows (KIVI keys, tensor/kv_quant.h): rows of the block holding the query's own position
// are the open f32 rows, read in place; other keys are dequantized from their codes and their
// block's channel scales, other values from their records, into `tile`.
struct Int4Rows {
    KvView view;
    bool keys;
    const int32_t* table;
    int64_t bs, n_head_kv, hk, d, own_block;
    std::vector<float>* tile;
    std::vector<const float*>* ptr;
    std::vector<float>* meta;  // the channel scales (d) and minimums (d) of block meta_block
    int64_t tile_j0 = 0, meta_block = -1;
    const size_t rec_bytes = keys ? kv_key_head_bytes(KvDType::kInt4, d) : kv_head_bytes(KvDType::kInt4, d);

    const uint8_t* record(int64_t j) const {
        const int64_t slot = static_cast<int64_t>(table[j / bs]) * bs + j % bs;
        return static_cast<const uint8_t*>(view.data) + static_cast<size_t>(slot * n_head_kv + hk) * rec_bytes;
    }
    void prefetch(int64_t, int64_t) const {}
    void prepare(int64_t j0, int64_t j1) {
        if (tile->size() < static_cast<size_t>((j1 - j0) * d)) tile->resize(static_cast<size_t>((j1 - j0) * d));
        ptr->resize(static_cast<size_t>(j1 - j0));
        tile_j0 = j0;
        for (int64_t j = j0; j < j1; ++j) {
            const int64_t lb = j / bs, pb = table[lb];
            const float*& out = (*ptr)[static_cast<size_t>(j - j0)];
            if (lb == own_block) {
                const int32_t oi = view.open_index[pb];
                AG_CHECK(oi >= 0, "int4 KV: block {} of a query's position is not open", pb);
                out = view.open + ((static_cast<int64_t>(oi) * bs + j % bs) * n_head_kv + hk) * d;
                continue;
            }
            float* x = tile->data() + (j - j0) * d;
            out = x;
            if (!keys) {
                kv_read_row(KvDType::kInt4, record(j), d, x);
                continue;
            }
            if (pb != meta_block) {  // channel scales of a new block, as f32
                meta->resize(static_cast<size_t>(2 * d));
                const uint8_t* m = view.key_meta + static_cast<size_t>(pb * n_head_kv + hk) *
                                                       kv_key_block_meta_bytes(KvDType::kInt4, d);
                for (int64_t c = 0; c < d; ++c) {
                    uint16_t sc16, lo16;
                    std::memcpy(&sc16, m + 4 * c, 2);
                    std::memcpy(&lo16, m + 4 * c + 2, 2);
                    (*meta)[static_cast<size_t>(c)] = kv_f16_to_f32(sc16);
                    (*meta)[static_cast<size_t>(d + c)] = kv_f16_to_f32(lo16);
                }
                meta_block = pb;
            }
            kv_read_key_i4(record(j), meta->data(), meta->data() + d, d, x);
        }
    }
    const float* operator()(int64_t j) const { return (*ptr)[static_cast<size_t>(j - tile_j0)]; }
};

// Scores of the nh heads against the n_vis keys of `kr` (a Rows or Int4Rows), 16 keys a tile.
template <int NC, class Row>
void scores_rows(const float* qb, int64_t qstride, int64_t nh, Row& kr, int64_t n_vis, int64_t nc,
                 int64_t d, float scale, float* p, int64_t pstride) {
    for (int64_t j0 = 0; j0 < n_vis; j0 += kL) {
        const int64_t j1 = j0 + kL < n_vis ? j0 + kL : n_vis;
        kr.prefetch(j1, std::min(j1 + kL, n_vis));
        kr.prepare(j0, j1);
        const float* rows[kL];
        // Slots past the visible keys repeat key j0; their scores are overwritten later.
        for (int64_t l = 0; l < kL; ++l) rows[l] = kr(j0 + l < n_vis ? j0 + l : j0);
        for (int64_t h = 0; h < nh; ++h) score_tile<NC>(qb + h * qstride, rows, nc, d, scale, p + h * pstride + j0);
    }
}

// Softmax over each head's n_vis scores (row h at p + h · n_pad; the padding becomes 0).
void softmax_rows(float* p, int64_t nh, int64_t n_vis, int64_t n_pad) {
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int64_t h = 0; h < nh; ++h) {
        float* ph = p + h * n_pad;
        for (int64_t j = n_vis; j < n_pad; ++j) ph[j] = neg_inf;
        v16 mv = splat(neg_inf);
        for (int64_t j = 0; j < n_pad; j += kL) mv = load(ph + j) > mv ? load(ph + j) : mv;
        const v16 mx = splat(hmax(mv));
        v16 sv = v16{};
        for (int64_t j = 0; j < n_pad; j += kL) {
            const v16 e = exp_nonpos(load(ph + j) - mx);
            store(ph + j, e);
            sv += e;
        }
        const v16 inv = splat(1.0f / hsum(sv));
        for (int64_t j = 0; j < n_pad; j += kL) store(ph + j, load(ph + j) * inv);
    }
}

struct Scratch {
    std::vector<float> buf, ktile, vtile, meta;
    std::vector<int64_t> offs;
    std::vector<const float*> kptr, vptr;
};

// Query i, heads h0 .. h0 + nh − 1 (all on kv head hk).
template <int NC>
void attend(const Args& a, int64_t i, int64_t h0, int64_t nh, int64_t hk, Scratch& sc) {
    const int64_t d = a.d, nc = d / kL;
    const KvDType dt = a.k_cache.dtype;
    const int64_t n_vis = a.n_kv - a.n_q + i + 1;
    const int64_t n_pad = (n_vis + kL - 1) / kL * kL;
    const int64_t qstride = (nc + 1) * kL;  // q rows copied 64-byte-chunk padded
    sc.buf.resize(static_cast<size_t>(nh * (n_pad + qstride)));
    float* p = sc.buf.data();
    float* qb = p + nh * n_pad;
    for (int64_t h = 0; h < nh; ++h) {
        std::memcpy(qb + h * qstride, a.q + (i * a.n_head + h0 + h) * d, static_cast<size_t>(d) * 4);
    }
    // The nh heads' outputs are contiguous: [n_q, n_head, d].
    float* o = a.out + (i * a.n_head + h0) * d;
    if (dt == KvDType::kInt4) {
        const int64_t own = (n_vis - 1) / a.block_size;
        Int4Rows kr{a.k_cache, true, a.block_table, a.block_size, a.n_head_kv, hk, d, own, &sc.ktile, &sc.kptr, &sc.meta};
        Int4Rows vr{a.v_cache, false, a.block_table, a.block_size, a.n_head_kv, hk, d, own, &sc.vtile, &sc.vptr, &sc.meta};
        scores_rows<NC>(qb, qstride, nh, kr, n_vis, nc, d, a.scale, p, n_pad);
        softmax_rows(p, nh, n_vis, n_pad);
        weighted_sum<NC>(p, n_pad, nh, n_vis, vr, nc, d, o);
        return;
    }
    // Byte offsets of the visible keys' head records for kv head hk, walking the block table once.
    const auto head_bytes = static_cast<int64_t>(kv_head_bytes(dt, d));
    sc.offs.resize(static_cast<size_t>(n_vis));
    for (int64_t j = 0, blk = 0; j < n_vis; ++blk) {
        const int64_t base = static_cast<int64_t>(a.block_table[blk]) * a.block_size;
        for (int64_t t = 0; t < a.block_size && j < n_vis; ++t, ++j) {
            sc.offs[static_cast<size_t>(j)] = ((base + t) * a.n_head_kv + hk) * head_bytes;
        }
    }
    const auto* kbase = static_cast<const uint8_t*>(a.k_cache.data);
    const auto* vbase = static_cast<const uint8_t*>(a.v_cache.data);
    if (dt == KvDType::kInt8 && kv_int8_integer_scores(d)) {
        scores_i8(qb, qstride, nh, kbase, sc.offs.data(), n_vis, d, a.scale, p, n_pad);
        softmax_rows(p, nh, n_vis, n_pad);
        weighted_sum_i8(p, n_pad, nh, n_vis, vbase, sc.offs.data(), d, o);
        return;
    }
    Rows kr{kbase, sc.offs.data(), dt, d, &sc.ktile};
    Rows vr{vbase, sc.offs.data(), dt, d, &sc.vtile};
    scores_rows<NC>(qb, qstride, nh, kr, n_vis, nc, d, a.scale, p, n_pad);
    softmax_rows(p, nh, n_vis, n_pad);
    weighted_sum<NC>(p, n_pad, nh, n_vis, vr, nc, d, o);
}

}  // namespace

void attention_paged(const float* q, const float* k_cache, const float* v_cache,
                     const int32_t* block_table, int64_t block_size, float* out, int64_t n_q,
                     int64_t n_kv, int64_t n_head, int64_t n_head_kv, int64_t d, float scale) {
    attention_paged(q, KvView{k_cache, KvDType::kF32}, KvView{v_cache, KvDType::kF32}, block_table,
                    block_size, out, n_q, n_kv, n_head, n_head_kv, d, scale);
}

void attention_paged(const float* q, KvView k_cache, KvView v_cache, const int32_t* block_table,
                     int64_t block_size, float* out, int64_t n_q, int64_t n_kv, int64_t n_head,
                     int64_t n_head_kv, int64_t d, float scale) {
    AG_CHECK(k_cache.dtype == v_cache.dtype, "K and V caches of different dtypes");
    const Args a{q, k_cache, v_cache, block_table, block_size, n_q, n_kv, n_head, n_head_kv, d, scale, out};
    const int64_t group = n_head / n_head_kv;
    ThreadPool& pool = ThreadPool::global();
    // Heads per task: all of a group (each key row is then read once per query), halved only
    // while there are fewer tasks than threads (decode on many cores). Only the grouping of work
    // changes, not any result.
    int64_t hpt = group;
    while (hpt % 2 == 0 && n_q * (n_head / hpt) < static_cast<int64_t>(pool.n_threads())) hpt /= 2;
    const int64_t per_q = n_head / hpt;
    pool.parallel_for(n_q * per_q, 1, [&](int64_t t0, int64_t t1) {
        thread_local Scratch scratch;
        for (int64_t t = t0; t < t1; ++t) {
            // Queries in the order 0, n−1, 1, n−2, …: contiguous task ranges get equal causal work.
            const int64_t u = t / per_q, qi = u % 2 == 0 ? u / 2 : n_q - 1 - u / 2;
            const int64_t h0 = (t % per_q) * hpt, hk = h0 / group;
            switch (d / kL) {
                case 4: attend<4>(a, qi, h0, hpt, hk, scratch); break;
                case 8: attend<8>(a, qi, h0, hpt, hk, scratch); break;
                default: attend<0>(a, qi, h0, hpt, hk, scratch); break;
            }
        }
    });
}

}  // namespace ag::kernels::cpu
