// Parsing of HF tokenizer.json / tokenizer_config.json into TokenizerData. Errors are thrown
// internally as ag::Error and returned as Status, always as "<file>: <field>: <problem>".
#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_data.h"

namespace ag::tok {
namespace {

using nlohmann::json;

class Parser {
public:
    explicit Parser(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(ErrorCode code, const std::string& field, const std::string& msg) const {
        throw Error(code, source_ + ": " + field + ": " + msg);
    }

    const json& require(const json& obj, const char* key, const std::string& field) const {
        if (!obj.is_object()) fail(ErrorCode::kParseError, field, "expected an object");
        auto it = obj.find(key);
        if (it == obj.end()) fail(ErrorCode::kParseError, field + "." + key, "missing");
        return *it;
    }

    bool get_bool(const json& obj, const char* key, const std::string& field, bool dflt) const {
        auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return dflt;
        if (!it->is_boolean()) fail(ErrorCode::kParseError, field + "." + key, "expected a bool");
        return it->get<bool>();
    }

    std::string get_type(const json& obj, const std::string& field) const {
        const json& t = require(obj, "type", field);
        if (!t.is_string()) fail(ErrorCode::kParseError, field + ".type", "expected a string");
        return t.get<std::string>();
    }

    void parse_model(const json& root, TokenizerData& data) const;
    void parse_pre_tokenizer(const json& node, const std::string& field, PreTokenizer& pre) const;
    void parse_split(const json& node, const std::string& field, PreTokenizer& pre) const;
    void parse_decoder(const json& node, TokenizerData& data) const;
    void parse_added_tokens(const json& root, TokenizerData& data) const;

private:
    const std::string& source_;
};

std::pair<std::string, std::string> split_merge(const json& m, const Parser& p, size_t i) {
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) {
        const auto& s = m.get_ref<const std::string&>();
        const size_t space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
            p.fail(ErrorCode::kParseError, field, "expected \"left right\", got \"" + s + "\"");
        }
        return {s.substr(0, space), s.substr(space + 1)};
    }
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        return {m[0].get<std::string>(), m[1].get<std::string>()};
    }
    p.fail(ErrorCode::kParseError, field, "expected a string or a pair of strings");
}

void Parser::parse_model(const json& root, TokenizerData& data) const {
    const json& model = require(root, "model", "");
    if (!model.is_object()) fail(ErrorCode::kParseError, "model", "expected an object");
    auto type_it = model.find("type");
    if (type_it != model.end() && !(type_it->is_string() && *type_it == "BPE")) {
        fail(ErrorCode::kUnsupported, "model.type",
             "unsupported model type " + type_it->dump() + " (only BPE)");
    }
    const json& vocab_json = require(model, "vocab", "model");
    const json& merges_json = require(model, "merges", "model");
    if (!vocab_json.is_object()) fail(ErrorCode::kParseError, "model.vocab", "expected an object");
    if (!merges_json.is_array()) fail(ErrorCode::kParseError, "model.merges", "expected an array");
    if (get_bool(model, "byte_fallback", "model", false)) {
        fail(ErrorCode::kUnsupported, "model.byte_fallback", "true is not supported");
    }
    auto dropout = model.find("dropout");
    if (dropout != model.end() && !dropout->is_null() &&
        !(dropout->is_number() && dropout->get<double>() <= 0.0)) {
        fail(ErrorCode::kUnsupported, "model.dropout", "BPE dropout is not supported");
    }
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        auto it = model.find(key);
        if (it != model.end() && !it->is_null() &&
            !(it->is_string() && it->get_ref<const std::string&>().empty())) {
            fail(ErrorCode::kUnsupported, std::string("model.") + key, "not supported");
        }
    }
    StringIdMap vocab;
    vocab.reserve(vocab_json.size());
    for (const auto& [token, id] : vocab_json.items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
            fail(ErrorCode::kParseError, "model.vocab[\"" + token + "\"]",
                 "expected a non-negative integer id");
        }
        vocab.emplace(token, static_cast<int32_t>(id.get<int64_t>()));
    }
    auto lookup = [&](const std::string& token, size_t i) {
        auto it = vocab.find(token);
        if (it == vocab.end()) {
            fail(ErrorCode::kParseError, "model.merges[" + std::to_string(i) + "]",
                 "token \"" + token + "\" is not in model.vocab");
        }
        return it->second;
    };
    std::vector<std::pair<int32_t, int32_t>> merge_ids;
    std::vector<int32_t> merge_results;
    merge_ids.reserve(merges_json.size());
    merge_results.reserve(merges_json.size());
    for (size_t i = 0; i < merges_json.size(); ++i) {
        auto [a, b] = split_merge(merges_json[i], *this, i);
        merge_ids.emplace_back(lookup(a, i), lookup(b, i));
        merge_results.push_back(lookup(a + b, i));
    }
    BpeOptions options;
    options.ignore_merges = get_bool(model, "ignore_merges", "model", false);
    options.fuse_unk = get_bool(model, "fuse_unk", "model", false);
    auto unk = model.find("unk_token");
    if (unk != model.end() && !unk->is_null()) {
        if (!unk->is_string()) fail(ErrorCode::kParseError, "model.unk_token", "expected a string");
        auto it = vocab.find(unk->get<std::string>());
        if (it == vocab.end()) {
            fail(ErrorCode::kParseError, "model.unk_token", "not in model.vocab");
        }
        options.unk_id = it->second;
    }
    data.model = std::make_unique<BpeModel>(std::move(vocab), merge_ids, merge_results, options);
}

