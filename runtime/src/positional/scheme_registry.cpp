// The one table that connects positional schemes to their modules. Lookups scan it (ten rows, once per
// load or session create), so the order of rows carries no meaning.
#include "positional/scheme.hpp"

namespace ordinal::positional {

namespace {

const SchemeModule* const kModules[] = {
    &kNoPositionModule,   &kLearnedTableModule, &kCodebookTableModule, &kBucketedTableModule,
    &kLowRankTableModule, &kSinusoidalModule,   &kRopeModule,          &kAlibiModule,
    &kRelativeBiasModule, &kHybridTableModule,
};

}  // namespace

const SchemeModule* find_scheme(PositionalScheme scheme) {
  for (const SchemeModule* m : kModules) {
    if (m->scheme == scheme) return m;
  }
  return nullptr;
}

const SchemeModule* find_scheme_for_block(schema::Positional block) {
  for (const SchemeModule* m : kModules) {
    if (m->block == block) return m;
  }
  return nullptr;
}

}  // namespace ordinal::positional
