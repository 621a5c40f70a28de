#include "tokenizer/incremental_detokenizer.h"

#include "tokenizer/utf8.h"

namespace ag::tok {

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::push(int32_t id) {
    if (tokenizer_->append_token_bytes(id, skip_special_tokens_, first_, pending_)) first_ = false;
    std::string out;
    // Lossy decoding of a prefix never depends on later bytes, except for an incomplete
    // sequence at the very end, which append_utf8_lossy leaves unconsumed.
    const size_t consumed = append_utf8_lossy(pending_, out, /*final=*/false);
    pending_.erase(0, consumed);
    return out;
}

std::string IncrementalDetokenizer::flush() {
    std::string out;
    append_utf8_lossy(pending_, out, /*final=*/true);
    pending_.clear();
    return out;
}

}  // namespace ag::tok
