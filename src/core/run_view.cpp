#include "core/run_view.h"

#include <algorithm>
#include <cstdio>

#include "core/timestamp.h"

namespace wsflow {

namespace {
// Backends name step states in many ways; the view knows five.
std::string NormalStatus(std::string_view s) {
  if (s == "completed" || s == "complete" || s == "done" || s == "success" || s == "succeeded") return "completed";
  if (s == "failed" || s == "error" || s == "errored") return "failed";
  if (s == "running" || s == "in_progress" || s == "executing" || s == "started" || s == "active") return "running";
  if (s == "pending" || s == "waiting" || s == "queued" || s == "scheduled") return "pending";
  return std::string(s);
}

double Number(const JsonValue& v, const char* key, double dflt) {
  auto it = v.IsObject() ? v.FindMember(key) : v.MemberEnd();
  if (v.IsObject() && it != v.MemberEnd() && it->value.IsNumber()) return it->value.GetDouble();
  return dflt;
}
}  // namespace

std::string FormatCost(double usd) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", usd);
  std::string s(buf);
  size_t dot = s.find('.');
  while (s.size() > dot + 3 && s.back() == '0') s.pop_back();
  return "$" + s;
}

int64_t RunView::count(std::string_view status) const {
  return std::count_if(steps_.begin(), steps_.end(), [&](const Step& s) { return s.status == status; });
}

const RunView::Step* RunView::current() const {
  if (current_ >= steps_.size()) return nullptr;
  const Step& s = steps_[current_];
  return s.status == "running" || s.status == "retrying" ? &s : nullptr;
}

const RunView::Step* RunView::Lookup(const JsonValue& data) const {
  std::string_view id = GetString(data, "step_id");
  if (id.empty()) id = GetString(data, "node_id");
  int64_t number = GetInt(data, "step_number", 0);
  for (const auto& s : steps_)
    if (!id.empty() ? s.id == id : (number > 0 && s.number == number)) return &s;
  return nullptr;
}

RunView::Step* RunView::Find(const JsonValue& data, bool create) {
  std::string_view id = GetString(data, "step_id");
  if (id.empty()) id = GetString(data, "node_id");
  return Find(id, GetInt(data, "step_number", 0), create);
}

RunView::Step* RunView::Find(std::string_view id, int64_t number, bool create) {
  for (auto& s : steps_) {
    if (!id.empty() ? s.id == id : (number > 0 && s.number == number)) return &s;
  }
  if (!id.empty() && number > 0) {  // a DAG without ids on its nodes, steps with them
    for (auto& s : steps_)
      if (s.id.empty() && s.number == number) {
        s.id = std::string(id);
        return &s;
      }
  }
  if (!create || (id.empty() && number <= 0)) return nullptr;
  Step s;
  s.id = std::string(id);
  s.number = number;
  steps_.push_back(std::move(s));
  return &steps_.back();
}

