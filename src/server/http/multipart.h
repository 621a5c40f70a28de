// multipart/form-data bodies (RFC 7578), as the `openai` SDK sends file uploads: parts split on
// the Content-Type's boundary, each with a Content-Disposition name (and filename for files).
// Pure parsing over the body already read (the body-size limit applies before this).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ag::server::http {

struct FormPart {
    std::string name;
    std::optional<std::string> filename;  // set for file fields
    std::string content_type;             // the part's Content-Type ("" when absent)
    std::string data;
};

/// The boundary of a `multipart/form-data; boundary=...` Content-Type (quotes removed).
/// kInvalidArgument when the type is not multipart/form-data or names no boundary.
Result<std::string> multipart_boundary(std::string_view content_type);

/// Parses `body` into its parts in order. kInvalidArgument naming the problem: no opening
/// boundary, a part without headers end, a part without a Content-Disposition name, a missing
/// closing boundary.
Result<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary);

}  // namespace ag::server::http
