#include "server/http/multipart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace ag::server::http {

namespace {

Status bad(std::string message) { return {ErrorCode::kInvalidArgument, std::move(message)}; }

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// The value of `key` among `; key=value` parameters (quoted or bare); nullopt if absent.
std::optional<std::string> header_param(std::string_view header, std::string_view key) {
    size_t pos = header.find(';');
    while (pos != std::string_view::npos) {
        std::string_view rest = header.substr(pos + 1);
        const size_t eq = rest.find('=');
        const size_t semi = rest.find(';');
        if (eq == std::string_view::npos) return std::nullopt;
        if (semi != std::string_view::npos && semi < eq) {
            pos = pos + 1 + semi;
            continue;
        }
        const std::string name = lower(trim(rest.substr(0, eq)));
        std::string_view value = rest.substr(eq + 1);
        std::string out;
        size_t consumed = 0;
        value = value.substr(std::min(value.find_first_not_of(" \t"), value.size()));
        if (!value.empty() && value.front() == '"') {
            size_t i = 1;
            for (; i < value.size() && value[i] != '"'; ++i) {
                if (value[i] == '\\' && i + 1 < value.size()) ++i;
                out.push_back(value[i]);
            }
            consumed = i + 1;
        } else {
            const size_t end = value.find(';');
            out = std::string(trim(value.substr(0, end)));
            consumed = end == std::string_view::npos ? value.size() : end;
        }
        if (name == key) return out;
        const size_t next = value.find(';', std::min(consumed, value.size()));
        if (next == std::string_view::npos) return std::nullopt;
        pos = static_cast<size_t>(value.data() - header.data()) + next;
    }
    return std::nullopt;
}

Status parse_part_headers(std::string_view headers, FormPart& part, size_t index) {
    bool has_disposition = false;
    while (!headers.empty()) {
        size_t eol = headers.find("\r\n");
        std::string_view line = headers.substr(0, eol);
        headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string key = lower(trim(line.substr(0, colon)));
        const std::string_view value = trim(line.substr(colon + 1));
        if (key == "content-disposition") {
            if (!lower(value).starts_with("form-data")) {
                return bad(fmt::format("multipart part {}: Content-Disposition is not form-data",
                                       index));
            }
            auto name = header_param(value, "name");
            if (!name || name->empty()) {
                return bad(fmt::format("multipart part {}: Content-Disposition has no name",
                                       index));
            }
            part.name = std::move(*name);
            part.filename = header_param(value, "filename");
            has_disposition = true;
        } else if (key == "content-type") {
            part.content_type = std::string(value);
        }
    }
    if (!has_disposition) {
        return bad(fmt::format("multipart part {} has no Content-Disposition header", index));
    }
    return Status::ok_status();
}

}  // namespace

Result<std::string> multipart_boundary(std::string_view content_type) {
    const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
    if (type != "multipart/form-data") {
        return bad(fmt::format("expected a multipart/form-data body, got Content-Type '{}'",
                               content_type.empty() ? "(none)" : std::string(content_type)));
    }
    auto b = header_param(content_type, "boundary");
    if (!b || b->empty() || b->size() > 200) {
        return bad("the multipart/form-data Content-Type names no valid boundary");
    }
    return *b;
}

Result<std::vector<FormPart>> parse_multipart(std::string_view body, std::string_view boundary) {
    const std::string delim = "--" + std::string(boundary);
    size_t pos = body.find(delim);
    if (pos == std::string_view::npos) return bad("multipart body has no opening boundary");
    std::vector<FormPart> parts;
    const std::string next_delim = "\r\n" + delim;
    for (size_t index = 0;; ++index) {
        pos += delim.size();
        if (body.substr(pos, 2) == "--") return parts;  // closing boundary
        // Transport padding after the boundary, then CRLF.
        while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
        if (body.substr(pos, 2) != "\r\n") return bad("malformed multipart boundary line");
        pos += 2;
        const size_t headers_end = body.find("\r\n\r\n", pos);
        FormPart part;
        if (body.substr(pos, 2) == "\r\n") {  // no headers at all
            if (auto st = parse_part_headers({}, part, index); !st.ok()) return st;
        }
        if (headers_end == std::string_view::npos) {
            return bad(fmt::format("multipart part {} is truncated (no end of headers)", index));
        }
        if (auto st = parse_part_headers(body.substr(pos, headers_end - pos), part, index);
            !st.ok()) {
            return st;
        }
        const size_t data_start = headers_end + 4;
        const size_t data_end = body.find(next_delim, data_start);
        if (data_end == std::string_view::npos) {
            return bad(fmt::format("multipart part {} ('{}') is truncated: no closing boundary",
                                   index, part.name));
        }
        part.data = std::string(body.substr(data_start, data_end - data_start));
        parts.push_back(std::move(part));
        pos = data_end + 2;
    }
}

}  // namespace ag::server::http