void RunView::Apply(const JsonValue& env) {
  if (!env.IsObject()) return;
  ++events_;
  std::string_view type = GetString(env, "event_type");
  if (run_id_.empty()) run_id_ = std::string(GetString(env, "run_id"));
  double ts = -1;
  std::string_view stamp = GetString(env, "timestamp");
  if (!stamp.empty() && ParseIsoTimestamp(std::string(stamp), &ts)) {
    if (first_ts_ < 0 || ts < first_ts_) first_ts_ = ts, first_stamp_ = std::string(stamp);
    if (ts > last_ts_) last_ts_ = ts, last_stamp_ = std::string(stamp);
  }
  static const JsonValue kEmpty(rapidjson::kObjectType);
  const JsonValue* dp = GetObject(env, "data");
  const JsonValue& data = dp ? *dp : kEmpty;
  auto live = [this](const char* state) {
    if (!ended()) state_ = state;
  };

  if (type == "workflow_started" || type == "workflow_resumed") {
    live("running");
  } else if (type == "workflow_paused") {
    live("paused");
  } else if (type == "workflow_state_changed") {
    std::string status = NormalStatus(GetString(data, "status"));
    if (status == "running" || status == "paused") live(status.c_str());
  } else if (type == "workflow_completed") {
    state_ = "completed";
  } else if (type == "workflow_failed") {
    state_ = GetString(data, "status") == "cancelled" ? "cancelled" : "failed";
  } else if (type == "workflow_cancelled") {
    state_ = "cancelled";
  } else if (type == "dag_created" || type == "dag_updated") {
    if (const JsonValue* nodes = GetArray(data, "nodes")) {
      for (const auto& n : nodes->GetArray()) {
        Step* s = Find(GetString(n, "id"), GetInt(n, "step_number", 0), true);
        if (!s) continue;
        if (!GetString(n, "label").empty()) s->label = std::string(GetString(n, "label"));
        if (!GetString(n, "agent").empty()) s->agent = std::string(GetString(n, "agent"));
        if (!GetString(n, "type").empty()) s->kind = std::string(GetString(n, "type"));
        if (s->number == 0) s->number = GetInt(n, "step_number", 0);
        std::string status = NormalStatus(GetString(n, "status"));
        if (!status.empty() && (type == "dag_updated" || s->status == "pending")) s->status = status;
      }
    }
  } else if (type == "dag_node_status_changed") {
    if (Step* s = Find(data, false)) s->status = NormalStatus(GetString(data, "new_status"));
  } else if (type == "step_started" || type == "step_start") {
    if (Step* s = Find(data, true)) {
      s->status = "running";
      if (s->started < 0) s->started = ts;
      if (s->label.empty()) s->label = std::string(GetString(data, "goal"));
      if (s->number == 0) s->number = GetInt(data, "step_number", 0);
      current_ = static_cast<size_t>(s - steps_.data());
      if (state_ == "starting") state_ = "running";
    }
  } else if (type == "step_progress") {
    if (Step* s = Find(data, true)) {
      s->percent = Number(data, "progress_percentage", s->percent);
      if (s->status == "pending") s->status = "running";
      current_ = static_cast<size_t>(s - steps_.data());
    }
  } else if (type == "step_completed" || type == "step_complete") {
    if (Step* s = Find(data, true)) {
      s->status = "completed";
      s->ended = ts;
      std::string_view result = GetString(data, "result");
      if (!result.empty()) s->result = std::string(result);
    }
  } else if (type == "step_failed") {
    if (Step* s = Find(data, true)) {
      s->status = "failed";
      s->ended = ts;
      s->result = std::string(GetString(data, "error"));
    }
  } else if (type == "step_retry_started" || type == "step_retry_backoff") {
    if (Step* s = Find(data, true)) {
      s->status = "retrying";
      s->attempts = std::max(s->attempts, GetInt(data, "attempt_number", 0));
    }
  } else if (type == "step_retry_succeeded") {
    if (Step* s = Find(data, true)) {
      s->status = "running";
      s->attempts = std::max({s->attempts, GetInt(data, "attempt_number", 0), GetInt(data, "total_attempts", 0)});
    }
  } else if (type == "step_retry_exhausted") {
    if (Step* s = Find(data, true)) {
      s->status = "failed";
      s->attempts = std::max(s->attempts, GetInt(data, "total_attempts", 0));
      s->result = std::string(GetString(data, "final_error"));
      if (s->ended < 0) s->ended = ts;
    }
  } else if (type == "approval_requested") {
    live("waiting for approval");
  } else if (type == "approval_received") {
    if (state_ == "waiting for approval") state_ = "running";
  } else if (type == "cost_update") {
    double total = Number(data, "total_cost_usd", -1);
    if (total >= 0) total_cost_ = total;
    else total_cost_ += Number(data, "cost_usd", 0);
    tokens_ += GetInt(data, "tokens", 0);
    has_cost_ = true;
  } else if (type == "task_progress") {
    task_percent_ = Number(data, "percent", task_percent_);
  }
}

}  // namespace wsflow
