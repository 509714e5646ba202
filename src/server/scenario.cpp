#include "server/scenario.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace wsflow {

namespace {

// The demo: a five-step DAG with a retry, an approval gate, costs and a file.
const char* kDemo = R"JSON({"name":"demo","delay_ms":100,"items":[
{"event":"workflow_started","data":{"run_id":"{run_id}","task_description":"{task}","agent":"planner","model":"{model}"}},
{"event":"dag_created","data":{"run_id":"{run_id}","levels":4,
  "nodes":[{"id":"s1","label":"Plan the work","type":"step","status":"pending","agent":"planner","step_number":1},
           {"id":"s2","label":"Gather data","type":"step","status":"pending","agent":"researcher","step_number":2},
           {"id":"s3","label":"Review the plan","type":"approval","status":"pending","agent":"reviewer","step_number":3},
           {"id":"s4","label":"Write the report","type":"step","status":"pending","agent":"writer","step_number":4},
           {"id":"s5","label":"Check the report","type":"step","status":"pending","agent":"critic","step_number":5}],
  "edges":[{"source":"s1","target":"s2"},{"source":"s1","target":"s3"},{"source":"s2","target":"s4"},
           {"source":"s3","target":"s4"},{"source":"s4","target":"s5"}]}},
{"event":"step_started","data":{"step_id":"s1","step_number":1,"goal":"Plan the work","task":"{task}"}},
{"event":"agent_message","data":{"agent":"planner","message":"Splitting the task into four steps.","role":"assistant"}},
{"event":"step_progress","data":{"step_id":"s1","step_number":1,"progress_percentage":50,"message":"plan drafted"}},
{"event":"cost_update","data":{"run_id":"{run_id}","step_id":"s1","model":"{model}","tokens":1200,"input_tokens":900,"output_tokens":300,"cost_usd":0.012,"total_cost_usd":0.012}},
{"event":"step_completed","data":{"step_id":"s1","step_number":1,"result":"4 steps planned"}},
{"event":"step_started","data":{"step_id":"s2","step_number":2,"goal":"Gather data","task":"collect sources"}},
{"event":"agent_tool_call","data":{"agent":"researcher","tool_name":"web_search","tool_args":{"query":"{task}"}}},
{"event":"step_retry_started","data":{"step_id":"s2","step_number":2,"attempt_number":2,"max_attempts":3,"error_category":"network","error_pattern":"timeout","success_probability":0.8,"strategy":"exponential_backoff","suggestions":["retry with a longer timeout"],"has_user_feedback":false}},
{"event":"step_retry_backoff","data":{"step_id":"s2","step_number":2,"attempt_number":2,"backoff_seconds":2,"retry_strategy":"exponential_backoff"}},
{"event":"step_retry_succeeded","data":{"step_id":"s2","step_number":2,"attempt_number":2,"total_attempts":2}},
{"event":"step_progress","data":{"step_id":"s2","step_number":2,"progress_percentage":100,"message":"12 sources collected"}},
{"event":"step_completed","data":{"step_id":"s2","step_number":2,"result":"12 sources"}},
{"event":"step_started","data":{"step_id":"s3","step_number":3,"goal":"Review the plan","task":"human review"}},
{"approval":{"approval_id":"approval-s3","step_id":"s3","action":"review_plan","description":"Review the plan before writing","message":"Approve the plan?","options":["approve","reject","modify"],"checkpoint_type":"after_planning","context":{"steps":4}},"on_reject":"fail"},
{"event":"step_completed","data":{"step_id":"s3","step_number":3,"result":"plan approved"}},
{"event":"step_started","data":{"step_id":"s4","step_number":4,"goal":"Write the report","task":"draft"}},
{"event":"agent_message","data":{"agent":"writer","message":"Drafting the report.","role":"assistant"}},
{"event":"file_created","data":{"file_path":"report.md","file_type":"markdown","size_bytes":4096}},
{"event":"cost_update","data":{"run_id":"{run_id}","step_id":"s4","model":"{model}","tokens":3000,"input_tokens":2000,"output_tokens":1000,"cost_usd":0.034,"total_cost_usd":0.046}},
{"event":"step_completed","data":{"step_id":"s4","step_number":4,"result":"report.md written","output":"report.md"}},
{"event":"step_started","data":{"step_id":"s5","step_number":5,"goal":"Check the report","task":"review"}},
{"event":"agent_message","data":{"agent":"critic","message":"The report covers every step.","role":"assistant"}},
{"event":"step_completed","data":{"step_id":"s5","step_number":5,"result":"no issues"}},
{"event":"workflow_completed","data":{"message":"Workflow completed","status":"completed","total_cost_usd":0.046}}
]})JSON";

