// autoglm logits: float32 little-endian logits of every position, [n_ids, vocab] row-major.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <memory>

#include "cli/cli_common.h"

namespace ag::cli {

namespace {

struct LogitsArgs {
    ModelArgs model;
    std::string ids;
    std::string out;
};

Result<std::vector<int32_t>> parse_ids(const std::string& s) {
    std::vector<int32_t> ids;
    size_t i = 0;
    while (i <= s.size()) {
        size_t j = s.find(',', i);
        if (j == std::string::npos) j = s.size();
        const std::string part = s.substr(i, j - i);
        int32_t v = 0;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || p != part.data() + part.size()) {
            return Status(ErrorCode::kInvalidArgument,
                          fmt::format("--ids: '{}' is not an integer token id", part));
        }
        ids.push_back(v);
        i = j + 1;
    }
    return ids;
}

Status run(const LogitsArgs& a) {
    auto ids = parse_ids(a.ids);
    if (!ids.ok()) return ids.status();
    auto lm = load_model(a.model, false);
    if (!lm.ok()) return lm.status();
    const int64_t vocab = lm->model->config().text.vocab_size;
    const auto n = static_cast<int64_t>(ids->size());
    std::vector<float> logits(static_cast<size_t>(n * vocab));
    model::KvCache cache = lm->model->new_cache();
    const auto pos = model::text_positions(0, n);
    AG_RETURN_IF_ERROR(lm->model->forward({*ids, pos, true}, cache, logits.data()));
    FILE* f = std::fopen(a.out.c_str(), "wb");
    if (f == nullptr) return Status(ErrorCode::kIoError, a.out + ": cannot open for writing");
    const size_t written = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
    const bool ok = std::fclose(f) == 0 && written == logits.size();
    if (!ok) return Status(ErrorCode::kIoError, a.out + ": write failed");
    std::fprintf(stderr, "[INFO] wrote %lld x %lld float32 logits to %s\n",
                 static_cast<long long>(n), static_cast<long long>(vocab), a.out.c_str());
    return {};
}

}  // namespace

void add_logits_command(CLI::App& app, int& rc) {
    auto args = std::make_shared<LogitsArgs>();
    CLI::App* cmd = app.add_subcommand("logits", "Write the logits of every position to a file");
    add_model_options(*cmd, args->model);
    cmd->add_option("--ids", args->ids, "Comma-separated token ids, e.g. 1,2,3")->required();
    cmd->add_option("--out", args->out, "Output file (float32 little-endian, positions x vocab)")
        ->required();
    cmd->callback([args, &rc] {
        Status s = run(*args);
        rc = s.ok() ? 0 : report(s);
    });
}

}  // namespace ag::cli
