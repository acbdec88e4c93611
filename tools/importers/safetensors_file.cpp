// The safetensors container, treated as hostile: 8-byte header length, JSON header (no duplicate names, no
// unknown fields), dtype/shape/offset checks, exact coverage of the data section; then tensors taken out
// by name (shape checked, each used once, F16 kept or widened, BF16 widened).
#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <utility>

#include "importers/read_file.hpp"
#include "importers/safetensors_internal.hpp"
#include "numerics/half.hpp"

namespace ordinal::importers::hf {

namespace {

uint64_t dtype_bytes(const std::string& dtype) {
  if (dtype == "F32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  return 0;
}

}  // namespace

float bf16_to_float(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kAny ? std::string("*") : std::to_string(shape[i]);
  }
  return s + "]";
}

SafetensorsFile parse_safetensors(const std::string& path) {
  SafetensorsFile st;
  st.bytes = read_file_or_throw(path, kMaxCheckpointBytes);
  const uint64_t size = st.bytes.size();
  if (size < 8)
    fail(path + ": file of " + std::to_string(size) + " bytes is too small for a safetensors header");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | st.bytes[static_cast<size_t>(i)];
  if (n > size - 8) {
    fail(path + ": header length " + std::to_string(n) + " exceeds the file (" + std::to_string(size) +
         " bytes; truncated or not safetensors)");
  }
  if (n < 2 || n > kMaxHeaderBytes) fail(path + ": implausible header length " + std::to_string(n));
  st.data_start = 8 + n;
  const uint64_t data_size = size - st.data_start;

  // Refuse duplicate top-level names (nlohmann would keep the last one silently).
  check_json_or_throw(st.bytes.data() + 8, static_cast<size_t>(n), kMaxHeaderBytes, path + ": header");
  std::set<std::string> seen;
  std::string duplicate;
  json header;
  try {
    header = json::parse(st.bytes.begin() + 8, st.bytes.begin() + static_cast<std::ptrdiff_t>(8 + n),
                         [&](int depth, json::parse_event_t event, json& parsed) {
                           if (depth == 1 && event == json::parse_event_t::key && duplicate.empty()) {
                             const std::string k = parsed.get<std::string>();
                             if (!seen.insert(k).second) duplicate = k;
                           }
                           return true;
                         });
  } catch (const json::exception& e) {
    fail(path + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!duplicate.empty()) fail(path + ": tensor '" + duplicate + "' appears twice in the header");
  if (!header.is_object()) fail(path + ": header is not a JSON object");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const std::string what = path + ": tensor '" + name + "'";
    const json& v = it.value();
    if (!v.is_object()) fail(what + ": header entry is not an object");
    for (auto f = v.begin(); f != v.end(); ++f) {
      if (f.key() != "dtype" && f.key() != "shape" && f.key() != "data_offsets") {
        fail(what + ": unknown header field '" + f.key() + "'");
      }
    }
    if (!v.contains("dtype") || !v["dtype"].is_string()) fail(what + ": missing or non-string 'dtype'");
    if (!v.contains("shape") || !v["shape"].is_array()) fail(what + ": missing or non-array 'shape'");
    if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2 ||
        !v["data_offsets"][0].is_number_unsigned() || !v["data_offsets"][1].is_number_unsigned()) {
      fail(what + ": 'data_offsets' must be two non-negative integers");
    }
    SafetensorsTensor t;
    t.name = name;
    t.dtype = v["dtype"].get<std::string>();
    const uint64_t esize = dtype_bytes(t.dtype);
    if (esize == 0) fail(what + ": dtype '" + t.dtype + "' is not supported (F32, F16, BF16)");
    if (v["shape"].size() > 8)
      fail(what + ": rank " + std::to_string(v["shape"].size()) + " is not supported");
    uint64_t elements = 1;
    bool overflow = false;
    for (const json& d : v["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
        fail(what + ": shape entries must be integers in [0, 2^32)");
      }
      const uint64_t dim = d.get<uint64_t>();
      t.shape.push_back(dim);
      if (dim != 0 && elements > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
      elements *= dim;
    }
    if (overflow || elements > std::numeric_limits<uint64_t>::max() / esize) {
      fail(what + ": shape " + shape_string(t.shape) + " overflows");
    }
    t.begin = v["data_offsets"][0].get<uint64_t>();
    t.end = v["data_offsets"][1].get<uint64_t>();
    if (t.begin > t.end) {
      fail(what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] are reversed");
    }
    if (t.end > data_size) {
      fail(what + ": data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
           "] lie outside the data section of " + std::to_string(data_size) + " bytes (truncated file?)");
    }
    if (t.end - t.begin != elements * esize) {
      fail(what + ": " + std::to_string(t.end - t.begin) + " bytes of data, but shape " +
           shape_string(t.shape) + " " + t.dtype + " needs " + std::to_string(elements * esize));
    }
    st.tensors.push_back(std::move(t));
  }

  // The data section must be covered exactly: no overlaps, no holes, nothing trailing.
  std::vector<const SafetensorsTensor*> order;
  for (const SafetensorsTensor& t : st.tensors) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    return a->begin < b->begin;
  });
  uint64_t at = 0;
  const SafetensorsTensor* prev = nullptr;
  for (const SafetensorsTensor* t : order) {
    if (t->begin < at) fail(path + ": tensors '" + prev->name + "' and '" + t->name + "' overlap");
    if (t->begin > at) {
      fail(path + ": " + std::to_string(t->begin - at) + " unreferenced bytes before tensor '" + t->name +
           "'");
    }
    at = t->end;
    prev = t;
  }
  if (at != data_size) {
    fail(path + ": " + std::to_string(data_size - at) + " bytes after the last tensor are not referenced");
  }
  return st;
}

Mat to_f32(Mat m) {
  if (m.dtype == format::DType::kF32) return m;
  Mat out;
  out.shape = m.shape;
  const size_t n = m.data.size() / 2;
  out.data.resize(n * 4);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, m.data.data() + 2 * i, 2);
    const float f = numerics::half_to_float(h);
    std::memcpy(out.data.data() + 4 * i, &f, 4);
  }
  return out;
}

Mat transpose_cols(const Mat& m, uint64_t c0, uint64_t n) {
  const uint64_t R = m.shape[0], C = m.shape[1];
  const size_t e = m.esize();
  Mat out;
  out.dtype = m.dtype;
  out.shape = {n, R};
  out.data.resize(n * R * e);
  for (uint64_t j = 0; j < n; ++j) {
    for (uint64_t r = 0; r < R; ++r) {
      std::memcpy(out.data.data() + (j * R + r) * e, m.data.data() + (r * C + c0 + j) * e, e);
    }
  }
  return out;
}

Mat slice(const Mat& m, uint64_t c0, uint64_t n) {
  Mat out;
  out.dtype = m.dtype;
  out.shape = {n};
  const size_t e = m.esize();
  out.data.assign(m.data.begin() + static_cast<std::ptrdiff_t>(c0 * e),
                  m.data.begin() + static_cast<std::ptrdiff_t>((c0 + n) * e));
  return out;
}

HostTensor host(std::string name, Mat m) {
  HostTensor t;
  t.name = std::move(name);
  t.dtype = m.dtype;
  for (uint64_t d : m.shape) t.shape.push_back(static_cast<uint32_t>(d));
  t.data = std::move(m.data);
  return t;
}

}  // namespace ordinal::importers::hf
