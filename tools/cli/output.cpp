// What `watch`, `run` and `demo` print. On a terminal: the rows that matter (stages, warnings,
// errors) scroll by as lines, and below them a block of a few lines is redrawn in place: the job,
// the stage, a bar of its items, the last message, the elapsed time and the estimate. Piped: one
// line per row. With --json: the JSON lines of DESIGN.md §5, and nothing else on stdout.
#include "cli.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace dhis2cli {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string clock_text(milliseconds d) {
  if (d.count() < 0) d = milliseconds(0);
  const long long total = d.count() / 1000;
  const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buffer[96];
  if (h > 0) {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", m, s);
  }
  return buffer;
}

std::string duration_text(milliseconds d) {
  if (d.count() < 0) d = milliseconds(0);
  if (d >= std::chrono::minutes(1)) return clock_text(d);
  const long long tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " s";
}

int exit_code_of(dhis2::TaskOutcome outcome) noexcept {
  switch (outcome) {
    case dhis2::TaskOutcome::Succeeded: return kSuccess;
    case dhis2::TaskOutcome::Cancelled: return kCancelled;
    default: return kJobFailed;
  }
}

namespace {

std::optional<milliseconds> node_duration(const dhis2::ProgressNode& n) {
  if (n.duration_ms && *n.duration_ms >= 0) return milliseconds(*n.duration_ms);
  const auto a = n.parsed_started_time(), b = n.parsed_completed_time();
  if (a && b && *b >= *a) return std::chrono::duration_cast<milliseconds>(*b - *a);
  return std::nullopt;
}

const char* outcome_word(dhis2::TaskOutcome o) {
  switch (o) {
    case dhis2::TaskOutcome::Succeeded: return "succeeded";
    case dhis2::TaskOutcome::Failed: return "failed";
    case dhis2::TaskOutcome::Cancelled: return "cancelled";
    default: return "unknown";
  }
}

// At most `width` terminal columns (colour sequences take none; a character from U+1100 on counts
// two, as CJK and emoji take, which may overcount a few), so that a line never wraps and the
// redraw counts its lines right. A cut line ends its colour.
std::string fit(const std::string& text, std::size_t width) {
  std::size_t columns = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0x1b && i + 1 < text.size() && text[i + 1] == '[') {
      ++i;
      while (i + 1 < text.size() && !(text[i] >= '@' && text[i] <= '~' && text[i] != '[')) ++i;
      continue;
    }
    if ((c & 0xC0) == 0x80) continue;
    const std::size_t w = c >= 0xE1 ? 2 : 1;
    if (columns + w > width) return text.substr(0, i) + "\x1b[0m";
    columns += w;
  }
  return text;
}

}  // namespace

// Server text made safe for a terminal: control characters (newlines, tabs, ESC, which could
// start a sequence of the server's choosing) become spaces or '?'.
std::string printable(const std::string& text) {
  std::string out = text;
  for (char& ch : out) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\r' || c == '\t') {
      ch = ' ';
    } else if (c < 0x20 || c == 0x7f) {
      ch = '?';
    }
  }
  return out;
}

namespace {

// "[i/n] text" of a LOOP row: (i, n).
std::optional<std::pair<std::int64_t, std::int64_t>> loop_counts(const std::string& message) {
  long long i = 0, n = 0;
  int used = 0;
  if (std::sscanf(message.c_str(), "[%lld/%lld]%n", &i, &n, &used) == 2 && used > 0 && n > 0 && i >= 0) {
    return std::make_pair(static_cast<std::int64_t>(i), static_cast<std::int64_t>(n));
  }
  return std::nullopt;
}

std::size_t terminal_width() {
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col > 10) return w.ws_col;
  return 80;
}

std::string count_text(const nlohmann::json& counts, std::initializer_list<const char*> keys) {
  std::string out;
  for (const char* key : keys) {
    if (!counts.contains(key) || !counts[key].is_number_integer()) continue;
    out += (out.empty() ? "" : ", ") + std::to_string(counts[key].get<long long>()) + " " + key;
  }
  return out;
}

