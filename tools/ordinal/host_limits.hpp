// Limits the host CLI applies to what a user or a file asks for (docs/trust-boundary.md, "Host tools"):
// thread counts, session memory, and text from files printed to a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ordinal::cli {

// --threads accepts [1, 256] and is clamped to the cores cpuinfo reports: more threads than cores only
// add contention (256 threads on 2 cores took the time to first token from 0.2 s to 41 s). Says so on
// stderr ("ordinal VERB: --threads N clamped to C cores") when it clamps.
uint32_t clamp_threads(int64_t requested, const char* verb);
uint32_t host_cores();

// The memory budget of every session the CLI creates: the machine's physical memory. A session planned
// above it (Model::session_bytes) is refused with out-of-memory instead of swapping or being killed.
uint64_t host_memory_budget();

// `ordinal quantize` refuses to write a model whose default session (context = max_positions, f32 KV
// cache) plans more than this, unless --allow-large-session is given.
constexpr uint64_t kMaxDefaultSessionBytes = uint64_t{1} << 30;

// Text from a file (model metadata, tensor names, task names, paths) made safe to print: control bytes
// (C0 but tab, DEL, UTF-8-encoded C1) and invalid UTF-8 become \xNN, backslash becomes \\, so a file
// cannot send escape sequences to the user's terminal. keep_newlines: multi-line reports keep their lines.
std::string printable(std::string_view text, bool keep_newlines = false);
// Generated text (`ordinal run`): only C0 controls other than newline, tab and carriage return, and DEL,
// become \xNN; every other byte passes unchanged (a UTF-8 character may span several tokens).
std::string printable_generated(std::string_view piece);

}  // namespace ordinal::cli