// A run that fails: a step errors, its retries are exhausted.
const char* kFail = R"JSON({"name":"fail","delay_ms":100,"items":[
{"event":"workflow_started","data":{"run_id":"{run_id}","task_description":"{task}","agent":"planner","model":"{model}"}},
{"event":"step_started","data":{"step_id":"s1","step_number":1,"goal":"Fetch the input","task":"{task}"}},
{"event":"step_progress","data":{"step_id":"s1","step_number":1,"progress_percentage":30,"message":"connecting"}},
{"event":"step_failed","data":{"step_id":"s1","step_number":1,"error":"upstream returned 503"}},
{"event":"step_retry_started","data":{"step_id":"s1","step_number":1,"attempt_number":2,"max_attempts":2,"error_category":"network","strategy":"exponential_backoff","suggestions":[],"has_user_feedback":false}},
{"event":"step_retry_backoff","data":{"step_id":"s1","step_number":1,"attempt_number":2,"backoff_seconds":1,"retry_strategy":"exponential_backoff"}},
{"event":"step_retry_exhausted","data":{"step_id":"s1","step_number":1,"total_attempts":2,"final_error":"upstream returned 503"}},
{"event":"error_occurred","data":{"error_type":"StepFailed","message":"step s1 failed after 2 attempts","step_id":"s1"}},
{"event":"workflow_failed","data":{"message":"step s1 failed after 2 attempts","status":"failed"}}
]})JSON";

// Load and fault tests: config.events step_progress events as fast as configured.
const char* kLong = R"JSON({"name":"long","delay_ms":0,"items":[
{"event":"workflow_started","data":{"run_id":"{run_id}","task_description":"{task}","agent":"loader","model":"{model}"}},
{"event":"step_started","data":{"step_id":"s1","step_number":1,"goal":"stream events","task":"{task}"}},
{"event":"step_progress","repeat":"{events}","data":{"step_id":"s1","step_number":1,"progress_percentage":"{pct}","message":"event {i} of {n}"}},
{"event":"step_completed","data":{"step_id":"s1","step_number":1,"result":"done"}},
{"event":"workflow_completed","data":{"message":"Workflow completed","status":"completed"}}
]})JSON";

bool ItemError(size_t i, const std::string& what, std::string* err) {
  *err = "scenario item " + std::to_string(i + 1) + ": " + what;
  return false;
}

}  // namespace

std::string JsonEscape(const std::string& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  std::string quoted(buf.GetString(), buf.GetSize());
  return quoted.substr(1, quoted.size() - 2);
}

