#include "core/run_ids.h"

#include "core/json.h"

namespace wsflow {

bool ValidRunId(const std::string& id, std::string* err) {
  if (id.empty() || id.size() > 256) {
    *err = id.empty() ? "an empty run id" : "a run id longer than 256 bytes";
    return false;
  }
  for (unsigned char c : id) {
    if (c <= ' ' || c == 0x7f) {
      *err = "a run id with white space or control characters";
      return false;
    }
  }
  return true;
}

bool ParseRunIdLine(const std::string& line, std::string* id, std::string* err) {
  size_t b = line.find_first_not_of(" \t\r\n");
  size_t e = line.find_last_not_of(" \t\r\n");
  id->clear();
  if (b == std::string::npos || line[b] == '#') return true;
  std::string text = line.substr(b, e - b + 1);
  if (text[0] == '{') {  // execute --detach's {"run_id":...}
    JsonDoc d;
    if (!ParseJson(text, &d, err)) return false;
    if (!d.IsObject() || !d.HasMember("run_id") || !d["run_id"].IsString()) {
      *err = "a JSON line without a \"run_id\" string";
      return false;
    }
    text = d["run_id"].GetString();
  }
  if (!ValidRunId(text, err)) return false;
  *id = text;
  return true;
}

void RunIdLines::Feed(std::string_view chunk, std::vector<Item>* out) {
  buf_.append(chunk.data(), chunk.size());
  size_t start = 0, nl;
  while ((nl = buf_.find('\n', start)) != std::string::npos) {
    Line(buf_.substr(start, nl - start), out);
    start = nl + 1;
  }
  buf_.erase(0, start);
}

void RunIdLines::End(std::vector<Item>* out) {
  if (!buf_.empty()) Line(buf_, out);
  buf_.clear();
}

void RunIdLines::Line(const std::string& line, std::vector<Item>* out) {
  ++number_;
  std::string id, err;
  if (!ParseRunIdLine(line, &id, &err)) out->push_back({"", "line " + std::to_string(number_) + ": " + err});
  else if (!id.empty()) out->push_back({id, ""});
}

}  // namespace wsflow
