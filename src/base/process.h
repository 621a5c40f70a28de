// Facts about this process.
#pragma once

#include <cstdint>

namespace ag {

/// Resident set size in bytes (VmRSS of /proc/self/status); 0 where unknown.
int64_t resident_bytes();

}  // namespace ag
