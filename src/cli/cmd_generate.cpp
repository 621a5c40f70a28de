// autoglm generate: one prompt in, generated text (streamed) or JSON out.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "chat/chat_template.h"
#include "cli/cli_common.h"
#include "cli/cli_media.h"
#include "multimodal/image_decode.h"
#include "runtime/generator.h"
#include "tokenizer/incremental_detokenizer.h"

namespace ag::cli {

namespace {

struct GenerateArgs {
    ModelArgs model;
    std::string prompt;
    bool chat = false;
    bool no_thinking = false;
    int max_tokens = 256;
    std::optional<float> temperature, top_p, min_p, repetition_penalty;
    std::optional<int> top_k;
    float frequency_penalty = 0.0f, presence_penalty = 0.0f;
    std::optional<uint64_t> seed;
    bool ignore_eos = false;
    bool json = false;
    std::vector<std::string> images;
    std::string mm_processor_kwargs;
};

// --image FILE...: decoded, preprocessed and encoded; the prompt's image placeholders expanded.
Status add_images(const GenerateArgs& a, const LoadedModel& lm, std::vector<int32_t>& prompt,
                  runtime::GenerateOptions& go) {
    const model::VisionModel* vm = lm.model->vision();
    if (vm == nullptr) return Status(ErrorCode::kInvalidArgument, "this model does not accept images");
    auto pc = image_processor_config(lm, a.mm_processor_kwargs);
    if (!pc.ok()) return pc.status();
    std::vector<model::ImageGrid> grids;
    std::vector<int32_t> expanded;
    size_t k = 0;
    for (int32_t id : prompt) {
        if (id != vm->image_token_id()) {
            expanded.push_back(id);
            continue;
        }
        if (k >= a.images.size()) break;
        auto rgb = mm::decode_image_file(a.images[k], {});
        if (!rgb.ok()) return Status(rgb.status().code(), a.images[k] + ": " + rgb.status().message());
        auto in = mm::glm4v_preprocess(*rgb, *pc);
        if (!in.ok()) return Status(in.status().code(), a.images[k] + ": " + in.status().message());
        const model::ImageGrid g{in->grid_thw[0], in->grid_thw[1], in->grid_thw[2]};
        auto e = vm->encode_image({in->pixel_values.as<float>(),
                                   static_cast<size_t>(in->pixel_values.numel())}, g);
        if (!e.ok()) return e.status();
        go.embeds.insert(go.embeds.end(), e->begin(), e->end());
        grids.push_back(g);
        expanded.insert(expanded.end(), static_cast<size_t>(vm->n_image_tokens(g)), id);
        ++k;
    }
    if (k != a.images.size() || grids.size() != a.images.size()) {
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("{} --image files but the prompt has {} image placeholders "
                                  "(use --chat, which adds one per image)", a.images.size(), k));
    }
    auto idx = vm->rope_index(expanded, grids);
    if (!idx.ok()) return idx.status();
    go.positions = std::move(idx->positions);
    go.rope_delta = idx->rope_delta;
    go.embed_rows = model::image_embed_rows(expanded, vm->image_token_id());
    prompt = std::move(expanded);
    return {};
}


Status run(const GenerateArgs& a) {
    auto lm = load_model(a.model, true);
    if (!lm.ok()) return lm.status();
    const tok::Tokenizer& tk = *lm->tokenizer;
    std::string text = a.prompt;
    if (a.chat) {
        chat::Message user;
        user.role = "user";
        user.content_is_string = a.images.empty();
        for (const std::string& f : a.images) {
            user.parts.push_back({chat::ContentPart::Type::kImage, f});
        }
        user.parts.push_back({chat::ContentPart::Type::kText, a.prompt});
        chat::RenderOptions ro;
        if (a.no_thinking) ro.enable_thinking = false;
        auto tmpl = chat::ChatTemplate::from_source(chat_template_source(*lm));
        if (!tmpl.ok()) return tmpl.status();
        auto rendered = tmpl->render({user}, ro);
        if (!rendered.ok()) return rendered.status();
        text = *rendered;
    }
    std::vector<int32_t> prompt = tk.encode(text);
    if (prompt.empty()) return Status(ErrorCode::kInvalidArgument, "the prompt is empty");
    runtime::GenerateOptions go;
    if (!a.images.empty()) AG_RETURN_IF_ERROR(add_images(a, *lm, prompt, go));

    SamplingParams sp;
    sp.temperature = a.temperature;
    sp.top_p = a.top_p;
    sp.top_k = a.top_k;
    sp.min_p = a.min_p;
    sp.repetition_penalty = a.repetition_penalty;
    sp.frequency_penalty = a.frequency_penalty;
    sp.presence_penalty = a.presence_penalty;
    sp.seed = a.seed;
    sp.max_tokens = a.max_tokens;
    auto resolved = runtime::resolve_sampling(sp, lm->model->config().generation_config);
    if (!resolved.ok()) return resolved.status();
    go.sampling = *resolved;
    go.stop_ids = lm->model->config().eos_token_ids;
    go.ignore_eos = a.ignore_eos;
    go.kv_dtype = a.model.kv_dtype();

    tok::IncrementalDetokenizer detok(tk);
    auto on_token = [&](int32_t id) {
        if (!a.json) {
            const std::string piece = detok.push(id);
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
        }
        return true;
    };
    auto res = runtime::generate(*lm->model, prompt, go, on_token);
    if (!res.ok()) return res.status();
    if (a.json) {
        nlohmann::json out = {{"ids", res->ids}, {"text", tk.decode(res->ids)}};
        std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        const std::string tail = detok.flush();
        std::fwrite(tail.data(), 1, tail.size(), stdout);
        std::printf("\n");
    }
    const double tps = res->decode_seconds > 0 ? static_cast<double>(res->ids.size()) / res->decode_seconds : 0.0;
    std::fprintf(stderr, "[INFO] prompt %zu tokens in %.3fs, generated %zu tokens in %.3fs (%.1f tok/s)\n",
                 prompt.size(), res->prefill_seconds, res->ids.size(), res->decode_seconds, tps);
    return {};
}

}  // namespace

