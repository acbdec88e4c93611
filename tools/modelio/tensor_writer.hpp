// Writes tensors of a spec into a model file: the FlatBuffers Tensor table, with its bytes placed in the
// data segment after the header (64-byte aligned, in the order they are asked for).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "modelio/model_spec.hpp"
#include "ordinal_generated.h"

namespace ordinal::modelio {

class TensorWriter {
 public:
  explicit TensorWriter(uint64_t data_start) : cursor_(data_start) {}
  // Reserves an aligned range for `bytes` (kept by reference until the file is assembled).
  uint64_t place(const std::vector<uint8_t>& bytes);
  // The Tensor table of `t` (0 when absent), its data and scales placed.
  flatbuffers::Offset<schema::Tensor> write(flatbuffers::FlatBufferBuilder& b, const HostTensor& t);

  uint64_t end() const { return cursor_; }
  const std::vector<std::pair<uint64_t, const std::vector<uint8_t>*>>& chunks() const { return chunks_; }

 private:
  uint64_t cursor_;
  std::vector<std::pair<uint64_t, const std::vector<uint8_t>*>> chunks_;
};

}  // namespace ordinal::modelio
