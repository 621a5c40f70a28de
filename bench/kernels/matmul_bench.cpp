// Speed of kernels::cpu::matmul (not a test: numbers only).
//
//   matmul_bench [--threads N] [--isa avx512|avx2|scalar] [--formats f16,bf16,q8_0,q4_0,q4_k]
//                [--reps R] [--gemm-m 512]
//
// For each weight format:
// Matmuls are timed in slices of weight rows (512 for m = 1 and 8, 64 for the GEMM).
//   gemv   decode: m = 1 over a set of GLM-4-1.86B-shaped layers (hidden 2048, 16 heads, 2 KV
//          heads, FFN 6848: qkv 2560×2048, o 2048×2048, gate_up 13696×2048, down 2048×6848)
//          whose weights total more than twice the last-level cache, so they stream from DRAM.
//          Reported as weight GB/s and as a share of the measured read bandwidth.
//   batch8 batched decode, m = 8, same matrices: GB/s and the speed-up in rows/s over m = 1.
//   gemm   prefill, m = --gemm-m over one layer: GOP/s (2·m·n·k per matmul).
//   L2     m = 1 on a 256×2048 matrix that stays in L2: the kernel's own ceiling in GB/s.
// Q4_K: the down projection (k = 6848, not a multiple of 256) is Q4_0, as llama.cpp falls back.
// parallel_for: the median time of an almost empty parallel_for over all threads.
// The read bandwidth is a plain multi-threaded sum over a 1 GiB buffer. Every timing is the sum of
// per-piece best times over R repetitions, so other jobs on a shared machine disturb it little.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "tensor/dtype.h"