std::string Substitute(const std::string& tmpl, const std::string& key, const std::string& json_value,
                       const std::string& text_value) {
  const std::string whole = "\"{" + key + "}\"", inner = "{" + key + "}";
  std::string out;
  out.reserve(tmpl.size());
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl.compare(i, whole.size(), whole) == 0) {
      out += json_value;
      i += whole.size();
    } else if (tmpl.compare(i, inner.size(), inner) == 0) {
      out += text_value;
      i += inner.size();
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

std::string SubstituteAll(const std::string& tmpl, const std::vector<Placeholder>& values) {
  std::string out;
  out.reserve(tmpl.size());
  for (size_t i = 0; i < tmpl.size();) {
    bool done = false;
    if (tmpl[i] == '"' || tmpl[i] == '{') {
      for (const auto& p : values) {
        const std::string whole = "\"{" + p.key + "}\"", inner = "{" + p.key + "}";
        if (tmpl.compare(i, whole.size(), whole) == 0) {
          out += p.json_value;
          i += whole.size();
          done = true;
          break;
        }
        if (tmpl.compare(i, inner.size(), inner) == 0) {
          out += p.text_value;
          i += inner.size();
          done = true;
          break;
        }
      }
    }
    if (!done) out += tmpl[i++];
  }
  return out;
}

bool LoadScenario(const JsonValue& v, Scenario* out, std::string* err) {
  *out = Scenario{};
  if (!v.IsObject()) {
    *err = "a scenario is a JSON object with \"items\"";
    return false;
  }
  out->name = std::string(GetString(v, "name", "custom"));
  out->delay_ms = static_cast<int>(GetInt(v, "delay_ms", 100));
  const JsonValue* items = GetArray(v, "items");
  if (!items || items->Empty()) {
    *err = "a scenario needs a non-empty \"items\" array";
    return false;
  }
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    const JsonValue& it = (*items)[i];
    if (!it.IsObject()) return ItemError(i, "not an object", err);
    ScenarioItem item;
    item.delay_ms = static_cast<int>(GetInt(it, "delay_ms", -1));
    if (const JsonValue* gate = GetObject(it, "approval")) {
      item.kind = ScenarioItem::Kind::kApproval;
      item.event_type = "approval_requested";
      if (GetString(*gate, "approval_id").empty()) return ItemError(i, "approval needs an approval_id", err);
      const JsonValue* options = GetArray(*gate, "options");
      if (!options || options->Empty()) return ItemError(i, "approval needs a non-empty options array", err);
      for (auto& o : options->GetArray())
        if (!o.IsString()) return ItemError(i, "approval options must be strings", err);
      item.data_template = ToJson(*gate);
      std::string_view on_reject = GetString(it, "on_reject", "fail");
      if (on_reject != "fail" && on_reject != "continue") return ItemError(i, "on_reject is fail or continue", err);
      item.fail_on_reject = on_reject == "fail";
    } else {
      item.event_type = std::string(GetString(it, "event"));
      if (item.event_type.empty()) return ItemError(i, "needs \"event\" (a type) or \"approval\"", err);
      const JsonValue* data = GetObject(it, "data");
      item.data_template = data ? ToJson(*data) : "{}";
      auto rep = it.FindMember("repeat");
      if (rep != it.MemberEnd()) {
        if (!rep->value.IsInt64() || rep->value.GetInt64() < 0) return ItemError(i, "repeat must be a count >= 0", err);
        item.repeat = rep->value.GetInt64();
      }
    }
    out->items.push_back(std::move(item));
  }
  return true;
}

bool BuiltinScenario(const std::string& name, const JsonValue& config, Scenario* out, std::string* err) {
  std::string text;
  if (name == "demo") text = kDemo;
  else if (name == "fail") text = kFail;
  else if (name == "long") {
    int64_t events = GetInt(config, "events", 1000);
    if (events < 0) {
      *err = "config.events must be >= 0";
      return false;
    }
    text = Substitute(kLong, "events", std::to_string(events), std::to_string(events));
  } else {
    *err = "unknown scenario '" + name + "' (built in: " + BuiltinScenarioNames() + ")";
    return false;
  }
  JsonDoc doc;
  if (!ParseJson(text, &doc, err)) return false;
  return LoadScenario(doc, out, err);
}

const char* BuiltinScenarioNames() { return "demo, fail, long"; }

}  // namespace wsflow
