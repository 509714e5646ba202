// How `--help` looks. A subcommand such as watch has over fifty options; printed whole they fill
// three screens and hide the few that matter. So `--help` shows a command's own options (its
// "Options" group) plus the ones marked with ShowInBriefHelp, names the other groups, and points
// to `--help-all`, which prints every option. Both wrap at 80 columns, whatever the terminal.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace wsflow {

class HelpFormatter : public CLI::Formatter {
 public:
  static constexpr size_t kWidth = 80;

  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override;

  /// Options of other groups that `--help` shows too.
  void Brief(const CLI::Option* o) { brief_.insert(o); }

 private:
  std::string Usage(const CLI::App* app) const;
  std::string Row(const std::string& left, const std::string& description) const;
  std::string OptionRow(const CLI::Option* o) const;
  std::string Root(const CLI::App* app) const;

  std::set<const CLI::Option*> brief_;
};

/// Installs the formatter and `--help-all` on the root app (subcommands added later inherit both).
void SetupHelp(CLI::App& app);

/// Marks options of `sub` (by their long name) for its brief help; an unknown name is a bug and throws.
void ShowInBriefHelp(CLI::App* sub, const std::vector<std::string>& names);

/// The subcommands people see (not the hidden __gen, whose group is empty).
std::vector<const CLI::App*> Commands(const CLI::App& app);

/// The values CLI::IsMember allows (type name "TEXT:{a,b}" -> a, b); none for other options.
std::vector<std::string> Choices(const CLI::Option* o);

/// "TEXT:{a,b}" -> "{a,b}", "INT:NONNEGATIVE" -> "N": the value placeholder people read.
std::string ValueLabel(const CLI::Option* o);

/// Breaks `text` into lines of at most `width` characters at spaces (a longer word stays whole).
std::vector<std::string> WrapWords(const std::string& text, size_t width);

}  // namespace wsflow
