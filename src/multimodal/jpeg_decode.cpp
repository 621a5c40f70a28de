#include "multimodal/jpeg_decode.h"

#ifdef AG_HAVE_LIBJPEG
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>

#include <vector>
#endif

#include <fmt/format.h>

namespace ag::mm::detail {

#ifndef AG_HAVE_LIBJPEG
bool have_libjpeg() { return false; }
Result<RgbImage> decode_jpeg_libjpeg(std::string_view, int, int) {
    return Status(ErrorCode::kUnsupported, "built without libjpeg");
}
#else
namespace {

struct ErrorMgr {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
    bool truncated;
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
    auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
    auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
    // Warnings (level -1): a premature end of data is an error for us (Pillow raises "image file
    // is truncated"); other recoverable corruption is tolerated, as Pillow does.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

// Progressive JPEGs can carry a huge number of tiny scans (a known decoder DoS); Pillow does not
// limit them, but no real image needs more than a few dozen.
constexpr int kMaxScans = 1000;

struct Progress {
    jpeg_progress_mgr pub;
    ErrorMgr* err;
};

void on_progress(j_common_ptr cinfo) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->input_scan_number > kMaxScans) {
        auto* p = reinterpret_cast<Progress*>(cinfo->progress);
        std::snprintf(p->err->message, sizeof(p->err->message), "more than %d scans", kMaxScans);
        std::longjmp(p->err->jump, 1);
    }
}

// Pillow's MULDIV255: a*b/255 rounded, in integers.
inline int muldiv255(int a, int b) {
    const int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

// Runs the decompression; returns false with err->message set on a libjpeg error. Kept free of
// C++ objects with destructors between setjmp and longjmp.
bool run(jpeg_decompress_struct* cinfo, ErrorMgr* err, Progress* progress, const unsigned char* data, size_t size,
         RgbImage* out, unsigned char* row, size_t row_capacity, bool* size_mismatch) {
    if (setjmp(err->jump) != 0) return false;
    jpeg_create_decompress(cinfo);
    progress->pub.progress_monitor = on_progress;
    progress->err = err;
    cinfo->progress = &progress->pub;
    jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(cinfo, TRUE);
    const J_COLOR_SPACE in_space = cinfo->jpeg_color_space;
    const bool cmyk = in_space == JCS_CMYK || in_space == JCS_YCCK;
    const bool grey = in_space == JCS_GRAYSCALE;
    cinfo->out_color_space = cmyk ? JCS_CMYK : grey ? JCS_GRAYSCALE : JCS_RGB;
    cinfo->dct_method = JDCT_ISLOW;  // Pillow's default
    cinfo->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(cinfo);
    if (static_cast<int>(cinfo->output_width) != out->width ||
        static_cast<int>(cinfo->output_height) != out->height ||
        static_cast<size_t>(cinfo->output_width) * cinfo->output_components > row_capacity) {
        *size_mismatch = true;
        jpeg_abort_decompress(cinfo);
        return true;
    }
    const bool adobe_inverted = cmyk && cinfo->saw_Adobe_marker;
    while (cinfo->output_scanline < cinfo->output_height) {
        const int y = static_cast<int>(cinfo->output_scanline);
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(cinfo, rows, 1);
        unsigned char* dst = out->pixel(y, 0);
        for (int x = 0; x < out->width; ++x, dst += 3) {
            if (grey) {
                dst[0] = dst[1] = dst[2] = row[x];
            } else if (cmyk) {
                int c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
                if (adobe_inverted) {
                    c = 255 - c;
                    m = 255 - m;
                    yy = 255 - yy;
                    k = 255 - k;
                }
                const int nk = 255 - k;
                dst[0] = static_cast<unsigned char>(std::max(0, nk - muldiv255(c, nk)));
                dst[1] = static_cast<unsigned char>(std::max(0, nk - muldiv255(m, nk)));
                dst[2] = static_cast<unsigned char>(std::max(0, nk - muldiv255(yy, nk)));
            } else {
                std::memcpy(dst, row + 3 * x, 3);
            }
        }
        if (err->truncated) break;
    }
    if (!err->truncated) jpeg_finish_decompress(cinfo);
    return true;
}

}  // namespace

bool have_libjpeg() { return true; }

Result<RgbImage> decode_jpeg_libjpeg(std::string_view bytes, int expected_width, int expected_height) {
    RgbImage out;
    out.width = expected_width;
    out.height = expected_height;
    out.data.resize(static_cast<size_t>(expected_width) * expected_height * 3);
    std::vector<unsigned char> row(static_cast<size_t>(expected_width) * 4);
    jpeg_decompress_struct cinfo;
    std::memset(&cinfo, 0, sizeof(cinfo));  // safe to destroy even if creation fails
    ErrorMgr err;
    std::memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.emit_message = on_message;
    bool size_mismatch = false;
    Progress progress;
    std::memset(&progress, 0, sizeof(progress));
    const bool ok = run(&cinfo, &err, &progress, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &out,
                        row.data(), row.size(), &size_mismatch);
    jpeg_destroy_decompress(&cinfo);
    if (!ok) return Status(ErrorCode::kInvalidArgument, fmt::format("corrupt or truncated JPEG image ({})", err.message));
    if (size_mismatch) return Status(ErrorCode::kInvalidArgument, "corrupt JPEG image: size changed while decoding");
    if (err.truncated) return Status(ErrorCode::kInvalidArgument, "truncated JPEG image (premature end of data)");
    return out;
}
#endif

}  // namespace ag::mm::detail
