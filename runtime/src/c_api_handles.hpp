// Handle types the C API's files share (c_api.cpp, c_api_batch.cpp): one definition, so they cannot drift.
#pragma once

#include <memory>

#include "ordinal/runtime.hpp"

struct ord_model {
  std::shared_ptr<const ordinal::Model> model;
};
