// What the benchmark programs report about their own process (Linux): CPU time, the peak RSS and
// the thread count. One copy for bench-poll, bench-wait and bench-manager.
#ifndef DHIS2_TOOLS_BENCH_PROCESS_STATS_HPP
#define DHIS2_TOOLS_BENCH_PROCESS_STATS_HPP

#include <dirent.h>
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace bench {

// User + sys seconds of this process so far.
inline double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// A "Name:  N kB" field of /proc/self/status, in kB; -1 when absent.
inline long status_kb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

// The peak RSS: VmHWM, which exec starts afresh (getrusage's ru_maxrss keeps the peak of the
// process that forked this one, such as the Python of run.py).
inline long peak_rss_kb() {
  const long hwm = status_kb("VmHWM");
  if (hwm >= 0) return hwm;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// The threads of this process now.
inline int thread_count() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++n;
    }
    closedir(dir);
  }
  return n;
}

}  // namespace bench

#endif  // DHIS2_TOOLS_BENCH_PROCESS_STATS_HPP
