#ifndef DHIS2_DHIS2_HPP
#define DHIS2_DHIS2_HPP

// dhis2-cpp: a C++17 client for the DHIS2 Web API. This umbrella header includes the whole
// public library in dependency order. The emulator (dhis2/testing.hpp) is opt-in and not included.

#include <dhis2/version.hpp>
#include <dhis2/errors.hpp>
#include <dhis2/local_time.hpp>
#include <dhis2/task_ref.hpp>
#include <dhis2/server_version.hpp>
#include <dhis2/notification.hpp>
#include <dhis2/job_progress.hpp>
#include <dhis2/web_message.hpp>
#include <dhis2/personal_access_token.hpp>
#include <dhis2/auth.hpp>
#include <dhis2/cancellation.hpp>
#include <dhis2/client_options.hpp>
#include <dhis2/response.hpp>
#include <dhis2/task_types.hpp>
#include <dhis2/watch_rules.hpp>
#include <dhis2/system_api.hpp>
#include <dhis2/jobs_api.hpp>
#include <dhis2/task_watcher.hpp>
#include <dhis2/client.hpp>
#include <dhis2/task_manager.hpp>

// Internal codecs that only definitions use; declared here so that every mode of compilation
// (and the single header) declares the same things, and the tests can reach them.
#include <dhis2/detail/ascii.hpp>
#include <dhis2/detail/base64.hpp>
#include <dhis2/detail/classify.hpp>
#include <dhis2/detail/crc32.hpp>

#endif  // DHIS2_DHIS2_HPP
