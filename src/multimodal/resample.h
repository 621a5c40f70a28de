// Separable image resampling with the same result as Pillow's Image.resize on 8-bit RGB for the
// convolution filters (bicubic, bilinear, lanczos, box, hamming):
//   * filter support widened by the down-scale factor (antialiasing when shrinking),
//   * taps clipped at the image border and the remaining weights renormalised (no padding),
//   * weights rounded to 22-bit fixed point, sums rounded half-up and clipped to 0..255,
//   * two passes with an 8-bit intermediate, in Pillow 13's order: vertical first when the height
//     shrinks by more than twice as many pixels as the width, else horizontal first; a pass whose
//     size does not change is skipped (same size = copy).
// The code is our own; the behaviour was read from Pillow's libImaging/Resample.c.
#pragma once

#include "multimodal/image_decode.h"

namespace ag::mm {

// Pillow's Image.Resampling codes (as stored in preprocessor_config.json's "resample").
enum class ResampleFilter { kNearest = 0, kLanczos = 1, kBilinear = 2, kBicubic = 3, kBox = 4, kHamming = 5 };

// Nearest is not supported (AG_CHECK); out_width/out_height >= 1.
RgbImage resize_rgb(const RgbImage& in, int out_width, int out_height, ResampleFilter filter);

}  // namespace ag::mm
