#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "tokenizer/byte_level.h"

namespace ag::tok {
namespace {

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct Span {
    size_t begin;
    size_t end;
    bool is_match;
};

// HF Pattern::find_matches: the pieces covering `text`, each flagged match / non-match.
std::vector<Span> find_matches(const SplitStep& step, std::string_view text) {
    std::vector<Span> spans;
    if (text.empty()) {
        spans.push_back({0, 0, false});
        return spans;
    }
    std::vector<std::pair<size_t, size_t>> matches;
    if (step.regex) {
        step.regex->find_all(text, matches);
    } else if (!step.literal.empty()) {
        size_t pos = 0;
        while ((pos = text.find(step.literal, pos)) != std::string_view::npos) {
            matches.emplace_back(pos, pos + step.literal.size());
            pos += step.literal.size();
        }
    }
    size_t prev = 0;
    for (const auto& [start, end] : matches) {
        if (prev != start) spans.push_back({prev, start, false});
        spans.push_back({start, end, true});
        prev = end;
    }
    if (prev != text.size()) spans.push_back({prev, text.size(), false});
    if (step.invert) {
        for (auto& s : spans) s.is_match = !s.is_match;
    }
    return spans;
}

}  // namespace

void PreTokenizer::add_split(SplitStep step) { steps_.push_back(Step{true, std::move(step), {}}); }

void PreTokenizer::add_byte_level(ByteLevelStep step) { steps_.push_back(Step{false, {}, step}); }

Status PreTokenizer::prepare() {
    auto re = UnicodeRegex::compile(kGpt2Pattern);
    if (!re.ok()) return re.status();
    gpt2_regex_ = std::move(re).value();
    return Status::ok_status();
}

// HF NormalizedString::split with the given behaviour.
void PreTokenizer::apply_split(const SplitStep& step, const std::string& piece,
                               std::vector<std::string>& out) const {
    const std::vector<Span> spans = find_matches(step, piece);
    std::vector<Span> kept;  // is_match reused as "remove"
    kept.reserve(spans.size());
    bool previous_match = false;
    switch (step.behavior) {
    case SplitBehavior::kIsolated:
        for (const auto& s : spans) kept.push_back({s.begin, s.end, false});
        break;
    case SplitBehavior::kRemoved:
        kept = spans;
        break;
    case SplitBehavior::kContiguous:
        for (const auto& s : spans) {
            if (s.is_match == previous_match && !kept.empty()) {
                kept.back().end = s.end;
            } else {
                kept.push_back({s.begin, s.end, false});
            }
            previous_match = s.is_match;
        }
        break;
    case SplitBehavior::kMergedWithPrevious:
        for (const auto& s : spans) {
            if (s.is_match && !previous_match && !kept.empty()) {
                kept.back().end = s.end;
            } else {
                kept.push_back({s.begin, s.end, false});
            }
            previous_match = s.is_match;
        }
        break;
    case SplitBehavior::kMergedWithNext:
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->is_match && !previous_match && !kept.empty()) {
                kept.back().begin = it->begin;
            } else {
                kept.push_back({it->begin, it->end, false});
            }
            previous_match = it->is_match;
        }
        std::reverse(kept.begin(), kept.end());
        break;
    }
    for (const auto& s : kept) {
        if (!s.is_match && s.end > s.begin) out.push_back(piece.substr(s.begin, s.end - s.begin));
    }
}

void PreTokenizer::apply_byte_level(const ByteLevelStep& step, const std::string& piece,
                                    std::vector<std::string>& out) const {
    std::string prefixed;
    std::string_view text = piece;
    if (step.add_prefix_space && (piece.empty() || piece[0] != ' ')) {
        prefixed = " " + piece;
        text = prefixed;
    }
    auto emit = [&out](std::string_view part) {
        if (part.empty()) return;
        std::string mapped;
        mapped.reserve(part.size() * 2);
        append_byte_level(part, mapped);
        out.push_back(std::move(mapped));
    };
    if (!step.use_regex) {
        emit(text);
        return;
    }
    std::vector<std::pair<size_t, size_t>> matches;
    gpt2_regex_->find_all(text, matches);
    size_t prev = 0;
    for (const auto& [start, end] : matches) {
        if (prev != start) emit(text.substr(prev, start - prev));
        emit(text.substr(start, end - start));
        prev = end;
    }
    if (prev != text.size()) emit(text.substr(prev));
}

void PreTokenizer::run(std::string_view segment, std::vector<std::string>& pieces) const {
    pieces.clear();
    if (segment.empty()) return;
    pieces.emplace_back(segment);
    std::vector<std::string> next;
    for (const Step& step : steps_) {
        next.clear();
        for (const std::string& piece : pieces) {
            if (step.is_split) {
                apply_split(step.split, piece, next);
            } else {
                apply_byte_level(step.byte_level, piece, next);
            }
        }
        pieces.swap(next);
    }
}

}  // namespace ag::tok
