// matmul driver: picks the ISA path once, quantizes the activation rows (when the weights are
// quantized) into a per-thread scratch buffer, and splits the weight rows over the thread pool.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/isa/isa.h"
#include "tensor/tensor.h"

namespace ag::kernels::cpu {

namespace {

const isa::MatmulTable* table_by_name(std::string_view name) {
    if (name == "scalar") return &isa::scalar_table();
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (name == "amx") {
        const auto* base = table_by_name("avx512");
        return base ? isa::amx_table() : nullptr;
    }
    if (name == "avx512") {
        const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("fma") &&
                        __builtin_cpu_supports("f16c");
        return ok ? isa::avx512_table() : nullptr;
    }
    if (name == "avx2") {
        const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                        __builtin_cpu_supports("f16c");
        return ok ? isa::avx2_table() : nullptr;
    }
#endif
    return nullptr;
}

const isa::MatmulTable* choose() {
    if (const char* env = std::getenv("AG_CPU_ISA"); env && *env) {
        if (const auto* t = table_by_name(env)) return t;
        log::warn("AG_CPU_ISA={} is not available on this CPU/build; using the best path", env);
    }
    for (const char* n : {"amx", "avx512", "avx2"}) {
        if (const auto* t = table_by_name(n)) return t;
    }
    return &isa::scalar_table();
}

const isa::MatmulTable*& active() {
    static const isa::MatmulTable* t = choose();
    return t;
}

// 64-byte aligned scratch for the prepared activations, reused across calls.
uint8_t* act_scratch(size_t bytes) {
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes + 64) buf.resize(bytes + 64);
    const auto p = reinterpret_cast<uintptr_t>(buf.data());
    return buf.data() + ((64 - p % 64) % 64);
}

constexpr int64_t kRowGroup = 16;  // weight rows per unit of thread work

}  // namespace

std::string_view isa_name() { return active()->name; }

bool isa_available(std::string_view name) { return table_by_name(name) != nullptr; }

bool set_isa(std::string_view name) {
    const auto* t = table_by_name(name);
    if (!t) return false;
    active() = t;
    return true;
}

void matmul(const float* x, int64_t m, int64_t k, const void* w, DType w_dtype, int64_t n,
            const float* bias, float* y) {
    if (m <= 0 || n <= 0) return;
    (void)dtype_row_bytes(w_dtype, k);  // checks that k is whole blocks
    const isa::MatmulTable& t = *active();
    ThreadPool& pool = ThreadPool::global();
    const size_t xrb = t.act_row_bytes(w_dtype, k);
    uint8_t* xa = nullptr;
    if (xrb > 0) {
        xa = act_scratch(xrb * static_cast<size_t>(m));
        const auto prep = [&](int64_t i0, int64_t i1) {
            for (int64_t i = i0; i < i1; ++i) {
                t.prepare_act(w_dtype, x + i * k, k, xa + static_cast<size_t>(i) * xrb);
            }
        };
        if (m * k >= (1 << 16)) {
            pool.parallel_for(m, 1, prep);
        } else {
            prep(0, m);
        }
    }
    const int64_t groups = (n + kRowGroup - 1) / kRowGroup;
    const auto run = [&](int64_t g0, int64_t g1) {
        t.matmul(w_dtype, x, xa, m, k, w, n, g0 * kRowGroup, std::min(n, g1 * kRowGroup), bias, y);
    };
    // Tiny products are not worth waking the workers.
    if (m * n * k < (1 << 15)) {
        run(0, groups);
    } else {
        pool.parallel_for(groups, 1, run);
    }
}

}  // namespace ag::kernels::cpu
