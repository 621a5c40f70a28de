// Status / Result: recoverable errors (bad files, bad flags, bad requests) travel as values.
// Bugs and broken invariants use AG_CHECK (check.h) instead.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ag {

enum class ErrorCode {
    kOk = 0,
    kInvalidArgument,    // bad flag, bad request field
    kNotFound,           // missing file, tensor, token
    kIoError,            // read/mmap failure
    kParseError,         // malformed JSON / header
    kUnsupported,        // unknown architecture, dtype
    kOutOfRange,         // length limits
    kResourceExhausted,  // input larger than a configured limit (audio duration)
    kInternal,
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
public:
    Status() = default;
    Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok_status() { return {}; }

    bool ok() const { return code_ == ErrorCode::kOk; }
    ErrorCode code() const { return code_; }
    const std::string& message() const { return message_; }
    // "<code name>: <message>", for logs and CLI output.
    std::string to_string() const;

private:
    ErrorCode code_ = ErrorCode::kOk;
    std::string message_;
};

// A value or an error Status. Accessing value() of an error is a bug (checked).
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : data_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Result(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const { return std::holds_alternative<T>(data_); }
    const Status& status() const {
        static const Status kOkStatus;
        return ok() ? kOkStatus : std::get<Status>(data_);
    }
    T& value() & { return std::get<T>(data_); }
    const T& value() const& { return std::get<T>(data_); }
    T&& value() && { return std::get<T>(std::move(data_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

private:
    std::variant<T, Status> data_;
};

// Exception used *inside* loading code for convenience; converted to Status at the io/model
// API edge (see catch_status). Never thrown across a public boundary or from kernels.
class Error : public std::exception {
public:
    Error(ErrorCode code, std::string message) : status_(code, std::move(message)) {}
    const char* what() const noexcept override { return status_.message().c_str(); }
    const Status& status() const { return status_; }

private:
    Status status_;
};

}  // namespace ag

#define AG_RETURN_IF_ERROR(expr)                  \
    do {                                          \
        ::ag::Status ag_status_ = (expr);         \
        if (!ag_status_.ok()) return ag_status_;  \
    } while (0)
