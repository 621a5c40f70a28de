// Internal: everything a loaded Tokenizer holds. Filled by tokenizer_json.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "tokenizer/added_vocab.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/pre_tokenizer.h"

namespace ag::tok {

enum class DecoderKind {
    kByteLevel,  // inverse byte mapping, then lossy UTF-8
    kJoinSpace,  // no decoder: HF joins the token strings with " "
};

struct TokenizerData {
    std::unique_ptr<BpeModel> model;
    PreTokenizer pre_tokenizer;
    AddedVocab added;
    DecoderKind decoder = DecoderKind::kByteLevel;
    std::optional<int32_t> eos_id;
    std::optional<int32_t> pad_id;
    std::string chat_template;
};

// Parses tokenizer.json text; `source` (a path or file name) prefixes every error message.
Status parse_tokenizer_json(std::string_view text, const std::string& source, TokenizerData& data);
// Parses tokenizer_config.json text (after parse_tokenizer_json, to resolve token ids).
Status parse_tokenizer_config(std::string_view text, const std::string& source,
                              TokenizerData& data);

}  // namespace ag::tok
