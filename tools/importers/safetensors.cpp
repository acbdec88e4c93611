// Entry points of the safetensors importer: the only place the internal ImportError exceptions are caught
// and turned into the Status the API returns (safetensors_internal.hpp lists the files by concern).
#include "importers/safetensors.hpp"

#include <new>

#include "importers/safetensors_internal.hpp"

namespace ordinal::importers {

using namespace hf;

Result<SafetensorsFile> read_safetensors(const std::string& path) {
  try {
    return parse_safetensors(path);
  } catch (const ImportError& e) {
    return e.status;
  } catch (const std::bad_alloc&) {
    return invalid_argument(path + ": out of memory while reading");
  }
}

Result<modelio::ModelSpec> import_safetensors(const std::string& dir) {
  const std::string base = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  try {
    const std::string config_path = base + "config.json";
    const json j = parse_json_file(config_path);
    if (!j.is_object()) fail(config_path + ": not a JSON object");
    Config c(j, config_path);
    const std::string model_type = c.string("model_type");
    if (model_type != "gpt2" && model_type != "llama") {
      fail(config_path + ": model_type '" + model_type + "' is not supported (gpt2, llama)");
    }
    const std::string st_path = base + "model.safetensors";
    TensorSource src(parse_safetensors(st_path), st_path);
    modelio::ModelSpec spec = model_type == "gpt2" ? import_gpt2(j, c, src) : import_llama(j, c, src);
    src.check_all_used();
    spec.tokenizer = read_tokenizer(base + "tokenizer.json", spec.config.vocab_size);
    if (j.contains("ordinal_task")) {
      if (!j["ordinal_task"].is_object()) fail(config_path + ": 'ordinal_task' must be an object");
      spec.task_spec = j["ordinal_task"].dump();
    }
    return spec;
  } catch (const ImportError& e) {
    return e.status;
  } catch (const json::exception& e) {
    return invalid_argument(dir + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return invalid_argument(dir + ": out of memory while importing");
  }
}

}  // namespace ordinal::importers
