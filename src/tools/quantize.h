// `autoglm quantize`: a GLM-4 / GLM-4.1V checkpoint -> one GGUF file of llama.cpp's `glm4`
// architecture (names and metadata as llama.cpp's convert_hf_to_gguf.py writes them, so
// llama.cpp loads the file), with the tokenizer from the checkpoint's tokenizer.json.
//
// Types: 1-D tensors (norms, biases) are F32; matrices use the chosen type. As llama.cpp's
// quantize: token_embd takes the chosen type; the output matrix (output.weight, or token_embd
// when the embeddings are tied) gets a higher-precision type for the 4-bit formats -- Q8_0 here,
// where llama.cpp uses Q6_K (a format this project does not have). A matrix whose rows are not a
// whole number of blocks falls back to Q4_0 for Q4_K (GLM's FFN widths 13696 and 6848 are not
// multiples of 256, so ffn_down takes this path), else F16; each fallback is reported in the notes. A GLM-4.1V
// vision tower goes to a second file beside it, "<out stem>-mmproj-<vision type>.gguf" (autoglm's
// own layout: Hugging Face names, the checkpoint's config.json in metadata; llama.cpp ignores
// it), which `--model OUT.gguf` picks up (io/checkpoint.h). Tensors are converted and written one
// block of rows at a time, in parallel over the global thread pool.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tensor/dtype.h"

namespace ag::tools {

// "q8_0", "q4_0", "q4_k", "f16", "bf16", "f32" (case-insensitive).
Result<DType> parse_quant_type(const std::string& s);

struct QuantizeResult {
    std::vector<std::string> notes;  // fallbacks and things left out, one line each
    size_t n_tensors = 0;
    uint64_t n_bytes = 0;            // tensor data bytes written
};

// vision_type: the vision tower's matrices (F16 by default; F32/BF16 also accepted).
Result<QuantizeResult> quantize_to_gguf(const std::string& model_path, DType type,
                                        const std::string& out_path, DType vision_type = DType::kF16);

}  // namespace ag::tools