namespace {

using namespace ag;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

uint64_t g_rng = 0x9E3779B97F4A7C15ull;
uint64_t next_rand() {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

// Random but well-formed weights: normal f16/bf16/f32 values in ±[0.5, 1), block scales 2^-8.
void fill(DType dt, uint8_t* p, int64_t rows, int64_t k) {
    const size_t rb = dtype_row_bytes(dt, k), total = rb * static_cast<size_t>(rows);
    for (size_t i = 0; i + 8 <= total; i += 8) {
        const uint64_t r = next_rand();
        std::memcpy(p + i, &r, 8);
    }
    if (dt == DType::kF16 || dt == DType::kBF16) {
        auto* h = reinterpret_cast<uint16_t*>(p);
        const uint16_t keep = dt == DType::kF16 ? 0x83FF : 0x807F, set = dt == DType::kF16 ? 0x3800 : 0x3F00;
        for (size_t i = 0; i < total / 2; ++i) h[i] = static_cast<uint16_t>((h[i] & keep) | set);
    } else if (dt == DType::kF32) {
        auto* f = reinterpret_cast<uint32_t*>(p);
        for (size_t i = 0; i < total / 4; ++i) f[i] = (f[i] & 0x807FFFFFu) | 0x3F000000u;
    } else if (dtype_is_quantized(dt)) {
        const size_t bb = dtype_block_bytes(dt);
        const uint16_t scale = 0x1C00;  // f16 2^-8
        for (size_t b = 0; b < total / bb; ++b) {
            std::memcpy(p + b * bb, &scale, 2);
            if (dt == DType::kQ4_K) std::memcpy(p + b * bb + 2, &scale, 2);
        }
    }
}

struct Mat {
    int64_t n, k;
    DType dt;
    std::vector<uint8_t> w;
};

// Q4_K needs k % 256 == 0; FFN 6848 is not, so (as llama.cpp's quantizer does) that matrix
// falls back to another format: Q4_0 here.
DType dtype_for(DType dt, int64_t k) {
    return dt == DType::kQ4_K && k % 256 != 0 ? DType::kQ4_0 : dt;
}

struct Layer {
    std::vector<Mat> mats;
};

const int64_t kHidden = 2048, kFfn = 6848;
const std::pair<int64_t, int64_t> kShapes[] = {{2560, kHidden}, {kHidden, kHidden}, {2 * kFfn, kHidden}, {kHidden, kFfn}};

size_t layer_bytes(DType dt) {
    size_t s = 0;
    for (auto [n, k] : kShapes) s += dtype_row_bytes(dtype_for(dt, k), k) * static_cast<size_t>(n);
    return s;
}

std::vector<Layer> make_layers(DType dt, int n_layers) {
    std::vector<Layer> layers(static_cast<size_t>(n_layers));
    for (auto& L : layers) {
        for (auto [n, k] : kShapes) {
            const DType mdt = dtype_for(dt, k);
            Mat m{n, k, mdt, std::vector<uint8_t>(dtype_row_bytes(mdt, k) * static_cast<size_t>(n))};
            fill(mdt, m.w.data(), n, k);
            L.mats.push_back(std::move(m));
        }
    }
    return layers;
}

// Runs every matmul of every layer `reps` times, in slices of `slice` weight rows (cycling
// through all layers, so the weights come from DRAM when they exceed the caches), and returns the
// sum over slices of each one's fastest run: on a machine shared with other jobs, short timed
// pieces and best-of still measure the undisturbed speed.
double best_pass(const std::vector<Layer>& layers, int64_t m, int reps, int64_t slice) {
    std::vector<float> x(static_cast<size_t>(m * kFfn)), y(static_cast<size_t>(m * slice));
    for (auto& v : x) v = static_cast<float>(static_cast<int64_t>(next_rand() % 2001) - 1000) / 1000.0f;
    std::vector<double> best;
    for (int r = 0; r <= reps; ++r) {  // r = 0 warms up (page faults, scratch)
        size_t idx = 0;
        for (const auto& L : layers) {
            for (const auto& M : L.mats) {
                const size_t rb = dtype_row_bytes(M.dt, M.k);
                for (int64_t j0 = 0; j0 < M.n; j0 += slice) {
                    const int64_t nj = std::min(slice, M.n - j0);
                    const auto t0 = Clock::now();
                    kernels::cpu::matmul(x.data(), m, M.k, M.w.data() + static_cast<size_t>(j0) * rb, M.dt, nj,
                                         nullptr, y.data());
                    const double t = seconds_since(t0);
                    if (r == 0) {
                        best.push_back(1e30);
                    } else {
                        best[idx] = std::min(best[idx], t);
                    }
                    ++idx;
                }
            }
        }
    }
    double sum = 0;
    for (double t : best) sum += t;
    return sum;
}

// Read bandwidth: every thread sums its share of a buffer much larger than the caches.
double read_bandwidth(int reps) {
    const size_t bytes = size_t{1} << 30;
    auto* buf = static_cast<uint8_t*>(std::aligned_alloc(64, bytes));
    ThreadPool::global().parallel_for(static_cast<int64_t>(bytes / 4096), 1, [&](int64_t b, int64_t e) {
        std::memset(buf + b * 4096, 1, static_cast<size_t>(e - b) * 4096);
    });
    // 256 chunks of 4 MiB, each timed separately; the sum of each chunk's best time.
    const int64_t pages = static_cast<int64_t>(bytes / 4096), chunk_pages = pages / 256;
    std::vector<double> best(256, 1e30);
    std::atomic<int64_t> sink{0};
    for (int r = 0; r < reps; ++r) {
        for (int c = 0; c < 256; ++c) {
            const auto t0 = Clock::now();
            ThreadPool::global().parallel_for(chunk_pages, 1, [&](int64_t b0, int64_t e0) {
                const int64_t b = c * chunk_pages + b0, e = c * chunk_pages + e0;
#if defined(__AVX512F__)
                __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
                for (const uint8_t* p = buf + b * 4096; p < buf + e * 4096; p += 256) {
                    acc0 = _mm512_add_epi64(acc0, _mm512_load_si512(p));
                    acc1 = _mm512_add_epi64(acc1, _mm512_load_si512(p + 64));
                    acc2 = _mm512_add_epi64(acc2, _mm512_load_si512(p + 128));
                    acc3 = _mm512_add_epi64(acc3, _mm512_load_si512(p + 192));
                }
                alignas(64) int64_t lanes[8];
                _mm512_store_si512(lanes, _mm512_add_epi64(_mm512_add_epi64(acc0, acc1), _mm512_add_epi64(acc2, acc3)));
                for (int64_t l : lanes) sink += l;
#else
                int64_t s = 0;
                for (const uint8_t* p = buf + b * 4096; p < buf + e * 4096; p += 8) {
                    int64_t v;
                    std::memcpy(&v, p, 8);
                    s += v;
                }
                sink += s;
#endif
            });
            best[static_cast<size_t>(c)] = std::min(best[static_cast<size_t>(c)], seconds_since(t0));
        }
    }
    double total = 0;
    for (double t : best) total += t;
    std::free(buf);
    return static_cast<double>(chunk_pages * 256 * 4096) / total / 1e9;
}

// Median cost of an almost empty parallel_for over all threads (workers warm), in microseconds.
double parallel_for_micros() {
    ThreadPool& pool = ThreadPool::global();
    std::atomic<int64_t> sink{0};
    std::vector<double> t(20000);
    for (auto& v : t) {
        const auto t0 = Clock::now();
        pool.parallel_for(pool.n_threads(), 1, [&](int64_t b, int64_t e) { sink += e - b; });
        v = seconds_since(t0) * 1e6;
    }
    std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
    return t[t.size() / 2];
}

DType parse_dtype(const std::string& s) {
    if (s == "f32") return DType::kF32;
    if (s == "f16") return DType::kF16;
    if (s == "bf16") return DType::kBF16;
    if (s == "q8_0") return DType::kQ8_0;
    if (s == "q4_0") return DType::kQ4_0;
    if (s == "q4_k") return DType::kQ4_K;
    std::fprintf(stderr, "unknown format %s\n", s.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 0, reps = 5;
    int64_t gemm_m = 512;
    std::string isa, formats = "f16,bf16,q8_0,q4_0,q4_k";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--threads") threads = std::atoi(v.c_str());
        else if (a == "--isa") isa = v;
        else if (a == "--formats") formats = v;
        else if (a == "--reps") reps = std::atoi(v.c_str());
        else if (a == "--gemm-m") gemm_m = std::atoll(v.c_str());
        else {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    ThreadPool::set_global_threads(threads);
    if (!isa.empty() && !kernels::cpu::set_isa(isa)) {
        std::fprintf(stderr, "ISA %s not available\n", isa.c_str());
        return 2;
    }
    const int nt = ThreadPool::global().n_threads();
    const double bw = read_bandwidth(reps);
    std::printf("isa=%s threads=%d read_bandwidth=%.1f GB/s parallel_for=%.1f us (median)\n",
                std::string(kernels::cpu::isa_name()).c_str(), nt, bw, parallel_for_micros());
    std::printf("%-6s %10s %7s %10s %9s %12s %11s\n", "format", "gemv GB/s", "%bw", "b8 GB/s", "b8 speed",
                "gemm GOP/s", "L2 GB/s");
    const size_t stream_bytes = size_t{700} << 20;  // > 2 × a 300 MB L3
    size_t pos = 0;
    while (pos < formats.size()) {
        const size_t comma = std::min(formats.find(',', pos), formats.size());
        const DType dt = parse_dtype(formats.substr(pos, comma - pos));
        pos = comma + 1;
        const size_t lb = layer_bytes(dt);
        const int n_layers = static_cast<int>((stream_bytes + lb - 1) / lb);
        const auto layers = make_layers(dt, n_layers);
        const double bytes = static_cast<double>(lb) * n_layers;
        const double t1 = best_pass(layers, 1, reps, 512);
        const double t8 = best_pass(layers, 8, reps, 512);
        const std::vector<Layer> one(layers.begin(), layers.begin() + 1);
        const double tg = best_pass(one, gemm_m, std::max(1, reps / 2), 64);
        // Kernel ceiling: m = 1 on a 256 × 2048 slice that stays in L2, best of many.
        Layer hot;
        hot.mats.push_back(Mat{256, kHidden, dt, std::vector<uint8_t>(dtype_row_bytes(dt, kHidden) * 256)});
        fill(dt, hot.mats[0].w.data(), 256, kHidden);
        const double th = best_pass(std::vector<Layer>{hot}, 1, 50 * reps, 256);
        const double hot_bytes = static_cast<double>(hot.mats[0].w.size());
        double ops = 0;
        for (auto [n, k] : kShapes) ops += 2.0 * static_cast<double>(gemm_m * n * k);
        std::printf("%-6s %10.1f %6.0f%% %10.1f %8.2fx %12.1f %11.1f\n", std::string(dtype_name(dt)).c_str(),
                    bytes / t1 / 1e9, 100.0 * bytes / t1 / 1e9 / bw, bytes / t8 / 1e9, 8.0 * t1 / t8,
                    ops / tg / 1e9, hot_bytes / th / 1e9);
        std::fflush(stdout);
    }
    return 0;
}
