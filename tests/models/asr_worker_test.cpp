// AsrWorker on the tiny random Whisper golden: results equal a direct transcribe, tasks run in
// order on the worker's own pool, streamed segments equal the result's, cancellation before and
// during a task, and queued tasks answered when the worker is destroyed.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "asr/asr_worker.h"
#include "asr_tiny_dir.h"

namespace ag::asr {
namespace {

std::vector<float> tone(size_t n, float f) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) x[i] = 0.3f * std::sin(f * static_cast<float>(i));
    return x;
}

class AsrWorkerTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto t = Transcriber::load(tiny_model_dir("whisper_tiny80_f32").string());
        ASSERT_TRUE(t.ok()) << t.status().to_string();
        tr_ = std::move(t).value();
        opt_.language = "en";
        opt_.temperatures = {0.0f};
        opt_.timestamps = true;
    }
    std::shared_ptr<const Transcriber> tr_;
    TranscribeOptions opt_;
};

TEST_F(AsrWorkerTest, ResultsEqualDirectTranscriptionInOrder) {
    const auto a = tone(32000, 0.05f), b = tone(48000, 0.11f);
    auto da = tr_->transcribe(a, opt_);
    auto db = tr_->transcribe(b, opt_);
    ASSERT_TRUE(da.ok() && db.ok());
    AsrWorker w(tr_, 2);
    auto ta = w.submit(a, opt_);
    auto tb = w.submit(b, opt_, /*stream_segments=*/true);
    std::vector<Segment> streamed;
    for (;;) {
        Segment s;
        const auto ev = tb->next(&s, std::chrono::milliseconds(50));
        if (ev == AsrTask::Event::kDone) break;
        if (ev == AsrTask::Event::kSegment) streamed.push_back(s);
    }
    auto ra = ta->wait();
    const auto& rb = tb->result();
    ASSERT_TRUE(ra.ok()) << ra.status().to_string();
    ASSERT_TRUE(rb.ok()) << rb.status().to_string();
    EXPECT_EQ(ra->text, da->text);
    EXPECT_EQ(rb->text, db->text);
    ASSERT_EQ(streamed.size(), rb->segments.size());
    for (size_t i = 0; i < streamed.size(); ++i) {
        EXPECT_EQ(streamed[i].tokens, rb->segments[i].tokens);
        EXPECT_EQ(streamed[i].text, rb->segments[i].text);
    }
    EXPECT_EQ(w.pending(), 0u);
}

TEST_F(AsrWorkerTest, CancelledTasksEndWithAnError) {
    AsrWorker w(tr_, 1);
    // Long audio keeps the worker busy; the second task is cancelled while it waits.
    auto busy = w.submit(tone(16000 * 90, 0.07f), opt_);
    auto queued = w.submit(tone(16000, 0.05f), opt_);
    queued->cancel();
    busy->cancel();
    auto rb = busy->wait();
    auto rq = queued->wait();
    EXPECT_FALSE(rq.ok());
    EXPECT_FALSE(rb.ok());
    // A client that goes away: wait() cancels and returns.
    auto gone = w.submit(tone(16000 * 90, 0.07f), opt_);
    auto rg = gone->wait([] { return false; });
    ASSERT_FALSE(rg.ok());
    EXPECT_NE(rg.status().message().find("disconnected"), std::string::npos);
}

TEST_F(AsrWorkerTest, DestroyingTheWorkerAnswersQueuedTasks) {
    std::shared_ptr<AsrTask> a, b;
    {
        AsrWorker w(tr_, 1);
        a = w.submit(tone(16000 * 60, 0.07f), opt_);
        b = w.submit(tone(16000, 0.05f), opt_);
    }
    auto rb = b->wait();
    EXPECT_FALSE(rb.ok());
    (void)a->wait();  // finished or cancelled, but answered
}

TEST_F(AsrWorkerTest, BadAudioIsTheTasksError) {
    AsrWorker w(tr_, 1);
    auto r = w.submit({}, opt_)->wait();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ag::asr