std::string row_line(const dhis2::Notification& n) {
  std::string level = n.level_name.empty() ? "-" : n.level_name;
  level.resize(5, ' ');
  return printable(n.time) + "  " + printable(level) + "  " + printable(n.message.value_or("")) +
         (n.completed ? "  (completed)" : "");
}

}  // namespace

std::optional<Estimate> estimate_left(const dhis2::JobProgress& previous, std::size_t hint, const std::string& stage,
                                      milliseconds in_stage) {
  const dhis2::ProgressProcess* p = previous.current_process();
  if (!p || p->status != dhis2::ProgressStatus::Success || p->stages.empty() || stage.empty()) return std::nullopt;
  std::vector<milliseconds> durations;
  for (const auto& s : p->stages) {
    const auto d = node_duration(s);
    if (!d || !s.complete) return std::nullopt;
    durations.push_back(*d);
  }
  std::size_t index = p->stages.size();
  if (hint < p->stages.size() && p->stages[hint].description == stage) {
    index = hint;
  } else {
    for (std::size_t i = 0; i < p->stages.size(); ++i) {
      if (p->stages[i].description == stage) {
        index = i;
        break;
      }
    }
  }
  if (index == p->stages.size()) return std::nullopt;
  Estimate e;
  e.left = std::max(milliseconds(0), durations[index] - in_stage);
  for (std::size_t j = index + 1; j < durations.size(); ++j) e.left += durations[j];
  e.stage_number = index + 1;
  e.stage_count = p->stages.size();
  return e;
}

std::vector<std::string> completion_details(const dhis2::TaskCompletion& c, std::size_t max_rows) {
  std::vector<std::string> lines;
  const nlohmann::json& s = c.summary;
  if (s.is_object()) {
    // ImportSummary (data values): importCount; ImportReport (metadata) and the tracker's report: stats.
    const nlohmann::json* counts = nullptr;
    if (s.contains("importCount") && s["importCount"].is_object()) counts = &s["importCount"];
    if (s.contains("stats") && s["stats"].is_object()) counts = &s["stats"];
    if (s.contains("response") && s["response"].is_object()) {
      const auto& r = s["response"];
      if (r.contains("importCount") && r["importCount"].is_object()) counts = &r["importCount"];
      if (r.contains("stats") && r["stats"].is_object()) counts = &r["stats"];
    }
    if (counts) {
      const std::string text = count_text(
          *counts, {"created", "imported", "updated", "deleted", "ignored", "inserted", "unchanged"});
      if (!text.empty()) lines.push_back("counts: " + text);
    }
    try {
      const auto rows = dhis2::conflict_rows(s, "summary");
      for (std::size_t i = 0; i < rows.size() && i < max_rows; ++i) {
        const auto& r = rows[i];
        std::string where = r.type;
        if (!r.object.empty()) where += (where.empty() ? "" : " ") + r.object;
        if (!r.property.empty()) where += (where.empty() ? "" : ".") + r.property;
        lines.push_back("conflict: " + (where.empty() ? "" : where + ": ") + r.message +
                        (r.error_code.empty() ? "" : " (" + r.error_code + ")"));
      }
      if (rows.size() > max_rows)
        lines.push_back("... and " + std::to_string(rows.size() - max_rows) + " more conflicts");
    } catch (const dhis2::Error&) {
      // A summary of a shape without conflicts to list.
    }
  }
  for (std::size_t i = 0; i < c.errors.size() && i < max_rows; ++i) lines.push_back("error: " + c.errors[i]);
  if (c.errors.size() > max_rows)
    lines.push_back("... and " + std::to_string(c.errors.size() - max_rows) + " more errors");
  return lines;
}

// ---- the live display ----------------------------------------------------------------------------

