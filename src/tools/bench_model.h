// `autoglm bench model`: offline speed of one loaded model, measured the way llama-bench measures
// it, so the numbers compare with llama.cpp's on the same machine and thread count:
//   pp  one forward over `prompt_len` random token ids in a fresh KV cache (one chunk);
//   tg  `gen_len` single-token decode steps, each one forward, starting from a fresh KV cache
//       (or one holding `depth` tokens, filled with random K/V before the clock starts; what
//       llama-bench's -d measures, without its prefill);
//   tg×B (optional) the same over B sequences decoded together (one forward over B tokens a step).
// Each test runs once as a warm-up, then `repetitions` times; tok/s are reported as mean ± sample
// standard deviation over the repetitions. Generation is also put against the machine's roofline:
// read bandwidth (a multi-threaded streaming read of a buffer much larger than the last-level
// cache) divided by the weight bytes one decode step reads.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "model/model.h"

namespace ag::tools {

struct BenchModelOptions {
    int prompt_len = 512;
    int gen_len = 128;
    int repetitions = 5;
    int batch = 1;            // > 1: also measure batched decode of this many sequences
    uint64_t seed = 0;        // random token ids
    int depth = 0;            // tg: tokens already in the KV cache (llama-bench's -d), untimed
    KvDType kv_dtype = KvDType::kF32;  // KV cache storage of every test
};

struct MeanStd {
    double mean = 0.0, stddev = 0.0;
};

struct BenchModelResult {
    MeanStd prompt_tokens_per_s;      // pp (empty if prompt_len == 0)
    MeanStd gen_tokens_per_s;         // tg, one sequence
    MeanStd batch_gen_tokens_per_s;   // tg over `batch` sequences, all tokens counted (batch > 1)
};

// Runs the tests on `model` with the current global thread pool.
Result<BenchModelResult> run_bench_model(const model::Model& model, const BenchModelOptions& opts);

// Best-of-`runs` read bandwidth in bytes/s of a streaming read over `bytes` (0: four times the
// last-level cache, at least 512 MiB, at most 2 GiB), split over the global thread pool.
double measure_read_bandwidth(size_t bytes = 0, int runs = 5);

// Weight bytes one decode step reads for the text model stored at `path` (a checkpoint directory,
// a .safetensors file in one, or a .gguf file): every text-model tensor in its stored format,
// except the token-embedding table, of which one row is read. Vision-tower tensors are excluded.
Result<uint64_t> weight_bytes_per_token(const std::string& path);

// The matmul kernels' active instruction-set path ("avx512", "avx2", "scalar").
std::string kernel_isa();

}  // namespace ag::tools
