#include "positional/encoder.hpp"

#include <string>

namespace ordinal::positional {

Result<PositionalEncoder> PositionalEncoder::create(const detail::ModelData& model) {
  const SchemeModule* module = find_scheme(model.positional.scheme);
  if (module == nullptr) {
    return invalid_argument("positional: scheme " +
                            std::to_string(static_cast<unsigned>(model.positional.scheme)) +
                            " has no module");
  }
  PositionalEncoder e;
  e.module_ = module;
  e.state_.model = &model;
  e.state_.p = &model.positional;
  e.state_.dim = model.config.dim;
  e.state_.head_dim = model.config.head_dim;
  e.state_.n_heads = model.config.n_heads;
  ORDINAL_RETURN_IF_ERROR(module->prepare(model, &e.state_));
  return e;
}

Status PositionalEncoder::check_position(int64_t pos) const {
  const detail::ModelData& model = *state_.model;
  if (pos < 0) return out_of_range("position " + std::to_string(pos) + " is negative");
  if (pos >= model.position_limit) {
    return out_of_range("position " + std::to_string(pos) + " is beyond what the model addresses (limit " +
                        std::to_string(model.position_limit) + ", " + module_->name +
                        " with out-of-range policy '" +
                        detail::out_of_range_policy_name(model.positional.policy) + "')");
  }
  return Status::Ok();
}

}  // namespace ordinal::positional