struct Output::Live {
  Output& owner;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool finished = false;
  std::thread thread;
  std::mutex write_mutex;  // one writer of the terminal at a time, never under `mutex`

  // Guarded by mutex.
  dhis2::TaskRef ref;
  steady::time_point began = steady::now();
  std::optional<steady::time_point> first_row_at;
  std::vector<dhis2::Notification> rows;
  dhis2::JobProgress derived;
  std::optional<dhis2::JobProgress> server;
  steady::time_point server_at{};
  std::optional<dhis2::JobProgress> previous;
  std::string stage;
  std::size_t stage_number = 0;
  steady::time_point stage_since{};
  bool stage_seen_start = false;       // the stage began while we watched: stage_since is its start
  std::vector<std::string> permanent;  // lines to print above the block at the next redraw
  std::size_t drawn = 0;               // lines of the block on the screen

  explicit Live(Output& o) : owner(o) {}
  ~Live() { finish(); }
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;

  void start() {
    Interrupts::cursor_hidden() = true;
    write("\x1b[?25l");  // hide the cursor while the block is redrawn
    thread = std::thread([this] {
      std::unique_lock<std::mutex> lock(mutex);
      while (!stopping) {
        std::string frame = frame_locked();
        lock.unlock();
        write(frame);  // outside the lock: a terminal that blocks (Ctrl-S) does not block the watch
        lock.lock();
        if (!stopping) wake.wait_for(lock, milliseconds(250));
      }
    });
  }

  void write(const std::string& text) {
    std::lock_guard<std::mutex> lock(write_mutex);
    owner.out_ << text << std::flush;
  }

