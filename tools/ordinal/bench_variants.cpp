#include "ordinal/bench_variants.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "model_data.hpp"
#include "modelio/model_spec.hpp"
#include "ordinal/weight_quantize.hpp"

namespace ordinal::cli {

namespace {
double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Result<std::vector<std::string>> parse_choice_list(const std::string& value,
                                                   const std::vector<std::string>& allowed,
                                                   const std::string& flag) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t comma = value.find(',', start);
    const std::string item =
        value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool ok = false;
    for (const std::string& a : allowed) ok = ok || a == item;
    if (!ok) {
      std::string list;
      for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return invalid_argument(flag + ": '" + item + "' is not one of " + list);
    }
    out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::vector<BenchVariant>> make_bench_variants(const std::string& path,
                                                      const std::vector<std::string>& weights,
                                                      const std::vector<KvCacheType>& kv) {
  std::vector<BenchVariant> out;
  auto t0 = std::chrono::steady_clock::now();
  ORDINAL_ASSIGN_OR_RETURN(std::shared_ptr<const Model> file_model, Model::load(path));
  const double file_load_ms = ms_since(t0);
  const std::vector<std::string> formats = weights.empty() ? std::vector<std::string>{"file"} : weights;
  for (const std::string& w : formats) {
    BenchVariant base;
    base.weights = w;
    if (w == "file") {
      base.model = file_model;
      base.load_ms = file_load_ms;
    } else {
      modelio::ModelSpec spec = modelio::spec_from_model(*file_model);
      ORDINAL_RETURN_IF_ERROR(quantize::convert_model_weights(spec, w).status());
      ORDINAL_ASSIGN_OR_RETURN(std::vector<uint8_t> image, modelio::serialize_model(spec));
      void* mem = nullptr;
      if (posix_memalign(&mem, 64, image.size()) != 0) return internal_error("bench: out of memory");
      std::memcpy(mem, image.data(), image.size());
      base.buffer.reset(static_cast<uint8_t*>(mem), [](uint8_t* p) { std::free(p); });
      auto t1 = std::chrono::steady_clock::now();
      ORDINAL_ASSIGN_OR_RETURN(base.model, Model::load_from_buffer(base.buffer.get(), image.size()));
      base.load_ms = ms_since(t1);
    }
    for (KvCacheType k : kv) {
      BenchVariant v = base;
      v.kv = k;
      out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace ordinal::cli
