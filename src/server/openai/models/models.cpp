#include "server/openai/models/models.h"

#include "server/openai/serving_common.h"

namespace ag::server::openai {

http::HttpResponse handle_models(const ServingContext& ctx, const http::HttpRequest&) {
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
    return json_response({{"object", "list"}, {"data", nlohmann::json::array({card})}});
}

}  // namespace ag::server::openai
