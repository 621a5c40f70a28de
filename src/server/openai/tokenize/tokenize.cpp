#include "server/openai/tokenize/tokenize.h"

#include "server/openai/chat_completions/messages.h"
#include "server/openai/media.h"
#include "server/openai/request_fields.h"
#include "server/openai/serving_common.h"

namespace ag::server::openai {

namespace {

// The prompt's token ids as a completion or chat request would send them to the engine: a chat
// prompt's images are loaded and each placeholder expanded to the image's tokens (vLLM counts
// them too) and its audio parts transcribed, so `count` is the prompt_tokens of the same chat
// request.
std::optional<ApiError> prompt_ids(const ServingContext& ctx, const http::HttpRequest& req,
                                   const nlohmann::json& body, RequestFields& f,
                                   std::vector<int32_t>& ids) {
    std::optional<std::string> prompt;
    f.opt_string("prompt", prompt);
    if (!f.ok()) return f.error();
    if (prompt) {
        ids = ctx.tokenizer->encode(*prompt);
        return std::nullopt;
    }
    auto messages = body.find("messages");
    if (messages == body.end()) {
        return bad_request("either 'prompt' or 'messages' is required", "prompt");
    }
    std::vector<chat::Message> parsed;
    std::vector<AudioPart> audio;
    if (auto e = parse_messages(*messages, parsed, audio)) return e;
    PromptOptions po;
    f.opt_bool("add_generation_prompt", po.add_generation_prompt);
    if (!f.ok()) return f.error();
    po.enable_thinking = read_enable_thinking(body);
    if (auto e = read_template_inputs(req.body, body, parsed, po)) return e;
    std::vector<EngineImage> images;
    if (auto e = load_images(ctx.media, parsed, images)) return e;
    if (auto e = transcribe_audio_parts(ctx, parsed, audio, req.client_alive)) return e;
    std::string text;
    if (auto e = render_prompt(ctx, parsed, po, text)) return e;
    ids = ctx.tokenizer->encode(text);
    if (!images.empty()) return expand_image_tokens(ctx.media, images, ids);
    return std::nullopt;
}

}  // namespace

http::HttpResponse handle_tokenize(const ServingContext& ctx, const http::HttpRequest& req) {
    nlohmann::json body;
    if (auto e = parse_body(req, body)) return error_response(*e);
    RequestFields f(body);
    std::optional<std::string> model;
    f.opt_string("model", model);
    bool want_strs = false, add_special = true;
    f.opt_bool("return_token_strs", want_strs);
    f.opt_bool("add_special_tokens", add_special);
    if (!f.ok()) return error_response(*f.error());
    if (auto e = check_model(ctx, model)) return error_response(*e);
    std::vector<int32_t> ids;
    if (auto e = prompt_ids(ctx, req, body, f, ids)) return error_response(*e);
    nlohmann::json strs = nullptr;
    if (want_strs) {
        strs = nlohmann::json::array();
        for (int32_t id : ids) strs.push_back(ctx.tokenizer->id_to_token(id));
    }
    return json_response({{"count", ids.size()},
                          {"max_model_len", ctx.model.max_model_len},
                          {"tokens", ids},
                          {"token_strs", strs}});
}

http::HttpResponse handle_detokenize(const ServingContext& ctx, const http::HttpRequest& req) {
    nlohmann::json body;
    if (auto e = parse_body(req, body)) return error_response(*e);
    RequestFields f(body);
    std::optional<std::string> model;
    std::vector<int32_t> ids;
    f.opt_string("model", model);
    f.opt_int_list("tokens", ids, 0, std::max(0, ctx.model.vocab_size - 1));
    if (!f.ok()) return error_response(*f.error());
    if (!body.contains("tokens")) return error_response(bad_request("'tokens' is required",
                                                                    "tokens"));
    if (auto e = check_model(ctx, model)) return error_response(*e);
    return json_response({{"prompt", ctx.tokenizer->decode(ids, false)}});
}

}  // namespace ag::server::openai