  // Ends the redraw thread and erases the block; the lines printed above it stay. With
  // `where_it_stood`, one line says where the job stood (the watch stopped before its end).
  void finish(bool where_it_stood = false) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (finished) return;
      finished = stopping = true;
    }
    wake.notify_all();
    if (thread.joinable()) thread.join();
    std::string frame;
    {
      std::lock_guard<std::mutex> lock(mutex);
      frame = frame_locked();   // the rows that came last, above the block
      frame += erase_locked();  // then the block goes (two statements: the order matters)
      if (where_it_stood) {
        std::string line = ref.str() + (rows.empty() ? ": had not started" : ": was running");
        if (!stage.empty()) line += ", stage " + std::to_string(stage_number) + ": " + printable(stage);
        if (!rows.empty()) line += "; last: " + printable(rows.back().message.value_or(""));
        frame += fit(line, terminal_width() - 1) + "\n";
      }
    }
    write(frame + "\x1b[?25h");
    Interrupts::cursor_hidden() = false;
  }

  std::string erase_locked() {
    if (drawn == 0) return {};
    std::string out = "\r";
    if (drawn > 1) out += "\x1b[" + std::to_string(drawn - 1) + "A";
    out += "\x1b[J";
    drawn = 0;
    return out;
  }

  // How long the current stage has run, where that is known: from the server's progress, or
  // from the row that began it when that came while we watched (not in the first poll's rows).
  std::optional<milliseconds> in_stage_locked(steady::time_point now) const {
    if (server) {
      if (const auto* s = server->current_stage(); s && s->description == stage && s->duration_ms && !s->complete) {
        return milliseconds(*s->duration_ms) + std::chrono::duration_cast<milliseconds>(now - server_at);
      }
    }
    if (stage_seen_start) return std::chrono::duration_cast<milliseconds>(now - stage_since);
    return std::nullopt;
  }

  std::vector<std::string> block_locked() const {
    const auto now = steady::now();
    std::vector<std::string> lines;
    milliseconds elapsed = std::chrono::duration_cast<milliseconds>(now - began);
    if (server) {
      const auto* p = server->current_process();
      if (p && p->status == dhis2::ProgressStatus::Running && p->duration_ms) {
        elapsed = milliseconds(*p->duration_ms) + std::chrono::duration_cast<milliseconds>(now - server_at);
      }
    }
    const std::string state = rows.empty() ? "waiting for the job to start" : "running";
    lines.push_back(owner.paint(ref.str(), "1") + "  " + owner.paint(state, "36") + "  " + clock_text(elapsed));

    std::optional<Estimate> estimate;
    if (previous && !stage.empty()) {
      if (const auto in_stage = in_stage_locked(now)) {
        estimate = estimate_left(*previous, stage_number == 0 ? 0 : stage_number - 1, stage, *in_stage);
      }
    }
    if (!stage.empty()) {
      std::string where = "stage " + std::to_string(stage_number);
      if (estimate && estimate->stage_number == stage_number) where += " of " + std::to_string(estimate->stage_count);
      lines.push_back(where + ": " + printable(stage));
    }
    // Items: the last LOOP row's "[i/n]" in this stage, else the server's totalItems for it.
    std::optional<std::pair<std::int64_t, std::int64_t>> items;
    std::string item_text;
    if (const auto* s = derived.current_stage(); s && !s->items.empty()) {
      item_text = s->items.back().description;
      if (!rows.empty() && rows.back().level == dhis2::NotificationLevel::Loop) {
        items = loop_counts(rows.back().message.value_or(""));
      }
    }
    if (!items && server) {
      if (const auto* s = server->current_stage(); s && s->description == stage && s->total_items > 0) {
        std::int64_t done = 0;
        for (const auto& i : s->items) done += i.complete ? 1 : 0;
        items = std::make_pair(done, s->total_items);
      }
    }
    if (items && items->second > 0) {
      const int width = 24;
      const auto done = std::clamp<std::int64_t>(items->first, 0, items->second);
      const int filled = static_cast<int>(done * width / items->second);
      lines.push_back("[" + std::string(static_cast<std::size_t>(filled), '#') +
                      std::string(static_cast<std::size_t>(width - filled), '.') + "] " + std::to_string(done) + "/" +
                      std::to_string(items->second) + (item_text.empty() ? "" : "  " + printable(item_text)));
    }
    if (!rows.empty()) {
      const auto& last = rows.back();
      const auto t = last.time.find('T');
      lines.push_back("last: " + last.time.substr(t == std::string::npos ? 0 : t + 1) + "  " +
                      printable(last.message.value_or("")));
    }
    if (estimate) {
      lines.push_back("about " + clock_text(estimate->left) + " left (from the previous run's stage times)");
    }
    if (const auto outage = current_outage(); outage && outage->first >= std::chrono::seconds(5)) {
      lines.push_back(owner.paint("no answer from the server for " + clock_text(outage->first) + " (" +
                                      printable(outage->second) + "); still trying",
                                  "33"));
    }
    return lines;
  }

  // What the terminal gets for one redraw: the old block erased, the new permanent lines, the block.
  std::string frame_locked() {
    const std::size_t width = terminal_width() - 1;
    std::string out = erase_locked();
    for (const auto& line : permanent) out += fit(line, width * 4) + "\n";
    permanent.clear();
    const auto lines = block_locked();
    for (std::size_t i = 0; i < lines.size(); ++i) out += fit(lines[i], width) + (i + 1 < lines.size() ? "\n" : "");
    drawn = lines.size();
    return out;
  }

  void add(const dhis2::Notification& n) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto now = steady::now();
    if (!first_row_at) first_row_at = now;
    rows.push_back(n);
    derived = dhis2::JobProgress::from_notifications(rows);
    if (const auto* s = derived.current_stage();
        s && (s->description != stage || derived.stage_number() != stage_number)) {
      stage = s->description;
      stage_number = derived.stage_number();
      stage_since = now;
      // The rows of the first poll arrive together: a stage among them may have begun long ago.
      stage_seen_start = now - *first_row_at > milliseconds(100);
    }
    if (n.level != dhis2::NotificationLevel::Loop) {
      const char* sgr = n.level == dhis2::NotificationLevel::Error  ? "31"
                        : n.level == dhis2::NotificationLevel::Warn ? "33"
                                                                    : "2";
      permanent.push_back(owner.paint(row_line(n), sgr));
    }
    wake.notify_all();
  }
};

