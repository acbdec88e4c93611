// Fault injection for the batch tests (tests/unit/test_batch.cpp): each fault re-creates a classic batching
// bug so that a test can show the bit-identity and padding checks catch it. Internal (not an installed
// header, not exported from a shared runtime); a BatchSession runs without a fault unless a test sets one.
#pragma once

#include <cstdint>

namespace ordinal {
class BatchSession;
}

namespace ordinal::detail {

enum class BatchFault : uint8_t {
  kNone = 0,
  kNoCausalMask,         // a token also attends the later tokens of its sequence in the same call
  kCrossSequence,        // a token reads the keys/values of the next sequence's cache region
  kBatchIndexPositions,  // positions taken from the token's index in the call, not its sequence
  kPaddingAttended,      // padding tokens of forward_padded are stored in their row's sequence
};

void set_batch_fault(BatchSession& session, BatchFault fault);

}  // namespace ordinal::detail
