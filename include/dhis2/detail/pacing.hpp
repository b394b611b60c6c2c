#ifndef DHIS2_DETAIL_PACING_HPP
#define DHIS2_DETAIL_PACING_HPP

// When a watch polls next. The polls follow the job's age, not the watch's: at fixed ages from
// the job's start, each pause the first pause plus half the age, up to the longest. A job that has just started is polled
// often (most jobs that end soon end soon after they start); an old one at the steady pace, so a
// long job costs about as many requests as fixed polling. On 2.41+ a job waits for the server's
// 20-second scheduler tick before it starts (dhis2-wire.md §2.3), so the watch's age says nothing
// about the job's: the job's start is read from its first row's time on the server's clock, which
// the Date headers of the server's answers give (ServerClock).
//
// Pure, no waiting: the watcher sleeps. Not thread-safe; each watch has its own.

#include <dhis2/detail/config.hpp>
#include <dhis2/local_time.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace dhis2 {
namespace detail {

// The server's clock as its answers' Date headers show it: whole seconds (RFC 9110 §6.6.1), each
// read at some moment between the request's sending and the answer's arrival. Every answer
// narrows the offset between the server's clock and this machine's steady clock; answers read at
// different fractions of a second narrow it to about the round trip.
class ServerClock {
 public:
  // An answer dated `date` (to `resolution`: a Date header's whole second, or a millisecond for
  // /api/system/info's serverDate), to a request sent at `sent` and answered at `received`. An
  // answer that contradicts the earlier ones (the server's clock was set, or another node of a
  // cluster answered) starts the reckoning again from it.
  void observe(std::chrono::system_clock::time_point date, std::chrono::steady_clock::time_point sent,
               std::chrono::steady_clock::time_point received,
               std::chrono::milliseconds resolution = std::chrono::seconds(1));

  struct Reading {
    std::chrono::system_clock::time_point time;  // the middle of what the answers allow
    std::chrono::milliseconds uncertainty;       // how far the server's time may be from `time`
  };
  // The server's time at `at`; empty before the first answer.
  std::optional<Reading> read(std::chrono::steady_clock::time_point at) const;

 private:
  // Bounds of (server time - steady time), in milliseconds.
  std::optional<std::int64_t> low_, high_;
};

// When the job started, on this machine's steady clock. `first_row`: its first row's time, and
// `newest_row` its newest's (the server's wall clock, in the server's zone). DHIS2 zones are whole
// quarter hours from UTC, so the age is known modulo 15 minutes: the youngest age that is at
// least the rows' span, where a first row up to 7.5 minutes "ahead" is an older job (and one
// slightly ahead is the clocks' doubt). Where the clock is uncertain (a single answer leaves a
// whole second), the job is taken as young as the clock allows. The start lies after `after` (when
// a poll that found no row of this run was sent; empty: unknown) and before `before` (when the
// poll that found the first row was answered). Empty when neither the rows nor the polls say
// anything.
std::optional<std::chrono::steady_clock::time_point> estimate_job_start(
    std::optional<LocalTime> first_row, std::optional<LocalTime> newest_row, const ServerClock& clock,
    std::optional<std::chrono::steady_clock::time_point> after, std::chrono::steady_clock::time_point before);

// The pause before the next poll of a job `age` old. A young job is polled at fixed ages from its
// start: 0, then each pause `first` plus half the age, until that reaches `longest`; with first
// = 250 ms and longest = 2 s, at 0.25, 0.63, 1.2, 2.0, 3.3 and 5.2 s. A job first seen at any age
// joins the same ages (the next one more than half a first pause away, never more than `longest`
// ahead), so it is seen to end within about half its length plus `first` whenever the watch
// began; a memoryless pause (first + age / 2 from wherever it is) would drift off them and reach
// the longest pause by the first sighting's accident. Past the last of them, every pause is
// `longest`.
std::chrono::milliseconds pause_for_age(std::chrono::milliseconds age, std::chrono::milliseconds first,
                                        std::chrono::milliseconds longest);

}  // namespace detail
}  // namespace dhis2

#if DHIS2CPP_WITH_DEFINITIONS
#include <dhis2/impl/pacing.ipp>
#endif

#endif  // DHIS2_DETAIL_PACING_HPP