void Parser::parse_split(const json& node, const std::string& field, PreTokenizer& pre) const {
    SplitStep step;
    const json& pattern = require(node, "pattern", field);
    if (pattern.is_object() && pattern.contains("Regex") && pattern["Regex"].is_string()) {
        auto re = UnicodeRegex::compile(pattern["Regex"].get<std::string>());
        if (!re.ok()) fail(ErrorCode::kParseError, field + ".pattern", re.status().message());
        step.regex = std::move(re).value();
    } else if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
        step.literal = pattern["String"].get<std::string>();
    } else {
        fail(ErrorCode::kParseError, field + ".pattern",
             "expected {\"Regex\": s} or {\"String\": s}");
    }
    const json& behavior = require(node, "behavior", field);
    const std::string b = behavior.is_string() ? behavior.get<std::string>() : behavior.dump();
    if (b == "Removed") {
        step.behavior = SplitBehavior::kRemoved;
    } else if (b == "Isolated") {
        step.behavior = SplitBehavior::kIsolated;
    } else if (b == "MergedWithPrevious") {
        step.behavior = SplitBehavior::kMergedWithPrevious;
    } else if (b == "MergedWithNext") {
        step.behavior = SplitBehavior::kMergedWithNext;
    } else if (b == "Contiguous") {
        step.behavior = SplitBehavior::kContiguous;
    } else {
        fail(ErrorCode::kUnsupported, field + ".behavior", "unknown behavior " + b);
    }
    step.invert = get_bool(node, "invert", field, false);
    pre.add_split(std::move(step));
}

void Parser::parse_pre_tokenizer(const json& node, const std::string& field,
                                 PreTokenizer& pre) const {
    if (node.is_null()) return;
    const std::string type = get_type(node, field);
    if (type == "Sequence") {
        const json& list = require(node, "pretokenizers", field);
        if (!list.is_array())
            fail(ErrorCode::kParseError, field + ".pretokenizers", "expected an array");
        for (size_t i = 0; i < list.size(); ++i) {
            parse_pre_tokenizer(list[i], field + ".pretokenizers[" + std::to_string(i) + "]", pre);
        }
    } else if (type == "Split") {
        parse_split(node, field, pre);
    } else if (type == "ByteLevel") {
        ByteLevelStep step;
        step.add_prefix_space = get_bool(node, "add_prefix_space", field, true);
        step.use_regex = get_bool(node, "use_regex", field, true);
        pre.add_byte_level(step);
    } else {
        fail(ErrorCode::kUnsupported, field + ".type", "unsupported pre-tokenizer " + type);
    }
}

void Parser::parse_decoder(const json& node, TokenizerData& data) const {
    if (node.is_null()) {
        data.decoder = DecoderKind::kJoinSpace;
        return;
    }
    std::string type = get_type(node, "decoder");
    if (type == "Sequence") {
        const json& list = require(node, "decoders", "decoder");
        if (!list.is_array() || list.size() != 1) {
            fail(ErrorCode::kUnsupported, "decoder.decoders",
                 "only a Sequence holding one ByteLevel decoder is supported");
        }
        type = get_type(list[0], "decoder.decoders[0]");
    }
    if (type != "ByteLevel") {
        fail(ErrorCode::kUnsupported, "decoder.type", "unsupported decoder " + type);
    }
    data.decoder = DecoderKind::kByteLevel;
}

