#include "cli/docs_gen.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "cli/help_format.h"
#include "core/approval_policy.h"
#include "core/envelope.h"

namespace wsflow {

namespace {

struct Opt {
  std::vector<std::string> longs;   // without dashes
  std::vector<std::string> shorts;  // without dashes
  std::string description, group, value;  // value: "" for flags, else the type name ("DURATION", ...)
  std::vector<std::string> choices;
  std::vector<std::string> suggestions;  // values usual but not enforced: completions offer them
  bool file = false, dir = false, repeat = false;
};

struct Cmd {
  std::string name, description, footer;
  std::vector<std::string> positionals;  // names, in order
  std::map<std::string, std::vector<std::string>> positional_choices;  // a single choice is a keyword ("show")
  std::vector<Opt> opts;
};

std::vector<Cmd> Collect(const CLI::App& app) {
  std::vector<Cmd> cmds;
  for (const CLI::App* sub : Commands(app)) {
    Cmd c;
    c.name = sub->get_name();
    c.description = sub->get_description();
    c.footer = sub->get_footer();
    for (const CLI::Option* o : sub->get_options()) {
      if (o->get_name() == "--help") continue;
      if (o->get_positional() && o->get_lnames().empty() && o->get_snames().empty()) {
        c.positionals.push_back(o->get_name());
        if (!Choices(o).empty()) c.positional_choices[o->get_name()] = Choices(o);
        continue;
      }
      Opt x;
      x.longs = o->get_lnames();
      x.shorts = o->get_snames();
      x.description = o->get_description();
      x.group = o->get_group();
      x.repeat = o->get_expected_max() > 1;
      if (o->get_expected_max() > 0) {  // flags expect no value
        x.choices = Choices(o);
        std::string t = o->get_type_name();
        if (!x.choices.empty()) t = t.substr(0, t.find(':'));  // "TEXT:{a,b}" -> TEXT
        x.file = t == "FILE";
        x.dir = t == "DIR";
        x.value = t.empty() ? "VALUE" : t.substr(0, t.find(':'));
      }
      if (x.longs.front() == "resolution") x.suggestions = CommonResolutions();  // the request decides
      c.opts.push_back(x);
    }
    cmds.push_back(c);
  }
  return cmds;
}

std::string Roff(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '-') out += "\\-";
    else if (ch == '\\') out += "\\e";
    else out += ch;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

// A positional that takes one word only is that word ("config show"); others are placeholders.
std::string Keyword(const Cmd& c, const std::string& p) {
  auto it = c.positional_choices.find(p);
  return it != c.positional_choices.end() && it->second.size() == 1 ? it->second.front() : "";
}

std::string Placeholder(const Cmd& c, const std::string& p) {
  std::string k = Keyword(c, p);
  if (!k.empty()) return k;
  for (auto& ch : k = p) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return k;
}

// What a completion offers for an option's value: its choices, else its suggestions.
const std::vector<std::string>& Values(const Opt& o) { return o.choices.empty() ? o.suggestions : o.choices; }

std::string Names(const Opt& o) {
  std::string s;
  for (auto& n : o.shorts) s += (s.empty() ? "-" : ", -") + n;
  for (auto& n : o.longs) s += (s.empty() ? "--" : ", --") + n;
  return s;
}

const char* kManDescription = R"(.B wsflow
follows and drives workflow runs on agent and workflow backends over WebSocket.
Every event of a run leaves on standard output as one compact JSON object per line (NDJSON), so that
scripts can pipe it into
.BR jq (1),
and the exit status says how the run ended.
The connection is kept whole: wsflow reconnects with capped, jittered exponential backoff, detects a
dead peer with ping/pong, re\-subscribes from the last sequence number it printed and drops
duplicates, so no event is lost and none is printed twice.
Standard output carries data only; status lines, warnings and errors go to standard error.
.PP
Each line is an envelope:
.PP
.EX
{"event_type":"step_progress","timestamp":"2026\-01\-22T10:00:00.123Z","run_id":"r\-1","seq":17,"data":{...}}
.EE
.PP
.B seq
counts a run's events from 1 without gaps.
Events that wsflow makes itself (connection changes, frames of unknown shape) carry
.B \(dqorigin\(dq:\(dqclient\(dq
and no seq.
See docs/events.md for every field and jq recipes.
.PP
Durations take
.BR 500ms ", " 2s ", " 15m ", " 1h ;
a bare number is seconds.
Predicates
.RB ( \-\-match ", " \-\-until\-match )
are
.IB PATH = VALUE\fR,
.IB PATH != VALUE\fR,
.IB PATH ~ REGEX
or a bare
.I PATH
(present and not empty), where
.I PATH
is a dotted path into the envelope such as
.BR data.step_number .
.PP
Every command takes
.BR \-h ", " \-\-help
(its main options and an example) and
.B \-\-help\-all
(every option, by group).
)";

const char* kManTail = R"(.SH EXIT STATUS
.TP
.B 0
The run completed, or a wait condition was met, or a control command was acknowledged; also when
standard output was closed by its reader.
.TP
.B 1
The run failed.
.TP
.B 2
Usage or configuration error, including an approval answer that the request does not offer, and
a \fB\-\-record\fR or \fB\-\-summary\fR path that cannot be created (said before connecting).
.TP
.B 3
The run was cancelled.
.TP
.B 4
Protocol error: the peer sent something unusable, refused a request, or does not know the run;
an approval that nothing may answer (\fB\-\-no\-input\fR); a run that completed without the awaited event.
A server that sends a text frame that is not UTF\-8, or a frame larger than
\fB\-\-max\-frame\-size\fR, ends the command at once with this status: it is not retried.
.TP
.B 5
Connection failed: refused, DNS, handshake rejected, retries exhausted.
.TP
.B 6
Authentication rejected (HTTP 401 or 403; 407 from a proxy).
.TP
.B 7
Stream incomplete: the connection was lost and the backend cannot resume; the message names the
last seq printed.
.TP
.B 8
Output failed: standard output, \fB\-\-record\fR or \fB\-\-summary\fR could not be written (a full
disk, an I/O error); the message says which, and how many lines were written whole. A reader that went away (\fB| head \-1\fR) is not a failure.
.TP
.B 124
.B \-\-timeout
reached.
.TP
.B 129
Hung up (SIGHUP: the terminal went away); like SIGTERM, \fB\-\-cancel\-on\-interrupt\fR applies.
.TP
.B 130
Interrupted (SIGINT).
.TP
.B 143
Terminated (SIGTERM).
.PP
Every non\-zero status comes with one line on standard error saying why.
A close before the run's terminal event, even with code 1000, is not success: wsflow reconnects.
.SH ENVIRONMENT
.nh
A setting whose flag is not given comes from the environment, else from the config file (see
.BR FILES ),
else from the default: a flag wins over the environment, the environment over the file.
Variables set to the empty string count as unset.
.TP
.B WSFLOW_URL
The backend URL when
.B \-\-url
is not given (default ws://127.0.0.1:8000, where
.B wsflow serve
listens by default).
.TP
.BR WSFLOW_DIALECT ", " WSFLOW_CONNECT_TIMEOUT ", " WSFLOW_WAIT_FOR_BACKEND ", " WSFLOW_PING_INTERVAL ", " \
WSFLOW_PONG_TIMEOUT ", " WSFLOW_IDLE_TIMEOUT ", " WSFLOW_MAX_FRAME_SIZE ", " WSFLOW_RETRIES ", " \
WSFLOW_RETRY_INITIAL ", " WSFLOW_RETRY_MAX_DELAY ", " WSFLOW_RETRY_JITTER ", " WSFLOW_QUEUE_SIZE
The connection option of the same name
.RB ( WSFLOW_RETRY_MAX_DELAY
for
.BR \-\-retry\-max\-delay ),
checked as the option is.
.TP
.BR WSFLOW_OUTPUT ", " WSFLOW_COLOR ", " WSFLOW_PROGRESS
.BR \-\-output ", " \-\-color " and " \-\-progress
of
.B watch
and
.BR execute .
.TP
.B WSFLOW_PROFILE
The profile of the config file when
.B \-\-profile
is not given.
.TP
.B WSFLOW_CONFIG
The config file to read instead of the default one; it must exist.
.TP
.BR WSFLOW_TOKEN ", " WSFLOW_TOKEN_FILE
A token for backends that authenticate, or a file that holds one.
.B wsflow config show
shows the token masked; a token is never read from the config file.
.TP
.BR WSFLOW_PROXY ", " WSFLOW_PROXY_AUTH_FILE ", " WSFLOW_COMPRESS
.BR \-\-proxy ", " \-\-proxy\-auth\-file " and " \-\-compress .
.TP
.BR https_proxy ", " HTTPS_PROXY ", " http_proxy ", " HTTP_PROXY ", " all_proxy ", " ALL_PROXY
The HTTP CONNECT proxy for wss:// (https) and ws:// (http) connections, then for both (all), when
.B \-\-proxy
and
.B WSFLOW_PROXY
are not set; lower case first, as curl reads them.
.TP
.BR no_proxy ", " NO_PROXY
Hosts that go direct: names (with their subdomains), IP addresses, CIDR ranges, host:port, or *.
.TP
.B NO_COLOR
Set to anything but the empty string: pretty output has no colours, unless
.B \-\-color always
is given.
.TP
.B TERM
.BR dumb :
no colours, no progress bar redrawn in place, no live status line.
.TP
.BR XDG_CONFIG_HOME ", " HOME
Where the config file is looked for.
.SH FILES
.TP
.I $XDG_CONFIG_HOME/wsflow/config.json
The user's settings (else
.IR ~/.config/wsflow/config.json ,
or the file that
.B WSFLOW_CONFIG
names): a JSON object of settings named like the options with underscores
(url, dialect, connect_timeout, wait_for_backend, answer_delay, ping_interval, pong_timeout, idle_timeout,
max_frame_size, retries, retry_initial, retry_max_delay, retry_jitter, queue_size, output, color, progress,
token_file), plus
.B profiles
(an object of named objects of settings, chosen with
.B \-\-profile
or
.BR WSFLOW_PROFILE )
and
.B profile
(the profile to use when none is named).
A profile's settings win over the file's top level.
Durations are strings such as "10s" or numbers of seconds; sizes strings such as "64MiB" or
numbers of bytes; retries and queue_size are numbers.
A file that is not JSON, an unknown key, a value of the wrong type or a profile that is not there
is exit status 2, with one line naming the file and the key.
.B wsflow config show
prints every setting with its value and where it came from.
.PP
.EX
{"url": "ws://backend.example:8000", "retries": 3,
 "profiles": {"ci": {"output": "json", "retries": 0, "idle_timeout": "5m"}}}
.EE
.hy
.SH EXAMPLES
Fail a CI job when the run fails, keeping its events:
.PP
.EX
wsflow execute "nightly evaluation" \-\-approve '*=approve' \-\-timeout 30m > events.ndjson
.EE
.PP
Print each step's result as it completes:
.PP
.EX
wsflow watch r\-1234 \-\-type step_completed | jq \-r .data.result
.EE
.PP
The cost of a run from its saved events, and the steps that needed more than one attempt:
.PP
.EX
jq \-s 'map(select(.event_type=="cost_update")) | last | .data.total_cost_usd' events.ndjson
jq \-r 'select(.event_type=="step_retry_succeeded") | .data.step_id' events.ndjson
.EE
.PP
Re\-run a recorded job every night from
.BR cron (8),
never two at once, keeping the last 30 recordings (a crontab line):
.PP
.EX
0 2 * * * wsflow replay ~/jobs/nightly.rec \-\-rerun \-\-lock /tmp/nightly.lock \-\-record\-dir ~/jobs/runs \-\-keep 30 \-q
.EE
.PP
Wait until a run needs an approval, then answer it from another terminal:
.PP
.EX
wsflow watch r\-1234 \-\-until approval \-\-no\-history \-\-timeout 1h
wsflow approve r\-1234 approval\-s3 \-\-resolution approve \-\-feedback "looks good"
.EE
.PP
Let a script decide approvals (the request arrives on its standard input):
.PP
.EX
wsflow execute "deploy" \-\-on\-approval ./decide.sh \-\-on\-approval\-timeout 2m
.EE
.PP
See which settings apply, and whether each comes from a flag, the environment, the config file or
the default:
.PP
.EX
wsflow config show \-\-profile ci | jq \-c 'map_values(.source)'
.EE
.PP
Watch a run in a terminal (one coloured line per event, a summary at the end), or save its events
while a status line on standard error shows how far it got:
.PP
.EX
wsflow watch r\-1234 \-\-output pretty
wsflow watch r\-1234 > events.ndjson    # a status line on stderr while it runs
.EE
.PP
A backend for tests, on a free port, dropping connections on purpose:
.PP
.EX
wsflow serve \-\-port 0 \-\-port\-file /tmp/port \-\-drop\-every 1000 &
wsflow execute t \-\-url ws://127.0.0.1:$(cat /tmp/port) \-\-config '{"scenario":"long","events":50000}'
.EE
.SH SEE ALSO
.BR jq (1);
docs/events.md, docs/protocol.md and docs/scenarios.md in the source tree.
)";

void Man(const CLI::App& app, const std::vector<Cmd>& cmds, std::ostream& o) {
  o << ".\\\" Generated by `wsflow __gen man` from the command definitions; do not edit.\n";
  o << ".TH WSFLOW 1 \"\" \"wsflow " << WSFLOW_VERSION << "\" \"User Commands\"\n";
  o << ".SH NAME\nwsflow \\- " << Roff(app.get_description().substr(app.get_description().find(':') + 2)) << "\n";
  o << ".SH SYNOPSIS\n";
  for (const auto& c : cmds) {
    o << ".B wsflow " << c.name << "\n";
    for (auto& p : c.positionals) o << (Keyword(c, p).empty() ? ".I " : ".B ") << Roff(Placeholder(c, p)) << "\n";
    o << ".RI [ options ]\n.br\n";
  }
  o << ".B wsflow \\-\\-version\n";
  o << ".SH DESCRIPTION\n" << kManDescription;
  o << ".SH COMMANDS\n";
  for (const auto& c : cmds) {
    o << ".SS \"wsflow " << c.name;
    for (auto& p : c.positionals) o << " " << Placeholder(c, p);
    o << "\"\n" << Roff(c.description) << ".\n";
    std::vector<std::string> groups;
    for (auto& x : c.opts)
      if (std::find(groups.begin(), groups.end(), x.group) == groups.end()) groups.push_back(x.group);
    for (auto& g : groups) {
      if (g != "Options") o << ".PP\n" << Roff(g) << " options:\n";
      for (auto& x : c.opts) {
        if (x.group != g || x.longs.front() == "help-all") continue;  // said once, in DESCRIPTION
        if (x.value.empty()) {
          o << ".TP\n.B " << Roff(Names(x)) << "\n";
        } else {
          std::string value = x.value;
          if (!x.choices.empty()) {
            value.clear();
            for (auto& ch : x.choices) value += (value.empty() ? "" : "|") + ch;
          }
          o << ".TP\n.BI \"" << Roff(Names(x)) << " \" " << Roff(value) << "\n";
        }
        o << Roff(x.description) << (x.repeat ? " (repeatable)" : "") << ".\n";
      }
    }
    if (!c.footer.empty()) {  // "Example: ..." whose further lines are indented under the first
      std::string example = c.footer.substr(c.footer.find(':') + 2), line;
      o << ".PP\n.EX\n";
      for (std::istringstream in(example); std::getline(in, line);)
        o << Roff(line.substr(std::min(line.find_first_not_of(' '), line.size()))) << "\n";
      o << ".EE\n";
    }
  }
  o << kManTail;
}

void Bash(const std::vector<Cmd>& cmds, std::ostream& o) {
  o << "# bash completion for wsflow. Generated by `wsflow __gen bash`; do not edit.\n";
  o << "_wsflow() {\n  local cur prev words cword\n  _init_completion || return\n";
  o << "  local cmd= i\n  for ((i = 1; i < cword; i++)); do\n    case ${words[i]} in\n     ";
  for (auto& c : cmds) o << " " << c.name << (&c == &cmds.back() ? "" : " |");
  o << ") cmd=${words[i]}; break ;;\n    esac\n  done\n";
  o << "  if [ -z \"$cmd\" ]; then\n    COMPREPLY=($(compgen -W \"";
  for (auto& c : cmds) o << c.name << " ";
  o << "--help --help-all --version\" -- \"$cur\"))\n    return\n  fi\n  case $cmd:$prev in\n";
  for (auto& c : cmds) {
    for (auto& x : c.opts) {
      if (x.value.empty()) continue;
      o << "    " << c.name << ":--" << x.longs.front() << ") ";
      if (!Values(x).empty()) {
        o << "COMPREPLY=($(compgen -W \"";
        for (auto& ch : Values(x)) o << ch << (&ch == &Values(x).back() ? "" : " ");
        o << "\" -- \"$cur\")); return ;;\n";
      } else if (x.file) {
        o << "_filedir; return ;;\n";
      } else if (x.dir) {
        o << "_filedir -d; return ;;\n";
      } else {
        o << "return ;;\n";
      }
    }
  }
  o << "  esac\n  case $cmd in\n";
  for (auto& c : cmds) {
    o << "    " << c.name << ") COMPREPLY=($(compgen -W \"";
    for (auto& p : c.positionals)
      if (!Keyword(c, p).empty()) o << Keyword(c, p) << " ";
    for (auto& x : c.opts) {
      for (auto& s : x.shorts) o << "-" << s << " ";
      for (auto& l : x.longs) o << "--" << l << " ";
    }
    o << "--help\" -- \"$cur\")) ;;\n";
  }
  o << "  esac\n}\ncomplete -F _wsflow wsflow\n";
}

std::string ZshEscape(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '[' || ch == ']' || ch == ':') out += '\\';
    if (ch == '\'') {
      out += "'\\''";
      continue;
    }
    out += ch;
  }
  return out;
}

void Zsh(const std::vector<Cmd>& cmds, std::ostream& o) {
  o << "#compdef wsflow\n# zsh completion for wsflow. Generated by `wsflow __gen zsh`; do not edit.\n\n";
  o << "_wsflow() {\n  local curcontext=$curcontext state line\n";
  o << "  _arguments -C '--version[print the version]' '(-h --help)'{-h,--help}'[print help]' \\\n";
  o << "    '--help-all[print every option]' \\\n";
  o << "    '1:command:->command' '*::arg:->args'\n  case $state in\n    command)\n      _values 'command'";
  for (auto& c : cmds) o << " \\\n        '" << c.name << "[" << ZshEscape(c.description) << "]'";
  o << " ;;\n    args)\n      case $line[1] in\n";
  for (auto& c : cmds) {
    o << "        " << c.name << ")\n          _arguments";
    int n = 1;
    for (auto& p : c.positionals) {
      o << " \\\n            '" << n++ << ":" << p << ":";
      auto ch = c.positional_choices.find(p);
      if (ch != c.positional_choices.end()) {
        o << "(";
        for (auto& x : ch->second) o << x << (&x == &ch->second.back() ? "" : " ");
        o << ")";
      }
      o << "'";
    }
    for (auto& x : c.opts) {
      std::string action;
      if (!x.value.empty()) {
        action = ":" + x.value + ":";
        if (!Values(x).empty()) {
          action += "(";
          for (auto& ch : Values(x)) action += ch + (&ch == &Values(x).back() ? "" : " ");
          action += ")";
        } else if (x.file) {
          action += "_files";
        } else if (x.dir) {
          action += "_files -/";
        }
      }
      std::string desc = "[" + ZshEscape(x.description) + "]";
      std::string star = x.repeat || (x.value.empty() && x.shorts.size() && x.shorts[0] == "v") ? "*" : "";
      for (auto& s : x.shorts) o << " \\\n            '" << star << "-" << s << desc << action << "'";
      for (auto& l : x.longs) o << " \\\n            '" << star << "--" << l << desc << action << "'";
    }
    o << " ;;\n";
  }
  o << "      esac ;;\n  esac\n}\n\n_wsflow \"$@\"\n";
}

std::string FishQuote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) {
    if (ch == '\'' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "'";
}

void Fish(const std::vector<Cmd>& cmds, std::ostream& o) {
  o << "# fish completion for wsflow. Generated by `wsflow __gen fish`; do not edit.\n";
  std::string all;
  for (auto& c : cmds) all += (all.empty() ? "" : " ") + c.name;
  o << "complete -c wsflow -f\n";
  for (auto& c : cmds)
    o << "complete -c wsflow -n 'not __fish_seen_subcommand_from " << all << "' -a " << c.name << " -d "
      << FishQuote(c.description) << "\n";
  o << "complete -c wsflow -n 'not __fish_seen_subcommand_from " << all << "' -l version -d 'print the version'\n";
  o << "complete -c wsflow -n 'not __fish_seen_subcommand_from " << all << "' -l help-all -d 'print every option'\n";
  for (auto& c : cmds) {
    for (auto& p : c.positionals)
      if (!Keyword(c, p).empty())
        o << "complete -c wsflow -n '__fish_seen_subcommand_from " << c.name << "' -a " << Keyword(c, p) << "\n";
    for (auto& x : c.opts) {
      o << "complete -c wsflow -n '__fish_seen_subcommand_from " << c.name << "'";
      for (auto& s : x.shorts) o << " -s " << s;
      for (auto& l : x.longs) o << " -l " << l;
      if (!x.value.empty()) {
        if (!Values(x).empty()) {
          std::string list;
          for (auto& ch : Values(x)) list += (list.empty() ? "" : " ") + ch;
          o << " -x -a " << FishQuote(list);
        } else if (x.file) {
          o << " -r -F";
        } else if (x.dir) {
          o << " -r -a '(__fish_complete_directories)'";
        } else {
          o << " -r";
        }
      }
      o << " -d " << FishQuote(x.description) << "\n";
    }
  }
}

}  // namespace

bool GenerateDocs(const CLI::App& app, const std::string& kind, std::ostream& out) {
  std::vector<Cmd> cmds = Collect(app);
  if (kind == "man") Man(app, cmds, out);
  else if (kind == "bash") Bash(cmds, out);
  else if (kind == "zsh") Zsh(cmds, out);
  else if (kind == "fish") Fish(cmds, out);
  else return false;
  return true;
}

}  // namespace wsflow
