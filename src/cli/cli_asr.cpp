#include "cli/cli_asr.h"

#include "model/weight_quant.h"

namespace ag::cli {

void add_asr_options(CLI::App& cmd, AsrArgs& args, bool required) {
    // Where the speech model is the only model (transcribe, bench asr), --quantization names
    // its quantization too; serve's --quantization is the chat model's.
    const char* quant_names = required ? "--asr-quantization,--quantization,-q" : "--asr-quantization";
    CLI::Option* o = cmd.add_option(
        "--asr-model", args.model,
        "Whisper checkpoint directory: Hugging Face WhisperForConditionalGeneration or a "
        "CTranslate2 (faster-whisper) directory");
    if (required) o->required();
    cmd.add_option(quant_names, args.quantization,
                   "quantize the speech model's weight matrices while loading: q8_0, q4_0 or "
                   "q4_k; default: keep the stored dtypes (CTranslate2 int8 loads as q8_0)")
        ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k"}, CLI::ignore_case));
}

Result<std::shared_ptr<const asr::Transcriber>> load_transcriber(const AsrArgs& args) {
    model::LoadOptions lo;
    if (!args.quantization.empty()) lo.weight_dtype = model::parse_weight_dtype(args.quantization);
    auto t = asr::Transcriber::load(args.model, lo);
    if (!t.ok()) {
        return Status(t.status().code(), "--asr-model: " + t.status().message());
    }
    return std::shared_ptr<const asr::Transcriber>(std::move(t).value());
}

}  // namespace ag::cli
