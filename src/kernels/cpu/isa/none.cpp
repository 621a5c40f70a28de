// Targets without the x86 SIMD units: only the portable path exists.
#include "kernels/cpu/isa/isa.h"

namespace ag::kernels::cpu::isa {

const MatmulTable* avx2_table() { return nullptr; }
const MatmulTable* avx512_table() { return nullptr; }
const MatmulTable* amx_table() { return nullptr; }

}  // namespace ag::kernels::cpu::isa
