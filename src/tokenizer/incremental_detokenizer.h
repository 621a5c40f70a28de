// Streaming detokenization: turns ids into text as they are generated, never emitting a partial
// UTF-8 sequence. Invariant: the concatenation of every push() result and the final flush()
// equals Tokenizer::decode() of all pushed ids (same skip_special_tokens).
// Not thread-safe (one instance per stream); the Tokenizer must outlive it.
#pragma once

#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace ag::tok {

class IncrementalDetokenizer {
public:
    explicit IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens = false);

    /// Adds one id; returns the text completed by it (may be empty while a multi-byte
    /// character is still incomplete).
    std::string push(int32_t id);
    /// Ends the stream: returns what is still held back (incomplete bytes become U+FFFD).
    std::string flush();

private:
    const Tokenizer* tokenizer_;
    bool skip_special_tokens_;
    bool first_ = true;
    std::string pending_;  // raw bytes not yet emitted: an incomplete trailing sequence
};

}  // namespace ag::tok
