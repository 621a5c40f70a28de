#include "server/openai/models/models.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "server/openai/serving_common.h"

namespace ag::server::openai {

namespace {

nlohmann::json model_card(const ServingContext& ctx, const std::string& id,
                          const std::string& root, bool speech) {
    const std::string perm_id = random_id("modelperm-");
    nlohmann::json permission = {{"id", perm_id},
                                 {"object", "model_permission"},
                                 {"created", ctx.created},
                                 {"allow_create_engine", false},
                                 {"allow_sampling", true},
                                 {"allow_logprobs", true},
                                 {"allow_search_indices", false},
                                 {"allow_view", true},
                                 {"allow_fine_tuning", false},
                                 {"organization", "*"},
                                 {"group", nullptr},
                                 {"is_blocking", false}};
    nlohmann::json card = {{"id", id},
                           {"object", "model"},
                           {"created", ctx.created},
                           {"owned_by", "autoglm"},
                           {"root", root},
                           {"parent", nullptr},
                           {"permission", nlohmann::json::array({permission})}};
    if (speech) {
        card["task"] = "transcription";  // /v1/audio/transcriptions and /translations
    } else {
        card["max_model_len"] = ctx.model.max_model_len;
    }
    return card;
}

nlohmann::json chat_card(const ServingContext& ctx) {
    return model_card(ctx, ctx.model.served_name, ctx.model.root, false);
}

}  // namespace

http::HttpResponse handle_models(const ServingContext& ctx, const http::HttpRequest&) {
    nlohmann::json data = nlohmann::json::array({chat_card(ctx)});
    if (ctx.audio.worker) {
        data.push_back(model_card(ctx, ctx.audio.served_name, ctx.audio.root, true));
    }
    return json_response({{"object", "list"}, {"data", std::move(data)}});
}

http::HttpResponse handle_model(const ServingContext& ctx, const http::HttpRequest& req) {
    constexpr std::string_view kPrefix = "/v1/models/";
    const std::string id = req.path.substr(std::min(req.path.size(), kPrefix.size()));
    if (ctx.audio.worker && id == ctx.audio.served_name) {
        return json_response(model_card(ctx, id, ctx.audio.root, true));
    }
    if (id != ctx.model.served_name) {
        return error_response(not_found(fmt::format("The model `{}` does not exist.", id)));
    }
    return json_response(chat_card(ctx));
}

}  // namespace ag::server::openai