void Parser::parse_added_tokens(const json& root, TokenizerData& data) const {
    std::vector<AddedToken> tokens;
    auto list = root.find("added_tokens");
    if (list != root.end() && !list->is_null()) {
        if (!list->is_array()) fail(ErrorCode::kParseError, "added_tokens", "expected an array");
        for (size_t i = 0; i < list->size(); ++i) {
            const json& t = (*list)[i];
            const std::string field = "added_tokens[" + std::to_string(i) + "]";
            const json& id = require(t, "id", field);
            const json& content = require(t, "content", field);
            if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
                fail(ErrorCode::kParseError, field + ".id", "expected a non-negative integer");
            }
            if (!content.is_string())
                fail(ErrorCode::kParseError, field + ".content", "expected a string");
            AddedToken a;
            a.id = static_cast<int32_t>(id.get<int64_t>());
            a.content = content.get<std::string>();
            a.special = get_bool(t, "special", field, false);
            a.lstrip = get_bool(t, "lstrip", field, false);
            a.rstrip = get_bool(t, "rstrip", field, false);
            a.single_word = get_bool(t, "single_word", field, false);
            a.normalized = get_bool(t, "normalized", field, !a.special);
            tokens.push_back(std::move(a));
        }
    }
    Status s = data.added.init(std::move(tokens));
    if (!s.ok()) fail(s.code(), "added_tokens", s.message());
}

template <class Fn>
Status guarded(const std::string& source, Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.status();
    } catch (const nlohmann::json::exception& e) {
        return Status(ErrorCode::kParseError, source + ": " + e.what());
    } catch (const std::exception& e) {
        return Status(ErrorCode::kInternal, source + ": " + e.what());
    }
    return Status::ok_status();
}

std::optional<int32_t> resolve_token(const json& cfg, const char* key, const Parser& p,
                                     const TokenizerData& data) {
    auto it = cfg.find(key);
    if (it == cfg.end() || it->is_null()) return std::nullopt;
    std::string content;
    if (it->is_string()) {
        content = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        content = (*it)["content"].get<std::string>();
    } else {
        p.fail(ErrorCode::kParseError, key, "expected a string or {\"content\": ...}");
    }
    if (auto id = data.added.find_by_content(content)) return id;
    return data.model->token_to_id(content);
}

}  // namespace

Status parse_tokenizer_json(std::string_view text, const std::string& source, TokenizerData& data) {
    return guarded(source, [&] {
        const Parser p(source);
        json root;
        try {
            root = json::parse(text);
        } catch (const json::parse_error& e) {
            p.fail(ErrorCode::kParseError, "(document)",
                   std::string("malformed JSON: ") + e.what());
        }
        if (!root.is_object()) p.fail(ErrorCode::kParseError, "(document)", "expected an object");
        auto normalizer = root.find("normalizer");
        if (normalizer != root.end() && !normalizer->is_null()) {
            const std::string type = normalizer->is_object() && normalizer->contains("type")
                                         ? (*normalizer)["type"].dump()
                                         : normalizer->dump();
            p.fail(ErrorCode::kUnsupported, "normalizer",
                   "normalizer " + type + " is not supported (only null)");
        }
        p.parse_model(root, data);
        auto pre = root.find("pre_tokenizer");
        if (pre != root.end()) p.parse_pre_tokenizer(*pre, "pre_tokenizer", data.pre_tokenizer);
        Status s = data.pre_tokenizer.prepare();
        if (!s.ok()) p.fail(s.code(), "pre_tokenizer", s.message());
        auto decoder = root.find("decoder");
        p.parse_decoder(decoder == root.end() ? json() : *decoder, data);
        p.parse_added_tokens(root, data);
    });
}

Status parse_tokenizer_config(std::string_view text, const std::string& source,
                              TokenizerData& data) {
    return guarded(source, [&] {
        const Parser p(source);
        json cfg;
        try {
            cfg = json::parse(text);
        } catch (const json::parse_error& e) {
            p.fail(ErrorCode::kParseError, "(document)",
                   std::string("malformed JSON: ") + e.what());
        }
        if (!cfg.is_object()) p.fail(ErrorCode::kParseError, "(document)", "expected an object");
        data.eos_id = resolve_token(cfg, "eos_token", p, data);
        data.pad_id = resolve_token(cfg, "pad_token", p, data);
        auto tmpl = cfg.find("chat_template");
        if (tmpl != cfg.end() && tmpl->is_string()) {
            data.chat_template = tmpl->get<std::string>();
        } else if (tmpl != cfg.end() && tmpl->is_array()) {
            for (const json& entry : *tmpl) {
                if (entry.is_object() && entry.value("name", "") == "default" &&
                    entry.contains("template") && entry["template"].is_string()) {
                    data.chat_template = entry["template"].get<std::string>();
                }
            }
        } else if (tmpl != cfg.end() && !tmpl->is_null()) {
            p.fail(ErrorCode::kParseError, "chat_template", "expected a string or a list");
        }
    });
}

}  // namespace ag::tok