void add_generate_command(CLI::App& app, int& rc) {
    auto args = std::make_shared<GenerateArgs>();
    CLI::App* cmd = app.add_subcommand("generate", "Generate text from a prompt");
    add_model_options(*cmd, args->model);
    cmd->add_option("--prompt", args->prompt, "Prompt text")->required();
    cmd->add_flag("--chat", args->chat, "Wrap the prompt as a user turn in the chat template");
    cmd->add_flag("--no-thinking", args->no_thinking, "enable_thinking=false for the template");
    cmd->add_option("--max-tokens", args->max_tokens, "Maximum new tokens")->check(CLI::Range(1, 1 << 24));
    cmd->add_option("--temperature", args->temperature, "0 = greedy (default: generation_config, else 1)");
    cmd->add_option("--top-p", args->top_p, "Nucleus sampling mass");
    cmd->add_option("--top-k", args->top_k, "Keep the k most likely tokens (0 or -1: off)");
    cmd->add_option("--min-p", args->min_p, "Drop tokens below min_p × the top probability");
    cmd->add_option("--frequency-penalty", args->frequency_penalty, "OpenAI frequency penalty");
    cmd->add_option("--presence-penalty", args->presence_penalty, "OpenAI presence penalty");
    cmd->add_option("--repetition-penalty", args->repetition_penalty, "Multiplicative penalty");
    cmd->add_option("--seed", args->seed, "Random seed (same seed and inputs: same tokens)");
    cmd->add_flag("--ignore-eos", args->ignore_eos, "Do not stop at the end-of-sequence ids");
    cmd->add_option("--image", args->images,
                    "Image file(s) (PNG/JPEG) for a vision model; with --chat each becomes an "
                    "image part before the prompt text");
    cmd->add_option("--mm-processor-kwargs", args->mm_processor_kwargs,
                    "JSON overrides of preprocessor_config.json, e.g. '{\"max_pixels\": 1000000}'");
    cmd->add_flag("--json", args->json, R"(Print {"ids": [...], "text": "..."} of the new tokens)");
    cmd->callback([args, &rc] {
        Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
