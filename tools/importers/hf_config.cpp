// config.json and the other JSON files of an HF directory: read whole under a size limit, nesting checked
// before nlohmann parses; the metadata every imported model carries.
#include <utility>

#include "format/json_limits.hpp"
#include "importers/read_file.hpp"
#include "importers/safetensors_internal.hpp"

namespace ordinal::importers::hf {

[[noreturn]] void fail(std::string message) {
  throw ImportError{invalid_argument(std::move(message))};
}

std::vector<uint8_t> read_file_or_throw(const std::string& path, uint64_t max_bytes) {
  Result<std::vector<uint8_t>> r = read_file(path, max_bytes);
  if (!r.ok()) throw ImportError{r.status()};
  return std::move(r.value());
}

// Size and nesting are checked before nlohmann sees the text (format/json_limits.hpp).
void check_json_or_throw(const uint8_t* data, size_t size, uint64_t max_bytes, const std::string& what) {
  Status st = format::check_json_limits(std::string_view(reinterpret_cast<const char*>(data), size),
                                        max_bytes, format::kMaxJsonDepth, what);
  if (!st.ok()) throw ImportError{st};
}

json parse_json_file(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_or_throw(path, kMaxJsonBytes);
  check_json_or_throw(bytes.data(), bytes.size(), kMaxJsonBytes, path);
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    fail(path + ": not valid JSON (" + e.what() + ")");
  }
}

void common_metadata(modelio::ModelSpec* spec, const std::string& model_type, uint32_t context,
                     const json& pos) {
  spec->metadata.push_back({"source", "safetensors"});
  spec->metadata.push_back({"model_type", model_type});
  spec->metadata.push_back({"training_context", std::to_string(context)});
  spec->metadata.push_back({"ordinal_positional", pos.dump()});
}

}  // namespace ordinal::importers::hf
