#pragma once
// Runs each reactor test against every backend: io_uring and the epoll fallback.
#include <gtest/gtest.h>

#include <string>

#include "reactor/reactor.hpp"

namespace corral::reactor::testing {

class ReactorTest : public ::testing::TestWithParam<BackendKind> {
 protected:
  Reactor reactor{ReactorOptions{.backend = GetParam()}};
};

inline std::string backend_name(const ::testing::TestParamInfo<BackendKind>& info) {
  return info.param == BackendKind::IoUring ? "IoUring" : "Epoll";
}

#define CORRAL_ALL_BACKENDS(Suite)                                                    \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite,                                           \
                           ::testing::Values(::corral::reactor::BackendKind::IoUring, \
                                             ::corral::reactor::BackendKind::Epoll),  \
                           ::corral::reactor::testing::backend_name)

}  // namespace corral::reactor::testing
