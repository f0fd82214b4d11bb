// SPDX-License-Identifier: Apache-2.0
// The Prometheus text exposition (format 0.0.4) of the STATUS object: what GET /metrics
// answers, and what `catsign status --prometheus` can print from the same object. One
// function, so the metric names and their meaning are the same wherever they are read.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace catsign::daemon {

// catsign_up, catsign_unlocked, catsign_unlock_expires_in_seconds, catsign_token_present,
// catsign_signatures_total{result="..."}, catsign_last_signature_timestamp_seconds (and
// catsign_unlock_warn_before_seconds when the status carries warn_before_s). Fields the
// status lacks count as 0.
std::string prometheus_exposition(const nlohmann::json& status);

}  // namespace catsign::daemon
