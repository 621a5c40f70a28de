// Non-causal attention over one sequence (the vision tower's patches), flash-attention style.
//
// Per head, K is packed once into tiles of 16 keys stored dimension-major (tile t, dim e: the 16
// keys' e-th values side by side) and V into dense rows, both zero-padded to a multiple of 32
// keys and of 16 dims. A task is one block of queries (already scaled) that passes over blocks
// of 128 keys:
//   S = Q·Kᵀ  as register tiles of 8 queries × 32 keys (one broadcast q value feeds two FMAs);
//   running max m, alpha = e^(m_old − m), P = e^(S − m) (vector polynomial), l = l·alpha + ΣP;
//   O = O·alpha + P·V  as register tiles of (16 / G) queries × G vectors of dims;
// and at the end out = O / l. Scratch is a few KiB per thread; nothing is O(L²).
// Written with the vector helpers of vec16.h.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec16.h"

namespace ag::kernels::cpu {

namespace {

using namespace vec;

constexpr int64_t kKeyBlock = 128;  // keys per online-softmax step
constexpr int64_t kKeyAlign = 32;   // keys are padded to this (two tiles per score step)
constexpr int64_t kScoreRows = 8;   // queries per score register tile

size_t sz(int64_t n) { return static_cast<size_t>(n); }

// f in every lane: one vbroadcastss (vec::splat adds +0.0f first, an extra instruction here).
inline v16 bcast(float f) { return v16{f, f, f, f, f, f, f, f, f, f, f, f, f, f, f, f}; }

// S[i][0 .. 16·nt) = Σ_e qb[i][e] · kt[tile][e][lane] for the nq (multiple of 8) query rows of qb
// (dp floats each) against nt (even) tiles of kt.
void scores(const float* qb, int64_t nq, int64_t dp, const float* kt, int64_t nt, float* s,
            int64_t s_stride) {
    for (int64_t i0 = 0; i0 < nq; i0 += kScoreRows) {
        for (int64_t t = 0; t < nt; t += 2) {
            const float* k0 = kt + t * dp * kL;
            const float* k1 = k0 + dp * kL;
            v16 acc[kScoreRows][2];
            for (auto& a : acc) a[0] = a[1] = v16{};
            for (int64_t e = 0; e < dp; ++e) {
                const v16 ka = load(k0 + e * kL), kb = load(k1 + e * kL);
#pragma GCC unroll 8
                for (int64_t r = 0; r < kScoreRows; ++r) {
                    const v16 qv = bcast(qb[(i0 + r) * dp + e]);
                    acc[r][0] += qv * ka;
                    acc[r][1] += qv * kb;
                }
            }
            for (int64_t r = 0; r < kScoreRows; ++r) {
                store(s + (i0 + r) * s_stride + t * kL, acc[r][0]);
                store(s + (i0 + r) * s_stride + (t + 1) * kL, acc[r][1]);
            }
        }
    }
}

// O[i][:] += Σ_j P[i][j] · V[j][:] over nk keys, for nq query rows (a multiple of 16 / G); every
// dimension vector group of G (G divides dp / 16) is one register tile of (16 / G) × G.
template <int G>
void weighted_sum(const float* p, int64_t p_stride, int64_t nq, const float* v, int64_t dp,
                  int64_t nk, float* o) {
    constexpr int64_t R = 16 / G;
    const int64_t nc = dp / kL;
    for (int64_t i0 = 0; i0 < nq; i0 += R) {
        for (int64_t c0 = 0; c0 < nc; c0 += G) {
            v16 acc[R][G];
            for (int64_t r = 0; r < R; ++r) {
                for (int64_t c = 0; c < G; ++c) acc[r][c] = load(o + (i0 + r) * dp + (c0 + c) * kL);
            }
            for (int64_t j = 0; j < nk; ++j) {
                v16 vv[G];
#pragma GCC unroll 4
                for (int64_t c = 0; c < G; ++c) vv[c] = load(v + j * dp + (c0 + c) * kL);
#pragma GCC unroll 16
                for (int64_t r = 0; r < R; ++r) {
                    const v16 pj = bcast(p[(i0 + r) * p_stride + j]);
#pragma GCC unroll 4
                    for (int64_t c = 0; c < G; ++c) acc[r][c] += pj * vv[c];
                }
            }
            for (int64_t r = 0; r < R; ++r) {
                for (int64_t c = 0; c < G; ++c) store(o + (i0 + r) * dp + (c0 + c) * kL, acc[r][c]);
            }
        }
    }
}

struct Scratch {
    std::vector<float> q, s, o, m, l;
};

// Queries [i0, i0 + nq_real) of one head; kt, vp: the packed keys and values (lp keys).
template <int G>
void attend_block(const float* q, int64_t stride, int64_t h, int64_t d, int64_t dp, float scale,
                  int64_t L, int64_t lp, const float* kt, const float* vp, int64_t i0, int64_t bq,
                  float* out, int64_t out_stride, Scratch& w) {
    const int64_t nq = std::min(bq, L - i0);
    w.q.assign(sz(bq * dp), 0.0f);
    w.o.assign(sz(bq * dp), 0.0f);
    w.s.resize(sz(bq * kKeyBlock));
    w.m.assign(sz(bq), -std::numeric_limits<float>::infinity());
    w.l.assign(sz(bq), 0.0f);
    for (int64_t r = 0; r < nq; ++r) {
        const float* src = q + (i0 + r) * stride + h * d;
        for (int64_t e = 0; e < d; ++e) w.q[sz(r * dp + e)] = src[e] * scale;
    }
    const float neg_inf = -std::numeric_limits<float>::infinity();
    for (int64_t j0 = 0; j0 < lp; j0 += kKeyBlock) {
        const int64_t nk = std::min(kKeyBlock, lp - j0);  // a multiple of 32
        scores(w.q.data(), bq, dp, kt + j0 * dp, nk / kL, w.s.data(), kKeyBlock);
        const int64_t valid = std::min(nk, L - j0);
        for (int64_t r = 0; r < bq; ++r) {
            float* sr = w.s.data() + r * kKeyBlock;
            for (int64_t j = valid; j < nk; ++j) sr[j] = neg_inf;
            v16 mv = load(sr);
            for (int64_t j = kL; j < nk; j += kL) mv = load(sr + j) > mv ? load(sr + j) : mv;
            const float m_old = w.m[sz(r)];
            const float m_new = std::max(m_old, hmax(mv));
            const v16 mx = splat(m_new);
            v16 sum = v16{};
            for (int64_t j = 0; j < nk; j += kL) {
                const v16 e = exp_nonpos(load(sr + j) - mx);
                store(sr + j, e);
                sum += e;
            }
            const float alpha = m_old == neg_inf ? 0.0f : std::exp(m_old - m_new);
            w.l[sz(r)] = w.l[sz(r)] * alpha + hsum(sum);
            w.m[sz(r)] = m_new;
            if (alpha != 1.0f) {
                const v16 av = splat(alpha);
                float* orow = w.o.data() + r * dp;
                for (int64_t e = 0; e < dp; e += kL) store(orow + e, load(orow + e) * av);
            }
        }
        weighted_sum<G>(w.s.data(), kKeyBlock, bq, vp + j0 * dp, dp, nk, w.o.data());
    }
    for (int64_t r = 0; r < nq; ++r) {
        const float inv = 1.0f / w.l[sz(r)];
        float* dst = out + (i0 + r) * out_stride + h * d;
        for (int64_t e = 0; e < d; ++e) dst[e] = w.o[sz(r * dp + e)] * inv;
    }
}

}  // namespace

void attention_full(const float* q, const float* k, const float* v, int64_t stride, float* out,
                    int64_t out_stride, int64_t L, int64_t n_head, int64_t d, float scale) {
    if (L <= 0) return;
    const int64_t dp = (d + kL - 1) / kL * kL, nc = dp / kL;
    const int64_t lp = (L + kKeyAlign - 1) / kKeyAlign * kKeyAlign;
    // Queries per task: enough to reuse each streamed key/value row, few enough that q, o and
    // the score block stay in L1/L2.
    const int64_t bq = dp <= 64 ? 32 : 16;
    const int64_t n_blocks = (L + bq - 1) / bq;
    std::vector<float> kt(sz(lp * dp)), vp(sz(lp * dp));
    ThreadPool& pool = ThreadPool::global();
    for (int64_t h = 0; h < n_head; ++h) {
        pool.parallel_for(lp / kL, 4, [&](int64_t t0, int64_t t1) {
            for (int64_t t = t0; t < t1; ++t) {
                float* tile = kt.data() + t * dp * kL;
                std::fill(tile, tile + dp * kL, 0.0f);
                for (int64_t l = 0; l < kL && t * kL + l < L; ++l) {
                    const float* src = k + (t * kL + l) * stride + h * d;
                    for (int64_t e = 0; e < d; ++e) tile[e * kL + l] = src[e];
                }
                for (int64_t j = t * kL; j < (t + 1) * kL; ++j) {
                    float* row = vp.data() + j * dp;
                    std::fill(row, row + dp, 0.0f);
                    if (j < L) std::copy_n(v + j * stride + h * d, d, row);
                }
            }
        });
        pool.parallel_for(n_blocks, 1, [&](int64_t b0, int64_t b1) {
            thread_local Scratch w;
            for (int64_t b = b0; b < b1; ++b) {
                const auto run = [&](auto g) {
                    attend_block<decltype(g)::value>(q, stride, h, d, dp, scale, L, lp, kt.data(),
                                                     vp.data(), b * bq, bq, out, out_stride, w);
                };
                if (nc % 4 == 0) {
                    run(std::integral_constant<int, 4>{});
                } else if (nc % 2 == 0) {
                    run(std::integral_constant<int, 2>{});
                } else {
                    run(std::integral_constant<int, 1>{});
                }
            }
        });
    }
}

}  // namespace ag::kernels::cpu
