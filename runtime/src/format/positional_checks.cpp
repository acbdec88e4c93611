// The positional block: handed to its scheme's module (positional/scheme.hpp), which checks its own fields.
#include "format/load_checks.hpp"
#include "format/model_checks.hpp"
#include "format/schema_enums.hpp"
#include "ordinal_generated.h"
#include "positional/scheme.hpp"

namespace ordinal::format {

namespace fb = ::ordinal::schema;

// The positional block belongs to its scheme's module (positional/scheme.hpp): it checks its own fields
// against the config and says which positions the model can address.
Status check_positional(const Ctx& ctx, const fb::Model* m, detail::ModelData* md) {
  const positional::SchemeModule* module = positional::find_scheme_for_block(m->positional_type());
  if (module == nullptr) return invalid_model("positional: unknown or missing scheme");
  md->positional = detail::PositionalParams();
  md->positional.scheme = module->scheme;
  ORDINAL_RETURN_IF_ERROR(module->load(ctx, *m, md->config, &md->positional));
  md->position_limit = module->position_limit(md->positional);
  return Status::Ok();
}

}  // namespace ordinal::format
