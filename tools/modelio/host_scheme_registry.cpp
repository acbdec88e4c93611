// The one table of host-side positional modules (see host_scheme.hpp); rows in any order.
#include "modelio/host_scheme.hpp"

namespace ordinal::modelio {

namespace {

const HostSchemeModule* const kHostModules[] = {
    &kHostNoPosition, &kHostLearnedTable, &kHostCodebookTable, &kHostBucketedTable, &kHostLowRankTable,
    &kHostSinusoidal, &kHostRope,         &kHostAlibi,         &kHostRelativeBias,  &kHostHybridTable,
};

}  // namespace

const HostSchemeModule* find_host_scheme(PositionalScheme scheme) {
  for (const HostSchemeModule* m : kHostModules) {
    if (m->scheme == scheme) return m;
  }
  return nullptr;
}

std::string describe_positional(const detail::PositionalParams& p, const ModelConfig& config) {
  const HostSchemeModule* m = find_host_scheme(p.scheme);
  return m != nullptr ? m->describe(p, config) : "unknown scheme";
}

}  // namespace ordinal::modelio
