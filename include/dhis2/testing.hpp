#ifndef DHIS2_TESTING_HPP
#define DHIS2_TESTING_HPP

// The DHIS2 emulator: dhis2::testing::FakeServer and what drives it (the clock, job scripts,
// faults, version profiles, test certificates). Opt-in: not part of <dhis2/dhis2.hpp>.
// Header-only, it includes <httplib.h> and needs the dhis2cpp target's link flags (cpp-httplib,
// OpenSSL). In compiled mode it declares only (no <httplib.h>: a test that talks HTTP itself
// includes it) and its definitions are in dhis2cpp::testing, or in the one file of the program
// that defines DHIS2CPP_TESTING_IMPLEMENTATION (docs/building.md "Compiled mode").

#include <dhis2/dhis2.hpp>
#include <dhis2/testing/api_request.hpp>
#include <dhis2/testing/authenticator.hpp>
#include <dhis2/testing/certificates.hpp>
#include <dhis2/testing/clock.hpp>
#include <dhis2/testing/connections.hpp>
#include <dhis2/testing/emulated_api.hpp>
#include <dhis2/testing/faults.hpp>
#include <dhis2/testing/fake_server.hpp>
#include <dhis2/testing/fake_server_options.hpp>
#include <dhis2/testing/id_generator.hpp>
#include <dhis2/testing/job_engine.hpp>
#include <dhis2/testing/job_record.hpp>
#include <dhis2/testing/job_script.hpp>
#include <dhis2/testing/notification_store.hpp>
#include <dhis2/testing/progress_recorder.hpp>
#include <dhis2/testing/replies.hpp>
#include <dhis2/testing/route_table.hpp>
#include <dhis2/testing/scheduler.hpp>
#include <dhis2/testing/step_runner.hpp>
#include <dhis2/testing/time_zone.hpp>
#include <dhis2/testing/version_profile.hpp>

#endif  // DHIS2_TESTING_HPP
