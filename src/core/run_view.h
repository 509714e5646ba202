// What a person wants to know about a run, folded from its events: the state, the steps (from the
// DAG when there is one), the current step and its percent, the running cost, the times. The pretty
// output's end summary and the live status line on stderr both read it. Pure code, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"

namespace wsflow {

class RunView {
 public:
  struct Step {
    std::string id;
    std::string label;  ///< the DAG node's label, else the step's goal
    std::string agent;
    std::string kind;   ///< the DAG node's type ("step", "approval"); empty when not from a DAG
    int64_t number = 0;
    std::string status = "pending";  ///< pending, running, retrying, completed, failed
    int64_t attempts = 0;            ///< highest attempt_number seen (0: no retry)
    double started = -1;             ///< unix seconds of its first step_started, -1: not seen
    double ended = -1;               ///< unix seconds of its step_completed / step_failed
    double percent = -1;             ///< last step_progress percent, -1: none
    std::string result;              ///< step_completed's result, step_failed's error
  };

  /// Folds one envelope (an object with event_type, timestamp, data) into the view.
  void Apply(const JsonValue& envelope);

  const std::vector<Step>& steps() const { return steps_; }
  /// The step an event's data is about (data.step_id or node_id, else step_number); null when unknown.
  const Step* Lookup(const JsonValue& data) const;
  /// The step that started last and has not ended; null when none.
  const Step* current() const;
  /// "starting", "running", "paused", "waiting for approval", "completed", "failed", "cancelled".
  const std::string& state() const { return state_; }
  bool ended() const { return state_ == "completed" || state_ == "failed" || state_ == "cancelled"; }
  const std::string& run_id() const { return run_id_; }
  /// The running cost in USD: the last total_cost_usd, else the sum of cost_usd.
  double total_cost() const { return total_cost_; }
  bool has_cost() const { return has_cost_; }
  int64_t tokens() const { return tokens_; }
  int64_t events() const { return events_; }
  /// Seconds from the first to the last event's timestamp (0 when fewer than two had one).
  double duration() const { return first_ts_ >= 0 && last_ts_ > first_ts_ ? last_ts_ - first_ts_ : 0; }
  /// The earliest and the latest event timestamp, as the backend wrote them ("" : none).
  const std::string& first_timestamp() const { return first_stamp_; }
  const std::string& last_timestamp() const { return last_stamp_; }
  /// The percent of the task (task_progress), -1 when none was reported.
  double task_percent() const { return task_percent_; }
  int64_t count(std::string_view status) const;

 private:
  Step* Find(const JsonValue& data, bool create);  ///< by data.step_id (or node_id), else step_number
  Step* Find(std::string_view id, int64_t number, bool create);

  std::vector<Step> steps_;
  size_t current_ = static_cast<size_t>(-1);
  std::string state_ = "starting";
  std::string run_id_;
  double total_cost_ = 0;
  bool has_cost_ = false;
  int64_t tokens_ = 0;
  int64_t events_ = 0;
  double first_ts_ = -1, last_ts_ = -1;
  std::string first_stamp_, last_stamp_;
  double task_percent_ = -1;
};

/// "$0.046", "$1.50": at least two decimals, at most four, no trailing zeros past two.
std::string FormatCost(double usd);

}  // namespace wsflow
