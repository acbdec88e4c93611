// `ordinal run --stats`: a session's telemetry (Session::stats()) as aligned text lines.
#pragma once

#include <string>

#include "ordinal/telemetry.hpp"

namespace ordinal::cli {

// Lines "  name  value", one per counter group, ending with a newline.
std::string format_session_stats(const SessionStats& s);

}  // namespace ordinal::cli