Output::Output(Mode mode, bool color, std::ostream& out, std::ostream& err)
    : mode_(mode), color_(color && mode == Mode::Live), out_(out), err_(err) {}

Output::~Output() { stop_display(); }

std::string Output::paint(const std::string& text, const char* sgr) const {
  if (!color_) return text;
  return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
}

void Output::json_line(const nlohmann::json& line) {
  out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
}

void Output::warn(const std::string& message) { err_ << "dhis2: warning: " << message << "\n" << std::flush; }

void Output::started(const dhis2::TaskRef& ref, bool no_wait) {
  if (json()) {
    json_line({{"event", "started"}, {"ref", ref.str()}, {"resume_token", ref.resume_token()}});
  } else if (no_wait) {
    out_ << ref.resume_token() << "\n" << std::flush;
  } else {
    out_ << "started " << ref.str() << "\n" << std::flush;
  }
  started_ = true;
}

void Output::watching(const dhis2::TaskRef& ref, std::optional<dhis2::JobProgress> previous) {
  if (mode_ == Mode::Plain && !started_) out_ << "following " << ref.str() << "\n" << std::flush;
  if (mode_ != Mode::Live) return;
  live_ = std::make_unique<Live>(*this);
  live_->ref = ref;
  live_->previous = std::move(previous);
  live_->start();
}

void Output::notification(const dhis2::Notification& n) {
  switch (mode_) {
    case Mode::Json: {
      nlohmann::json line = {{"event", "notification"}};
      line.update(n.to_json());
      json_line(line);
      break;
    }
    case Mode::Plain: out_ << row_line(n) << "\n" << std::flush; break;
    case Mode::Live:
      if (live_) live_->add(n);
      break;
  }
}

void Output::progress(const dhis2::JobProgress& p) {
  if (json()) {
    nlohmann::json line = {{"event", "progress"},
                           {"source", p.source == dhis2::ProgressSource::Server ? "server" : "notifications"}};
    line.update(p.to_json());
    json_line(line);
  } else if (live_ && p.source == dhis2::ProgressSource::Server) {
    std::lock_guard<std::mutex> lock(live_->mutex);
    live_->server = p;
    live_->server_at = steady::now();
  }
}

void Output::stop_display(bool where_it_stood) {
  if (live_) live_->finish(where_it_stood);
  live_.reset();
}

void Output::completed(const dhis2::TaskCompletion& c) {
  stop_display();
  if (json()) {
    nlohmann::json line = {{"event", "completed"},   {"ref", c.ref.str()}, {"outcome", outcome_word(c.outcome)},
                           {"summary", c.summary},   {"rule", c.rule},     {"reason", c.reason},
                           {"message", c.message()}, {"errors", c.errors}};
    json_line(line);
    return;
  }
  plain_completed(c);
}

void Output::plain_completed(const dhis2::TaskCompletion& c) {
  const char* sgr = c.outcome == dhis2::TaskOutcome::Succeeded   ? "1;32"
                    : c.outcome == dhis2::TaskOutcome::Cancelled ? "1;33"
                                                                 : "1;31";
  std::string word = outcome_word(c.outcome);
  word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  const std::string message = c.message();
  out_ << paint(word, sgr) << ": " << c.ref.str() << (message.empty() ? "" : ": " + printable(message)) << "\n";
  out_ << "  why: " << printable(c.reason) << "\n";
  for (const auto& line : completion_details(c)) out_ << "  " << printable(line) << "\n";
  out_ << std::flush;
}

void Output::failure(const Failure& f) {
  stop_display();
  if (json()) json_line({{"event", "error"}, {"kind", f.kind}, {"message", f.message}});
  err_ << "dhis2: " << f.message << "\n" << std::flush;
}

}  // namespace dhis2cli
