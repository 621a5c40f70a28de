#include "server/openai/models/models.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "server/openai/serving_common.h"

namespace ag::server::openai {

namespace {

nlohmann::json model_card(const ServingContext& ctx) {
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
    nlohmann::json card = {{"id", ctx.model.served_name},
                           {"object", "model"},
                           {"created", ctx.created},
                           {"owned_by", "autoglm"},
                           {"root", ctx.model.root},
                           {"parent", nullptr},
                           {"max_model_len", ctx.model.max_model_len},
                           {"permission", nlohmann::json::array({permission})}};
    return card;
}

}  // namespace

http::HttpResponse handle_models(const ServingContext& ctx, const http::HttpRequest&) {
    return json_response({{"object", "list"}, {"data", nlohmann::json::array({model_card(ctx)})}});
}

http::HttpResponse handle_model(const ServingContext& ctx, const http::HttpRequest& req) {
    constexpr std::string_view kPrefix = "/v1/models/";
    const std::string id = req.path.substr(std::min(req.path.size(), kPrefix.size()));
    if (id != ctx.model.served_name) {
        return error_response(not_found(fmt::format("The model `{}` does not exist.", id)));
    }
    return json_response(model_card(ctx));
}

}  // namespace ag::server::openai
