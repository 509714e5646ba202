#include "cli/help_format.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace wsflow {

namespace {
constexpr size_t kLeft = 24;  // the option column, indent included

std::string Names(const CLI::Option* o) {
  std::string s;
  for (const auto& n : o->get_snames()) s += (s.empty() ? "-" : ", -") + n;
  for (const auto& n : o->get_lnames()) s += (s.empty() ? "--" : ", --") + n;
  return s;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string Capitalized(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

bool IsHelp(const CLI::App* app, const CLI::Option* o) {
  return o == app->get_help_ptr() || o == app->get_help_all_ptr();
}

std::vector<const CLI::Option*> Positionals(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return !o->nonpositional(); });
}

std::string Braced(const std::vector<std::string>& choices) {
  std::string s;
  for (const auto& c : choices) s += (s.empty() ? "{" : ",") + c;
  return s + "}";
}

/// The word a positional stands for on the usage line: a keyword ("show"), choices, or its name.
std::string PositionalLabel(const CLI::Option* o) {
  std::vector<std::string> choices = Choices(o);
  std::string label = choices.size() == 1 ? choices[0] : choices.empty() ? Upper(o->get_name()) : Braced(choices);
  if (o->get_expected_max() > 1) label += "...";
  return o->get_required() ? label : "[" + label + "]";
}
}  // namespace

std::vector<std::string> WrapWords(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string word, line;
  while (in >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

std::vector<const CLI::App*> Commands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); });
}

std::vector<std::string> Choices(const CLI::Option* o) {
  std::string t = o->get_type_name();
  size_t brace = t.find('{');
  std::vector<std::string> out;
  if (brace == std::string::npos) return out;
  std::istringstream list(t.substr(brace + 1, t.find('}') - brace - 1));
  for (std::string item; std::getline(list, item, ',');) out.push_back(item);
  return out;
}

std::string ValueLabel(const CLI::Option* o) {
  if (!o->get_option_text().empty()) return o->get_option_text();
  if (o->get_type_size() == 0) return "";  // a flag
  std::string t = o->get_type_name();
  std::vector<std::string> choices = Choices(o);
  if (!choices.empty()) {
    t = Braced(choices);
  } else {
    t = t.substr(0, t.find(':'));
    if (t == "INT" || t == "UINT") t = "N";
    if (t == "FLOAT") t = "NUM";
  }
  if (o->get_expected_max() == CLI::detail::expected_max_vector_size) t += " ...";
  return t;
}

std::string HelpFormatter::Row(const std::string& left, const std::string& description) const {
  std::string out = "  " + left;
  // A left side wider than its column pushes the first line of the description along; the rest
  // of the description wraps under the column as usual.
  size_t start = std::max(kLeft, out.size() + 2);
  std::vector<std::string> first = WrapWords(description, kWidth - start);
  if (first.empty()) return out + "\n";
  out += std::string(start - out.size(), ' ') + first[0] + "\n";
  std::string rest = description.substr(std::min(description.find(first[0]) + first[0].size(), description.size()));
  for (const auto& l : WrapWords(rest, kWidth - kLeft)) out += std::string(kLeft, ' ') + l + "\n";
  return out;
}

std::string HelpFormatter::OptionRow(const CLI::Option* o) const {
  std::string label = ValueLabel(o), description = o->get_description();
  std::string def = o->get_default_str();
  if (o->get_type_size() != 0 && !def.empty() && description.find("default") == std::string::npos) {
    if (!description.empty() && description.back() == ')') description.insert(description.size() - 1, "; default: " + def);
    else description += " (default: " + def + ")";
  }
  return Row(Names(o) + (label.empty() ? "" : " " + label), description);
}

std::string HelpFormatter::Usage(const CLI::App* app) const {
  std::string s = "Usage: wsflow " + app->get_name();
  for (const CLI::Option* p : Positionals(app)) s += " " + PositionalLabel(p);
  return s + " [OPTIONS]\n";
}

std::string HelpFormatter::Root(const CLI::App* app) const {
  std::string out;
  for (const auto& l : WrapWords(app->get_description(), kWidth)) out += l + "\n";
  out += "Usage: wsflow COMMAND [OPTIONS]\nSubcommands:\n";  // one screen for 13 commands
  for (const CLI::App* sub : Commands(*app)) {
    std::string left = sub->get_name();
    left.resize(10, ' ');
    out += "  " + left;
    std::vector<std::string> lines = WrapWords(sub->get_description(), kWidth - 12);
    for (size_t i = 0; i < lines.size(); ++i) out += (i ? std::string(12, ' ') : "") + lines[i] + "\n";
  }
  out += "\nOptions:\n";
  for (const CLI::Option* o : app->get_options()) out += OptionRow(o);
  if (!app->get_footer().empty()) {
    out += "\n";
    std::istringstream in(app->get_footer());
    for (std::string line; std::getline(in, line);)
      for (const auto& l : WrapWords(line, kWidth)) out += l + "\n";
  }
  return out;
}

std::string HelpFormatter::make_help(const CLI::App* app, std::string, CLI::AppFormatMode mode) const {
  if (app->get_parent() == nullptr) {
    std::string out = Root(app);
    if (mode == CLI::AppFormatMode::All)  // every command, whole, one after the other
      for (const CLI::App* sub : Commands(*app))
        out += "\n\n" + make_help(sub, "", mode);
    return out;
  }
  const bool all = mode == CLI::AppFormatMode::All;
  std::string out = Capitalized(app->get_description()) + "\n" + Usage(app);
  // The brief help is one list, positionals first; --help-all heads each group.
  std::string rows;
  for (const CLI::Option* p : Positionals(app)) rows += Row(Upper(p->get_name()), p->get_description());

  std::string left_out;  // "Output: 15, Connection: 13": what the brief help does not list
  for (const std::string& group : app->get_groups()) {
    auto opts = app->get_options([&](const CLI::Option* o) {
      return o->nonpositional() && o->get_group() == group && (all || !IsHelp(app, o));
    });
    if (group.empty() || opts.empty()) continue;
    if (all) {
      rows += (rows.empty() ? "" : "\n") + group + ":\n";
      for (const CLI::Option* o : opts) rows += OptionRow(o);
      continue;
    }
    size_t hidden = 0;
    for (const CLI::Option* o : opts) {
      if (group == "Options" || brief_.count(o)) {
        rows += OptionRow(o);
      } else {
        ++hidden;
      }
    }
    if (hidden) left_out += (left_out.empty() ? "" : ", ") + group + ": " + std::to_string(hidden);
  }
  if (!rows.empty()) out += "\n" + rows;
  if (!left_out.empty()) {
    out += "\n";
    for (const auto& l : WrapWords("More options in " + left_out + ".", kWidth)) out += l + "\n";
    out += "Every option: wsflow " + app->get_name() + " --help-all, or man wsflow\n";
  }
  if (!app->get_footer().empty()) out += "\n" + app->get_footer() + "\n";
  return out;
}

void SetupHelp(CLI::App& app) {
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_help_flag("-h,--help", "show the main options and an example");
  app.set_help_all_flag("--help-all", "show every option");
}

void ShowInBriefHelp(CLI::App* sub, const std::vector<std::string>& names) {
  auto formatter = std::dynamic_pointer_cast<HelpFormatter>(sub->get_formatter());
  if (!formatter) throw std::logic_error("ShowInBriefHelp before SetupHelp");
  for (const auto& name : names) {
    const CLI::Option* o = sub->get_option_no_throw(name);
    if (!o) throw std::logic_error(sub->get_name() + " has no option " + name);
    formatter->Brief(o);
  }
}

}  // namespace wsflow
