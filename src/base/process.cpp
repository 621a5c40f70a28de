#include "base/process.h"

#include <fstream>
#include <string>

namespace ag {

int64_t resident_bytes() {
    std::ifstream f("/proc/self/status");
    std::string key;
    while (f >> key) {
        if (key == "VmRSS:") {
            int64_t kb = 0;
            f >> kb;
            return kb * 1024;
        }
        f.ignore(1 << 20, '\n');
    }
    return 0;
}

}  // namespace ag
