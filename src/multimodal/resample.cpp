#include "multimodal/resample.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "base/check.h"

namespace ag::mm {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // 8 bits of result, 2 of headroom for negative lobes

double filter_bicubic(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}
double filter_bilinear(double x) {
    x = std::fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}
double filter_box(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }
double filter_hamming(double x) {
    x = std::fabs(x);
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * std::numbers::pi;
    return std::sin(x) / x * (0.54f + 0.46f * std::cos(x));
}
double sinc(double x) {
    if (x == 0.0) return 1.0;
    x = x * std::numbers::pi;
    return std::sin(x) / x;
}
double filter_lanczos(double x) { return (-3.0 <= x && x < 3.0) ? sinc(x) * sinc(x / 3) : 0.0; }

struct Filter {
    double (*fn)(double);
    double support;
};

Filter get_filter(ResampleFilter f) {
    switch (f) {
        case ResampleFilter::kBicubic: return {filter_bicubic, 2.0};
        case ResampleFilter::kBilinear: return {filter_bilinear, 1.0};
        case ResampleFilter::kBox: return {filter_box, 0.5};
        case ResampleFilter::kHamming: return {filter_hamming, 1.0};
        case ResampleFilter::kLanczos: return {filter_lanczos, 3.0};
        case ResampleFilter::kNearest: break;
    }
    AG_CHECK(false, "nearest-neighbour resampling is not supported");
    return {};
}

// For each output index: first input index, tap count, and ksize fixed-point weights.
struct Taps {
    int ksize = 0;
    std::vector<int> first, count;
    std::vector<int32_t> weights;  // [out][ksize]
};

Taps compute_taps(int in_size, int out_size, const Filter& filter) {
    const auto in1 = static_cast<float>(in_size);
    const double scale = static_cast<double>(in1 - 0.0f) / out_size;
    const double filterscale = std::max(scale, 1.0);
    const double support = filter.support * filterscale;
    Taps t;
    t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    t.first.resize(out_size);
    t.count.resize(out_size);
    t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
    std::vector<double> k(t.ksize);
    for (int xx = 0; xx < out_size; ++xx) {
        const double center = 0.0 + (xx + 0.5) * scale;
        const double ss = 1.0 / filterscale;
        int xmin = static_cast<int>(center - support + 0.5);
        xmin = std::max(xmin, 0);
        int xmax = static_cast<int>(center + support + 0.5);
        xmax = std::min(xmax, in_size);
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double w = filter.fn((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        int32_t* out = &t.weights[static_cast<size_t>(xx) * t.ksize];
        for (int x = 0; x < xmax; ++x) {
            const double v = ww != 0.0 ? k[x] / ww : k[x];
            const double scaled = v * (1 << kPrecisionBits);
            out[x] = static_cast<int32_t>(v < 0 ? -0.5 + scaled : 0.5 + scaled);
        }
        t.first[xx] = xmin;
        t.count[xx] = xmax;
    }
    return t;
}

inline uint8_t clip8(int32_t v) {
    const int32_t s = v >> kPrecisionBits;  // arithmetic shift, as in Pillow
    return static_cast<uint8_t>(std::clamp(s, 0, 255));
}

// Rows [row0, row0 + rows) of `in` resampled horizontally to `out_w` columns.
RgbImage horizontal(const RgbImage& in, int row0, int rows, int out_w, const Taps& t) {
    RgbImage out;
    out.width = out_w;
    out.height = rows;
    out.data.resize(static_cast<size_t>(out_w) * rows * 3);
    for (int y = 0; y < rows; ++y) {
        const uint8_t* src = in.pixel(row0 + y, 0);
        uint8_t* dst = out.pixel(y, 0);
        for (int xx = 0; xx < out_w; ++xx) {
            const int32_t* k = &t.weights[static_cast<size_t>(xx) * t.ksize];
            const uint8_t* s = src + static_cast<size_t>(t.first[xx]) * 3;
            int32_t a0 = 1 << (kPrecisionBits - 1), a1 = a0, a2 = a0;
            for (int x = 0; x < t.count[xx]; ++x) {
                a0 += s[3 * x] * k[x];
                a1 += s[3 * x + 1] * k[x];
                a2 += s[3 * x + 2] * k[x];
            }
            dst[3 * xx] = clip8(a0);
            dst[3 * xx + 1] = clip8(a1);
            dst[3 * xx + 2] = clip8(a2);
        }
    }
    return out;
}

// `in` resampled vertically to `out_h` rows; tap rows are relative to `row0` of the original.
RgbImage vertical(const RgbImage& in, int row0, int out_h, const Taps& t) {
    RgbImage out;
    out.width = in.width;
    out.height = out_h;
    out.data.resize(static_cast<size_t>(in.width) * out_h * 3);
    const size_t row_len = static_cast<size_t>(in.width) * 3;
    std::vector<int32_t> acc(row_len);
    for (int yy = 0; yy < out_h; ++yy) {
        const int32_t* k = &t.weights[static_cast<size_t>(yy) * t.ksize];
        std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
        for (int y = 0; y < t.count[yy]; ++y) {
            const uint8_t* src = in.pixel(t.first[yy] - row0 + y, 0);
            const int32_t w = k[y];
            for (size_t i = 0; i < row_len; ++i) acc[i] += src[i] * w;
        }
        uint8_t* dst = out.pixel(yy, 0);
        for (size_t i = 0; i < row_len; ++i) dst[i] = clip8(acc[i]);
    }
    return out;
}

}  // namespace

RgbImage resize_rgb(const RgbImage& in, int out_width, int out_height, ResampleFilter filter_id) {
    AG_CHECK(out_width >= 1 && out_height >= 1 && in.width >= 1 && in.height >= 1, "bad resize sizes");
    const Filter filter = get_filter(filter_id);
    const bool need_h = out_width != in.width;
    const bool need_v = out_height != in.height;
    if (!need_h && !need_v) return in;
    const Taps tv = compute_taps(in.height, out_height, filter);
    if (!need_v) return horizontal(in, 0, in.height, out_width, compute_taps(in.width, out_width, filter));
    if (!need_h) return vertical(in, 0, out_height, tv);
    const Taps th = compute_taps(in.width, out_width, filter);
    // Pass order of Pillow >= 12-13 (measured bit-exactly against Pillow 13.0 on thousands of
    // size pairs, see docs/multimodal.md): vertical first when the height shrinks by more than
    // twice as many pixels as the width does; horizontal first otherwise. The order matters
    // because the intermediate image is rounded to 8 bits.
    const bool vertical_first =
        out_height < in.height && (in.height - out_height) > 2 * (in.width - out_width);
    if (vertical_first) return horizontal(vertical(in, 0, out_height, tv), 0, out_height, out_width, th);
    const int row_first = tv.first.front();
    const int row_last = tv.first.back() + tv.count.back();
    const RgbImage tmp = horizontal(in, row_first, row_last - row_first, out_width, th);
    return vertical(tmp, row_first, out_height, tv);
}

}  // namespace ag::mm
