#include "session/output.h"

namespace wsflow {

Output::Output(NdjsonWriter* writer, std::shared_ptr<PrettyPrinter> pretty, std::shared_ptr<StatusLine> status,
               bool raw)
    : writer_(writer), pretty_(std::move(pretty)), status_(std::move(status)), raw_(raw) {}

void Output::PrintEvent(Event& event, int64_t reconnects) {
  if (status_) status_->Update(event.envelope(), reconnects);
  std::string_view line = event.line();
  // A compact frame goes out as it came; anything else is re-serialised onto one line (--raw keeps
  // a frame's own spacing when it is one line already).
  if (!event.compact() && !(raw_ && line.find('\n') == std::string_view::npos)) {
    scratch_ = ToJson(event.envelope());
    line = scratch_;
  }
  if (keep_printed_) printed_.assign(line.data(), line.size());
  if (pretty_) writer_->WriteText(pretty_->Format(event.envelope()));
  else writer_->Write(line);
}

void Output::PrintLine(const std::string& line) {
  if (pretty_) writer_->WriteText(pretty_->Format(line));
  else writer_->Write(line);
}

void Output::BreakLine() {
  if (!pretty_) return;
  std::string end = pretty_->Finish();
  if (end.empty()) return;
  writer_->WriteText(end);
  writer_->Drain(Millis(500));  // a terminal takes it at once; a stalled one must not hold us
}

void Output::Finish() {
  if (status_) status_->Stop();
  if (pretty_) writer_->WriteText(pretty_->Finish() + pretty_->Summary());
}

}  // namespace wsflow
