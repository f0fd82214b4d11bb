// SPDX-License-Identifier: Apache-2.0
// What the load tests read of a running process from /proc, and what they compute of the
// latencies they measure.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace catsign::testing {

// The number of open descriptors of `pid` (entries of /proc/PID/fd).
std::size_t open_fds(pid_t pid);
// A "VmHWM"-style line of /proc/PID/status, in KiB; -1 when it is not there.
long vm_kib(pid_t pid, const std::string& key);
// CPU seconds a process has used (utime + stime, /proc/PID/stat fields 14 and 15).
double cpu_seconds(pid_t pid);
// The p-quantile (0..1, nearest rank) of `values`; 0 for none.
double percentile(std::vector<double> values, double p);
// Raises this process's RLIMIT_NOFILE to its hard limit, which children inherit, and fails
// the test when that is below `needed` descriptors.
void raise_fd_limit(std::size_t needed);

}  // namespace catsign::testing
